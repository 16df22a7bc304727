"""A bounded ring of one symbol's recent deltas, answering "everything since seq N".

A subscriber that reconnects, or a REST client catching up, says the last
per-symbol seq it holds (N). The answer is either the deltas N+1 .. last, when
the ring still holds them all, or a snapshot stamped with the last seq it
includes (then the live stream from there):

==========================  =========================================
N                            answer (``CatchUp.reason``)
==========================  =========================================
last seq                     no deltas, nothing missing (``"deltas"``)
oldest held - 1 .. last - 1  deltas N+1 .. last (``"deltas"``)
older than that              snapshot (``"too_old"``)
greater than last            snapshot (``"future"``: the client's
                             numbers come from another run)
negative                     snapshot (``"invalid"``)
None                         snapshot (``"requested"``)
==========================  =========================================

A value that is not an integer at all raises ``CatchUpError`` (code
``invalid_field``). Memory is bounded by ``capacity`` deltas per symbol; an
answer is a copy, so later appends never change it. Pure: the snapshot comes
from a callable the caller passes, taken synchronously with the ring's state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from mypy_extensions import mypyc_attr

from lob.engine.types import RejectCode
from lob.feed.deltas import BookSnapshot, Delta

__all__ = ["DEFAULT_CAPACITY", "CatchUp", "CatchUpError", "DeltaRing"]

DEFAULT_CAPACITY = 4096
"""Deltas kept per symbol unless told otherwise."""


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class CatchUpError(ValueError):
    """A catch-up request that is not a sequence number at all."""

    code = RejectCode.INVALID_FIELD


class CatchUp(NamedTuple):
    """The answer to "since N": an optional snapshot, then deltas after it, in order."""

    symbol: str
    since: int | None
    snapshot: BookSnapshot | None
    deltas: tuple[Delta, ...]
    reason: str

    def messages(self) -> list[BookSnapshot | Delta]:
        """What to send the client, in order: the snapshot if there is one, then the deltas."""
        head: list[BookSnapshot | Delta] = [self.snapshot] if self.snapshot is not None else []
        return head + list(self.deltas)

    @property
    def last_seq(self) -> int | None:
        """The per-symbol seq the answer brings the client to (None if unchanged and unknown)."""
        if self.deltas:
            return self.deltas[-1].seq
        if self.snapshot is not None:
            return self.snapshot.seq
        return self.since


class DeltaRing:
    """The last ``capacity`` deltas of one symbol, contiguous in seq."""

    __slots__ = ("_buf", "_count", "capacity", "last_seq", "symbol")

    def __init__(self, symbol: str, capacity: object = DEFAULT_CAPACITY, last_seq: int = 0) -> None:
        if type(capacity) is not int or capacity < 1:
            raise ValueError(f"ring capacity must be a positive integer: {capacity!r}")
        self.symbol = symbol
        self.capacity = capacity
        self.last_seq = last_seq
        self._buf: list[Delta | None] = [None] * capacity
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def first_seq(self) -> int:
        """The oldest seq held (``last_seq + 1`` when empty)."""
        return self.last_seq - self._count + 1

    def append(self, delta: Delta) -> None:
        """Keep ``delta``; it must be the next in sequence (a hole would be a silent loss)."""
        seq = delta.seq
        if seq != self.last_seq + 1 or delta.symbol != self.symbol:
            raise ValueError(
                f"{self.symbol} ring expects seq {self.last_seq + 1}, got {delta.symbol} seq {seq}"
            )
        self._buf[seq % self.capacity] = delta
        self.last_seq = seq
        if self._count < self.capacity:
            self._count += 1

    def extend(self, deltas: list[Delta]) -> None:
        for delta in deltas:
            self.append(delta)

    def since(self, seq: int) -> tuple[Delta, ...] | None:
        """Deltas after ``seq`` up to the last, or None when the ring cannot answer."""
        if seq > self.last_seq or seq < self.first_seq - 1:
            return None
        buf, cap = self._buf, self.capacity
        return tuple(buf[s % cap] for s in range(seq + 1, self.last_seq + 1))  # type: ignore[misc]

    def catch_up(self, since: object, take_snapshot: Callable[[], BookSnapshot]) -> CatchUp:
        """Answer "everything since ``since``" (see the module table).

        ``take_snapshot`` must return the full-depth book as of ``last_seq``;
        a snapshot stamped otherwise raises ``ValueError`` rather than give the
        client a book that does not match the deltas it will get next.
        """
        if since is None:
            reason = "requested"
        elif type(since) is not int:
            raise CatchUpError(f"since must be an integer sequence number: {since!r}")
        elif since < 0:
            reason = "invalid"
        elif since > self.last_seq:
            reason = "future"
        else:
            deltas = self.since(since)
            if deltas is not None:
                return CatchUp(self.symbol, since, None, deltas, "deltas")
            reason = "too_old"
        snapshot = take_snapshot()
        if (
            snapshot.seq != self.last_seq
            or snapshot.symbol != self.symbol
            or snapshot.depth is not None
        ):
            raise ValueError(
                f"snapshot of {snapshot.symbol} at seq {snapshot.seq} (depth {snapshot.depth})"
                f" does not match the full {self.symbol} book at seq {self.last_seq}"
            )
        return CatchUp(self.symbol, since, snapshot, (), reason)
