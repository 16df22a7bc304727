"""``lob serve`` as a user runs it: options checked before anything starts, clean shutdown."""

from __future__ import annotations

import signal
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
