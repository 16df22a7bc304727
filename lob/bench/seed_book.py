"""The seed design: the plain order book lob's engine is measured against.

This is how the first version of an order book in Python is usually written,
and the design lob started from:

- prices are ``Decimal`` (``Decimal("187.25")``), checked against the tick with
  ``Decimal`` arithmetic;
- every order gets a ``uuid4`` id; client ids map to it in a dict;
- each side is a ``sortedcontainers.SortedDict`` of ``price -> dict`` of the
  orders at that price, in arrival order (a dict keeps insertion order, so it
  is the FIFO queue);
- orders and events are plain dataclasses.

Its rules are lob's (so the same commands give the same trades): price-time
priority, executions at the resting price; limit orders rest (DAY/GTC), IOC
remainders and market orders are cancelled, FOK fills in full or not at all;
cancel; a replace keeps its place only at the same price with quantity not
increased, otherwise it re-enters at the back under a new id; self-match
prevention cancels the incoming order's remainder (lob's default). It does
not do post-only, collars or the other self-match modes, and its events do
not carry level totals (which spares it work lob does). It is a fair, working
engine: tests/bench/test_seed_book.py checks it against lob's trades and books.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sortedcontainers import SortedDict  # type: ignore[import-untyped]

__all__ = [
    "SeedAccepted",
    "SeedAdded",
    "SeedCancel",
    "SeedCancelled",
    "SeedEngine",
    "SeedNew",
    "SeedOrder",
    "SeedRejected",
    "SeedReplace",
    "SeedReplaced",
    "SeedTrade",
]

ONE_DOLLAR = Decimal("1")
CENT = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")


# -- commands -----------------------------------------------------------------


@dataclass
class SeedNew:
    account: str
    client_id: str
    symbol: str
    side: str  # "buy" or "sell"
    qty: int
    price: Decimal | None = None
    order_type: str = "limit"  # "limit" or "market"
    tif: str = "day"  # "day", "gtc", "ioc", "fok"


@dataclass
class SeedCancel:
    account: str
    client_id: str


@dataclass
class SeedReplace:
    account: str
    client_id: str
    price: Decimal | None = None
    qty: int | None = None


# -- orders and events --------------------------------------------------------


@dataclass
class SeedOrder:
    order_id: uuid.UUID
    account: str
    client_id: str
    symbol: str
    side: str
    price: Decimal
    qty: int
    tif: str
    timestamp: int


@dataclass
class SeedAccepted:
    order_id: uuid.UUID
    account: str
    client_id: str
    symbol: str
    side: str
    price: Decimal | None
    qty: int
    timestamp: int
    type: str = "accepted"


@dataclass
class SeedRejected:
    account: str
    client_id: str
    reason: str
    timestamp: int
    type: str = "rejected"


@dataclass
class SeedTrade:
    trade_id: uuid.UUID
    symbol: str
    price: Decimal
    qty: int
    aggressor: str
    buy_order_id: uuid.UUID
    buy_account: str
    buy_client_id: str
    sell_order_id: uuid.UUID
    sell_account: str
    sell_client_id: str
    timestamp: int
    type: str = "trade"


@dataclass
class SeedAdded:
    order_id: uuid.UUID
    account: str
    client_id: str
    symbol: str
    side: str
    price: Decimal
    qty: int
    timestamp: int
    type: str = "added"


@dataclass
class SeedCancelled:
    order_id: uuid.UUID
    account: str
    client_id: str
    symbol: str
    side: str
    price: Decimal | None
    qty: int
    reason: str
    timestamp: int
    type: str = "cancelled"


@dataclass
class SeedReplaced:
    order_id: uuid.UUID
    old_order_id: uuid.UUID
    account: str
    client_id: str
    symbol: str
    old_price: Decimal
    old_qty: int
    price: Decimal
    qty: int
    kept_priority: bool
    timestamp: int
    type: str = "replaced"


SeedEvent = SeedAccepted | SeedRejected | SeedTrade | SeedAdded | SeedCancelled | SeedReplaced


# -- the book -----------------------------------------------------------------


@dataclass
class SeedBook:
    """Both sides of one symbol: ``SortedDict`` of price -> {order id: order}."""

    symbol: str
    bids: SortedDict = field(default_factory=SortedDict)  # best bid is the last key
    asks: SortedDict = field(default_factory=SortedDict)  # best ask is the first key

    def side(self, side: str) -> SortedDict:
        return self.bids if side == "buy" else self.asks

    def add(self, order: SeedOrder) -> None:
        levels = self.side(order.side)
        if order.price not in levels:
            levels[order.price] = {}
        levels[order.price][order.order_id] = order

    def remove(self, order: SeedOrder) -> None:
        levels = self.side(order.side)
        level = levels[order.price]
        del level[order.order_id]
        if not level:
            del levels[order.price]

    def best_opposite(self, side: str) -> tuple[Decimal, dict[uuid.UUID, SeedOrder]] | None:
        """The best level an incoming ``side`` order would trade with."""
        if side == "buy":
            return self.asks.peekitem(0) if self.asks else None
        return self.bids.peekitem(-1) if self.bids else None

    def levels(self, side: str) -> list[tuple[Decimal, int, int]]:
        """(price, total qty, order count) of one side, best first."""
        levels = self.side(side)
        prices = reversed(levels) if side == "buy" else iter(levels)
        out = []
        for price in prices:
            orders = levels[price]
            out.append((price, sum(o.qty for o in orders.values()), len(orders)))
        return out


# -- the engine ---------------------------------------------------------------


class SeedEngine:
    """Books by symbol, orders by id and by (account, client id)."""

    def __init__(self) -> None:
        self.books: dict[str, SeedBook] = {}
        self.orders: dict[uuid.UUID, SeedOrder] = {}
        self.by_client: dict[tuple[str, str], uuid.UUID] = {}

    def submit(self, command: SeedNew | SeedCancel | SeedReplace, ts: int) -> list[SeedEvent]:
        if isinstance(command, SeedNew):
            return self.new_order(command, ts)
        if isinstance(command, SeedCancel):
            return self.cancel(command, ts)
        if isinstance(command, SeedReplace):
            return self.replace(command, ts)
        raise TypeError(f"not a command: {command!r}")

    def book(self, symbol: str) -> SeedBook:
        if symbol not in self.books:
            self.books[symbol] = SeedBook(symbol)
        return self.books[symbol]

    def new_order(self, cmd: SeedNew, ts: int) -> list[SeedEvent]:
        problem = self._check(cmd)
        if problem is not None:
            return [SeedRejected(cmd.account, cmd.client_id, problem, ts)]
        order_id = uuid.uuid4()
        events: list[SeedEvent] = [
            SeedAccepted(
                order_id, cmd.account, cmd.client_id, cmd.symbol, cmd.side, cmd.price, cmd.qty, ts
            )
        ]
        self._enter(
            self.book(cmd.symbol),
            order_id,
            cmd.account,
            cmd.client_id,
            cmd.side,
            cmd.price,
            cmd.qty,
            cmd.order_type,
            cmd.tif,
            ts,
            events,
        )
        return events

    def cancel(self, cmd: SeedCancel, ts: int) -> list[SeedEvent]:
        key = (cmd.account, cmd.client_id)
        if key not in self.by_client:
            return [SeedRejected(cmd.account, cmd.client_id, "unknown_order", ts)]
        order = self.orders.pop(self.by_client.pop(key))
        self.book(order.symbol).remove(order)
        return [
            SeedCancelled(
                order.order_id,
                order.account,
                order.client_id,
                order.symbol,
                order.side,
                order.price,
                order.qty,
                "user",
                ts,
            )
        ]

    def replace(self, cmd: SeedReplace, ts: int) -> list[SeedEvent]:
        key = (cmd.account, cmd.client_id)
        if key not in self.by_client:
            return [SeedRejected(cmd.account, cmd.client_id, "unknown_order", ts)]
        if cmd.price is None and cmd.qty is None:
            return [SeedRejected(cmd.account, cmd.client_id, "missing_field", ts)]
        if cmd.qty is not None and cmd.qty <= 0:
            return [SeedRejected(cmd.account, cmd.client_id, "invalid_quantity", ts)]
        if cmd.price is not None and not self._on_tick(cmd.price):
            return [SeedRejected(cmd.account, cmd.client_id, "invalid_price", ts)]
        order = self.orders[self.by_client[key]]
        new_price = order.price if cmd.price is None else cmd.price
        new_qty = order.qty if cmd.qty is None else cmd.qty
        if new_price == order.price and new_qty <= order.qty:
            old_qty = order.qty
            order.qty = new_qty
            return [
                SeedReplaced(
                    order.order_id,
                    order.order_id,
                    order.account,
                    order.client_id,
                    order.symbol,
                    order.price,
                    old_qty,
                    new_price,
                    new_qty,
                    True,
                    ts,
                )
            ]
        book = self.book(order.symbol)
        book.remove(order)
        del self.orders[order.order_id]
        del self.by_client[key]
        new_id = uuid.uuid4()
        events: list[SeedEvent] = [
            SeedReplaced(
                new_id,
                order.order_id,
                order.account,
                order.client_id,
                order.symbol,
                order.price,
                order.qty,
                new_price,
                new_qty,
                False,
                ts,
            )
        ]
        self._enter(
            book,
            new_id,
            order.account,
            order.client_id,
            order.side,
            new_price,
            new_qty,
            "limit",
            order.tif,
            ts,
            events,
        )
        return events

    # -- rules ---------------------------------------------------------------

    def _on_tick(self, price: Decimal) -> bool:
        if price <= 0:
            return False
        tick = CENT if price >= ONE_DOLLAR else SUB_PENNY
        return price % tick == 0

    def _check(self, cmd: SeedNew) -> str | None:
        if cmd.side not in ("buy", "sell"):
            return "invalid_side"
        if cmd.qty <= 0:
            return "invalid_quantity"
        if cmd.tif not in ("day", "gtc", "ioc", "fok"):
            return "invalid_tif"
        if cmd.order_type == "limit":
            if cmd.price is None or not self._on_tick(cmd.price):
                return "invalid_price"
        elif cmd.order_type == "market":
            if cmd.price is not None:
                return "invalid_field"
        else:
            return "invalid_type"
        if (cmd.account, cmd.client_id) in self.by_client:
            return "duplicate_id"
        return None

    def _crosses(self, side: str, limit: Decimal | None, price: Decimal) -> bool:
        if limit is None:
            return True
        return price <= limit if side == "buy" else price >= limit

    def _fillable(self, book: SeedBook, side: str, limit: Decimal | None, account: str) -> int:
        levels = book.asks if side == "buy" else book.bids
        prices = iter(levels) if side == "buy" else reversed(levels)
        total = 0
        for price in prices:
            if not self._crosses(side, limit, price):
                break
            for order in levels[price].values():
                if order.account == account:
                    return total
                total += order.qty
        return total

    def _enter(
        self,
        book: SeedBook,
        order_id: uuid.UUID,
        account: str,
        client_id: str,
        side: str,
        price: Decimal | None,
        qty: int,
        order_type: str,
        tif: str,
        ts: int,
        events: list[SeedEvent],
    ) -> None:
        reason = None
        if tif == "fok" and self._fillable(book, side, price, account) < qty:
            reason = "fok"
        else:
            qty, stopped = self._match(
                book, order_id, account, client_id, side, price, qty, ts, events
            )
            if qty == 0:
                return
            if stopped:
                reason = "self_match"
            elif order_type == "market":
                reason = "market"
            elif tif == "ioc":
                reason = "ioc"
        if reason is not None:
            events.append(
                SeedCancelled(
                    order_id, account, client_id, book.symbol, side, price, qty, reason, ts
                )
            )
            return
        assert price is not None
        order = SeedOrder(order_id, account, client_id, book.symbol, side, price, qty, tif, ts)
        book.add(order)
        self.orders[order_id] = order
        self.by_client[(account, client_id)] = order_id
        events.append(SeedAdded(order_id, account, client_id, book.symbol, side, price, qty, ts))

    def _match(
        self,
        book: SeedBook,
        order_id: uuid.UUID,
        account: str,
        client_id: str,
        side: str,
        limit: Decimal | None,
        qty: int,
        ts: int,
        events: list[SeedEvent],
    ) -> tuple[int, bool]:
        """Fill against the best opposite levels; return (quantity left, stopped by SMP)."""
        while qty > 0:
            best = book.best_opposite(side)
            if best is None:
                break
            price, level = best
            if not self._crosses(side, limit, price):
                break
            while level and qty > 0:
                resting = next(iter(level.values()))
                if resting.account == account:
                    return qty, True
                fill = min(qty, resting.qty)
                qty -= fill
                resting.qty -= fill
                if side == "buy":
                    buyer = (order_id, account, client_id)
                    seller = (resting.order_id, resting.account, resting.client_id)
                else:
                    buyer = (resting.order_id, resting.account, resting.client_id)
                    seller = (order_id, account, client_id)
                events.append(
                    SeedTrade(uuid.uuid4(), book.symbol, price, fill, side, *buyer, *seller, ts)
                )
                if resting.qty == 0:
                    book.remove(resting)
                    del self.orders[resting.order_id]
                    del self.by_client[(resting.account, resting.client_id)]
        return qty, False
