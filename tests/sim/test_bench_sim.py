"""``lob bench sim`` reports a rate per workload (never checked: tests do not test speed)."""

from __future__ import annotations

from lob.bench import load
from lob.bench.harness import NullProgress


def test_bench_sim_quick_reports_simulator_and_engine_rates() -> None:
    report = load("sim")(True, NullProgress())
    assert report.name == "sim" and report.quick
    assert [row["what"] for row in report.rows] == ["simulate", "engine only"] * 2
    for key in ("3_symbols", "8_symbols"):
        assert report.metrics[f"{key}.messages_per_s"] > 0
        assert report.metrics[f"{key}.engine_only_messages_per_s"] > 0
        assert 0 < report.metrics[f"{key}.orders_per_s"] < report.metrics[f"{key}.messages_per_s"]
        cpu = report.metrics[f"{key}.orders_per_cpu_s"]
        assert 0 < cpu < report.metrics[f"{key}.messages_per_cpu_s"]


def test_bench_sim_reads_the_goal_both_as_messages_and_as_new_orders() -> None:
    report = load("sim")(True, NullProgress())
    verdicts = [n for n in report.notes if "new orders per CPU second" in n]
    assert [v.split(":")[0] for v in verdicts] == ["3 symbols", "8 symbols"]
    for verdict in verdicts:
        assert verdict.count("200,000") == 2
        assert "messages per CPU second (m" in verdict  # meets or misses, never left out
