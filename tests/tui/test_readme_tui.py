"""The README's ``lob tui`` examples use options the command has."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from lob.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_tui_examples_use_real_options() -> None:
    lines = [ln for ln in README.read_text().splitlines() if ln.startswith("uv run lob tui")]
    assert len(lines) >= 3
    help_text = CliRunner().invoke(app, ["tui", "--help"], terminal_width=200).output
    for line in lines:
        for option in re.findall(r"(--[a-z-]+)", line.split("#")[0]):
            assert option in help_text, f"{option} (README: {line!r}) is not an option of lob tui"
