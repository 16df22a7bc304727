"""``WsClient``: order entry, executions and market data over lob's WebSocket (``/ws``).

Requests carry a ``req`` number and each awaits the answer that echoes it
(``ack``, ``subscribed``, ... or ``error``, raised as ``LobApiError``).
``acks="compact"`` asks for short acknowledgements (the order's status,
quantities and fills, not the whole order and the account's events): less for
the server to build and for the client to decode at high rates.

Market data arrives as ``lob.feed.wire`` messages. For each full-depth book
subscription the client keeps an ``L2BookBuilder`` (``client.books[symbol]``)
that applies snapshots, deltas and conflated batches in sequence; when the
builder reports a gap or an inconsistency the client re-subscribes with
``resume_from`` its last good seq (the server answers from its ring, or with a
snapshot), so the local book is never silently wrong. After a reconnect
(``reconnect()``, or by itself with ``auto_reconnect=True``) every
subscription is restored the same way.

Everything that arrives — acks excepted — is also put on ``updates`` (an
``asyncio.Queue`` of ``(kind, symbol, payload)``) for an application to read:
``("book", symbol, builder)`` after a book changed, ``("depth", symbol,
snapshot)``, ``("trades", symbol, [TradeDelta])``, ``("top", symbol, top)``,
``("executions", None, [event dicts])``, ``("disconnected", None, reason)``,
``("reconnected", None, url)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

import msgpack

from lob.client.rest import LobApiError
from lob.feed.conflation import ConflatedBatch
from lob.feed.deltas import BookSnapshot, TopOfBook, TradeDelta
from lob.feed.l2_builder import L2BookBuilder, RecoveryNeeded
from lob.feed.wire import decode_msgpack_all, message_from_dict

__all__ = ["WsClient"]

_WIRE_TYPES = frozenset({"level", "trade", "snapshot", "batch", "top"})
_MAP_BYTES = frozenset([*range(0x80, 0x90), 0xDE, 0xDF])
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class WsClient:
    """One WebSocket connection to ``lob serve`` (``url`` is the http:// or ws:// base)."""

    def __init__(
        self,
        url: str,
        key: str | None = None,
        *,
        encoding: str = "msgpack",
        acks: str = "full",
        timeout: float = 10.0,
        max_updates: int = 100_000,
        auto_reconnect: bool = False,
    ) -> None:
        base = url.rstrip("/")
        if base.startswith("http://"):
            base = "ws://" + base[len("http://") :]
        elif base.startswith("https://"):
            base = "wss://" + base[len("https://") :]
        if not base.endswith("/ws"):
            base += "/ws"
        if encoding not in ("msgpack", "json"):
            raise ValueError("encoding must be msgpack or json")
        if acks not in ("full", "compact"):
            raise ValueError("acks must be full or compact")
        self.url = f"{base}?encoding={encoding}" + ("&acks=compact" if acks == "compact" else "")
        self.key = key
        self.encoding = encoding
        self.timeout = timeout
        self.books: dict[str, L2BookBuilder] = {}
        self.depth_books: dict[str, BookSnapshot] = {}
        self.tops: dict[str, TopOfBook] = {}
        self.updates: asyncio.Queue[tuple[str, str | None, Any]] = asyncio.Queue(max_updates)
        self.dropped_updates = 0
        self.resyncs = 0
        self.conflated = 0
        self.account: str | None = None
        self._subs: dict[tuple[str, str], int | None] = {}
        self._executions = False
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reqs = itertools.count(1)
        self._recovering: set[str] = set()
        self.closed_reason: str | None = None
        self.auto_reconnect = auto_reconnect
        """Reconnect by itself (with back-off) when the connection drops, and restore."""
        self.reconnects = 0
        self._closing = False
        self._auto_task: asyncio.Task[None] | None = None

    # -- connection ----------------------------------------------------------

    async def __aenter__(self) -> WsClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the connection and authenticate (when a key was given)."""
        from websockets.asyncio.client import connect

        self._closing = False
        self._ws = await connect(
            self.url, compression=None, proxy=None, open_timeout=self.timeout, max_size=2**24
        )
        self.closed_reason = None
        self._reader = asyncio.create_task(self._read())
        if self.key is not None:
            answer = await self.request({"op": "auth", "key": self.key})
            self.account = answer["account"]

    async def reconnect(self) -> None:
        """Connect again and restore every subscription from where its book stands."""
        await self.close()
        await self.connect()
        await self._restore()

    async def _restore(self) -> None:
        if self._executions:
            await self.request({"op": "subscribe", "channel": "executions"})
        for (symbol, channel), depth in list(self._subs.items()):
            resume = None
            if channel == "book" and depth is None:
                book = self.books.get(symbol)
                resume = book.seq if book is not None else None
            await self._subscribe(symbol, channel, depth, resume)

    async def close(self) -> None:
        self._closing = True
        auto, self._auto_task = self._auto_task, None
        if auto is not None and auto is not asyncio.current_task():
            auto.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await auto
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._fail_pending("connection closed")

    def _fail_pending(self, reason: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LobApiError("disconnected", reason))
        self._pending.clear()

    # -- requests ------------------------------------------------------------

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its answer; ``LobApiError`` on an error answer."""
        if self._ws is None:
            raise LobApiError("disconnected", "not connected")
        req = next(self._reqs)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req] = future
        await self._send({**message, "req": req})
        try:
            return await asyncio.wait_for(future, self.timeout)
        finally:
            self._pending.pop(req, None)

    async def _send(self, message: dict[str, Any]) -> None:
        if self.encoding == "json":
            await self._ws.send(_dumps(message))
        else:
            await self._ws.send(msgpack.packb(message, use_bin_type=True))

    async def place(
        self, symbol: str, side: str, qty: int, price: Any = None, **fields: Any
    ) -> dict[str, Any]:
        """A new order (``id``, ``type``, ``tif``, ``post_only``, ``smp`` optional); its ack."""
        message: dict[str, Any] = {"op": "new", "symbol": symbol, "side": side, "qty": qty}
        if price is not None:
            message["price"] = price
        message.update({k: v for k, v in fields.items() if v is not None})
        return await self.request(message)

    async def cancel(self, id: str) -> dict[str, Any]:
        return await self.request({"op": "cancel", "id": id})

    async def replace(self, id: str, price: Any = None, qty: int | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"op": "replace", "id": id}
        if price is not None:
            message["price"] = price
        if qty is not None:
            message["qty"] = qty
        return await self.request(message)

    async def batch(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send many order messages (each with ``op`` new, cancel or replace) as one.

        Returns one result per order, in order: its ack, or an error object
        (``{"type": "error", "op", "error": {"code", "message"}}``) for an order
        that was refused; the others are unaffected.
        """
        answer = await self.request({"op": "batch", "orders": orders})
        results: list[dict[str, Any]] = answer["results"]
        return results

    # -- subscriptions -------------------------------------------------------

    async def subscribe_book(self, symbol: str, depth: int | None = None) -> dict[str, Any]:
        """Follow a book: full depth into ``books[symbol]``, or top ``depth`` levels."""
        return await self._subscribe(symbol, "book", depth, None)

    async def subscribe_trades(self, symbol: str) -> dict[str, Any]:
        return await self._subscribe(symbol, "trades", None, None)

    async def subscribe_top(self, symbol: str) -> dict[str, Any]:
        return await self._subscribe(symbol, "top", None, None)

    async def subscribe_state(self, symbol: str) -> dict[str, Any]:
        """State changes, crosses and LULD bands: ``("state", symbol, message)`` updates."""
        return await self._subscribe(symbol, "state", None, None)

    async def subscribe_imbalance(self, symbol: str) -> dict[str, Any]:
        """Imbalance information before a cross: ``("imbalance", symbol, message)`` updates."""
        return await self._subscribe(symbol, "imbalance", None, None)

    async def subscribe_executions(self) -> dict[str, Any]:
        """The account's every order event and fill, from any connection or REST."""
        answer = await self.request({"op": "subscribe", "channel": "executions"})
        self._executions = True
        return answer

    async def unsubscribe(self, symbol: str, channel: str = "book") -> dict[str, Any]:
        self._subs.pop((symbol, channel), None)
        if channel == "book":
            self.books.pop(symbol, None)
            self.depth_books.pop(symbol, None)
        return await self.request({"op": "unsubscribe", "symbol": symbol, "channel": channel})

    async def _subscribe(
        self, symbol: str, channel: str, depth: int | None, resume: int | None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"op": "subscribe", "symbol": symbol, "channel": channel}
        if depth is not None:
            message["depth"] = depth
        if resume is not None:
            message["resume_from"] = resume
        if channel == "book" and depth is None and symbol not in self.books:
            self.books[symbol] = L2BookBuilder(symbol)
        self._subs[(symbol, channel)] = depth
        return await self.request(message)

    async def _recover(self, symbol: str, resume: int | None) -> None:
        try:
            self.resyncs += 1
            await self._subscribe(symbol, "book", None, resume)
        except LobApiError:
            pass
        finally:
            self._recovering.discard(symbol)

    # -- receiving -----------------------------------------------------------

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        ws = self._ws
        try:
            async for frame in ws:
                self._frame(frame)
        except ConnectionClosed as exc:
            self.closed_reason = exc.rcvd.reason if exc.rcvd is not None else str(exc)
        finally:
            if self.closed_reason is None:
                rcvd = getattr(ws, "close_reason", None)
                self.closed_reason = rcvd or "closed"
            self._fail_pending(self.closed_reason)
            self._put(("disconnected", None, self.closed_reason))
            if self.auto_reconnect and not self._closing and self._auto_task is None:
                self._auto_task = asyncio.get_running_loop().create_task(self._auto())

    async def _auto(self) -> None:
        from websockets.exceptions import WebSocketException

        delay = 0.05
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                self._ws = None
                await self.connect()
                await self._restore()
            except (OSError, TimeoutError, LobApiError, WebSocketException) as exc:
                self.closed_reason = f"reconnecting: {exc}"
                delay = min(delay * 2, 5.0)
                continue
            self.reconnects += 1
            self._put(("reconnected", None, self.url))
            break
        self._auto_task = None

    def _frame(self, frame: bytes | str) -> None:
        if isinstance(frame, str):
            # Messages of a frame are joined by "\n" alone: JSON escapes it inside
            # strings, but not U+2028 or U+0085, where str.splitlines would also cut.
            for line in frame.split("\n"):
                obj = json.loads(line)
                if obj.get("type") in _WIRE_TYPES:
                    self._market(message_from_dict(obj))
                else:
                    self._control(obj)
        elif frame and frame[0] in _MAP_BYTES:
            self._control(msgpack.unpackb(frame, raw=False))
        else:
            for message in decode_msgpack_all(frame):
                self._market(message)

    def _control(self, obj: dict[str, Any]) -> None:
        req = obj.get("req")
        if req is not None:
            future = self._pending.get(req)
            if future is not None and not future.done():
                if obj.get("type") == "error":
                    err = obj.get("error", {})
                    future.set_exception(LobApiError(str(err.get("code")), str(err.get("message"))))
                else:
                    future.set_result(obj)
                return
        if obj.get("type") == "executions":
            self._put(("executions", None, obj.get("events", [])))
        elif obj.get("channel") in ("state", "imbalance"):
            self._put((obj["channel"], obj.get("symbol"), obj))
        elif obj.get("type") == "error":
            self._put(("error", None, obj.get("error")))

    def _market(self, message: Any) -> None:
        kind = type(message)
        symbol = message.symbol
        book = self.books.get(symbol)
        if kind is TopOfBook:
            self.tops[symbol] = message
            self._put(("top", symbol, message))
            return
        if kind is BookSnapshot and message.depth is not None:
            self.depth_books[symbol] = message
            self._put(("depth", symbol, message))
            return
        if book is None:
            if kind is TradeDelta:
                self._put(("trades", symbol, [message]))
            elif kind is ConflatedBatch:
                self._put(("trades", symbol, list(message.trades)))
            return
        try:
            book.apply_message(message)
        except RecoveryNeeded as exc:
            if symbol not in self._recovering:
                self._recovering.add(symbol)
                asyncio.get_running_loop().create_task(self._recover(symbol, exc.resume_from))
            return
        if kind is ConflatedBatch:
            self.conflated += 1
            if message.trades:
                self._put(("trades", symbol, list(message.trades)))
        elif kind is TradeDelta:
            self._put(("trades", symbol, [message]))
        if kind is not TradeDelta:
            self._put(("book", symbol, book))

    def _put(self, item: tuple[str, str | None, Any]) -> None:
        try:
            self.updates.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped_updates += 1
