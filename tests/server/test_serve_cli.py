"""``lob serve`` as a user runs it: options checked before anything starts, clean shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lob.cli.app import app
from tests.server.test_durability import _start, _stop

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
    ],
)
def test_serve_bad_options_exit_2_before_starting(
    tmp_path: Path, args: list[str], hint: str
) -> None:
    result = runner.invoke(app, ["serve", "--data-dir", str(tmp_path / "d"), *args])
    assert result.exit_code == 2
    assert hint in result.output
    assert not (tmp_path / "d" / "journal.lob").exists()


def test_serve_sigterm_shuts_down_cleanly_and_a_second_run_recovers(tmp_path: Path) -> None:
    proc, _ = _start(tmp_path)
    _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    proc, _ = _start(tmp_path)
    _stop(proc, signal.SIGINT)
    assert proc.returncode == 0
    assert (tmp_path / "journal.lob").exists() and not (tmp_path / "api-keys.json").exists()


def test_serve_keeps_full_collections_off_the_trading_path(tmp_path: Path) -> None:
    proc, url = _start(tmp_path)
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
            text = response.read().decode()
    finally:
        _stop(proc, signal.SIGTERM)
    frozen = [line for line in text.splitlines() if line.startswith("lob_gc_frozen_objects ")]
    assert frozen and int(frozen[0].split()[1]) > 0  # lob.server.collector is on


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
