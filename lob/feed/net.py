"""The ITCH feed on the wire: a UDP multicast publisher, a retransmission server, a subscriber.

This is the asyncio edge around the pure pieces (``itch``, ``moldudp64``,
``itch_book``); it adds sockets and a clock and nothing else.

Where packets go
    The feed is MoldUDP64 over UDP multicast, by default group
    ``239.255.40.1`` port ``30001`` (``DEFAULT_GROUP``/``DEFAULT_PORT``; 239/8 is
    the organisation-local scope). Both sides name the interface explicitly:
    ``127.0.0.1`` unless a user names another (``IP_MULTICAST_IF`` for the
    sender, the membership interface for receivers), never ``INADDR_ANY``.
    The sender sets ``IP_MULTICAST_TTL=0`` so packets never leave the host and
    ``IP_MULTICAST_LOOP=1`` so local subscribers get them. The retransmission
    server answers MoldUDP64 request packets on a unicast UDP port
    (``DEFAULT_RETRANSMIT_PORT`` 30002, or 0 for an ephemeral one).

Using it from a server (one event loop, the engine on it)::

    publisher = Publisher(session="LOB0102")
    await publisher.start()
    retransmit = RetransmitServer(publisher, port=0)
    await retransmit.start()
    ...
    messages = mapper.map(engine.submit(command, ts))
    publisher.publish_messages(messages)       # sent by the end of this loop tick
    ...
    snap = feed_snapshot(engine, mapper, publisher.last_seq)   # for late joiners
    await retransmit.close(); await publisher.close()

``publisher.last_seq`` is the sequence number of the last message handed to
the publisher; a snapshot taken between commands with that number includes
exactly messages 1..last_seq (``lob.feed.itch_mapper.feed_snapshot``).

A ``Subscriber`` joins the group, rebuilds every book (``ItchBookBuilder``),
recovers gaps through the retransmission server and, when a gap is older than
the server's window, through a snapshot source: a callable (plain or async)
returning a ``FeedSnapshot``. It buffers live packets meanwhile and discards
what the snapshot includes. ``health`` counts sequence, gaps, recoveries,
snapshots and messages per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from lob.feed import itch
from lob.feed.itch_book import BookBuildError, FeedSnapshot, ItchBookBuilder
from lob.feed.moldudp64 import (
    DEFAULT_PAYLOAD,
    MessageHistory,
    MoldDecodeError,
    Packer,
    Receiver,
    decode_request,
    encode_request,
    session_bytes,
)

__all__ = [
    "DEFAULT_GROUP",
    "DEFAULT_INTERFACE",
    "DEFAULT_PORT",
    "DEFAULT_RETRANSMIT_PORT",
    "Publisher",
    "RetransmitServer",
    "SnapshotSource",
    "Subscriber",
    "parse_address",
    "receiver_socket",
    "sender_socket",
]

DEFAULT_GROUP = "239.255.40.1"
DEFAULT_PORT = 30001
DEFAULT_RETRANSMIT_PORT = 30002
DEFAULT_INTERFACE = "127.0.0.1"

SnapshotSource = Callable[[], FeedSnapshot | Awaitable[FeedSnapshot]]


def parse_address(text: str, default_port: int) -> tuple[str, int]:
    """``"HOST:PORT"`` or ``"HOST"`` -> (host, port); raises ValueError on anything else."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, str(default_port)
    try:
        socket.inet_aton(host)
        number = int(port)
    except (OSError, ValueError):
        raise ValueError(f"not an IPv4 HOST:PORT: {text!r}") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"port out of range: {text!r}")
    return host, number


def _check_interface(interface: str) -> bytes:
    packed = socket.inet_aton(interface)
    if packed == b"\x00\x00\x00\x00":
        raise ValueError("name the interface to use (e.g. 127.0.0.1): INADDR_ANY is not allowed")
    return packed


def sender_socket(interface: str = DEFAULT_INTERFACE, ttl: int = 0) -> socket.socket:
    """A non-blocking UDP socket that sends multicast on ``interface`` only, TTL ``ttl``."""
    iface = _check_interface(interface)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, iface)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        sock.bind((interface, 0))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def receiver_socket(
    group: str = DEFAULT_GROUP,
    port: int = DEFAULT_PORT,
    interface: str = DEFAULT_INTERFACE,
    rcvbuf: int = 4 << 20,
) -> socket.socket:
    """A non-blocking UDP socket joined to ``group`` on ``interface``, bound to the group.

    ``rcvbuf`` asks for a receive buffer (the kernel may cap it at ``rmem_max``).
    """
    iface = _check_interface(interface)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.bind((group, port))
        sock.setsockopt(
            socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + iface
        )
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class Publisher:
    """Numbers ITCH messages, packs them into MoldUDP64 packets and multicasts them.

    ``publish``/``publish_messages`` send every packet they fill at once and the
    last, partial one at the end of the current event-loop tick (or at once when
    no loop runs), so one command's messages share packets. A heartbeat goes
    out when nothing was sent for ``heartbeat_interval`` seconds. Every message
    is kept in ``history`` (the last ``history_size``) for retransmission.
    A packet the kernel refuses (full buffer) counts in ``send_errors``;
    subscribers recover it by retransmission.
    """

    def __init__(
        self,
        group: str = DEFAULT_GROUP,
        port: int = DEFAULT_PORT,
        *,
        interface: str = DEFAULT_INTERFACE,
        session: str | bytes = "LOB",
        max_payload: int = DEFAULT_PAYLOAD,
        heartbeat_interval: float = 1.0,
        history_size: int = 100_000,
    ) -> None:
        self.address = (group, port)
        self.interface = interface
        self.session = session_bytes(session)
        self.max_payload = max_payload
        self.heartbeat_interval = heartbeat_interval
        self.packer = Packer(self.session, max_payload)
        self.history = MessageHistory(history_size)
        self.packets_sent = 0
        self.messages_sent = 0
        self.bytes_sent = 0
        self.send_errors = 0
        self._sock: socket.socket | None = None
        self._last_send = 0.0
        self._flush_scheduled = False
        self._heartbeat_task: asyncio.Task[None] | None = None

    @property
    def last_seq(self) -> int:
        """Sequence number of the last message published (0 before the first)."""
        return self.packer.next_seq - 1

    def open(self) -> None:
        """Create the socket (``start`` does this too; enough when no event loop runs)."""
        if self._sock is None:
            self._sock = sender_socket(self.interface)

    async def start(self) -> None:
        """Open the socket and start the heartbeat timer."""
        self.open()
        self._last_send = time.monotonic()
        if self._heartbeat_task is None and self.heartbeat_interval > 0:
            self._heartbeat_task = asyncio.create_task(self._heartbeats())

    def publish(self, messages: Iterable[bytes]) -> None:
        """Publish encoded ITCH messages (each numbered with the next sequence)."""
        batch = messages if isinstance(messages, list) else list(messages)
        if not batch:
            return
        self.history.extend(batch)
        send = self._send
        for packet in self.packer.add_all(batch):
            send(packet)
        self.messages_sent += len(batch)
        if not self._flush_scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
            else:
                self._flush_scheduled = True
                loop.call_soon(self.flush)

    def publish_messages(self, messages: Iterable[itch.Message]) -> None:
        """Encode and publish ITCH message tuples (raises ``ItchEncodeError``, sending nothing)."""
        self.publish(itch.encode_all(messages))

    def flush(self) -> None:
        """Send the partial packet now."""
        self._flush_scheduled = False
        packet = self.packer.flush()
        if packet is not None:
            self._send(packet)

    def heartbeat(self) -> None:
        self.flush()
        self._send(self.packer.heartbeat())

    def _send(self, packet: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise RuntimeError("the publisher is not started")
        try:
            sock.sendto(packet, self.address)
        except (BlockingIOError, InterruptedError, OSError):
            self.send_errors += 1
        else:
            self.packets_sent += 1
            self.bytes_sent += len(packet)
        self._last_send = time.monotonic()

    async def _heartbeats(self) -> None:
        interval = self.heartbeat_interval
        while True:
            idle = time.monotonic() - self._last_send
            if idle >= interval:
                self.heartbeat()
                idle = 0.0
            await asyncio.sleep(interval - idle)

    async def close(self, end_of_session: bool = True) -> None:
        """Flush, announce the end of the session (three times, as it may be lost), close."""
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat_task
            self._heartbeat_task = None
        if self._sock is not None:
            self.flush()
            if end_of_session:
                for _ in range(3):
                    self._send(self.packer.end_of_session())
            self._sock.close()
            self._sock = None

    def stats(self) -> dict[str, int]:
        return {
            "seq": self.last_seq,
            "messages": self.messages_sent,
            "packets": self.packets_sent,
            "bytes": self.bytes_sent,
            "send_errors": self.send_errors,
        }


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, Any], None]) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP errors on UDP: nothing to do
        pass


class RetransmitServer:
    """Answers MoldUDP64 request packets from the publisher's history, over unicast UDP.

    A request older than the history window (or for another session) gets no
    answer: the subscriber times out and falls back to a snapshot. One request
    is answered with at most ``max_packets`` packets; the subscriber asks again
    for the rest.
    """

    def __init__(
        self,
        publisher: Publisher,
        host: str = DEFAULT_INTERFACE,
        port: int = DEFAULT_RETRANSMIT_PORT,
        max_packets: int = 64,
    ) -> None:
        _check_interface(host)
        self.publisher = publisher
        self.host = host
        self.port = port
        self.max_packets = max_packets
        self.requests = 0
        self.refused = 0
        self.bad_requests = 0
        self._transport: asyncio.DatagramTransport | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where the server listens (the real port once started with port 0)."""
        if self._transport is None:
            return self.host, self.port
        return self._transport.get_extra_info("sockname")[:2]  # type: ignore[no-any-return]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self._on_request), local_addr=(self.host, self.port)
        )

    def _on_request(self, data: bytes, addr: Any) -> None:
        try:
            request = decode_request(data)
        except MoldDecodeError:
            self.bad_requests += 1
            return
        self.requests += 1
        pub = self.publisher
        if request.session != pub.session:
            self.refused += 1
            return
        pub.flush()  # what is requested may still sit in the packet in progress
        packets = pub.history.packets(pub.session, request.seq, request.count, pub.max_payload)[
            : self.max_packets
        ]
        if not packets:
            self.refused += 1
            return
        assert self._transport is not None
        for packet in packets:
            self._transport.sendto(packet, addr)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class Subscriber:
    """Joins the feed, rebuilds every book and recovers from loss.

    ``on_message(seq, message)`` (optional) sees each decoded ITCH message in
    sequence order, after the book has applied it. After a snapshot, delivery
    resumes right after the snapshot's sequence. With neither a retransmission
    address nor a snapshot source a gap stays open and ``health`` says so.
    """

    def __init__(
        self,
        group: str = DEFAULT_GROUP,
        port: int = DEFAULT_PORT,
        *,
        interface: str = DEFAULT_INTERFACE,
        retransmit: tuple[str, int] | None = None,
        snapshot_source: SnapshotSource | None = None,
        on_message: Callable[[int, itch.Message], None] | None = None,
        builder: ItchBookBuilder | None = None,
        request_timeout: float = 0.2,
        max_retries: int = 3,
        poll_interval: float = 0.05,
    ) -> None:
        self.group = group
        self.port = port
        self.interface = interface
        self.retransmit = retransmit
        self.snapshot_source = snapshot_source
        self.on_message = on_message
        self.builder = builder if builder is not None else ItchBookBuilder()
        self.poll_interval = poll_interval
        self.receiver = Receiver(
            request_timeout=request_timeout,
            max_retries=max_retries if retransmit is not None else 0,
        )
        self.bad_messages = 0
        self.book_errors = 0
        self.snapshot_errors = 0
        self.rate = 0.0
        """Messages per second over the last full second (over the run until one has passed)."""
        self._rate_mark = (time.monotonic(), 0)
        self._rate_measured = False
        self._mcast: asyncio.DatagramTransport | None = None
        self._unicast: asyncio.DatagramTransport | None = None
        self._timer: asyncio.Task[None] | None = None
        self._snapshot_task: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()

    @property
    def health(self) -> dict[str, object]:
        """Sequence, gaps, recoveries, snapshots, duplicates... and messages per second."""
        out = self.receiver.health.to_dict()
        rate = self.rate
        if not self._rate_measured:
            elapsed = time.monotonic() - self._rate_mark[0]
            rate = self.receiver.health.messages / elapsed if elapsed > 0 else 0.0
        out["msgs_per_s"] = round(rate, 1)
        out["bad_messages"] = self.bad_messages
        out["book_errors"] = self.book_errors
        out["snapshot_errors"] = self.snapshot_errors
        return out

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._rate_mark = (time.monotonic(), 0)
        sock = receiver_socket(self.group, self.port, self.interface)
        self._mcast, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self._on_packet), sock=sock
        )
        if self.retransmit is not None:
            self._unicast, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self._on_packet), local_addr=(self.interface, 0)
            )
        self._timer = asyncio.create_task(self._tick())

    def _on_packet(self, data: bytes, addr: Any) -> None:
        self._deliver(self.receiver.on_packet(data, time.monotonic()))
        self._after()

    def _deliver(self, delivered: list[tuple[int, bytes]]) -> None:
        builder = self.builder
        on_message = self.on_message
        for seq, raw in delivered:
            try:
                message = itch.decode(raw)
            except itch.ItchDecodeError:
                self.bad_messages += 1
                continue
            try:
                builder.apply(message)
            except BookBuildError:
                self.book_errors += 1
                self.receiver.needs_snapshot = self.snapshot_source is not None
            if on_message is not None:
                on_message(seq, message)
        if delivered:
            self._progress.set()

    def _after(self) -> None:
        rx = self.receiver
        request = rx.poll(time.monotonic())
        if request is not None and self._unicast is not None and self.retransmit is not None:
            self._unicast.sendto(encode_request(*request), self.retransmit)
        if rx.needs_snapshot and self.snapshot_source is not None and self._snapshot_task is None:
            self._snapshot_task = asyncio.get_running_loop().create_task(self._load_snapshot())

    async def _load_snapshot(self) -> None:
        try:
            assert self.snapshot_source is not None
            result = self.snapshot_source()
            snap = await result if inspect.isawaitable(result) else result
            self.builder.load_snapshot(snap)
            self._deliver(self.receiver.on_snapshot(snap.seq))
        except (OSError, ValueError):
            self.snapshot_errors += 1  # the next tick asks again
        finally:
            self._snapshot_task = None
        self._after()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            now = time.monotonic()
            mark_time, mark_count = self._rate_mark
            if now - mark_time >= 1.0:
                count = self.receiver.health.messages
                self.rate = (count - mark_count) / (now - mark_time)
                self._rate_mark = (now, count)
                self._rate_measured = True
            self._after()

    async def wait_for(self, seq: int, timeout: float) -> bool:
        """Wait until message ``seq`` has been applied; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.receiver.health.seq < seq:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), min(left, 0.05))
        return True

    async def close(self) -> None:
        for task in (self._timer, self._snapshot_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._timer = self._snapshot_task = None
        for transport in (self._mcast, self._unicast):
            if transport is not None:
                transport.close()
        self._mcast = self._unicast = None
