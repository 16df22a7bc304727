"""One subscriber's outgoing L2 messages for one symbol: a bounded queue that conflates.

The server pushes every delta of the symbol into each subscriber's queue and,
whenever that subscriber's connection can take more, sends what ``take()``
returns. A subscriber that keeps up gets every delta, in order. One that falls
``max_pending`` deltas behind is switched to conflation: what is queued and
everything after it merges into one ``ConflatedBatch`` (lob.feed.conflation),
so memory stays bounded (``max_pending`` deltas, or one entry per price level
touched plus the conflator's trade limit) however slow the reader is. The next
``take()`` hands over the batch and the subscriber is live again.

Whatever mix of deltas and batches comes out, applied in order by an
``L2BookBuilder`` it gives the publisher's book: the seqs are contiguous, and a
batch starts right after the last delta handed out.
"""

from __future__ import annotations

from collections.abc import Iterable

from lob.feed.conflation import DEFAULT_TRADE_LIMIT, ConflatedBatch, Conflator
from lob.feed.deltas import Delta

__all__ = ["DEFAULT_MAX_PENDING", "SubscriberQueue"]

DEFAULT_MAX_PENDING = 1024
"""Deltas a subscriber may have waiting before it is switched to conflation."""


class SubscriberQueue:
    """Pending deltas for one subscriber and symbol; conflated past ``max_pending``."""

    __slots__ = ("_conflator", "_pending", "conflations", "max_pending", "symbol")

    def __init__(
        self,
        symbol: str,
        max_pending: int = DEFAULT_MAX_PENDING,
        trade_limit: int = DEFAULT_TRADE_LIMIT,
    ) -> None:
        if type(max_pending) is not int or max_pending < 1:
            raise ValueError(f"max_pending must be a positive integer: {max_pending!r}")
        self.symbol = symbol
        self.max_pending = max_pending
        self.conflations = 0
        """How many times this subscriber fell behind and was conflated."""
        self._pending: list[Delta] = []
        self._conflator = Conflator(symbol, trade_limit)

    def __len__(self) -> int:
        """Messages waiting: queued deltas, or entries of the batch being conflated."""
        return len(self._conflator) if self.conflating else len(self._pending)

    @property
    def conflating(self) -> bool:
        """Whether the subscriber is behind and its deltas are being merged."""
        return self._conflator.pending

    def push(self, delta: Delta) -> None:
        """Queue the symbol's next delta (seqs must be contiguous)."""
        if self._conflator.pending:
            self._conflator.add(delta)
            return
        pending = self._pending
        if pending and delta.seq != pending[-1].seq + 1:
            raise ValueError(
                f"{self.symbol} subscriber queue expects seq {pending[-1].seq + 1}, got {delta.seq}"
            )
        if delta.symbol != self.symbol:
            raise ValueError(f"{self.symbol} subscriber queue got a {delta.symbol} delta")
        pending.append(delta)
        if len(pending) > self.max_pending:
            self._conflator.extend(pending)
            self._pending = []
            self.conflations += 1

    def push_all(self, deltas: Iterable[Delta]) -> None:
        for delta in deltas:
            self.push(delta)

    def take(self) -> list[Delta | ConflatedBatch]:
        """Everything waiting, in order (deltas, or one batch); the queue is then empty and live."""
        if self._conflator.pending:
            batch = self._conflator.flush()
            assert batch is not None
            return [batch]
        out: list[Delta | ConflatedBatch] = list(self._pending)
        self._pending = []
        return out
