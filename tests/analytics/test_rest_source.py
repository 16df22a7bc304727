"""``--url``: the CLI asks a server over the GET endpoints and prints what ``--db`` prints.

The server here is a loopback ``http.server`` (port 0) that mounts
``lob.analytics.api.handle`` over a ``DuckDBSource``, as ``lob serve`` would.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from lob.analytics.api import handle
from lob.analytics.source import DuckDBSource
from lob.cli.app import app
from tests.analytics.support import make_trades, write_history

runner = CliRunner()
SEEN_KEYS: list[str | None] = []


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("rest") / "h.duckdb"
    return str(write_history(path, make_trades(seed=53, count=700)))


@pytest.fixture(scope="module")
def url(db: str) -> Iterator[str]:
    source = DuckDBSource(db)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(parts.query))
            SEEN_KEYS.append(self.headers.get("Authorization"))
            status, body = handle(source, urllib.parse.unquote(parts.path), params)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()
    source.close()


def both(db: str, url: str, *args: str) -> tuple[Any, Any]:
    answers = []
    for option in (["--db", db], ["--url", url]):
        result = runner.invoke(app, [*args, *option, "--json"])
        assert result.exit_code == 0, result.output
        answers.append(json.loads(result.stdout))
    return answers[0], answers[1]


@pytest.mark.parametrize(
    "args",
    [
        ["analytics", "vwap", "AAPL"],
        ["analytics", "vwap", "AAPL", "--since", "09:45", "--window", "5m", "--step", "1m"],
        ["analytics", "vwap", "MSFT", "--every", "15m"],
        ["analytics", "bars", "MSFT", "--interval", "5m", "--fill"],
        ["analytics", "metrics", "IBM", "--since", "09:40", "--until", "10:10"],
        ["analytics", "spread", "IBM"],
        ["analytics", "volatility", "NVDA", "--interval", "2m"],
        ["analytics", "imbalance", "NVDA", "--interval", "10m"],
        ["analytics", "activity", "--top", "3"],
        ["history", "trades", "AAPL", "--limit", "5"],
        ["history", "orders", "B2"],
    ],
)
def test_url_answers_equal_file_answers(db: str, url: str, args: list[str]) -> None:
    from_file, from_server = both(db, url, *args)
    assert from_server == from_file


def test_url_exports_every_trade_across_pages(db: str, url: str, tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    args = ["history", "trades", "--url", url, "--format", "parquet", "--out", str(out)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["written"] == pl.read_parquet(out).height == 700


def test_url_passes_the_server_error_through(url: str) -> None:
    result = runner.invoke(app, ["analytics", "vwap", "ZZZZ", "--url", url, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "unknown_symbol"


def test_url_without_a_server_is_unavailable() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = runner.invoke(
        app, ["analytics", "vwap", "AAPL", "--url", f"http://127.0.0.1:{port}", "--json"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "unavailable"


def test_db_and_url_together_are_refused(db: str, url: str) -> None:
    result = runner.invoke(app, ["analytics", "activity", "--db", db, "--url", url, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "invalid_option"


def test_url_sends_lob_key_as_the_api_key(url: str) -> None:
    SEEN_KEYS.clear()
    args = ["history", "orders", "B1", "--url", url, "--json"]
    result = runner.invoke(app, args, env={"LOB_KEY": "lob_test_key"})
    assert result.exit_code == 0, result.output
    assert SEEN_KEYS == ["Bearer lob_test_key"]
