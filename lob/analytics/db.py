"""Opening a history and building the shared parts of its queries.

Every analytics function takes a DuckDB connection or the path of a history
file (``Connectable``). A path is opened read-only for the one call and
closed again; a connection (e.g. ``HistoryWriter.reader()`` inside a server)
is used as it is and left open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from lob.analytics.errors import (
    EMPTY_HISTORY,
    HISTORY_NOT_FOUND,
    NOT_A_HISTORY,
    UNKNOWN_SYMBOL,
    AnalyticsError,
)

__all__ = [
    "ORDER_KEY",
    "Connectable",
    "check_symbol",
    "connect",
    "fetch_frame",
    "fetch_one",
    "first_trade_ts",
    "open_history",
    "time_filter",
]

Connectable = duckdb.DuckDBPyConnection | str | Path

REQUIRED_TABLES = frozenset({"trades", "orders", "order_events", "quotes"})

ORDER_KEY = "(ts::HUGEINT * 4294967296 + seq)"
"""Orders rows by time, then by engine sequence for events at the same ``ts``
(a sweep prints several trades at one time). One HUGEINT key keeps
``arg_min``/``arg_max`` fast, where a (ts, seq) struct key is several times slower."""


def open_history(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open a history file read-only, checking that it is one."""
    file = Path(path)
    if not file.is_file():
        raise AnalyticsError(HISTORY_NOT_FOUND, f"no history file at {str(path)!r}")
    try:
        con = duckdb.connect(str(file), read_only=True)
    except duckdb.Error as exc:
        raise AnalyticsError(NOT_A_HISTORY, f"cannot open {str(path)!r}: {exc}") from None
    try:
        names = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    except duckdb.Error as exc:  # pragma: no cover - a database that cannot list its tables
        con.close()
        raise AnalyticsError(NOT_A_HISTORY, str(exc)) from None
    missing = REQUIRED_TABLES - names
    if missing:
        con.close()
        raise AnalyticsError(
            NOT_A_HISTORY,
            f"{str(path)!r} has no lob history (missing {', '.join(sorted(missing))})",
        )
    return con


@contextmanager
def connect(source: Connectable) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection for ``source``; close it afterwards only if this opened it."""
    if isinstance(source, duckdb.DuckDBPyConnection):
        yield source
        return
    con = open_history(source)
    try:
        yield con
    finally:
        con.close()


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pl.DataFrame:
    """Run a query and return its whole result as a polars frame (through Arrow)."""
    frame = con.sql(sql, params=params).pl()
    assert isinstance(frame, pl.DataFrame)
    return frame


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> tuple[Any, ...]:
    """Run a query that returns one row and return it (reading the result to its end)."""
    rows = con.execute(sql, params if params is not None else []).fetchall()
    if len(rows) != 1:
        raise ValueError(f"expected one row, got {len(rows)}")
    return tuple(rows[0])


def time_filter(
    symbol: str | None = None, start: int | None = None, end: int | None = None
) -> tuple[str, list[Any]]:
    """A WHERE clause (``symbol = ?``, ``ts >= start``, ``ts < end``) and its parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    if symbol is not None:
        clauses.append("symbol = ?")
        params.append(symbol)
    if start is not None:
        clauses.append("ts >= ?")
        params.append(start)
    if end is not None:
        clauses.append("ts < ?")
        params.append(end)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def check_symbol(con: duckdb.DuckDBPyConnection, symbol: str | None) -> None:
    """Called when a query found nothing: say why, if the reason is an error.

    Raises ``empty_history`` when the history holds no trades, orders or quotes,
    ``unknown_symbol`` when it never saw ``symbol``; returns when the symbol
    exists and the answer is simply empty (e.g. no trade in the time range).
    """
    row = fetch_one(
        con,
        "SELECT EXISTS (SELECT 1 FROM trades) OR EXISTS (SELECT 1 FROM orders)"
        " OR EXISTS (SELECT 1 FROM quotes)",
    )
    if not row[0]:
        raise AnalyticsError(EMPTY_HISTORY, "the history holds no trades, orders or quotes")
    if symbol is None:
        return
    found = fetch_one(
        con,
        "SELECT EXISTS (SELECT 1 FROM trades WHERE symbol = $s)"
        " OR EXISTS (SELECT 1 FROM orders WHERE symbol = $s)"
        " OR EXISTS (SELECT 1 FROM quotes WHERE symbol = $s)",
        {"s": symbol},
    )
    if not found[0]:
        raise AnalyticsError(UNKNOWN_SYMBOL, f"the history has no {symbol!r}")


def first_trade_ts(con: duckdb.DuckDBPyConnection, symbol: str | None = None) -> int | None:
    """The time of the first trade (of ``symbol``), or None."""
    where, params = time_filter(symbol)
    row = fetch_one(con, f"SELECT min(ts) FROM trades {where}", params)
    return int(row[0]) if row[0] is not None else None
