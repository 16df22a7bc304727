"""An exchange in this process: the data source ``lob tui`` runs on by default.

``EmbeddedSource`` owns a ``MatchingEngine`` with one book per security. The
user trades as an account of their own (``me``); a market driver (the realtime
simulator) submits everyone else's orders through ``execute``. Every command's
events are folded into the ``MarketState`` at once, on the app's event loop,
so the engine is only ever touched from one thread, in order, as the design
asks of a sequencer.

The clock is injected: the app passes wall time, tests pass a frozen clock so
that screens render the same bytes on every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from lob.engine.book import LevelView
from lob.engine.commands import Command
from lob.engine.engine import MatchingEngine
from lob.engine.events import Event, Rejected
from lob.engine.types import OrderType
from lob.tui.model import Bands, MarketState, TradeRow
from lob.tui.source import BookView, OrderRequest, OrderResult, SymbolInfo

if TYPE_CHECKING:
    from lob.tui.day import EmbeddedDay

__all__ = ["EmbeddedSource", "MarketDriver"]

HISTORY_LABEL = "in-memory trades of this session (embedded exchange; no history store)"


class MarketDriver(Protocol):
    """Something that trades on the embedded exchange besides the user."""

    async def run(self, source: EmbeddedSource) -> None: ...


class EmbeddedSource:
    """A ``DataSource`` over an in-process engine (see ``lob.tui.source``)."""

    mode = "embedded"

    def __init__(
        self,
        securities: Iterable[SymbolInfo],
        *,
        account: str = "me",
        engine: MatchingEngine | None = None,
        clock: Callable[[], int] = time.time_ns,
        driver: MarketDriver | None = None,
        description: str = "embedded exchange",
        bar_seconds: int = 5,
    ) -> None:
        self.account = account
        self.engine = engine or MatchingEngine(auto_create_symbols=False)
        self.clock = clock
        self.driver = driver
        self.description = description
        self.state = MarketState(account, bar_seconds=bar_seconds)
        self._symbols = list(securities)
        for info in self._symbols:
            if info.symbol not in self.engine.symbols:
                self.engine.add_symbol(info.symbol, info.reference_price)
            sym = self.state.add_symbol(info.symbol, info.name, info.reference_price)
            book = self.engine.book(info.symbol)
            sym.trading_state = book.state
            if book.luld is not None:
                b = book.luld.bands
                sym.bands = Bands(b.reference, b.lower, b.upper)
        self.day: EmbeddedDay | None = None
        """The trading day (``lob tui --day-length``); None: trading never stops."""
        self._listeners: list[Callable[[], None]] = []
        self.observers: list[Callable[[list[Event]], None]] = []
        """Told of the events of the user's own commands (e.g. the simulator's agents)."""
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None

    # -- reading -------------------------------------------------------------

    def symbols(self) -> list[SymbolInfo]:
        return list(self._symbols)

    def book(self, symbol: str, depth: int = 20) -> BookView:
        snap = self.engine.l2_snapshot(symbol, depth)
        return BookView(symbol, snap.seq, snap.bids, snap.asks)

    def quote(self, symbol: str) -> tuple[LevelView | None, LevelView | None]:
        """The published best bid and offer: odd-lot levels are left out (``OrderBook.quote``)."""
        return self.engine.book(symbol).quote()

    def now(self) -> int:
        return self.clock()

    def next_change(self) -> tuple[str, int] | None:
        """The trading day's next scheduled change (``--day-length``), or None."""
        return None if self.day is None else self.day.next_change(self.clock())

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    # -- the event path ------------------------------------------------------

    def apply(self, events: list[Event]) -> list[Event]:
        """Fold events into the model and tell the listeners."""
        if events:
            self.state.apply_all(events, self.clock())
            for listener in self._listeners:
                listener()
        return events

    def execute(self, command: Command) -> list[Event]:
        """Run one command through the engine now; the market driver's entry point."""
        return self.apply(self.engine.submit(command, self.clock()))

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        if self.day is not None:
            self.day.start()
        if self.driver is not None and self._task is None:
            self._task = asyncio.create_task(self.driver.run(self))

    async def stop(self) -> None:
        if self.day is not None:
            await self.day.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- trading -------------------------------------------------------------

    def next_id(self) -> str:
        return f"T{next(self._ids)}"

    async def submit(self, request: OrderRequest) -> OrderResult:
        id = self.next_id()
        price = None if request.order_type is OrderType.MARKET else request.price
        events = self.engine.new_order(
            self.account,
            id,
            request.symbol,
            request.side,
            request.qty,
            price,
            self.clock(),
            request.order_type,
            request.tif,
            request.post_only,
        )
        return self._result(id, self._own(events))

    async def cancel(self, id: str) -> OrderResult:
        return self._result(id, self._own(self.engine.cancel(self.account, id, self.clock())))

    async def replace(self, id: str, price: int | None, qty: int | None) -> OrderResult:
        events = self.engine.replace(self.account, id, self.clock(), price, qty)
        return self._result(id, self._own(events))

    def _own(self, events: list[Event]) -> list[Event]:
        for observer in self.observers:
            observer(events)
        return self.apply(events)

    @staticmethod
    def _result(id: str, events: list[Event]) -> OrderResult:
        first = events[0] if events else None
        if isinstance(first, Rejected):
            return OrderResult.error(str(first.code), first.message, id)
        return OrderResult(True, id)

    async def trade_history(
        self, symbol: str | None = None, limit: int = 500
    ) -> tuple[list[TradeRow], str]:
        rows: list[TradeRow] = []
        for row in reversed(self.state.tape):
            if symbol is None or row.symbol == symbol:
                rows.append(row)
                if len(rows) >= limit:
                    break
        return rows, HISTORY_LABEL
