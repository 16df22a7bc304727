"""``benchmarks/e2e_floor_benchmark.py``: the e2e clients against a server that answers at once."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "e2e_floor_benchmark.py"
LINE = re.compile(
    r"^(?P<offered>[\d,]+)/s offered, (?P<answered>[\d,]+)/s answered: "
    r"from the due time p50 (?P<due50>[\d.]+) ms, p99 (?P<due99>[\d.]+) ms; "
    r"from the send p50 (?P<sent50>[\d.]+) ms, p99 (?P<sent99>[\d.]+) ms; "
    r"CPU of a core: entry processes (?P<entry>\d+%, \d+%), server (?P<server>\d+)%$"
)


def test_each_round_prints_the_harness_latency_and_nothing_is_left_running() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--rate", "400", "--seconds", "0.5", "--rounds", "2"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    rounds = [m for m in map(LINE.match, done.stdout.splitlines()) if m]
    assert len(rounds) == 2, done.stdout
    for m in rounds:
        assert m["offered"] == "400" and int(m["answered"].replace(",", "")) > 0
        assert 0 < float(m["sent50"]) <= float(m["sent99"])
        assert float(m["sent50"]) <= float(m["due50"])  # a send is never before it is due
        assert int(m["server"]) > 0  # it answered every message, so it used some CPU
    assert not _running(f"{SCRIPT}\0--serve")  # the answering server was stopped


def _running(argv: str) -> list[Path]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if argv.encode() in cmdline.read_bytes():
                found.append(cmdline)
        except OSError:  # gone meanwhile
            pass
    return found
