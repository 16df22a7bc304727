"""``lob bench history --quick`` runs end to end and reports every figure it promises."""

from __future__ import annotations

from lob.bench import run


def test_history_bench_quick_reports_write_matching_and_query_figures() -> None:
    report = run("history", quick=True)
    assert report.quick and report.name == "history"
    for key in (
        "write.arrow_rows_per_s",
        "write.event_trades_per_s",
        "matching.alone_cmd_per_s",
        "matching.journal_cmd_per_s",
        "matching.process_cmd_per_s",
        "matching.thread_cmd_per_s",
        "matching.process_ratio",
        "matching.thread_ratio",
        "matching.process_catch_up_s",
        "matching.thread_drain_s",
        "matching.one_core_journal_cmd_per_s",
        "matching.one_core_process_cmd_per_s",
        "matching.one_core_process_equal_cmd_per_s",
        "matching.one_core_process_catch_up_s",
        "query.vwap_ms",
        "query.bars_1m_ms",
        "query.metrics_ms",
        "query.activity_ms",
        "query.bars_1m_polars_ms",
    ):
        assert report.metrics[key] > 0, key
    assert report.metrics["matching.process_behind_records"] >= 0
    assert report.metrics["query.trades"] == 100_000
    assert len(report.rows) == 18
    assert all(set(row) == set(report.columns) for row in report.rows)
