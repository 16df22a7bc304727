"""``lob bench ws --quick --json``: real sockets, the enqueue-only method, publisher cost."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lob.bench.ws import order_flow, publisher_cost
from lob.cli.app import app
from lob.engine import MatchingEngine


def test_bench_ws_quick_json_reports_real_mock_publisher_and_polling() -> None:
    result = CliRunner().invoke(app, ["bench", "ws", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["name"] == "ws" and report["quick"] is True
    for row in report["rows"]:
        assert set(row) <= set(report["columns"])
    metrics = report["metrics"]
    for count in (1, 4):
        real = metrics[f"real.{count}"]
        assert real["delivered"] > 0 and real["deltas_per_s"] > 0
        # every published delta reaches every subscriber (a batch counts what it carries)
        assert real["delivered"] <= real["published"] * count
        assert real["paced_delivered"] == real["paced_expected"]
        assert 0 < real["p50_ns"] <= real["p99_ns"] <= real["max_ns"]
        assert real["server_cpu_ns_per_delta"] > 0
        mock = metrics[f"enqueue_only.{count}"]
        assert mock["msgs_per_s"] > 0 and 0 < mock["p50_ns"] <= mock["p99_ns"]
    assert metrics["publisher.10"]["p50_ns"] > 0
    assert set(metrics["polling"]) == {"1ms", "10ms", "100ms", "1000ms"}


def test_order_flow_every_command_is_accepted_by_the_engine() -> None:
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol("AAPL", 2_275_000)
    flow = order_flow(3_000, 2_275_000)
    for i, command in enumerate(flow):
        events = engine.submit(command, 1_000 + i)
        # cancels of orders an IOC filled meanwhile are the only rejections
        rejected = [e for e in events if e.TYPE == "rejected"]
        assert not rejected or type(command).__name__ == "CancelOrder"
    engine.check_integrity()


def test_publisher_cost_counts_only_broadcasts_that_carried_deltas() -> None:
    result = publisher_cost(3, 300)
    assert 0 < result["broadcasts"] <= 300
    assert result["p50_ns"] > 0
    assert result["per_subscriber_ns"] == result["p50_ns"] / 3
