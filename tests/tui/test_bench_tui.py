"""``lob bench tui --quick --json`` measures the workstation and reports a sane structure."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lob.cli.app import app


def test_bench_tui_quick_json_reports_every_workload_and_keeps_up() -> None:
    result = CliRunner().invoke(app, ["bench", "tui", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["name"] == "tui" and report["quick"] is True
    metrics = report["metrics"]
    for workload in ("market_overview", "symbol_view", "one_busy_symbol"):
        for name in ("feed_cpu_share", "app_cpu_share", "tui_cpu_share_at_full_rate"):
            assert f"{workload}.{name}" in metrics
        assert metrics[f"{workload}.frames_per_s"] > 0
    whats = {row["what"] for row in report["rows"]}
    assert {"feed only", "with app", "TUI's share"} <= whats
