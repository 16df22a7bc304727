"""Top of book derived from the L2 delta stream."""

from __future__ import annotations

import random

import pytest

from lob.engine import MatchingEngine, Side
from lob.feed.deltas import DeltaSequencer, TopOfBook
from lob.feed.top import TopOfBookTracker
from tests.feed.l2_flow import TS0, random_commands

BUY, SELL = Side.BUY, Side.SELL


def test_top_reported_when_best_changes_and_not_for_deeper_levels() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    tops = TopOfBookTracker()
    first = tops.on_deltas(seq.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, 1)))
    assert first == [TopOfBook("XYZ", 1, engine.seq, 1, 100_000, 100, None, 0)]
    deeper = engine.new_order("A", "a2", "XYZ", BUY, 100, 99_900, 2)
    assert tops.on_deltas(seq.on_events(deeper)) == []
    size = engine.new_order("B", "b1", "XYZ", BUY, 5, 100_000, 3)
    assert tops.on_deltas(seq.on_events(size)) == [
        TopOfBook("XYZ", 3, engine.seq, 3, 100_000, 105, None, 0)
    ]
    assert tops.top("XYZ") == TopOfBook("XYZ", 3, engine.seq, 3, 100_000, 105, None, 0)


def test_top_after_best_level_empties_shows_next_level() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    tops = TopOfBookTracker()
    for i, price in enumerate((100_000, 99_900)):
        tops.on_deltas(seq.on_events(engine.new_order("A", f"a{i}", "XYZ", BUY, 100, price, 1)))
    taken = tops.on_deltas(seq.on_events(engine.new_order("B", "s", "XYZ", SELL, 100, 100_000, 2)))
    assert [(t.bid_price, t.bid_qty, t.ask_price) for t in taken] == [(99_900, 100, None)]


def test_top_is_one_message_per_command_even_when_a_replace_passes_through_states() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    tops = TopOfBookTracker()
    tops.on_deltas(seq.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, 1)))
    moved = tops.on_deltas(seq.on_events(engine.replace("A", "a1", 2, price=100_100)))
    assert [(t.bid_price, t.bid_qty) for t in moved] == [(100_100, 100)]


def test_top_tracker_joining_mid_stream_needs_a_seed_snapshot() -> None:
    engine = MatchingEngine()
    seq = DeltaSequencer()
    seq.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, 1))
    later = seq.on_events(engine.new_order("A", "a2", "XYZ", SELL, 100, 100_100, 2))
    with pytest.raises(ValueError, match="seed"):
        TopOfBookTracker().on_deltas(later)
    tops = TopOfBookTracker()
    tops.seed(seq.snapshot(engine, "XYZ"))
    assert tops.top("XYZ") == TopOfBook("XYZ", 2, engine.seq, 0, 100_000, 100, 100_100, 100)
    moved = tops.on_deltas(seq.on_events(engine.cancel("A", "a1", 3)))
    assert moved == [TopOfBook("XYZ", 3, engine.seq, 3, None, 0, 100_100, 100)]


@pytest.mark.parametrize("seed", range(4))
def test_top_matches_engine_best_levels_after_every_command(seed: int) -> None:
    rng = random.Random(seed)
    engine = MatchingEngine()
    seq = DeltaSequencer()
    tops = TopOfBookTracker()
    for i, command in enumerate(random_commands(rng, 400, engine, ("AAA", "BBB"))):
        tops.on_deltas(seq.on_events(engine.submit(command, TS0 + i)))
        for symbol in engine.symbols:
            top = tops.top(symbol)
            if top is None:
                continue
            snap = engine.l2_snapshot(symbol, 1)
            bid = (snap.bids[0].price, snap.bids[0].qty) if snap.bids else (None, 0)
            ask = (snap.asks[0].price, snap.asks[0].qty) if snap.asks else (None, 0)
            assert (top.bid_price, top.bid_qty, top.ask_price, top.ask_qty) == (*bid, *ask)
