"""docs/replay.md's examples run and print exactly what the page shows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "replay.md"
LOB = Path(sys.executable).with_name("lob")


def _examples() -> list[tuple[str, str]]:
    """Each ```sh block that is followed directly by a ```json block: (command, output)."""
    return re.findall(r"```sh\n(.*?)```\s*```json\n(.*?)```", DOC.read_text(), re.S)


def _run(command: str, cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-c", command.replace("uv run lob", str(LOB))],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_replay_doc_has_runnable_examples() -> None:
    assert len(_examples()) >= 4


@pytest.mark.parametrize("index", range(4))
def test_replay_doc_example_prints_what_the_page_shows(index: int, tmp_path: Path) -> None:
    command, output = _examples()[index]
    assert _run(command, tmp_path) == output


def test_replay_doc_event_examples_are_real_output(tmp_path: Path) -> None:
    printed = set()
    for command, _ in _examples():
        printed |= set(_run(command, tmp_path).splitlines())
    shown = re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)
    lines = [line for block in shown for line in block.splitlines()]
    assert {json.loads(line)["type"] for line in lines} >= {
        "accepted",
        "trade",
        "added",
        "cancelled",
        "replaced",
        "rejected",
        "book",
    }
    assert [line for line in lines if line not in printed] == []
