"""docs/replay.md's examples run and print exactly what the page shows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "replay.md"
LOB = Path(sys.executable).with_name("lob")


def _examples() -> list[tuple[str, str]]:
    """Each ```sh block that is followed directly by a ```json block: (command, output)."""
    return re.findall(r"```sh\n(.*?)```\s*```json\n(.*?)```", DOC.read_text(), re.S)


@cache
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


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("replay-docs")


@pytest.mark.parametrize("index", range(4))
def test_replay_doc_example_prints_what_the_page_shows(index: int, workdir: Path) -> None:
    command, output = _examples()[index]
    assert _run(command, workdir) == output


def test_replay_doc_event_examples_are_real_output(workdir: Path) -> None:
    printed = set()
    for command, _ in _examples():
        printed |= set(_run(command, workdir).splitlines())
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
