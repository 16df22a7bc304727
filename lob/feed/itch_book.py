"""Rebuild every order book from an ITCH 5.0 message stream.

Data layout
    ``orders`` maps an order reference to its ``_Order`` (stock locate, side,
    price, open shares). Each side of each book maps ``price -> level``, where
    a level is a ``dict`` of ``order ref -> None`` in queue order: Python dicts
    keep insertion order, so appending, removing any order and walking the
    queue are all O(1) per order. Sorting prices happens only for snapshots.

Rules (ITCH 5.0 section 4.3-4.5)
    A adds at the back of its level; E and C take executed shares off the
    order (removing it at zero); X takes cancelled shares off it in place; D
    removes it; U removes the original and adds the new reference at the back
    of the new price's level, on the same side. P, Q, I, J, S and H change no
    book; R names the stock of a locate code.

After any stream ``state_hash()`` equals the engine's ``state_hash()`` (without
owners): the same blake2b digest over the same text, symbol by symbol. Bad
streams raise ``BookBuildError`` (a ``ValueError``) and leave the book as it
was before the message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import NamedTuple

from lob.engine.book import LevelView
from lob.feed.itch import (
    AddOrder,
    Message,
    OrderCancel,
    OrderDelete,
    OrderExecuted,
    OrderExecutedWithPrice,
    OrderReplace,
    StockDirectory,
)

__all__ = [
    "BookBuildError",
    "BookOrder",
    "FeedSnapshot",
    "ItchBookBuilder",
    "L2Book",
]


class BookBuildError(ValueError):
    """A message that contradicts the book (unknown reference, too many shares...).

    ``code`` is ``itch_unknown_order``, ``itch_duplicate_order``,
    ``itch_unknown_locate`` or ``itch_bad_shares``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class BookOrder(NamedTuple):
    """One resting order as ITCH sees it (no owner: the feed is anonymous)."""

    stock_locate: int
    order_ref: int
    side: str  # "B" or "S"
    price: int
    shares: int


class L2Book(NamedTuple):
    """Price levels of one symbol, best first."""

    symbol: str
    bids: list[LevelView]
    asks: list[LevelView]


class FeedSnapshot(NamedTuple):
    """Every book at one point of the feed: the state after message ``seq``.

    ``seq`` is the MoldUDP64 sequence number of the last message included (0
    for none). ``symbols`` lists ``(locate, symbol)``; ``orders`` lists every
    resting order, each book's bids then asks, best price first and queue order
    within a price. ``to_dict``/``from_dict`` give the JSON form.
    """

    seq: int
    symbols: list[tuple[int, str]]
    orders: list[BookOrder]

    def to_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "symbols": [[locate, symbol] for locate, symbol in self.symbols],
            "orders": [list(o) for o in self.orders],
        }

    @classmethod
    def from_dict(cls, obj: object) -> FeedSnapshot:
        """Parse the JSON form; raises ``ValueError`` when it is not exactly that shape."""
        if not isinstance(obj, dict):
            raise ValueError("not a feed snapshot: not an object")
        seq = obj.get("seq")
        symbols = obj.get("symbols")
        rows = obj.get("orders")
        if not _is_int(seq) or not isinstance(symbols, list) or not isinstance(rows, list):
            raise ValueError("not a feed snapshot: needs seq, symbols and orders")
        pairs: list[tuple[int, str]] = []
        for item in symbols:
            if not (
                isinstance(item, list)
                and len(item) == 2
                and _is_int(item[0])
                and isinstance(item[1], str)
            ):
                raise ValueError(f"not a feed snapshot: bad symbol {item!r}")
            pairs.append((item[0], item[1]))
        orders: list[BookOrder] = []
        for row in rows:
            if not (
                isinstance(row, list)
                and len(row) == 5
                and all(_is_int(row[i]) for i in (0, 1, 3, 4))
                and row[2] in ("B", "S")
            ):
                raise ValueError(f"not a feed snapshot: bad order {row!r}")
            orders.append(BookOrder(row[0], row[1], row[2], row[3], row[4]))
        return cls(seq, pairs, orders)  # type: ignore[arg-type]


def _is_int(value: object) -> bool:
    return type(value) is int and value >= 0


class _Order:
    __slots__ = ("locate", "price", "shares", "side")

    def __init__(self, locate: int, side: str, price: int, shares: int) -> None:
        self.locate = locate
        self.side = side
        self.price = price
        self.shares = shares


class _Book:
    __slots__ = ("asks", "bids", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: dict[int, dict[int, None]] = {}
        self.asks: dict[int, dict[int, None]] = {}


class ItchBookBuilder:
    """Order-level books for every stock locate, kept by ``apply(message)``."""

    def __init__(self) -> None:
        self.orders: dict[int, _Order] = {}
        self.books: dict[int, _Book] = {}
        self.messages = 0

    # -- applying messages ---------------------------------------------------

    def apply_all(self, messages: Iterable[Message]) -> None:
        for message in messages:
            self.apply(message)

    def apply(self, message: Message) -> None:
        """Apply one message; messages that change no book are counted and ignored."""
        kind = type(message)
        if kind is AddOrder:
            m: AddOrder = message  # type: ignore[assignment]
            self._add(m.stock_locate, m.order_ref, m.side, m.price, m.shares)
        elif kind is OrderExecuted or kind is OrderExecutedWithPrice:
            self._reduce(message.order_ref, message.executed_shares)  # type: ignore[union-attr]
        elif kind is OrderCancel:
            self._reduce(message.order_ref, message.cancelled_shares)  # type: ignore[union-attr]
        elif kind is OrderDelete:
            self._remove(self._order(message.order_ref), message.order_ref)  # type: ignore[union-attr]
        elif kind is OrderReplace:
            u: OrderReplace = message  # type: ignore[assignment]
            old = self._order(u.original_order_ref)
            if u.new_order_ref in self.orders:
                raise BookBuildError(
                    "itch_duplicate_order", f"order {u.new_order_ref} is already in the book"
                )
            if u.shares <= 0:
                raise BookBuildError("itch_bad_shares", f"U {u.new_order_ref} with no shares")
            self._remove(old, u.original_order_ref)
            self._add(old.locate, u.new_order_ref, old.side, u.price, u.shares)
        elif kind is StockDirectory:
            r: StockDirectory = message  # type: ignore[assignment]
            book = self.books.get(r.stock_locate)
            if book is None:
                self.books[r.stock_locate] = _Book(r.stock)
            else:
                book.symbol = r.stock
        self.messages += 1

    def _order(self, ref: int) -> _Order:
        order = self.orders.get(ref)
        if order is None:
            raise BookBuildError("itch_unknown_order", f"no resting order {ref}")
        return order

    def _add(self, locate: int, ref: int, side: str, price: int, shares: int) -> None:
        book = self.books.get(locate)
        if book is None:
            raise BookBuildError("itch_unknown_locate", f"no stock directory for locate {locate}")
        if ref in self.orders:
            raise BookBuildError("itch_duplicate_order", f"order {ref} is already in the book")
        if shares <= 0 or side not in ("B", "S"):
            raise BookBuildError("itch_bad_shares", f"order {ref}: bad side or no shares")
        self.orders[ref] = _Order(locate, side, price, shares)
        levels = book.bids if side == "B" else book.asks
        level = levels.get(price)
        if level is None:
            levels[price] = {ref: None}
        else:
            level[ref] = None

    def _reduce(self, ref: int, shares: int) -> None:
        order = self._order(ref)
        if not 0 < shares <= order.shares:
            raise BookBuildError(
                "itch_bad_shares", f"order {ref} has {order.shares} shares, cannot take {shares}"
            )
        if shares == order.shares:
            self._remove(order, ref)
        else:
            order.shares -= shares

    def _remove(self, order: _Order, ref: int) -> None:
        book = self.books[order.locate]
        levels = book.bids if order.side == "B" else book.asks
        level = levels[order.price]
        del level[ref]
        if not level:
            del levels[order.price]
        del self.orders[ref]

    # -- snapshots -----------------------------------------------------------

    def reset(self) -> None:
        """Forget every order and symbol."""
        self.orders.clear()
        self.books.clear()

    def load_snapshot(self, snapshot: FeedSnapshot) -> None:
        """Replace every book with ``snapshot``'s (queue order as listed).

        A snapshot that contradicts itself raises ``BookBuildError`` and changes nothing.
        """
        fresh = ItchBookBuilder()
        for locate, symbol in snapshot.symbols:
            fresh.books[locate] = _Book(symbol)
        for o in snapshot.orders:
            fresh._add(o.stock_locate, o.order_ref, o.side, o.price, o.shares)
        self.orders, self.books = fresh.orders, fresh.books

    def snapshot(self, seq: int) -> FeedSnapshot:
        """Every book, stamped with ``seq`` (the last feed message it includes)."""
        orders: list[BookOrder] = []
        for locate in sorted(self.books):
            orders.extend(self.book_orders(locate))
        symbols = [(locate, self.books[locate].symbol) for locate in sorted(self.books)]
        return FeedSnapshot(seq, symbols, orders)

    def book_orders(self, locate: int) -> list[BookOrder]:
        """One book's orders: bids then asks, best price first, queue order within a price."""
        book = self.books[locate]
        out: list[BookOrder] = []
        for side, levels, reverse in (("B", book.bids, True), ("S", book.asks, False)):
            for price in sorted(levels, reverse=reverse):
                for ref in levels[price]:
                    out.append(BookOrder(locate, ref, side, price, self.orders[ref].shares))
        return out

    def locate_of(self, symbol: str) -> int | None:
        for locate, book in self.books.items():
            if book.symbol == symbol:
                return locate
        return None

    def l2(self, symbol: str, depth: int | None = None) -> L2Book:
        """Price levels of ``symbol`` (best first, at most ``depth`` a side)."""
        locate = self.locate_of(symbol)
        if locate is None:
            raise KeyError(symbol)
        book = self.books[locate]
        sides = []
        for levels, reverse in ((book.bids, True), (book.asks, False)):
            prices = sorted(levels, reverse=reverse)[:depth]
            sides.append(
                [
                    LevelView(p, sum(self.orders[r].shares for r in levels[p]), len(levels[p]))
                    for p in prices
                ]
            )
        return L2Book(symbol, sides[0], sides[1])

    def state_hash(self) -> str:
        """The digest ``MatchingEngine.state_hash()`` gives for the same resting orders."""
        hasher = hashlib.blake2b(digest_size=16)
        for locate in sorted(self.books, key=lambda loc: self.books[loc].symbol):
            book = self.books[locate]
            if not (book.bids or book.asks):
                continue
            hasher.update(book.symbol.encode() + b"\x00")
            for side_name, levels, reverse in (
                ("buy", book.bids, True),
                ("sell", book.asks, False),
            ):
                hasher.update(side_name.encode())
                for price in sorted(levels, reverse=reverse):
                    for ref in levels[price]:
                        hasher.update(f"{price}:{ref}:{self.orders[ref].shares};".encode())
        return hasher.hexdigest()
