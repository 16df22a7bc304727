"""The README's simulator example runs as written."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lob.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[list[str]]:
    section = README.read_text(encoding="utf-8").split("## Simulate a market", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line) for line in block.strip().splitlines()]
    assert commands and all(c[:3] == ["uv", "run", "lob"] for c in commands)
    return [c[3:] for c in commands]


def test_readme_simulate_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    table, summary = (CliRunner().invoke(app, args) for args in readme_commands())
    assert table.exit_code == 0, table.output
    assert "PNNY" in table.stdout and "realism report" in table.stdout
    assert summary.exit_code == 0, summary.output
    assert json.loads(summary.stdout.splitlines()[-1])["trades"] > 0
    assert (tmp_path / "sim.itch").stat().st_size > 0
