"""The README's history example runs as written."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lob.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## History and analytics", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line) for line in block.strip().splitlines()]
    assert all(c[:3] == ["uv", "run", "lob"] for c in commands)
    return [c[3:] for c in commands]


def test_readme_history_example_runs_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    outputs = []
    for args in readme_commands():
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.stdout)
    vwap = json.loads(outputs[1])
    assert vwap["symbol"] == "AAPL" and vwap["volume"] > 0
    assert "AAPL 1m bars" in outputs[2]
    assert "trades AAPL" in outputs[4]
