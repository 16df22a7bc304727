"""Historical queries with cursor pagination: trades by symbol and time, orders by account.

Rows come in ``(ts, session, seq)`` order, which is unique and stable. A page
holds at most ``limit`` rows and, when more follow, ``next_cursor``: an opaque
text (``"<ts>.<session>.<seq>"`` of the page's last row) that asks for the rows
after it. Unlike an offset, a cursor stays right while the history grows and
costs the same on the thousandth page as on the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from lob.analytics.db import Connectable, check_symbol, connect, fetch_frame, time_filter
from lob.analytics.errors import INVALID_CURSOR, INVALID_LIMIT, AnalyticsError

__all__ = ["MAX_LIMIT", "ORDER_COLUMNS", "TRADE_COLUMNS", "Page", "orders_page", "trades_page"]

MAX_LIMIT = 10_000
_CURSOR = re.compile(r"(\d{1,20})\.(\d{1,10})\.(\d{1,20})")

TRADE_COLUMNS = (
    "ts",
    "session",
    "seq",
    "symbol",
    "trade_id",
    "price",
    "qty",
    "aggressor",
    "buy_account",
    "buy_id",
    "buy_oid",
    "sell_account",
    "sell_id",
    "sell_oid",
)

ORDER_COLUMNS = (
    "ts",
    "session",
    "seq",
    "oid",
    "symbol",
    "account",
    "id",
    "side",
    "order_type",
    "tif",
    "qty",
    "price",
    "accepted_price",
    "current_oid",
    "filled_qty",
    "leaves",
    "status",
    "last_ts",
)


@dataclass(frozen=True)
class Page:
    """Up to ``limit`` rows and the cursor of the next page (None on the last)."""

    rows: pl.DataFrame
    next_cursor: str | None


def _after(cursor: str | None) -> tuple[str, list[Any]]:
    if cursor is None:
        return "", []
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise AnalyticsError(INVALID_CURSOR, f"not a cursor of this history: {cursor!r}")
    ts, session, seq = (int(g) for g in match.groups())
    return (
        "(ts > ? OR (ts = ? AND (session > ? OR (session = ? AND seq > ?))))",
        [ts, ts, session, session, seq],
    )


def _check_limit(limit: int) -> None:
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise AnalyticsError(INVALID_LIMIT, f"limit must be 1 to {MAX_LIMIT}: {limit!r}")


def _page(frame: pl.DataFrame, limit: int) -> Page:
    if frame.height <= limit:
        return Page(frame, None)
    rows = frame.head(limit)
    last = rows.row(limit - 1, named=True)
    return Page(rows, f"{last['ts']}.{last['session']}.{last['seq']}")


def trades_page(
    source: Connectable,
    symbol: str | None = None,
    start: int | None = None,
    end: int | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Trades (``TRADE_COLUMNS``) of ``symbol`` (or all) in ``[start, end)``, a page at a time."""
    _check_limit(limit)
    where, params = time_filter(symbol, start, end)
    after, more = _after(cursor)
    if after:
        where = f"{where} AND {after}" if where else f"WHERE {after}"
        params = params + more
    with connect(source) as con:
        frame = fetch_frame(
            con,
            f"SELECT {', '.join(TRADE_COLUMNS)} FROM trades {where}"
            f" ORDER BY ts, session, seq LIMIT {limit + 1}",
            params,
        )
        if frame.is_empty() and cursor is None:
            check_symbol(con, symbol)
    return _page(frame, limit)


def orders_page(
    source: Connectable,
    account: str,
    symbol: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Orders of ``account`` (``ORDER_COLUMNS``, with status and fills), a page at a time.

    ``price`` and ``current_oid`` are the order's after its last replace;
    ``status`` is ``open``, ``partially_filled``, ``filled``, ``cancelled`` or
    ``expired``; ``leaves`` is its open quantity (None if the history does
    not know it).
    """
    _check_limit(limit)
    where, params = time_filter(symbol)
    where = f"{where} AND account = ?" if where else "WHERE account = ?"
    params.append(account)
    after, more = _after(cursor)
    if after:
        where = f"{where} AND {after}"
        params = params + more
    with connect(source) as con:
        frame = fetch_frame(
            con,
            f"SELECT {', '.join(ORDER_COLUMNS)} FROM order_status {where}"
            f" ORDER BY ts, session, seq LIMIT {limit + 1}",
            params,
        )
        if frame.is_empty() and cursor is None:
            check_symbol(con, symbol)
    return _page(frame.with_columns(pl.col("filled_qty").cast(pl.Int64)), limit)
