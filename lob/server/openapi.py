"""The OpenAPI 3.1 description of the REST API, and the HTML and Markdown made from it.

Why one document in code: ``GET /openapi.json``, ``GET /docs`` and
docs/rest.md are all rendered from ``openapi_document()``, and the tests check
it against the route table (``lob.server.rest.ROUTES``) and the error table
(``lob.server.errors.STATUS``), so the reference cannot drift from the server.
``python -m lob.server.openapi`` prints docs/rest.md.
"""

from __future__ import annotations

import html
import json
from typing import Any

from lob.server.errors import DESCRIPTIONS, STATUS

__all__ = ["docs_html", "openapi_document", "rest_markdown"]

_PRICE = {
    "type": "string",
    "pattern": r"^\d+(\.\d{1,4})?$",
    "description": "Decimal dollars, at most 4 decimals, on the Rule 612 tick"
    " ($0.01 at or above $1.00, $0.0001 below).",
    "examples": ["227.50"],
}
_PRICE_IN = {
    "oneOf": [_PRICE, {"type": "number", "exclusiveMinimum": 0}],
    "description": "A decimal string (preferred) or a JSON number.",
}
_QTY = {"type": "integer", "minimum": 1, "maximum": 1_000_000_000, "description": "Shares."}
_TS = {"type": "integer", "description": "Nanoseconds since the Unix epoch."}
_SEQ = {"type": "integer", "minimum": 0}
_ID = {"type": "string", "minLength": 1, "maxLength": 64}
_ORDER_TYPES = ["limit", "market", "moo", "loo", "moc", "loc", "io"]
_STATES = [
    "pre_open",
    "opening_auction",
    "continuous",
    "halted",
    "quote_only",
    "paused",
    "closing_auction",
    "closed",
]
_STATE = {
    "type": "string",
    "enum": _STATES,
    "description": "The symbol's trading state (docs/market-structure.md).",
}
_CROSS_TYPE = {"type": "string", "enum": ["opening", "closing", "halt"]}
_PRICE_OR_NULL = {"oneOf": [_PRICE, {"type": "null"}]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    out.update(extra)
    return out


SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": {"type": "string", "enum": sorted(STATUS)},
                    "message": {"type": "string"},
                },
                ["code", "message"],
            )
        },
        ["error"],
        description="Every error has this shape; `code` is stable, `message` is for people.",
    ),
    "NewOrder": _obj(
        {
            "id": {**_ID, "description": "Your id for the order; generated when absent."},
            "symbol": {"type": "string", "pattern": "^[A-Z]{1,8}$"},
            "side": {"type": "string", "enum": ["buy", "sell"]},
            "type": {
                "type": "string",
                "enum": _ORDER_TYPES,
                "default": "limit",
                "description": "`moo`/`loo` wait for the opening cross, `moc`/`loc` for the"
                " closing cross, `io` (imbalance-only) for the next cross; they are never"
                " displayed (docs/market-structure.md).",
            },
            "price": {
                **_PRICE_IN,
                "description": "Required for limit, loo, loc and io orders; absent for market,"
                " moo and moc.",
            },
            "qty": _QTY,
            "tif": {"type": "string", "enum": ["day", "gtc", "ioc", "fok"], "default": "day"},
            "post_only": {"type": "boolean", "default": False},
            "smp": {
                "type": "string",
                "enum": ["cancel_newest", "cancel_oldest", "cancel_both"],
                "default": "cancel_newest",
                "description": "Self-match prevention against your own resting orders.",
            },
        },
        ["symbol", "side", "qty"],
        additionalProperties=False,
        description="The fields of a replay `new` command without `op`, `account` and `ts`.",
    ),
    "Replace": _obj(
        {"price": _PRICE_IN, "qty": {**_QTY, "description": "New open quantity."}},
        additionalProperties=False,
        minProperties=1,
        description="Same price and a smaller quantity keep priority; anything else loses it.",
    ),
    "Order": _obj(
        {
            "id": _ID,
            "oid": {
                "type": "integer",
                "description": "Engine order id (changes on a replace that loses priority).",
            },
            "symbol": {"type": "string"},
            "side": {"type": "string", "enum": ["buy", "sell"]},
            "type": {"type": "string", "enum": _ORDER_TYPES},
            "price": {"oneOf": [_PRICE, {"type": "null"}]},
            "qty": {**_QTY, "description": "Filled plus open quantity."},
            "filled_qty": {"type": "integer", "minimum": 0},
            "leaves_qty": {"type": "integer", "minimum": 0},
            "tif": {"type": "string", "enum": ["day", "gtc", "ioc", "fok"]},
            "post_only": {"type": "boolean"},
            "status": {"type": "string", "enum": ["open", "filled", "cancelled"]},
            "reason": {
                "oneOf": [
                    {
                        "type": "string",
                        "enum": [
                            "user",
                            "ioc",
                            "fok",
                            "market",
                            "self_match",
                            "expired",
                            "auction",
                            "price_band",
                        ],
                    },
                    {"type": "null"},
                ],
                "description": "Why a cancelled order was cancelled.",
            },
            "ts": _TS,
            "updated_ts": _TS,
        },
        ["id", "oid", "symbol", "side", "qty", "filled_qty", "leaves_qty", "status"],
    ),
    "Fill": _obj(
        {
            "type": {"const": "fill"},
            "trade_id": {"type": "integer"},
            "symbol": {"type": "string"},
            "id": _ID,
            "side": {"type": "string", "enum": ["buy", "sell"]},
            "price": _PRICE,
            "qty": _QTY,
            "liquidity": {"type": "string", "enum": ["maker", "taker"]},
            "ts": _TS,
            "seq": _SEQ,
        },
        ["trade_id", "symbol", "id", "side", "price", "qty", "liquidity", "ts"],
        description="One execution of one of your orders; the other side is never named.",
    ),
    "Event": _obj(
        {
            "type": {
                "type": "string",
                "enum": ["accepted", "added", "cancelled", "replaced", "executed", "fill"],
            },
            "seq": _SEQ,
            "ts": _TS,
        },
        ["type", "seq", "ts"],
        additionalProperties=True,
        description="An engine event of your account, as in `lob replay` (docs/replay.md);"
        " trades appear as `fill`, an order's share of a cross as `executed`.",
    ),
    "Ack": _obj(
        {
            "type": {"const": "ack"},
            "op": {"type": "string", "enum": ["new", "cancel", "replace"]},
            "id": _ID,
            "seq": {**_SEQ, "description": "Engine sequence of the command's last event."},
            "order": {"oneOf": [_ref("Order"), {"type": "null"}]},
            "fills": {"type": "array", "items": _ref("Fill")},
            "events": {"type": "array", "items": _ref("Event")},
        },
        ["type", "op", "id", "seq", "order", "fills", "events"],
        description="The command is journaled and applied: the order as it now stands and"
        " what the command did.",
    ),
    "Level": _obj(
        {"price": _PRICE, "qty": {"type": "integer"}, "orders": {"type": "integer"}},
        ["price", "qty", "orders"],
    ),
    "Book": _obj(
        {
            "symbol": {"type": "string"},
            "seq": {**_SEQ, "description": "Per-symbol market data sequence included."},
            "engine_seq": _SEQ,
            "bids": {"type": "array", "items": _ref("Level"), "description": "Best first."},
            "asks": {"type": "array", "items": _ref("Level"), "description": "Best first."},
        },
        ["symbol", "seq", "bids", "asks"],
    ),
    "Trade": _obj(
        {
            "price": _PRICE,
            "qty": {"type": "integer"},
            "aggressor": {
                "oneOf": [{"type": "string", "enum": ["buy", "sell"]}, {"type": "null"}],
                "description": "Null for a trade printed by a cross.",
            },
            "ts": _TS,
            "trade_id": {"type": "integer"},
            "seq": _SEQ,
        },
        ["price", "qty", "aggressor", "ts", "trade_id"],
    ),
    "Trades": _obj(
        {"symbol": {"type": "string"}, "trades": {"type": "array", "items": _ref("Trade")}},
        ["symbol", "trades"],
    ),
    "Symbol": _obj(
        {
            "symbol": {"type": "string"},
            "name": {"type": "string"},
            "reference_price": {"oneOf": [_PRICE, {"type": "null"}]},
            "collar_low": {"oneOf": [_PRICE, {"type": "null"}]},
            "collar_high": {"oneOf": [_PRICE, {"type": "null"}]},
            "best_bid": {"oneOf": [_PRICE, {"type": "null"}]},
            "best_ask": {"oneOf": [_PRICE, {"type": "null"}]},
            "last": {"oneOf": [_PRICE, {"type": "null"}]},
            "seq": _SEQ,
            "state": _STATE,
            "bands": {"oneOf": [_ref("Bands"), {"type": "null"}]},
        },
        ["symbol", "reference_price", "state", "bands"],
    ),
    "Bands": _obj(
        {
            "tier": {"type": "integer", "enum": [1, 2]},
            "reference": _PRICE,
            "lower": _PRICE,
            "upper": _PRICE,
        },
        ["tier", "reference", "lower", "upper"],
        description="Limit Up-Limit Down price bands (`lob serve --luld`).",
    ),
    "Cross": _obj(
        {
            "type": {"const": "crossed"},
            "seq": _SEQ,
            "ts": _TS,
            "symbol": {"type": "string"},
            "cross_type": _CROSS_TYPE,
            "price": {**_PRICE_OR_NULL, "description": "Null when nothing could be paired."},
            "qty": {"type": "integer", "minimum": 0, "description": "Shares paired."},
            "imbalance": {
                "type": "integer",
                "description": "Shares left unpaired at the price: positive on the buy side,"
                " negative on the sell side.",
            },
        },
        ["type", "seq", "ts", "symbol", "cross_type", "price", "qty", "imbalance"],
        description="An opening, closing or halt cross.",
    ),
    "TradingState": _obj(
        {
            "symbol": {"type": "string"},
            "state": _STATE,
            "bands": {"oneOf": [_ref("Bands"), {"type": "null"}]},
            "last_cross": {"oneOf": [_ref("Cross"), {"type": "null"}]},
            "engine_seq": _SEQ,
            "calendar": {
                "type": "string",
                "enum": ["continuous", "nasdaq", "compressed"],
                "description": "The trading day the server follows (`lob serve --calendar`).",
            },
        },
        ["symbol", "state", "bands", "last_cross", "engine_seq", "calendar"],
    ),
    "Imbalance": _obj(
        {
            "type": {"const": "imbalance"},
            "seq": _SEQ,
            "ts": _TS,
            "symbol": {"type": "string"},
            "cross_type": _CROSS_TYPE,
            "paired": {"type": "integer", "description": "Shares that would execute now."},
            "imbalance": {"type": "integer", "description": "Shares that would not."},
            "imbalance_side": {
                "oneOf": [{"type": "string", "enum": ["buy", "sell"]}, {"type": "null"}]
            },
            "reference": {
                **_PRICE_OR_NULL,
                "description": "The near price kept within the best bid and offer.",
            },
            "near": {**_PRICE_OR_NULL, "description": "Where the cross would happen now."},
            "far": {
                **_PRICE_OR_NULL,
                "description": "Where the auction orders alone would cross.",
            },
        },
        [
            "type",
            "seq",
            "ts",
            "symbol",
            "cross_type",
            "paired",
            "imbalance",
            "imbalance_side",
            "reference",
            "near",
            "far",
        ],
        description="Net Order Imbalance Indicator, published once a second while the"
        " symbol waits for a cross.",
    ),
    "StateChange": _obj(
        {"state": {**_STATE, "description": "The state to move to."}},
        ["state"],
        additionalProperties=False,
        description="E.g. `halted`, then `quote_only`, then `continuous` (the halt cross).",
    ),
    "StateChanged": _obj(
        {
            "symbol": {"type": "string"},
            "state": _STATE,
            "previous": _STATE,
            "cross": {
                "oneOf": [_ref("Cross"), {"type": "null"}],
                "description": "The cross the move ran, if any.",
            },
            "engine_seq": _SEQ,
        },
        ["symbol", "state", "previous", "cross", "engine_seq"],
    ),
    "Health": _obj(
        {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "seq": _SEQ,
            "symbols": {"type": "integer"},
            "journal_records": {"type": "integer"},
            "uptime_s": {"type": "number"},
        },
        ["status", "seq"],
    ),
    "Deltas": _obj(
        {
            "symbol": {"type": "string"},
            "since": {"oneOf": [_SEQ, {"type": "null"}]},
            "seq": {
                "oneOf": [_SEQ, {"type": "null"}],
                "description": "Where the answer leaves you.",
            },
            "reason": {
                "type": "string",
                "enum": ["deltas", "requested", "too_old", "future", "invalid"],
            },
            "snapshot": {
                "oneOf": [{"type": "object"}, {"type": "null"}],
                "description": "A `snapshot` message (lob.feed.wire JSON) when the deltas"
                " are out of reach.",
            },
            "deltas": {
                "type": "array",
                "items": {"type": "object"},
                "description": "`level` and `trade` messages (lob.feed.wire JSON), in seq order.",
            },
        },
        ["symbol", "reason", "snapshot", "deltas"],
    ),
    "OrderBook": _obj(
        {
            "symbol": {"type": "string"},
            "engine_seq": _SEQ,
            "bids": {
                "type": "array",
                "items": _obj(
                    {"oid": {"type": "integer"}, "price": _PRICE, "qty": {"type": "integer"}}
                ),
            },
            "asks": {"type": "array", "items": {"type": "object"}},
        },
        ["symbol", "engine_seq", "bids", "asks"],
        description="Every resting order in priority order, by engine id; owners are not shown.",
    ),
    "FeedInfo": _obj(
        {
            "group": {"type": "string"},
            "port": {"type": "integer"},
            "interface": {"type": "string"},
            "retransmit": {"type": "string", "description": "HOST:PORT of the retransmitter."},
            "session": {"type": "string"},
            "seq": _SEQ,
        },
        ["group", "port", "retransmit", "session", "seq"],
    ),
    "FeedSnapshot": _obj(
        {
            "seq": {**_SEQ, "description": "Last MoldUDP64 message sequence included."},
            "symbols": {
                "type": "array",
                "items": {"type": "array"},
                "description": "[locate, symbol] pairs.",
            },
            "orders": {
                "type": "array",
                "items": {"type": "array"},
                "description": "[locate, oid, side B/S, price units, shares], in priority order.",
            },
        },
        ["seq", "symbols", "orders"],
    ),
}

_ORDER_ERRORS = ["unauthorized", "unavailable"]
_NEW_ERRORS = [
    "malformed",
    "missing_field",
    "invalid_field",
    "invalid_id",
    "invalid_symbol",
    "unknown_symbol",
    "invalid_side",
    "invalid_type",
    "invalid_tif",
    "invalid_quantity",
    "invalid_price",
    "duplicate_id",
    "post_only_would_take",
    "price_out_of_collar",
    "outside_price_band",
    "market_closed",
    "symbol_halted",
    "not_continuous",
    "auction_closed",
    "payload_too_large",
    "too_many_orders",
]


def _param(name: str, where: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": where, "schema": schema, "description": description}
    if where == "path":
        out["required"] = True
    return out


_SYMBOL_PARAM = _param("symbol", "path", {"type": "string"}, "A traded symbol, e.g. AAPL.")
_ID_PARAM = _param("id", "path", _ID, "Your id of the order (percent-encode `/`).")


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(codes: list[str]) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(STATUS[code], []).append(code)
    by_status.setdefault(500, []).append("internal")
    out = {}
    for status in sorted(by_status):
        names = ", ".join(f"`{c}`" for c in by_status[status])
        out[str(status)] = _json(_ref("Error"), f"Error {names}.")
    return out


def _op(
    summary: str,
    description: str,
    ok: tuple[int, dict[str, Any]] | None,
    errors: list[str],
    *,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    auth: bool = False,
    tag: str = "market data",
    operation_id: str,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": [tag],
        "responses": {},
    }
    if ok is not None:
        op["responses"][str(ok[0])] = ok[1]
    op["responses"].update(_errors(errors))
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    op["security"] = [{"bearer": []}] if auth else []
    return op


def openapi_document() -> dict[str, Any]:
    """The complete OpenAPI 3.1 document of lob's REST API."""
    depth = _param("depth", "query", {"type": "integer", "minimum": 1, "maximum": 1000},
                   "Levels per side (all when absent).")  # fmt: skip
    paths: dict[str, Any] = {
        "/orders": {
            "post": _op(
                "Place an order",
                "Journaled, then matched; the answer comes once the order is durable (with"
                " `--fsync batch`, after the fsync of its batch) and carries the fills it"
                " produced at once.",
                (201, _json(_ref("Ack"), "Accepted.")),
                [*_ORDER_ERRORS, *_NEW_ERRORS],
                body=_ref("NewOrder"),
                auth=True,
                tag="orders",
                operation_id="place_order",
            ),
            "get": _op(
                "Your open orders",
                "Oldest first. `symbol` narrows the list.",
                (
                    200,
                    _json(
                        _obj({"orders": {"type": "array", "items": _ref("Order")}}, ["orders"]),
                        "Open orders.",
                    ),
                ),
                _ORDER_ERRORS,
                params=[_param("symbol", "query", {"type": "string"}, "Only this symbol.")],
                auth=True,
                tag="orders",
                operation_id="open_orders",
            ),
        },
        "/orders/{id}": {
            "get": _op(
                "One of your orders",
                "Status with filled and open quantity, also after it is done. Another"
                " account's order does not exist for you: `unknown_order`.",
                (200, _json(_ref("Order"), "The order.")),
                [*_ORDER_ERRORS, "unknown_order"],
                params=[_ID_PARAM],
                auth=True,
                tag="orders",
                operation_id="get_order",
            ),
            "delete": _op(
                "Cancel an order",
                "Cancels the rest of a live order.",
                (200, _json(_ref("Ack"), "Cancelled.")),
                [*_ORDER_ERRORS, "unknown_order", "invalid_id", "auction_closed"],
                params=[_ID_PARAM],
                auth=True,
                tag="orders",
                operation_id="cancel_order",
            ),
            "patch": _op(
                "Replace an order",
                "New price and/or open quantity. A smaller quantity at the same price keeps"
                " the order's place; anything else sends it to the back.",
                (200, _json(_ref("Ack"), "Replaced.")),
                [
                    *_ORDER_ERRORS,
                    "unknown_order",
                    "malformed",
                    "missing_field",
                    "invalid_field",
                    "invalid_id",
                    "invalid_quantity",
                    "invalid_price",
                    "post_only_would_take",
                    "price_out_of_collar",
                    "outside_price_band",
                    "market_closed",
                    "symbol_halted",
                    "payload_too_large",
                ],
                params=[_ID_PARAM],
                body=_ref("Replace"),
                auth=True,
                tag="orders",
                operation_id="replace_order",
            ),
        },
        "/fills": {
            "get": _op(
                "Your fills",
                "Newest first.",
                (
                    200,
                    _json(
                        _obj({"fills": {"type": "array", "items": _ref("Fill")}}, ["fills"]),
                        "Fills.",
                    ),
                ),
                [*_ORDER_ERRORS, "invalid_field"],
                params=[
                    _param(
                        "limit",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100},
                        "At most this many.",
                    )
                ],
                auth=True,
                tag="orders",
                operation_id="fills",
            ),
        },
        "/book/{symbol}": {
            "get": _op(
                "L2 book",
                "Price levels, best first, stamped with the per-symbol sequence they include.",
                (200, _json(_ref("Book"), "The book.")),
                ["unknown_symbol", "invalid_field"],
                params=[_SYMBOL_PARAM, depth],
                operation_id="book",
            ),
        },
        "/book/{symbol}/deltas": {
            "get": _op(
                "Catch up on a book",
                "The level and trade deltas after per-symbol seq `since`, or a full snapshot"
                " when they are no longer held (`reason` says why).",
                (200, _json(_ref("Deltas"), "Deltas or a snapshot.")),
                ["unknown_symbol", "invalid_field"],
                params=[
                    _SYMBOL_PARAM,
                    _param("since", "query", _SEQ, "The last seq you hold (absent: snapshot)."),
                ],
                operation_id="book_deltas",
            ),
        },
        "/book/{symbol}/orders": {
            "get": _op(
                "Order-level book",
                "Every resting order by engine order id, in priority order (no owners).",
                (200, _json(_ref("OrderBook"), "The orders.")),
                ["unknown_symbol"],
                params=[_SYMBOL_PARAM],
                operation_id="book_orders",
            ),
        },
        "/trades/{symbol}": {
            "get": _op(
                "Recent trades",
                "Newest first.",
                (200, _json(_ref("Trades"), "Trades.")),
                ["unknown_symbol", "invalid_field"],
                params=[
                    _SYMBOL_PARAM,
                    _param(
                        "limit",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
                        "At most this many.",
                    ),
                ],
                operation_id="trades",
            ),
        },
        "/state/{symbol}": {
            "get": _op(
                "Trading state",
                "The symbol's state in the trading day, its LULD bands (null when off) and"
                " its last cross (null before the first).",
                (200, _json(_ref("TradingState"), "The state.")),
                ["unknown_symbol"],
                params=[_SYMBOL_PARAM],
                operation_id="trading_state",
            ),
        },
        "/imbalance/{symbol}": {
            "get": _op(
                "Imbalance information",
                "The latest imbalance information while the symbol waits for a cross"
                " (pre-open, opening and closing auctions, a halt's quotation period, a LULD"
                " pause); `no_auction` otherwise.",
                (200, _json(_ref("Imbalance"), "The latest imbalance information.")),
                ["unknown_symbol", "no_auction"],
                params=[_SYMBOL_PARAM],
                operation_id="imbalance",
            ),
        },
        "/admin/symbols/{symbol}/state": {
            "post": _op(
                "Move a symbol's trading state",
                "Operator only (`lob serve --admin-key KEY`, or `LOB_ADMIN_KEY`): a trading"
                " key gets `forbidden`. Journaled like an order. Halt with `halted`, open the"
                " quotation period with `quote_only`, resume with `continuous` (the halt"
                " cross runs); a move the state machine does not allow is"
                " `illegal_transition`.",
                (200, _json(_ref("StateChanged"), "Moved.")),
                [
                    "unauthorized",
                    "forbidden",
                    "unknown_symbol",
                    "malformed",
                    "missing_field",
                    "invalid_field",
                    "illegal_transition",
                    "payload_too_large",
                    "unavailable",
                ],
                params=[_SYMBOL_PARAM],
                body=_ref("StateChange"),
                auth=True,
                tag="operator",
                operation_id="admin_state",
            ),
        },
        "/symbols": {
            "get": _op(
                "Traded symbols",
                "With reference prices, collars, best prices, the last trade, the trading"
                " state and LULD bands.",
                (
                    200,
                    _json(
                        _obj({"symbols": {"type": "array", "items": _ref("Symbol")}}, ["symbols"]),
                        "Symbols.",
                    ),
                ),
                [],
                operation_id="symbols",
            ),
        },
        "/feed": {
            "get": _op(
                "ITCH feed address",
                "Where the ITCH 5.0 / MoldUDP64 multicast feed and its retransmitter are.",
                (200, _json(_ref("FeedInfo"), "The feed.")),
                ["not_found"],
                operation_id="feed",
            ),
        },
        "/feed/snapshot": {
            "get": _op(
                "Feed recovery snapshot",
                "Every resting order of every symbol in ITCH terms, stamped with the last"
                " MoldUDP64 sequence it includes: what a subscriber loads when a gap is older"
                " than the retransmitter's window.",
                (200, _json(_ref("FeedSnapshot"), "The snapshot.")),
                ["not_found"],
                operation_id="feed_snapshot",
            ),
        },
        "/health": {
            "get": _op(
                "Health",
                "503 while the exchange is shutting down or its journal failed.",
                (200, _json(_ref("Health"), "Healthy.")),
                ["unavailable"],
                operation_id="health",
                tag="service",
            ),
        },
        "/metrics": {
            "get": _op(
                "Metrics",
                "Counters and gauges in the Prometheus text format, and the histogram "
                "`lob_ws_order_ack_seconds`: for each order a WebSocket client sent "
                "(alone or in a batch) that reached the sequencer, the time from reading "
                "its message off the socket to writing its answer, in buckets from 50 us "
                "to 5 s.",
                (
                    200,
                    {
                        "description": "Metrics.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                ),
                [],
                operation_id="metrics",
                tag="service",
            ),
        },
        "/openapi.json": {
            "get": _op(
                "This document",
                "OpenAPI 3.1.",
                (200, _json({"type": "object"}, "The document.")),
                [],
                operation_id="openapi",
                tag="service",
            ),
        },
        "/docs": {
            "get": _op(
                "This reference as HTML",
                "Rendered from the OpenAPI document; no external resources.",
                (
                    200,
                    {
                        "description": "HTML.",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                ),
                [],
                operation_id="docs",
                tag="service",
            ),
        },
    }
    from lob.server.history_openapi import HISTORY_SCHEMAS, HISTORY_TAG, history_paths

    paths.update(history_paths())
    for item in paths.values():
        for op in item.values():
            for code in ("not_found", "method_not_allowed"):
                op["responses"].setdefault(
                    str(STATUS[code]), _json(_ref("Error"), f"Error `{code}`.")
                )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lob exchange REST API",
            "version": "1",
            "description": "Order entry and market data of `lob serve`. Prices are decimal"
            " strings, quantities integers, `ts` integer nanoseconds since the epoch. Order"
            " endpoints need `Authorization: Bearer KEY`; an account sees and touches only"
            " its own orders. Bodies are limited to 64 KiB by default (`payload_too_large`)."
            " The WebSocket protocol on `/ws` is in docs/protocol-websocket.md.",
        },
        "servers": [{"url": "http://127.0.0.1:8000"}],
        "tags": [
            {"name": "orders", "description": "Your orders and fills (bearer key)."},
            {"name": "market data", "description": "Public."},
            {"name": "operator", "description": "Halts and resumptions (admin key)."},
            HISTORY_TAG,
            {"name": "service", "description": "Health, metrics, this reference."},
        ],
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **HISTORY_SCHEMAS},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: `lob serve --api-key ACCOUNT:KEY`; operator"
                    " endpoints take the admin key (`--admin-key`).",
                }
            },
        },
        "x-error-codes": {
            code: {"status": STATUS[code], "description": DESCRIPTIONS[code]}
            for code in sorted(STATUS)
        },
    }


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            out.append((method.upper(), path, op))
    order = {"orders": 0, "market data": 1, "operator": 2, "history": 3, "service": 4}
    out.sort(key=lambda t: (order.get(t[2]["tags"][0], 9), t[1]))
    return out


def _schema_text(schema: Any) -> str:
    return json.dumps(schema, indent=2)


def docs_html(doc: dict[str, Any]) -> str:
    """A self-contained HTML reference of ``doc`` (inline CSS, no scripts, no CDN)."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(doc['info']['title'])}</title>",
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#222}code,pre{font:13px ui-monospace,monospace}pre{background:"
        "#f5f5f5;padding:.6rem;overflow:auto}h2{border-bottom:1px solid #ddd}.m{display:"
        "inline-block;min-width:4.5rem;font-weight:bold}.GET{color:#06c}.POST{color:#080}"
        ".DELETE{color:#c00}.PATCH{color:#a60}table{border-collapse:collapse}td,th{border:"
        "1px solid #ddd;padding:.2rem .5rem;text-align:left}</style></head><body>",
        f"<h1>{e(doc['info']['title'])}</h1><p>{e(doc['info']['description'])}</p>",
        "<h2>Endpoints</h2><ul>",
    ]
    ops = _operations(doc)
    for method, path, op in ops:
        parts.append(
            f"<li><a href='#{e(op['operationId'])}'><span class='m {method}'>{method}</span>"
            f"<code>{e(path)}</code></a> {e(op['summary'])}</li>"
        )
    parts.append("</ul>")
    for method, path, op in ops:
        parts.append(
            f"<h3 id='{e(op['operationId'])}'><span class='m {method}'>{method}</span>"
            f"<code>{e(path)}</code></h3><p>{e(op['summary'])}. {e(op['description'])}</p>"
        )
        if op["security"]:
            parts.append("<p>Needs <code>Authorization: Bearer KEY</code>.</p>")
        if op.get("parameters"):
            parts.append("<table><tr><th>parameter</th><th>in</th><th>description</th></tr>")
            for p in op["parameters"]:
                parts.append(
                    f"<tr><td><code>{e(p['name'])}</code></td><td>{e(p['in'])}</td>"
                    f"<td>{e(p['description'])}</td></tr>"
                )
            parts.append("</table>")
        if "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            parts.append(f"<p>Body: <code>{e(schema.get('$ref', '').split('/')[-1])}</code></p>")
        parts.append("<table><tr><th>status</th><th>answer</th></tr>")
        for status, response in op["responses"].items():
            parts.append(f"<tr><td>{e(status)}</td><td>{e(response['description'])}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Error codes</h2><table><tr><th>code</th><th>status</th><th>meaning</th>")
    for code, info in doc["x-error-codes"].items():
        parts.append(
            f"<tr><td><code>{e(code)}</code></td><td>{info['status']}</td>"
            f"<td>{e(info['description'])}</td></tr>"
        )
    parts.append("</table><h2>Schemas</h2>")
    for name, schema in doc["components"]["schemas"].items():
        parts.append(
            f"<h3 id='schema-{e(name)}'>{e(name)}</h3><pre>{e(_schema_text(schema))}</pre>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def rest_markdown(doc: dict[str, Any]) -> str:
    """docs/rest.md: the same reference as Markdown."""
    lines = [
        "# REST API",
        "",
        "<!-- Generated by `python -m lob.server.openapi` from the OpenAPI document that"
        " `GET /openapi.json` serves; edit lob/server/openapi.py, not this file. -->",
        "",
        doc["info"]["description"],
        "",
        "`lob serve` prints the address (default `http://127.0.0.1:8000`) and, on first start,"
        " a demo API key. `GET /docs` shows this reference in a browser.",
        "",
        "```sh",
        'curl -s -H "Authorization: Bearer $LOB_KEY" \\',
        '     -d \'{"symbol":"AAPL","side":"buy","qty":100,"price":"227.50"}\' \\',
        "     http://127.0.0.1:8000/orders",
        "curl -s 'http://127.0.0.1:8000/book/AAPL?depth=5'",
        "```",
        "",
        "## Endpoints",
        "",
        "| method | path | summary | key |",
        "| --- | --- | --- | --- |",
    ]
    ops = _operations(doc)
    for method, path, op in ops:
        key = ("admin" if op["tags"][0] == "operator" else "yes") if op["security"] else ""
        lines.append(f"| {method} | `{path}` | {op['summary']} | {key} |")
    for method, path, op in ops:
        lines += ["", f"### {method} `{path}`", "", f"{op['summary']}. {op['description']}"]
        if op.get("parameters"):
            lines += ["", "| parameter | in | description |", "| --- | --- | --- |"]
            for p in op["parameters"]:
                lines.append(f"| `{p['name']}` | {p['in']} | {p['description']} |")
        if "requestBody" in op:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            lines += ["", f"Body: [`{ref.split('/')[-1]}`](#{ref.split('/')[-1].lower()})."]
        lines += ["", "| status | answer |", "| --- | --- |"]
        for status, response in op["responses"].items():
            lines.append(f"| {status} | {response['description']} |")
    lines += [
        "",
        "## Errors",
        "",
        'Every error is `{"error": {"code": "...", "message": "..."}}`. Input refused'
        " before the engine (malformed bodies, unknown symbols, off-tick prices, bad"
        " quantities, size limits) is never journaled and changes nothing, not even a"
        " sequence number. Another account's order is reported as `unknown_order`, never"
        " `not_owner`, so that no one can probe which ids others use.",
        "",
        "| code | status | meaning |",
        "| --- | --- | --- |",
    ]
    for code, info in doc["x-error-codes"].items():
        lines.append(f"| `{code}` | {info['status']} | {info['description']} |")
    lines += ["", "## Schemas"]
    for name, schema in doc["components"]["schemas"].items():
        lines += ["", f"### {name}", "", "```json", _schema_text(schema), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - documentation generator
    print(rest_markdown(openapi_document()), end="")
