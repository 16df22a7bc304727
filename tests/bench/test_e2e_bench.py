"""``lob bench e2e --quick --json``: orders through a real ``lob serve``, every one answered."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from lob.bench.e2e import LobServe, Sizes, _sync_processes, group_commit_probe
from lob.bench.ws import SYMBOL
from lob.cli.app import app
from lob.priority import allowed_cpus


def test_bench_e2e_quick_json_answers_every_order_and_reports_latency() -> None:
    result = CliRunner().invoke(app, ["bench", "e2e", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["name"] == "e2e" and report["quick"] is True
    for row in report["rows"]:
        assert set(row) <= set(report["columns"])
    metrics = report["metrics"]
    sizes = Sizes.quick()
    phases = (
        "ws.200",
        "max",
        "full.max",
        "full.batch.max",
        "nosubs.ws.200",
        "nosubs.max",
        "off.max",
        "off.nosubs.ws.200",
    )
    if len(allowed_cpus() or ()) >= 2:  # the server on a CPU of its own, clients off it
        phases += ("pinned.ws.200", "pinned.batch.400", "pinned.batch.max", "pinned.nosubs.ws.200")
        cpu = min(allowed_cpus() or ())
        pinned = [row for row in report["rows"] if row["measure"].endswith(f"server on CPU {cpu}")]
        assert len(pinned) == 4
    assert {*phases, "rest"} <= set(metrics)
    assert 0 < metrics["disk_fsync_ns"]["p50"] <= metrics["disk_fsync_ns"]["p99"]
    floor = metrics["disk_group_commit_ns"]
    assert floor["rate"] == 10_000 and 0 < floor["syncs"] <= floor["records"]
    assert 0 < floor["p50"] <= floor["p99"]
    for key in phases:
        phase = metrics[key]
        assert phase["sent"] > 0 and phase["unanswered"] == 0
        assert phase["acks"] == phase["sent"]
        # only cancels of orders an IOC filled meanwhile may fail
        assert set(phase["error_codes"]) <= {"unknown_order"}
        stats = phase["stats"]
        assert 0 < stats["p50"] <= stats["p99"] <= stats["p99_9"] <= stats["max"]
        sent = phase["from_send"]  # from the actual send: never before the intended time
        assert 0 < sent["p50"] <= stats["p50"] and sent["p99"] <= stats["p99"]
        assert (phase["market_data_deltas"] > 0) is ("nosubs." not in key)
        # every subscriber kept up at these rates and was still connected at the end
        subscribers = 0 if "nosubs." in key else sizes.subscribers
        assert phase["subscribers_open"] == subscribers and phase["subscriber_closes"] == {}
        assert phase["market_data_gaps"] == 0
        server = phase["server"]  # the server counted every answer the clients got
        assert server["answers"] == phase["acks"]
        assert 0 < server["p50"] <= server["p99"] <= server["p99_9"]
        assert 0 <= server["within_2ms"] <= 1
    rest = metrics["rest"]
    assert rest["errors"] == 0 and rest["achieved"] > 0
    # the batched fixed-rate phases run for their own length: every order due in it sent
    for rate in sizes.batch_rates:
        assert metrics[f"batch.{int(rate)}"]["sent"] == int(rate * sizes.batch_seconds)


def test_lob_serve_process_group_is_gone_after_close() -> None:
    server = LobServe(SYMBOL)
    pid = server.proc.pid
    assert server.url.startswith("http://127.0.0.1:")
    syncers = _sync_processes(pid)  # the journal's fsync runs in a child of its own
    assert len(syncers) == 1
    server.close()
    with pytest.raises(ProcessLookupError):
        os.kill(syncers[0], 0)
    assert server.proc.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_group_commit_probe_answers_every_record_with_fewer_syncs_than_records() -> None:
    """At 2,000 records/s for 0.5 s: every record written is synced and timed once."""
    floor = group_commit_probe(2_000, 0.5)
    assert floor["records"] == 1_000
    assert 0 < floor["syncs"] <= floor["records"]
    assert 0 < floor["p50"] <= floor["p99"]
