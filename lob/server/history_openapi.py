"""The OpenAPI part of the history and analytics endpoints (``lob.server.history_api``).

Kept apart from ``lob.server.openapi`` because it is one family of endpoints
with its own schemas (the JSON that ``lob analytics --json`` prints, from
``lob.analytics.records``); ``openapi_document()`` merges it in, so
/openapi.json, /docs and docs/rest.md still come from one document.
"""

from __future__ import annotations

from typing import Any

from lob.server.openapi import _SYMBOL_PARAM, _TS, _json, _obj, _op, _param, _ref

__all__ = ["HISTORY_SCHEMAS", "HISTORY_TAG", "history_paths"]

HISTORY_TAG = {
    "name": "history",
    "description": "Analytics and the trade and order history, from the server's history"
    " file (public, but your own order history needs your key); 503 `unavailable` with"
    " `--no-history`. An answer includes every order acknowledged before the request.",
}

_MONEY = {"type": "string", "description": "Dollars as a decimal string, e.g. `13650.00`."}
_PRICE = {"type": "string", "description": "A price as a decimal string, e.g. `227.50`."}
_PRICE_OR_NULL = {"oneOf": [_PRICE, {"type": "null"}]}
_TS_OR_NULL = {"oneOf": [_TS, {"type": "null"}]}
_NUMBER_OR_NULL = {"oneOf": [{"type": "number"}, {"type": "null"}]}
_INTERVAL_NS = {"type": "integer", "description": "The interval in nanoseconds."}

HISTORY_SCHEMAS: dict[str, Any] = {
    "Vwap": _obj(
        {
            "symbol": {"type": "string"},
            "vwap": {**_PRICE_OR_NULL, "description": "Null when no trade is in the range."},
            "volume": {"type": "integer"},
            "notional": _MONEY,
            "trades": {"type": "integer"},
            "first_ts": _TS_OR_NULL,
            "last_ts": _TS_OR_NULL,
            "start": _TS_OR_NULL,
            "end": _TS_OR_NULL,
            "series": {
                "type": "array",
                "items": _ref("VwapPoint"),
                "description": "With `window` (rolling) or `every` (anchored) only.",
            },
        },
        ["symbol", "vwap", "volume", "notional", "trades"],
    ),
    "VwapPoint": _obj(
        {
            "end": _TS,
            "volume": {"type": "integer"},
            "notional": _MONEY,
            "vwap": _PRICE_OR_NULL,
        },
        ["end", "volume", "notional", "vwap"],
    ),
    "Bars": _obj(
        {
            "symbol": {"type": "string"},
            "interval": _INTERVAL_NS,
            "bars": {"type": "array", "items": _ref("Bar")},
        },
        ["symbol", "interval", "bars"],
    ),
    "Bar": _obj(
        {
            "start": _TS,
            "open": _PRICE_OR_NULL,
            "high": _PRICE_OR_NULL,
            "low": _PRICE_OR_NULL,
            "close": _PRICE_OR_NULL,
            "volume": {"type": "integer"},
            "trades": {"type": "integer"},
            "notional": _MONEY,
            "vwap": _PRICE_OR_NULL,
        },
        ["start", "open", "high", "low", "close", "volume", "trades"],
        description="OHLCV of one interval; prices are null in a gap filled with `fill`.",
    ),
    "TradeMetrics": _obj(
        {
            "symbol": {"type": "string"},
            "trades": {"type": "integer"},
            "volume": {"type": "integer"},
            "notional": _MONEY,
            "vwap": _PRICE_OR_NULL,
            "buy_volume": {"type": "integer"},
            "sell_volume": {"type": "integer"},
            "average_trade_qty": _NUMBER_OR_NULL,
            "average_trade_notional": {"oneOf": [_MONEY, {"type": "null"}]},
            "trades_per_minute": _NUMBER_OR_NULL,
            "open": _PRICE_OR_NULL,
            "high": _PRICE_OR_NULL,
            "low": _PRICE_OR_NULL,
            "close": _PRICE_OR_NULL,
            "largest_trade": {"oneOf": [{"type": "object"}, {"type": "null"}]},
        },
        ["symbol", "trades", "volume"],
    ),
    "SpreadStats": _obj(
        {
            "symbol": {"type": "string"},
            "quotes": {"type": "integer", "description": "Top-of-book changes in the range."},
            "two_sided": {"type": "integer"},
            "mean_spread": _NUMBER_OR_NULL,
            "median_spread": _NUMBER_OR_NULL,
            "time_weighted_spread": _NUMBER_OR_NULL,
        },
        ["symbol", "quotes"],
        description="Quoted spread statistics; null when the book was never two-sided.",
    ),
    "Volatility": _obj(
        {
            "symbol": {"type": "string"},
            "interval": _INTERVAL_NS,
            "bars": {"type": "integer"},
            "returns": {"type": "integer"},
            "realized_variance": _NUMBER_OR_NULL,
            "realized_volatility": _NUMBER_OR_NULL,
        },
        ["symbol", "interval", "bars", "returns"],
    ),
    "FlowImbalance": _obj(
        {
            "symbol": {"type": "string"},
            "interval": _INTERVAL_NS,
            "intervals": {
                "type": "array",
                "items": _obj(
                    {
                        "start": _TS,
                        "ofi": {"type": "integer", "description": "Order-flow imbalance."},
                        "quote_changes": {"type": "integer"},
                        "buy_volume": {"type": "integer"},
                        "sell_volume": {"type": "integer"},
                        "imbalance": _NUMBER_OR_NULL,
                    },
                    ["start", "ofi"],
                ),
            },
        },
        ["symbol", "interval", "intervals"],
    ),
    "Activity": _obj(
        {
            "symbols": {"type": "array", "items": {"type": "object"}},
            "most_active_by_volume": {"type": "array", "items": {"type": "string"}},
            "most_active_by_trades": {"type": "array", "items": {"type": "string"}},
            "top_gainers": {"type": "array", "items": {"type": "object"}},
            "top_losers": {"type": "array", "items": {"type": "object"}},
            "trades": {"type": "integer"},
            "volume": {"type": "integer"},
            "turnover": _MONEY,
        },
        ["symbols", "trades", "volume", "turnover"],
        description="Every symbol's trades, volume, OHLC and change, and the leaders.",
    ),
    "HistoryTrades": _obj(
        {
            "trades": {"type": "array", "items": _ref("HistoryTrade")},
            "next_cursor": {
                "oneOf": [{"type": "string"}, {"type": "null"}],
                "description": "Pass as `cursor` for the next page; null on the last.",
            },
        },
        ["trades", "next_cursor"],
    ),
    "HistoryTrade": _obj(
        {
            "ts": _TS,
            "session": {"type": "integer"},
            "seq": {"type": "integer"},
            "symbol": {"type": "string"},
            "trade_id": {"type": "integer"},
            "price": _PRICE,
            "qty": {"type": "integer"},
            "aggressor": {"oneOf": [{"type": "string"}, {"type": "null"}]},
            "buy_account": {"type": "string"},
            "buy_id": {"type": "string"},
            "buy_oid": {"type": "integer"},
            "sell_account": {"type": "string"},
            "sell_id": {"type": "string"},
            "sell_oid": {"type": "integer"},
        },
        ["ts", "symbol", "trade_id", "price", "qty"],
        description="Oldest first; `aggressor` is null for a cross's trades.",
    ),
    "HistoryOrders": _obj(
        {
            "orders": {"type": "array", "items": {"type": "object"}},
            "next_cursor": {"oneOf": [{"type": "string"}, {"type": "null"}]},
        },
        ["orders", "next_cursor"],
        description="Each order as accepted, with its filled quantity, what is left and its"
        " status now.",
    ),
}

_RANGE = [
    _param(
        "since",
        "query",
        {"type": "string"},
        "Start (inclusive): `HH:MM[:SS]` New York time on the day of the first trade, an"
        " ISO date-time, or ns since the epoch.",
    ),
    _param("until", "query", {"type": "string"}, "End (exclusive), as `since`."),
]
_INTERVAL = _param(
    "interval", "query", {"type": "string", "default": "1m"}, "`1s` to `1d`, e.g. `1m`, `15m`."
)
_LIMIT = _param(
    "limit",
    "query",
    {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100},
    "At most this many rows.",
)
_CURSOR = _param("cursor", "query", {"type": "string"}, "`next_cursor` of the previous page.")
_COMMON = ["empty_history", "invalid_time", "invalid_field", "unavailable"]
_SYMBOL_ERRORS = ["unknown_symbol", *_COMMON]


def _get(
    summary: str,
    description: str,
    schema: str,
    errors: list[str],
    params: list[dict[str, Any]],
    operation_id: str,
    auth: bool = False,
) -> dict[str, Any]:
    return {
        "get": _op(
            summary,
            description,
            (200, _json(_ref(schema), summary + ".")),
            errors,
            params=params,
            auth=auth,
            tag="history",
            operation_id=operation_id,
        )
    }


def history_paths() -> dict[str, Any]:
    """The path items of every history and analytics endpoint."""
    return {
        "/analytics/{symbol}/vwap": _get(
            "VWAP",
            "Volume-weighted average price over `[since, until)`; `window` (with `step`) adds"
            " a rolling series, `every` one anchored at `since`.",
            "Vwap",
            [*_SYMBOL_ERRORS, "invalid_interval"],
            [
                _SYMBOL_PARAM,
                *_RANGE,
                _param("window", "query", {"type": "string"}, "Rolling window, e.g. `5m`."),
                _param(
                    "step",
                    "query",
                    {"type": "string", "default": "1m"},
                    "Step of the rolling series (the window is whole steps).",
                ),
                _param("every", "query", {"type": "string"}, "Anchored series interval."),
            ],
            "analytics_vwap",
        ),
        "/analytics/{symbol}/bars": _get(
            "OHLCV bars",
            "One bar per interval with trades; `fill=true` adds the empty intervals between.",
            "Bars",
            [*_SYMBOL_ERRORS, "invalid_interval"],
            [
                _SYMBOL_PARAM,
                _INTERVAL,
                *_RANGE,
                _param(
                    "fill",
                    "query",
                    {"type": "boolean", "default": False},
                    "Also the intervals without trades.",
                ),
            ],
            "analytics_bars",
        ),
        "/analytics/{symbol}/metrics": _get(
            "Trade metrics",
            "Trades, volume, notional, VWAP, buy and sell volume, OHLC, the largest trade.",
            "TradeMetrics",
            _SYMBOL_ERRORS,
            [_SYMBOL_PARAM, *_RANGE],
            "analytics_metrics",
        ),
        "/analytics/{symbol}/spread": _get(
            "Spread statistics",
            "Quoted spread and top-of-book sizes, plain and time-weighted.",
            "SpreadStats",
            _SYMBOL_ERRORS,
            [_SYMBOL_PARAM, *_RANGE],
            "analytics_spread",
        ),
        "/analytics/{symbol}/volatility": _get(
            "Realized volatility",
            "From the log returns of the closes of `interval` bars.",
            "Volatility",
            [*_SYMBOL_ERRORS, "invalid_interval"],
            [_SYMBOL_PARAM, _INTERVAL, *_RANGE],
            "analytics_volatility",
        ),
        "/analytics/{symbol}/imbalance": _get(
            "Order-flow imbalance",
            "Per interval: order-flow imbalance of the top of book and buy/sell volume.",
            "FlowImbalance",
            [*_SYMBOL_ERRORS, "invalid_interval"],
            [_SYMBOL_PARAM, _INTERVAL, *_RANGE],
            "analytics_imbalance",
        ),
        "/analytics/activity": _get(
            "Market activity",
            "Every symbol's activity, the most active and the top movers.",
            "Activity",
            _COMMON,
            [
                *_RANGE,
                _param(
                    "top",
                    "query",
                    {"type": "integer", "minimum": 0, "default": 5},
                    "How many leaders per list.",
                ),
            ],
            "analytics_activity",
        ),
        "/history/trades": _get(
            "Trade history",
            "Every trade, oldest first, a page at a time. `from`/`to` are the same as"
            " `since`/`until` (give one of each pair).",
            "HistoryTrades",
            ["unknown_symbol", *_COMMON, "invalid_cursor", "invalid_limit"],
            [
                _param("symbol", "query", {"type": "string"}, "Only this symbol."),
                *_RANGE,
                _param("from", "query", {"type": "string"}, "Another name for `since`."),
                _param("to", "query", {"type": "string"}, "Another name for `until`."),
                _LIMIT,
                _CURSOR,
            ],
            "history_trades",
        ),
        "/history/orders": _get(
            "Your order history",
            "Your account's orders, also those long done, oldest first. `account`, when"
            " given, must be the key's own: another account's history is `forbidden`.",
            "HistoryOrders",
            [
                "unauthorized",
                "forbidden",
                "unknown_symbol",
                "empty_history",
                "invalid_field",
                "invalid_cursor",
                "invalid_limit",
                "unavailable",
            ],
            [
                _param("account", "query", {"type": "string"}, "Your account (optional)."),
                _param("symbol", "query", {"type": "string"}, "Only this symbol."),
                _LIMIT,
                _CURSOR,
            ],
            "history_orders",
            auth=True,
        ),
    }
