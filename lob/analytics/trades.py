"""Trade analytics: VWAP, OHLCV bars, trade metrics, realized volatility, trade-flow imbalance.

The heavy lifting (filtering and aggregating millions of trades) runs in DuckDB,
which scans the history's columns in parallel and returns only the aggregate
rows; polars then works on those small frames (filling bar gaps, returns).
docs/benchmarks.md has the measured latencies over ten million trades.

Definitions (docs/history.md gives them with examples):

- Money is integer units of 1/10,000 dollar, like prices; ``notional`` is
  ``sum(price * qty)`` in those units, so it is exact. A VWAP is
  ``notional / volume`` (a float in price units in frames; rounded half away
  from zero to $0.0001 at the JSON edge).
- A time range is ``[start, end)`` in ns since the epoch; None is open.
- Bars start at multiples of the interval counted from New York midnight of
  the first trade's day (for intervals that divide an hour this is the same as
  counting from the epoch). Open and close are the first and last trade by
  ``(ts, seq)``. A bar exists only where there are trades unless gaps are
  filled: a filled bar has open = high = low = close = the previous close and
  no volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from lob.analytics.db import (
    ORDER_KEY,
    Connectable,
    check_symbol,
    connect,
    fetch_frame,
    fetch_one,
    time_filter,
)
from lob.analytics.errors import INVALID_INTERVAL, AnalyticsError
from lob.analytics.timefmt import NS, new_york_midnight

__all__ = [
    "BAR_COLUMNS",
    "TradeMetrics",
    "Vwap",
    "anchored_vwap",
    "bars",
    "realized_volatility",
    "rolling_vwap",
    "trade_flow",
    "trade_metrics",
    "vwap",
]

BAR_COLUMNS = (
    "start",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "trades",
    "notional",
    "vwap",
)
"""The columns of ``bars()``: prices and notional in 1/10,000 dollar, ``start`` in ns."""

_HOUR = 3600 * NS


@dataclass(frozen=True)
class Vwap:
    """The volume-weighted average price of a symbol's trades over a time range."""

    symbol: str
    volume: int
    notional: int
    trades: int
    first_ts: int | None
    last_ts: int | None
    start: int | None = None
    end: int | None = None

    @property
    def vwap(self) -> float | None:
        """In price units (1/10,000 dollar); None when nothing traded."""
        return self.notional / self.volume if self.volume else None


@dataclass(frozen=True)
class TradeMetrics:
    """Counts and sizes of a symbol's trades over a time range (see ``trade_metrics``)."""

    symbol: str
    trades: int
    volume: int
    notional: int
    buy_volume: int
    sell_volume: int
    first_ts: int | None
    last_ts: int | None
    open: int | None
    high: int | None
    low: int | None
    close: int | None
    largest: dict[str, int] | None
    minutes: float
    start: int | None = None
    end: int | None = None

    @property
    def average_trade_qty(self) -> float | None:
        return self.volume / self.trades if self.trades else None

    @property
    def average_trade_notional(self) -> float | None:
        return self.notional / self.trades if self.trades else None

    @property
    def trades_per_minute(self) -> float:
        return self.trades / self.minutes if self.minutes else 0.0

    @property
    def vwap(self) -> float | None:
        return self.notional / self.volume if self.volume else None


def _check_interval(interval: int) -> None:
    if type(interval) is not int or interval <= 0:
        raise AnalyticsError(INVALID_INTERVAL, f"an interval must be positive ns: {interval!r}")


def _origin(
    con: duckdb.DuckDBPyConnection,
    symbol: str | None,
    start: int | None,
    end: int | None,
    interval: int,
) -> int:
    if _HOUR % interval == 0:
        return 0  # New York midnight is a whole number of hours from the epoch
    where, params = time_filter(symbol, start, end)
    row = fetch_one(con, f"SELECT min(ts) FROM trades {where}", params)
    return new_york_midnight(int(row[0])) if row[0] is not None else 0


def vwap(
    source: Connectable, symbol: str, start: int | None = None, end: int | None = None
) -> Vwap:
    """VWAP of ``symbol`` over ``[start, end)``: the whole session, or anchored at ``start``."""
    with connect(source) as con:
        where, params = time_filter(symbol, start, end)
        row = fetch_one(
            con,
            f"SELECT sum(price * qty), sum(qty), count(*), min(ts), max(ts) FROM trades {where}",
            params,
        )
        if not row[2]:
            check_symbol(con, symbol)
            return Vwap(symbol, 0, 0, 0, None, None, start, end)
        return Vwap(symbol, int(row[1]), int(row[0]), int(row[2]), row[3], row[4], start, end)


def bars(
    source: Connectable,
    symbol: str,
    interval: int,
    start: int | None = None,
    end: int | None = None,
    fill_gaps: bool = False,
) -> pl.DataFrame:
    """OHLCV bars of ``interval`` ns (``BAR_COLUMNS``), one per interval with trades.

    With ``fill_gaps`` every interval from the first bar to the last is there;
    an interval without trades repeats the previous close with zero volume.
    """
    _check_interval(interval)
    with connect(source) as con:
        frame = _bar_frame(con, symbol, interval, start, end)
        if frame.is_empty():
            check_symbol(con, symbol)
    if fill_gaps and frame.height > 1:
        frame = _fill_gaps(frame, interval)
    return frame


def _bar_frame(
    con: duckdb.DuckDBPyConnection,
    symbol: str | None,
    interval: int,
    start: int | None,
    end: int | None,
) -> pl.DataFrame:
    origin = _origin(con, symbol, start, end, interval)
    where, params = time_filter(symbol, start, end)
    sql = f"""
        SELECT {origin} + ((ts - {origin}) // {interval}) * {interval} AS start,
               arg_min(price, {ORDER_KEY}) AS open, max(price) AS high, min(price) AS low,
               arg_max(price, {ORDER_KEY}) AS close, sum(qty)::BIGINT AS volume,
               count(*)::BIGINT AS trades, sum(price * qty) AS notional
        FROM trades {where} GROUP BY 1 ORDER BY 1"""
    frame = fetch_frame(con, sql, params)
    if frame.is_empty():
        return _empty_bars()
    return frame.with_columns(
        vwap=pl.col("notional").cast(pl.Float64) / pl.col("volume").cast(pl.Float64)
    )


def _empty_bars() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "start": pl.Int64,
            "open": pl.Int64,
            "high": pl.Int64,
            "low": pl.Int64,
            "close": pl.Int64,
            "volume": pl.Int64,
            "trades": pl.Int64,
            "notional": pl.Decimal(38, 0),
            "vwap": pl.Float64,
        }
    )


def _fill_gaps(frame: pl.DataFrame, interval: int) -> pl.DataFrame:
    first, last = frame["start"][0], frame["start"][-1]
    grid = pl.DataFrame({"start": pl.int_range(first, last + interval, interval, eager=True)})
    filled = grid.join(frame, on="start", how="left")
    previous = pl.col("close").forward_fill()
    return filled.with_columns(
        open=pl.coalesce("open", previous),
        high=pl.coalesce("high", previous),
        low=pl.coalesce("low", previous),
        volume=pl.col("volume").fill_null(0),
        trades=pl.col("trades").fill_null(0),
        notional=pl.col("notional").fill_null(0),
    ).with_columns(close=previous)


def rolling_vwap(
    source: Connectable,
    symbol: str,
    window: int,
    step: int,
    start: int | None = None,
    end: int | None = None,
) -> pl.DataFrame:
    """VWAP over a trailing ``window`` (ns), evaluated at the end of every ``step`` with trades.

    ``window`` must be a whole number of ``step``s. Columns: ``end`` (ns, the
    window is ``[end - window, end)``), ``volume``, ``notional``, ``vwap``.
    """
    _check_interval(window)
    _check_interval(step)
    if window % step:
        raise AnalyticsError(INVALID_INTERVAL, "the window must be a whole number of steps")
    with connect(source) as con:
        origin = _origin(con, symbol, start, end, step)
        where, params = time_filter(symbol, start, end)
        sql = f"""
            WITH b AS (
                SELECT {origin} + ((ts - {origin}) // {step}) * {step} AS bucket,
                       sum(qty) AS volume, sum(price * qty) AS notional
                FROM trades {where} GROUP BY 1
            )
            SELECT bucket + {step} AS end,
                   sum(volume) OVER w AS volume, sum(notional) OVER w AS notional
            FROM b
            WINDOW w AS (ORDER BY bucket RANGE BETWEEN {window - step} PRECEDING AND CURRENT ROW)
            ORDER BY 1"""
        frame = fetch_frame(con, sql, params)
        if frame.is_empty():
            check_symbol(con, symbol)
            return pl.DataFrame(
                schema={
                    "end": pl.Int64,
                    "volume": pl.Int64,
                    "notional": pl.Decimal(38, 0),
                    "vwap": pl.Float64,
                }
            )
    return frame.with_columns(
        volume=pl.col("volume").cast(pl.Int64),
        vwap=pl.col("notional").cast(pl.Float64) / pl.col("volume").cast(pl.Float64),
    )


def anchored_vwap(
    source: Connectable,
    symbol: str,
    anchor: int,
    interval: int,
    end: int | None = None,
) -> pl.DataFrame:
    """VWAP of every trade since ``anchor``, at the end of each ``interval`` with trades.

    Columns: ``end`` (ns), ``volume`` and ``notional`` since the anchor, ``vwap``.
    """
    frame = bars(source, symbol, interval, anchor, end)
    return frame.select(
        end=pl.col("start") + interval,
        volume=pl.col("volume").cum_sum(),
        notional=pl.col("notional").cum_sum(),
    ).with_columns(vwap=pl.col("notional").cast(pl.Float64) / pl.col("volume").cast(pl.Float64))


def trade_metrics(
    source: Connectable, symbol: str, start: int | None = None, end: int | None = None
) -> TradeMetrics:
    """Count, volume, notional, average and largest trade, trades per minute, OHLC.

    The largest trade is the one with the most shares (the earliest of equals).
    Trades per minute divide by the length of ``[start, end)`` when both are
    given, else by the number of clock minutes from the first trade's minute to
    the last trade's, both included.
    """
    with connect(source) as con:
        where, params = time_filter(symbol, start, end)
        row = fetch_one(
            con,
            f"""SELECT count(*), sum(qty), sum(price * qty),
                       sum(qty) FILTER (WHERE aggressor = 'buy'),
                       sum(qty) FILTER (WHERE aggressor = 'sell'),
                       min(ts), max(ts), arg_min(price, {ORDER_KEY}), max(price), min(price),
                       arg_max(price, {ORDER_KEY})
                FROM trades {where}""",
            params,
        )
        count = int(row[0])
        if not count:
            check_symbol(con, symbol)
            return TradeMetrics(
                symbol, 0, 0, 0, 0, 0, None, None, None, None, None, None, None,
                _minutes(start, end, None, None), start, end,
            )  # fmt: skip
        big = fetch_one(
            con,
            f"SELECT trade_id, price, qty, ts, seq FROM trades {where}"
            " ORDER BY qty DESC, ts, seq LIMIT 1",
            params,
        )
    largest = dict(zip(("trade_id", "price", "qty", "ts", "seq"), map(int, big), strict=True))
    first_ts, last_ts = int(row[5]), int(row[6])
    return TradeMetrics(
        symbol=symbol,
        trades=count,
        volume=int(row[1]),
        notional=int(row[2]),
        buy_volume=int(row[3] or 0),
        sell_volume=int(row[4] or 0),
        first_ts=first_ts,
        last_ts=last_ts,
        open=int(row[7]),
        high=int(row[8]),
        low=int(row[9]),
        close=int(row[10]),
        largest=largest,
        minutes=_minutes(start, end, first_ts, last_ts),
        start=start,
        end=end,
    )


def _minutes(start: int | None, end: int | None, first: int | None, last: int | None) -> float:
    minute = 60 * NS
    if start is not None and end is not None:
        return max(end - start, 0) / minute
    if first is None or last is None:
        return 0.0
    return float(last // minute - first // minute + 1)


def realized_volatility(
    source: Connectable,
    symbol: str,
    interval: int,
    start: int | None = None,
    end: int | None = None,
) -> dict[str, Any]:
    """Realized variance and volatility from log returns of consecutive bar closes.

    Returns are taken between consecutive bars that have trades (an interval
    without trades is skipped, not counted as a zero return). The result holds
    ``returns`` (how many), ``realized_variance`` (sum of squared log returns)
    and ``realized_volatility`` (its square root); both are None with no return.
    """
    frame = bars(source, symbol, interval, start, end)
    closes = frame.select(r=pl.col("close").cast(pl.Float64).log().diff()).drop_nulls()
    count = closes.height
    variance = float(closes.select((pl.col("r") ** 2).sum()).item()) if count else None
    return {
        "symbol": symbol,
        "interval": interval,
        "bars": frame.height,
        "returns": count,
        "realized_variance": variance,
        "realized_volatility": math.sqrt(variance) if variance is not None else None,
    }


def trade_flow(
    source: Connectable,
    symbol: str,
    interval: int,
    start: int | None = None,
    end: int | None = None,
) -> pl.DataFrame:
    """Aggressor volume per interval: ``buy_volume``, ``sell_volume`` and their imbalance.

    ``imbalance = (buy - sell) / (buy + sell)``, from -1 (all sellers took)
    to +1 (all buyers took).
    """
    _check_interval(interval)
    with connect(source) as con:
        origin = _origin(con, symbol, start, end, interval)
        where, params = time_filter(symbol, start, end)
        frame = fetch_frame(
            con,
            f"""SELECT {origin} + ((ts - {origin}) // {interval}) * {interval} AS start,
                       coalesce(sum(qty) FILTER (WHERE aggressor = 'buy'), 0)::BIGINT
                           AS buy_volume,
                       coalesce(sum(qty) FILTER (WHERE aggressor = 'sell'), 0)::BIGINT
                           AS sell_volume
                FROM trades {where} GROUP BY 1 ORDER BY 1""",
            params,
        )
        if frame.is_empty():
            check_symbol(con, symbol)
            frame = pl.DataFrame(
                schema={"start": pl.Int64, "buy_volume": pl.Int64, "sell_volume": pl.Int64}
            )
    total = pl.col("buy_volume") + pl.col("sell_volume")
    return frame.with_columns(
        imbalance=(pl.col("buy_volume") - pl.col("sell_volume")).cast(pl.Float64) / total
    )
