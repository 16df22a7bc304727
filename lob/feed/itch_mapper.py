"""Engine events -> ITCH 5.0 messages: the order-level view of the book.

ITCH describes resting orders only; what never rests is invisible except
through the executions it causes. The mapping, for the events of one command
(docs/protocol-itch.md has the table):

==========================================  ========================================
engine events                               ITCH messages
==========================================  ========================================
``Added``                                   A (reference = ``oid``)
``Trade``                                   E on ``resting_oid`` (match = ``trade_id``)
``Cancelled`` with ``resting=True``         D (user cancel, expiry, self-match)
``Cancelled`` with ``resting=False``        nothing (IOC/FOK/market remainders)
``Replaced`` kept, smaller quantity         X of the difference
``Replaced`` lost, re-entry only rests      U (old ref -> new ref, new price/qty)
``Replaced`` lost, re-entry executes        D old ref, then the E's, then A if it rests
``Trade`` of a cross (no aggressor)         nothing (``Executed`` and ``Crossed`` say it)
``Executed`` of a displayed order           C at the cross price, not printable
``Crossed`` with shares                     Q
``StateChanged``                            H; the first opening cross of the day is
                                            preceded by S 'Q' (start of market hours)
                                            and the first close followed by S 'M'
``StateChanged`` to ``paused`` (LULD)       H, then J: the reopening collar (last bands)
``Imbalance``                               I (NOII)
``Accepted``, ``Rejected``, ``BandsChanged``  nothing (bands are remembered for J)
==========================================  ========================================

Stock locate codes number symbols 1, 2, ... in the order they are registered
or first seen; a symbol's first appearance emits its R (stock directory)
message before anything else about it. Timestamps are nanoseconds since the
session's midnight (New York time), which the caller passes in as epoch ns.
Tracking numbers are 0. The mapper is pure and keeps only the locate table and
each symbol's latest LULD bands.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lob.engine.engine import MatchingEngine
from lob.engine.events import (
    Added,
    BandsChanged,
    Cancelled,
    Crossed,
    Event,
    Executed,
    Imbalance,
    Replaced,
    StateChanged,
    Trade,
)
from lob.engine.types import CrossType, Priority, Side, TradingState
from lob.feed.itch import (
    AddOrder,
    CrossTrade,
    LuldAuctionCollar,
    Message,
    Noii,
    OrderCancel,
    OrderDelete,
    OrderExecuted,
    OrderExecutedWithPrice,
    OrderReplace,
    StockDirectory,
    StockTradingAction,
    SystemEvent,
)
from lob.feed.itch_book import BookOrder, FeedSnapshot

__all__ = ["ItchMapper", "feed_snapshot", "stock_directory"]

MAX_LOCATE = 0xFFFF
# The messages of an order's life are built with tuple.__new__, as the engine
# builds its events: a named tuple's generated __new__ is an interpreted call.
_new: Final = tuple.__new__
_SIDE: Final = {Side.BUY: "B", Side.SELL: "S"}
_LOST: Final = Priority.LOST
_CROSS: Final = {CrossType.OPENING: "O", CrossType.CLOSING: "C", CrossType.HALT: "H"}
_STATE: Final = {
    TradingState.CONTINUOUS: "T",
    TradingState.HALTED: "H",
    TradingState.PAUSED: "P",
    TradingState.CLOSED: "H",
}  # every other state (pre-open, auctions, quote only): "Q", quotation only
_REASON: Final = {"luld": "LUDP", "halt": "MWCB"}
_BEFORE_OPEN: Final = (TradingState.PRE_OPEN, TradingState.OPENING_AUCTION)

# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
# ``map`` tests an event's class against these in turn, for every event of every order.
_TRADE: Final = Trade
_ADDED: Final = Added
_CANCELLED: Final = Cancelled
_EXECUTED: Final = Executed
_CROSSED: Final = Crossed
_STATE_CHANGED: Final = StateChanged
_BANDS_CHANGED: Final = BandsChanged
_IMBALANCE: Final = Imbalance
_REPLACED: Final = Replaced
_ADD_ORDER: Final = AddOrder
_ORDER_EXECUTED: Final = OrderExecuted
_ORDER_DELETE: Final = OrderDelete
_ORDER_CANCEL: Final = OrderCancel
_ORDER_REPLACE: Final = OrderReplace


def stock_directory(locate: int, symbol: str, timestamp: int) -> StockDirectory:
    """The R message lob sends for ``symbol``: a Nasdaq Global Select test issue, round lot 100."""
    return StockDirectory(
        locate, 0, timestamp, symbol, "Q", "N", 100, "N", "C", "Z", "T", "N", "N", " ", "N", 0, "N"
    )


class ItchMapper:
    """Turns each command's events into ITCH messages, numbering symbols as it goes.

    >>> mapper = ItchMapper(midnight_ns=0)
    >>> [m.TYPE for m in mapper.register("AAPL", timestamp=1)]
    ['R', 'H']
    """

    def __init__(self, midnight_ns: int, symbols: Iterable[str] = ()) -> None:
        self.midnight_ns = midnight_ns
        self.locates: dict[str, int] = {}
        self.bands: dict[str, BandsChanged] = {}  # the latest LULD bands of each symbol
        # Whether market hours have begun (S 'Q') and not yet ended (S 'M'); None: unknown,
        # as in a stream that starts in continuous trading with no calendar.
        self.market_hours: bool | None = None
        for symbol in symbols:
            self._assign(symbol)

    def _assign(self, symbol: str) -> int:
        locate = self.locates.get(symbol)
        if locate is None:
            locate = len(self.locates) + 1
            if locate > MAX_LOCATE:
                raise ValueError(f"more than {MAX_LOCATE} symbols: no stock locate left")
            self.locates[symbol] = locate
        return locate

    def register(self, symbol: str, timestamp: int) -> list[Message]:
        """Number ``symbol`` (if new) and return its R and H (trading) messages."""
        locate = self._assign(symbol)
        return [
            stock_directory(locate, symbol, timestamp),
            StockTradingAction(locate, 0, timestamp, symbol, "T", " ", ""),
        ]

    def directory(self, timestamp: int) -> list[Message]:
        """R and H messages for every symbol known so far, in locate order."""
        out: list[Message] = []
        for symbol in self.locates:
            out.extend(self.register(symbol, timestamp))
        return out

    def map(self, events: list[Event]) -> list[Message]:
        """The ITCH messages of one command's events (the list the engine returned)."""
        out: list[Message] = []
        skip_added = -1
        n = len(events)
        for i in range(n):
            event = events[i]
            kind = type(event)
            if kind is _TRADE:
                e: Trade = event  # type: ignore[assignment]
                if e.aggressor is None:
                    continue  # a cross's fill: the book side comes as Executed, the print as Q
                out.append(
                    _new(
                        _ORDER_EXECUTED,
                        (
                            self._locate(e.symbol, e.ts, out),
                            0,
                            e.ts - self.midnight_ns,
                            e.resting_oid,
                            e.qty,
                            e.trade_id,
                        ),
                    )
                )
            elif kind is _ADDED:
                a: Added = event  # type: ignore[assignment]
                if a.oid == skip_added:
                    continue
                out.append(
                    _new(
                        _ADD_ORDER,
                        (
                            self._locate(a.symbol, a.ts, out),
                            0,
                            a.ts - self.midnight_ns,
                            a.oid,
                            _SIDE[a.side],
                            a.qty,
                            a.symbol,
                            a.price,
                        ),
                    )
                )
            elif kind is _CANCELLED:
                c: Cancelled = event  # type: ignore[assignment]
                if c.resting:
                    out.append(
                        _new(
                            _ORDER_DELETE,
                            (self._locate(c.symbol, c.ts, out), 0, c.ts - self.midnight_ns, c.oid),
                        )
                    )
            elif kind is _EXECUTED:
                x: Executed = event  # type: ignore[assignment]
                if x.in_book:  # auction-only orders were never displayed
                    out.append(
                        OrderExecutedWithPrice(
                            self._locate(x.symbol, x.ts, out),
                            0,
                            x.ts - self.midnight_ns,
                            x.oid,
                            x.qty,
                            x.trade_id,
                            "N",  # not printable: the cross prints once, as Q
                            x.cross_price,
                        )
                    )
            elif kind is _CROSSED:
                k: Crossed = event  # type: ignore[assignment]
                if k.qty and k.price is not None:
                    out.append(
                        CrossTrade(
                            self._locate(k.symbol, k.ts, out),
                            0,
                            k.ts - self.midnight_ns,
                            k.qty,
                            k.symbol,
                            k.price,
                            _cross_match(events, k.symbol),
                            _CROSS.get(k.cross_type, "I"),
                        )
                    )
            elif kind is _STATE_CHANGED:
                t: StateChanged = event  # type: ignore[assignment]
                opening = t.state is TradingState.CONTINUOUS and t.previous in _BEFORE_OPEN
                if opening and self.market_hours is not True:
                    out.append(SystemEvent(0, 0, t.ts - self.midnight_ns, "Q"))
                    self.market_hours = True
                out.append(
                    StockTradingAction(
                        self._locate(t.symbol, t.ts, out),
                        0,
                        t.ts - self.midnight_ns,
                        t.symbol,
                        _STATE.get(t.state, "Q"),
                        " ",
                        _REASON.get(t.reason, ""),
                    )
                )
                if t.state is TradingState.CLOSED and self.market_hours is True:
                    out.append(SystemEvent(0, 0, t.ts - self.midnight_ns, "M"))
                    self.market_hours = False
                bands = self.bands.get(t.symbol)
                if t.state is TradingState.PAUSED and bands is not None:
                    # The LULD reopening auction's collar: the bands the pause froze.
                    out.append(
                        LuldAuctionCollar(
                            self._locate(t.symbol, t.ts, out),
                            0,
                            t.ts - self.midnight_ns,
                            t.symbol,
                            bands.reference,
                            bands.upper,
                            bands.lower,
                            0,
                        )
                    )
            elif kind is _BANDS_CHANGED:
                v: BandsChanged = event  # type: ignore[assignment]
                self.bands[v.symbol] = v
            elif kind is _IMBALANCE:
                b: Imbalance = event  # type: ignore[assignment]
                side = b.imbalance_side
                out.append(
                    Noii(
                        self._locate(b.symbol, b.ts, out),
                        0,
                        b.ts - self.midnight_ns,
                        b.paired,
                        abs(b.imbalance),
                        _SIDE[side] if side is not None and b.imbalance else "N",
                        b.symbol,
                        b.far or 0,
                        b.near or 0,
                        b.reference or 0,
                        _CROSS.get(b.cross_type, "I"),
                        " ",  # price variation: not calculated
                    )
                )
            elif kind is _REPLACED:
                r: Replaced = event  # type: ignore[assignment]
                locate = self._locate(r.symbol, r.ts, out)
                ts = r.ts - self.midnight_ns
                if r.priority is not _LOST:
                    if r.qty < r.old_qty:
                        out.append(_new(_ORDER_CANCEL, (locate, 0, ts, r.oid, r.old_qty - r.qty)))
                    continue
                rests = _rests_without_executing(events, i + 1, r.oid)
                if rests is not None:
                    out.append(
                        _new(
                            _ORDER_REPLACE,
                            (locate, 0, ts, r.old_oid, r.oid, rests.qty, rests.price),
                        )
                    )
                    skip_added = r.oid
                else:
                    out.append(_new(_ORDER_DELETE, (locate, 0, ts, r.old_oid)))
        return out

    def _locate(self, symbol: str, ts: int, out: list[Message]) -> int:
        locate = self.locates.get(symbol)
        if locate is None:
            out.extend(self.register(symbol, ts - self.midnight_ns))
            locate = self.locates[symbol]
        return locate


def _cross_match(events: list[Event], symbol: str) -> int:
    """The match number of a cross's print: its first fill's trade id (0 without fills)."""
    for event in events:
        if type(event) is Trade and event.aggressor is None and event.symbol == symbol:
            return event.trade_id
    return 0


def _rests_without_executing(events: list[Event], start: int, oid: int) -> Added | None:
    """The re-entry's ``Added`` when it rests with no execution before it, else None."""
    for j in range(start, len(events)):
        event = events[j]
        if type(event) is Trade:
            return None
        if type(event) is Added and event.oid == oid:
            return event
    return None


def feed_snapshot(engine: MatchingEngine, mapper: ItchMapper, seq: int) -> FeedSnapshot:
    """The engine's books in the feed's terms, stamped with feed sequence ``seq``.

    Take it when every message of the commands applied so far has been given
    a sequence number, and ``seq`` is the last of them: the snapshot then
    includes exactly messages 1..``seq``. Symbols the mapper has not numbered
    yet have no orders on the feed and are left out.
    """
    symbols = sorted((locate, symbol) for symbol, locate in mapper.locates.items())
    orders: list[BookOrder] = []
    for locate, symbol in symbols:
        if symbol not in engine.symbols:
            continue
        snap = engine.order_snapshot(symbol)
        for views in (snap.bids, snap.asks):
            orders.extend(BookOrder(locate, o.oid, _SIDE[o.side], o.price, o.qty) for o in views)
    return FeedSnapshot(seq, symbols, orders)
