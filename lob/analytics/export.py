"""Export analytics results and trades to CSV or Parquet.

Money leaves lob as exact decimals: prices and amounts are ``DECIMAL(18,4)``
(notional ``DECIMAL(38,4)``) in Parquet and decimal text in CSV, never
binary floating point; times stay integer nanoseconds (``ts``-like columns).
Records (the JSON shape, any source) go through polars; whole trade ranges
of a history file go straight from DuckDB to the file, without passing
through Python rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from lob.analytics.db import Connectable, check_symbol, connect, fetch_one, time_filter
from lob.analytics.queries import TRADE_COLUMNS
from lob.analytics.records import MONEY_KEYS, PRICE_KEYS

__all__ = ["FORMATS", "export_records", "export_trades"]

FORMATS = ("csv", "parquet")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format must be csv or parquet: {fmt!r}")


def export_records(records: Sequence[dict[str, Any]], fmt: str, out: str | Path) -> int:
    """Write JSON-shaped rows (money as decimal text) to ``out``; return the row count."""
    _check_format(fmt)
    frame = pl.DataFrame(list(records), infer_schema_length=None)
    casts = []
    for name, dtype in frame.schema.items():
        if (name in PRICE_KEYS or name in MONEY_KEYS) and dtype == pl.String:
            scale = pl.Decimal(38, 4) if name in MONEY_KEYS else pl.Decimal(18, 4)
            casts.append(pl.col(name).cast(scale))
    if casts:
        frame = frame.with_columns(casts)
    if fmt == "csv":
        frame.write_csv(out)
    else:
        frame.write_parquet(out)
    return frame.height


def export_trades(
    source: Connectable,
    fmt: str,
    out: str | Path,
    symbol: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> int:
    """Every trade of ``symbol`` (or all) in ``[start, end)`` to a file; return the row count."""
    _check_format(fmt)
    where, params = time_filter(symbol, start, end)
    columns = ", ".join(
        "CAST(price AS DECIMAL(18, 0)) * 0.0001 AS price" if c == "price" else c
        for c in TRADE_COLUMNS
    )
    target = str(out).replace("'", "''")
    options = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT parquet"
    with connect(source) as con:
        row = fetch_one(
            con,
            f"COPY (SELECT {columns} FROM trades {where} ORDER BY ts, session, seq)"
            f" TO '{target}' ({options})",
            params,
        )
        count = int(row[0])
        if not count:
            check_symbol(con, symbol)
    return count
