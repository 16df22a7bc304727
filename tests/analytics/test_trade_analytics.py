"""Trade analytics, each figure checked against a plain-Python computation from the trade list."""

from __future__ import annotations

import itertools
import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from lob.analytics import (
    AnalyticsError,
    anchored_vwap,
    bars,
    realized_volatility,
    rolling_vwap,
    trade_flow,
    trade_metrics,
    vwap,
)
from lob.analytics.source import DuckDBSource
from tests.analytics.support import (
    MINUTE,
    NS,
    OPEN,
    SYMBOLS,
    Trade,
    dollars,
    in_order,
    make_trades,
    of,
    python_bars,
    units_to_dollars,
    vwap_dollars,
    write_history,
)


@pytest.fixture(scope="module")
def trades() -> list[Trade]:
    return make_trades()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, trades: list[Trade]) -> Path:
    return write_history(tmp_path_factory.mktemp("history") / "h.duckdb", trades)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_vwap_session_equals_notional_over_volume(
    db: Path, trades: list[Trade], symbol: str
) -> None:
    mine = of(trades, symbol)
    with DuckDBSource(db) as source:
        result = source.vwap(symbol)
    assert dollars(result["vwap"]) == vwap_dollars(mine)
    assert result["volume"] == sum(t["qty"] for t in mine)
    assert dollars(result["notional"]) == units_to_dollars(sum(t["price"] * t["qty"] for t in mine))
    assert result["trades"] == len(mine)
    assert result["symbol"] == symbol


def test_vwap_anchored_at_a_time_counts_trades_from_then(db: Path, trades: list[Trade]) -> None:
    anchor = OPEN + 20 * MINUTE + 123
    end = OPEN + 50 * MINUTE
    result = vwap(db, "AAPL", anchor, end)
    mine = of(trades, "AAPL", anchor, end)
    assert result.volume == sum(t["qty"] for t in mine)
    assert result.notional == sum(t["price"] * t["qty"] for t in mine)
    assert result.first_ts == min(t["ts"] for t in mine)


def test_vwap_known_symbol_without_trades_in_range_is_empty_not_an_error(db: Path) -> None:
    result = vwap(db, "AAPL", OPEN - 10 * MINUTE, OPEN - MINUTE)
    assert (result.volume, result.trades, result.vwap) == (0, 0, None)


def test_rolling_vwap_sums_the_trailing_window_at_each_step(db: Path, trades: list[Trade]) -> None:
    window, step = 5 * MINUTE, MINUTE
    frame = rolling_vwap(db, "MSFT", window, step)
    mine = of(trades, "MSFT")
    ends = sorted({t["ts"] // step * step + step for t in mine})
    assert frame["end"].to_list() == ends
    for row in frame.iter_rows(named=True):
        inside = [t for t in mine if row["end"] - window <= t["ts"] < row["end"]]
        assert row["volume"] == sum(t["qty"] for t in inside)
        assert int(row["notional"]) == sum(t["price"] * t["qty"] for t in inside)
        expected = sum(t["price"] * t["qty"] for t in inside) / sum(t["qty"] for t in inside)
        assert row["vwap"] == pytest.approx(expected, rel=1e-12)


def test_rolling_vwap_window_must_be_whole_steps(db: Path) -> None:
    with pytest.raises(AnalyticsError) as info:
        rolling_vwap(db, "MSFT", 90 * NS, MINUTE)
    assert info.value.code == "invalid_interval"


def test_anchored_vwap_is_cumulative_from_the_anchor(db: Path, trades: list[Trade]) -> None:
    anchor = OPEN + 10 * MINUTE
    frame = anchored_vwap(db, "IBM", anchor, MINUTE)
    mine = of(trades, "IBM", anchor)
    for row in frame.iter_rows(named=True):
        inside = [t for t in mine if t["ts"] < row["end"]]
        assert row["volume"] == sum(t["qty"] for t in inside)
        assert int(row["notional"]) == sum(t["price"] * t["qty"] for t in inside)
    assert frame["volume"][-1] == sum(t["qty"] for t in mine)


@pytest.mark.parametrize("interval", [NS, MINUTE, 5 * MINUTE, 7 * MINUTE, 3600 * NS, 86_400 * NS])
@pytest.mark.parametrize("symbol", ["AAPL", "NVDA"])
def test_bars_equal_hand_built_ohlcv(
    db: Path, trades: list[Trade], symbol: str, interval: int
) -> None:
    frame = bars(db, symbol, interval)
    got = [
        {**row, "notional": int(row["notional"])}
        for row in frame.drop("vwap").iter_rows(named=True)
    ]
    assert got == python_bars(of(trades, symbol), interval)


def test_bars_skip_empty_intervals_unless_gaps_are_filled(db: Path, trades: list[Trade]) -> None:
    expected = python_bars(of(trades, "IBM"), MINUTE)
    starts = [b["start"] for b in expected]
    assert len(starts) < (starts[-1] - starts[0]) // MINUTE + 1, "the data needs a gap"
    filled = bars(db, "IBM", MINUTE, fill_gaps=True)
    assert filled["start"].to_list() == list(range(starts[0], starts[-1] + MINUTE, MINUTE))
    by_start = {b["start"]: b for b in expected}
    close = None
    for row in filled.iter_rows(named=True):
        bar = by_start.get(row["start"])
        if bar is None:
            assert (row["open"], row["high"], row["low"], row["close"]) == (close,) * 4
            assert (row["volume"], row["trades"], int(row["notional"])) == (0, 0, 0)
            assert row["vwap"] is None
        else:
            assert (row["open"], row["close"], row["volume"]) == (
                bar["open"],
                bar["close"],
                bar["volume"],
            )
            close = bar["close"]


def test_bars_of_a_single_trade_are_one_flat_bar(tmp_path: Path) -> None:
    trade = make_trades(count=1)[0]
    db = write_history(tmp_path / "one.duckdb", [trade])
    with DuckDBSource(db) as source:
        for interval in (NS, MINUTE, 86_400 * NS):
            (bar,) = source.bars(trade["symbol"], interval, fill_gaps=True)
            price = str(units_to_dollars(trade["price"]).normalize())
            assert {k: bar[k] for k in ("open", "high", "low", "close", "vwap")} == dict.fromkeys(
                ("open", "high", "low", "close", "vwap"), bar["open"]
            )
            assert Decimal(bar["open"]) == Decimal(price)
            assert (bar["volume"], bar["trades"]) == (trade["qty"], 1)
            assert bar["start"] <= trade["ts"] < bar["start"] + interval


def test_bars_open_and_close_follow_sequence_within_one_timestamp(tmp_path: Path) -> None:
    base = make_trades(count=1)[0]
    sweep = [
        {**base, "seq": 10, "trade_id": 1, "price": 1_000_000},
        {**base, "seq": 11, "trade_id": 2, "price": 1_000_300},
        {**base, "seq": 12, "trade_id": 3, "price": 1_000_100},
    ]
    frame = bars(write_history(tmp_path / "s.duckdb", sweep[::-1]), base["symbol"], MINUTE)
    assert frame.select("open", "high", "low", "close").row(0) == (
        1_000_000,
        1_000_300,
        1_000_000,
        1_000_100,
    )


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_trade_metrics_equal_plain_python(db: Path, trades: list[Trade], symbol: str) -> None:
    mine = in_order(of(trades, symbol))
    with DuckDBSource(db) as source:
        result = source.metrics(symbol)
    volume = sum(t["qty"] for t in mine)
    notional = sum(t["price"] * t["qty"] for t in mine)
    largest = min(mine, key=lambda t: (-t["qty"], t["ts"], t["seq"]))
    minutes = mine[-1]["ts"] // MINUTE - mine[0]["ts"] // MINUTE + 1
    assert result["trades"] == len(mine)
    assert result["volume"] == volume
    assert dollars(result["notional"]) == units_to_dollars(notional)
    assert dollars(result["vwap"]) == vwap_dollars(mine)
    assert result["average_trade_qty"] == pytest.approx(volume / len(mine))
    assert dollars(result["average_trade_notional"]) == (
        Decimal(notional) / len(mine) / 10_000
    ).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    assert result["trades_per_minute"] == pytest.approx(len(mine) / minutes)
    assert result["buy_volume"] == sum(t["qty"] for t in mine if t["aggressor"] == "buy")
    assert result["sell_volume"] == sum(t["qty"] for t in mine if t["aggressor"] == "sell")
    assert dollars(result["open"]) == units_to_dollars(mine[0]["price"])
    assert dollars(result["close"]) == units_to_dollars(mine[-1]["price"])
    assert dollars(result["high"]) == units_to_dollars(max(t["price"] for t in mine))
    assert dollars(result["low"]) == units_to_dollars(min(t["price"] for t in mine))
    assert result["largest_trade"]["trade_id"] == largest["trade_id"]
    assert result["largest_trade"]["qty"] == largest["qty"]


def test_trade_metrics_per_minute_uses_the_range_when_given(db: Path, trades: list[Trade]) -> None:
    start, end = OPEN + 5 * MINUTE, OPEN + 35 * MINUTE
    result = trade_metrics(db, "AAPL", start, end)
    assert result.trades_per_minute == pytest.approx(len(of(trades, "AAPL", start, end)) / 30)


def test_realized_volatility_from_consecutive_bar_closes(db: Path, trades: list[Trade]) -> None:
    closes = [b["close"] for b in python_bars(of(trades, "NVDA"), MINUTE)]
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    result = realized_volatility(db, "NVDA", MINUTE)
    assert result["returns"] == len(returns)
    assert result["realized_variance"] == pytest.approx(sum(r * r for r in returns), rel=1e-9)
    assert result["realized_volatility"] == pytest.approx(
        math.sqrt(sum(r * r for r in returns)), rel=1e-9
    )


def test_realized_volatility_of_one_bar_has_no_return(tmp_path: Path) -> None:
    db = write_history(tmp_path / "one.duckdb", make_trades(count=1))
    result = realized_volatility(db, make_trades(count=1)[0]["symbol"], MINUTE)
    assert (result["returns"], result["realized_volatility"]) == (0, None)


def test_trade_flow_splits_volume_by_aggressor(db: Path, trades: list[Trade]) -> None:
    frame = trade_flow(db, "AAPL", 5 * MINUTE)
    mine = of(trades, "AAPL")
    for row in frame.iter_rows(named=True):
        inside = [t for t in mine if row["start"] <= t["ts"] < row["start"] + 5 * MINUTE]
        buy = sum(t["qty"] for t in inside if t["aggressor"] == "buy")
        sell = sum(t["qty"] for t in inside if t["aggressor"] == "sell")
        assert (row["buy_volume"], row["sell_volume"]) == (buy, sell)
        assert row["imbalance"] == pytest.approx((buy - sell) / (buy + sell))
    assert frame["buy_volume"].sum() + frame["sell_volume"].sum() == sum(t["qty"] for t in mine)


def test_unknown_symbol_and_empty_history_are_errors_with_codes(db: Path, tmp_path: Path) -> None:
    with pytest.raises(AnalyticsError) as info:
        vwap(db, "ZZZZ")
    assert info.value.code == "unknown_symbol"
    empty = write_history(tmp_path / "empty.duckdb", [])
    for call in (
        lambda: vwap(empty, "AAPL"),
        lambda: bars(empty, "AAPL", MINUTE),
        lambda: trade_metrics(empty, "AAPL"),
    ):
        with pytest.raises(AnalyticsError) as info:
            call()
        assert info.value.code == "empty_history"


def test_missing_file_and_foreign_database_are_refused(tmp_path: Path) -> None:
    import duckdb

    with pytest.raises(AnalyticsError) as info:
        vwap(tmp_path / "nope.duckdb", "AAPL")
    assert info.value.code == "history_not_found"
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t (x INTEGER)").close()
    with pytest.raises(AnalyticsError) as info:
        vwap(other, "AAPL")
    assert info.value.code == "not_a_history"
