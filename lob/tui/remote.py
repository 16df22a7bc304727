"""The workstation on a ``lob serve``: ``lob tui --url URL --key KEY``.

``RemoteSource`` is a ``DataSource`` over ``lob.client``: one WebSocket
(``WsClient``) carries orders, the account's executions and a full-depth book
subscription per symbol; REST (``RestClient``) gives the symbol list and one
stock's trade history. The client keeps each book with
``lob.feed.l2_builder.L2BookBuilder`` and resubscribes on a gap, so the ladder
never shows a book that is wrong; the number of those recoveries is the feed
screen's ``recoveries``.

Market data and executions are two streams: prints from the book channel
feed the tape and the statistics (``MarketState.public_trade``); the account's
private events feed its orders, fills and positions (``private_event`` /
``private_fill``), so the user's own trades are counted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from lob.client.rest import LobApiError, RestClient
from lob.client.ws import WsClient
from lob.engine.book import LevelView
from lob.engine.events import Accepted, Added, Cancelled, Event, Replaced
from lob.engine.prices import format_price, parse_price
from lob.engine.types import CrossType, OrderType, Side, TradingState
from lob.feed.deltas import TradeDelta
from lob.tui.model import (
    AUCTION_STATES,
    Bands,
    CrossInfo,
    Fill,
    ImbalanceInfo,
    MarketState,
    TradeRow,
)
from lob.tui.source import BookView, OrderRequest, OrderResult, SymbolInfo

__all__ = ["RemoteSource", "event_from_dict", "session_message"]

_EVENTS: dict[str, Any] = {
    "accepted": Accepted,
    "added": Added,
    "cancelled": Cancelled,
    "replaced": Replaced,
}
_PRICES = frozenset({"price", "old_price"})


def event_from_dict(obj: dict[str, Any]) -> Event | None:
    """An order event of the executions channel as the engine's named tuple (None if unknown)."""
    cls = _EVENTS.get(obj.get("type", ""))
    if cls is None:
        return None
    values = []
    for name in cls._fields:
        value = obj.get(name)
        if name in _PRICES and value is not None:
            value = parse_price(value)
        elif name == "side" and value is not None:
            value = Side(value)
        values.append(value)
    return cls(*values)  # type: ignore[no-any-return]


def _price(value: Any) -> int | None:
    return None if value is None else parse_price(value)


def session_message(state: MarketState, obj: dict[str, Any]) -> None:
    """Fold one message of the ``state`` or ``imbalance`` channel into the model."""
    kind = obj.get("type")
    sym = state.symbols.get(obj.get("symbol", ""))
    if sym is None:
        return
    state.version += 1
    if kind == "trading_state":
        sym.trading_state = TradingState(obj["state"])
        bands = obj.get("bands")
        sym.bands = (
            None
            if bands is None
            else Bands(
                parse_price(bands["reference"]),
                parse_price(bands["lower"]),
                parse_price(bands["upper"]),
            )
        )
        cross = obj.get("last_cross")
        if cross is not None:
            sym.last_cross = _cross(cross)
        if sym.trading_state not in AUCTION_STATES:
            sym.imbalance = None
    elif kind == "state":
        if obj.get("previous") == "closed" and obj["state"] == "pre_open":
            sym.new_day()
        sym.trading_state = TradingState(obj["state"])
        if sym.trading_state not in AUCTION_STATES:
            sym.imbalance = None
    elif kind == "crossed":
        sym.last_cross = _cross(obj)
        sym.imbalance = None
    elif kind == "bands":
        sym.bands = Bands(
            parse_price(obj["reference"]), parse_price(obj["lower"]), parse_price(obj["upper"])
        )
    elif kind == "imbalance":
        side = obj.get("imbalance_side")
        sym.imbalance = ImbalanceInfo(
            obj.get("ts", 0),
            CrossType(obj["cross_type"]),
            obj["paired"],
            obj["imbalance"],
            None if side is None else Side(side),
            _price(obj.get("reference")),
            _price(obj.get("near")),
            _price(obj.get("far")),
        )


def _cross(obj: dict[str, Any]) -> CrossInfo:
    return CrossInfo(
        obj.get("ts", 0),
        CrossType(obj["cross_type"]),
        _price(obj.get("price")),
        obj["qty"],
        obj.get("imbalance", 0),
    )


class RemoteSource:
    """A ``DataSource`` over a running ``lob serve`` (see the module docstring)."""

    mode = "remote"

    def __init__(self, url: str, key: str | None, *, clock: Callable[[], int] = time.time_ns):
        self.url = url
        self.key = key
        self.clock = clock
        self.ws = WsClient(url, key)
        self.rest = RestClient(url, key)
        self.account = "?"
        self.description = f"lob serve {url}"
        self.state = MarketState(self.account)
        self._symbols: list[SymbolInfo] = []
        self._listeners: list[Callable[[], None]] = []
        self._reader: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        await self.connect()

    async def connect(self) -> None:
        """Connect, authenticate, load the symbols and subscribe to everything shown."""
        listing = await self.rest.symbols()
        self._symbols = [
            SymbolInfo(
                s["symbol"],
                s.get("name") or s["symbol"],
                parse_price(s["reference_price"]) if s.get("reference_price") else 0,
            )
            for s in listing
        ]
        await self.ws.connect()
        self.account = self.ws.account or "?"
        self.state = MarketState(self.account)
        self.description = f"lob serve {self.url}"
        for info in self._symbols:
            self.state.add_symbol(info.symbol, info.name, info.reference_price)
        if self.key is not None:
            await self.ws.subscribe_executions()
        for info in self._symbols:
            await self.ws.subscribe_book(info.symbol)
            try:
                await self.ws.subscribe_state(info.symbol)
                await self.ws.subscribe_imbalance(info.symbol)
            except LobApiError:  # a server without the trading day: states stay unknown
                pass
        self._reader = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self.ws.close()
        await self.rest.close()

    # -- reading -------------------------------------------------------------

    def symbols(self) -> list[SymbolInfo]:
        return list(self._symbols)

    def book(self, symbol: str, depth: int = 20) -> BookView:
        builder = self.ws.books.get(symbol)
        if builder is None or builder.seq is None:
            return BookView(symbol, 0, [], [])
        return BookView(symbol, builder.seq, builder.bids(depth), builder.asks(depth))

    def quote(self, symbol: str) -> tuple[LevelView | None, LevelView | None]:
        """The best levels of the book channel (the server's depth, odd lots included)."""
        book = self.book(symbol, 1)
        return (book.bids[0] if book.bids else None), (book.asks[0] if book.asks else None)

    def now(self) -> int:
        return self.clock()

    def next_change(self) -> tuple[str, int] | None:
        """Not known: the server does not publish its calendar."""
        return None

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    async def _read(self) -> None:
        updates = self.ws.updates
        state = self.state
        feed = state.feed
        while True:
            kind, _symbol, payload = await updates.get()
            now = self.clock()
            if kind == "trades":
                for t in payload:
                    self._print(t, now)
            elif kind == "executions":
                for obj in payload:
                    self._execution(obj)
            elif kind == "book":
                feed.messages += 1
                state.version += 1
            elif kind in ("state", "imbalance"):
                session_message(state, payload)
            elif kind == "disconnected":
                feed.gaps += 1
            feed.recoveries = self.ws.resyncs
            feed.tick(now)
            for listener in self._listeners:
                listener()

    def _print(self, t: TradeDelta, now: int) -> None:
        feed = self.state.feed
        feed.messages += 1
        feed.last_seq = max(feed.last_seq, t.engine_seq)
        feed.latency_ns = max(0, now - t.ts)
        feed.max_latency_ns = max(feed.max_latency_ns, feed.latency_ns)
        self.state.public_trade(
            TradeRow(t.ts, t.engine_seq, t.symbol, t.trade_id, t.price, t.qty, t.aggressor, "", "")
        )

    def _execution(self, obj: dict[str, Any]) -> None:
        if obj.get("type") == "fill":
            self.state.private_fill(
                Fill(
                    obj["ts"],
                    obj["seq"],
                    obj["symbol"],
                    obj["id"],
                    Side(obj["side"]),
                    parse_price(obj["price"]),
                    obj["qty"],
                    obj.get("liquidity", ""),
                )
            )
            return
        event = event_from_dict(obj)
        if event is not None:
            self.state.private_event(event)

    # -- trading -------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> OrderResult:
        market = request.order_type is OrderType.MARKET
        try:
            ack = await self.ws.place(
                request.symbol,
                str(request.side),
                request.qty,
                None if market or request.price is None else format_price(request.price),
                type=str(request.order_type),
                tif=str(request.tif),
                post_only=request.post_only or None,
            )
        except LobApiError as exc:
            return OrderResult.error(exc.code, exc.message)
        order = ack.get("order", {})
        return OrderResult(True, order.get("id"))

    async def cancel(self, id: str) -> OrderResult:
        try:
            await self.ws.cancel(id)
        except LobApiError as exc:
            return OrderResult.error(exc.code, exc.message, id)
        return OrderResult(True, id)

    async def replace(self, id: str, price: int | None, qty: int | None) -> OrderResult:
        try:
            await self.ws.replace(id, None if price is None else format_price(price), qty)
        except LobApiError as exc:
            return OrderResult.error(exc.code, exc.message, id)
        return OrderResult(True, id)

    async def trade_history(
        self, symbol: str | None = None, limit: int = 500
    ) -> tuple[list[TradeRow], str]:
        if symbol is None:
            rows = list(reversed(self.state.tape))[:limit]
            return rows, "trades received this session (all stocks; pick one for the server's)"
        try:
            answer = await self.rest.trades(symbol, limit)
        except LobApiError as exc:
            return [], f"the server refused: {exc.code}: {exc.message}"
        rows = [
            TradeRow(
                t["ts"],
                t.get("seq", 0),
                symbol,
                t.get("trade_id", 0),
                parse_price(t["price"]),
                t["qty"],
                Side(t["aggressor"]) if t.get("aggressor") in ("buy", "sell") else t["aggressor"],
                "",
                "",
            )
            for t in answer
        ]
        return rows, f"the server's recent trades of {symbol} (GET /trades/{symbol}, {self.url})"
