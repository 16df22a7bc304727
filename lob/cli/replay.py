"""``lob replay``: JSON-lines commands in, JSON-lines events out (docs/replay.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DATE = "2026-01-02"


def replay(
    file: Annotated[
        str, typer.Argument(help="A file of JSON-lines commands, or - for standard input.")
    ] = "-",
    final_book: Annotated[
        bool, typer.Option("--final-book", help="After the last command, print every book.")
    ] = False,
    date: Annotated[
        str, typer.Option(help="Session date; the clock starts at 09:30 New York time.")
    ] = DEFAULT_DATE,
) -> None:
    """Run commands through a fresh engine and print every event as JSON lines."""
    from lob.engine.replay import replay_lines, session_open_ns

    try:
        open_ns = session_open_ns(date)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--date") from None
    if file == "-":
        lines = sys.stdin
        stream = replay_lines(lines, open_ns, final_book=final_book)
        _write(stream)
        return
    path = Path(file)
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {file}", param_hint="FILE")
    with path.open(encoding="utf-8") as lines:
        _write(replay_lines(lines, open_ns, final_book=final_book))


def _write(stream: object) -> None:
    out = sys.stdout
    write = out.write
    for line in stream:  # type: ignore[attr-defined]
        write(line)
        write("\n")
    out.flush()
