"""``lob book|trades|symbols|order|cancel|replace|orders|fills`` against a real ``lob serve``.

One server on loopback (ephemeral port, temporary data dir) serves the module;
each test uses its own symbol or order ids so the tests do not depend on order.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lob.cli.app import app
from lob.cli.scripting import EXIT_CODES, exit_code_for

KEY = "trader-key-0001"
OTHER = "other-key-0002"
runner = CliRunner()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("scripting")
    args = [sys.executable, "-c", "from lob.cli.app import main; main()", "serve",
            "--port", "0", "--data-dir", str(data), "--symbols", "AAPL,MSFT,NVDA,TSLA",
            "--no-multicast", "--no-history", "--fsync", "off",
            "--api-key", f"trader:{KEY}", "--api-key", f"other:{OTHER}"]  # fmt: skip
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    url = None
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        match = re.search(r"REST\s+(http://\S+)", line)
        url = match.group(1) if match else None
    try:
        assert url is not None, "lob serve did not print its address"
        yield url
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stderr.close()


def lob(url: str, *args: str, key: str | None = KEY) -> tuple[int, Any, str]:
    """Run ``lob ARGS --json``; return (exit code, decoded stdout, stderr)."""
    env = {"LOB_URL": url}
    if key is not None:
        env["LOB_API_KEY"] = key
    result = runner.invoke(app, [*args, "--json"], env=env)
    out = result.stdout.strip()
    return result.exit_code, json.loads(out) if out else None, result.stderr


def test_order_limit_then_book_orders_and_cancel_round_trip(server: str) -> None:
    code, ack, _ = lob(server, "order", "buy", "100", "AAPL", "227.50", "--id", "bid-1")
    assert code == 0
    assert ack["type"] == "ack" and ack["op"] == "new"
    assert ack["order"]["status"] == "open" and ack["order"]["leaves_qty"] == 100

    code, book, _ = lob(server, "book", "AAPL", "--depth", "1")
    assert code == 0 and book["bids"] == [{"price": "227.50", "qty": 100, "orders": 1}]

    code, doc, _ = lob(server, "orders", "--symbol", "aapl")
    assert code == 0 and [o["id"] for o in doc["orders"]] == ["bid-1"]

    code, ack, _ = lob(server, "cancel", "bid-1")
    assert code == 0 and ack["order"]["status"] == "cancelled"
    code, book, _ = lob(server, "book", "AAPL")
    assert book["bids"] == []


def test_order_crossing_trades_and_shows_in_trades_and_fills(server: str) -> None:
    code, _, _ = lob(server, "order", "sell", "50", "MSFT", "420.00", "--id", "ask-1")
    assert code == 0
    code, ack, _ = lob(
        server, "order", "buy", "30", "MSFT", "420.00", "--tif", "ioc", "--id", "lift-1",
        key=OTHER,
    )  # fmt: skip
    assert code == 0
    assert ack["order"]["filled_qty"] == 30
    assert [(f["price"], f["qty"], f["liquidity"]) for f in ack["fills"]] == [
        ("420.00", 30, "taker")
    ]

    code, doc, _ = lob(server, "trades", "MSFT", "--limit", "5")
    assert code == 0
    assert [(t["price"], t["qty"], t["aggressor"]) for t in doc["trades"]] == [
        ("420.00", 30, "buy")
    ]
    code, doc, _ = lob(server, "fills")
    assert code == 0
    assert [(f["id"], f["qty"], f["liquidity"]) for f in doc["fills"] if f["symbol"] == "MSFT"] == [
        ("ask-1", 30, "maker")
    ]


def test_market_order_without_price_is_a_market_order(server: str) -> None:
    lob(server, "order", "sell", "10", "TSLA", "250.00", "--id", "tsla-ask")
    code, ack, _ = lob(server, "order", "buy", "10", "TSLA", key=OTHER)
    assert code == 0
    assert ack["order"]["type"] == "market" and ack["order"]["filled_qty"] == 10


def test_replace_changes_quantity_and_price(server: str) -> None:
    lob(server, "order", "buy", "100", "NVDA", "120.00", "--id", "nv-1")
    code, ack, _ = lob(server, "replace", "nv-1", "--qty", "40")
    assert code == 0 and ack["order"]["leaves_qty"] == 40
    code, ack, _ = lob(server, "replace", "nv-1", "--price", "119.50")
    assert code == 0 and ack["order"]["price"] == "119.50"
    code, book, _ = lob(server, "book", "NVDA")
    assert book["bids"][0] == {"price": "119.50", "qty": 40, "orders": 1}
    lob(server, "cancel", "nv-1")


def test_symbols_lists_every_traded_symbol(server: str) -> None:
    code, doc, _ = lob(server, "symbols")
    assert code == 0
    assert [s["symbol"] for s in doc["symbols"]] == ["AAPL", "MSFT", "NVDA", "TSLA"]


@pytest.mark.parametrize(
    ("args", "key", "error", "exit_code"),
    [
        (["orders"], "not-a-valid-key", "unauthorized", 4),
        (["order", "buy", "1", "AAPL", "1.00"], None, "unauthorized", 4),
        (["book", "ZZZZ"], KEY, "unknown_symbol", 5),
        (["order", "buy", "10", "ZZZZ", "1.00"], KEY, "unknown_symbol", 5),
        (["cancel", "never-placed"], KEY, "unknown_order", 5),
        (["replace", "never-placed", "--qty", "5"], KEY, "unknown_order", 5),
        (["order", "buy", "10", "AAPL", "227.555"], KEY, "invalid_price", 6),
        (["order", "buy", "0", "AAPL", "227.50"], KEY, "invalid_quantity", 6),
        (["order", "buy", "10", "AAPL", "227.50", "--tif", "forever"], KEY, "invalid_tif", 6),
        (["order", "hold", "10", "AAPL", "227.50"], KEY, "usage", 2),
        (["replace", "x"], KEY, "usage", 2),
    ],
)
def test_errors_print_the_error_object_and_exit_by_code(
    server: str, args: list[str], key: str | None, error: str, exit_code: int
) -> None:
    code, doc, _ = lob(server, *args, key=key)
    assert code == exit_code
    assert doc["error"]["code"] == error and doc["error"]["message"]


def test_other_accounts_orders_are_unknown_to_you(server: str) -> None:
    lob(server, "order", "buy", "5", "AAPL", "200.00", "--id", "mine")
    code, doc, _ = lob(server, "cancel", "mine", key=OTHER)
    assert (code, doc["error"]["code"]) == (5, "unknown_order")
    assert lob(server, "cancel", "mine")[0] == 0


def test_unreachable_server_exits_3(tmp_path: Path) -> None:
    code, doc, _ = lob("http://127.0.0.1:1", "book", "AAPL")
    assert code == 3 and doc["error"]["code"] == "unreachable"


def test_errors_without_json_go_to_stderr_readably(server: str) -> None:
    result = runner.invoke(app, ["book", "ZZZZ", "--url", server])
    assert result.exit_code == 5
    assert result.stdout == ""
    assert "unknown_symbol" in result.stderr


def test_tables_show_the_book_for_people(server: str) -> None:
    lob(server, "order", "sell", "7", "AAPL", "228.00", "--id", "show-ask")
    result = runner.invoke(app, ["book", "AAPL", "--url", server])
    assert result.exit_code == 0
    assert "228.00" in result.stdout and "AAPL book" in result.stdout
    lob(server, "cancel", "show-ask")


def test_exit_code_mapping_sends_unknown_codes_to_rejected() -> None:
    assert exit_code_for("post_only_would_take") == 6
    assert exit_code_for("price_out_of_collar") == 6
    assert EXIT_CODES["unreachable"] == 3 and EXIT_CODES["internal"] == 1


def test_trades_follow_prints_each_new_trade_as_a_json_line(server: str) -> None:
    follow = subprocess.Popen(
        [sys.executable, "-c", "from lob.cli.app import main; main()", "trades", "AAPL",
         "--follow", "--json", "--url", server],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert follow.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in follow.stdout], daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        line = ""
        while not line and time.monotonic() < deadline:  # until the subscription is live
            lob(server, "order", "sell", "3", "AAPL", "226.00", "--id", f"f-{time.monotonic_ns()}")
            code, _, _ = lob(server, "order", "buy", "3", "AAPL", "226.00", key=OTHER)
            assert code == 0
            with contextlib.suppress(queue.Empty):
                line = lines.get(timeout=0.5)
        trade = json.loads(line)
        assert trade["symbol"] == "AAPL" and trade["qty"] == 3 and trade["aggressor"] == "buy"
    finally:
        follow.send_signal(signal.SIGINT)
        follow.wait(timeout=30)
    assert follow.returncode == 130


def _doc_commands() -> list[list[str]]:
    """The ``lob ...`` lines of docs/cli.md's examples that need no shell variable."""
    import shlex

    text = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            head = line.split("|")[0].split("#")[0].split(";")[0].strip()
            if head.startswith("lob ") and "$" not in head and "--follow" not in head:
                commands.append(shlex.split(head)[1:])
    return commands


def test_docs_examples_run_and_succeed(server: str) -> None:
    commands = _doc_commands()
    assert len(commands) >= 10
    for args in commands:
        if "227.555" in args or args[:2] == ["cancel", "nope"]:
            continue  # the examples of errors, checked with their exit codes above
        result = runner.invoke(app, args, env={"LOB_URL": server, "LOB_API_KEY": KEY})
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
