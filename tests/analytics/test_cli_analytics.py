"""``lob analytics``, ``lob history`` and ``lob replay --db`` through Typer's CliRunner."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from lob.cli.app import app
from tests.analytics.support import (
    MINUTE,
    OPEN,
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

runner = CliRunner()


@pytest.fixture(scope="module")
def trades() -> list[Trade]:
    return make_trades(seed=31, count=800)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, trades: list[Trade]) -> str:
    return str(write_history(tmp_path_factory.mktemp("cli") / "h.duckdb", trades))


def lob_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def lob_error(*args: str) -> tuple[int, dict[str, str]]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)["error"]


def test_cli_vwap_json_has_symbol_vwap_volume_notional(db: str, trades: list[Trade]) -> None:
    mine = of(trades, "AAPL")
    out = lob_json("analytics", "vwap", "AAPL", "--db", db)
    assert out["symbol"] == "AAPL"
    assert dollars(out["vwap"]) == vwap_dollars(mine)
    assert out["volume"] == sum(t["qty"] for t in mine)
    assert dollars(out["notional"]) == units_to_dollars(sum(t["price"] * t["qty"] for t in mine))
    assert isinstance(out["vwap"], str) and isinstance(out["notional"], str)


def test_cli_vwap_since_a_clock_time_anchors_on_the_history_day(
    db: str, trades: list[Trade]
) -> None:
    out = lob_json("analytics", "vwap", "MSFT", "--db", db, "--since", "09:40")
    assert dollars(out["vwap"]) == vwap_dollars(of(trades, "MSFT", OPEN + 10 * MINUTE))
    assert out["start"] == OPEN + 10 * MINUTE


def test_cli_vwap_window_adds_a_rolling_series(db: str) -> None:
    out = lob_json("analytics", "vwap", "IBM", "--db", db, "--window", "5m", "--step", "1m")
    assert out["series"] and {"end", "vwap", "volume", "notional"} <= set(out["series"][0])


def test_cli_bars_json_equal_hand_built_bars(db: str, trades: list[Trade]) -> None:
    out = lob_json("analytics", "bars", "NVDA", "--db", db, "--interval", "1m")
    expected = python_bars(of(trades, "NVDA"), MINUTE)
    assert out["interval"] == MINUTE
    assert [b["start"] for b in out["bars"]] == [b["start"] for b in expected]
    for got, bar in zip(out["bars"], expected, strict=True):
        assert dollars(got["open"]) == units_to_dollars(bar["open"])
        assert dollars(got["close"]) == units_to_dollars(bar["close"])
        assert got["volume"] == bar["volume"]


def test_cli_bars_table_prints_prices_as_decimals(db: str, trades: list[Trade]) -> None:
    result = runner.invoke(app, ["analytics", "bars", "AAPL", "--db", db, "--interval", "1h"])
    assert result.exit_code == 0, result.output
    first = in_order(of(trades, "AAPL"))[0]
    assert str(units_to_dollars(first["price"]).normalize()) in result.stdout
    assert "09:00:00" in result.stdout


def test_cli_metrics_json_counts_trades(db: str, trades: list[Trade]) -> None:
    out = lob_json("analytics", "metrics", "IBM", "--db", db)
    mine = of(trades, "IBM")
    assert (out["trades"], out["volume"]) == (len(mine), sum(t["qty"] for t in mine))
    assert out["largest_trade"]["qty"] == max(t["qty"] for t in mine)


def test_cli_activity_json_ranks_symbols(db: str, trades: list[Trade]) -> None:
    out = lob_json("analytics", "activity", "--db", db, "--top", "1")
    volume: dict[str, int] = {}
    for t in trades:
        volume[t["symbol"]] = volume.get(t["symbol"], 0) + t["qty"]
    assert out["most_active_by_volume"] == [max(volume, key=lambda s: (volume[s], s))]
    assert out["trades"] == len(trades)


def test_cli_spread_volatility_and_imbalance_answer(db: str) -> None:
    assert lob_json("analytics", "spread", "AAPL", "--db", db)["quotes"] == 0
    assert lob_json("analytics", "volatility", "AAPL", "--db", db)["returns"] > 0
    assert lob_json("analytics", "imbalance", "AAPL", "--db", db, "--interval", "5m")["intervals"]


def test_cli_history_trades_pages_with_cursor(db: str, trades: list[Trade]) -> None:
    expected = [t["trade_id"] for t in in_order(of(trades, "AAPL"))]
    seen: list[int] = []
    args = ["history", "trades", "AAPL", "--db", db, "--limit", "50"]
    cursor: list[str] = []
    while True:
        page = lob_json(*args, *cursor)
        seen += [row["trade_id"] for row in page["trades"]]
        if page["next_cursor"] is None:
            break
        cursor = ["--cursor", page["next_cursor"]]
    assert seen == expected
    assert isinstance(page["trades"][0]["price"], str)


def test_cli_history_trades_table_says_how_to_get_more(db: str) -> None:
    result = runner.invoke(app, ["history", "trades", "AAPL", "--db", db, "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert "--cursor" in result.stderr


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_cli_exports_bars_and_trades(
    db: str, trades: list[Trade], tmp_path: Path, fmt: str
) -> None:
    bars_out = tmp_path / f"bars.{fmt}"
    written = lob_json(
        "analytics", "bars", "AAPL", "--db", db, "--format", fmt, "--out", str(bars_out)
    )
    frame = pl.read_csv(bars_out) if fmt == "csv" else pl.read_parquet(bars_out)
    assert written["written"] == frame.height == len(python_bars(of(trades, "AAPL"), MINUTE))
    trades_out = tmp_path / f"trades.{fmt}"
    args = ["history", "trades", "--db", db, "--limit", "1", "--format", fmt]
    written = lob_json(*args, "--out", str(trades_out))
    frame = pl.read_csv(trades_out) if fmt == "csv" else pl.read_parquet(trades_out)
    assert written["written"] == frame.height == len(trades)
    assert Decimal(str(frame["price"][0])) == units_to_dollars(in_order(trades)[0]["price"])


def test_cli_unknown_symbol_prints_the_error_object(db: str) -> None:
    code, error = lob_error("analytics", "vwap", "ZZZZ", "--db", db)
    assert code != 0
    assert error["code"] == "unknown_symbol" and "ZZZZ" in error["message"]


def test_cli_empty_history_and_missing_file_are_errors(tmp_path: Path) -> None:
    empty = str(write_history(tmp_path / "empty.duckdb", []))
    for args in (
        ("analytics", "vwap", "AAPL", "--db", empty),
        ("analytics", "activity", "--db", empty),
        ("history", "trades", "--db", empty),
    ):
        code, error = lob_error(*args)
        assert (code, error["code"]) == (1, "empty_history")
    code, error = lob_error("analytics", "bars", "AAPL", "--db", str(tmp_path / "none.duckdb"))
    assert (code, error["code"]) == (1, "history_not_found")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("analytics", "bars", "AAPL", "--interval", "2w"), "invalid_interval"),
        (("analytics", "bars", "AAPL", "--interval", "2d"), "invalid_interval"),
        (("analytics", "vwap", "AAPL", "--since", "noon"), "invalid_time"),
        (("analytics", "bars", "AAPL", "--format", "xlsx", "--out", "x"), "invalid_option"),
        (("analytics", "bars", "AAPL", "--format", "csv"), "invalid_option"),
        (("history", "trades", "AAPL", "--cursor", "nope"), "invalid_cursor"),
    ],
)
def test_cli_bad_options_print_stable_codes(db: str, args: tuple[str, ...], code: str) -> None:
    exit_code, error = lob_error(*args, "--db", db)
    assert (exit_code, error["code"]) == (1, code)


def test_cli_error_without_json_goes_to_stderr(db: str) -> None:
    result = runner.invoke(app, ["analytics", "vwap", "ZZZZ", "--db", db])
    assert result.exit_code == 1
    assert "error:" in result.stderr and result.stdout == ""


def test_replay_with_db_records_a_history_that_analytics_reads(tmp_path: Path) -> None:
    commands = tmp_path / "day.jsonl"
    lines = [
        {"op": "new", "account": "A", "id": "a1", "symbol": "AAPL", "side": "sell", "qty": 100,
         "price": "187.25"},
        {"op": "new", "account": "A", "id": "a2", "symbol": "AAPL", "side": "sell", "qty": 100,
         "price": "187.30"},
        {"op": "new", "account": "B", "id": "b1", "symbol": "AAPL", "side": "buy", "qty": 150,
         "price": "187.30"},
    ]  # fmt: skip
    commands.write_text("".join(json.dumps(line) + "\n" for line in lines))
    db = str(tmp_path / "replay.duckdb")
    result = runner.invoke(app, ["replay", str(commands), "--db", db])
    assert result.exit_code == 0, result.output
    assert sum('"type":"trade"' in line for line in result.stdout.splitlines()) == 2
    out = lob_json("analytics", "vwap", "AAPL", "--db", db)
    assert (out["vwap"], out["volume"], out["notional"]) == ("187.2667", 150, "28090.00")
    orders = lob_json("history", "orders", "A", "--db", db)["orders"]
    assert [(o["id"], o["status"], o["leaves"]) for o in orders] == [
        ("a1", "filled", 0),
        ("a2", "partially_filled", 50),
    ]


def test_simulate_with_db_records_every_simulated_trade(tmp_path: Path) -> None:
    db = str(tmp_path / "sim.duckdb")
    result = runner.invoke(app, ["simulate", "--duration", "2", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    activity = lob_json("analytics", "activity", "--db", db)
    assert activity["trades"] == summary["trades"] > 0
    assert activity["volume"] == summary["volume"]
    for symbol in summary["symbols"]:
        assert lob_json("analytics", "spread", symbol, "--db", db)["two_sided"] > 0
