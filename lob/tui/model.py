"""The workstation's picture of the market, derived from the engine's event stream.

Every widget reads this model; nothing reads the engine's internals except the
book snapshots a data source hands out. ``MarketState.apply`` takes every event
(accepted, rejected, trade, added, cancelled, replaced), so the model keeps up
with each update however fast the market moves; widgets redraw from it on their
own timers, at most ~20 times a second, looking at ``version`` to skip a redraw
when nothing changed. The model is plain Python: no Textual, no I/O, no clock
(times come from the events and from the caller), so it is tested on its own.

Prices are ``int`` in 1/10,000 dollar, as everywhere inside lob.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from lob.engine.events import (
    Accepted,
    Added,
    BandsChanged,
    Cancelled,
    Crossed,
    Event,
    Imbalance,
    Rejected,
    Replaced,
    StateChanged,
    Trade,
)
from lob.engine.types import CrossType, Side, TradingState

__all__ = [
    "AUCTION_STATES",
    "Bands",
    "Bar",
    "CrossInfo",
    "FeedStats",
    "Fill",
    "ImbalanceInfo",
    "MarketState",
    "MyOrder",
    "Position",
    "SymbolState",
    "TradeRow",
]

NS = 1_000_000_000

AUCTION_STATES = frozenset(
    {
        TradingState.PRE_OPEN,
        TradingState.OPENING_AUCTION,
        TradingState.CLOSING_AUCTION,
        TradingState.HALTED,
        TradingState.QUOTE_ONLY,
        TradingState.PAUSED,
    }
)
"""States in which a cross is ahead, so imbalance information may be published."""


class Bands(NamedTuple):
    """LULD price bands around ``reference`` (all in price units)."""

    reference: int
    lower: int
    upper: int


class CrossInfo(NamedTuple):
    """The last cross of a symbol: which, at what price, how many shares paired."""

    ts: int
    cross_type: CrossType
    price: int | None
    qty: int
    imbalance: int


class ImbalanceInfo(NamedTuple):
    """The latest auction information of a symbol (see ``lob.engine.events.Imbalance``)."""

    ts: int
    cross_type: CrossType
    paired: int
    imbalance: int
    imbalance_side: Side | None
    reference: int | None
    near: int | None
    far: int | None


class TradeRow(NamedTuple):
    """One print of the tape, as the workstation shows it."""

    ts: int
    seq: int
    symbol: str
    trade_id: int
    price: int
    qty: int
    aggressor: Side | None
    """None for a cross print: nobody crossed the spread."""
    buy_account: str
    sell_account: str


@dataclass(slots=True)
class Bar:
    """Open, high, low, close and volume of one interval starting at ``start`` (ns)."""

    start: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    notional: int = 0

    @property
    def vwap(self) -> int:
        return self.notional // self.volume if self.volume else self.close


@dataclass(slots=True)
class SymbolState:
    """Session statistics of one symbol, updated trade by trade."""

    symbol: str
    name: str = ""
    reference: int = 0
    """Reference (previous close) price: the base of the change figure."""
    last: int | None = None
    last_aggressor: Side | None = None
    trading_state: TradingState = TradingState.CONTINUOUS
    bands: Bands | None = None
    """LULD bands, None when LULD is off for the symbol."""
    last_cross: CrossInfo | None = None
    imbalance: ImbalanceInfo | None = None
    """The latest imbalance information; cleared when no cross is ahead any more."""
    open: int | None = None
    high: int | None = None
    low: int | None = None
    volume: int = 0
    notional: int = 0
    trades: int = 0
    bars: list[Bar] = field(default_factory=list)
    volume_at_price: dict[int, int] = field(default_factory=dict)
    tape: deque[TradeRow] = field(default_factory=lambda: deque(maxlen=500))

    @property
    def vwap(self) -> int | None:
        """Volume-weighted average price of the session, or None before the first trade."""
        return self.notional // self.volume if self.volume else None

    @property
    def change(self) -> int:
        """Last minus reference, in price units (0 before the first trade)."""
        return (self.last - self.reference) if self.last is not None and self.reference else 0

    @property
    def change_pct(self) -> float:
        return 100.0 * self.change / self.reference if self.reference else 0.0

    def new_day(self) -> None:
        """Start the statistics of a new trading day (a move from closed to pre-open).

        Yesterday's last price becomes the reference of today's change; open,
        high, low, volume, VWAP and trades start again. Bars and the tape are
        kept, so the chart and time and sales run on across the night.
        """
        if self.last is not None:
            self.reference = self.last
        self.open = self.high = self.low = None
        self.volume = self.notional = self.trades = 0
        self.volume_at_price = {}

    def closes(self, count: int) -> list[int]:
        """``count`` closes spread evenly over the session so far (the intraday sparkline).

        With fewer bars than ``count`` every bar's close is given.
        """
        bars = self.bars
        n = len(bars)
        if n <= count:
            return [bar.close for bar in bars]
        return [bars[(i + 1) * n // count - 1].close for i in range(count)]


@dataclass(slots=True)
class MyOrder:
    """One of the user's orders, as its events describe it."""

    id: str
    oid: int
    symbol: str
    side: Side
    price: int | None
    qty: int
    """Open (unfilled, not cancelled) quantity."""
    filled: int = 0
    tif: str = "day"
    order_type: str = "limit"
    status: str = "new"
    """new, working, filled, cancelled."""
    ts: int = 0


class Fill(NamedTuple):
    """One execution of the user's order."""

    ts: int
    seq: int
    symbol: str
    id: str
    side: Side
    price: int
    qty: int
    liquidity: str
    """"taker" when the user's order was the aggressor, "maker" when it rested, "cross"
    when it executed in an opening, closing or halt cross."""


@dataclass(slots=True)
class Position:
    """Net shares and P&L of one symbol, average-cost method."""

    symbol: str
    qty: int = 0
    cost: int = 0
    """Price units times shares paid for the open position (negative when short)."""
    realized: int = 0
    """Realised P&L in price units times shares (divide by PRICE_SCALE for dollars)."""
    bought: int = 0
    sold: int = 0

    def apply(self, side: Side, price: int, qty: int) -> None:
        signed = qty if side is Side.BUY else -qty
        if side is Side.BUY:
            self.bought += qty
        else:
            self.sold += qty
        if self.qty == 0 or (self.qty > 0) == (signed > 0):
            self.qty += signed
            self.cost += signed * price
            return
        closing = min(abs(signed), abs(self.qty))
        avg = self.cost / self.qty
        direction = 1 if self.qty > 0 else -1
        self.realized += round(closing * (price - avg) * direction)
        remaining = self.qty + signed
        if remaining == 0 or (remaining > 0) == (self.qty > 0):
            self.cost = round(avg * remaining)
        else:
            self.cost = remaining * price
        self.qty = remaining

    @property
    def avg_price(self) -> int | None:
        return round(self.cost / self.qty) if self.qty else None

    def unrealized(self, mark: int | None) -> int:
        if not self.qty or mark is None:
            return 0
        return self.qty * mark - self.cost


@dataclass(slots=True)
class FeedStats:
    """Health of the event stream the workstation is fed from.

    ``messages_per_second`` is measured over the last complete second of the
    caller's clock (``now`` in ns); latency is the time from an event's ``ts``
    to its arrival, as the source measures it.
    """

    last_seq: int = 0
    messages: int = 0
    gaps: int = 0
    missed: int = 0
    recoveries: int = 0
    messages_per_second: float = 0.0
    latency_ns: int = 0
    max_latency_ns: int = 0
    _window_start: int = 0
    _window_count: int = 0

    def record(self, seq: int, now: int, latency_ns: int = 0) -> None:
        if self.last_seq and seq > self.last_seq + 1:
            self.gaps += 1
            self.missed += seq - self.last_seq - 1
        self.last_seq = max(self.last_seq, seq)
        self.messages += 1
        self.latency_ns = latency_ns
        self.max_latency_ns = max(self.max_latency_ns, latency_ns)
        self.tick(now)
        self._window_count += 1

    def tick(self, now: int) -> None:
        """Close the rate window when a second has passed."""
        if not self._window_start:
            self._window_start = now
        elapsed = now - self._window_start
        if elapsed >= NS:
            self.messages_per_second = self._window_count * NS / elapsed
            self._window_start = now
            self._window_count = 0


_SESSION_EVENTS = frozenset({StateChanged, Crossed, Imbalance, BandsChanged})


class MarketState:
    """Everything the workstation shows, kept current by ``apply``.

    ``account`` is the user's own account: its orders, fills and positions are
    tracked apart from the rest of the market.
    """

    def __init__(self, account: str, bar_seconds: int = 5, tape_size: int = 50_000) -> None:
        self.account = account
        self.bar_ns = bar_seconds * NS
        self.symbols: dict[str, SymbolState] = {}
        self.tape: deque[TradeRow] = deque(maxlen=tape_size)
        self.orders: dict[str, MyOrder] = {}
        self.fills: list[Fill] = []
        self.positions: dict[str, Position] = {}
        self.feed = FeedStats()
        self.rejects: list[Rejected] = []
        self.version = 0
        self.session_start: int | None = None

    def add_symbol(self, symbol: str, name: str = "", reference: int = 0) -> SymbolState:
        state = self.symbols.get(symbol)
        if state is None:
            state = self.symbols[symbol] = SymbolState(symbol, name, reference)
        return state

    def apply_all(self, events: Iterable[Event], now: int, latency_ns: int = 0) -> None:
        for event in events:
            self.apply(event, now, latency_ns)

    def apply(self, event: Event, now: int = 0, latency_ns: int = 0) -> None:
        """Fold one event into the model."""
        self.version += 1
        self.feed.record(event.seq, now or event.ts, latency_ns)
        if self.session_start is None:
            self.session_start = event.ts
        kind = type(event)
        if kind is Trade:
            self._trade(event)  # type: ignore[arg-type]
            return
        if kind in _SESSION_EVENTS:
            self.session_event(event)
            return
        if getattr(event, "account", None) == self.account:
            self.private_event(event)

    def session_event(self, event: Event) -> None:
        """A trading-day event: state change, cross, imbalance or new LULD bands."""
        self.version += 1
        symbol: str = event.symbol  # type: ignore[assignment]
        s = self.symbols.get(symbol) or self.add_symbol(symbol)
        kind = type(event)
        if kind is StateChanged:
            if event.previous is TradingState.CLOSED and event.state is TradingState.PRE_OPEN:  # type: ignore[union-attr]
                s.new_day()
            s.trading_state = event.state  # type: ignore[union-attr]
            if s.trading_state not in AUCTION_STATES:
                s.imbalance = None
        elif kind is Crossed:
            c: Crossed = event  # type: ignore[assignment]
            s.last_cross = CrossInfo(c.ts, c.cross_type, c.price, c.qty, c.imbalance)
            s.imbalance = None
        elif kind is Imbalance:
            i: Imbalance = event  # type: ignore[assignment]
            s.imbalance = ImbalanceInfo(i.ts, *i[3:])  # the event's fields after the symbol
        elif kind is BandsChanged:
            b: BandsChanged = event  # type: ignore[assignment]
            s.bands = Bands(b.reference, b.lower, b.upper)

    def private_event(self, event: Event) -> None:
        """One of the user's own order events (not a trade: see ``private_fill``)."""
        self.version += 1
        kind = type(event)
        if kind is Accepted:
            e: Accepted = event  # type: ignore[assignment]
            self.orders[e.id] = MyOrder(
                e.id, e.oid, e.symbol, e.side, e.price, e.qty, 0, e.tif, e.order_type, "new", e.ts
            )
        elif kind is Added:
            order = self.orders.get(event.id)  # type: ignore[union-attr]
            if order is not None:
                order.status = "working"
        elif kind is Cancelled:
            order = self.orders.get(event.id)  # type: ignore[union-attr]
            if order is not None:
                order.qty = 0
                order.status = "cancelled" if not order.filled else "done"
        elif kind is Replaced:
            r: Replaced = event  # type: ignore[assignment]
            order = self.orders.get(r.id)
            if order is not None:
                order.oid, order.price, order.qty = r.oid, r.price, r.qty
        elif kind is Rejected:
            self.rejects.append(event)  # type: ignore[arg-type]

    def _trade(self, t: Trade) -> None:
        self.public_trade(
            TradeRow(
                t.ts,
                t.seq,
                t.symbol,
                t.trade_id,
                t.price,
                t.qty,
                t.aggressor,
                t.buy_account,
                t.sell_account,
            )
        )
        for account, id, side in (
            (t.buy_account, t.buy_id, Side.BUY),
            (t.sell_account, t.sell_id, Side.SELL),
        ):
            if account == self.account:
                if t.aggressor is None:
                    liquidity = "cross"
                else:
                    liquidity = "taker" if t.aggressor is side else "maker"
                self.private_fill(Fill(t.ts, t.seq, t.symbol, id, side, t.price, t.qty, liquidity))

    def public_trade(self, row: TradeRow) -> None:
        """A print of the market: tape, last, volume, VWAP, bars, volume at price."""
        self.version += 1
        self.tape.append(row)
        s = self.symbols.get(row.symbol) or self.add_symbol(row.symbol)
        s.tape.append(row)
        price, qty = row.price, row.qty
        if s.open is None:
            s.open = s.high = s.low = price
        else:
            s.high = max(s.high or price, price)
            s.low = min(s.low or price, price)
        s.last, s.last_aggressor = price, row.aggressor
        s.volume += qty
        s.notional += price * qty
        s.trades += 1
        s.volume_at_price[price] = s.volume_at_price.get(price, 0) + qty
        start = row.ts - row.ts % self.bar_ns
        bar = s.bars[-1] if s.bars else None
        if bar is None or start > bar.start:
            bar = Bar(start, price, price, price, price)
            s.bars.append(bar)
        else:
            bar.high = max(bar.high, price)
            bar.low = min(bar.low, price)
            bar.close = price
        bar.volume += qty
        bar.notional += price * qty

    def private_fill(self, fill: Fill) -> None:
        """An execution of the user's order: fills, position, the order's open quantity."""
        self.version += 1
        self.fills.append(fill)
        position = self.positions.get(fill.symbol)
        if position is None:
            position = self.positions[fill.symbol] = Position(fill.symbol)
        position.apply(fill.side, fill.price, fill.qty)
        order = self.orders.get(fill.id)
        if order is not None:
            order.filled += fill.qty
            order.qty = max(0, order.qty - fill.qty)
            if order.qty == 0:
                order.status = "filled"

    # -- views ---------------------------------------------------------------

    def open_orders(self, symbol: str | None = None) -> list[MyOrder]:
        """The user's working orders, oldest first."""
        return [
            o
            for o in self.orders.values()
            if o.status in ("new", "working")
            and o.qty > 0
            and (symbol is None or o.symbol == symbol)
        ]

    def my_qty_at(self, symbol: str) -> dict[tuple[Side, int], int]:
        """Open quantity of the user's orders by (side, price), for the ladder."""
        out: dict[tuple[Side, int], int] = {}
        for o in self.open_orders(symbol):
            if o.price is not None:
                key = (o.side, o.price)
                out[key] = out.get(key, 0) + o.qty
        return out

    def pnl(self, symbol: str) -> tuple[int, int]:
        """(realised, unrealised) P&L of ``symbol`` in price units times shares."""
        position = self.positions.get(symbol)
        if position is None:
            return 0, 0
        return position.realized, position.unrealized(self.symbols[symbol].last)
