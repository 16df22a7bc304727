"""The ITCH multicast feed of a live server: a subscriber on a lossy path still ends up exact."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from lob.client.rest import RestClient
from lob.engine.commands import NewOrder
from lob.engine.events import Event
from lob.engine.types import Side
from lob.feed import itch
from lob.feed.itch_book import FeedSnapshot
from lob.feed.net import Subscriber
from lob.server.server import ExchangeServer
from tests.server.support import ALICE, BOB, run, running
from tests.server.test_ws import churn


class LossySubscriber(Subscriber):
    """A subscriber behind a network that loses every ``every``-th multicast packet."""

    def __init__(self, *args: Any, every: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.every = every
        self.seen = 0
        self.lost = 0

    def _on_packet(self, data: bytes, addr: Any) -> None:
        if self.retransmit is None or tuple(addr[:2]) != tuple(self.retransmit):
            self.seen += 1
            if self.seen % self.every == 0:
                self.lost += 1
                return
        super()._on_packet(data, addr)


def fresh_group() -> tuple[str, int]:
    rng = random.Random()
    return f"239.255.{rng.randrange(41, 250)}.{rng.randrange(1, 250)}", rng.randrange(40000, 60000)


def _snapshot_source(url: str) -> Any:
    async def fetch() -> FeedSnapshot:
        async with RestClient(url) as client:
            return FeedSnapshot.from_dict(await client.feed_snapshot())

    return fetch


async def _follow(server: ExchangeServer, sub: Subscriber, before: int, after: int) -> None:
    rng = random.Random(17)
    churn(server, rng, before)
    await sub.start()
    try:
        await asyncio.sleep(0.05)
        for _ in range(after // 10):
            churn(server, rng, 10)
            await asyncio.sleep(0.002)
        assert server.feed is not None
        last = server.feed.publisher.last_seq
        assert await sub.wait_for(last, timeout=20.0), sub.health
        ex = server.exchange
        assert ex is not None
        assert sub.builder.state_hash() == ex.engine.state_hash()
    finally:
        await sub.close()


def test_feed_subscriber_recovers_lost_packets_by_retransmission(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, multicast=fresh_group()) as server:
            assert server.feed is not None
            info = server.feed.info()
            host, port = info["retransmit"].split(":")
            sub = LossySubscriber(
                info["group"],
                info["port"],
                retransmit=(host, int(port)),
                snapshot_source=_snapshot_source(server.url),
                request_timeout=0.1,
                every=4,
            )
            await _follow(server, sub, 0, 400)
            assert sub.lost > 0 and sub.health["recoveries"] > 0

    run(body)


def test_feed_late_subscriber_beyond_the_window_loads_the_http_snapshot(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, multicast=fresh_group(), feed_history=50) as server:
            assert server.feed is not None
            info = server.feed.info()
            host, port = info["retransmit"].split(":")
            sub = LossySubscriber(
                info["group"],
                info["port"],
                retransmit=(host, int(port)),
                snapshot_source=_snapshot_source(server.url),
                request_timeout=0.1,
                every=1_000_000,
            )
            await _follow(server, sub, 300, 100)
            assert sub.health["snapshots"] >= 1

    run(body)


def test_feed_opens_with_the_recovered_book_after_a_restart(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server:
            churn(server, random.Random(4), 200)
            ex = server.exchange
            assert ex is not None
            before = ex.engine.state_hash()
        group, port = fresh_group()
        sub = Subscriber(group, port, request_timeout=0.1)
        await sub.start()  # listening before the server starts: it sees message 1 on
        try:
            async with running(tmp_path, multicast=(group, port)) as server:
                assert server.feed is not None
                last = server.feed.publisher.last_seq
                assert await sub.wait_for(last, timeout=10.0), sub.health
                assert sub.builder.state_hash() == before
                assert sub.health["snapshots"] == 0 and sub.health["gaps"] == 0
        finally:
            await sub.close()

    run(body)


def test_feed_subscriber_book_stays_equal_to_the_engine_through_a_halt_cross(
    tmp_path: Path,
) -> None:
    admin_key = "operator-key-01"

    async def body() -> None:
        group, port = fresh_group()
        sub = Subscriber(group, port, request_timeout=0.1)
        await sub.start()
        try:
            async with running(tmp_path, multicast=(group, port), admin_key=admin_key) as server:
                ex = server.exchange
                assert ex is not None and server.feed is not None
                async with (
                    RestClient(server.url, ALICE) as alice,
                    RestClient(server.url, BOB) as bob,
                    RestClient(server.url, admin_key) as admin,
                ):
                    await alice.place("AAPL", "buy", 100, "227.00", id="b1")
                    await alice.place("AAPL", "buy", 50, "226.90", id="b2")
                    await admin.set_state("AAPL", "halted")
                    await admin.set_state("AAPL", "quote_only")
                    await bob.place("AAPL", "sell", 120, "226.80", id="s")
                    moved = await admin.set_state("AAPL", "continuous")
                    assert moved["cross"]["qty"] == 120
                    await alice.place("AAPL", "buy", 10, "226.00", id="after")
                last = server.feed.publisher.last_seq
                assert await sub.wait_for(last, timeout=10.0), sub.health
                assert sub.builder.state_hash() == ex.engine.state_hash()
        finally:
            await sub.close()

    run(body)


def _record_publishes(server: ExchangeServer) -> list[list[Any]]:
    assert server.feed is not None
    publisher = server.feed.publisher
    calls: list[list[Any]] = []
    publish = publisher.publish_messages

    def recording(messages: Any) -> None:
        calls.append(list(messages))
        publish(messages)

    publisher.publish_messages = recording
    return calls


def test_feed_publishes_a_group_commit_once_in_order_before_its_acks(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, fsync="batch", multicast=fresh_group()) as server:
            ex = server.exchange
            assert ex is not None
            await asyncio.sleep(0.05)  # start-up inputs are published
            calls = _record_publishes(server)
            seen_at_ack: list[int] = []
            acked = asyncio.Event()

            class Receiver:
                def applied(self, events: list[Event]) -> None:
                    pass

                def done(self, events: list[Event]) -> None:
                    seen_at_ack.append(len(calls))
                    if len(seen_at_ack) == 5:
                        acked.set()

                def failed(self, exc: Exception) -> None:
                    raise AssertionError(f"the order failed: {exc}")

            for i in range(5):  # one turn of the loop: one group commit
                order = NewOrder("alice", f"b{i}", "AAPL", Side.BUY, 100, 2_270_000 - i * 100)
                ex.sequencer.enqueue(order, Receiver())
            await asyncio.wait_for(acked.wait(), 10.0)
            assert len(calls) == 1 and seen_at_ack == [1] * 5
            adds = [m for m in calls[0] if isinstance(m, itch.AddOrder)]
            assert [m.price for m in adds] == [2_270_000 - i * 100 for i in range(5)]
            assert [m.order_ref for m in adds] == sorted(m.order_ref for m in adds)

    run(body)


def test_feed_snapshot_counts_messages_of_inputs_applied_in_this_turn(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, multicast=fresh_group()) as server:
            ex = server.exchange
            assert ex is not None and server.feed is not None
            before = server.feed.publisher.last_seq
            ex.sequencer.enqueue(NewOrder("bob", "s1", "AAPL", Side.SELL, 100, 2_290_000))
            snap = FeedSnapshot.from_dict(ex.feed_state())  # before the turn ends
            assert snap.seq == server.feed.publisher.last_seq == before + 1
            assert [o.price for o in snap.orders if o.side == "S"] == [2_290_000]

    run(body)
