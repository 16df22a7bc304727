"""The feed over real sockets: multicast on 127.0.0.1 (TTL 0), retransmission, snapshots."""

from __future__ import annotations

import asyncio
import random

import pytest

from lob.engine import MatchingEngine, Side
from lob.feed.itch_mapper import ItchMapper, feed_snapshot
from lob.feed.net import (
    Publisher,
    RetransmitServer,
    Subscriber,
    parse_address,
    receiver_socket,
    sender_socket,
)


def fresh_group() -> tuple[str, int]:
    """A group and port of their own, so parallel runs on this host do not meet."""
    rng = random.Random()
    return f"239.255.{rng.randrange(41, 250)}.{rng.randrange(1, 250)}", rng.randrange(40000, 60000)


class Venue:
    """An engine whose events go out through a publisher."""

    def __init__(self, publisher: Publisher) -> None:
        self.engine = MatchingEngine()
        self.mapper = ItchMapper(0)
        self.publisher = publisher
        self.ts = 0
        self.rng = random.Random(7)
        self.n = 0

    def trade_a_while(self, commands: int) -> None:
        for _ in range(commands):
            self.n += 1
            self.ts += 1000
            side = self.rng.choice([Side.BUY, Side.SELL])
            price = self.rng.randrange(99_000, 101_000, 100)
            symbol = self.rng.choice(["AAA", "BBB"])
            events = self.engine.new_order(
                self.rng.choice("ABC"), f"o{self.n}", symbol, side, 100, price, self.ts
            )
            self.publisher.publish_messages(self.mapper.map(events))

    def snapshot(self):  # type: ignore[no-untyped-def]
        return feed_snapshot(self.engine, self.mapper, self.publisher.last_seq)


async def run_feed(
    *, late: bool, history: int, retransmit: bool, snapshots: bool
) -> tuple[Venue, Subscriber]:
    group, port = fresh_group()
    publisher = Publisher(
        group, port, session="TEST", heartbeat_interval=0.05, history_size=history
    )
    await publisher.start()
    server = RetransmitServer(publisher, port=0)
    await server.start()
    venue = Venue(publisher)
    sub: Subscriber | None = None
    try:
        if late:
            venue.trade_a_while(200)  # before anyone listens: the subscriber must recover it
            await asyncio.sleep(0.05)
        sub = Subscriber(
            group,
            port,
            retransmit=server.address if retransmit else None,
            snapshot_source=venue.snapshot if snapshots else None,
            request_timeout=0.1,
        )
        await sub.start()
        await asyncio.sleep(0.02)
        if not late:
            for _ in range(10):
                venue.trade_a_while(20)
                await asyncio.sleep(0)
        assert await sub.wait_for(publisher.last_seq, timeout=10.0), sub.health
        return venue, sub
    finally:
        if sub is not None:
            await sub.close()
        await server.close()
        await publisher.close()


def test_multicast_on_loopback_subscriber_book_equals_engine():
    venue, sub = asyncio.run(
        run_feed(late=False, history=100_000, retransmit=True, snapshots=False)
    )
    assert sub.builder.state_hash() == venue.engine.state_hash()
    assert sub.health["seq"] == venue.publisher.last_seq
    assert sub.health["book_errors"] == 0


def test_late_joiner_recovers_missed_messages_by_retransmission():
    venue, sub = asyncio.run(run_feed(late=True, history=100_000, retransmit=True, snapshots=False))
    health = sub.health
    assert sub.builder.state_hash() == venue.engine.state_hash()
    assert health["gaps"] >= 1 and health["recoveries"] >= 1 and health["snapshots"] == 0


def test_late_joiner_outside_history_window_recovers_from_snapshot():
    venue, sub = asyncio.run(run_feed(late=True, history=5, retransmit=True, snapshots=True))
    assert sub.builder.state_hash() == venue.engine.state_hash()
    assert sub.health["snapshots"] >= 1


def test_interface_inaddr_any_is_refused():
    with pytest.raises(ValueError):
        sender_socket("0.0.0.0")
    with pytest.raises(ValueError):
        receiver_socket("239.255.40.1", 30001, "0.0.0.0")


def test_sender_socket_keeps_packets_on_the_host():
    import socket

    sock = sender_socket()
    try:
        assert sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL) == 0
        assert sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP) == 1
        assert (
            socket.inet_ntoa(sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4))
            == "127.0.0.1"
        )
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("239.255.40.1:30001", ("239.255.40.1", 30001)), ("239.1.2.3", ("239.1.2.3", 5))],
)
def test_parse_address_reads_host_and_port(text: str, expected: tuple[str, int]):
    assert parse_address(text, 5) == expected


@pytest.mark.parametrize("text", ["nohost:1", "1.2.3.4:x", "1.2.3.4:70000"])
def test_parse_address_rejects_bad_text(text: str):
    with pytest.raises(ValueError):
        parse_address(text, 5)
