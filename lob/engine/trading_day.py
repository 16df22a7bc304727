"""The trading day inside the engine: states, auction orders, crosses, imbalances, LULD.

``TradingDayMixin`` is part of ``MatchingEngine``; it is kept here so the
continuous-matching hot path in ``engine.py`` stays small. It adds:

- ``set_state(symbol, state, ts)``: a move of the state machine in
  ``lob.engine.session`` (an illegal one raises ``IllegalTransition`` and
  changes nothing); moving out of an auction state runs its cross.
- ``advance(ts)``: lets time pass: the calendar's transitions (when the engine
  has a ``SessionCalendar``), LULD limit-state and pause timers, reference
  price updates. The engine reads no clock: its driver calls this.
- Auction orders (``moo``, ``loo``, ``moc``, ``loc``, ``io``): held aside, never
  displayed, executed only by their cross; what the cross leaves is cancelled
  (reason ``auction``).
- ``imbalances(ts)``: the Net Order Imbalance Indicator of every symbol in an
  auction window.
- ``enable_luld(symbol, tier)``: Limit Up-Limit Down bands (``lob.engine.luld``).

Crosses follow ``lob.engine.auction``: continuous-book orders take part, in
price-time priority beside the auction orders. Self-match prevention does not
apply in a cross.
"""

from __future__ import annotations

from lob.engine.auction import CrossResult, Interest, allocate, clearing_price, pair_fills
from lob.engine.book import OrderBook, RestingOrder
from lob.engine.calendar import SessionCalendar
from lob.engine.events import (
    BandsChanged,
    Cancelled,
    Crossed,
    Event,
    Executed,
    Imbalance,
    StateChanged,
    Trade,
)
from lob.engine.luld import LIMIT_STATE_NS, PAUSE_NS, LuldMonitor
from lob.engine.session import MATCHING_STATES, check_transition
from lob.engine.types import (
    CancelReason,
    CrossType,
    OrderType,
    RejectCode,
    Side,
    TimeInForce,
    TradingState,
)

__all__ = ["AuctionOrder", "TradingDayMixin"]

S = TradingState
_NEXT_IN_DAY = {
    S.CLOSED: S.PRE_OPEN,
    S.PRE_OPEN: S.OPENING_AUCTION,
    S.OPENING_AUCTION: S.CONTINUOUS,
    S.CONTINUOUS: S.CLOSING_AUCTION,
    S.CLOSING_AUCTION: S.CLOSED,
}
_INTERRUPTED = frozenset({S.HALTED, S.QUOTE_ONLY, S.PAUSED})
_OPEN_TYPES = frozenset({OrderType.MOO, OrderType.LOO})
_CLOSE_TYPES = frozenset({OrderType.MOC, OrderType.LOC})
# Imbalance information is published in the auction windows (from 09:25 and 15:50),
# and while a halted or paused symbol waits for its halt cross; not in the pre-open.
_AUCTION_WINDOWS = {
    S.OPENING_AUCTION: CrossType.OPENING,
    S.CLOSING_AUCTION: CrossType.CLOSING,
    S.QUOTE_ONLY: CrossType.HALT,
    S.PAUSED: CrossType.HALT,
}


class AuctionOrder:
    """An on-open, on-close or imbalance-only order waiting for its cross."""

    __slots__ = ("account", "book", "cross", "id", "oid", "order_type", "price", "qty", "side")

    def __init__(
        self,
        oid: int,
        account: str,
        id: str,
        book: OrderBook,
        side: Side,
        order_type: OrderType,
        price: int | None,
        qty: int,
        cross: CrossType,
    ) -> None:
        self.oid = oid
        self.account = account
        self.id = id
        self.book = book
        self.side = side
        self.order_type = order_type
        self.price = price
        self.qty = qty
        self.cross = cross


def cross_for(order_type: OrderType, state: TradingState) -> CrossType:
    """The cross an auction order of ``order_type`` entered in ``state`` waits for."""
    if order_type in _OPEN_TYPES:
        return CrossType.OPENING
    if order_type in _CLOSE_TYPES:
        return CrossType.CLOSING
    return CrossType.OPENING if state in (S.PRE_OPEN, S.OPENING_AUCTION) else CrossType.CLOSING


Party = RestingOrder | AuctionOrder
"""Whoever takes part in a cross: a book order or a waiting auction order."""


class TradingDayMixin:
    """States, crosses and LULD for ``MatchingEngine`` (see the module docstring)."""

    # Provided by MatchingEngine:
    calendar: SessionCalendar | None
    _books: dict[str, OrderBook]
    _live: dict[str, dict[str, RestingOrder]]
    _auction_live: dict[str, dict[str, AuctionOrder]]
    _seq: int
    _next_trade_id: int

    # Methods MatchingEngine overrides (declared for the type checker and for native
    # compilation, which needs every method of a class known where it is defined):

    def book(self, symbol: str) -> OrderBook:
        raise NotImplementedError

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
        raise NotImplementedError

    def _cancel_resting(
        self, order: RestingOrder, reason: CancelReason, ts: int, events: list[Event]
    ) -> None:
        raise NotImplementedError

    # -- state machine -------------------------------------------------------

    def set_state(
        self,
        symbol: str,
        state: TradingState | str,
        ts: int,
        reason: str = "manual",
    ) -> list[Event]:
        """Move ``symbol`` to ``state`` (running the cross the move calls for)."""
        book = self.book(symbol)
        target = TradingState(state)
        cross = check_transition(book.state, target)
        events: list[Event] = []
        self._change_state(book, target, cross, ts, reason, events)
        return events

    def _change_state(
        self,
        book: OrderBook,
        target: TradingState,
        cross: CrossType | None,
        ts: int,
        reason: str,
        events: list[Event],
    ) -> None:
        result = self._run_cross(book, cross, ts, events) if cross is not None else None
        previous = book.state
        book.state = target
        book.matching = target in MATCHING_STATES
        self._seq += 1
        events.append(StateChanged(self._seq, ts, book.symbol, target, previous, reason))
        if target is S.CLOSED:
            self._close_out(book, ts, events)
        elif target is S.PAUSED and book.luld is not None:
            book.luld.pause_until = ts + PAUSE_NS
        elif target is S.CONTINUOUS and book.luld is not None:
            monitor = book.luld
            monitor.limit_since = monitor.pause_until = None
            if result is not None and result.paired and result.price is not None:
                monitor.reset_reference(result.price, self._doubled(book, ts, result.price))
                self._publish_bands(book, ts, events)

    def advance(self, ts: int) -> list[Event]:
        """Let time pass up to ``ts``: scheduled transitions, LULD timers and bands."""
        events: list[Event] = []
        calendar = self.calendar
        target = calendar.scheduled_state(ts) if calendar is not None else None
        for symbol in sorted(self._books):
            book = self._books[symbol]
            if target is not None:
                self._follow_schedule(book, target, ts, events)
            if book.luld is not None:
                self._luld_check(book, ts, events)
        return events

    def _follow_schedule(
        self,
        book: OrderBook,
        target: TradingState,
        ts: int,
        events: list[Event],
    ) -> None:
        if book.state in _INTERRUPTED:
            if target is S.CLOSED:
                self._change_state(book, S.CLOSED, None, ts, "schedule", events)
            return
        for _ in range(len(_NEXT_IN_DAY)):
            if book.state is target:
                return
            step = _NEXT_IN_DAY[book.state]
            self._change_state(
                book, step, check_transition(book.state, step), ts, "schedule", events
            )

    def _close_out(self, book: OrderBook, ts: int, events: list[Event]) -> None:
        """At the close: day orders expire and waiting auction orders are cancelled."""
        for order in list(book.auction):
            self._drop_auction_order(order, CancelReason.AUCTION, ts, events)
        day = TimeInForce.DAY
        for levels in (book.bids, book.asks):
            for level in list(levels.values()):
                order = level.head
                while order is not None:
                    nxt = order.next
                    if order.tif is day:
                        self._cancel_resting(order, CancelReason.EXPIRED, ts, events)
                    order = nxt

    # -- auction orders ------------------------------------------------------

    def _add_auction_order(
        self,
        book: OrderBook,
        order: AuctionOrder,
    ) -> None:
        book.auction.append(order)
        self._auction_live.setdefault(order.account, {})[order.id] = order

    def _cancel_auction_order(self, order: AuctionOrder, ts: int) -> list[Event]:
        """A user's cancel of a waiting auction order (refused after its cut-off)."""
        calendar = self.calendar
        if calendar is not None and not calendar.cancel_open(order.cross is CrossType.OPENING, ts):
            return self.reject(
                "cancel",
                order.account,
                order.id,
                order.book.symbol,
                RejectCode.AUCTION_CLOSED,
                f"{order.order_type} orders can no longer be cancelled today",
                ts,
            )
        events: list[Event] = []
        self._drop_auction_order(order, CancelReason.USER, ts, events)
        return events

    def _drop_auction_order(
        self,
        order: AuctionOrder,
        reason: CancelReason,
        ts: int,
        events: list[Event],
    ) -> None:
        order.book.auction.remove(order)
        del self._auction_live[order.account][order.id]
        self._seq += 1
        events.append(
            Cancelled(
                self._seq,
                ts,
                order.book.symbol,
                order.account,
                order.id,
                order.oid,
                order.side,
                order.price,
                order.qty,
                reason,
                False,
                0,
                0,
            )
        )

    # -- crosses -------------------------------------------------------------

    def _interest(
        self, book: OrderBook, cross: CrossType, auction_only: bool = False
    ) -> tuple[list[Interest[Party]], list[Interest[Party]], list[AuctionOrder]]:
        """Buy and sell interest for ``cross``, plus the imbalance-only orders aside."""
        buys: list[Interest[Party]] = []
        sells: list[Interest[Party]] = []
        if not auction_only:
            for levels, out in ((book.bids, buys), (book.asks, sells)):
                for level in levels.values():
                    order = level.head
                    while order is not None:
                        out.append(Interest(level.price, order.qty, order.oid, order))
                        order = order.next
        imbalance_only = []
        for waiting in book.auction:
            if waiting.cross is not cross:
                continue
            if waiting.order_type is OrderType.IO:
                imbalance_only.append(waiting)
                continue
            interest = Interest(waiting.price, waiting.qty, waiting.oid, waiting)
            (buys if waiting.side is Side.BUY else sells).append(interest)
        return buys, sells, imbalance_only

    def _cross_reference(self, book: OrderBook) -> int | None:
        if book.last_price is not None:
            return book.last_price
        return book.reference_price

    def _uncross(
        self, book: OrderBook, cross: CrossType
    ) -> tuple[CrossResult, list[Interest[Party]], list[Interest[Party]]]:
        buys, sells, imbalance_only = self._interest(book, cross)
        reference = self._cross_reference(book)
        result = clearing_price(buys, sells, reference)
        if imbalance_only and result.imbalance:
            # Imbalance-only orders offset the imbalance: only the other side's count.
            offset = Side.SELL if result.imbalance > 0 else Side.BUY
            extra: list[Interest[Party]] = [
                Interest(o.price, o.qty, o.oid, o) for o in imbalance_only if o.side is offset
            ]
            if extra:
                (sells if offset is Side.SELL else buys).extend(extra)
                result = clearing_price(buys, sells, reference)
        return result, buys, sells

    def _run_cross(
        self, book: OrderBook, cross: CrossType, ts: int, events: list[Event]
    ) -> CrossResult:
        result, buys, sells = self._uncross(book, cross)
        price = result.price
        if result.paired and price is not None:
            pairs = pair_fills(
                allocate(buys, price, result.paired, True),
                allocate(sells, price, result.paired, False),
            )
            symbol = book.symbol
            for buyer, seller, qty in pairs:
                trade_id = self._next_trade_id
                self._next_trade_id = trade_id + 1
                self._seq += 1
                events.append(
                    Trade(
                        self._seq,
                        ts,
                        symbol,
                        trade_id,
                        price,
                        qty,
                        None,
                        buyer.account,
                        buyer.id,
                        buyer.oid,
                        seller.account,
                        seller.id,
                        seller.oid,
                        0,
                        0,
                        0,
                        0,
                    )
                )
                for order in (buyer, seller):
                    self._execute_in_cross(order, qty, price, trade_id, ts, events)
            book.last_price = price
            if book.luld is not None:
                book.luld.record_trade(ts, price)
        self._seq += 1
        events.append(
            Crossed(self._seq, ts, book.symbol, cross, price, result.paired, result.imbalance)
        )
        for waiting in [o for o in book.auction if o.cross is cross]:
            self._drop_auction_order(waiting, CancelReason.AUCTION, ts, events)
        return result

    def _execute_in_cross(
        self,
        order: RestingOrder | AuctionOrder,
        qty: int,
        cross_price: int,
        trade_id: int,
        ts: int,
        events: list[Event],
    ) -> None:
        order.qty -= qty
        self._seq += 1
        if type(order) is AuctionOrder:
            book = order.book
            if not order.qty:
                book.auction.remove(order)
                del self._auction_live[order.account][order.id]
            events.append(
                Executed(
                    self._seq,
                    ts,
                    book.symbol,
                    order.account,
                    order.id,
                    order.oid,
                    order.side,
                    order.price,
                    qty,
                    order.qty,
                    trade_id,
                    cross_price,
                    False,
                    0,
                    0,
                )
            )
            return
        assert type(order) is RestingOrder
        level = order.level
        level.qty -= qty
        if not order.qty:
            level.book.unlink(order)
            del self._live[order.account][order.id]
        events.append(
            Executed(
                self._seq,
                ts,
                level.book.symbol,
                order.account,
                order.id,
                order.oid,
                level.side,
                level.price,
                qty,
                order.qty,
                trade_id,
                cross_price,
                True,
                level.qty,
                level.count,
            )
        )

    # -- imbalance information ---------------------------------------------

    def imbalances(self, ts: int) -> list[Event]:
        """Imbalance information for every symbol waiting for a cross."""
        events: list[Event] = []
        for symbol in sorted(self._books):
            book = self._books[symbol]
            cross = _AUCTION_WINDOWS.get(book.state)
            if cross is None:
                continue
            near, _, _ = self._uncross(book, cross)
            far_buys, far_sells, _ = self._interest(book, cross, auction_only=True)
            far = clearing_price(far_buys, far_sells, self._cross_reference(book))
            reference = near.price
            bid, ask = book.best_bid, book.best_ask
            if reference is not None and bid is not None and ask is not None and bid < ask:
                reference = min(max(reference, bid), ask)
            side = None
            if near.imbalance > 0:
                side = Side.BUY
            elif near.imbalance < 0:
                side = Side.SELL
            self._seq += 1
            events.append(
                Imbalance(
                    self._seq,
                    ts,
                    symbol,
                    cross,
                    near.paired,
                    abs(near.imbalance),
                    side,
                    reference,
                    near.price if near.paired else None,
                    far.price if far.paired else None,
                )
            )
        return events

    # -- Limit Up-Limit Down -------------------------------------------------

    def enable_luld(
        self, symbol: str, tier: int = 1, reference: int | None = None, ts: int = 0
    ) -> list[Event]:
        """Switch LULD bands on for ``symbol`` around ``reference`` (or its last price)."""
        book = self.book(symbol)
        start = reference if reference is not None else self._cross_reference(book)
        if start is None:
            raise ValueError(f"{symbol} has no price to centre LULD bands on")
        book.luld = LuldMonitor(tier, start)
        book.luld.reset_reference(start, self._doubled(book, ts, start))
        events: list[Event] = []
        self._publish_bands(book, ts, events)
        return events

    def _doubled(self, book: OrderBook, ts: int, reference: int) -> bool:
        if self.calendar is None or book.luld is None:
            return False
        return self.calendar.luld_doubled(ts, book.luld.tier, reference)

    def _publish_bands(self, book: OrderBook, ts: int, events: list[Event]) -> None:
        assert book.luld is not None
        bands = book.luld.bands
        book.refresh_limits()
        self._seq += 1
        events.append(
            BandsChanged(self._seq, ts, book.symbol, bands.reference, bands.lower, bands.upper)
        )

    def _luld_after(self, book: OrderBook, events: list[Event], ts: int) -> None:
        """After a command on a LULD symbol: record its trades, then check bands and timers."""
        monitor = book.luld
        assert monitor is not None
        for event in events:
            if type(event) is Trade:
                monitor.record_trade(ts, event.price)
        self._luld_check(book, ts, events)

    def _luld_check(self, book: OrderBook, ts: int, events: list[Event]) -> None:
        monitor = book.luld
        assert monitor is not None
        if book.state is S.PAUSED:
            if monitor.pause_until is not None and ts >= monitor.pause_until:
                self._change_state(book, S.CONTINUOUS, CrossType.HALT, ts, "luld_reopen", events)
            return
        if book.state is not S.CONTINUOUS and book.state is not S.CLOSING_AUCTION:
            return
        reference = monitor.bands.reference
        if monitor.update_reference(ts, self._doubled(book, ts, reference)) is not None:
            self._publish_bands(book, ts, events)
        if monitor.in_limit_state(book.best_bid, book.best_ask):
            if monitor.limit_since is None:
                monitor.limit_since = ts
            elif ts - monitor.limit_since >= LIMIT_STATE_NS and book.state is S.CONTINUOUS:
                self._change_state(book, S.PAUSED, None, ts, "luld", events)
        else:
            monitor.limit_since = None
