"""One symbol's order book: price levels of FIFO queues, best price in O(1).

Data layout
    Each side maps ``price -> Level`` in a dict and keeps a sorted list of keys
    with the best price at the end: bids store ``price`` ascending, asks store
    ``-price`` ascending, so ``keys[-1]`` is always the best level of a side and
    removing an exhausted best level is ``list.pop()``. A level is a doubly
    linked FIFO of ``RestingOrder`` objects with running totals of quantity and
    order count.

Priority
    Price, then time: a new order joins the back of its level's queue, fills
    come from the front.

Complexity (L = levels on a side, usually a few hundred at most)
    best price O(1); add at an existing level O(1); add at a new level
    O(log L) search plus an O(L) memmove; cancel O(1), plus O(L) memmove when it
    empties a level; fill from the front O(1) per order touched.

This module holds structure only; the matching rules live in ``matching.py``.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Final, NamedTuple, Protocol

from mypy_extensions import mypyc_attr

from lob.engine.luld import LuldMonitor
from lob.engine.prices import format_price, round_lot
from lob.engine.types import SelfMatchMode, Side, TimeInForce, TradingState

__all__ = [
    "FLAGS",
    "IntegrityError",
    "Level",
    "LevelView",
    "OrderBook",
    "OrderView",
    "RestingOrder",
    "unpack_flags",
]


_BUY: Final = Side.BUY  # a global is much faster to read than the member through its enum class


class Hasher(Protocol):
    """Anything that digests bytes (``hashlib`` objects)."""

    def update(self, data: bytes, /) -> None: ...


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class IntegrityError(AssertionError):
    """The book's structure contradicts itself (raised by ``check_integrity``)."""


class RestingOrder:
    """A live order in the book. Slotted and small: there may be millions.

    Time in force, self-match mode and post-only are packed into one small
    integer (``flags``) to keep a resting order near 100 bytes.
    """

    __slots__ = ("account", "flags", "id", "level", "next", "oid", "prev", "qty")
    # ``flags`` is ``FLAGS[tif][smp][post_only]``.

    def __init__(self, oid: int, account: str, id: str, qty: int, flags: int) -> None:
        self.oid = oid
        self.account = account
        self.id = id
        self.qty = qty
        self.flags = flags
        self.level: Level = None  # type: ignore[assignment]  # set when linked
        self.prev: RestingOrder | None = None
        self.next: RestingOrder | None = None

    @property
    def tif(self) -> TimeInForce:
        return _UNPACK[self.flags][0]

    @property
    def smp(self) -> SelfMatchMode:
        return _UNPACK[self.flags][1]

    @property
    def post_only(self) -> bool:
        return _UNPACK[self.flags][2]


_UNPACK: list[tuple[TimeInForce, SelfMatchMode, bool]] = [
    (tif, smp, post_only)
    for tif in TimeInForce
    for smp in SelfMatchMode
    for post_only in (False, True)
]
_PACK: dict[tuple[TimeInForce, SelfMatchMode, bool], int] = {
    key: i for i, key in enumerate(_UNPACK)
}
# post-only is the innermost choice above, so ``flags & 1`` is the post-only bit.
FLAGS: Final[dict[TimeInForce, dict[SelfMatchMode, tuple[int, int]]]] = {
    tif: {smp: (_PACK[tif, smp, False], _PACK[tif, smp, True]) for smp in SelfMatchMode}
    for tif in TimeInForce
}
"""``FLAGS[tif][smp][post_only]``: the packed flags, by two look-ups of members whose
hash is cached (a key of three members hashes each of them every time)."""


def unpack_flags(flags: int) -> tuple[TimeInForce, SelfMatchMode, bool]:
    """Time in force, self-match mode and post-only of a resting order's ``flags``."""
    return _UNPACK[flags]


class Level:
    """All orders at one price on one side, oldest first."""

    __slots__ = ("book", "count", "head", "price", "qty", "side", "tail")

    def __init__(self, book: OrderBook, side: Side, price: int) -> None:
        self.book = book
        self.side = side
        self.price = price
        self.qty = 0
        self.count = 0
        self.head: RestingOrder | None = None
        self.tail: RestingOrder | None = None


class LevelView(NamedTuple):
    """One L2 level as seen from outside: price, total quantity, order count."""

    price: int
    qty: int
    orders: int


class OrderView(NamedTuple):
    """One resting order as seen from outside, in queue order in snapshots."""

    oid: int
    account: str
    id: str
    symbol: str
    side: Side
    price: int
    qty: int
    tif: TimeInForce


class OrderBook:
    """The bids and asks of one symbol."""

    __slots__ = (
        "ask_keys",
        "asks",
        "auction",
        "bid_keys",
        "bids",
        "collar",
        "collar_high",
        "collar_low",
        "last_price",
        "luld",
        "matching",
        "ref_high",
        "ref_low",
        "reference_price",
        "state",
        "symbol",
    )

    def __init__(
        self,
        symbol: str,
        reference_price: int | None = None,
        collar: float | None = None,
        state: TradingState = TradingState.CONTINUOUS,
    ) -> None:
        self.symbol = symbol
        self.reference_price = reference_price
        self.collar = collar
        self.ref_low: int | None = None  # the collar around the reference price
        self.ref_high: int | None = None
        self.collar_low: int | None = None  # lowest price a sell may take or rest at
        self.collar_high: int | None = None  # highest price a buy may take or rest at
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        self.bid_keys: list[int] = []  # prices ascending: best bid last
        self.ask_keys: list[int] = []  # -prices ascending: best ask last
        self.state = state
        self.matching = state in (TradingState.CONTINUOUS, TradingState.CLOSING_AUCTION)
        self.last_price: int | None = None
        self.luld: LuldMonitor | None = None
        self.auction: list[Any] = []  # auction orders waiting for a cross, oldest first

    def refresh_limits(self) -> None:
        """Effective price limits: the tighter of the reference collar and the LULD bands."""
        low, high = self.ref_low, self.ref_high
        if self.luld is not None:
            bands = self.luld.bands
            low = bands.lower if low is None else max(low, bands.lower)
            high = bands.upper if high is None else min(high, bands.upper)
        self.collar_low, self.collar_high = low, high

    # -- structure ---------------------------------------------------------

    def append(self, side: Side, price: int, order: RestingOrder) -> Level:
        """Put ``order`` at the back of the queue at ``price``; return its level."""
        if side is _BUY:
            levels, keys, key = self.bids, self.bid_keys, price
        else:
            levels, keys, key = self.asks, self.ask_keys, -price
        level = levels.get(price)
        if level is None:
            level = levels[price] = Level(self, side, price)
            if not keys or key > keys[-1]:
                keys.append(key)
            else:
                keys.insert(bisect_left(keys, key), key)
        tail = level.tail
        order.level = level
        order.prev = tail
        order.next = None
        if tail is None:
            level.head = order
        else:
            tail.next = order
        level.tail = order
        level.qty += order.qty
        level.count += 1
        return level

    def unlink(self, order: RestingOrder) -> Level:
        """Take ``order`` out of its queue (its quantity leaves the level total)."""
        level = order.level
        prev, nxt = order.prev, order.next
        if prev is None:
            level.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            level.tail = prev
        else:
            nxt.prev = prev
        level.qty -= order.qty
        level.count -= 1
        if level.count == 0:
            self.drop_level(level)
        return level

    def drop_level(self, level: Level) -> None:
        """Forget an empty level."""
        if level.side is _BUY:
            del self.bids[level.price]
            keys, key = self.bid_keys, level.price
        else:
            del self.asks[level.price]
            keys, key = self.ask_keys, -level.price
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]

    # -- reading -----------------------------------------------------------

    @property
    def best_bid(self) -> int | None:
        return self.bid_keys[-1] if self.bid_keys else None

    @property
    def best_ask(self) -> int | None:
        return -self.ask_keys[-1] if self.ask_keys else None

    def quote(self) -> tuple[LevelView | None, LevelView | None]:
        """The published best bid and offer: the best levels holding a round lot.

        Odd lots rest, trade and show in depth, but a level enters the quote
        only when its total reaches a round lot at its price (100, 40, 10 or 1
        shares by price tier), so odd lots stay out of the best bid and offer.
        """
        out: list[LevelView | None] = []
        for levels, keys, sign in ((self.bids, self.bid_keys, 1), (self.asks, self.ask_keys, -1)):
            found = None
            for i in range(len(keys) - 1, -1, -1):
                level = levels[sign * keys[i]]
                if level.qty >= round_lot(level.price):
                    found = LevelView(level.price, level.qty, level.count)
                    break
            out.append(found)
        return out[0], out[1]

    def levels(self, side: Side, depth: int | None = None) -> list[LevelView]:
        """L2 levels of one side, best first, at most ``depth`` of them."""
        if side is Side.BUY:
            levels, keys, sign = self.bids, self.bid_keys, 1
        else:
            levels, keys, sign = self.asks, self.ask_keys, -1
        n = len(keys) if depth is None else min(depth, len(keys))
        out = []
        for i in range(1, n + 1):
            level = levels[sign * keys[-i]]
            out.append(LevelView(level.price, level.qty, level.count))
        return out

    def orders(self, side: Side) -> list[OrderView]:
        """Every resting order of one side: best price first, queue order within it."""
        out: list[OrderView] = []
        for lv in self.levels(side):
            level = (self.bids if side is Side.BUY else self.asks)[lv.price]
            order = level.head
            while order is not None:
                out.append(
                    OrderView(
                        order.oid,
                        order.account,
                        order.id,
                        self.symbol,
                        side,
                        level.price,
                        order.qty,
                        order.tif,
                    )
                )
                order = order.next
        return out

    def order_count(self) -> int:
        return sum(lv.count for lv in self.bids.values()) + sum(
            lv.count for lv in self.asks.values()
        )

    def digest(self, hasher: Hasher, include_owners: bool = False) -> None:
        """Feed this book's visible state (and, optionally, who owns each order) to ``hasher``."""
        hasher.update(self.symbol.encode() + b"\x00")
        for side in (Side.BUY, Side.SELL):
            hasher.update(side.value.encode())
            for o in self.orders(side):
                row = f"{o.price}:{o.oid}:{o.qty}"
                if include_owners:
                    row += f":{o.account}:{o.id}:{o.tif}"
                hasher.update(row.encode() + b";")

    def check_integrity(self) -> int:
        """Verify every invariant of the structure; return the number of orders."""
        total = 0
        for side, levels, keys, sign in (
            (Side.BUY, self.bids, self.bid_keys, 1),
            (Side.SELL, self.asks, self.ask_keys, -1),
        ):
            if keys != sorted(keys) or len(set(keys)) != len(keys):
                raise IntegrityError(f"{self.symbol} {side}: price keys are not sorted and unique")
            if sorted(sign * k for k in keys) != sorted(levels):
                raise IntegrityError(f"{self.symbol} {side}: price keys do not match levels")
            for price, level in levels.items():
                if level.price != price or level.side is not side:
                    raise IntegrityError(f"{self.symbol} {side} {price}: level mislabelled")
                qty = count = 0
                prev = None
                order = level.head
                while order is not None:
                    if order.prev is not prev or order.level is not level:
                        raise IntegrityError(f"{self.symbol} {price}: broken queue links")
                    if order.qty <= 0:
                        raise IntegrityError(f"{self.symbol} {price}: order {order.oid} qty <= 0")
                    qty += order.qty
                    count += 1
                    prev, order = order, order.next
                if level.tail is not prev:
                    raise IntegrityError(f"{self.symbol} {price}: tail is not the last order")
                if count == 0 or qty != level.qty or count != level.count:
                    raise IntegrityError(
                        f"{self.symbol} {side} {format_price(price)}: totals {level.qty}/"
                        f"{level.count} but orders sum to {qty}/{count}"
                    )
                total += count
        bid, ask = self.best_bid, self.best_ask
        if self.matching and bid is not None and ask is not None and bid >= ask:
            raise IntegrityError(f"{self.symbol}: crossed book {bid} >= {ask}")
        return total
