"""Where the workstation's data comes from, and where its orders go.

The app talks to one ``DataSource``: books, the trade tape, the user's orders
and fills (all kept in a ``MarketState`` fed by the event stream), and
``submit`` / ``cancel`` / ``replace`` for trading. Two implementations exist:

- ``lob.tui.embedded.EmbeddedSource``: a ``MatchingEngine`` in this process,
  with the market simulator feeding it and the user trading as an account of
  their own; events are applied to the model directly. This is ``lob tui``.
- ``lob.tui.remote.RemoteSource``: a ``lob serve`` reached through
  ``lob.client``. This is ``lob tui --url URL --key KEY``.

Tests hand the app an embedded source over a seeded market, so every screen
is exercised against a real engine with nothing mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

from lob.engine.book import LevelView
from lob.engine.types import OrderType, Side, TimeInForce
from lob.tui.model import MarketState, TradeRow

__all__ = [
    "BookView",
    "DataSource",
    "OrderRequest",
    "OrderResult",
    "SymbolInfo",
]


class SymbolInfo(NamedTuple):
    symbol: str
    name: str
    reference_price: int


class BookView(NamedTuple):
    """L2 levels of one symbol, best first, after event ``seq``."""

    symbol: str
    seq: int
    bids: list[LevelView]
    asks: list[LevelView]


class OrderRequest(NamedTuple):
    """A new order as the ticket or the command line builds it."""

    symbol: str
    side: Side
    qty: int
    price: int | None = None
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.DAY
    post_only: bool = False


class OrderResult(NamedTuple):
    """The exchange's answer: accepted (``ok``) or an error with a stable ``code``."""

    ok: bool
    id: str | None = None
    code: str | None = None
    message: str = ""

    @classmethod
    def error(cls, code: str, message: str, id: str | None = None) -> OrderResult:
        return cls(False, id, code, message)


class DataSource(Protocol):
    """What the workstation needs from an exchange."""

    mode: str
    """``"embedded"`` or ``"remote"``."""
    description: str
    """One line for the header, e.g. ``embedded exchange, simulated market``."""
    account: str
    state: MarketState

    def symbols(self) -> list[SymbolInfo]: ...

    def book(self, symbol: str, depth: int = 20) -> BookView: ...

    def quote(self, symbol: str) -> tuple[LevelView | None, LevelView | None]:
        """The best bid and offer as the exchange publishes them (None: no such side)."""
        ...

    def now(self) -> int:
        """The source's clock, integer nanoseconds (frozen in tests)."""
        ...

    def next_change(self) -> tuple[str, int] | None:
        """The trading day's next scheduled change (name, ns), when the source knows it."""
        ...

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after the state changed (from the app's event loop)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, request: OrderRequest) -> OrderResult: ...

    async def cancel(self, id: str) -> OrderResult: ...

    async def replace(self, id: str, price: int | None, qty: int | None) -> OrderResult: ...

    async def trade_history(
        self, symbol: str | None = None, limit: int = 500
    ) -> tuple[list[TradeRow], str]:
        """Recent trades (newest first) and a label saying where they came from."""
        ...
