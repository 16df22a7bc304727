"""Market activity, paginated queries and exports, checked against the known trade list."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from lob.analytics import AnalyticsError, market_activity, orders_page, trades_page
from lob.analytics.export import export_records, export_trades
from lob.analytics.source import DuckDBSource
from lob.engine import MatchingEngine, Side
from lob.store.history import HistoryWriter
from tests.analytics.support import (
    MINUTE,
    OPEN,
    SYMBOLS,
    Trade,
    dollars,
    in_order,
    make_trades,
    of,
    units_to_dollars,
    write_history,
)


@pytest.fixture(scope="module")
def trades() -> list[Trade]:
    return make_trades(seed=23, count=1500)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, trades: list[Trade]) -> Path:
    return write_history(tmp_path_factory.mktemp("history") / "h.duckdb", trades)


def test_activity_per_symbol_figures_equal_plain_python(db: Path, trades: list[Trade]) -> None:
    with DuckDBSource(db) as source:
        result = source.activity(top=10)
    rows = {row["symbol"]: row for row in result["symbols"]}
    assert sorted(rows) == sorted(SYMBOLS)
    for symbol in SYMBOLS:
        mine = in_order(of(trades, symbol))
        row = rows[symbol]
        assert row["trades"] == len(mine)
        assert row["volume"] == sum(t["qty"] for t in mine)
        notional = sum(t["price"] * t["qty"] for t in mine)
        assert dollars(row["notional"]) == units_to_dollars(notional)
        assert dollars(row["open"]) == units_to_dollars(mine[0]["price"])
        assert dollars(row["close"]) == units_to_dollars(mine[-1]["price"])
        change = mine[-1]["price"] - mine[0]["price"]
        assert dollars(row["change"]) == units_to_dollars(change)
        assert row["change_pct"] == pytest.approx(change * 100 / mine[0]["price"])
    assert result["trades"] == len(trades)
    assert result["volume"] == sum(t["qty"] for t in trades)
    turnover = sum(t["price"] * t["qty"] for t in trades)
    assert dollars(result["turnover"]) == units_to_dollars(turnover)


def test_activity_rankings_order_symbols_as_plain_python(db: Path, trades: list[Trade]) -> None:
    result = market_activity(db, top=2)
    volume = {s: sum(t["qty"] for t in of(trades, s)) for s in SYMBOLS}
    count = {s: len(of(trades, s)) for s in SYMBOLS}
    change = {}
    for s in SYMBOLS:
        mine = in_order(of(trades, s))
        change[s] = (mine[-1]["price"] - mine[0]["price"]) / mine[0]["price"]
    assert result.most_active_by_volume == sorted(SYMBOLS, key=lambda s: (-volume[s], s))[:2]
    assert result.most_active_by_trades == sorted(SYMBOLS, key=lambda s: (-count[s], s))[:2]
    gainers = sorted((s for s in SYMBOLS if change[s] > 0), key=lambda s: (-change[s], s))
    losers = sorted((s for s in SYMBOLS if change[s] < 0), key=lambda s: (change[s], s))
    assert result.top_gainers == gainers[:2]
    assert result.top_losers == losers[:2]
    assert gainers and losers, "the data has both"


def test_activity_in_a_time_range_counts_only_its_trades(db: Path, trades: list[Trade]) -> None:
    start, end = OPEN + 10 * MINUTE, OPEN + 20 * MINUTE
    result = market_activity(db, start, end)
    inside = [t for t in trades if start <= t["ts"] < end]
    assert result.trades == len(inside)
    assert result.turnover == sum(t["price"] * t["qty"] for t in inside)


def test_trades_pages_walk_every_trade_once_in_time_order(db: Path, trades: list[Trade]) -> None:
    expected = [t["trade_id"] for t in in_order(of(trades, "MSFT"))]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = trades_page(db, "MSFT", limit=37, cursor=cursor)
        seen += page.rows["trade_id"].to_list()
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    assert pages == -(-len(expected) // 37)


def test_trades_page_in_a_time_range_holds_only_that_range(db: Path, trades: list[Trade]) -> None:
    start, end = OPEN + 3 * MINUTE, OPEN + 4 * MINUTE
    page = trades_page(db, None, start, end, limit=10_000)
    inside = in_order([t for t in trades if start <= t["ts"] < end])
    assert page.rows["trade_id"].to_list() == [t["trade_id"] for t in inside]
    assert page.next_cursor is None


@pytest.mark.parametrize("cursor", ["", "abc", "1.2", "-1.1.1"])
def test_trades_page_refuses_a_malformed_cursor(db: Path, cursor: str) -> None:
    with pytest.raises(AnalyticsError) as info:
        trades_page(db, "MSFT", cursor=cursor)
    assert info.value.code == "invalid_cursor"


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_trades_page_refuses_a_limit_out_of_range(db: Path, limit: int) -> None:
    with pytest.raises(AnalyticsError) as info:
        trades_page(db, "MSFT", limit=limit)
    assert info.value.code == "invalid_limit"


def test_orders_page_lists_an_account_orders_with_status(tmp_path: Path) -> None:
    engine = MatchingEngine()
    path = tmp_path / "orders.duckdb"
    with HistoryWriter(path) as writer:
        for i in range(25):
            writer.write_events(
                engine.new_order("A", f"a{i}", "XYZ", Side.SELL, 10, 1_000_000 + i * 100, ts=i)
            )
        writer.write_events(engine.new_order("B", "b0", "XYZ", Side.BUY, 55, 1_001_000, ts=30))
        writer.write_events(engine.cancel("A", "a24", ts=31))
    ids: list[str] = []
    statuses: dict[str, str] = {}
    cursor = None
    while True:
        page = orders_page(path, "A", limit=10, cursor=cursor)
        for row in page.rows.iter_rows(named=True):
            ids.append(row["id"])
            statuses[row["id"]] = row["status"]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert ids == [f"a{i}" for i in range(25)]
    assert [statuses[f"a{i}"] for i in range(7)] == ["filled"] * 5 + ["partially_filled", "open"]
    assert statuses["a24"] == "cancelled"


def test_export_trades_writes_exact_decimal_prices(
    db: Path, trades: list[Trade], tmp_path: Path
) -> None:
    mine = in_order(of(trades, "NVDA"))
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"t.{fmt}"
        assert export_trades(db, fmt, out, "NVDA") == len(mine)
        frame = pl.read_csv(out) if fmt == "csv" else pl.read_parquet(out)
        assert frame["trade_id"].to_list() == [t["trade_id"] for t in mine]
        prices = [Decimal(str(p)) for p in frame["price"].to_list()]
        assert prices == [units_to_dollars(t["price"]) for t in mine]
    via_duckdb = duckdb.sql(
        f"SELECT typeof(price), count(*) FROM '{tmp_path / 't.parquet'}' GROUP BY 1"
    )
    assert via_duckdb.fetchall() == [("DECIMAL(18,4)", len(mine))]


def test_export_records_turns_money_text_into_decimals(tmp_path: Path) -> None:
    rows = [
        {"start": 1, "open": "187.25", "notional": "1234567.8901", "volume": 10},
        {"start": 2, "open": "0.0001", "notional": "0.00", "volume": 0},
    ]
    out = tmp_path / "bars.parquet"
    assert export_records(rows, "parquet", out) == 2
    frame = pl.read_parquet(out)
    assert frame.schema["open"] == pl.Decimal(18, 4)
    assert frame.schema["notional"] == pl.Decimal(38, 4)
    assert [str(v) for v in frame["open"]] == ["187.2500", "0.0001"]
    assert frame["volume"].to_list() == [10, 0]
