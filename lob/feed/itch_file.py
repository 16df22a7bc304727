"""ITCH 5.0 files: Nasdaq's binary file convention, one length-prefixed message after another.

Each message is preceded by its length as a 2-byte big-endian integer, the way
Nasdaq publishes its historical TotalView-ITCH files, so tools written for
those files read lob's. A day's file is framed by system events:

    S 'O' start of messages, R (+ H) per symbol, S 'S' start of system hours,
    S 'Q' start of market hours, ... the day's order messages ...,
    S 'M' end of market hours, S 'E' end of system hours, S 'C' end of messages.

``ItchFileWriter`` writes that frame around what it is given (symbols first
seen mid-day get their R where they appear). ``read_messages`` and
``iter_frames`` read any such file; a truncated tail raises ``ItchDecodeError``
with code ``itch_truncated``. The file object is passed in: this module opens
nothing itself.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from lob.engine.events import Event
from lob.feed.itch import ItchDecodeError, Message, SystemEvent, decode, encode
from lob.feed.itch_mapper import ItchMapper

__all__ = ["ItchFileWriter", "frame", "iter_frames", "read_messages"]

_LEN = struct.Struct(">H")


def frame(message: Message) -> bytes:
    """``message`` with its 2-byte length in front."""
    body = encode(message)
    return _LEN.pack(len(body)) + body


def iter_frames(stream: BinaryIO) -> Iterator[bytes]:
    """The message bytes of each length-prefixed frame, in order."""
    read = stream.read
    while True:
        head = read(2)
        if not head:
            return
        if len(head) < 2:
            raise ItchDecodeError("itch_truncated", "the file ends inside a length prefix")
        (size,) = _LEN.unpack(head)
        body = read(size)
        if len(body) < size:
            raise ItchDecodeError(
                "itch_truncated", f"the file ends inside a {size}-byte message ({len(body)} read)"
            )
        yield body


def read_messages(stream: BinaryIO) -> Iterator[Message]:
    """Every message of a length-prefixed ITCH file, decoded."""
    for body in iter_frames(stream):
        yield decode(body)


class ItchFileWriter:
    """Writes one session's feed in the file form: header events, messages, trailer events.

    ``begin`` writes S 'O', the directory, S 'S' and, for a session that starts in
    market hours, S 'Q'; ``write_events`` maps each command's engine events (a
    session that follows the trading day gets S 'Q' at its opening cross and
    S 'M' at its close from the mapper); ``end`` writes S 'M' if market hours are
    still open, then S 'E', S 'C'.
    """

    def __init__(self, stream: BinaryIO, mapper: ItchMapper) -> None:
        self.stream = stream
        self.mapper = mapper
        self.count = 0
        self.last_timestamp = 0

    def write(self, messages: Iterable[Message]) -> None:
        parts = []
        for message in messages:
            parts.append(frame(message))
            self.last_timestamp = message.timestamp
        self.count += len(parts)
        self.stream.write(b"".join(parts))

    def begin(self, timestamp: int, market_hours: bool = True) -> None:
        """Start of messages, every known symbol's directory, start of system hours, and
        start of market hours unless the session begins before the open."""
        self.write([SystemEvent(0, 0, timestamp, "O")])
        self.write(self.mapper.directory(timestamp))
        self.write([SystemEvent(0, 0, timestamp, "S")])
        if market_hours:
            self.write([SystemEvent(0, 0, timestamp, "Q")])
        self.mapper.market_hours = market_hours

    def write_events(self, events: list[Event]) -> None:
        self.write(self.mapper.map(events))

    def end(self, timestamp: int | None = None) -> None:
        """End of market hours, end of system hours, end of messages."""
        ts = self.last_timestamp if timestamp is None else max(timestamp, self.last_timestamp)
        codes = "MEC" if self.mapper.market_hours else "EC"
        self.write([SystemEvent(0, 0, ts, code) for code in codes])
