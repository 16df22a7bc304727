"""Top-of-book analytics from the ``quotes`` table: spread, depth, order-flow imbalance.

A quote row is the best bid and ask (price and size) after an event that
changed them; it holds until the symbol's next quote row of the same session.
Time-weighted figures weight each two-sided quote by that holding time (the
last quote of a range holds until ``end`` when one is given, else it weighs
nothing).

Order-flow imbalance (OFI) follows Cont, Kukanov and Stoikov (2014): for each
quote change n,

    e(n) = q_b(n)   if P_b(n) >= P_b(n-1)     - q_b(n-1) if P_b(n) <= P_b(n-1)
         - q_a(n)   if P_a(n) <= P_a(n-1)     + q_a(n-1) if P_a(n) >= P_a(n-1)

and OFI over an interval is the sum of e(n) of the changes in it. An empty
side counts as a bid at minus infinity or an ask at plus infinity with no
size; the first quote of a session is compared with an empty book.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from lob.analytics.db import Connectable, check_symbol, connect, fetch_frame, fetch_one, time_filter
from lob.analytics.trades import _check_interval, _origin, trade_flow

__all__ = ["order_flow_imbalance", "spread_stats"]

_NO_ASK = 1 << 62


def spread_stats(
    source: Connectable, symbol: str, start: int | None = None, end: int | None = None
) -> dict[str, Any]:
    """Spread and top-of-book depth of ``symbol`` over ``[start, end)``.

    Keys: ``quotes`` (rows), ``two_sided`` (rows with a bid and an ask),
    ``mean_spread``, ``median_spread``, ``min_spread``, ``max_spread``,
    ``time_weighted_spread`` (price units, floats), ``mean_bid_qty``,
    ``mean_ask_qty``, ``time_weighted_bid_qty``, ``time_weighted_ask_qty``
    and ``two_sided_time`` (fraction of the weighted time with both sides).
    Means are over two-sided quote rows; a key is None when there is nothing
    to average.
    """
    with connect(source) as con:
        where, params = time_filter(symbol, start, end)
        tail = f"coalesce(lead(ts) OVER w, {'?' if end is not None else 'ts'})"
        if end is not None:
            params = [end, *params]
        row = fetch_one(
            con,
            f"""WITH q AS (
                    SELECT bid_price, bid_qty, ask_price, ask_qty,
                           {tail} - ts AS held,
                           ask_price - bid_price AS spread
                    FROM quotes {where}
                    WINDOW w AS (PARTITION BY session ORDER BY seq)
                )
                SELECT count(*), count(spread), avg(spread), median(spread), min(spread),
                       max(spread), sum(spread * held) / nullif(sum(held) FILTER
                           (WHERE spread IS NOT NULL), 0),
                       avg(bid_qty) FILTER (WHERE spread IS NOT NULL),
                       avg(ask_qty) FILTER (WHERE spread IS NOT NULL),
                       sum(bid_qty * held) FILTER (WHERE spread IS NOT NULL)
                           / nullif(sum(held) FILTER (WHERE spread IS NOT NULL), 0),
                       sum(ask_qty * held) FILTER (WHERE spread IS NOT NULL)
                           / nullif(sum(held) FILTER (WHERE spread IS NOT NULL), 0),
                       sum(held) FILTER (WHERE spread IS NOT NULL) / nullif(sum(held), 0)
                FROM q""",
            params,
        )
        if not row[0]:
            check_symbol(con, symbol)

    def number(value: object) -> float | None:
        return float(value) if value is not None else None  # type: ignore[arg-type]

    keys = (
        "mean_spread",
        "median_spread",
        "min_spread",
        "max_spread",
        "time_weighted_spread",
        "mean_bid_qty",
        "mean_ask_qty",
        "time_weighted_bid_qty",
        "time_weighted_ask_qty",
        "two_sided_time",
    )
    out: dict[str, Any] = {"symbol": symbol, "quotes": int(row[0]), "two_sided": int(row[1])}
    out.update({key: number(value) for key, value in zip(keys, row[2:], strict=True)})
    return out


def order_flow_imbalance(
    source: Connectable,
    symbol: str,
    interval: int,
    start: int | None = None,
    end: int | None = None,
) -> pl.DataFrame:
    """Per interval: quote OFI (module docstring) and the aggressor-volume imbalance.

    Columns: ``start`` (ns), ``ofi`` (shares), ``quote_changes``, ``buy_volume``,
    ``sell_volume``, ``imbalance`` (see ``trade_flow``). An interval appears
    when it has quote changes or trades; missing figures are 0 (null
    ``imbalance`` when nothing traded).
    """
    _check_interval(interval)
    with connect(source) as con:
        origin = _origin(con, symbol, start, end, interval)
        where, params = time_filter(symbol, start, end)
        # The LAG runs over the whole session so the first change in range has its predecessor.
        sql = f"""
            WITH q AS (
                SELECT ts, symbol,
                       coalesce(bid_price, -1) AS pb, bid_qty AS qb,
                       coalesce(ask_price, {_NO_ASK}) AS pa, ask_qty AS qa,
                       coalesce(lag(bid_price) OVER w, -1) AS pb0,
                       coalesce(lag(bid_qty) OVER w, 0) AS qb0,
                       coalesce(lag(ask_price) OVER w, {_NO_ASK}) AS pa0,
                       coalesce(lag(ask_qty) OVER w, 0) AS qa0
                FROM quotes WHERE symbol = ?
                WINDOW w AS (PARTITION BY session ORDER BY seq)
            )
            SELECT {origin} + ((ts - {origin}) // {interval}) * {interval} AS start,
                   sum(CASE WHEN pb >= pb0 THEN qb ELSE 0 END
                       - CASE WHEN pb <= pb0 THEN qb0 ELSE 0 END
                       - CASE WHEN pa <= pa0 THEN qa ELSE 0 END
                       + CASE WHEN pa >= pa0 THEN qa0 ELSE 0 END)::BIGINT AS ofi,
                   count(*)::BIGINT AS quote_changes
            FROM q {where} GROUP BY 1 ORDER BY 1"""
        quotes = fetch_frame(con, sql, [symbol, *params])
        flow = trade_flow(con, symbol, interval, start, end)
        if quotes.is_empty() and flow.is_empty():
            check_symbol(con, symbol)
    if quotes.is_empty():
        quotes = pl.DataFrame(
            schema={"start": pl.Int64, "ofi": pl.Int64, "quote_changes": pl.Int64}
        )
    joined = quotes.join(flow, on="start", how="full", coalesce=True).sort("start")
    return joined.with_columns(
        pl.col("ofi", "quote_changes", "buy_volume", "sell_volume").fill_null(0)
    ).select("start", "ofi", "quote_changes", "buy_volume", "sell_volume", "imbalance")
