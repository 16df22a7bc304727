"""Market activity across symbols: volume, trades, turnover, gainers and losers.

One DuckDB pass groups every trade in the range by symbol; polars ranks the
few resulting rows. A symbol's change is its last trade's price minus its
first trade's in the range (by ``(ts, seq)``), and ``change_pct`` is that
change in percent of the first price: the history knows no previous close.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lob.analytics.db import (
    ORDER_KEY,
    Connectable,
    check_symbol,
    connect,
    fetch_frame,
    time_filter,
)

__all__ = ["ACTIVITY_COLUMNS", "Activity", "market_activity"]

ACTIVITY_COLUMNS = (
    "symbol",
    "trades",
    "volume",
    "notional",
    "open",
    "high",
    "low",
    "close",
    "change",
    "change_pct",
)


@dataclass(frozen=True)
class Activity:
    """Per-symbol figures (``symbols``, ``ACTIVITY_COLUMNS``, by symbol) and the rankings."""

    symbols: pl.DataFrame
    most_active_by_volume: list[str]
    most_active_by_trades: list[str]
    top_gainers: list[str]
    top_losers: list[str]
    trades: int
    volume: int
    turnover: int
    """Total notional of every trade, in 1/10,000 dollar."""


def market_activity(
    source: Connectable, start: int | None = None, end: int | None = None, top: int = 5
) -> Activity:
    """Activity of every symbol that traded in ``[start, end)``, with the ``top`` of each ranking.

    Ties rank by symbol. Gainers are the symbols whose price rose (largest
    ``change_pct`` first), losers those whose price fell (largest fall first).
    """
    with connect(source) as con:
        where, params = time_filter(None, start, end)
        frame = fetch_frame(
            con,
            f"""SELECT symbol, count(*)::BIGINT AS trades, sum(qty)::BIGINT AS volume,
                       sum(price * qty) AS notional,
                       arg_min(price, {ORDER_KEY}) AS open, max(price) AS high,
                       min(price) AS low, arg_max(price, {ORDER_KEY}) AS close
                FROM trades {where} GROUP BY symbol ORDER BY symbol""",
            params,
        )
        if frame.is_empty():
            check_symbol(con, None)
            frame = pl.DataFrame(
                schema={
                    "symbol": pl.String,
                    "trades": pl.Int64,
                    "volume": pl.Int64,
                    "notional": pl.Decimal(38, 0),
                    "open": pl.Int64,
                    "high": pl.Int64,
                    "low": pl.Int64,
                    "close": pl.Int64,
                }
            )
    frame = frame.with_columns(change=pl.col("close") - pl.col("open")).with_columns(
        change_pct=pl.col("change").cast(pl.Float64) * 100.0 / pl.col("open").cast(pl.Float64)
    )

    def ranked(by: str, descending: bool, keep: pl.Expr | None = None) -> list[str]:
        rows = frame if keep is None else frame.filter(keep)
        ordered = rows.sort([by, "symbol"], descending=[descending, False])
        return ordered["symbol"].head(top).to_list()

    notional = frame["notional"].sum()
    return Activity(
        symbols=frame,
        most_active_by_volume=ranked("volume", True),
        most_active_by_trades=ranked("trades", True),
        top_gainers=ranked("change_pct", True, pl.col("change") > 0),
        top_losers=ranked("change_pct", False, pl.col("change") < 0),
        trades=int(frame["trades"].sum()),
        volume=int(frame["volume"].sum()),
        turnover=int(notional) if notional is not None else 0,
    )
