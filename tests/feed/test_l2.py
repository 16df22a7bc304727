"""L2Feed: the sequencer, rings and top of book together, as a server drives them."""

from __future__ import annotations

import random

import pytest

from lob.engine import MatchingEngine, Side, UnknownSymbolError
from lob.feed.l2 import L2Feed
from lob.feed.l2_builder import L2BookBuilder
from lob.feed.wire import BinaryCodec, decode_json, decode_msgpack, encode_json, encode_msgpack
from tests.feed.l2_flow import TS0, random_commands

BUY, SELL = Side.BUY, Side.SELL


def _run(seed: int, n: int, feed: L2Feed, engine: MatchingEngine) -> None:
    rng = random.Random(seed)
    for i, command in enumerate(random_commands(rng, n, engine, ("AAA", "BBB"))):
        feed.on_events(engine.submit(command, TS0 + i))


def test_feed_records_every_delta_in_its_symbol_ring_and_reports_top_changes() -> None:
    engine = MatchingEngine()
    feed = L2Feed(ring_capacity=16)
    update = feed.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, 1))
    assert [d.seq for d in update.deltas] == [1]
    assert [(t.bid_price, t.bid_qty) for t in update.tops] == [(100_000, 100)]
    assert feed.ring("XYZ").since(0) == tuple(update.deltas)
    assert feed.top("XYZ") == update.tops[0]


def test_feed_without_top_tracking_reports_no_tops() -> None:
    engine = MatchingEngine()
    feed = L2Feed(track_top=False)
    assert feed.on_events(engine.new_order("A", "a1", "XYZ", BUY, 100, 100_000, 1)).tops == []
    assert feed.top("XYZ") is None


def test_late_joiner_snapshot_then_live_deltas_equals_engine() -> None:
    engine = MatchingEngine()
    feed = L2Feed(ring_capacity=32)
    _run(1, 300, feed, engine)
    builder = L2BookBuilder("AAA")
    builder.apply_catch_up(feed.catch_up(engine, "AAA", None))
    rng = random.Random(2)
    for i, command in enumerate(random_commands(rng, 300, engine, ("AAA", "BBB"))):
        for delta in feed.on_events(engine.submit(command, TS0 + 1000 + i)).deltas:
            if delta.symbol == "AAA":
                builder.apply(delta)
    assert builder.bids() == engine.l2_snapshot("AAA").bids
    assert builder.asks() == engine.l2_snapshot("AAA").asks


def test_reconnect_within_ring_gets_deltas_and_beyond_ring_gets_snapshot() -> None:
    engine = MatchingEngine()
    feed = L2Feed(ring_capacity=32)
    _run(3, 200, feed, engine)
    last = feed.seq("AAA")
    near = feed.catch_up(engine, "AAA", last - 10)
    assert near.snapshot is None and [d.seq for d in near.deltas] == list(range(last - 9, last + 1))
    far = feed.catch_up(engine, "AAA", 1)
    assert far.snapshot is not None and far.snapshot.seq == last and far.reason == "too_old"
    future = feed.catch_up(engine, "AAA", last + 5)
    assert future.reason == "future" and future.snapshot is not None


def test_catch_up_for_symbol_without_deltas_and_for_unknown_symbol() -> None:
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol("IBM", 1_500_000)
    feed = L2Feed()
    assert feed.catch_up(engine, "IBM", 0).deltas == ()
    answer = feed.catch_up(engine, "IBM", None)
    assert answer.snapshot is not None and answer.snapshot.seq == 0
    with pytest.raises(UnknownSymbolError):
        feed.catch_up(engine, "NOPE", 0)


def test_client_over_each_encoding_rebuilds_the_engine_book() -> None:
    engine = MatchingEngine()
    feed = L2Feed(ring_capacity=8)
    _run(4, 50, feed, engine)
    server_codec, client_codec = BinaryCodec(), BinaryCodec()
    builders = {name: L2BookBuilder("AAA") for name in ("msgpack", "json", "binary")}
    start = feed.catch_up(engine, "AAA", None)
    assert start.snapshot is not None
    for name, builder in builders.items():
        if name == "msgpack":
            builder.apply_message(decode_msgpack(encode_msgpack(start.snapshot)))
        elif name == "json":
            builder.apply_message(decode_json(encode_json(start.snapshot)))
        else:
            builder.apply_message(client_codec.decode(server_codec.encode(start.snapshot)))
    rng = random.Random(5)
    for i, command in enumerate(random_commands(rng, 200, engine, ("AAA", "BBB"))):
        for delta in feed.on_events(engine.submit(command, TS0 + 10_000 + i)).deltas:
            if delta.symbol != "AAA":
                continue
            builders["msgpack"].apply_message(decode_msgpack(encode_msgpack(delta)))
            builders["json"].apply_message(decode_json(encode_json(delta)))
            builders["binary"].apply_message(client_codec.decode(server_codec.encode(delta)))
    expected = engine.l2_snapshot("AAA")
    for builder in builders.values():
        assert (builder.bids(), builder.asks()) == (expected.bids, expected.asks)


def test_feed_ring_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        L2Feed(ring_capacity=0)
