"""Analytics over lob's DuckDB history: DuckDB aggregates, polars shapes the results.

Every function takes a DuckDB connection or the path of a history file, a
time range ``[start, end)`` in ns since the epoch (None is open) and returns
frames or small dataclasses with money in integer 1/10,000-dollar units;
``lob.analytics.records`` turns them into the public JSON shape and
``lob.analytics.source.DuckDBSource`` answers the CLI's (and a server's)
questions in that shape. docs/history.md documents each figure.

- ``trades``: ``vwap``, ``rolling_vwap``, ``anchored_vwap``, ``bars``,
  ``trade_metrics``, ``realized_volatility``, ``trade_flow``
- ``book``: ``spread_stats``, ``order_flow_imbalance`` (from top-of-book quotes)
- ``activity``: ``market_activity`` across symbols
- ``queries``: ``trades_page``, ``orders_page`` with cursor pagination
- ``export``: ``export_records``, ``export_trades`` to CSV or Parquet
- ``source``: ``HistorySource`` and ``DuckDBSource``, every answer as JSON
- ``api``: ``handle(source, path, params)``, the same answers as GET endpoints
"""

from __future__ import annotations

from lob.analytics.activity import Activity, market_activity
from lob.analytics.book import order_flow_imbalance, spread_stats
from lob.analytics.db import open_history
from lob.analytics.errors import AnalyticsError
from lob.analytics.queries import Page, orders_page, trades_page
from lob.analytics.trades import (
    TradeMetrics,
    Vwap,
    anchored_vwap,
    bars,
    realized_volatility,
    rolling_vwap,
    trade_flow,
    trade_metrics,
    vwap,
)

__all__ = [
    "Activity",
    "AnalyticsError",
    "Page",
    "TradeMetrics",
    "Vwap",
    "anchored_vwap",
    "bars",
    "market_activity",
    "open_history",
    "order_flow_imbalance",
    "orders_page",
    "realized_volatility",
    "rolling_vwap",
    "spread_stats",
    "trade_flow",
    "trade_metrics",
    "trades_page",
    "vwap",
]
