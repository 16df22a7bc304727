"""Server-to-client WebSocket data frames, built without a protocol object.

Why: a market-data update goes to every subscriber, and serialising it through
the protocol object once per subscriber (a ``Frame``, its checks, a buffer
copy) cost more than the socket write itself. A frame from the server is never
masked and lob negotiates no extension, so a final data frame is only a two to
ten byte header (RFC 6455, section 5.2) in front of the payload: the header is
made here and the payload, shared by every subscriber, is written after it
without a copy. Control frames (ping, pong, close) still go through the
protocol object, which tracks the closing handshake.

``payload_length`` reads the same length fields back, for the server's
plain-frame reader (``wsread``) and the benchmarks' lean client
(``lob.bench.client_socket``).
"""

from __future__ import annotations

import struct
from typing import Final

__all__ = ["BINARY", "TEXT", "header", "payload_length"]

TEXT: Final = 0x81
"""FIN + text opcode: the first byte of a final text frame (JSON)."""
BINARY: Final = 0x82
"""FIN + binary opcode: the first byte of a final binary frame (msgpack)."""

_SHORT: Final = struct.Struct("!BBH").pack
_LONG: Final = struct.Struct("!BBQ").pack


def header(first: int, length: int) -> bytes:
    """The header of an unmasked frame with first byte ``first`` and ``length`` payload bytes."""
    if length < 126:
        return bytes((first, length))
    if length < 65_536:
        return _SHORT(first, 126, length)
    return _LONG(first, 127, length)


def payload_length(buf: bytes, pos: int) -> tuple[int, int]:
    """The payload length of the frame that starts at ``pos`` in ``buf``, and where its
    header's length fields end (the masking key, or the payload, starts there);
    ``(-1, -1)`` while ``buf`` ends before them. Either side's frames: the mask bit
    of the second byte is not part of the length."""
    size = len(buf)
    start = pos + 2
    if size < start:
        return -1, -1
    length = buf[pos + 1] & 0x7F
    if length == 126:
        if size < start + 2:
            return -1, -1
        return int.from_bytes(buf[start : start + 2], "big"), start + 2
    if length == 127:
        if size < start + 8:
            return -1, -1
        return int.from_bytes(buf[start : start + 8], "big"), start + 8
    return length, start
