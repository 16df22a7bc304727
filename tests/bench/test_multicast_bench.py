"""``lob bench multicast --quick --json`` measures every part and reports a sane structure."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lob.cli.app import app


def test_bench_multicast_quick_json_reports_encode_publish_and_latency() -> None:
    result = CliRunner().invoke(app, ["bench", "multicast", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["name"] == "multicast" and report["quick"] is True
    measures = [row["measure"] for row in report["rows"]]
    assert measures[:3] == ["encode + frame, per command", "encode + frame, 1 by 1", "map events"]
    assert {
        row["subscribers"] for row in report["rows"] if row["measure"].startswith("publish ")
    } >= {
        0,
        1,
        10,
    }
    for row in report["rows"]:
        assert set(row) <= set(report["columns"])
        assert row["msgs/s"] > 0
    metrics = report["metrics"]
    assert metrics["encode_frame.msgs_per_s"]["median"] > 0
    assert metrics["encode_frame_one.msgs_per_s"]["median"] > 0
    assert metrics["publish.10"]["packets_per_run"] > 0
    latency = metrics["latency_ns"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    assert latency["samples"] <= latency["sent"]
    for others in (0, 10):
        fanout = metrics[f"latency_fanout.{others}"]
        assert fanout["subscribers"] == 1 + others
        assert 0 < fanout["p50"] <= fanout["p99"] <= fanout["max"]
        assert fanout["samples"] <= fanout["sent"]
