"""``benchmarks/serve_phases_benchmark.py``: named phases against one real ``lob serve``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "serve_phases_benchmark.py"
LINE = re.compile(
    r"^(?P<phase>\S+): (?P<rate>[\d,]+) orders/s, p50 [\d.]+ ms, p99 [\d.]+ ms, "
    r"p99 from send (?P<sent>[\d.]+) ms, "
    r"server p50 (?P<p50>[\d.]+) ms, p99 (?P<p99>[\d.]+) ms, "
    r"user (?P<user>[\d.]+) us/order, system (?P<system>[\d.]+) us/order, "
    r"subscribers connected (?P<open>\d+) of 2, (?P<deltas>[\d,]+) deltas delivered$"
)


def test_each_phase_prints_its_rate_the_servers_latency_and_cpu_per_order() -> None:
    phases = "rate:400:1,window:8:4"
    options = ["--seconds", "0.5", "--subscribers", "2", "--", "--md-interval", "1"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--phases", phases, *options],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    lines = [m for m in map(LINE.match, done.stdout.splitlines()) if m]
    assert [m["phase"] for m in lines] == phases.split(",")
    for m in lines:
        assert int(m["rate"].replace(",", "")) > 0
        assert 0 < float(m["p50"]) <= float(m["p99"])  # the server's histogram saw them
        assert float(m["user"]) + float(m["system"]) > 0
        assert float(m["sent"]) > 0
        assert m["open"] == "2"  # at these rates no subscriber falls behind
        assert int(m["deltas"].replace(",", "")) > 0  # both follow the book the orders change


def test_a_phase_that_is_neither_rate_nor_window_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--phases", "burst:10:1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "rate:N:BATCH or window:N:BATCH" in done.stderr
