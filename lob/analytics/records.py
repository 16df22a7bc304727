"""Analytics results in lob's public JSON shape.

Frames and dataclasses inside lob carry money as integer 1/10,000-dollar
units. At the edge (``lob analytics --json``, the REST API) prices, VWAPs,
spreads and notionals become decimal strings (``"187.2534"``), quantities and
counts stay integers and times stay integer nanoseconds (``ts``-like keys).
A VWAP is rounded half away from zero to $0.0001, from the exact notional
and volume when the row has them.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from lob.analytics.activity import Activity
from lob.analytics.timefmt import decimal_text, round_ratio
from lob.analytics.trades import TradeMetrics, Vwap

__all__ = [
    "MONEY_KEYS",
    "PRICE_KEYS",
    "activity_record",
    "frame_records",
    "json_record",
    "metrics_record",
    "money_text",
    "vwap_record",
]

PRICE_KEYS = frozenset(
    {
        "price",
        "accepted_price",
        "old_price",
        "open",
        "high",
        "low",
        "close",
        "change",
        "bid_price",
        "ask_price",
        "vwap",
        "mean_spread",
        "median_spread",
        "min_spread",
        "max_spread",
        "time_weighted_spread",
    }
)
"""Keys whose values are prices (or price differences) in 1/10,000 dollar."""

MONEY_KEYS = frozenset({"notional", "turnover", "average_trade_notional"})
"""Keys whose values are amounts of money in 1/10,000 dollar."""


def money_text(value: object) -> str | None:
    """An int, Decimal or float amount of 1/10,000-dollar units -> decimal text (None stays)."""
    if value is None:
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        units = math.floor(abs(value) + 0.5)
        return decimal_text(units if value >= 0 else -units)
    return decimal_text(int(value))  # type: ignore[call-overload]


def json_record(row: dict[str, Any]) -> dict[str, Any]:
    """One result row or object as JSON: money keys to decimal text, non-finite floats to None."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "vwap" and row.get("volume") and row.get("notional") is not None:
            out[key] = decimal_text(round_ratio(int(row["notional"]), int(row["volume"])))
        elif key in PRICE_KEYS or key in MONEY_KEYS:
            out[key] = money_text(value)
        elif isinstance(value, float) and not math.isfinite(value):
            out[key] = None
        else:
            out[key] = value
    return out


def frame_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Every row of an analytics frame as a JSON-ready dict (money as decimal text)."""
    return [json_record(row) for row in frame.iter_rows(named=True)]


def vwap_record(result: Vwap) -> dict[str, Any]:
    """``{"symbol", "vwap", "volume", "notional", "trades", "first_ts", "last_ts", ...}``."""
    return json_record(
        {
            "symbol": result.symbol,
            "vwap": None,
            "volume": result.volume,
            "notional": result.notional,
            "trades": result.trades,
            "first_ts": result.first_ts,
            "last_ts": result.last_ts,
            "start": result.start,
            "end": result.end,
        }
    )


def metrics_record(result: TradeMetrics) -> dict[str, Any]:
    """Trade metrics as JSON: counts, volume, money, OHLC, largest trade, trades per minute."""
    largest = None
    if result.largest is not None:
        largest = json_record(dict(result.largest))
    record = json_record(
        {
            "symbol": result.symbol,
            "trades": result.trades,
            "volume": result.volume,
            "notional": result.notional,
            "vwap": None,
            "buy_volume": result.buy_volume,
            "sell_volume": result.sell_volume,
            "average_trade_qty": result.average_trade_qty,
            "average_trade_notional": result.average_trade_notional,
            "trades_per_minute": result.trades_per_minute,
            "minutes": result.minutes,
            "open": result.open,
            "high": result.high,
            "low": result.low,
            "close": result.close,
            "first_ts": result.first_ts,
            "last_ts": result.last_ts,
            "start": result.start,
            "end": result.end,
        }
    )
    if result.trades:
        exact = round_ratio(result.notional, result.trades)
        record["average_trade_notional"] = decimal_text(exact)
    record["largest_trade"] = largest
    return record


def activity_record(result: Activity) -> dict[str, Any]:
    """Market activity as JSON: per-symbol rows, rankings (symbol lists) and totals."""
    return {
        "symbols": frame_records(result.symbols),
        "most_active_by_volume": result.most_active_by_volume,
        "most_active_by_trades": result.most_active_by_trades,
        "top_gainers": result.top_gainers,
        "top_losers": result.top_losers,
        "trades": result.trades,
        "volume": result.volume,
        "turnover": decimal_text(result.turnover),
    }
