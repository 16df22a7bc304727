"""Showing benchmark reports: rich tables and a live progress line, or JSON.

Kept apart from the harness so that a benchmark run from a script (or a test)
never imports rich's live display.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from lob.bench.harness import BenchReport, Machine, format_count

__all__ = ["progress_display", "render_report", "reports_to_json"]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return format_count(value)
    return str(value)


def render_report(report: BenchReport, console: Console) -> None:
    """Print one report: its table, its notes, the machine."""
    title = report.title + ("  (quick: sizes too small to mean anything)" if report.quick else "")
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, column in enumerate(report.columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in report.rows:
        table.add_row(*(_cell(row.get(column)) for column in report.columns))
    console.print(table)
    for note in report.notes:
        console.print(f"  - {note}", highlight=False)
    console.print(f"  machine: {report.machine.describe()}", style="dim", highlight=False)
    console.print()


def reports_to_json(reports: list[BenchReport], machine: Machine | None = None) -> str:
    """Without ``machine``: the one report's object. With it: ``{"machine", "reports"}``."""
    if machine is None:
        if len(reports) != 1:
            raise ValueError("several reports need the machine they ran on")
        return json.dumps(reports[0].to_json(), indent=2)
    payload = {"machine": asdict(machine), "reports": [r.to_json() for r in reports]}
    return json.dumps(payload, indent=2)


class _RichProgress:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = progress.add_task("starting", total=None)

    def __call__(
        self, message: str, completed: float | None = None, total: float | None = None
    ) -> None:
        self._progress.update(self._task, description=message, completed=completed, total=total)


@contextmanager
def progress_display(console: Console) -> Iterator[_RichProgress]:
    """A one-line live display (spinner, message, bar, elapsed) on ``console``."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        yield _RichProgress(progress)
