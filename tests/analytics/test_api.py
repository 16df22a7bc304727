"""The GET endpoints answer what ``lob analytics --json`` prints, with the shared errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lob.analytics.api import handle
from lob.analytics.source import DuckDBSource
from lob.cli.app import app
from tests.analytics.support import OPEN, Trade, make_trades, write_history


@pytest.fixture(scope="module")
def trades() -> list[Trade]:
    return make_trades(seed=41, count=600)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, trades: list[Trade]) -> str:
    return str(write_history(tmp_path_factory.mktemp("api") / "h.duckdb", trades))


@pytest.fixture()
def source(db: str) -> Any:
    with DuckDBSource(db) as src:
        yield src


def cli_json(*args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("path", "params", "cli"),
    [
        ("/analytics/vwap/AAPL", {}, ["analytics", "vwap", "AAPL"]),
        ("/analytics/vwap/AAPL", {"since": "09:40", "window": "5m"},
         ["analytics", "vwap", "AAPL", "--since", "09:40", "--window", "5m"]),
        ("/analytics/vwap/AAPL", {"every": "10m"}, ["analytics", "vwap", "AAPL", "--every", "10m"]),
        ("/analytics/bars/MSFT", {"interval": "5m", "fill": "true"},
         ["analytics", "bars", "MSFT", "--interval", "5m", "--fill"]),
        ("/analytics/metrics/IBM", {"until": "10:00"},
         ["analytics", "metrics", "IBM", "--until", "10:00"]),
        ("/analytics/spread/IBM", {}, ["analytics", "spread", "IBM"]),
        ("/analytics/volatility/NVDA", {"interval": "2m"},
         ["analytics", "volatility", "NVDA", "--interval", "2m"]),
        ("/analytics/imbalance/NVDA", {}, ["analytics", "imbalance", "NVDA"]),
        ("/analytics/activity", {"top": "2"}, ["analytics", "activity", "--top", "2"]),
        ("/history/trades/AAPL", {"limit": "7"}, ["history", "trades", "AAPL", "--limit", "7"]),
        ("/history/trades", {"since": str(OPEN + 60_000_000_000), "limit": "3"},
         ["history", "trades", "--since", str(OPEN + 60_000_000_000), "--limit", "3"]),
        ("/history/orders/B1", {}, ["history", "orders", "B1"]),
    ],
)  # fmt: skip
def test_endpoint_answers_what_the_cli_prints(
    source: Any, db: str, path: str, params: dict[str, str], cli: list[str]
) -> None:
    status, body = handle(source, path, params)
    assert status == 200, body
    assert body == cli_json(*cli, "--db", db)


def test_history_trades_endpoint_pages_with_the_cursor(source: Any, trades: list[Trade]) -> None:
    seen = 0
    params = {"limit": "100"}
    while True:
        status, body = handle(source, "/history/trades", params)
        assert status == 200
        seen += len(body["trades"])
        if body["next_cursor"] is None:
            break
        params = {"limit": "100", "cursor": body["next_cursor"]}
    assert seen == len(trades)


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/analytics/vwap/ZZZZ", {}, 404, "unknown_symbol"),
        ("/analytics/bars/AAPL", {"interval": "3d"}, 400, "invalid_interval"),
        ("/analytics/bars/AAPL", {"fill": "maybe"}, 400, "invalid_field"),
        ("/analytics/vwap/AAPL", {"since": "noon"}, 400, "invalid_time"),
        ("/analytics/activity", {"top": "-1"}, 400, "invalid_field"),
        ("/history/trades", {"cursor": "x"}, 400, "invalid_cursor"),
        ("/history/trades", {"limit": "0"}, 400, "invalid_limit"),
        ("/analytics/nothing", {}, 404, "not_found"),
        ("/history/trades/AAPL/extra", {}, 404, "not_found"),
    ],
)
def test_endpoint_errors_have_status_and_shared_shape(
    source: Any, path: str, params: dict[str, str], status: int, code: str
) -> None:
    got_status, body = handle(source, path, params)
    assert got_status == status
    assert body["error"]["code"] == code and body["error"]["message"]


def test_endpoint_on_an_empty_history_says_so(tmp_path: Path) -> None:
    with DuckDBSource(write_history(tmp_path / "empty.duckdb", [])) as source:
        status, body = handle(source, "/analytics/activity", {})
    assert (status, body["error"]["code"]) == (404, "empty_history")
