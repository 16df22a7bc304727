"""``lob analytics``: VWAP, bars, trade metrics, spread, volatility, flow and market activity.

Each command reads a history file (``--db PATH``, or ``LOB_HISTORY``) or asks
a running server (``--url URL``, or ``LOB_URL``) through
``lob.analytics.source.HistorySource``: ``open_source`` is the one place that
picks the source, and the commands print the same either way. Output is a
rich table, JSON with ``--json`` (prices as decimal strings, times as ns since
the epoch), or a file with ``--format csv|parquet --out PATH``. Errors print
``{"error": {"code", "message"}}`` with ``--json`` and exit 1. docs/history.md
describes every figure.

The helpers here (options, ``run``, rendering) are shared with ``lob history``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from lob.analytics.source import HistorySource

app = typer.Typer(
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~0.2 s per --help
    name="analytics",
    help="Analytics over a history file: VWAP, bars, metrics, spread, volatility, activity.",
    no_args_is_help=True,
)

INVALID_OPTION = "invalid_option"
"""A CLI option that is missing or has a bad value (besides the analytics codes)."""

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="LOB_HISTORY",
        help="History file (DuckDB) written by lob serve, lob replay --db or lob simulate --db.",
    ),
]
Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="LOB_URL",
        help="Ask a running lob serve instead of reading a file (e.g. http://127.0.0.1:8000); "
        "LOB_KEY is sent as its API key.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Start (included): HH:MM[:SS] New York time on the history's day, "
        "an ISO date-time or ns since the epoch.",
    ),
]
Until = Annotated[str | None, typer.Option("--until", help="End (excluded), as --since.")]
Format = Annotated[
    str | None, typer.Option("--format", help="Write the rows to --out as csv or parquet.")
]
Out = Annotated[str | None, typer.Option("--out", help="File for --format.")]
Interval = Annotated[str, typer.Option("--interval", help="Bar length: 1s to 1d (e.g. 1m, 5m).")]


class CliError(Exception):
    """An error to print in the shared shape and exit with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def open_source(db: str | None, url: str | None = None) -> HistorySource:
    """Where answers come from: a history file (``--db``) or a running server (``--url``)."""
    if db is not None and url is not None:
        raise CliError(INVALID_OPTION, "give --db or --url, not both")
    if url is not None:
        import os

        from lob.analytics.rest_source import RestSource

        return RestSource(url, key=os.environ.get("LOB_KEY"))
    if db is None:
        raise CliError(
            INVALID_OPTION, "give a history file with --db PATH or a server with --url URL"
        )
    from lob.analytics.source import DuckDBSource

    return DuckDBSource(db)


def fail(code: str, message: str, as_json: bool) -> None:
    """Print the shared error object (``--json``) or a line on stderr, then exit 1."""
    if as_json:
        print(json.dumps({"error": {"code": code, "message": message}}))
    else:
        print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(1)


def run(
    db: str | None,
    as_json: bool,
    body: Callable[[HistorySource], None],
    url: str | None = None,
) -> None:
    """Open the source, run ``body`` with it, turn analytics errors into the shared error."""
    from lob.analytics.errors import AnalyticsError

    try:
        source = open_source(db, url)
        try:
            body(source)
        finally:
            source.close()
    except (AnalyticsError, CliError) as exc:
        fail(exc.code, exc.message, as_json)


def check_export(fmt: str | None, out: str | None) -> None:
    """``--format`` and ``--out`` go together; the format is csv or parquet."""
    if fmt is None and out is None:
        return
    if fmt not in ("csv", "parquet"):
        raise CliError(INVALID_OPTION, f"--format must be csv or parquet: {fmt!r}")
    if out is None:
        raise CliError(INVALID_OPTION, "--format needs --out PATH")


def time_range(
    source: HistorySource, symbol: str | None, since: str | None, until: str | None
) -> tuple[int | None, int | None]:
    """Parse ``--since``/``--until``; a clock time is on the day of the first trade."""
    from lob.analytics.api import time_range as parse_range

    return parse_range(source, symbol, since, until)


def interval_ns(text: str) -> int:
    from lob.analytics.timefmt import parse_interval

    return parse_interval(text)


def print_json(data: Any) -> None:
    print(json.dumps(data, separators=(",", ":")))


def write_export(rows: Sequence[dict[str, Any]], fmt: str, out: str, as_json: bool) -> None:
    """Write ``rows`` to ``out``; say what was written (JSON with ``--json``)."""
    from lob.analytics.export import export_records

    count = export_records(rows, fmt, out)
    report_export(count, fmt, out, as_json)


def report_export(count: int, fmt: str, out: str, as_json: bool) -> None:
    if as_json:
        print_json({"written": count, "format": fmt, "out": out})
    else:
        print(f"wrote {count:,} rows to {out} ({fmt})", file=sys.stderr)


def _cell(key: str, value: Any) -> str:
    from lob.analytics.timefmt import format_interval, format_time

    if value is None:
        return "-"
    if key in ("ts", "start", "end", "first_ts", "last_ts") and isinstance(value, int):
        return format_time(value, with_date=key in ("first_ts", "last_ts"))
    if key == "interval" and isinstance(value, int):
        return format_interval(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def print_table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Rows as a rich table (times in New York time, numbers with separators)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in ("symbol", "status") else "right")
    for row in rows:
        table.add_row(*(_cell(column, row.get(column)) for column in columns))
    Console().print(table)


def print_fields(title: str, data: dict[str, Any]) -> None:
    """One object as a two-column table of its fields."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", justify="right")
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={_cell(k, v)}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "-"
        table.add_row(key, _cell(key, value))
    Console().print(table)


# -- commands ------------------------------------------------------------------


@app.command("vwap")
def vwap(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL.")],
    db: Db = None,
    url: Url = None,
    since: Since = None,
    until: Until = None,
    window: Annotated[
        str | None,
        typer.Option("--window", help="Also a rolling VWAP over this trailing window (e.g. 5m)."),
    ] = None,
    step: Annotated[
        str, typer.Option("--step", help="How often the rolling VWAP is evaluated.")
    ] = "1m",
    every: Annotated[
        str | None,
        typer.Option("--every", help="Also the VWAP anchored at --since, after each interval."),
    ] = None,
    as_json: AsJson = False,
    fmt: Format = None,
    out: Out = None,
) -> None:
    """Volume-weighted average price: the session, anchored at --since, or rolling."""

    def body(source: HistorySource) -> None:
        from lob.analytics.api import vwap_body

        check_export(fmt, out)
        start, end = time_range(source, symbol, since, until)
        result = vwap_body(source, symbol, start, end, window, step, every)
        series: list[dict[str, Any]] | None = result.get("series")
        if fmt is not None and out is not None:
            write_export(series if series is not None else [result], fmt, out, as_json)
        elif as_json:
            print_json(result)
        else:
            fields = {k: v for k, v in result.items() if k != "series"}
            print_fields(f"VWAP {symbol}", fields)
            if series:
                print_table("series", series, ["end", "vwap", "volume", "notional"])

    run(db, as_json, body, url)


@app.command("bars")
def bars(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL.")],
    db: Db = None,
    url: Url = None,
    interval: Interval = "1m",
    since: Since = None,
    until: Until = None,
    fill: Annotated[
        bool, typer.Option("--fill", help="Also intervals without trades (previous close).")
    ] = False,
    as_json: AsJson = False,
    fmt: Format = None,
    out: Out = None,
) -> None:
    """OHLCV bars at any interval from 1s to 1d."""

    def body(source: HistorySource) -> None:
        from lob.analytics.api import bars_body

        check_export(fmt, out)
        interval_ns(interval)  # a bad interval is an error before any query
        start, end = time_range(source, symbol, since, until)
        body = bars_body(source, symbol, interval, start, end, fill)
        rows = body["bars"]
        if fmt is not None and out is not None:
            write_export(rows, fmt, out, as_json)
        elif as_json:
            print_json(body)
        else:
            columns = ["start", "open", "high", "low", "close", "volume", "trades", "vwap"]
            print_table(f"{symbol} {interval} bars", rows, columns)

    run(db, as_json, body, url)


@app.command("metrics")
def metrics(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL.")],
    db: Db = None,
    url: Url = None,
    since: Since = None,
    until: Until = None,
    as_json: AsJson = False,
    fmt: Format = None,
    out: Out = None,
) -> None:
    """Trade count, volume, notional, average and largest trade, trades per minute, OHLC."""

    def body(source: HistorySource) -> None:
        check_export(fmt, out)
        start, end = time_range(source, symbol, since, until)
        result = source.metrics(symbol, start, end)
        if fmt is not None and out is not None:
            flat = {k: v for k, v in result.items() if k != "largest_trade"}
            for key, value in (result.get("largest_trade") or {}).items():
                flat[f"largest_{key}"] = value
            write_export([flat], fmt, out, as_json)
        elif as_json:
            print_json(result)
        else:
            print_fields(f"trade metrics {symbol}", result)

    run(db, as_json, body, url)


@app.command("spread")
def spread(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL.")],
    db: Db = None,
    url: Url = None,
    since: Since = None,
    until: Until = None,
    as_json: AsJson = False,
    fmt: Format = None,
    out: Out = None,
) -> None:
    """Spread and top-of-book depth: mean, median, extremes, time-weighted."""

    def body(source: HistorySource) -> None:
        check_export(fmt, out)
        start, end = time_range(source, symbol, since, until)
        result = source.spread(symbol, start, end)
        if fmt is not None and out is not None:
            write_export([result], fmt, out, as_json)
        elif as_json:
            print_json(result)
        else:
            print_fields(f"spread and depth {symbol}", result)

    run(db, as_json, body, url)


@app.command("volatility")
def volatility(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL.")],
    db: Db = None,
    url: Url = None,
    interval: Interval = "1m",
    since: Since = None,
    until: Until = None,
    as_json: AsJson = False,
) -> None:
    """Realized volatility from log returns of consecutive bar closes."""

    def body(source: HistorySource) -> None:
        start, end = time_range(source, symbol, since, until)
        result = source.volatility(symbol, interval_ns(interval), start, end)
        if as_json:
            print_json(result)
        else:
            print_fields(f"realized volatility {symbol}", result)

    run(db, as_json, body, url)


@app.command("imbalance")
def imbalance(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL.")],
    db: Db = None,
    url: Url = None,
    interval: Interval = "1m",
    since: Since = None,
    until: Until = None,
    as_json: AsJson = False,
    fmt: Format = None,
    out: Out = None,
) -> None:
    """Order-flow imbalance per interval: quote OFI and aggressor volume imbalance."""

    def body(source: HistorySource) -> None:
        from lob.analytics.api import imbalance_body

        check_export(fmt, out)
        interval_ns(interval)  # a bad interval is an error before any query
        start, end = time_range(source, symbol, since, until)
        body = imbalance_body(source, symbol, interval, start, end)
        rows = body["intervals"]
        if fmt is not None and out is not None:
            write_export(rows, fmt, out, as_json)
        elif as_json:
            print_json(body)
        else:
            columns = ["start", "ofi", "quote_changes", "buy_volume", "sell_volume", "imbalance"]
            print_table(f"{symbol} order-flow imbalance, {interval}", rows, columns)

    run(db, as_json, body, url)


@app.command("activity")
def activity(
    db: Db = None,
    url: Url = None,
    since: Since = None,
    until: Until = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many symbols per ranking.")] = 5,
    as_json: AsJson = False,
    fmt: Format = None,
    out: Out = None,
) -> None:
    """Market activity: most active by volume and trades, gainers, losers, turnover."""

    def body(source: HistorySource) -> None:
        check_export(fmt, out)
        start, end = time_range(source, None, since, until)
        result = source.activity(start, end, top)
        if fmt is not None and out is not None:
            write_export(result["symbols"], fmt, out, as_json)
        elif as_json:
            print_json(result)
        else:
            columns = ["symbol", "trades", "volume", "notional", "open", "close", "change"]
            by_symbol = {row["symbol"]: row for row in result["symbols"]}
            for key in ("most_active_by_volume", "most_active_by_trades"):
                title = key.replace("_", " ")
                print_table(title, [by_symbol[s] for s in result[key]], columns)
            for key in ("top_gainers", "top_losers"):
                rows = [by_symbol[s] for s in result[key]]
                print_table(key.replace("_", " "), rows, [*columns, "change_pct"])
            totals = {k: result[k] for k in ("trades", "volume", "turnover")}
            print_fields("market", totals)

    run(db, as_json, body, url)
