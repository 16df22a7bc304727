"""``lob bench``: run lob's benchmarks; print tables, or JSON for scripts (docs/benchmarks.md)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, NoReturn

import typer


def bench(
    name: Annotated[
        str | None,
        typer.Argument(help="A registered benchmark, or 'all'. Without one, list them."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of tables.")
    ] = False,
    quick: Annotated[
        bool,
        typer.Option("--quick", help="Tiny sizes: checks that it runs; the figures mean nothing."),
    ] = False,
) -> None:
    """Measure lob: throughput (median of runs), open-loop latency, memory."""
    from lob.bench import UnknownBenchmarkError, load, names

    registered = names()
    if name is None:
        if json_out:
            print(json.dumps({"benchmarks": registered}))
        else:
            print("benchmarks: " + (", ".join(registered) or "none registered"))
            print("run one with `lob bench NAME`, or every one with `lob bench all`")
        return
    selected = registered if name == "all" else [name]
    try:
        functions = [(n, load(n)) for n in selected]
    except UnknownBenchmarkError as exc:
        _fail(UnknownBenchmarkError.code, str(exc), json_out)
    except ImportError as exc:
        # e.g. the seed design's sortedcontainers, which comes with the dev dependencies
        message = f"a benchmark needs a package that is not installed: {exc.name} (try `uv sync`)"
        _fail("missing_dependency", message, json_out)

    from rich.console import Console

    from lob.bench.harness import NullProgress, describe_machine
    from lob.bench.render import progress_display, render_report, reports_to_json

    reports = []
    if json_out:
        for _, run in functions:
            reports.append(run(quick, NullProgress()))
        many = name == "all"
        print(reports_to_json(reports, describe_machine() if many else None))
        return
    console = Console()
    for bench_name, run in functions:
        with progress_display(Console(stderr=True)) as progress:
            progress(f"{bench_name}: starting")
            report = run(quick, progress)
        render_report(report, console)


def _fail(code: str, message: str, json_out: bool) -> NoReturn:
    error = {"error": {"code": code, "message": message}}
    print(json.dumps(error) if json_out else f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)
