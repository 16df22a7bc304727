"""Every ``lob`` command line in the README names a command and options that exist.

The examples themselves run in the tests of each part (test_readme_* and the
README sections they read); this keeps the lines no test runs honest too.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lob.cli.app import app

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_command_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split("#", 1)[0].strip()
            at = line.find("uv run lob ")
            if at >= 0:
                lines.append(line[at + len("uv run ") :])
    return lines


LINES = readme_command_lines()


def test_readme_has_command_examples() -> None:
    assert len(LINES) >= 15


@pytest.mark.parametrize("line", LINES)
def test_readme_command_and_its_options_exist(line: str) -> None:
    words = shlex.split(line.split("|", 1)[0].split("&", 1)[0].split(">", 1)[0])
    assert words[0] == "lob"
    path: list[str] = []
    runner = CliRunner()
    for word in words[1:]:
        if word.startswith("-"):
            break
        probe = runner.invoke(app, [*path, word, "--help"])
        if probe.exit_code != 0:
            break
        path.append(word)
    assert path, f"no lob command in {line!r}"
    help_text = runner.invoke(app, [*path, "--help"], terminal_width=200).output
    for word in words:
        if word.startswith("--"):
            option = word.split("=", 1)[0]
            assert option in help_text, f"{option} is not an option of lob {' '.join(path)}"
