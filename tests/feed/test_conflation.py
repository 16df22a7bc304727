"""Conflation for consumers that fall behind."""

from __future__ import annotations

import random

import pytest

from lob.engine import MatchingEngine, Side
from lob.feed.conflation import ConflatedBatch, Conflator, conflate
from lob.feed.deltas import DeltaSequencer, LevelDelta, TradeDelta
from lob.feed.l2_builder import L2BookBuilder
from tests.feed.l2_flow import TS0, random_commands

BUY, SELL = Side.BUY, Side.SELL


def _level(seq: int, side: Side, price: int, qty: int, orders: int = 1) -> LevelDelta:
    return LevelDelta("XYZ", seq, seq + 100, seq * 10, side, price, qty, orders if qty else 0)


def _trade(seq: int, trade_id: int) -> TradeDelta:
    return TradeDelta("XYZ", seq, seq + 100, seq * 10, 100_000, 10, BUY, trade_id)


def test_conflation_keeps_only_the_latest_state_per_side_and_price() -> None:
    batch = conflate(
        "XYZ",
        [
            _level(1, BUY, 100_000, 100),
            _level(2, SELL, 100_000, 50),
            _level(3, BUY, 100_000, 300, 2),
            _level(4, BUY, 99_900, 10),
            _level(5, BUY, 100_000, 0),
        ],
    )
    assert batch == ConflatedBatch(
        "XYZ",
        1,
        5,
        (_level(2, SELL, 100_000, 50), _level(4, BUY, 99_900, 10), _level(5, BUY, 100_000, 0)),
        (),
        0,
    )


def test_conflation_keeps_trades_in_order_within_the_limit() -> None:
    batch = conflate("XYZ", [_trade(1, 7), _level(2, SELL, 100_000, 5), _trade(3, 8)])
    assert batch is not None
    assert batch.trades == (_trade(1, 7), _trade(3, 8))
    assert batch.dropped_trades == 0


def test_conflation_counts_trades_beyond_the_limit_as_dropped_oldest_first() -> None:
    batch = conflate("XYZ", [_trade(s, s) for s in range(1, 11)], trade_limit=3)
    assert batch is not None
    assert [t.trade_id for t in batch.trades] == [8, 9, 10]
    assert batch.dropped_trades == 7
    assert (batch.first_seq, batch.last_seq) == (1, 10)


def test_conflation_with_zero_trade_limit_reports_every_trade_dropped() -> None:
    batch = conflate("XYZ", [_trade(1, 1), _level(2, BUY, 100_000, 1)], trade_limit=0)
    assert batch is not None
    assert (batch.trades, batch.dropped_trades) == ((), 1)


def test_conflator_flush_resets_and_next_window_starts_at_next_seq() -> None:
    conflator = Conflator("XYZ")
    assert conflator.flush() is None
    conflator.extend([_level(1, BUY, 100_000, 1), _level(2, BUY, 100_000, 2)])
    assert len(conflator) == 1
    first = conflator.flush()
    assert first is not None and (first.first_seq, first.last_seq) == (1, 2)
    assert not conflator.pending
    conflator.add(_level(3, BUY, 100_000, 3))
    second = conflator.flush()
    assert second is not None and (second.first_seq, second.last_seq) == (3, 3)


def test_conflator_refuses_a_hole_or_another_symbol() -> None:
    conflator = Conflator("XYZ")
    conflator.add(_level(1, BUY, 100_000, 1))
    with pytest.raises(ValueError, match="expects seq 2"):
        conflator.add(_level(3, BUY, 100_000, 1))
    with pytest.raises(ValueError):
        conflator.add(_level(2, BUY, 100_000, 1)._replace(symbol="ABC"))
    assert conflator.last_seq == 1


def test_conflator_trade_limit_must_be_non_negative_integer() -> None:
    with pytest.raises(ValueError):
        Conflator("XYZ", trade_limit=-1)


@pytest.mark.parametrize("seed", range(6))
def test_conflated_stream_applied_by_builder_equals_engine_snapshot(seed: int) -> None:
    rng = random.Random(seed)
    engine = MatchingEngine()
    sequencer = DeltaSequencer()
    builder = L2BookBuilder("AAA", seq=0)
    conflator = Conflator("AAA", trade_limit=rng.choice((0, 5, 1000)))
    dropped = 0
    for i, command in enumerate(random_commands(rng, 500, engine, ("AAA",))):
        conflator.extend(sequencer.on_events(engine.submit(command, TS0 + i)))
        if rng.random() < 0.1:
            batch = conflator.flush()
            if batch is not None:
                dropped += batch.dropped_trades
                builder.apply_batch(batch)
                snap = sequencer.snapshot(engine, "AAA")
                assert (builder.seq, builder.bids(), builder.asks()) == (
                    snap.seq,
                    list(snap.bids),
                    list(snap.asks),
                )
    batch = conflator.flush()
    if batch is not None:
        dropped += batch.dropped_trades
        builder.apply_batch(batch)
    expected = engine.l2_snapshot("AAA")
    assert builder.bids() == expected.bids
    assert builder.asks() == expected.asks
    assert builder.seq == sequencer.seq("AAA")
    assert builder.dropped_trades == dropped
