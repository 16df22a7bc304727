"""``lob simulate``: run the market simulator and say what happened (docs/simulator.md).

Embedded mode (the default) runs agents against an in-process engine on a
simulated clock, as fast as possible; the same ``--seed`` prints the same
bytes with ``--json`` and writes the same ITCH file with ``--itch-out``.
``--realtime`` paces the same simulation to the wall clock instead.
``--url`` sends the agents' orders to a running ``lob serve`` instead, as a
load generator (``lob.sim.remote``), and reports what the server answered.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, NoReturn

import typer


def simulate(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same run.")] = 1,
    duration: Annotated[
        float,
        typer.Option("--duration", help="Simulated seconds to run (wall seconds with --realtime)."),
    ] = 60.0,
    rate: Annotated[
        float,
        typer.Option(
            "--rate", help="Target messages (orders, cancels, replaces) per simulated second."
        ),
    ] = 3_000.0,
    symbols: Annotated[
        str,
        typer.Option("--symbols", help="Comma-separated tickers of lob's universe, or a CSV file."),
    ] = "AAPL,MSFT,NVDA",
    itch_out: Annotated[
        str | None,
        typer.Option("--itch-out", help="Also write the run's ITCH 5.0 feed to this file."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Also write the history to this DuckDB file (see lob history)."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary line (with the report).")
    ] = False,
    report: Annotated[
        bool, typer.Option("--report", help="Also print the realism report (stylized facts).")
    ] = False,
    realtime: Annotated[
        bool, typer.Option("--realtime", help="Pace the simulation to the wall clock.")
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Remote mode: send the agents' orders to this lob serve (keys: --keys-file or"
            " LOB_SIM_KEYS=ACCOUNT:KEY,...); --duration is then in wall seconds.",
        ),
    ] = None,
    keys_file: Annotated[
        str | None,
        typer.Option("--keys-file", help="Remote mode: a file of ACCOUNT:KEY pairs, one a line."),
    ] = None,
    print_accounts: Annotated[
        bool,
        typer.Option("--print-accounts", help="List the accounts the agents trade as, and exit."),
    ] = False,
    day: Annotated[
        bool,
        typer.Option(
            "--day",
            help="Simulate a whole trading day: pre-open, opening cross, continuous trading,"
            " closing cross (--rate defaults to 300 here; see docs/simulator.md).",
        ),
    ] = False,
    day_length: Annotated[
        float,
        typer.Option(
            "--day-length",
            help="With --day: simulated seconds for 04:00-16:00, in the real day's proportions"
            " (43200 is the real day).",
        ),
    ] = 720.0,
) -> None:
    """Simulate order flow from noise traders, market makers, momentum and value traders."""
    from lob.sim.simulator import MarketSimulator
    from lob.sim.universe import UniverseError

    if not duration >= 0 or duration == float("inf"):
        _fail("invalid_field", "--duration must be a non-negative number of seconds", json_out)
    if not rate > 0 or rate == float("inf"):
        _fail("invalid_field", "--rate must be a positive number of messages per second", json_out)
    if day:
        if url is not None or realtime or db is not None:
            message = "--day runs embedded, as fast as possible: not with --url, --realtime, --db"
            _fail("invalid_field", message, json_out)
        from lob.cli.simulate_day import run_day
        from lob.sim.day import DAY_RATE

        source = ctx.get_parameter_source("rate")
        explicit = source is not None and source.name != "DEFAULT"
        run_day(
            seed,
            symbols,
            rate if explicit else DAY_RATE,
            day_length,
            itch_out,
            json_out,
            report,
            lambda code, message: _fail(code, message, json_out),
        )
        return
    if print_accounts:
        from lob.sim.simulator import agent_accounts

        sys.stdout.write("".join(f"{account}\n" for account in agent_accounts()))
        return
    if url is not None:
        _simulate_remote(url, keys_file, symbols, rate, seed, duration, json_out)
        return
    try:
        sim = MarketSimulator(seed=seed, symbols=symbols, rate=rate)
    except UniverseError as exc:
        _fail(exc.code, exc.message, json_out)

    recorder = None
    if itch_out is not None:
        try:
            recorder = _ItchRecorder(itch_out, sim)
        except OSError as exc:
            _fail("io_error", f"cannot write {itch_out}: {exc.strerror}", json_out)
        sim.on_events = recorder.on_events
    from lob.cli.history import attach_history

    history = attach_history(sim, db) if db is not None else None
    try:
        if realtime:
            _run_realtime(sim, duration, show=not json_out)
        elif json_out:
            sim.run(duration)
        else:
            _run_with_progress(sim, duration)
    finally:
        if recorder is not None:
            recorder.close(sim.now_ns)
        if history is not None:
            history.close()

    summary = sim.summary()
    facts = sim.report()
    if json_out:
        out = summary.to_dict()
        out["report"] = facts
        out["state_hash"] = sim.engine.state_hash()
        if recorder is not None:
            out["itch_messages"] = recorder.messages
        sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
        return
    _print_summary(summary, facts if report else None, recorder)


class _ItchRecorder:
    """Writes the run's feed in Nasdaq's length-prefixed file form."""

    def __init__(self, path: str, sim: Any) -> None:
        from lob.engine.calendar import MARKET_OPEN
        from lob.feed.itch_file import ItchFileWriter
        from lob.feed.itch_mapper import ItchMapper

        midnight = sim.start_ns - MARKET_OPEN
        self.stream = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.writer = ItchFileWriter(self.stream, ItchMapper(midnight, sim.symbols))
        self.writer.begin(sim.start_ns - midnight)
        self.midnight = midnight

    @property
    def messages(self) -> int:
        return self.writer.count

    def on_events(self, command: object, events: list) -> None:  # type: ignore[type-arg]
        self.writer.write_events(events)

    def close(self, end_ns: int) -> None:
        self.writer.end(end_ns - self.midnight)
        self.stream.close()


def _run_with_progress(sim: Any, duration: float) -> None:
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    steps = 100
    start = time.perf_counter()
    with Progress(
        TextColumn("[bold]simulating[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.fields[messages]:,} messages"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{duration:g}s", total=steps, messages=0)
        t0 = sim.now
        sent = 0
        for i in range(1, steps + 1):
            sent += sim.run_until(t0 + duration * i / steps)
            progress.update(task, completed=i, messages=sent)
    elapsed = time.perf_counter() - start
    rate = sent / elapsed if elapsed > 0 else 0.0
    console.print(
        f"{sent:,} messages in {elapsed:.2f} s of wall time ({rate:,.0f} messages/s)",
        style="dim",
    )


def _run_realtime(sim: Any, duration: float, show: bool) -> None:
    import asyncio

    from lob.sim.realtime import run_realtime

    if not show:
        asyncio.run(run_realtime(sim, duration))
        return
    from rich.console import Console
    from rich.live import Live

    from lob.engine.prices import format_price

    sent = 0

    def line() -> str:
        tops = []
        for m in sim.markets:
            bid, ask = m.book.best_bid, m.book.best_ask
            quote = f"{format_price(bid) if bid else '-'} x {format_price(ask) if ask else '-'}"
            tops.append(f"{m.symbol} {quote}")
        return f"{sim.now:6.1f}s  {sent:,} messages  " + "  ".join(tops)

    with Live(line(), console=Console(stderr=True), transient=True) as live:

        def on_tick(messages: int) -> None:
            nonlocal sent
            sent += messages
            live.update(line())

        asyncio.run(run_realtime(sim, duration, interval=0.05, on_tick=on_tick))


def _print_summary(summary: Any, facts: dict[str, Any] | None, recorder: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from lob.engine.prices import format_price

    console = Console()
    table = Table(title=f"lob simulate: seed {summary.seed}, {summary.seconds:g} simulated s")
    for column in ("symbol", "orders", "cancels", "replaces", "trades", "volume"):
        table.add_column(column, justify="right" if column != "symbol" else "left")
    for column in ("open", "high", "low", "last", "vwap"):
        table.add_column(column, justify="right")
    for row in summary.symbols.values():

        def price(value: int) -> str:
            return format_price(value) if value else "-"

        table.add_row(
            row.symbol,
            f"{row.orders:,}",
            f"{row.cancels:,}",
            f"{row.replaces:,}",
            f"{row.trades:,}",
            f"{row.volume:,}",
            price(row.open),
            price(row.high),
            price(row.low),
            price(row.last),
            price(row.vwap),
        )
    table.add_section()
    table.add_row(
        "all",
        f"{summary.orders:,}",
        f"{summary.cancels:,}",
        f"{summary.replaces:,}",
        f"{summary.trades:,}",
        f"{summary.volume:,}",
    )
    console.print(table)
    if summary.rejects:
        console.print(f"[red]{summary.rejects} rejected: {summary.reject_codes}[/]")
    if recorder is not None:
        console.print(f"ITCH feed: {recorder.messages:,} messages written")
    if facts is not None:
        _print_report(console, facts)


def _print_report(console: Any, facts: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="realism report (docs/simulator.md)")
    table.add_column("fact")
    table.add_column("measured", justify="right")
    spread = facts["spread"]
    returns = facts["returns"]
    signs = facts["trade_signs"]
    table.add_row(
        "spread, ticks (median / mean / p95)",
        f"{spread['median_ticks']:g} / {spread['mean_ticks']:.2f} / {spread['p95_ticks']:g}",
    )
    table.add_row("cancel-to-order ratio", f"{facts['cancel_to_order']:.3f}")
    table.add_row("messages per trade", f"{facts['messages_per_trade']:.1f}")
    horizon = returns["horizon_seconds"]
    table.add_row(
        f"excess kurtosis of {horizon}s returns (n={returns['count']})",
        f"{returns['excess_kurtosis']:.2f}",
    )
    table.add_row(
        f"autocorrelation of |{horizon}s returns|, lag 1",
        f"{returns['abs_autocorrelation']['1']:.3f}",
    )
    table.add_row(
        "trade-sign autocorrelation, lags 1 / 5 / 20",
        " / ".join(f"{signs['autocorrelation'][k]:.3f}" for k in ("1", "5", "20")),
    )
    console.print(table)
    depth = Table(title="mean depth by ticks from the best price (shares)")
    depth.add_column("symbol")
    depth.add_column("side")
    for k in range(len(next(iter(facts["depth"].values()))["bid"])):
        depth.add_column(str(k), justify="right")
    for symbol, sides in facts["depth"].items():
        for side in ("bid", "ask"):
            depth.add_row(symbol, side, *(f"{q:,.0f}" for q in sides[side]))
    console.print(depth)


def _simulate_remote(
    url: str,
    keys_file: str | None,
    symbols: str,
    rate: float,
    seed: int,
    duration: float,
    json_out: bool,
) -> None:
    """``--url``: drive a running lob serve (lob.sim.remote) and report what it answered."""
    import asyncio
    import os
    import signal

    from lob.sim.remote import RemoteError, load_keys, run_remote
    from lob.sim.universe import UniverseError

    async def guarded() -> Any:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
        return await run_remote(url, keys, symbols, rate, seed, duration, stop)

    try:
        keys = load_keys(keys_file, os.environ.get("LOB_SIM_KEYS"))
        stats = asyncio.run(guarded())
    except RemoteError as exc:
        _fail(exc.code, exc.message, json_out)
    except UniverseError as exc:
        _fail(exc.code, exc.message, json_out)
    out = stats.to_dict()
    if json_out:
        sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    latency = out["latency_ms"]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.2f} ms"

    table = Table(title=f"lob simulate --url {url}: seed {seed}, {out['seconds']:g} wall s")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("target rate", f"{rate:,.0f} messages/s")
    table.add_row("achieved rate", f"{out['rate']:,.0f} answered/s")
    for name in ("sent", "acked", "rejected", "in_flight"):
        table.add_row(name.replace("_", " "), f"{out[name]:,}")
    for code, count in out["reject_codes"].items():
        table.add_row(f"  {code}", f"{count:,}")
    table.add_row("latency p50 / p99", f"{ms(latency['p50'])} / {ms(latency['p99'])}")
    table.add_row("fills not mirrored", f"{out['outside_fills']:,}")
    for symbol, row in out["symbols"].items():
        table.add_row(f"{symbol} trades (volume)", f"{row['trades']:,} ({row['volume']:,})")
    Console().print(table)


def _fail(code: str, message: str, json_out: bool) -> NoReturn:
    error = {"error": {"code": code, "message": message}}
    if json_out:
        print(json.dumps(error))
    else:
        print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(1)
