"""Engine events -> per-symbol numbered L2 deltas, and snapshots stamped to match."""

from __future__ import annotations

import random

import pytest

from lob.engine import LevelView, MatchingEngine, Side, UnknownSymbolError
from lob.feed.deltas import (
    DeltaSequencer,
    LevelDelta,
    SnapshotOutOfStepError,
    TradeDelta,
)
from tests.feed.l2_flow import TS0, random_commands

BUY, SELL = Side.BUY, Side.SELL


def test_added_order_gives_one_level_delta_with_both_sequences() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    events = engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, ts=5)
    assert seq.on_events(events) == [LevelDelta("XYZ", 1, events[-1].seq, 5, BUY, 100_000, 100, 1)]
    assert seq.seq("XYZ") == 1
    assert seq.last_engine_seq == engine.seq


def test_trade_gives_trade_then_resting_level_delta() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    seq.on_events(engine.new_order("A", "a1", "XYZ", SELL, 100, 100_000, ts=1))
    seq.on_events(engine.new_order("A", "a2", "XYZ", SELL, 50, 100_000, ts=2))
    events = engine.new_order("B", "b1", "XYZ", BUY, 120, 100_000, ts=3)
    trades = [e for e in events if e.TYPE == "trade"]
    deltas = seq.on_events(events)
    assert deltas == [
        TradeDelta("XYZ", 3, trades[0].seq, 3, 100_000, 100, BUY, trades[0].trade_id),
        LevelDelta("XYZ", 4, trades[0].seq, 3, SELL, 100_000, 50, 1),
        TradeDelta("XYZ", 5, trades[1].seq, 3, 100_000, 20, BUY, trades[1].trade_id),
        LevelDelta("XYZ", 6, trades[1].seq, 3, SELL, 100_000, 30, 1),
    ]


def test_incoming_remainder_cancel_gives_no_delta_but_resting_cancel_removes_level() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    seq.on_events(engine.new_order("A", "a1", "XYZ", SELL, 100, 100_000, ts=1))
    ioc = engine.new_order("B", "b1", "XYZ", BUY, 300, 100_000, ts=2, tif="ioc")  # type: ignore[arg-type]
    assert [d.TYPE for d in seq.on_events(ioc)] == ["trade", "level"]
    seq.on_events(engine.new_order("A", "a2", "XYZ", BUY, 10, 99_900, ts=3))
    deltas = seq.on_events(engine.cancel("A", "a2", ts=4))
    assert deltas == [LevelDelta("XYZ", 5, engine.seq, 4, BUY, 99_900, 0, 0)]


def test_replace_keeping_priority_gives_new_level_qty_and_no_change_gives_nothing() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    seq.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, ts=1))
    seq.on_events(engine.new_order("B", "b1", "XYZ", BUY, 40, 100_000, ts=1))
    deltas = seq.on_events(engine.replace("A", "a1", ts=2, qty=60))
    assert deltas == [LevelDelta("XYZ", 3, engine.seq, 2, BUY, 100_000, 100, 2)]
    assert seq.on_events(engine.replace("A", "a1", ts=3, qty=60)) == []
    assert seq.seq("XYZ") == 3


def test_replace_losing_priority_changes_old_level_then_re_entry_follows() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    seq.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, ts=1))
    seq.on_events(engine.new_order("B", "s1", "XYZ", SELL, 30, 100_200, ts=1))
    events = engine.replace("A", "a1", ts=2, price=100_200)
    deltas = seq.on_events(events)
    kinds = [(d.TYPE, d.seq) for d in deltas]
    assert kinds == [("level", 3), ("trade", 4), ("level", 5), ("level", 6)]
    assert deltas[0] == LevelDelta("XYZ", 3, events[0].seq, 2, BUY, 100_000, 0, 0)
    assert deltas[2] == LevelDelta("XYZ", 5, events[1].seq, 2, SELL, 100_200, 0, 0)
    assert deltas[3] == LevelDelta("XYZ", 6, events[2].seq, 2, BUY, 100_200, 70, 1)


def test_rejections_give_no_delta_but_keep_the_sequencer_in_step() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    seq.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, ts=1))
    assert seq.on_events(engine.cancel("A", "nope", ts=2)) == []
    assert seq.last_engine_seq == engine.seq == 3
    assert seq.snapshot(engine, "XYZ").seq == 1


@pytest.mark.parametrize("seed", range(5))
def test_per_symbol_seq_is_contiguous_across_interleaved_symbols(seed: int) -> None:
    rng = random.Random(seed)
    engine = MatchingEngine()
    seq = DeltaSequencer()
    last: dict[str, int] = {}
    engine_seqs: list[int] = []
    for i, command in enumerate(random_commands(rng, 600, engine, ("AAA", "BBB", "CCC"))):
        for delta in seq.on_events(engine.submit(command, TS0 + i)):
            assert delta.seq == last.get(delta.symbol, 0) + 1
            last[delta.symbol] = delta.seq
            engine_seqs.append(delta.engine_seq)
    assert engine_seqs == sorted(engine_seqs)
    assert set(last) == {"AAA", "BBB", "CCC"}
    assert all(seq.seq(s) == n for s, n in last.items())


def test_snapshot_is_stamped_with_the_per_symbol_seq_it_includes() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    seq.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, ts=1))
    seq.on_events(engine.new_order("A", "a2", "QQQ", BUY, 100, 100_000, ts=1))
    seq.on_events(engine.new_order("A", "a3", "XYZ", SELL, 70, 100_100, ts=1))
    snap = seq.snapshot(engine, "XYZ")
    assert (snap.symbol, snap.seq, snap.engine_seq) == ("XYZ", 2, engine.seq)
    assert snap.bids == (LevelView(100_000, 100, 1),)
    assert snap.asks == (LevelView(100_100, 70, 1),)
    assert snap.depth is None
    assert seq.snapshot(engine, "QQQ").seq == 1


def test_snapshot_refused_when_events_were_not_fed_to_the_sequencer() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    seq.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, ts=1))
    engine.new_order("A", "a2", "XYZ", BUY, 100, 100_000, ts=2)  # not fed
    with pytest.raises(SnapshotOutOfStepError):
        seq.snapshot(engine, "XYZ")


def test_snapshot_of_unknown_symbol_raises_engine_error() -> None:
    engine = MatchingEngine()
    with pytest.raises(UnknownSymbolError):
        DeltaSequencer().snapshot(engine, "NOPE")


def test_cross_trades_have_no_aggressor_and_executions_change_the_levels() -> None:
    engine = MatchingEngine()
    engine.add_symbol("XYZ", 100_000)
    seq = DeltaSequencer()
    seq.on_events(engine.new_order("A", "a0", "XYZ", BUY, 100, 99_000, 1))
    seq.on_events(engine.set_state("XYZ", "halted", 2))
    seq.on_events(engine.set_state("XYZ", "quote_only", 3))
    seq.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_200, 4))
    seq.on_events(engine.new_order("B", "b1", "XYZ", SELL, 60, 100_000, 5))
    deltas = seq.on_events(engine.set_state("XYZ", "continuous", 6))  # the halt cross
    trades = [d for d in deltas if isinstance(d, TradeDelta)]
    assert [(t.price, t.qty, t.aggressor) for t in trades] == [(100_000, 60, None)]
    levels = {(d.side, d.price): (d.qty, d.orders) for d in deltas if isinstance(d, LevelDelta)}
    assert levels == {(BUY, 100_200): (40, 1), (SELL, 100_000): (0, 0)}
    assert [d.seq for d in deltas] == [4, 5, 6]
    snap = seq.snapshot(engine, "XYZ")
    assert snap.bids == (LevelView(100_200, 40, 1), LevelView(99_000, 100, 1))
    assert snap.asks == ()
    assert [d.TYPE for d in seq.on_events(engine.set_state("XYZ", "closed", 7))] == [
        "level",
        "level",
    ]
