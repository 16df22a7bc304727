"""A subscriber's bounded queue: every delta while it keeps up, a conflated batch when behind."""

from __future__ import annotations

import random

import pytest

from lob.engine import MatchingEngine, Side
from lob.feed.conflation import ConflatedBatch
from lob.feed.deltas import LevelDelta
from lob.feed.l2 import L2Feed
from lob.feed.l2_builder import L2BookBuilder
from lob.feed.subscriber import SubscriberQueue
from tests.feed.l2_flow import TS0, random_commands

BUY = Side.BUY


def _level(seq: int, price: int = 100_000, qty: int = 5) -> LevelDelta:
    return LevelDelta("XYZ", seq, seq, seq, BUY, price, qty, 1 if qty else 0)


def test_subscriber_keeping_up_gets_every_delta_in_order() -> None:
    queue = SubscriberQueue("XYZ", max_pending=4)
    queue.push_all([_level(1), _level(2), _level(3)])
    assert len(queue) == 3 and not queue.conflating
    assert queue.take() == [_level(1), _level(2), _level(3)]
    assert queue.take() == []
    queue.push(_level(4))
    assert queue.take() == [_level(4)]


def test_subscriber_past_max_pending_gets_one_conflated_batch_then_is_live_again() -> None:
    queue = SubscriberQueue("XYZ", max_pending=3)
    queue.push_all([_level(s, qty=s) for s in range(1, 10)])
    assert queue.conflating and queue.conflations == 1
    assert len(queue) == 1  # one price level touched
    (batch,) = queue.take()
    assert batch == ConflatedBatch("XYZ", 1, 9, (_level(9, qty=9),), (), 0)
    assert not queue.conflating
    queue.push(_level(10))
    assert queue.take() == [_level(10)]


def test_subscriber_queue_refuses_a_hole_or_another_symbol() -> None:
    queue = SubscriberQueue("XYZ")
    queue.push(_level(1))
    with pytest.raises(ValueError, match="expects seq 2"):
        queue.push(_level(3))
    with pytest.raises(ValueError):
        queue.push(_level(2)._replace(symbol="ABC"))
    with pytest.raises(ValueError):
        SubscriberQueue("XYZ", max_pending=0)


@pytest.mark.parametrize("seed", range(4))
def test_slow_subscriber_book_equals_engine_whatever_it_was_sent(seed: int) -> None:
    rng = random.Random(seed)
    engine = MatchingEngine()
    feed = L2Feed()
    queue = SubscriberQueue("AAA", max_pending=rng.choice((2, 16, 64)), trade_limit=3)
    builder = L2BookBuilder("AAA", seq=0)
    for i, command in enumerate(random_commands(rng, 700, engine, ("AAA",))):
        queue.push_all(feed.on_events(engine.submit(command, TS0 + i)).deltas)
        if rng.random() < 0.05:  # the connection drains now and then
            for message in queue.take():
                builder.apply_message(message)
            expected = engine.l2_snapshot("AAA")
            assert (builder.bids(), builder.asks()) == (expected.bids, expected.asks)
    for message in queue.take():
        builder.apply_message(message)
    assert builder.seq == feed.seq("AAA")
    assert queue.conflations > 0
