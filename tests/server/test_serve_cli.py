"""``lob serve`` as a user runs it: options checked before anything starts, clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from lob.bench.e2e import _sync_processes
from lob.cli.app import app
from lob.priority import SHORT_SLICE, time_slice
from lob.store.journal import JOURNAL_NAME, read_records
from tests.server.support import run
from tests.server.test_durability import KEYS, _start, _stop
from tests.server.test_history_process import _history_children, _trade

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--fsync", "sometimes"], "--fsync"),
        (["--symbols", "NOTREAL"], "--symbols"),
        (["--api-key", "nocolon"], "--api-key"),
        (["--multicast", "not-an-address"], "--multicast"),
        (["--calendar", "lunar"], "--calendar"),
        (["--calendar", "compressed", "--day-length", "0.01"], "--day-length"),
        (["--admin-key", "short"], "--admin-key"),
        (["--history", "/no/such/directory/history.duckdb"], "--history"),
        (["--no-history", "--history", "history.duckdb"], "--history"),
        (["--cpu", "100000"], "--cpu"),
        (["--cpu", "-1"], "--cpu"),
    ],
)
def test_serve_bad_options_exit_2_before_starting(
    tmp_path: Path, args: list[str], hint: str
) -> None:
    result = runner.invoke(app, ["serve", "--data-dir", str(tmp_path / "d"), *args])
    assert result.exit_code == 2
    assert hint in result.output
    assert not (tmp_path / "d" / "journal.lob").exists()


def test_serve_will_not_write_its_history_over_a_file_that_is_not_one(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("not a database")
    result = runner.invoke(
        app, ["serve", "--data-dir", str(tmp_path / "d"), "--history", str(other)]
    )
    assert result.exit_code == 2 and "not a DuckDB database" in result.output
    assert other.read_text() == "not a database"
    assert not (tmp_path / "d" / "journal.lob").exists()


def _told(proc: subprocess.Popen[str], word: str) -> str:
    """The first line the server prints on stderr with ``word`` in it (it must print one)."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if word in line:
            return line
    raise AssertionError(f"lob serve ended its output without a line about {word!r}")


def test_serve_writes_its_history_where_told(tmp_path: Path) -> None:
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "day.duckdb"
    proc, url = _start(data, history=True, extra=["--history", str(target)])
    try:
        told = _told(proc, "history")
        assert str(target) in told
        run(lambda: _trade(url, 1))
        with urllib.request.urlopen(f"{url}/history/trades?symbol=MSFT", timeout=30) as answer:
            assert len(json.loads(answer.read())["trades"]) == 1
    finally:
        _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    assert not (data / "history.duckdb").exists()
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM trades").fetchone() == (1,)


def test_serve_sigterm_shuts_down_cleanly_and_a_second_run_recovers(tmp_path: Path) -> None:
    proc, _ = _start(tmp_path)
    _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    proc, _ = _start(tmp_path)
    _stop(proc, signal.SIGINT)
    assert proc.returncode == 0
    assert (tmp_path / "journal.lob").exists() and not (tmp_path / "api-keys.json").exists()


def test_serve_whose_stderr_was_closed_still_shuts_down_cleanly(tmp_path: Path) -> None:
    """``lob serve 2>&1 | tee log`` and a Ctrl-C kill the pipe's reader first: the
    server's last words cannot be written, and it must stop as gracefully all the same."""
    proc, url = _start(tmp_path, history=True)
    order = b'{"symbol":"AAPL","side":"sell","qty":10,"price":"227.50","tif":"gtc","id":"s1"}'
    request = urllib.request.Request(
        f"{url}/orders", data=order, headers={"Authorization": f"Bearer {KEYS[0][1]}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["type"] == "ack"
    assert proc.stderr is not None
    proc.stderr.close()  # the reader of the server's stderr is gone
    _stop(proc, signal.SIGINT)
    assert proc.returncode == 0
    journal = (tmp_path / JOURNAL_NAME).read_bytes()
    assert not journal.endswith(bytes(8))  # closed: cut back to its last record
    assert [r.command.id for r in read_records(tmp_path / JOURNAL_NAME)] == ["s1"]  # type: ignore[union-attr]


def test_serve_keeps_full_collections_off_the_trading_path(tmp_path: Path) -> None:
    proc, url = _start(tmp_path)
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
            text = response.read().decode()
    finally:
        _stop(proc, signal.SIGTERM)
    frozen = [line for line in text.splitlines() if line.startswith("lob_gc_frozen_objects ")]
    assert frozen and int(frozen[0].split()[1]) > 0  # lob.server.collector is on


def _short_slices_granted() -> bool:
    probe = "from lob.priority import *; ask_short_slices(); print(time_slice() == SHORT_SLICE)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    return result.stdout.strip() == "True"


@pytest.mark.skipif(sys.platform != "linux", reason="Linux's scheduler")
def test_serve_wakes_promptly_and_its_history_gives_way(tmp_path: Path) -> None:
    if not _short_slices_granted():
        pytest.skip("this kernel keeps its default time slice (Linux 6.12 grants shorter ones)")
    proc, _ = _start(tmp_path, history=True)
    try:
        sync, history = _sync_processes(proc.pid), _history_children(proc.pid)
        assert len(sync) == 1 and len(history) == 1, (sync, history)
        assert time_slice(proc.pid) == SHORT_SLICE  # the event loop's thread
        assert time_slice(sync[0]) == SHORT_SLICE  # inherited
        history_slice = time_slice(history[0])
        assert history_slice is not None and history_slice > SHORT_SLICE  # dropped
    finally:
        _stop(proc, signal.SIGTERM)


def _threads(pid: int) -> list[int]:
    return [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity")
def test_serve_keeps_its_sequencer_to_one_cpu_and_its_history_to_the_others(
    tmp_path: Path,
) -> None:
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        pytest.skip("needs two CPUs")
    cpu = max(allowed)  # not the first: a pin that did not happen would show
    proc, url = _start(tmp_path, history=True, extra=["--cpu", str(cpu)])
    try:
        told = _told(proc, "CPUs")
        run(lambda: _trade(url, 1))  # the history's DuckDB threads are busy now
        with urllib.request.urlopen(f"{url}/history/trades?symbol=MSFT", timeout=30) as answer:
            assert len(json.loads(answer.read())["trades"]) == 1
        sync, history = _sync_processes(proc.pid), _history_children(proc.pid)
        assert len(sync) == 1 and len(history) == 1, (sync, history)
        server_threads = _threads(proc.pid)
        assert server_threads and all(os.sched_getaffinity(t) == {cpu} for t in server_threads)
        assert os.sched_getaffinity(sync[0]) == {cpu}  # inherited
        history_threads = _threads(history[0])
        assert len(history_threads) > 1  # DuckDB's and the query threads, all of them:
        assert all(os.sched_getaffinity(t) == allowed - {cpu} for t in history_threads)
    finally:
        _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    helpers = ",".join(map(str, sorted(allowed - {cpu})))
    assert f"sequencer on {cpu}, history on {helpers}" in told


def test_serve_refuses_a_data_dir_in_use_or_a_foreign_journal(tmp_path: Path) -> None:
    proc, _ = _start(tmp_path)
    try:
        second = subprocess.run(
            [sys.executable, "-c", "from lob.cli.app import main; main()", "serve", "--port", "0",
             "--data-dir", str(tmp_path), "--no-multicast", "--no-history"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1 and "another lob serve" in second.stderr
    finally:
        _stop(proc, signal.SIGTERM)
    other = tmp_path / "other"
    other.mkdir()
    (other / "journal.lob").write_bytes(b"not a journal, definitely")
    third = subprocess.run(
        [sys.executable, "-c", "from lob.cli.app import main; main()", "serve", "--port", "0",
         "--data-dir", str(other), "--no-multicast", "--no-history"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert third.returncode == 1 and "not a lob journal" in third.stderr


def test_serve_prints_its_calendar_and_admin_endpoint(tmp_path: Path) -> None:
    proc, _ = _start(
        tmp_path, extra=["--calendar", "compressed", "--day-length", "2", "--admin-key", "k" * 12]
    )
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline() for _ in range(4)]
    finally:
        _stop(proc, signal.SIGTERM)
    assert any("calendar   compressed (2 minutes a day)" in line for line in lines)
    assert any("admin      POST /admin/symbols/SYMBOL/state" in line for line in lines)
