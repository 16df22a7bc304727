"""``lob replay``: JSON-lines commands in, JSON-lines events out (docs/replay.md)."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

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
    itch_out: Annotated[
        str | None,
        typer.Option(
            "--itch-out", help="Also write the replay's ITCH 5.0 feed to this file (see lob feed)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Also write the history to this DuckDB file (see lob history)."),
    ] = None,
    calendar: Annotated[
        bool,
        typer.Option(
            "--calendar",
            help="Follow the trading day: the clock starts at 04:00 pre-open, crosses at 09:30"
            " and 16:00.",
        ),
    ] = False,
) -> None:
    """Run commands through a fresh engine and print every event as JSON lines."""
    from lob.engine.replay import replay_lines, session_open_ns

    try:
        open_ns = session_open_ns(date)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--date") from None
    path = Path(file)
    if file != "-" and not path.is_file():
        raise typer.BadParameter(f"no such file: {file}", param_hint="FILE")
    from lob.cli.history import chain, history_recording

    with (
        _itch_recording(itch_out, date, open_ns, calendar) as on_itch,
        history_recording(db, "replay") as on_history,
    ):
        on_events = chain(on_itch, on_history)
        if file == "-":
            _write(
                replay_lines(
                    sys.stdin,
                    open_ns,
                    final_book=final_book,
                    on_events=on_events,
                    calendar=calendar,
                )
            )
            return
        with path.open(encoding="utf-8") as lines:
            _write(
                replay_lines(
                    lines,
                    open_ns,
                    final_book=final_book,
                    on_events=on_events,
                    calendar=calendar,
                )
            )


def _itch_recording(path: str | None, date: str, open_ns: int, calendar: bool) -> Any:
    """A context giving the ``on_events`` callback that records ITCH, or None without a path."""
    if path is None:
        return nullcontext(None)
    from lob.cli.feed import itch_recording
    from lob.engine.calendar import hms
    from lob.engine.replay import session_midnight_ns

    midnight = session_midnight_ns(date)
    if calendar:  # the replay starts in the pre-open: market hours begin at the opening cross
        return itch_recording(path, midnight, midnight + hms("04:00"), market_hours=False)
    return itch_recording(path, midnight, open_ns)


def _write(stream: object) -> None:
    out = sys.stdout
    write = out.write
    for line in stream:  # type: ignore[attr-defined]
        write(line)
        write("\n")
    out.flush()
