"""``lob bench book --quick --json`` runs both engines and reports a sane structure."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import lob.bench as bench_registry
from lob.cli.app import app


def test_bench_book_quick_json_reports_lob_and_the_seed_design() -> None:
    result = CliRunner().invoke(app, ["bench", "book", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["name"] == "book" and report["quick"] is True
    assert set(report) >= {"title", "columns", "rows", "metrics", "notes", "machine"}
    assert {"cpu", "cores", "python", "implementation", "os"} <= set(report["machine"])
    workloads = {row["workload"] for row in report["rows"]}
    assert {"mix", "add_cancel", "sweep"} <= workloads
    assert {row["engine"] for row in report["rows"]} == {"lob", "seed"}
    for row in report["rows"]:
        assert set(row) <= set(report["columns"])
        assert row["ops/s"] > 0
    metrics = report["metrics"]
    for key in ("mix", "mix8", "add_cancel", "sweep", "resting"):
        assert metrics[f"{key}.ops_per_s"]["median"] > 0
        assert metrics[f"{key}.seed.ops_per_s"]["median"] > 0
        assert metrics[f"{key}.speedup"] > 0
    latency = metrics["mix.latency"]
    assert set(latency["latency_ns"]) == {"p50", "p99", "p99_9", "max"}
    assert latency["latency_ns"]["p50"] <= latency["latency_ns"]["max"]
    assert latency["service_ns"]["p50"] <= latency["latency_ns"]["max"]
    assert metrics["resting.bytes_per_order"] > 0
    assert metrics["resting.seed.bytes_per_order"] > 0


def test_bench_book_quick_prints_a_table_with_its_machine() -> None:
    result = CliRunner().invoke(app, ["bench", "book", "--quick"])
    assert result.exit_code == 0, result.output
    assert "Order book" in result.stdout
    assert "machine:" in result.stdout


def test_bench_all_quick_json_runs_every_registered_benchmark(monkeypatch) -> None:
    # Only the book is registered here: each other benchmark's tests run its own quick mode.
    monkeypatch.setattr(bench_registry, "BENCHMARKS", {"book": "lob.bench.book:run"})
    result = CliRunner().invoke(app, ["bench", "all", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [r["name"] for r in payload["reports"]] == ["book"]
    assert payload["machine"]["cores"] >= 1
