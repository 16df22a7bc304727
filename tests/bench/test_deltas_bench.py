"""``lob bench deltas --quick --json``: payload sizes are exact, so the goals are checked here."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lob.bench.deltas import order_flow, payload_stats
from lob.cli.app import app


def test_bench_deltas_quick_json_reports_sizes_and_rates() -> None:
    result = CliRunner().invoke(app, ["bench", "deltas", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["name"] == "deltas" and report["quick"] is True
    measures = [row["measure"] for row in report["rows"]]
    assert measures[0] == "full JSON snapshot per update"
    assert {"msgpack delta", "binary delta", "L2BookBuilder.apply, deltas"} <= set(measures)
    for row in report["rows"]:
        assert set(row) <= set(report["columns"])
    metrics = report["metrics"]
    assert metrics["encode.msgpack_per_s"]["median"] > 0
    assert metrics["builder.apply_per_s"]["median"] > 0


def test_delta_payload_meets_the_size_goals_on_a_realistic_book() -> None:
    stats, deltas = payload_stats(order_flow(3_000)[0])
    assert 10 <= stats.levels_per_side <= 20
    assert len(deltas) == stats.deltas > 3_000
    for per_delta in (stats.delta_msgpack, stats.delta_binary):
        assert per_delta <= 40
        assert 1 - per_delta / stats.snapshot_json >= 0.95
