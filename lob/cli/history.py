"""``lob history``: trades by symbol and time, orders by account, a page at a time.

``--limit`` rows per page; the page's ``next_cursor`` (printed last, or in the
JSON) goes to ``--cursor`` for the next one. ``--format csv|parquet --out
PATH`` writes every matching row instead, whatever ``--limit`` says. Options,
sources and errors are those of ``lob analytics`` (docs/history.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lob.cli.analytics import (
    AsJson,
    Db,
    Format,
    Out,
    Since,
    Until,
    Url,
    check_export,
    print_json,
    print_table,
    report_export,
    run,
    time_range,
    write_export,
)

if TYPE_CHECKING:
    from lob.analytics.source import HistorySource
    from lob.engine.events import Event

app = typer.Typer(
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~0.2 s per --help
    name="history",
    help="Query a history file: trades by symbol and time, orders by account.",
    no_args_is_help=True,
)

Limit = Annotated[int, typer.Option("--limit", help="Rows per page (1 to 10,000).")]
Cursor = Annotated[
    str | None, typer.Option("--cursor", help="The next_cursor of the previous page.")
]

_TRADE_COLUMNS = ["ts", "symbol", "trade_id", "price", "qty", "aggressor"]
_TRADE_COLUMNS += ["buy_account", "buy_id", "sell_account", "sell_id"]
_ORDER_COLUMNS = ["ts", "symbol", "id", "oid", "side", "order_type", "tif", "price", "qty"]
_ORDER_COLUMNS += ["filled_qty", "leaves", "status"]


def _footer(cursor: str | None) -> None:
    if cursor is not None:
        print(f"more: --cursor {cursor}", file=sys.stderr)


@app.command("trades")
def trades(
    symbol: Annotated[
        str | None, typer.Argument(help="Symbol, e.g. AAPL; every symbol without one.")
    ] = None,
    db: Db = None,
    url: Url = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    as_json: AsJson = False,
    fmt: Format = None,
    out: Out = None,
) -> None:
    """Trades of a symbol (or all) in a time range, oldest first."""

    def body(source: HistorySource) -> None:
        check_export(fmt, out)
        start, end = time_range(source, symbol, since, until)
        if fmt is not None and out is not None:
            count = source.export_trades(fmt, out, symbol, start, end)
            report_export(count, fmt, out, as_json)
            return
        page = source.trades(symbol, start, end, limit, cursor)
        if as_json:
            print_json(page)
            return
        print_table(f"trades {symbol or ''}".strip(), page["trades"], _TRADE_COLUMNS)
        _footer(page["next_cursor"])

    run(db, as_json, body, url)


@app.command("orders")
def orders(
    account: Annotated[str, typer.Argument(help="Account whose orders to list.")],
    db: Db = None,
    url: Url = None,
    symbol: Annotated[str | None, typer.Option("--symbol", help="Only this symbol.")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    as_json: AsJson = False,
    fmt: Format = None,
    out: Out = None,
) -> None:
    """Orders of an account with their status, fills and open quantity, oldest first."""

    def body(source: HistorySource) -> None:
        check_export(fmt, out)
        if fmt is not None and out is not None:
            rows: list[dict[str, Any]] = []
            after: str | None = None
            while True:
                page = source.orders(account, symbol, 10_000, after)
                rows.extend(page["orders"])
                after = page["next_cursor"]
                if after is None:
                    break
            write_export(rows, fmt, out, as_json)
            return
        page = source.orders(account, symbol, limit, cursor)
        if as_json:
            print_json(page)
            return
        print_table(f"orders of {account}", page["orders"], _ORDER_COLUMNS)
        _footer(page["next_cursor"])

    run(db, as_json, body, url)


# -- recording, for lob replay --db and lob simulate --db ----------------------

EventsCallback = Callable[[list["Event"]], None]


@contextmanager
def history_recording(path: str | None, source: str) -> Iterator[EventsCallback | None]:
    """Yield an ``on_events`` callback writing a history to ``path`` (None without a path).

    The file gets a new session labelled ``source``; everything is flushed and
    the file closed when the block exits, also on error.
    """
    if path is None:
        yield None
        return
    from lob.store.history import HistoryWriter

    with HistoryWriter(path, source=source) as writer:
        yield writer.write_events


def chain(*callbacks: EventsCallback | None) -> EventsCallback | None:
    """One ``on_events`` callback calling each given one in order (None if none is given)."""
    present = [callback for callback in callbacks if callback is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]

    def both(events: list[Event]) -> None:
        for callback in present:
            callback(events)

    return both


def attach_history(sim: Any, path: str) -> Any:
    """Record a ``MarketSimulator``'s events to a history file; return the writer to close.

    The writer is seeded with the engine's books as they are now, so the
    top-of-book rows are right even if the simulator placed orders before;
    any ``on_events`` sink already set keeps getting every event first.
    """
    from lob.store.history import HistoryWriter

    writer = HistoryWriter(path, source="simulate")
    engine = sim.engine
    for symbol in engine.symbols:
        snap = engine.l2_snapshot(symbol)
        bids = [(level.price, level.qty) for level in snap.bids]
        asks = [(level.price, level.qty) for level in snap.asks]
        writer.seed_book(symbol, bids, asks)
    previous = sim.on_events
    write = writer.write_events

    def sink(command: object, events: list[Event]) -> None:
        if previous is not None:
            previous(command, events)
        write(events)

    sim.on_events = sink
    return writer
