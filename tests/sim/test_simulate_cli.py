"""``lob simulate``: the same seed prints the same bytes and writes the same ITCH file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lob.cli.app import app
from lob.feed.itch_book import ItchBookBuilder
from lob.feed.itch_file import read_messages


def _simulate(*args: str):
    return CliRunner().invoke(app, ["simulate", *args])


def test_simulate_json_same_seed_prints_identical_bytes() -> None:
    args = ("--seed", "7", "--duration", "3", "--symbols", "AAPL,PNNY", "--json")
    first = _simulate(*args)
    second = _simulate(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    assert first.stdout != _simulate("--seed", "8", *args[2:]).stdout


def test_simulate_json_last_line_has_totals_per_symbol_and_report() -> None:
    result = _simulate("--seed", "2", "--duration", "3", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("orders", "trades", "cancels", "replaces", "volume", "messages", "rejects"):
        assert isinstance(summary[key], int)
    assert summary["trades"] > 0 and summary["rejects"] == 0
    assert set(summary["symbols"]) == {"AAPL", "MSFT", "NVDA"}
    aapl = summary["symbols"]["AAPL"]
    assert aapl["orders"] > 0 and aapl["volume"] > 0
    assert isinstance(aapl["last"], str)  # prices as decimal text
    report = summary["report"]
    assert {"spread", "cancel_to_order", "returns", "trade_signs", "depth"} <= set(report)
    assert summary["seconds"] == 3


def test_simulate_itch_out_same_seed_writes_identical_files(tmp_path: Path) -> None:
    paths = [tmp_path / "a.itch", tmp_path / "b.itch"]
    outputs = []
    for path in paths:
        result = _simulate(
            "--seed", "5", "--duration", "2", "--symbols", "MSFT,PNNY", "--json",
            "--itch-out", str(path),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout.splitlines()[-1]))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert outputs[0]["itch_messages"] > 1_000


def test_simulate_itch_out_rebuilds_the_engine_book(tmp_path: Path) -> None:
    path = tmp_path / "day.itch"
    result = _simulate(
        "--seed", "4", "--duration", "2", "--symbols", "AAPL,PNNY", "--json",
        "--itch-out", str(path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[-1])
    builder = ItchBookBuilder()
    with path.open("rb") as stream:
        messages = list(read_messages(stream))
    builder.apply_all(messages)
    assert builder.state_hash() == summary["state_hash"]
    assert [m.TYPE for m in messages[:1]] == ["S"]


def test_simulate_unknown_symbol_prints_error_object_and_fails() -> None:
    result = _simulate("--symbols", "AAPL,NOPE", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "unknown_symbol"


def test_simulate_bad_rate_is_an_invalid_field() -> None:
    result = _simulate("--rate", "0", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "invalid_field"


def test_simulate_table_and_report_name_every_symbol() -> None:
    result = _simulate("--seed", "1", "--duration", "2", "--symbols", "AAPL,NVDA", "--report")
    assert result.exit_code == 0, result.output
    assert "AAPL" in result.stdout and "NVDA" in result.stdout
    assert "realism report" in result.stdout
    assert "cancel-to-order" in result.stdout


def test_simulate_json_is_identical_across_processes_and_hash_seeds() -> None:
    import os
    import subprocess
    import sys

    command = [sys.executable, "-c", "from lob.cli.app import main; main()", "simulate"]
    command += ["--seed", "9", "--duration", "2"]
    command += ["--symbols", "NVDA,PNNY", "--json"]
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(command, capture_output=True, env=env, timeout=120, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert b'"trades"' in outputs[0]


def test_simulate_realtime_runs_the_wall_clock_duration() -> None:
    result = _simulate("--realtime", "--duration", "0.3", "--symbols", "AAPL", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["seconds"] == 0.3  # one simulated second per wall second
    assert summary["messages"] > 0
