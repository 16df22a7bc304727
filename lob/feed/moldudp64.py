"""MoldUDP64: Nasdaq's framing of a sequenced message stream over UDP, and its recovery.

Downstream packet (big-endian)::

    session          10 bytes  alpha, the same for the whole day
    sequence number   8 bytes  the sequence of the first message in the packet
    message count     2 bytes  0 = heartbeat, 0xFFFF = end of session
    message blocks             each: 2-byte length, then that many bytes

Messages are numbered from 1. A heartbeat carries the sequence number of the
next message to come, so a receiver whose last packet was lost still learns
of the gap. A request packet (same 20-byte header: session, first sequence
wanted, count wanted) asks the retransmission server to send messages again;
it answers with ordinary downstream packets.

Everything here is pure (no sockets, no clock: ``now`` is passed in):

- ``encode_packet``/``decode_packet``, ``encode_request``/``decode_request``;
  decoding raises ``MoldDecodeError`` (a ``ValueError``) with a stable code.
- ``Packer`` packs messages into packets up to a payload size (default 1,400
  bytes, headers included) and numbers them.
- ``MessageHistory`` keeps the last N messages for retransmission.
- ``Receiver`` is the subscriber's state machine: it puts packets back in
  order, detects gaps, says when to request a retransmission and when to
  fall back to a snapshot, and counts what happened (``FeedHealth``).
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import NamedTuple

from mypy_extensions import mypyc_attr

__all__ = [
    "DEFAULT_PAYLOAD",
    "END_OF_SESSION",
    "HEADER_SIZE",
    "FeedHealth",
    "MessageHistory",
    "MoldDecodeError",
    "Packer",
    "Packet",
    "Receiver",
    "Request",
    "decode_packet",
    "decode_request",
    "encode_packet",
    "encode_request",
    "session_bytes",
]

HEADER = struct.Struct(">10sQH")
HEADER_SIZE = HEADER.size  # 20
END_OF_SESSION = 0xFFFF
MAX_COUNT = 0xFFFE  # the largest message count of a data packet
DEFAULT_PAYLOAD = 1_400
"""Bytes per UDP payload, header included: fits a 1,500-byte Ethernet MTU with room to spare."""

_LEN = struct.Struct(">H")
_PREFIX = [_LEN.pack(n) for n in range(DEFAULT_PAYLOAD * 2)]  # the common length prefixes


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class MoldDecodeError(ValueError):
    """Bytes that are not a MoldUDP64 packet or request.

    Codes: ``mold_truncated`` (shorter than the header, or a block running past
    the end), ``mold_trailing`` (bytes after the last counted block),
    ``mold_bad_request`` (a request that is not exactly 20 bytes, or asks for
    no messages).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Packet(NamedTuple):
    """A decoded downstream packet: ``messages`` hold sequence numbers ``seq``, ``seq + 1``, ..."""

    session: bytes
    seq: int
    messages: list[bytes]
    end_of_session: bool = False

    @property
    def is_heartbeat(self) -> bool:
        return not self.messages and not self.end_of_session


class Request(NamedTuple):
    """A retransmission request: ``count`` messages from ``seq``."""

    session: bytes
    seq: int
    count: int  # type: ignore[assignment]  # the spec's name; shadows tuple.count


def session_bytes(session: str | bytes) -> bytes:
    """A session name as its 10-byte alpha field (ASCII, right-padded with spaces)."""
    raw = session.encode("ascii") if isinstance(session, str) else bytes(session)
    if len(raw) > 10:
        raise ValueError(f"a MoldUDP64 session is at most 10 characters: {session!r}")
    return raw.ljust(10, b" ")


def encode_packet(
    session: bytes, seq: int, messages: Iterable[bytes] = (), end_of_session: bool = False
) -> bytes:
    """A downstream packet; with no messages a heartbeat (or end of session)."""
    blocks = [_LEN.pack(len(m)) + m for m in messages]
    count = END_OF_SESSION if end_of_session else len(blocks)
    if end_of_session and blocks:
        raise ValueError("an end-of-session packet carries no messages")
    if count > MAX_COUNT and not end_of_session:
        raise ValueError(f"at most {MAX_COUNT} messages in one packet")
    return HEADER.pack(session, seq, count) + b"".join(blocks)


def decode_packet(data: bytes | bytearray | memoryview) -> Packet:
    """Parse a downstream packet (message bytes are copies, safe to keep)."""
    size = len(data)
    if size < HEADER_SIZE:
        raise MoldDecodeError("mold_truncated", f"{size} bytes is shorter than the 20-byte header")
    session, seq, count = HEADER.unpack_from(data)
    if count == END_OF_SESSION:
        if size != HEADER_SIZE:
            raise MoldDecodeError("mold_trailing", "bytes after an end-of-session header")
        return Packet(session, seq, [], True)
    view = memoryview(data)
    messages: list[bytes] = []
    pos = HEADER_SIZE
    for _ in range(count):
        if pos + 2 > size:
            raise MoldDecodeError("mold_truncated", f"packet ends before block {len(messages) + 1}")
        (length,) = _LEN.unpack_from(data, pos)
        pos += 2
        end = pos + length
        if end > size:
            raise MoldDecodeError("mold_truncated", f"block {len(messages) + 1} runs past the end")
        messages.append(bytes(view[pos:end]))
        pos = end
    if pos != size:
        raise MoldDecodeError("mold_trailing", f"{size - pos} bytes after the last block")
    return Packet(session, seq, messages)


def encode_request(session: bytes, seq: int, count: int) -> bytes:
    return HEADER.pack(session, seq, count)


def decode_request(data: bytes | bytearray | memoryview) -> Request:
    if len(data) != HEADER_SIZE:
        raise MoldDecodeError("mold_bad_request", f"a request is 20 bytes, got {len(data)}")
    session, seq, count = HEADER.unpack(data)
    if count == 0 or count == END_OF_SESSION or seq == 0:
        raise MoldDecodeError("mold_bad_request", f"request for {count} messages from {seq}")
    return Request(session, seq, count)


class Packer:
    """Numbers messages and packs them into packets of at most ``max_payload`` bytes.

    ``add`` returns the packet a message completed, if any (a message that does
    not fit closes the packet in progress and starts the next one); ``flush``
    closes the packet in progress. ``next_seq`` is the sequence number the next
    message will get.
    """

    def __init__(
        self, session: str | bytes, max_payload: int = DEFAULT_PAYLOAD, next_seq: int = 1
    ) -> None:
        if max_payload < HEADER_SIZE + 2 + 64:
            raise ValueError(f"max_payload {max_payload} is too small for one message")
        self.session = session_bytes(session)
        self.max_payload = max_payload
        self.next_seq = next_seq
        self._first = next_seq
        self._parts: list[bytes] = []  # length prefix, message, length prefix, message, ...
        self._size = HEADER_SIZE

    @property
    def pending(self) -> int:
        """Messages waiting in the packet in progress."""
        return self.next_seq - self._first

    def add(self, message: bytes) -> bytes | None:
        """Queue one message; return the packet it completed, or None."""
        length = len(message)
        size = self._size + 2 + length
        packet = None
        if size > self.max_payload:
            if length + 2 + HEADER_SIZE > self.max_payload:
                raise ValueError(f"a {length}-byte message does not fit in one packet")
            packet = self._close()
            size = HEADER_SIZE + 2 + length
        parts = self._parts
        parts.append(_PREFIX[length] if length < len(_PREFIX) else _LEN.pack(length))
        parts.append(message)
        self._size = size
        self.next_seq += 1
        return packet

    def add_all(self, messages: Iterable[bytes]) -> list[bytes]:
        """Queue many messages; return the packets they completed (``add`` in one loop)."""
        out: list[bytes] = []
        parts = self._parts
        size = self._size
        limit = self.max_payload
        prefix = _PREFIX
        known = len(prefix)
        for message in messages:
            length = len(message)
            size += 2 + length
            if size > limit:
                self._size = size - 2 - length
                if length + 2 + HEADER_SIZE > limit:
                    raise ValueError(f"a {length}-byte message does not fit in one packet")
                out.append(self._close())
                parts = self._parts
                size = HEADER_SIZE + 2 + length
            parts.append(prefix[length] if length < known else _LEN.pack(length))
            parts.append(message)
            self.next_seq += 1
        self._size = size
        return out

    def flush(self) -> bytes | None:
        """The packet in progress, or None when nothing is pending."""
        return self._close() if self._parts else None

    def _close(self) -> bytes:
        count = self.next_seq - self._first
        packet = HEADER.pack(self.session, self._first, count) + b"".join(self._parts)
        self._first = self.next_seq
        self._parts = []
        self._size = HEADER_SIZE
        return packet

    def heartbeat(self) -> bytes:
        """A heartbeat announcing ``next_seq`` (flush first: pending messages are not counted)."""
        return HEADER.pack(self.session, self._first, 0)

    def end_of_session(self) -> bytes:
        return HEADER.pack(self.session, self._first, END_OF_SESSION)


class MessageHistory:
    """The last ``capacity`` messages by sequence number, for the retransmission server."""

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._messages: deque[bytes] = deque(maxlen=capacity)
        self.next_seq = 1  # sequence of the next message appended

    @property
    def first_seq(self) -> int:
        """The oldest sequence number still held."""
        return self.next_seq - len(self._messages)

    def append(self, message: bytes) -> None:
        self._messages.append(message)
        self.next_seq += 1

    def extend(self, messages: list[bytes]) -> None:
        self._messages.extend(messages)
        self.next_seq += len(messages)

    def get(self, seq: int, count: int) -> list[bytes] | None:
        """Messages ``seq`` .. ``seq + count - 1`` (cut at the newest), or None when
        ``seq`` is older than the window or not yet sent."""
        first = self.first_seq
        if seq < first or seq >= self.next_seq:
            return None
        start = seq - first
        stop = min(start + count, len(self._messages))
        msgs = self._messages
        return [msgs[i] for i in range(start, stop)]

    def packets(self, session: bytes, seq: int, count: int, max_payload: int) -> list[bytes]:
        """The downstream packets that answer a request (empty when out of the window)."""
        messages = self.get(seq, count)
        if not messages:
            return []
        packer = Packer(session, max_payload, seq)
        out = packer.add_all(messages)
        last = packer.flush()
        if last is not None:
            out.append(last)
        return out


@dataclass
class FeedHealth:
    """What a receiver has seen: its position, the gaps, how it recovered."""

    seq: int = 0
    """The last message delivered in order (0 before the first)."""
    messages: int = 0
    packets: int = 0
    heartbeats: int = 0
    gaps: int = 0
    """Gaps detected (a packet or heartbeat beyond the next expected message)."""
    requests: int = 0
    recoveries: int = 0
    """Gaps closed by retransmission."""
    snapshots: int = 0
    """Gaps closed by loading a snapshot."""
    duplicates: int = 0
    bad_packets: int = 0
    ended: bool = False

    def to_dict(self) -> dict[str, object]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


class Receiver:
    """The subscriber's side of MoldUDP64, sans I/O.

    Push every packet in with ``on_packet(data, now)``; it returns the messages
    now deliverable in sequence order as ``(seq, message)`` pairs. Call
    ``poll(now)`` after each packet and on a timer: it returns the ``Request``
    to send, if any. When a gap cannot be closed by retransmission (no answer
    after ``max_retries`` requests, or more buffered than ``max_buffer``),
    ``needs_snapshot`` turns true; the driver fetches a snapshot stamped with
    a sequence and calls ``on_snapshot(seq)``, which discards what the snapshot
    includes and returns the buffered messages that follow it.
    """

    def __init__(
        self,
        session: bytes | None = None,
        *,
        next_seq: int = 1,
        request_timeout: float = 0.2,
        max_retries: int = 3,
        max_request: int = 10_000,
        max_buffer: int = 1_000_000,
    ) -> None:
        self.session = session
        self.expected = next_seq
        self.request_timeout = request_timeout
        self.max_retries = max_retries
        self.max_request = max_request
        self.max_buffer = max_buffer
        self.health = FeedHealth(seq=next_seq - 1)
        self.needs_snapshot = False
        self._buffer: dict[int, bytes] = {}
        self._high = next_seq  # one past the highest sequence number known to exist
        self._request: Request | None = None
        self._sent_at = 0.0
        self._tries = 0
        self._in_gap = False

    @property
    def gap(self) -> tuple[int, int] | None:
        """The missing range ``(first, count)`` at the head of the stream, if any."""
        if self._high <= self.expected:
            return None
        stop = self.expected
        while stop < self._high and stop not in self._buffer:
            stop += 1
        return self.expected, stop - self.expected

    def on_packet(self, data: bytes | bytearray, now: float) -> list[tuple[int, bytes]]:
        """Take one datagram; return the messages it makes deliverable, in order."""
        health = self.health
        try:
            packet = decode_packet(data)
        except MoldDecodeError:
            health.bad_packets += 1
            return []
        if self.session is None:
            self.session = packet.session
        elif packet.session != self.session:
            health.bad_packets += 1
            return []
        health.packets += 1
        seq = packet.seq
        if packet.end_of_session:
            health.ended = True
        if not packet.messages:
            health.heartbeats += 1
        self._see(seq + len(packet.messages))
        out: list[tuple[int, bytes]] = []
        expected = self.expected
        for i, message in enumerate(packet.messages):
            s = seq + i
            if s < expected or s in self._buffer:
                health.duplicates += 1
            elif s == expected and not self._buffer:
                out.append((s, message))
                expected += 1
            else:
                self._buffer[s] = message
        self.expected = expected
        if self._buffer:
            out.extend(self._drain())
        if len(self._buffer) > self.max_buffer:
            self._buffer.clear()
            self.needs_snapshot = True
        self._delivered(out)
        return out

    def _see(self, high: int) -> None:
        if high > self._high:
            self._high = high

    def _drain(self) -> list[tuple[int, bytes]]:
        out = []
        buffer = self._buffer
        expected = self.expected
        while expected in buffer:
            out.append((expected, buffer.pop(expected)))
            expected += 1
        # Anything older than the head is a duplicate of what was delivered.
        for s in [s for s in buffer if s < expected]:
            del buffer[s]
        self.expected = expected
        return out

    def _delivered(self, out: list[tuple[int, bytes]]) -> None:
        health = self.health
        health.messages += len(out)
        health.seq = self.expected - 1
        if self._high > self.expected:
            if not self._in_gap:
                self._in_gap = True
                health.gaps += 1
        elif self._in_gap:
            self._in_gap = False
            self._request = None
            self._tries = 0
            if not self.needs_snapshot:
                health.recoveries += 1

    def poll(self, now: float) -> Request | None:
        """The retransmission request to send now, if any (None while one is in flight)."""
        gap = self.gap
        if gap is None or self.needs_snapshot or self.session is None:
            return None
        if self.max_retries <= 0:
            self.needs_snapshot = True
            return None
        first, count = gap
        count = min(count, self.max_request)
        request = self._request
        if (
            request is not None
            and request.seq == first
            and now - self._sent_at < self.request_timeout
        ):
            return None
        if request is not None and request.seq == first:
            if self._tries >= self.max_retries:
                self.needs_snapshot = True
                return None
        else:
            self._tries = 0
        self._request = Request(self.session, first, count)
        self._sent_at = now
        self._tries += 1
        self.health.requests += 1
        return self._request

    def on_snapshot(self, seq: int) -> list[tuple[int, bytes]]:
        """A snapshot including messages up to ``seq`` was loaded; return what follows it.

        Delivery resumes at ``seq + 1``; buffered messages the snapshot includes are dropped.
        """
        self.needs_snapshot = False
        self._request = None
        self._tries = 0
        self.health.snapshots += 1
        # Delivery resumes right after the snapshot, even if that is behind what was
        # delivered before: the book was replaced by the snapshot's.
        self.expected = seq + 1
        if self._high < self.expected:
            self._high = self.expected
        out = self._drain()
        health = self.health
        health.messages += len(out)
        health.seq = self.expected - 1
        if self._high <= self.expected and self._in_gap:
            self._in_gap = False
        return out
