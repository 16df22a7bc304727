"""The client-side L2 book: a snapshot, then deltas and conflated batches, in seq order.

``L2BookBuilder`` keeps one symbol's price levels and the per-symbol seq they
are current to. Every message is checked against that seq before it touches
the book:

=====================================  ======================================
message                                 outcome
=====================================  ======================================
delta with seq == current + 1           applied (``ApplyResult.APPLIED``)
delta with seq <= current               ignored (``ApplyResult.STALE``): a
                                        duplicate, e.g. after a reconnect
delta with seq > current + 1            ``SequenceGap`` raised, book untouched
batch covering current + 1              applied, seq becomes its ``last_seq``
batch ending at or before current       ignored (``STALE``)
batch starting after current + 1        ``SequenceGap`` raised
snapshot not older than current         replaces the book
anything before the first snapshot      ``SequenceGap`` asking for a snapshot
delta removing a level it does not      ``BookInconsistent`` raised; the book is
know, or a level with no orders         dropped and a snapshot is needed
=====================================  ======================================

Both errors derive from ``RecoveryNeeded`` and carry ``resume_from``: the seq
to send as "since" to the server (its ring answers with the missing deltas or
a snapshot), or None when only a snapshot will do. The book is never left
half-applied: a gap changes nothing, and an inconsistency clears the book.

A builder may start at a known empty book (``seq=0``) for a stream followed
from its first delta; otherwise it waits for a snapshot.
"""

from __future__ import annotations

from bisect import bisect_left
from enum import StrEnum

from lob.engine.book import LevelView
from lob.engine.types import Side
from lob.feed.conflation import ConflatedBatch
from lob.feed.deltas import BookSnapshot, Delta, LevelDelta, TopOfBook, TradeDelta
from lob.feed.ring import CatchUp

__all__ = [
    "ApplyResult",
    "BookInconsistent",
    "L2BookBuilder",
    "RecoveryNeeded",
    "SequenceGap",
]


class ApplyResult(StrEnum):
    APPLIED = "applied"
    STALE = "stale"


class RecoveryNeeded(Exception):
    """The builder cannot go on from this message; ask the server to resume from a seq."""

    code = "recovery_needed"

    def __init__(self, symbol: str, resume_from: int | None, message: str) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.resume_from = resume_from
        """Send this as "since" to catch up; None means only a snapshot will do."""


class SequenceGap(RecoveryNeeded):
    """A message skips seqs the builder has not seen; the book is unchanged."""

    code = "sequence_gap"


class BookInconsistent(RecoveryNeeded):
    """A delta contradicts the book; the book is dropped and a snapshot is needed."""

    code = "book_inconsistent"


_BUY = Side.BUY


class L2BookBuilder:
    """One symbol's L2 book rebuilt from market data (see the module table)."""

    __slots__ = (
        "_ask_keys",
        "_asks",
        "_bid_keys",
        "_bids",
        "dropped_trades",
        "engine_seq",
        "last_trade",
        "seq",
        "symbol",
    )

    def __init__(self, symbol: str, seq: int | None = None) -> None:
        self.symbol = symbol
        self.seq = seq
        """The per-symbol seq the book is current to; None until a snapshot arrives."""
        self.engine_seq = 0
        self.last_trade: TradeDelta | None = None
        self.dropped_trades = 0
        """Trades conflated batches reported as left out, in total."""
        self._bids: dict[int, tuple[int, int]] = {}
        self._asks: dict[int, tuple[int, int]] = {}
        self._bid_keys: list[int] = []  # prices ascending: best bid last
        self._ask_keys: list[int] = []  # -prices ascending: best ask last

    # -- applying ------------------------------------------------------------

    def apply_snapshot(self, snapshot: BookSnapshot) -> ApplyResult:
        """Replace the book with a full-depth snapshot unless it is older than the book."""
        self._check_symbol(snapshot.symbol)
        if snapshot.depth is not None:
            raise ValueError("a book builder needs a full-depth snapshot (depth=None)")
        if self.seq is not None and snapshot.seq < self.seq:
            return ApplyResult.STALE
        self._clear()
        for lv in snapshot.bids:
            self._set(_BUY, lv.price, lv.qty, lv.orders, strict=True)
        for lv in snapshot.asks:
            self._set(Side.SELL, lv.price, lv.qty, lv.orders, strict=True)
        self.seq = snapshot.seq
        self.engine_seq = snapshot.engine_seq
        return ApplyResult.APPLIED

    def apply(self, delta: Delta) -> ApplyResult:
        """Apply the next delta, ignore an old one, or raise ``RecoveryNeeded``."""
        seq = self.seq
        if seq is None:
            raise SequenceGap(self.symbol, None, f"{self.symbol}: no snapshot yet")
        if delta.seq != seq + 1:
            if delta.seq <= seq:
                return ApplyResult.STALE
            raise SequenceGap(
                self.symbol,
                seq,
                f"{self.symbol}: expected seq {seq + 1}, got {delta.seq}; resume from {seq}",
            )
        if delta.symbol != self.symbol:
            self._check_symbol(delta.symbol)
        if type(delta) is LevelDelta:
            self._set(delta.side, delta.price, delta.qty, delta.orders, True)
        else:
            self.last_trade = delta  # type: ignore[assignment]
        self.seq = delta.seq
        self.engine_seq = delta.engine_seq
        return ApplyResult.APPLIED

    def apply_batch(self, batch: ConflatedBatch) -> ApplyResult:
        """Apply a conflated batch that covers the next seq (overlap with the book is fine)."""
        seq = self.seq
        if seq is None:
            raise SequenceGap(self.symbol, None, f"{self.symbol}: no snapshot yet")
        if batch.last_seq <= seq:
            return ApplyResult.STALE
        if batch.first_seq > seq + 1:
            raise SequenceGap(
                self.symbol,
                seq,
                f"{self.symbol}: expected seq {seq + 1}, batch starts at {batch.first_seq};"
                f" resume from {seq}",
            )
        self._check_symbol(batch.symbol)
        engine_seq = self.engine_seq
        for lv in batch.levels:
            self._set(lv.side, lv.price, lv.qty, lv.orders, strict=False)
            engine_seq = max(engine_seq, lv.engine_seq)
        if batch.trades:
            self.last_trade = batch.trades[-1]
            engine_seq = max(engine_seq, batch.trades[-1].engine_seq)
        self.dropped_trades += batch.dropped_trades
        self.seq = batch.last_seq
        self.engine_seq = engine_seq
        return ApplyResult.APPLIED

    def apply_catch_up(self, answer: CatchUp) -> ApplyResult:
        """Apply a ring's answer: its snapshot if any, then its deltas."""
        result = ApplyResult.STALE
        if answer.snapshot is not None:
            result = self.apply_snapshot(answer.snapshot)
        for delta in answer.deltas:
            if self.apply(delta) is ApplyResult.APPLIED:
                result = ApplyResult.APPLIED
        return result

    def apply_message(
        self, message: Delta | ConflatedBatch | BookSnapshot | CatchUp | TopOfBook
    ) -> ApplyResult:
        """Apply any L2 message (as decoded by ``lob.feed.wire``); top of book is ignored."""
        kind = type(message)
        if kind is LevelDelta or kind is TradeDelta:
            return self.apply(message)  # type: ignore[arg-type]
        if kind is ConflatedBatch:
            return self.apply_batch(message)  # type: ignore[arg-type]
        if kind is BookSnapshot:
            return self.apply_snapshot(message)  # type: ignore[arg-type]
        if kind is CatchUp:
            return self.apply_catch_up(message)  # type: ignore[arg-type]
        if kind is TopOfBook:
            return ApplyResult.STALE
        raise TypeError(f"not an L2 message: {message!r}")

    # -- reading -------------------------------------------------------------

    def best_bid(self) -> LevelView | None:
        if not self._bid_keys:
            return None
        price = self._bid_keys[-1]
        qty, orders = self._bids[price]
        return LevelView(price, qty, orders)

    def best_ask(self) -> LevelView | None:
        if not self._ask_keys:
            return None
        price = -self._ask_keys[-1]
        qty, orders = self._asks[price]
        return LevelView(price, qty, orders)

    def top(self) -> tuple[int | None, int, int | None, int]:
        """``(bid price, bid qty, ask price, ask qty)``; an empty side is ``(None, 0)``."""
        bid_keys, ask_keys = self._bid_keys, self._ask_keys
        if bid_keys:
            bid: int | None = bid_keys[-1]
            bid_qty = self._bids[bid][0]  # type: ignore[index]
        else:
            bid, bid_qty = None, 0
        if ask_keys:
            ask: int | None = -ask_keys[-1]
            ask_qty = self._asks[ask][0]  # type: ignore[index]
        else:
            ask, ask_qty = None, 0
        return bid, bid_qty, ask, ask_qty

    def levels(self, side: Side, depth: int | None = None) -> list[LevelView]:
        """Levels of one side, best first, at most ``depth`` of them."""
        if side is _BUY or side == _BUY:
            levels, keys, sign = self._bids, self._bid_keys, 1
        else:
            levels, keys, sign = self._asks, self._ask_keys, -1
        n = len(keys) if depth is None else min(depth, len(keys))
        out = []
        for i in range(1, n + 1):
            price = sign * keys[-i]
            qty, orders = levels[price]
            out.append(LevelView(price, qty, orders))
        return out

    def bids(self, depth: int | None = None) -> list[LevelView]:
        return self.levels(_BUY, depth)

    def asks(self, depth: int | None = None) -> list[LevelView]:
        return self.levels(Side.SELL, depth)

    def snapshot(self, depth: int | None = None) -> BookSnapshot:
        """The book as a snapshot (to compare with the engine's, or to hand on)."""
        if self.seq is None:
            raise ValueError(f"{self.symbol}: no book yet")
        return BookSnapshot(
            self.symbol,
            self.seq,
            self.engine_seq,
            tuple(self.bids(depth)),
            tuple(self.asks(depth)),
            depth,
        )

    # -- internals -----------------------------------------------------------

    def _check_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            raise ValueError(f"{self.symbol} book builder got a {symbol} message")

    def _clear(self) -> None:
        self._bids.clear()
        self._asks.clear()
        self._bid_keys.clear()
        self._ask_keys.clear()

    def _fail(self, message: str) -> None:
        self._clear()
        self.seq = None
        raise BookInconsistent(self.symbol, None, f"{self.symbol}: {message}; need a snapshot")

    def _set(self, side: Side, price: int, qty: int, orders: int, strict: bool) -> None:
        if side is _BUY or side == _BUY:
            levels, keys, key = self._bids, self._bid_keys, price
        else:
            levels, keys, key = self._asks, self._ask_keys, -price
        if qty:
            if qty < 0 or orders <= 0:
                self._fail(f"level {side} {price} has qty {qty} and {orders} orders")
            if price not in levels:
                keys.insert(bisect_left(keys, key), key)
            levels[price] = (qty, orders)
        elif price in levels:
            del levels[price]
            del keys[bisect_left(keys, key)]
        elif strict:
            self._fail(f"removal of unknown level {side} {price}")
