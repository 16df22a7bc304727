"""Conflation: what a consumer that fell behind receives instead of every delta.

When a subscriber cannot keep up, the server stops queueing each delta for it
and feeds a ``Conflator`` instead; when the subscriber can take more, it sends
one ``ConflatedBatch``. Memory stays bounded by the number of distinct price
levels touched plus ``trade_limit``, however far behind the consumer is.

Rules
    Level deltas merge per (side, price): only the latest state is kept, so the
    consumer gets the current level, never a stale one. A level created and
    removed within the window arrives as a removal (``qty == 0``) of a level the
    consumer may never have seen; builders treat that as a no-op.

    The batch carries the per-symbol seq range it covers (``first_seq`` ..
    ``last_seq``). Applied as one unit after the book at ``first_seq - 1``, it
    gives exactly the book at ``last_seq``; a builder never shows the states in
    between, so it never shows an inconsistent (e.g. crossed) book.

    Trades are never dropped silently. The most recent ``trade_limit`` trades
    of the window are kept, oldest first; older ones are counted in
    ``dropped_trades``, and a batch with ``dropped_trades > 0`` tells the
    consumer its trade tape has a hole (a trade history query can fill it).
    Trades never change the book, so dropping them cannot make it wrong.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import NamedTuple

from lob.engine.types import Side
from lob.feed.deltas import Delta, LevelDelta, TradeDelta

__all__ = ["DEFAULT_TRADE_LIMIT", "ConflatedBatch", "Conflator", "conflate"]

DEFAULT_TRADE_LIMIT = 1024
"""Trades a conflated batch keeps before it starts counting them as dropped."""


class ConflatedBatch(NamedTuple):
    """The net effect of one symbol's deltas ``first_seq`` .. ``last_seq``."""

    symbol: str
    first_seq: int
    last_seq: int
    levels: tuple[LevelDelta, ...]
    """One per (side, price) touched: its latest state, in order of last change."""
    trades: tuple[TradeDelta, ...]
    """The trades kept, oldest first."""
    dropped_trades: int
    """Trades of the window left out (the oldest ones); non-zero means a hole in the tape."""

    @property
    def TYPE(self) -> str:
        return "batch"


class Conflator:
    """Accumulates one symbol's deltas for a lagging consumer and merges level updates."""

    __slots__ = ("_dropped", "_first", "_last", "_levels", "_trades", "symbol", "trade_limit")

    def __init__(self, symbol: str, trade_limit: int = DEFAULT_TRADE_LIMIT) -> None:
        if type(trade_limit) is not int or trade_limit < 0:
            raise ValueError(f"trade_limit must be a non-negative integer: {trade_limit!r}")
        self.symbol = symbol
        self.trade_limit = trade_limit
        self._levels: dict[tuple[Side, int], LevelDelta] = {}
        self._trades: deque[TradeDelta] = deque()
        self._dropped = 0
        self._first = 0
        self._last = 0

    def __len__(self) -> int:
        """Entries pending: merged levels plus kept trades."""
        return len(self._levels) + len(self._trades)

    @property
    def pending(self) -> bool:
        """Whether any delta has arrived since the last flush."""
        return self._last != 0

    @property
    def last_seq(self) -> int:
        """The last seq added (0 when nothing is pending)."""
        return self._last

    def add(self, delta: Delta) -> None:
        """Take the next delta of the symbol; seqs must be contiguous within a window."""
        seq = delta.seq
        if delta.symbol != self.symbol:
            raise ValueError(f"{self.symbol} conflator got a {delta.symbol} delta")
        if self._last:
            if seq != self._last + 1:
                raise ValueError(f"{self.symbol} conflator expects seq {self._last + 1}, got {seq}")
        else:
            self._first = seq
        self._last = seq
        if type(delta) is LevelDelta:
            key = (delta.side, delta.price)
            levels = self._levels
            if key in levels:
                del levels[key]  # re-insert so the order is the order of last change
            levels[key] = delta
        else:
            trades = self._trades
            trades.append(delta)  # type: ignore[arg-type]
            if len(trades) > self.trade_limit:
                trades.popleft()
                self._dropped += 1

    def extend(self, deltas: Iterable[Delta]) -> None:
        for delta in deltas:
            self.add(delta)

    def flush(self) -> ConflatedBatch | None:
        """The merged window since the last flush (None if nothing arrived), then reset."""
        if not self._last:
            return None
        batch = ConflatedBatch(
            self.symbol,
            self._first,
            self._last,
            tuple(self._levels.values()),
            tuple(self._trades),
            self._dropped,
        )
        self._levels = {}
        self._trades = deque()
        self._dropped = 0
        self._first = self._last = 0
        return batch


def conflate(
    symbol: str, deltas: Iterable[Delta], trade_limit: int = DEFAULT_TRADE_LIMIT
) -> ConflatedBatch | None:
    """Conflate a run of contiguous deltas of ``symbol`` in one go."""
    conflator = Conflator(symbol, trade_limit)
    conflator.extend(deltas)
    return conflator.flush()
