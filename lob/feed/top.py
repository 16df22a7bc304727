"""Top of book derived from the L2 delta stream, for "top of book" subscriptions.

Engine events say what happened at the level they touched, not which level is
best afterwards (when the best bid empties, the next one is not in the event).
``TopOfBookTracker`` therefore keeps an L2 book per symbol, built from the
same deltas subscribers get, and reports a ``TopOfBook`` whenever the best bid
or ask (price or size) differs after a run of deltas. Feed it one command's
deltas at a time: the states in the middle of a command (a replace leaving its
old level before re-entering) are never published.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lob.feed.deltas import BookSnapshot, Delta, TopOfBook
from lob.feed.l2_builder import L2BookBuilder

__all__ = ["TopOfBookTracker"]

_Top = tuple[int | None, int, int | None, int]
_EMPTY: _Top = (None, 0, None, 0)
_new: Final = tuple.__new__  # a named tuple without its interpreted __new__


class TopOfBookTracker:
    """Best bid/ask per symbol, updated from deltas, reported when they change."""

    __slots__ = ("_books", "_published", "_tops")

    def __init__(self) -> None:
        self._books: dict[str, L2BookBuilder] = {}
        self._tops: dict[str, _Top] = {}
        self._published: dict[str, TopOfBook] = {}

    def seed(self, snapshot: BookSnapshot) -> None:
        """Start a symbol from a full snapshot (for a stream already under way)."""
        book = self._books[snapshot.symbol] = L2BookBuilder(snapshot.symbol)
        book.apply_snapshot(snapshot)
        top = self._tops[snapshot.symbol] = book.top()
        self._published[snapshot.symbol] = TopOfBook(
            snapshot.symbol, snapshot.seq, snapshot.engine_seq, 0, *top
        )

    def on_deltas(self, deltas: Iterable[Delta]) -> list[TopOfBook]:
        """Apply deltas; one ``TopOfBook`` per symbol whose top changed, in first-touch order."""
        touched: dict[str, Delta] = {}
        books = self._books
        for delta in deltas:
            book = books.get(delta.symbol)
            if book is None:
                if delta.seq != 1:
                    raise ValueError(
                        f"{delta.symbol} starts at seq {delta.seq}: seed it with a snapshot first"
                    )
                book = books[delta.symbol] = L2BookBuilder(delta.symbol, seq=0)
            book.apply(delta)
            touched[delta.symbol] = delta
        out = []
        for symbol, last in touched.items():
            top = books[symbol].top()
            if top != self._tops.get(symbol, _EMPTY):
                self._tops[symbol] = top
                message: TopOfBook = _new(
                    TopOfBook, (symbol, last.seq, last.engine_seq, last.ts, *top)
                )
                self._published[symbol] = message
                out.append(message)
        return out

    def top(self, symbol: str) -> TopOfBook | None:
        """The current top of ``symbol``, stamped when it last changed (None if never set)."""
        return self._published.get(symbol)
