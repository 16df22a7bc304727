"""``RestClient``: lob's REST API as asyncio methods (docs/rest.md).

Every method returns the decoded JSON answer, or raises ``LobApiError`` with
the server's stable error ``code``, ``message`` and HTTP ``status``. Prices may
be given as decimal strings, numbers or ``int`` units of 1/10,000 dollar
(``price_units=``); the server always answers with decimal strings.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from lob.client.http import HttpConnection

__all__ = ["LobApiError", "RestClient"]


class LobApiError(Exception):
    """An error answer from the server: ``{"error": {"code", "message"}}``."""

    def __init__(self, code: str, message: str, status: int = 0) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def _path_id(id: str) -> str:
    return quote(id, safe="")


class RestClient:
    """One account's REST session (market data needs no key)."""

    def __init__(self, url: str, key: str | None = None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self._http = HttpConnection(self.url, timeout)

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.close()

    async def call(
        self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None
    ) -> Any:
        """One request; the decoded JSON answer, or ``LobApiError``."""
        if query:
            clean = {k: v for k, v in query.items() if v is not None}
            if clean:
                path += "?" + urlencode(clean)
        headers = {"authorization": f"Bearer {self.key}"} if self.key else {}
        status, data, head = await self._http.request(method, path, body, headers)
        if head.get("content-type", "").startswith("application/json"):
            obj = json.loads(data) if data else None
        else:
            obj = data.decode("utf-8", "replace")
        if status >= 400:
            err = obj.get("error") if isinstance(obj, dict) else None
            if isinstance(err, dict):
                raise LobApiError(str(err.get("code")), str(err.get("message")), status)
            raise LobApiError("http_error", f"HTTP {status}", status)
        return obj

    # -- orders --------------------------------------------------------------

    async def place(
        self,
        symbol: str,
        side: str,
        qty: int,
        price: str | float | int | None = None,
        *,
        id: str | None = None,
        type: str | None = None,
        tif: str | None = None,
        post_only: bool | None = None,
        smp: str | None = None,
    ) -> dict[str, Any]:
        """Place an order; the acknowledgement with the fills it produced at once."""
        body: dict[str, Any] = {"symbol": symbol, "side": side, "qty": qty}
        for name, value in (
            ("price", price),
            ("id", id),
            ("type", type),
            ("tif", tif),
            ("post_only", post_only),
            ("smp", smp),
        ):
            if value is not None:
                body[name] = value
        return await self.call("POST", "/orders", body)  # type: ignore[no-any-return]

    async def cancel(self, id: str) -> dict[str, Any]:
        return await self.call("DELETE", f"/orders/{_path_id(id)}")  # type: ignore[no-any-return]

    async def replace(
        self, id: str, price: str | float | int | None = None, qty: int | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if price is not None:
            body["price"] = price
        if qty is not None:
            body["qty"] = qty
        return await self.call("PATCH", f"/orders/{_path_id(id)}", body)  # type: ignore[no-any-return]

    async def order(self, id: str) -> dict[str, Any]:
        return await self.call("GET", f"/orders/{_path_id(id)}")  # type: ignore[no-any-return]

    async def orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """The account's open orders, oldest first."""
        answer = await self.call("GET", "/orders", query={"symbol": symbol})
        return answer["orders"]  # type: ignore[no-any-return]

    async def fills(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The account's fills, newest first."""
        return (await self.call("GET", "/fills", query={"limit": limit}))["fills"]  # type: ignore[no-any-return]

    # -- market data ---------------------------------------------------------

    async def book(self, symbol: str, depth: int | None = None) -> dict[str, Any]:
        return await self.call("GET", f"/book/{symbol}", query={"depth": depth})  # type: ignore[no-any-return]

    async def deltas(self, symbol: str, since: int | None = None) -> dict[str, Any]:
        return await self.call("GET", f"/book/{symbol}/deltas", query={"since": since})  # type: ignore[no-any-return]

    async def trades(self, symbol: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Recent trades, newest first."""
        answer = await self.call("GET", f"/trades/{symbol}", query={"limit": limit})
        return answer["trades"]  # type: ignore[no-any-return]

    async def symbols(self) -> list[dict[str, Any]]:
        return (await self.call("GET", "/symbols"))["symbols"]  # type: ignore[no-any-return]

    async def state(self, symbol: str) -> dict[str, Any]:
        """The symbol's trading state, LULD bands and last cross."""
        return await self.call("GET", f"/state/{symbol}")  # type: ignore[no-any-return]

    async def imbalance(self, symbol: str) -> dict[str, Any]:
        """The latest imbalance information (``no_auction`` when no cross is ahead)."""
        return await self.call("GET", f"/imbalance/{symbol}")  # type: ignore[no-any-return]

    async def set_state(self, symbol: str, state: str) -> dict[str, Any]:
        """Operator: move the symbol's trading state (the client's key is the admin key)."""
        path = f"/admin/symbols/{symbol}/state"
        return await self.call("POST", path, {"state": state})  # type: ignore[no-any-return]

    async def health(self) -> dict[str, Any]:
        return await self.call("GET", "/health")  # type: ignore[no-any-return]

    async def feed_snapshot(self) -> dict[str, Any]:
        """The order-level snapshot of every book, stamped with the ITCH feed sequence."""
        return await self.call("GET", "/feed/snapshot")  # type: ignore[no-any-return]
