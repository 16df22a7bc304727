"""The matching engine: validation, price-time matching and the event stream.

``MatchingEngine`` is a sans-I/O state machine. Commands go in with the time
they happen at (``ts``, integer nanoseconds); events come out, each numbered by
one engine-wide sequence. The engine reads no clock, draws no random number and
does no I/O, so the same commands at the same times give the same events.

Rules (docs/engine.md has the whole list with examples):

- Price-time priority; an execution prints at the resting order's price.
- ``limit`` orders rest with ``day``/``gtc``; an ``ioc`` remainder is cancelled;
  ``fok`` fills in full at once or is cancelled with no execution (liquidity
  that self-match prevention would stop at does not count); ``market`` orders
  never rest.
- ``post_only`` is rejected when marketable on arrival.
- Replace: same price and quantity not increased keeps priority; anything else
  loses it, and the order is re-entered as an incoming order under a new
  engine order id, keeping its client id.
- Self-match prevention, chosen per incoming order: cancel newest (default),
  oldest or both.
- Rule 612 ticks; price collars against a symbol's reference price.
"""

from __future__ import annotations

import hashlib
import re
from sys import intern
from typing import Final, cast

from mypy_extensions import mypyc_attr

from lob.engine.book import (
    FLAGS,
    IntegrityError,
    Level,
    OrderBook,
    OrderView,
    RestingOrder,
    unpack_flags,
)
from lob.engine.calendar import SessionCalendar
from lob.engine.commands import CancelOrder, Command, NewOrder, ReplaceOrder
from lob.engine.events import Accepted, Added, Cancelled, Event, Rejected, Replaced, Trade
from lob.engine.prices import ONE_DOLLAR, format_price, is_on_tick, tick_size
from lob.engine.session import ACCEPTS_ORDERS, AUCTION_STATES
from lob.engine.snapshots import L2Snapshot, OrderSnapshot
from lob.engine.trading_day import AuctionOrder, TradingDayMixin, cross_for
from lob.engine.types import (
    AUCTION_ORDER_TYPES,
    CancelReason,
    CrossType,
    OrderType,
    Priority,
    RejectCode,
    SelfMatchMode,
    Side,
    TimeInForce,
    TradingState,
)

__all__ = ["DEFAULT_COLLAR", "MAX_QTY", "MatchingEngine", "UnknownSymbolError"]

MAX_QTY: Final = 1_000_000_000
"""Largest order quantity (ITCH carries shares in 4 bytes)."""

MAX_ID_LENGTH: Final = 64

DEFAULT_COLLAR: Final = 0.10
"""Collar as a fraction of the reference price, for symbols that have one."""

_SYMBOL: Final = re.compile(r"[A-Z]{1,8}")

BUY: Final = Side.BUY
SELL: Final = Side.SELL
LIMIT: Final = OrderType.LIMIT
MARKET: Final = OrderType.MARKET
DAY: Final = TimeInForce.DAY
GTC: Final = TimeInForce.GTC
IOC: Final = TimeInForce.IOC
FOK: Final = TimeInForce.FOK
CANCEL_NEWEST: Final = SelfMatchMode.CANCEL_NEWEST
CANCEL_BOTH: Final = SelfMatchMode.CANCEL_BOTH
_SMP_MODES: Final = tuple(SelfMatchMode)
# Members read on hot paths, as module names: ``CancelReason.USER`` looks the
# member up through the enum's metaclass each time, ten times slower than a global.
USER: Final = CancelReason.USER
MARKET_LEFT: Final = CancelReason.MARKET
IOC_LEFT: Final = CancelReason.IOC
KEPT: Final = Priority.KEPT
LOST: Final = Priority.LOST
# Events are built with tuple.__new__ on the hot paths: half the cost of a named
# tuple's generated __new__, with the same result.
_new: Final = tuple.__new__
_ORDER_TYPES: Final = tuple(OrderType)
_UNPRICED: Final = (OrderType.MARKET, OrderType.MOO, OrderType.MOC)
# Classes named on the hot paths, read through Final globals for the same reason: any
# other global, an imported class included, is a dict lookup each time (lob.native).
_SIDE_TYPE: Final = Side
_ORDER_TYPE_TYPE: Final = OrderType
_TIF_TYPE: Final = TimeInForce
_SMP_TYPE: Final = SelfMatchMode
_NEW_ORDER: Final = NewOrder
_CANCEL_ORDER: Final = CancelOrder
_REPLACE_ORDER: Final = ReplaceOrder
_ACCEPTED: Final = Accepted
_ADDED: Final = Added
_CANCELLED: Final = Cancelled
_TRADE: Final = Trade
_REPLACED: Final = Replaced
_INTERN: Final = intern


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class UnknownSymbolError(KeyError):
    """A snapshot or book was asked for a symbol the engine does not trade."""


class MatchingEngine(TradingDayMixin):
    """Every symbol's book, every account's live orders, one sequence.

    Without a ``calendar`` every symbol trades continuously; with one, symbols
    follow the trading day (``advance(ts)`` moves them; see trading_day.py).

    >>> engine = MatchingEngine()
    >>> _ = engine.new_order("A", "a1", "XYZ", Side.SELL, 100, 100_000, ts=1)
    >>> [e.TYPE for e in engine.new_order("B", "b1", "XYZ", Side.BUY, 40, 100_000, ts=2)]
    ['accepted', 'trade']
    """

    def __init__(
        self,
        *,
        auto_create_symbols: bool = True,
        collar: float = DEFAULT_COLLAR,
        calendar: SessionCalendar | None = None,
    ):
        self.auto_create_symbols = auto_create_symbols
        self.default_collar = collar
        self.calendar = calendar
        self._books: dict[str, OrderBook] = {}
        self._live: dict[str, dict[str, RestingOrder]] = {}
        self._auction_live: dict[str, dict[str, AuctionOrder]] = {}
        self._seq = 0
        self._next_oid = 1
        self._next_trade_id = 1

    # -- symbols -------------------------------------------------------------

    def add_symbol(
        self, symbol: str, reference_price: int | None = None, collar: float | None = None
    ) -> OrderBook:
        """Trade ``symbol``; with a reference price, orders are collared around it."""
        if not _SYMBOL.fullmatch(symbol):
            raise ValueError(f"symbol must be 1-8 capital letters: {symbol!r}")
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = self._new_book(symbol)
        self.set_reference_price(symbol, reference_price, collar)
        return book

    def _new_book(self, symbol: str, ts: int | None = None) -> OrderBook:
        # With a calendar a symbol listed ahead starts closed and advance() brings it into
        # the day; one created by its first order joins the day where it is at ``ts``.
        if self.calendar is None:
            state = TradingState.CONTINUOUS
        elif ts is None:
            state = TradingState.CLOSED
        else:
            state = self.calendar.scheduled_state(ts)
        return OrderBook(symbol, state=state)

    def set_reference_price(
        self, symbol: str, reference_price: int | None, collar: float | None = None
    ) -> None:
        """Move the collar's centre (``None`` switches the collar off)."""
        book = self.book(symbol)
        fraction = self.default_collar if collar is None else collar
        book.reference_price = reference_price
        book.collar = fraction if reference_price is not None else None
        if reference_price is None:
            book.ref_low = book.ref_high = None
        else:
            high = int(reference_price * (1 + fraction))
            low = -int(-reference_price * (1 - fraction) // 1)
            book.ref_high = high - high % tick_size(high)
            book.ref_low = low + (-low % tick_size(low))
        book.refresh_limits()

    def remove_symbol(self, symbol: str) -> None:
        """Stop trading ``symbol``; only a book with no orders (resting or waiting) can go."""
        book = self.book(symbol)
        if book.bids or book.asks or book.auction:
            raise ValueError(f"{symbol} still has orders")
        del self._books[symbol]

    @property
    def symbols(self) -> list[str]:
        return sorted(self._books)

    def book(self, symbol: str) -> OrderBook:
        try:
            return self._books[symbol]
        except KeyError:
            raise UnknownSymbolError(symbol) from None

    @property
    def seq(self) -> int:
        """The sequence number of the last event emitted."""
        return self._seq

    # -- commands ------------------------------------------------------------

    def submit(self, command: Command, ts: int) -> list[Event]:
        """Apply one command at time ``ts``; return the events it caused."""
        if type(command) is _REPLACE_ORDER:
            return self.replace(command.account, command.id, ts, command.price, command.qty)
        if type(command) is _NEW_ORDER:
            return self.new_order(
                command.account,
                command.id,
                command.symbol,
                command.side,
                command.qty,
                command.price,
                ts,
                command.order_type,
                command.tif,
                command.post_only,
                command.smp,
            )
        if type(command) is _CANCEL_ORDER:
            return self.cancel(command.account, command.id, ts)
        raise TypeError(f"not a command: {command!r}")

    def reject(
        self,
        op: str,
        account: object,
        id: object,
        symbol: object,
        code: RejectCode,
        message: str,
        ts: int,
    ) -> list[Event]:
        """Record a rejection (also one decided outside the engine, e.g. a malformed message).

        The rejected fields are echoed as they came, whatever their type.
        """
        self._seq += 1
        return [_new(Rejected, (self._seq, ts, op, account, id, symbol, code, message))]

    def new_order(
        self,
        account: object,
        id: object,
        symbol: object,
        side: object,
        qty: object,
        price: object = None,
        ts: int = 0,
        order_type: object = LIMIT,
        tif: object = DAY,
        post_only: object = False,
        smp: object = CANCEL_NEWEST,
    ) -> list[Event]:
        """Enter a new order.

        The fields are typed ``object``: anything may come in, and what is not a valid
        order is rejected with a code (in compiled form, a narrower type would raise
        ``TypeError`` at the call instead).
        """
        # Typed, so that compiled code reads the book's fields directly: the ignored
        # call's result would otherwise be Any, each field then looked up by name.
        book: OrderBook | None = self._books.get(symbol)  # type: ignore[call-overload]
        if (
            # The common case first: a plainly valid limit or market order for a
            # traded symbol in continuous trading, or a day/GTC limit order while
            # orders wait for a cross. Every condition here is one that the full
            # checks (``_check_new``, ``_check_state``, ``_check_limit_price``)
            # pass; anything else takes the general path below, which names the reason.
            book is not None
            and (
                book.matching
                or (
                    book.state in AUCTION_STATES
                    and order_type is LIMIT
                    and (tif is DAY or tif is GTC)
                )
            )
            and type(account) is str
            and 0 < len(account) <= MAX_ID_LENGTH
            and type(id) is str
            and 0 < len(id) <= MAX_ID_LENGTH
            and type(symbol) is str  # a book exists: its name was checked when it was made
            and type(side) is _SIDE_TYPE
            and type(qty) is int
            and 0 < qty <= MAX_QTY
            and post_only is False
            and type(order_type) is _ORDER_TYPE_TYPE
            and type(tif) is _TIF_TYPE
            and type(smp) is _SMP_TYPE
            and (
                (
                    order_type is LIMIT
                    and type(price) is int
                    and price > 0
                    and price % (100 if price >= ONE_DOLLAR else 1) == 0
                    and (
                        book.collar_high is None
                        or book.collar_low is None
                        or (price <= book.collar_high if side is BUY else price >= book.collar_low)
                    )
                )
                or (order_type is MARKET and price is None)
            )
        ):
            orders = self._live.get(account)
            waiting = self._auction_live.get(account)
            if (orders is None or id not in orders) and (waiting is None or id not in waiting):
                oid = self._next_oid
                self._next_oid = oid + 1
                self._seq = seq = self._seq + 1
                events: list[Event] = [
                    _new(
                        _ACCEPTED,
                        (
                            seq,
                            ts,
                            symbol,
                            account,
                            id,
                            oid,
                            side,
                            order_type,
                            price,
                            qty,
                            tif,
                            False,
                            smp,
                        ),
                    )
                ]
                if order_type is LIMIT:
                    assert price is not None
                    if side is BUY:
                        keys = book.ask_keys
                        marketable = keys and -keys[-1] <= price
                    else:
                        keys = book.bid_keys
                        marketable = keys and keys[-1] >= price
                    if (not marketable or not book.matching) and (tif is DAY or tif is GTC):
                        # Nothing to match: straight to the back of its level (as ``_enter``).
                        order = RestingOrder(oid, _INTERN(account), id, qty, FLAGS[tif][smp][0])
                        level = (book.bids if side is BUY else book.asks).get(price)
                        if level is None:
                            level = book.append(side, price, order)
                        else:  # ``book.append`` at a level that exists: the back of its queue
                            tail = level.tail
                            order.level = level
                            order.prev = tail
                            assert tail is not None  # a level is never empty
                            tail.next = order
                            level.tail = order
                            level.qty += qty
                            level.count += 1
                        if orders is None:
                            orders = self._live[account] = {}
                        orders[id] = order
                        self._seq = seq = seq + 1
                        events.append(
                            _new(
                                _ADDED,
                                (
                                    seq,
                                    ts,
                                    symbol,
                                    account,
                                    id,
                                    oid,
                                    side,
                                    price,
                                    qty,
                                    level.qty,
                                    level.count,
                                ),
                            )
                        )
                        if book.luld is not None:
                            self._luld_after(book, events, ts)
                        return events
                    limit: int | None = price
                else:
                    limit = book.collar_high if side is BUY else book.collar_low
                self._enter(
                    book,
                    account,
                    id,
                    oid,
                    side,
                    limit,
                    qty,
                    order_type,
                    tif,
                    smp,
                    False,
                    ts,
                    events,
                )
                if book.luld is not None:
                    self._luld_after(book, events, ts)
                return events
        # Everything else: each check names its reason.
        problem = _check_new(account, id, symbol, side, qty, price, order_type, tif, post_only, smp)
        if problem is not None:
            return self.reject("new", account, id, symbol, problem[0], problem[1], ts)
        # The fields passed their checks: each is what its name says.
        return self._new_checked(
            book,
            cast(str, account),
            cast(str, id),
            cast(str, symbol),
            Side(cast(str, side)),
            cast(int, qty),
            price,  # checked against the book's tick and collar next
            ts,
            OrderType(cast(str, order_type)),
            TimeInForce(cast(str, tif)),
            cast(bool, post_only),
            SelfMatchMode(cast(str, smp)),
        )

    def _new_checked(
        self,
        book: OrderBook | None,
        account: str,
        id: str,
        symbol: str,
        side: Side,
        qty: int,
        price: object,
        ts: int,
        order_type: OrderType,
        tif: TimeInForce,
        post_only: bool,
        smp: SelfMatchMode,
    ) -> list[Event]:
        """A new order whose fields are valid: the checks against the book, then entry."""
        created = None
        problem = None
        if book is None:
            if self.auto_create_symbols:
                # A new symbol's book is kept only if the order is accepted.
                book = created = self._new_book(symbol, ts)
            else:
                problem = RejectCode.UNKNOWN_SYMBOL, f"{symbol} is not traded here"
        if problem is None:
            assert book is not None
            orders = self._live.get(account)
            waiting = self._auction_live.get(account)
            if (orders is not None and id in orders) or (waiting is not None and id in waiting):
                problem = RejectCode.DUPLICATE_ID, f"order id {id!r} is already live"
            elif not book.matching or order_type in AUCTION_ORDER_TYPES:
                problem = self._check_state(book, order_type, tif, ts)
            if problem is None and price is not None:
                problem = _check_limit_price(book, side, price, post_only)
        if problem is not None:
            return self.reject("new", account, id, symbol, problem[0], problem[1], ts)
        limit_price = cast("int | None", price)  # checked: none, or on tick and in the collar
        assert book is not None
        if created is not None:
            self._books[symbol] = created
        oid = self._next_oid
        self._next_oid = oid + 1
        self._seq += 1
        events: list[Event] = [
            _new(
                _ACCEPTED,
                (
                    self._seq,
                    ts,
                    symbol,
                    account,
                    id,
                    oid,
                    side,
                    order_type,
                    price,
                    qty,
                    tif,
                    post_only,
                    smp,
                ),
            )
        ]
        if order_type in AUCTION_ORDER_TYPES:
            self._add_auction_order(
                book,
                AuctionOrder(
                    oid,
                    intern(account),
                    id,
                    book,
                    side,
                    order_type,
                    limit_price,
                    qty,
                    cross_for(order_type, book.state),
                ),
            )
            return events
        if order_type is MARKET:
            limit = book.collar_high if side is BUY else book.collar_low
        else:
            limit = limit_price
        self._enter(
            book, account, id, oid, side, limit, qty, order_type, tif, smp, post_only, ts, events
        )
        if book.luld is not None:
            self._luld_after(book, events, ts)
        return events

    def _check_state(
        self, book: OrderBook, order_type: OrderType, tif: TimeInForce, ts: int
    ) -> tuple[RejectCode, str] | None:
        """Whether the symbol's trading state admits this order now."""
        state = book.state
        if state is TradingState.CLOSED:
            return RejectCode.MARKET_CLOSED, f"{book.symbol} is closed"
        if state is TradingState.HALTED:
            return RejectCode.SYMBOL_HALTED, f"{book.symbol} is halted: only cancels are accepted"
        if order_type in AUCTION_ORDER_TYPES:
            cross = cross_for(order_type, state)
            for_open = cross is CrossType.OPENING
            if for_open and state not in (TradingState.PRE_OPEN, TradingState.OPENING_AUCTION):
                return RejectCode.AUCTION_CLOSED, "the opening cross has already run"
            if self.calendar is not None and not self.calendar.entry_open(order_type, ts):
                return RejectCode.AUCTION_CLOSED, f"{order_type} entry has closed for today"
            return None
        if not book.matching and (order_type == MARKET or tif in (IOC, FOK)):
            return RejectCode.NOT_CONTINUOUS, (
                f"{book.symbol} is in {state}: market, IOC and FOK orders need continuous"
                " trading (use an on-open or on-close order for the cross)"
            )
        return None

    def cancel(self, account: object, id: object, ts: int = 0) -> list[Event]:
        """Cancel a live order of ``account`` by its client id."""
        order = waiting = None
        if type(account) is str and type(id) is str:  # else no such order
            orders = self._live.get(account)
            order = orders.pop(id, None) if orders is not None else None
            if order is None:
                waiting = self._auction_live.get(account, {}).get(id)
        if order is None:
            if waiting is not None:
                return self._cancel_auction_order(waiting, ts)
            return self.reject(
                "cancel",
                account,
                id,
                None,
                RejectCode.UNKNOWN_ORDER,
                f"no live order {id!r} for account {account!r}",
                ts,
            )
        level = order.level
        book = level.book
        if level.count == 1:
            book.unlink(order)  # and the level goes
        else:  # ``book.unlink`` from a level that stays: out of its queue
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
        self._seq += 1
        events: list[Event] = [
            _new(
                _CANCELLED,
                (
                    self._seq,
                    ts,
                    book.symbol,
                    account,
                    id,
                    order.oid,
                    level.side,
                    level.price,
                    order.qty,
                    USER,
                    True,
                    level.qty,
                    level.count,
                ),
            )
        ]
        if book.luld is not None:
            self._luld_after(book, events, ts)
        return events

    def replace(
        self,
        account: object,
        id: object,
        ts: int = 0,
        price: object = None,
        qty: object = None,
    ) -> list[Event]:
        """Give a live order a new price and/or open quantity (see the module rules)."""
        if type(account) is str and type(id) is str:
            orders = self._live.get(account)
            order = orders.get(id) if orders is not None else None
        else:  # not a string: no such order
            orders = order = None
        if order is None:
            return self.reject(
                "replace",
                account,
                id,
                None,
                RejectCode.UNKNOWN_ORDER,
                f"no live order {id!r} for account {account!r}",
                ts,
            )
        level = order.level
        book: OrderBook = level.book
        side = level.side
        old_price = level.price
        old_qty = order.qty
        problem = None
        if price is None and qty is None:
            problem = RejectCode.MISSING_FIELD, "a replace needs a price or a quantity"
        elif book.state not in ACCEPTS_ORDERS:
            problem = self._check_state(book, LIMIT, DAY, ts)
        elif qty is not None and (type(qty) is not int or not 0 < qty <= MAX_QTY):
            problem = RejectCode.INVALID_QUANTITY, f"quantity must be 1 to {MAX_QTY:,} shares"
        elif price is not None and not (
            # the common case, checked inline: on tick, inside the collar (if any), not post-only
            type(price) is int
            and price > 0
            and price % (100 if price >= ONE_DOLLAR else 1) == 0
            and (
                book.collar_high is None
                or book.collar_low is None
                or (price <= book.collar_high if side is BUY else price >= book.collar_low)
            )
            and not order.flags & 1
        ):
            problem = _check_limit_price(book, side, price, order.post_only)
        if problem is not None:
            return self.reject("replace", account, id, book.symbol, *problem, ts)
        # Checked above: a price or quantity given is a valid int.
        new_price = old_price if price is None else cast(int, price)
        new_qty = old_qty if qty is None else cast(int, qty)
        self._seq += 1
        if new_price == old_price and new_qty <= old_qty:
            # Same price, not bigger: the order keeps its place in the queue.
            order.qty = new_qty
            level.qty -= old_qty - new_qty
            return [
                _new(
                    _REPLACED,
                    (
                        self._seq,
                        ts,
                        book.symbol,
                        account,
                        id,
                        order.oid,
                        order.oid,
                        side,
                        old_price,
                        old_qty,
                        new_price,
                        new_qty,
                        KEPT,
                        level.qty,
                        level.count,
                        level.qty,
                        level.count,
                    ),
                )
            ]
        # A price change or a size increase: out of the queue, in again as incoming.
        if level.count == 1:
            book.unlink(order)  # and the level goes
        else:  # ``book.unlink`` from a level that stays: out of its queue
            prev, nxt = order.prev, order.next
            if prev is None:
                level.head = nxt
            else:
                prev.next = nxt
            if nxt is None:
                level.tail = prev
            else:
                nxt.prev = prev
            level.qty -= old_qty
            level.count -= 1
        key = cast(str, id)  # the order was found by it: a string
        del orders[key]  # type: ignore[union-attr]
        old_oid = order.oid
        oid = self._next_oid
        self._next_oid = oid + 1
        events: list[Event] = [
            _new(
                _REPLACED,
                (
                    self._seq,
                    ts,
                    book.symbol,
                    account,
                    id,
                    oid,
                    old_oid,
                    side,
                    old_price,
                    old_qty,
                    new_price,
                    new_qty,
                    LOST,
                    level.qty,
                    level.count,
                    0,
                    0,
                ),
            )
        ]
        if side is BUY:
            keys = book.ask_keys
            marketable = keys and -keys[-1] <= new_price
        else:
            keys = book.bid_keys
            marketable = keys and keys[-1] >= new_price
        if not marketable or not book.matching:
            # The common case: straight to the back of the new level.
            order.oid = oid
            order.qty = new_qty
            target = (book.bids if side is BUY else book.asks).get(new_price)
            if target is None:
                level = book.append(side, new_price, order)
            else:  # ``book.append`` at a level that exists: the back of its queue
                level = target
                tail = level.tail
                order.level = level
                order.prev = tail
                order.next = None
                tail.next = order  # type: ignore[union-attr]  # a level is never empty
                level.tail = order
                level.qty += new_qty
                level.count += 1
            orders[key] = order  # type: ignore[index]
            self._seq += 1
            events.append(
                _new(
                    _ADDED,
                    (
                        self._seq,
                        ts,
                        book.symbol,
                        order.account,
                        id,
                        oid,
                        side,
                        new_price,
                        new_qty,
                        level.qty,
                        level.count,
                    ),
                )
            )
            if book.luld is not None:
                self._luld_after(book, events, ts)
            return events
        tif, smp, post_only = unpack_flags(order.flags)
        self._enter(
            book,
            order.account,
            key,
            oid,
            side,
            new_price,
            new_qty,
            LIMIT,
            tif,
            smp,
            post_only,
            ts,
            events,
            order,
        )
        if book.luld is not None:
            self._luld_after(book, events, ts)
        return events

    def expire(self, ts: int, tif: TimeInForce = DAY) -> list[Event]:
        """Cancel every live order with time in force ``tif`` (the end of a session)."""
        events: list[Event] = []
        for account in sorted(self._live):
            orders = self._live[account]
            for id in [i for i, o in orders.items() if o.tif is tif]:
                order = orders.pop(id)
                level = order.level
                level.book.unlink(order)
                self._seq += 1
                events.append(
                    _new(
                        _CANCELLED,
                        (
                            self._seq,
                            ts,
                            level.book.symbol,
                            account,
                            id,
                            order.oid,
                            level.side,
                            level.price,
                            order.qty,
                            CancelReason.EXPIRED,
                            True,
                            level.qty,
                            level.count,
                        ),
                    )
                )
        return events

    # -- matching ------------------------------------------------------------

    def _enter(
        self,
        book: OrderBook,
        account: str,
        id: str,
        oid: int,
        side: Side,
        limit: int | None,
        qty: int,
        order_type: OrderType,
        tif: TimeInForce,
        smp: SelfMatchMode,
        post_only: bool,
        ts: int,
        events: list[Event],
        order: RestingOrder | None = None,
    ) -> None:
        """Match an incoming order, then rest or cancel what is left of it."""
        reason = None
        if tif is FOK and self._fillable(book, side, limit, account, smp, qty) < qty:
            reason = CancelReason.FOK
        else:
            if side is BUY:
                keys = book.ask_keys
                marketable = keys and (limit is None or -keys[-1] <= limit)
            else:
                keys = book.bid_keys
                marketable = keys and (limit is None or keys[-1] >= limit)
            stopped = False
            if marketable and book.matching:
                qty, stopped = self._match(
                    book, account, id, oid, side, limit, qty, smp, ts, events
                )
                if not qty:
                    return
            if stopped:
                reason = CancelReason.SELF_MATCH
            elif order_type is MARKET:
                reason = MARKET_LEFT
            elif tif is IOC:
                reason = IOC_LEFT
        self._seq += 1
        if reason is not None:
            events.append(
                _new(
                    _CANCELLED,
                    (
                        self._seq,
                        ts,
                        book.symbol,
                        account,
                        id,
                        oid,
                        side,
                        None if order_type is MARKET else limit,
                        qty,
                        reason,
                        False,
                        0,
                        0,
                    ),
                )
            )
            return
        if order is None:
            order = RestingOrder(oid, _INTERN(account), id, qty, FLAGS[tif][smp][post_only])
        else:
            order.oid = oid
            order.qty = qty
        assert limit is not None
        level = book.append(side, limit, order)
        orders = self._live.get(account)
        if orders is None:
            orders = self._live[account] = {}
        orders[id] = order
        events.append(
            _new(
                _ADDED,
                (
                    self._seq,
                    ts,
                    book.symbol,
                    account,
                    id,
                    oid,
                    side,
                    limit,
                    qty,
                    level.qty,
                    level.count,
                ),
            )
        )

    def _match(
        self,
        book: OrderBook,
        account: str,
        id: str,
        oid: int,
        side: Side,
        limit: int | None,
        qty: int,
        smp: SelfMatchMode,
        ts: int,
        events: list[Event],
    ) -> tuple[int, bool]:
        """Fill against the opposite side through ``limit``; return (left, stopped by SMP)."""
        if side is BUY:
            levels, keys, sign = book.asks, book.ask_keys, -1
        else:
            levels, keys, sign = book.bids, book.bid_keys, 1
        live = self._live
        symbol = book.symbol
        append = events.append
        while qty and keys:
            price = sign * keys[-1]
            if limit is not None and (price > limit if side is BUY else price < limit):
                break
            level: Level = levels[price]
            resting = level.head
            while resting is not None:
                if resting.account == account:
                    if smp is CANCEL_NEWEST:
                        return qty, True
                    nxt = resting.next
                    self._cancel_resting(resting, CancelReason.SELF_MATCH, ts, events)
                    if smp is CANCEL_BOTH:
                        return qty, True
                    resting = nxt
                    continue
                left = resting.qty
                fill = qty if qty < left else left
                left -= fill
                qty -= fill
                resting.qty = left
                level.qty -= fill
                book.last_price = price
                if not left:
                    nxt = resting.next
                    level.head = nxt
                    if nxt is None:
                        level.tail = None
                        keys.pop()
                        del levels[price]
                    else:
                        nxt.prev = None
                    level.count -= 1
                    del live[resting.account][resting.id]
                self._seq += 1
                trade_id = self._next_trade_id
                self._next_trade_id = trade_id + 1
                if side is BUY:
                    append(
                        _new(
                            _TRADE,
                            (
                                self._seq,
                                ts,
                                symbol,
                                trade_id,
                                price,
                                fill,
                                side,
                                account,
                                id,
                                oid,
                                resting.account,
                                resting.id,
                                resting.oid,
                                resting.oid,
                                left,
                                level.qty,
                                level.count,
                            ),
                        )
                    )
                else:
                    append(
                        _new(
                            _TRADE,
                            (
                                self._seq,
                                ts,
                                symbol,
                                trade_id,
                                price,
                                fill,
                                side,
                                resting.account,
                                resting.id,
                                resting.oid,
                                account,
                                id,
                                oid,
                                resting.oid,
                                left,
                                level.qty,
                                level.count,
                            ),
                        )
                    )
                if left or not qty:
                    return qty, False
                resting = level.head
        return qty, False

    def _fillable(
        self,
        book: OrderBook,
        side: Side,
        limit: int | None,
        account: str,
        smp: SelfMatchMode,
        need: int,
    ) -> int:
        """How much could execute now, counting only what self-match prevention allows."""
        if side is BUY:
            levels, keys, sign = book.asks, book.ask_keys, -1
        else:
            levels, keys, sign = book.bids, book.bid_keys, 1
        total = 0
        for key in reversed(keys):
            price = sign * key
            if limit is not None and (price > limit if side is BUY else price < limit):
                break
            resting = levels[price].head
            while resting is not None:
                if resting.account == account:
                    if smp is not SelfMatchMode.CANCEL_OLDEST:
                        return total
                else:
                    total += resting.qty
                    if total >= need:
                        return total
                resting = resting.next
        return total

    def _cancel_resting(
        self, order: RestingOrder, reason: CancelReason, ts: int, events: list[Event]
    ) -> None:
        level = order.level
        level.book.unlink(order)
        del self._live[order.account][order.id]
        self._seq += 1
        events.append(
            _new(
                _CANCELLED,
                (
                    self._seq,
                    ts,
                    level.book.symbol,
                    order.account,
                    order.id,
                    order.oid,
                    level.side,
                    level.price,
                    order.qty,
                    reason,
                    True,
                    level.qty,
                    level.count,
                ),
            )
        )

    # -- reading -------------------------------------------------------------

    def order(self, account: str, id: str) -> OrderView | None:
        """The live order ``id`` of ``account``, or None."""
        order = self._live.get(account, {}).get(id)
        if order is None:
            return None
        level = order.level
        return OrderView(
            order.oid,
            account,
            id,
            level.book.symbol,
            level.side,
            level.price,
            order.qty,
            order.tif,
        )

    def open_orders(self, account: str) -> list[OrderView]:
        """Every live order of ``account``, oldest engine order id first."""
        views = [self.order(account, id) for id in self._live.get(account, {})]
        return sorted((v for v in views if v is not None), key=lambda v: v.oid)

    def l2_snapshot(self, symbol: str, depth: int | None = None) -> L2Snapshot:
        """Price levels of ``symbol`` (best first), stamped with the last sequence included."""
        book = self.book(symbol)
        return L2Snapshot(symbol, self._seq, book.levels(BUY, depth), book.levels(SELL, depth))

    def order_snapshot(self, symbol: str) -> OrderSnapshot:
        """Every resting order of ``symbol`` in priority order, stamped with a sequence."""
        book = self.book(symbol)
        return OrderSnapshot(symbol, self._seq, book.orders(BUY), book.orders(SELL))

    def state_hash(self, include_owners: bool = False) -> str:
        """A digest of every book's orders in queue order.

        Two engines (or an engine and a book rebuilt from market data) with the
        same resting orders share it. ``include_owners`` adds accounts, client
        ids and time in force, for comparing with a replayed journal.
        """
        hasher = hashlib.blake2b(digest_size=16)
        for symbol in sorted(self._books):
            book = self._books[symbol]
            if book.bids or book.asks:
                book.digest(hasher, include_owners)
        return hasher.hexdigest()

    def check_integrity(self) -> None:
        """Raise ``IntegrityError`` unless every book and the order index agree."""
        in_books = sum(book.check_integrity() for book in self._books.values())
        indexed = 0
        for account, orders in self._live.items():
            for id, order in orders.items():
                indexed += 1
                if order.account != account or order.id != id:
                    raise IntegrityError(f"order index entry {account}/{id} is mislabelled")
                level = order.level
                book_levels = level.book.bids if level.side is BUY else level.book.asks
                if (
                    book_levels.get(level.price) is not level
                    or self._books.get(level.book.symbol) is not level.book
                ):
                    raise IntegrityError(f"order {account}/{id} is not in a live level")
        if indexed != in_books:
            raise IntegrityError(f"{indexed} orders indexed but {in_books} in the books")
        waiting = sum(len(book.auction) for book in self._books.values())
        waiting_indexed = 0
        for account, auction_orders in self._auction_live.items():
            for id, auction_order in auction_orders.items():
                waiting_indexed += 1
                if auction_order.account != account or auction_order.id != id:
                    raise IntegrityError(f"auction order {account}/{id} is mislabelled")
                if auction_order not in auction_order.book.auction or auction_order.qty <= 0:
                    raise IntegrityError(f"auction order {account}/{id} is not waiting")
        if waiting != waiting_indexed:
            raise IntegrityError(f"{waiting_indexed} auction orders indexed, {waiting} waiting")


def _check_new(
    account: object,
    id: object,
    symbol: object,
    side: object,
    qty: object,
    price: object,
    order_type: object,
    tif: object,
    post_only: object,
    smp: object,
) -> tuple[RejectCode, str] | None:
    """Field checks of a new order that need no book."""
    if type(account) is not str or not account or len(account) > MAX_ID_LENGTH:
        return RejectCode.INVALID_ACCOUNT, "account must be a non-empty string"
    if type(id) is not str or not id or len(id) > MAX_ID_LENGTH:
        return RejectCode.INVALID_ID, f"id must be a string of 1 to {MAX_ID_LENGTH} characters"
    if type(symbol) is not str or not _SYMBOL.fullmatch(symbol):
        return RejectCode.INVALID_SYMBOL, f"symbol must be 1-8 capital letters: {symbol!r}"
    if side not in (BUY, SELL):
        return RejectCode.INVALID_SIDE, f"side must be buy or sell: {side!r}"
    if order_type not in _ORDER_TYPES:
        return (
            RejectCode.INVALID_TYPE,
            f"type must be one of {', '.join(_ORDER_TYPES)}: {order_type!r}",
        )
    if tif not in (DAY, GTC, IOC, FOK):
        return RejectCode.INVALID_TIF, f"tif must be day, gtc, ioc or fok: {tif!r}"
    if smp not in _SMP_MODES:
        return (
            RejectCode.INVALID_FIELD,
            f"smp must be one of cancel_newest, cancel_oldest, cancel_both: {smp!r}",
        )
    if type(qty) is not int or not 0 < qty <= MAX_QTY:
        return RejectCode.INVALID_QUANTITY, f"quantity must be 1 to {MAX_QTY:,} shares: {qty!r}"
    if type(post_only) is not bool:
        return RejectCode.INVALID_FIELD, "post_only must be true or false"
    if order_type in _UNPRICED:
        if price is not None:
            return RejectCode.INVALID_FIELD, f"a {order_type} order takes no price"
        if post_only:
            return RejectCode.INVALID_FIELD, f"a {order_type} order cannot be post-only"
    elif price is None:
        return RejectCode.INVALID_PRICE, f"a {order_type} order needs a price"
    elif post_only and order_type != LIMIT:
        return RejectCode.INVALID_FIELD, "only limit orders can be post-only"
    elif post_only and tif in (IOC, FOK):
        return RejectCode.INVALID_FIELD, "post-only orders rest: use day or gtc"
    return None


def _check_limit_price(
    book: OrderBook, side: Side, price: object, post_only: bool
) -> tuple[RejectCode, str] | None:
    """Tick, collar and post-only checks of a limit price on ``book``."""
    if type(price) is not int or price <= 0:
        return RejectCode.INVALID_PRICE, f"price must be positive: {price!r}"
    if not is_on_tick(price):
        return RejectCode.INVALID_PRICE, (
            f"{format_price(price)} is off tick: the tick is ${format_price(tick_size(price))}"
            " at this price (Rule 612)"
        )
    low, high = book.collar_low, book.collar_high
    if low is not None and high is not None and (price > high if side == BUY else price < low):
        luld = book.luld
        if luld is not None:
            bands = luld.bands
            if price > bands.upper if side == BUY else price < bands.lower:
                return RejectCode.OUTSIDE_PRICE_BAND, (
                    f"{format_price(price)} is outside the Limit Up-Limit Down band"
                    f" {format_price(bands.lower)} - {format_price(bands.upper)}"
                )
        return RejectCode.PRICE_OUT_OF_COLLAR, (
            f"{format_price(price)} is outside the collar {format_price(low)}"
            f" - {format_price(high)} around the reference price"
        )
    if post_only:
        if side == BUY:
            if book.ask_keys and price >= -book.ask_keys[-1]:
                return RejectCode.POST_ONLY_WOULD_TAKE, "post-only buy would take the best ask"
        elif book.bid_keys and price <= book.bid_keys[-1]:
            return RejectCode.POST_ONLY_WOULD_TAKE, "post-only sell would take the best bid"
    return None
