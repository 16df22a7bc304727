"""The README's benchmark example runs as written."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from typer.testing import CliRunner

from lob.bench import names
from lob.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[list[str]]:
    section = README.read_text(encoding="utf-8").split("## Benchmarks", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line) for line in block.strip().splitlines()]
    assert commands and all(c[:3] == ["uv", "run", "lob"] for c in commands)
    return [c[3:] for c in commands]


def test_readme_bench_example_lists_and_runs_the_book_benchmark() -> None:
    listing, book = (CliRunner().invoke(app, args) for args in readme_commands())
    assert listing.exit_code == 0, listing.output
    assert all(name in listing.stdout for name in names())
    assert book.exit_code == 0, book.output
    report = json.loads(book.stdout)
    assert report["name"] == "book" and report["metrics"]["mix.speedup"] > 0
