"""The analytics and history questions as GET endpoints: a path and query text in, JSON out.

``handle(source, path, params)`` answers one request from any
``HistorySource`` (in a server, ``DuckDBSource(writer.reader())``) and returns
``(HTTP status, JSON body)``, so a server mounts every endpoint with one call
and answers exactly what ``lob analytics --json`` prints. Errors are the shared
``{"error": {"code", "message"}}`` with the status in
``lob.analytics.errors.STATUS`` (unknown paths: 404 ``not_found``; bad query
values: 400 ``invalid_field``).

| path | query |
|---|---|
| ``/analytics/vwap/{symbol}`` | ``since``, ``until``, ``window`` + ``step``, or ``every`` |
| ``/analytics/bars/{symbol}`` | ``interval`` (default 1m), ``since``, ``until``, ``fill`` |
| ``/analytics/metrics/{symbol}`` | ``since``, ``until`` |
| ``/analytics/spread/{symbol}`` | ``since``, ``until`` |
| ``/analytics/volatility/{symbol}`` | ``interval``, ``since``, ``until`` |
| ``/analytics/imbalance/{symbol}`` | ``interval``, ``since``, ``until`` |
| ``/analytics/activity`` | ``since``, ``until``, ``top`` (default 5) |
| ``/history/trades[/{symbol}]`` | ``symbol``, ``since``, ``until``, ``limit``, ``cursor`` |
| ``/history/orders/{account}`` | ``symbol``, ``limit``, ``cursor`` |

The same questions also answer as ``/analytics/{symbol}/vwap`` (and so on for
each per-symbol question) and ``/history/orders?account=NAME``: the layout
``lob serve`` publishes, which ``lob analytics --url`` asks.

Times are as on the command line (``HH:MM``, ISO, or ns since the epoch);
intervals are ``1s`` to ``1d``. ``/history/orders`` shows an account's
orders: a server should let only that account's key read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lob.analytics.errors import STATUS, AnalyticsError
from lob.analytics.source import HistorySource
from lob.analytics.timefmt import parse_interval, parse_time

__all__ = [
    "PER_SYMBOL",
    "bars_body",
    "handle",
    "imbalance_body",
    "time_range",
    "vwap_body",
]

Json = dict[str, Any]
INVALID_FIELD = "invalid_field"
NOT_FOUND = "not_found"


class _BadParam(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def time_range(
    source: HistorySource, symbol: str | None, since: str | None, until: str | None
) -> tuple[int | None, int | None]:
    """Parse ``since``/``until``; a clock time is on the day of the (symbol's) first trade."""

    def day() -> int | None:
        return source.first_ts(symbol)

    start = parse_time(since, day) if since is not None else None
    end = parse_time(until, day) if until is not None else None
    return start, end


def vwap_body(
    source: HistorySource,
    symbol: str,
    start: int | None,
    end: int | None,
    window: str | None = None,
    step: str = "1m",
    every: str | None = None,
) -> Json:
    """The VWAP object, with a rolling (``window``) or anchored (``every``) ``series``."""
    result = source.vwap(symbol, start, end)
    if window is not None:
        result["series"] = source.rolling_vwap(
            symbol, parse_interval(window), parse_interval(step), start, end
        )
    elif every is not None:
        anchor = start if start is not None else (source.first_ts(symbol) or 0)
        result["series"] = source.anchored_vwap(symbol, anchor, parse_interval(every), end)
    return result


def bars_body(
    source: HistorySource,
    symbol: str,
    interval: str,
    start: int | None,
    end: int | None,
    fill: bool = False,
) -> Json:
    length = parse_interval(interval)
    rows = source.bars(symbol, length, start, end, fill)
    return {"symbol": symbol, "interval": length, "bars": rows}


def imbalance_body(
    source: HistorySource, symbol: str, interval: str, start: int | None, end: int | None
) -> Json:
    length = parse_interval(interval)
    rows = source.imbalance(symbol, length, start, end)
    return {"symbol": symbol, "interval": length, "intervals": rows}


def _int(params: Mapping[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit():
        raise _BadParam(f"{name} must be a whole number: {text!r}")
    return int(text)


def _bool(params: Mapping[str, str], name: str) -> bool:
    text = params.get(name, "false").lower()
    if text not in ("true", "false", "1", "0"):
        raise _BadParam(f"{name} must be true or false: {text!r}")
    return text in ("true", "1")


def _error(status: int, code: str, message: str) -> tuple[int, Json]:
    return status, {"error": {"code": code, "message": message}}


def handle(source: HistorySource, path: str, params: Mapping[str, str]) -> tuple[int, Json]:
    """Answer one GET request: ``(status, body)``; never raises for bad input."""
    parts = [part for part in path.split("/") if part]
    try:
        answer = _route(parts)
        if answer is None:
            return _error(404, NOT_FOUND, f"no such endpoint: {path}")
        return 200, answer(source, params)
    except AnalyticsError as exc:
        return STATUS.get(exc.code, 400), exc.to_dict()
    except _BadParam as exc:
        return _error(400, INVALID_FIELD, exc.message)


Answer = Callable[[HistorySource, Mapping[str, str]], Json]


def _route(parts: list[str]) -> Answer | None:
    match parts:
        case ["analytics", "vwap", symbol]:
            return lambda s, p: vwap_body(
                s,
                symbol,
                *time_range(s, symbol, p.get("since"), p.get("until")),
                p.get("window"),
                p.get("step", "1m"),
                p.get("every"),
            )
        case ["analytics", "bars", symbol]:
            return lambda s, p: bars_body(
                s,
                symbol,
                p.get("interval", "1m"),
                *time_range(s, symbol, p.get("since"), p.get("until")),
                _bool(p, "fill"),
            )
        case ["analytics", "metrics", symbol]:
            return lambda s, p: s.metrics(
                symbol, *time_range(s, symbol, p.get("since"), p.get("until"))
            )
        case ["analytics", "spread", symbol]:
            return lambda s, p: s.spread(
                symbol, *time_range(s, symbol, p.get("since"), p.get("until"))
            )
        case ["analytics", "volatility", symbol]:
            return lambda s, p: s.volatility(
                symbol,
                parse_interval(p.get("interval", "1m")),
                *time_range(s, symbol, p.get("since"), p.get("until")),
            )
        case ["analytics", "imbalance", symbol]:
            return lambda s, p: imbalance_body(
                s,
                symbol,
                p.get("interval", "1m"),
                *time_range(s, symbol, p.get("since"), p.get("until")),
            )
        case ["analytics", "activity"]:
            return lambda s, p: s.activity(
                *time_range(s, None, p.get("since"), p.get("until")), _int(p, "top", 5)
            )
        case ["history", "trades", *rest] if len(rest) <= 1:
            return lambda s, p: _trades(s, rest[0] if rest else p.get("symbol"), p)
        case ["history", "orders", account]:
            return lambda s, p: s.orders(
                account, p.get("symbol"), _int(p, "limit", 100), p.get("cursor")
            )
        case ["history", "orders"]:
            return lambda s, p: s.orders(
                _required(p, "account"), p.get("symbol"), _int(p, "limit", 100), p.get("cursor")
            )
        case ["analytics", symbol, question] if question in PER_SYMBOL:
            return _route(["analytics", question, symbol])
    return None


PER_SYMBOL = ("vwap", "bars", "metrics", "spread", "volatility", "imbalance")
"""The questions about one symbol, each also at ``/analytics/{symbol}/{question}``."""


def _trades(source: HistorySource, symbol: str | None, params: Mapping[str, str]) -> Json:
    return source.trades(
        symbol,
        *time_range(source, symbol, params.get("since"), params.get("until")),
        _int(params, "limit", 100),
        params.get("cursor"),
    )


def _required(params: Mapping[str, str], name: str) -> str:
    text = params.get(name)
    if not text:
        raise _BadParam(f"{name} is required")
    return text
