"""The REST API: routes, authentication and the JSON of every answer.

Why a table of routes and no framework: there are a score of endpoints, every one
is listed in ``ROUTES`` (which the OpenAPI document is checked against), and
each handler is a small function of the exchange's state. Order endpoints need
``Authorization: Bearer KEY``; market data is public. The account is always the
key's, so an account can only ever see and touch its own orders.

docs/rest.md describes every endpoint; ``GET /openapi.json`` is the complete
machine-readable form and ``GET /docs`` renders it.
"""

from __future__ import annotations

import gc
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from lob.engine.events import Crossed, Rejected, StateChanged
from lob.engine.json_codec import event_to_dict
from lob.engine.prices import format_price
from lob.engine.session import IllegalTransition, check_transition
from lob.engine.types import TradingState
from lob.feed.wire import message_to_dict
from lob.server.auth import KeyStore
from lob.server.errors import (
    FORBIDDEN,
    INTERNAL,
    METHOD_NOT_ALLOWED,
    NO_AUCTION,
    NOT_FOUND,
    UNAUTHORIZED,
    UNAVAILABLE,
    ApiError,
)
from lob.server.exchange import Exchange
from lob.server.history_api import NO_HISTORY, HistoryQueries
from lob.server.http import HttpRequest, HttpResponse, json_response
from lob.server.latency import ORDER_ACK, ORDER_ACK_HELP, LatencyHistogram
from lob.server.orders import ACK_FAILED, ack_or_error, parse_cancel, parse_new, parse_replace
from lob.server.sequencer import SequencerClosed
from lob.store.journal import SetState

__all__ = ["ROUTES", "RestApi"]

MAX_DEPTH = 1_000
MAX_LIMIT = 1_000

ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/health", "health"),
    ("GET", "/metrics", "metrics"),
    ("GET", "/symbols", "symbols"),
    ("GET", "/book/{symbol}", "book"),
    ("GET", "/book/{symbol}/deltas", "book_deltas"),
    ("GET", "/book/{symbol}/orders", "book_orders"),
    ("GET", "/trades/{symbol}", "trades"),
    ("GET", "/state/{symbol}", "trading_state"),
    ("GET", "/imbalance/{symbol}", "imbalance"),
    ("GET", "/feed", "feed"),
    ("GET", "/feed/snapshot", "feed_snapshot"),
    ("POST", "/orders", "place_order"),
    ("GET", "/orders", "open_orders"),
    ("GET", "/orders/{id}", "get_order"),
    ("DELETE", "/orders/{id}", "cancel_order"),
    ("PATCH", "/orders/{id}", "replace_order"),
    ("GET", "/fills", "fills"),
    ("POST", "/admin/symbols/{symbol}/state", "admin_state"),
    ("GET", "/analytics/{symbol}/vwap", "analytics_vwap"),
    ("GET", "/analytics/{symbol}/bars", "analytics_bars"),
    ("GET", "/analytics/{symbol}/metrics", "analytics_metrics"),
    ("GET", "/analytics/{symbol}/spread", "analytics_spread"),
    ("GET", "/analytics/{symbol}/volatility", "analytics_volatility"),
    ("GET", "/analytics/{symbol}/imbalance", "analytics_imbalance"),
    ("GET", "/analytics/activity", "analytics_activity"),
    ("GET", "/history/trades", "history_trades"),
    ("GET", "/history/orders", "history_orders"),
    ("GET", "/openapi.json", "openapi"),
    ("GET", "/docs", "docs"),
]
"""(method, path template, handler name): every endpoint the server answers."""


def _int_param(query: dict[str, str], name: str, default: int | None, low: int, high: int) -> Any:
    text = query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError("invalid_field", f"{name} must be a whole number from {low} to {high}")
    return int(text)


def _levels(levels: Any) -> list[dict[str, Any]]:
    return [{"price": format_price(lv.price), "qty": lv.qty, "orders": lv.orders} for lv in levels]


def _json_body(request: HttpRequest) -> Any:
    if not request.body.strip():
        raise ApiError("malformed", "the body must be a JSON object")
    try:
        return json.loads(request.body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError("malformed", f"the body is not valid JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class RestApi:
    """Answers one parsed HTTP request against one exchange."""

    def __init__(
        self,
        exchange: Exchange,
        keys: KeyStore,
        stats: Callable[[], dict[str, int]] | None = None,
        latency: LatencyHistogram | None = None,
    ) -> None:
        self.exchange = exchange
        self.keys = keys
        self.stats = stats or (lambda: {})
        self.latency = latency
        """The WebSocket gateway's order-to-ack histogram, for ``/metrics``."""
        self.history: HistoryQueries | None = None
        """The history's queries; None with ``--no-history`` (history endpoints: 503)."""
        self._openapi: bytes | None = None
        self._docs: bytes | None = None
        self._routes: dict[tuple[str, ...], dict[str, Callable[..., Awaitable[HttpResponse]]]] = {}
        for method, template, name in ROUTES:
            parts = tuple(template.strip("/").split("/"))
            self._routes.setdefault(parts, {})[method] = getattr(self, name)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        self.exchange.counters["http_requests"] = self.exchange.counters.get("http_requests", 0) + 1
        segments = [unquote(s) for s in request.path.strip("/").split("/")]
        method = "GET" if request.method == "HEAD" else request.method
        for template, methods in self._routes.items():
            if len(template) != len(segments):
                continue
            params: dict[str, str] = {}
            for t, s in zip(template, segments, strict=True):
                if t.startswith("{"):
                    if not s:
                        break
                    params[t[1:-1]] = s
                elif t != s:
                    break
            else:
                handler = methods.get(method)
                if handler is None:
                    raise ApiError(
                        METHOD_NOT_ALLOWED,
                        f"{request.method} is not allowed here; use {', '.join(sorted(methods))}",
                    )
                return await handler(request, **params)
        raise ApiError(NOT_FOUND, f"no endpoint {request.path}")

    # -- helpers -------------------------------------------------------------

    def _account(self, request: HttpRequest) -> str:
        account = self.keys.account_for_header(request.headers.get("authorization"))
        if account is None:
            raise ApiError(UNAUTHORIZED, "send Authorization: Bearer KEY with a valid API key")
        return account

    def _symbol(self, symbol: str) -> str:
        if symbol not in self.exchange.symbols:
            raise ApiError("unknown_symbol", f"{symbol} is not traded here")
        return symbol

    def _admin(self, request: HttpRequest) -> None:
        """Only the operator's key passes: 401 without a valid key, 403 with a trading key."""
        header = request.headers.get("authorization") or ""
        scheme, _, key = header.strip().partition(" ")
        key = key.strip()
        admin = self.exchange.config.admin_key
        is_admin = (
            scheme.lower() == "bearer"
            and admin is not None
            and bool(key)
            and hmac.compare_digest(key.encode("utf-8", "surrogatepass"), admin.encode())
        )
        if is_admin:
            return
        if self.keys.account_for_header(header) is None:
            raise ApiError(UNAUTHORIZED, "send Authorization: Bearer KEY with the admin key")
        if admin is None:
            raise ApiError(FORBIDDEN, "operator endpoints are off: start lob serve --admin-key")
        raise ApiError(FORBIDDEN, "this key trades; operator endpoints need the admin key")

    async def _submit(self, command: Any) -> Any:
        try:
            return await self.exchange.sequencer.submit(command)
        except SequencerClosed as exc:
            raise ApiError(UNAVAILABLE, str(exc)) from None

    async def _acknowledged(self, op: str, account: str, command: Any) -> dict[str, Any]:
        """Sequence an order command; its ack, built as the command left the order."""
        out: list[dict[str, Any] | ApiError] = []
        accounts = self.exchange.accounts

        def applied(events: list[Any]) -> None:
            out.append(ack_or_error(op, account, command.id, events, accounts))

        try:
            await self.exchange.sequencer.submit(command, applied)
        except SequencerClosed as exc:
            raise ApiError(UNAVAILABLE, str(exc)) from None
        if not out:
            raise ApiError(INTERNAL, ACK_FAILED)
        ack = out[0]
        if isinstance(ack, ApiError):
            raise ack
        return ack

    # -- market data ---------------------------------------------------------

    async def health(self, request: HttpRequest) -> HttpResponse:
        ex = self.exchange
        ok = ex.sequencer.accepting
        return json_response(
            {
                "status": "ok" if ok else "unavailable",
                "seq": ex.engine.seq,
                "symbols": len(ex.symbols),
                "journal_records": ex.journal.records,
                "uptime_s": round((ex.clock() - ex.started_ns) / 1e9, 3),
            },
            200 if ok else 503,
        )

    async def metrics(self, request: HttpRequest) -> HttpResponse:
        ex = self.exchange
        values: dict[str, tuple[str, int | float]] = {
            "lob_engine_seq": ("gauge", ex.engine.seq),
            "lob_commands_total": ("counter", ex.counters.get("commands", 0)),
            "lob_rejected_total": ("counter", ex.counters.get("rejected", 0)),
            "lob_trades_total": ("counter", ex.counters.get("trades", 0)),
            "lob_journal_records": ("gauge", ex.journal.records),
            "lob_journal_bytes": ("gauge", ex.journal.size),
            "lob_journal_syncs_total": ("counter", ex.sequencer.syncs),
            "lob_marketdata_deltas_total": ("counter", ex.market.deltas),
            "lob_http_requests_total": ("counter", ex.counters.get("http_requests", 0)),
        }
        for name, value in sorted(self.stats().items()):
            values[f"lob_{name}"] = ("counter" if name.endswith("_total") else "gauge", value)
        # The garbage collector: a full collection is a pause for every order behind it.
        values["lob_gc_frozen_objects"] = ("gauge", gc.get_freeze_count())
        for generation, stat in enumerate(gc.get_stats()):
            values[f"lob_gc_gen{generation}_collections_total"] = ("counter", stat["collections"])
        lines = []
        for name, (kind, number) in values.items():
            lines.append(f"# TYPE {name} {kind}")
            lines.append(f"{name} {number}")
        if self.latency is not None:
            lines += self.latency.prometheus(ORDER_ACK, ORDER_ACK_HELP)
        body = ("\n".join(lines) + "\n").encode()
        return HttpResponse(200, body, "text/plain; version=0.0.4")

    async def symbols(self, request: HttpRequest) -> HttpResponse:
        ex = self.exchange
        return json_response({"symbols": [ex.symbol_info(s) for s in sorted(ex.symbols)]})

    async def book(self, request: HttpRequest, symbol: str) -> HttpResponse:
        self._symbol(symbol)
        depth = _int_param(request.query, "depth", None, 1, MAX_DEPTH)
        snap = self.exchange.market.snapshot(symbol, depth)
        return json_response(
            {
                "symbol": symbol,
                "seq": snap.seq,
                "engine_seq": snap.engine_seq,
                "bids": _levels(snap.bids),
                "asks": _levels(snap.asks),
            }
        )

    async def book_deltas(self, request: HttpRequest, symbol: str) -> HttpResponse:
        self._symbol(symbol)
        since = _int_param(request.query, "since", None, 0, 2**62)
        answer = self.exchange.market.catch_up(symbol, since)
        return json_response(
            {
                "symbol": symbol,
                "since": since,
                "seq": answer.last_seq,
                "reason": answer.reason,
                "snapshot": None if answer.snapshot is None else message_to_dict(answer.snapshot),
                "deltas": [message_to_dict(d) for d in answer.deltas],
            }
        )

    async def book_orders(self, request: HttpRequest, symbol: str) -> HttpResponse:
        """Every resting order (engine ids, no owners): the order-level snapshot."""
        self._symbol(symbol)
        ex = self.exchange
        snap = ex.engine.order_snapshot(symbol)

        def rows(orders: Any) -> list[dict[str, Any]]:
            return [{"oid": o.oid, "price": format_price(o.price), "qty": o.qty} for o in orders]

        body: dict[str, Any] = {
            "symbol": symbol,
            "engine_seq": snap.seq,
            "bids": rows(snap.bids),
            "asks": rows(snap.asks),
        }
        return json_response(body)

    async def feed(self, request: HttpRequest) -> HttpResponse:
        """Where the ITCH/MoldUDP64 feed is published, and its counters."""
        info = self.exchange.feed_info
        if info is None:
            raise ApiError(NOT_FOUND, "the multicast feed is off (lob serve --no-multicast)")
        return json_response(info())

    async def feed_snapshot(self, request: HttpRequest) -> HttpResponse:
        """Every resting order of every symbol, stamped with the feed sequence it includes."""
        state = self.exchange.feed_state
        if state is None:
            raise ApiError(NOT_FOUND, "the multicast feed is off (lob serve --no-multicast)")
        return json_response(state())

    async def trades(self, request: HttpRequest, symbol: str) -> HttpResponse:
        self._symbol(symbol)
        limit = _int_param(request.query, "limit", 50, 1, MAX_LIMIT)
        return json_response({"symbol": symbol, "trades": self.exchange.tape.recent(symbol, limit)})

    async def trading_state(self, request: HttpRequest, symbol: str) -> HttpResponse:
        """The symbol's trading state, LULD bands and last cross."""
        self._symbol(symbol)
        ex = self.exchange
        return json_response({**ex.trading.status(symbol), "calendar": ex.plan.calendar})

    async def imbalance(self, request: HttpRequest, symbol: str) -> HttpResponse:
        """The latest imbalance information while the symbol waits for a cross."""
        self._symbol(symbol)
        latest = self.exchange.trading.latest_imbalance(symbol)
        if latest is None:
            state = self.exchange.engine.book(symbol).state
            raise ApiError(NO_AUCTION, f"{symbol} is {state}: no cross is ahead")
        return json_response(latest)

    # -- operator ------------------------------------------------------------

    async def admin_state(self, request: HttpRequest, symbol: str) -> HttpResponse:
        """Move a symbol through the trading-state machine (halt, quotation, resume)."""
        self._admin(request)
        self._symbol(symbol)
        body = _json_body(request)
        if not isinstance(body, dict):
            raise ApiError("malformed", "the body must be a JSON object")
        extra = sorted(str(k) for k in body if k != "state")
        if extra:
            raise ApiError("invalid_field", f"unknown field(s): {', '.join(extra)}")
        if "state" not in body:
            raise ApiError("missing_field", "state is required")
        try:
            target = TradingState(body["state"])
        except (ValueError, TypeError):
            names = ", ".join(s.value for s in TradingState)
            raise ApiError("invalid_field", f"state must be one of {names}") from None
        try:
            check_transition(self.exchange.engine.book(symbol).state, target)
        except IllegalTransition as exc:
            raise ApiError("illegal_transition", str(exc)) from None
        events = await self._submit(SetState(symbol, str(target)))
        first = events[0]
        if type(first) is Rejected:
            raise ApiError(first.code, first.message)
        changed = [e for e in events if type(e) is StateChanged and e.symbol == symbol]
        crosses = [e for e in events if type(e) is Crossed and e.symbol == symbol]
        return json_response(
            {
                "symbol": symbol,
                "state": str(changed[-1].state),
                "previous": str(changed[0].previous),
                "cross": event_to_dict(crosses[-1]) if crosses else None,
                "engine_seq": events[-1].seq,
            }
        )

    # -- orders --------------------------------------------------------------

    async def place_order(self, request: HttpRequest) -> HttpResponse:
        account = self._account(request)
        ex = self.exchange
        command = parse_new(
            account,
            _json_body(request),
            ex.reference,  # the traded symbols, without building a set per order
            ex.accounts,
            ex.config.limits.max_open_orders,
        )
        return json_response(await self._acknowledged("new", account, command), 201)

    async def open_orders(self, request: HttpRequest) -> HttpResponse:
        account = self._account(request)
        orders = self.exchange.accounts.open_orders(account)
        symbol = request.query.get("symbol")
        return json_response(
            {"orders": [o.to_dict() for o in orders if symbol is None or o.symbol == symbol]}
        )

    async def get_order(self, request: HttpRequest, id: str) -> HttpResponse:
        account = self._account(request)
        status = self.exchange.accounts.order(account, id)
        if status is None:
            raise ApiError("unknown_order", f"no order {id!r} for this account")
        return json_response(status.to_dict())

    async def cancel_order(self, request: HttpRequest, id: str) -> HttpResponse:
        account = self._account(request)
        command = parse_cancel(account, id)
        return json_response(await self._acknowledged("cancel", account, command))

    async def replace_order(self, request: HttpRequest, id: str) -> HttpResponse:
        account = self._account(request)
        command = parse_replace(account, id, _json_body(request))
        return json_response(await self._acknowledged("replace", account, command))

    async def fills(self, request: HttpRequest) -> HttpResponse:
        account = self._account(request)
        limit = _int_param(request.query, "limit", 100, 1, 10_000)
        return json_response({"fills": self.exchange.accounts.fills(account, limit)})

    # -- history and analytics (lob.analytics.api over the history file) ------

    async def _history_answer(self, path: str, params: dict[str, str]) -> HttpResponse:
        if self.history is None:
            raise ApiError(UNAVAILABLE, NO_HISTORY)
        status, body = await self.history.answer(path, params)
        if status >= 400:
            error = body["error"]
            raise ApiError(error["code"], error["message"], status)
        return json_response(body, status)

    async def _analytics(self, request: HttpRequest, symbol: str, question: str) -> HttpResponse:
        self._symbol(symbol)
        return await self._history_answer(f"/analytics/{question}/{symbol}", request.query)

    async def analytics_vwap(self, request: HttpRequest, symbol: str) -> HttpResponse:
        return await self._analytics(request, symbol, "vwap")

    async def analytics_bars(self, request: HttpRequest, symbol: str) -> HttpResponse:
        return await self._analytics(request, symbol, "bars")

    async def analytics_metrics(self, request: HttpRequest, symbol: str) -> HttpResponse:
        return await self._analytics(request, symbol, "metrics")

    async def analytics_spread(self, request: HttpRequest, symbol: str) -> HttpResponse:
        return await self._analytics(request, symbol, "spread")

    async def analytics_volatility(self, request: HttpRequest, symbol: str) -> HttpResponse:
        return await self._analytics(request, symbol, "volatility")

    async def analytics_imbalance(self, request: HttpRequest, symbol: str) -> HttpResponse:
        return await self._analytics(request, symbol, "imbalance")

    async def analytics_activity(self, request: HttpRequest) -> HttpResponse:
        return await self._history_answer("/analytics/activity", request.query)

    async def history_trades(self, request: HttpRequest) -> HttpResponse:
        params = dict(request.query)
        for alias, name in (("from", "since"), ("to", "until")):
            if alias in params:
                if name in params:
                    raise ApiError("invalid_field", f"give {alias} or {name}, not both")
                params[name] = params.pop(alias)
        return await self._history_answer("/history/trades", params)

    async def history_orders(self, request: HttpRequest) -> HttpResponse:
        account = self._account(request)
        asked = request.query.get("account")
        if asked is not None and asked != account:
            raise ApiError(FORBIDDEN, "a key reads only its own account's order history")
        return await self._history_answer("/history/orders", {**request.query, "account": account})

    # -- documentation -------------------------------------------------------

    async def openapi(self, request: HttpRequest) -> HttpResponse:
        if self._openapi is None:
            from lob.server.openapi import openapi_document

            self._openapi = json.dumps(openapi_document(), indent=1).encode()
        return HttpResponse(200, self._openapi, "application/json")

    async def docs(self, request: HttpRequest) -> HttpResponse:
        if self._docs is None:
            from lob.server.openapi import docs_html, openapi_document

            self._docs = docs_html(openapi_document()).encode()
        return HttpResponse(200, self._docs, "text/html; charset=utf-8")
