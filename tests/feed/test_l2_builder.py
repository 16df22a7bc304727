"""The client-side L2 book builder: snapshot, deltas, batches, gaps and duplicates."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lob.engine import LevelView, MatchingEngine, Side
from lob.feed.conflation import ConflatedBatch, Conflator
from lob.feed.deltas import BookSnapshot, LevelDelta, TopOfBook, TradeDelta
from lob.feed.l2 import L2Feed
from lob.feed.l2_builder import (
    ApplyResult,
    BookInconsistent,
    L2BookBuilder,
    RecoveryNeeded,
    SequenceGap,
)
from tests.feed.l2_flow import TS0, random_commands

BUY, SELL = Side.BUY, Side.SELL
APPLIED, STALE = ApplyResult.APPLIED, ApplyResult.STALE


def _level(seq: int, side: Side, price: int, qty: int, orders: int = 1) -> LevelDelta:
    return LevelDelta("XYZ", seq, seq + 100, seq, side, price, qty, orders if qty else 0)


def _snapshot(seq: int = 10) -> BookSnapshot:
    return BookSnapshot(
        "XYZ",
        seq,
        seq + 100,
        (LevelView(100_000, 300, 2), LevelView(99_900, 100, 1)),
        (LevelView(100_100, 50, 1),),
    )


def _builder(seq: int = 10) -> L2BookBuilder:
    builder = L2BookBuilder("XYZ")
    builder.apply_snapshot(_snapshot(seq))
    return builder


def test_builder_applies_snapshot_then_deltas_and_reports_best_levels() -> None:
    builder = _builder()
    assert builder.best_bid() == LevelView(100_000, 300, 2)
    assert builder.best_ask() == LevelView(100_100, 50, 1)
    assert builder.apply(_level(11, BUY, 100_050, 10)) is APPLIED
    assert builder.apply(_level(12, SELL, 100_100, 0)) is APPLIED
    assert builder.best_bid() == LevelView(100_050, 10, 1)
    assert builder.best_ask() is None
    assert builder.bids(2) == [LevelView(100_050, 10, 1), LevelView(100_000, 300, 2)]
    assert builder.seq == 12


def test_builder_levels_to_depth_best_first_on_both_sides() -> None:
    builder = L2BookBuilder("XYZ", seq=0)
    for i, price in enumerate((100_300, 100_100, 100_200), start=1):
        builder.apply(_level(i, SELL, price, i))
    assert [lv.price for lv in builder.asks()] == [100_100, 100_200, 100_300]
    assert [lv.price for lv in builder.asks(2)] == [100_100, 100_200]
    assert builder.levels(BUY) == []


def test_builder_gap_raises_with_seq_to_resume_from_and_leaves_book_unchanged() -> None:
    builder = _builder()
    before = builder.snapshot()
    with pytest.raises(SequenceGap) as info:
        builder.apply(_level(13, BUY, 100_050, 10))
    assert info.value.resume_from == 10
    assert info.value.code == "sequence_gap"
    assert builder.snapshot() == before


def test_builder_duplicate_or_stale_delta_is_ignored() -> None:
    builder = _builder()
    builder.apply(_level(11, BUY, 100_050, 10))
    assert builder.apply(_level(11, BUY, 100_050, 10)) is STALE
    assert builder.apply(_level(5, BUY, 100_000, 0)) is STALE
    assert builder.seq == 11
    assert builder.best_bid() == LevelView(100_050, 10, 1)


def test_builder_without_snapshot_asks_for_one() -> None:
    builder = L2BookBuilder("XYZ")
    with pytest.raises(SequenceGap) as info:
        builder.apply(_level(1, BUY, 100_000, 1))
    assert info.value.resume_from is None


def test_builder_removal_of_unknown_level_drops_book_and_asks_for_snapshot() -> None:
    builder = _builder()
    with pytest.raises(BookInconsistent) as info:
        builder.apply(_level(11, BUY, 99_000, 0))
    assert info.value.resume_from is None
    assert builder.seq is None
    assert builder.best_bid() is None
    assert builder.apply_snapshot(_snapshot(11)) is APPLIED
    assert builder.best_bid() == LevelView(100_000, 300, 2)


def test_builder_level_with_qty_but_no_orders_is_inconsistent() -> None:
    builder = _builder()
    with pytest.raises(RecoveryNeeded):
        builder.apply(LevelDelta("XYZ", 11, 1, 1, BUY, 99_000, 10, 0))


def test_builder_refuses_message_of_another_symbol() -> None:
    builder = _builder()
    with pytest.raises(ValueError):
        builder.apply(_level(11, BUY, 99_000, 5)._replace(symbol="ABC"))
    assert builder.seq == 10


def test_builder_older_snapshot_is_stale_and_depth_limited_snapshot_is_refused() -> None:
    builder = _builder(10)
    assert builder.apply_snapshot(_snapshot(9)) is STALE
    with pytest.raises(ValueError, match="full-depth"):
        builder.apply_snapshot(_snapshot(12)._replace(depth=1))


def test_builder_batch_overlapping_current_seq_applies_and_reaches_last_seq() -> None:
    builder = _builder(10)
    builder.apply(_level(11, BUY, 100_050, 10))
    batch = ConflatedBatch(
        "XYZ",
        9,
        14,
        (_level(11, BUY, 100_050, 10), _level(14, SELL, 100_200, 0)),
        (TradeDelta("XYZ", 13, 113, 13, 100_100, 50, BUY, 4),),
        2,
    )
    assert builder.apply_batch(batch) is APPLIED
    assert builder.seq == 14
    assert builder.best_bid() == LevelView(100_050, 10, 1)
    assert builder.dropped_trades == 2
    assert builder.last_trade is not None and builder.last_trade.trade_id == 4


def test_builder_batch_after_a_hole_raises_gap_and_old_batch_is_stale() -> None:
    builder = _builder(10)
    with pytest.raises(SequenceGap) as info:
        builder.apply_batch(ConflatedBatch("XYZ", 12, 15, (), (), 0))
    assert info.value.resume_from == 10
    assert builder.apply_batch(ConflatedBatch("XYZ", 3, 10, (), (), 0)) is STALE


def test_builder_apply_message_dispatches_and_ignores_top_of_book() -> None:
    builder = L2BookBuilder("XYZ")
    assert builder.apply_message(_snapshot(10)) is APPLIED
    assert builder.apply_message(_level(11, BUY, 1, 1)) is APPLIED
    assert builder.apply_message(TopOfBook("XYZ", 11, 1, 1, None, 0, None, 0)) is STALE
    assert builder.apply_message(ConflatedBatch("XYZ", 12, 12, (), (), 0)) is APPLIED
    with pytest.raises(TypeError):
        builder.apply_message("level")  # type: ignore[arg-type]


def _assert_equal_to_engine(builder: L2BookBuilder, engine: MatchingEngine) -> None:
    expected = engine.l2_snapshot(builder.symbol)
    assert builder.bids() == expected.bids
    assert builder.asks() == expected.asks


@pytest.mark.parametrize("seed", range(8))
def test_builder_equals_engine_snapshot_after_random_stream_with_conflation(seed: int) -> None:
    """A consumer that keeps up, falls behind (conflated) and catches up, at random."""
    rng = random.Random(seed)
    engine = MatchingEngine()
    feed = L2Feed(ring_capacity=64)
    symbols = ("AAA", "BBB", "CCC")
    builders = {s: L2BookBuilder(s, seq=0) for s in symbols}
    conflators: dict[str, Conflator] = {}
    for i, command in enumerate(random_commands(rng, 800, engine, symbols)):
        update = feed.on_events(engine.submit(command, TS0 + i))
        for delta in update.deltas:
            conflator = conflators.get(delta.symbol)
            if conflator is not None:
                conflator.add(delta)
            else:
                builders[delta.symbol].apply(delta)
        symbol = rng.choice(symbols)
        roll = rng.random()
        if roll < 0.05 and symbol not in conflators:
            conflators[symbol] = Conflator(symbol, trade_limit=rng.randint(0, 4))
        elif roll < 0.12 and symbol in conflators:
            batch = conflators[symbol].flush()
            if batch is not None:
                builders[symbol].apply_batch(batch)
            if rng.random() < 0.5:
                del conflators[symbol]
            _assert_equal_to_engine(builders[symbol], engine)
    for symbol, conflator in conflators.items():
        batch = conflator.flush()
        if batch is not None:
            builders[symbol].apply_batch(batch)
    for symbol, builder in builders.items():
        _assert_equal_to_engine(builder, engine)
        assert builder.seq == feed.seq(symbol)


@pytest.mark.parametrize("seed", range(6))
def test_builder_recovers_from_lost_deltas_through_the_ring(seed: int) -> None:
    """Messages are lost at random; each gap is repaired by catch-up from the ring."""
    rng = random.Random(seed)
    engine = MatchingEngine()
    feed = L2Feed(ring_capacity=rng.choice((8, 256)))
    builder = L2BookBuilder("AAA", seq=0)
    gaps = 0
    for i, command in enumerate(random_commands(rng, 600, engine, ("AAA", "BBB"))):
        for delta in feed.on_events(engine.submit(command, TS0 + i)).deltas:
            if delta.symbol != "AAA" or rng.random() < 0.05:
                continue  # lost on the way
            try:
                builder.apply(delta)
            except RecoveryNeeded as need:
                gaps += 1
                builder.apply_catch_up(feed.catch_up(engine, "AAA", need.resume_from))
        assert builder.seq is not None
        if rng.random() < 0.05:  # duplicates arrive late
            held = builder.seq
            for old in feed.ring("AAA").since(max(0, held - 3)) or ():
                if old.seq <= held:
                    assert builder.apply(old) is STALE
            assert builder.seq == held
    builder.apply_catch_up(feed.catch_up(engine, "AAA", builder.seq))
    assert gaps > 0
    _assert_equal_to_engine(builder, engine)
    assert builder.seq == feed.seq("AAA")


@pytest.mark.parametrize("seed", range(4))
def test_builder_follows_random_stream_with_halts_and_crosses(seed: int) -> None:
    """Halts let books lock and cross; the halt cross then trades them out."""
    rng = random.Random(seed)
    engine = MatchingEngine()
    for symbol in ("AAA", "BBB"):
        engine.add_symbol(symbol)
    feed = L2Feed(ring_capacity=128)
    builders = {s: L2BookBuilder(s, seq=0) for s in ("AAA", "BBB")}
    cycle = ("halted", "quote_only", "continuous")
    where = {"AAA": 2, "BBB": 2}  # index into cycle: continuous
    for i, command in enumerate(random_commands(rng, 600, engine, ("AAA", "BBB"))):
        events = engine.submit(command, TS0 + i)
        if rng.random() < 0.03:
            symbol = rng.choice(("AAA", "BBB"))
            where[symbol] = (where[symbol] + 1) % 3
            events += engine.set_state(symbol, cycle[where[symbol]], TS0 + i)
        for delta in feed.on_events(events).deltas:
            builders[delta.symbol].apply(delta)
    for symbol, builder in builders.items():
        _assert_equal_to_engine(builder, engine)
        assert builder.seq == feed.seq(symbol)


_steps = st.lists(
    st.tuples(
        st.sampled_from(("new", "new", "new", "cancel", "replace", "market")),
        st.integers(0, 2),  # account
        st.sampled_from((BUY, SELL)),
        st.integers(-3, 6),  # ticks away from the mid, on the passive side
        st.integers(1, 400),  # quantity
        st.booleans(),  # the lagging consumer drains after this step
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(_steps)
def test_conflating_consumer_equals_engine_for_any_command_sequence(steps: list[tuple]) -> None:
    engine = MatchingEngine()
    feed = L2Feed(ring_capacity=16)
    builder = L2BookBuilder("XYZ", seq=0)
    conflator = Conflator("XYZ", trade_limit=2)
    for i, (kind, who, side, ticks, qty, drain) in enumerate(steps):
        account = "ABC"[who]
        live = engine.open_orders(account)
        if kind == "cancel" and live:
            events = engine.cancel(account, live[0].id, i)
        elif kind == "replace" and live:
            events = engine.replace(account, live[-1].id, i, price=live[-1].price + 100 * ticks)
        elif kind == "market":
            events = engine.new_order(account, f"m{i}", "XYZ", side, qty, None, i, "market")  # type: ignore[arg-type]
        else:
            price = 100_000 - 100 * ticks if side is BUY else 100_000 + 100 * ticks
            events = engine.new_order(account, f"o{i}", "XYZ", side, qty, price, i)
        conflator.extend(feed.on_events(events).deltas)
        if drain:
            batch = conflator.flush()
            if batch is not None:
                builder.apply_batch(batch)
            if "XYZ" in engine.symbols:
                _assert_equal_to_engine(builder, engine)
    batch = conflator.flush()
    if batch is not None:
        builder.apply_batch(batch)
    if "XYZ" in engine.symbols:
        _assert_equal_to_engine(builder, engine)
