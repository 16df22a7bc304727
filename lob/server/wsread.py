"""Client-to-server WebSocket frames, read without a protocol object while they are plain.

Why: the protocol object's parser is general (fragments, extensions, the
closing handshake) and written as Python generators; for an order sent one
message at a time it cost more than parsing and checking the order itself.
Nearly everything a trading client sends is a final, masked text or binary
frame, now and then a ping: those are read here, in compiled code (RFC 6455,
section 5.2). The first frame that is anything else (a close, a fragment, a
reserved bit or opcode, an unmasked or oversized frame) and every byte after
it on that connection go to the protocol object, which answers it as it
always has (the closing handshake, close code 1002 or 1009). It starts reading
at a frame boundary, so it never sees half a frame.
"""

from __future__ import annotations

from typing import Final

try:  # websockets' C helper; its pure-Python twin where the wheel has none
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - depends on how websockets was installed
    from websockets.utils import apply_mask

from lob.server.wsframe import BINARY, TEXT, payload_length

__all__ = ["PING", "PONG", "FrameReader"]

PING: Final = 0x89
"""FIN + ping: the first byte of a ping frame (and the kind ``feed`` reports for one)."""
PONG: Final = 0x8A
"""FIN + pong."""
_MASKED: Final = 0x80
_CONTROL: Final = 0x08
"""The opcode bit of control frames (ping, pong, close)."""
_MAX_CONTROL: Final = 125


class FrameReader:
    """Splits what one client sends into its plain frames; keeps an incomplete one."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.pending = b""
        """The start of a frame whose end has not arrived yet."""

    def feed(self, data: bytes) -> tuple[list[tuple[int, bytes]], bytes | None]:
        """``(frames, rest)``: each complete plain frame as (first byte, unmasked
        payload), in order; ``rest`` is ``None`` when the reader took every byte,
        else the bytes from the first frame it does not read, for the protocol
        object (the reader is then done with this connection)."""
        buf = self.pending + data if self.pending else data
        size = len(buf)
        pos = 0
        frames: list[tuple[int, bytes]] = []
        while pos < size:
            first = buf[pos]
            if first != BINARY and first != TEXT and first != PING and first != PONG:
                return self._hand_over(frames, buf, pos)
            if size - pos < 2:
                break
            if not buf[pos + 1] & _MASKED:
                return self._hand_over(frames, buf, pos)
            length, start = payload_length(buf, pos)
            if start < 0:
                break
            if length > self.max_size or (first & _CONTROL and length > _MAX_CONTROL):
                return self._hand_over(frames, buf, pos)
            end = start + 4 + length
            if end > size:
                break
            mask = buf[start : start + 4]
            frames.append((first, apply_mask(buf[start + 4 : end], mask)))
            pos = end
        self.pending = buf[pos:]
        return frames, None

    def _hand_over(
        self, frames: list[tuple[int, bytes]], buf: bytes, pos: int
    ) -> tuple[list[tuple[int, bytes]], bytes | None]:
        self.pending = b""
        return frames, buf[pos:]
