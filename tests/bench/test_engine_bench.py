"""``lob bench engine``: every layer of the in-process exchange sees every command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lob.bench import names
from lob.bench.book_workloads import mix_workload
from lob.bench.engine import BATCH, LAYERS, build_stack, check
from lob.cli.app import app


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["bench", "engine", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_bench_engine_is_registered_so_bench_all_runs_it() -> None:
    assert "engine" in names()


def test_bench_engine_quick_json_has_one_row_per_layer_and_the_batch_row(
    report: dict[str, Any],
) -> None:
    assert report["name"] == "engine" and report["quick"] is True
    rows = report["rows"]
    assert isinstance(rows, list)
    assert [row["layer"] for row in rows] == [LAYERS[0], LAYERS[1], BATCH, *LAYERS[2:]]
    for row in rows:
        assert set(row) <= set(report["columns"])
        assert row["orders/s"] > 0
    shares = [int(row["share"].rstrip("%")) for row in rows if row["layer"] in LAYERS]
    assert 95 <= sum(shares) <= 105  # rounded shares of one whole
    metrics = report["metrics"]
    assert isinstance(metrics, dict)
    for key in ("engine.latency", "stack.latency"):
        latency = metrics[key]["latency_ns"]
        assert 0 < latency["p50"] <= latency["p99"]


def test_bench_engine_quick_check_every_layer_processed_every_command(
    report: dict[str, Any],
) -> None:
    counts = report["metrics"]["check"]
    assert counts["applied"] == counts["commands"] == counts["journal_records"]
    assert counts["l2_seq"] == counts["l2_deltas"] > 0
    assert counts["itch_messages"] > counts["commands"] // 2
    assert counts["mold_packets"] > 0
    assert counts["trades"] > 0 and counts["history_trades"] == counts["trades"]


def test_check_pass_counts_match_on_a_fresh_stream(tmp_path: Path) -> None:
    workload = mix_workload(300, 50, seed=7)
    counts = check(workload, tmp_path / "x", ("AAPL",))
    assert counts["journal_records"] == len(workload.prefill) + len(workload.stream)
    assert counts["history_trades"] == counts["trades"]


def test_build_stack_engine_only_writes_no_files_and_keeps_books_intact(tmp_path: Path) -> None:
    stack = build_stack(1, tmp_path / "engine", ("AAPL",))
    workload = mix_workload(50, 20, seed=5)
    for command in workload.prefill:
        stack.submit(command)
    stack.close()
    assert not (tmp_path / "engine").exists()
    stack.engine.check_integrity()  # raises on a broken book
