"""Where analytics answers come from, behind one interface.

``HistorySource`` is what ``lob analytics`` and ``lob history`` talk to: every
method answers in the public JSON shape (``lob.analytics.records``), so a
source backed by a history file (``DuckDBSource``, here) and one backed by a
running server's REST API give the CLI the same objects. A server can serve
its REST endpoints from a ``DuckDBSource`` over ``HistoryWriter.reader()``, and
then the CLI, the server and the file all agree by construction.

Times are ns since the epoch, intervals ns, ranges ``[start, end)``. Errors are
``AnalyticsError`` with a stable code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import duckdb

from lob.analytics import activity as _activity
from lob.analytics import book as _book
from lob.analytics import queries as _queries
from lob.analytics import records as _records
from lob.analytics import trades as _trades
from lob.analytics.db import first_trade_ts, open_history
from lob.analytics.export import export_trades

__all__ = ["DuckDBSource", "HistorySource"]

Json = dict[str, Any]


class HistorySource(Protocol):
    """The questions the CLI asks of a history; answers in the public JSON shape."""

    def first_ts(self, symbol: str | None = None) -> int | None: ...

    def vwap(self, symbol: str, start: int | None, end: int | None) -> Json: ...

    def rolling_vwap(
        self, symbol: str, window: int, step: int, start: int | None, end: int | None
    ) -> list[Json]: ...

    def anchored_vwap(
        self, symbol: str, anchor: int, interval: int, end: int | None
    ) -> list[Json]: ...

    def bars(
        self, symbol: str, interval: int, start: int | None, end: int | None, fill_gaps: bool
    ) -> list[Json]: ...

    def metrics(self, symbol: str, start: int | None, end: int | None) -> Json: ...

    def spread(self, symbol: str, start: int | None, end: int | None) -> Json: ...

    def volatility(
        self, symbol: str, interval: int, start: int | None, end: int | None
    ) -> Json: ...

    def imbalance(
        self, symbol: str, interval: int, start: int | None, end: int | None
    ) -> list[Json]: ...

    def activity(self, start: int | None, end: int | None, top: int) -> Json: ...

    def trades(
        self,
        symbol: str | None,
        start: int | None,
        end: int | None,
        limit: int,
        cursor: str | None,
    ) -> Json: ...

    def orders(self, account: str, symbol: str | None, limit: int, cursor: str | None) -> Json: ...

    def export_trades(
        self,
        fmt: str,
        out: str | Path,
        symbol: str | None,
        start: int | None,
        end: int | None,
    ) -> int: ...

    def close(self) -> None: ...


class DuckDBSource:
    """Answers from a history file (opened read-only) or from an open DuckDB connection."""

    def __init__(self, history: str | Path | duckdb.DuckDBPyConnection) -> None:
        if isinstance(history, duckdb.DuckDBPyConnection):
            self.con, self._owned = history, False
        else:
            self.con, self._owned = open_history(history), True

    def first_ts(self, symbol: str | None = None) -> int | None:
        return first_trade_ts(self.con, symbol)

    def vwap(self, symbol: str, start: int | None = None, end: int | None = None) -> Json:
        return _records.vwap_record(_trades.vwap(self.con, symbol, start, end))

    def rolling_vwap(
        self,
        symbol: str,
        window: int,
        step: int,
        start: int | None = None,
        end: int | None = None,
    ) -> list[Json]:
        frame = _trades.rolling_vwap(self.con, symbol, window, step, start, end)
        return _records.frame_records(frame)

    def anchored_vwap(
        self, symbol: str, anchor: int, interval: int, end: int | None = None
    ) -> list[Json]:
        frame = _trades.anchored_vwap(self.con, symbol, anchor, interval, end)
        return _records.frame_records(frame)

    def bars(
        self,
        symbol: str,
        interval: int,
        start: int | None = None,
        end: int | None = None,
        fill_gaps: bool = False,
    ) -> list[Json]:
        frame = _trades.bars(self.con, symbol, interval, start, end, fill_gaps)
        return _records.frame_records(frame)

    def metrics(self, symbol: str, start: int | None = None, end: int | None = None) -> Json:
        return _records.metrics_record(_trades.trade_metrics(self.con, symbol, start, end))

    def spread(self, symbol: str, start: int | None = None, end: int | None = None) -> Json:
        stats = _book.spread_stats(self.con, symbol, start, end)
        return _records.json_record(stats)

    def volatility(
        self, symbol: str, interval: int, start: int | None = None, end: int | None = None
    ) -> Json:
        return _trades.realized_volatility(self.con, symbol, interval, start, end)

    def imbalance(
        self, symbol: str, interval: int, start: int | None = None, end: int | None = None
    ) -> list[Json]:
        frame = _book.order_flow_imbalance(self.con, symbol, interval, start, end)
        return _records.frame_records(frame)

    def activity(self, start: int | None = None, end: int | None = None, top: int = 5) -> Json:
        return _records.activity_record(_activity.market_activity(self.con, start, end, top))

    def trades(
        self,
        symbol: str | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Json:
        page = _queries.trades_page(self.con, symbol, start, end, limit, cursor)
        return {"trades": _records.frame_records(page.rows), "next_cursor": page.next_cursor}

    def orders(
        self,
        account: str,
        symbol: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Json:
        page = _queries.orders_page(self.con, account, symbol, limit, cursor)
        return {"orders": _records.frame_records(page.rows), "next_cursor": page.next_cursor}

    def export_trades(
        self,
        fmt: str,
        out: str | Path,
        symbol: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> int:
        return export_trades(self.con, fmt, out, symbol, start, end)

    def close(self) -> None:
        if self._owned:
            self.con.close()

    def __enter__(self) -> DuckDBSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
