"""``ExchangeClient``: one object for a front end — orders over WebSocket, queries over REST.

Why both: order entry and market data want the WebSocket (one round trip,
acks in order, books pushed as they change); open orders, fills, recent trades
and symbols are simple questions REST answers. The TUI, the CLI's scripting
commands and the simulator's remote mode use this facade; each half is
usable alone (``RestClient``, ``WsClient``).
"""

from __future__ import annotations

from typing import Any

from lob.client.rest import RestClient
from lob.client.ws import WsClient

__all__ = ["ExchangeClient"]


class ExchangeClient:
    """``async with ExchangeClient(url, key) as ex: await ex.place(...)``."""

    def __init__(
        self,
        url: str,
        key: str | None = None,
        *,
        encoding: str = "msgpack",
        auto_reconnect: bool = True,
        timeout: float = 10.0,
    ) -> None:
        self.rest = RestClient(url, key, timeout)
        self.ws = WsClient(
            url, key, encoding=encoding, timeout=timeout, auto_reconnect=auto_reconnect
        )

    async def __aenter__(self) -> ExchangeClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        await self.ws.connect()

    async def close(self) -> None:
        await self.ws.close()
        await self.rest.close()

    # -- orders (WebSocket) --------------------------------------------------

    async def place(
        self, symbol: str, side: str, qty: int, price: Any = None, **fields: Any
    ) -> dict[str, Any]:
        return await self.ws.place(symbol, side, qty, price, **fields)

    async def cancel(self, id: str) -> dict[str, Any]:
        return await self.ws.cancel(id)

    async def replace(self, id: str, price: Any = None, qty: int | None = None) -> dict[str, Any]:
        return await self.ws.replace(id, price, qty)

    # -- questions (REST) ----------------------------------------------------

    async def order(self, id: str) -> dict[str, Any]:
        return await self.rest.order(id)

    async def orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        return await self.rest.orders(symbol)

    async def fills(self, limit: int | None = None) -> list[dict[str, Any]]:
        return await self.rest.fills(limit)

    async def book(self, symbol: str, depth: int | None = None) -> dict[str, Any]:
        return await self.rest.book(symbol, depth)

    async def trades(self, symbol: str, limit: int | None = None) -> list[dict[str, Any]]:
        return await self.rest.trades(symbol, limit)

    async def symbols(self) -> list[dict[str, Any]]:
        return await self.rest.symbols()

    # -- streams (WebSocket) -------------------------------------------------

    async def subscribe_book(self, symbol: str, depth: int | None = None) -> dict[str, Any]:
        return await self.ws.subscribe_book(symbol, depth)

    async def subscribe_trades(self, symbol: str) -> dict[str, Any]:
        return await self.ws.subscribe_trades(symbol)

    async def subscribe_top(self, symbol: str) -> dict[str, Any]:
        return await self.ws.subscribe_top(symbol)

    async def subscribe_executions(self) -> dict[str, Any]:
        return await self.ws.subscribe_executions()

    @property
    def books(self) -> dict[str, Any]:
        """Full-depth books kept current (``L2BookBuilder`` per symbol)."""
        return self.ws.books

    @property
    def updates(self) -> Any:
        """The queue of ``(kind, symbol, payload)`` updates (see ``lob.client.ws``)."""
        return self.ws.updates
