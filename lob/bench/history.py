"""``lob bench history``: how fast the DuckDB history writes, and how fast it answers.

Three measurements, each the median of several runs with their spread:

- write rate: trade rows per second into a DuckDB file, (a) as one ready Arrow
  table per batch (``HistoryWriter.insert_trades``: the bulk path) and (b) as
  engine ``Trade`` events through ``write_events`` + ``flush`` (the whole
  writer: rows built in Python, two fill rows per trade in ``order_events``,
  top-of-book tracking, Arrow, insert). Batches of 262,144 rows or events:
  each insert has a fixed cost (its commit syncs the write-ahead log), and
  65,536-row batches measured about half the rate on this machine.
- matching with and without the history, on the server's hot path: the
  ``lob bench book`` mix stream (``mix_workload``) through an engine set up
  as ``lob serve``'s (``replica.new_engine``), each command first framed and
  written to a journal file (``encode_record`` + ``Journal.write``: one
  ``os.write`` per input and no fsync, which is what the sequencer does with
  ``--fsync off``), then applied. Four loops: the engine alone (no journal,
  for reference); journal + engine without history; the same with the
  history process (``lob.server.history_process``) following that journal
  file, as ``lob serve`` runs it; and the same with the old in-process
  ``BackgroundHistoryWriter`` thread handed every command's events, for
  comparison. Timed: the loop. Reported beside it: how many journal records
  the history process had not applied yet when the loop ended, and how long
  it then took to apply them and flush (its catch-up); the thread's drain.
  The prefill that builds the book is journaled too, untimed, and the
  history process has caught up with it before the loop starts. Three more
  loops pin the benchmark (and so the history process it starts) to one CPU:
  journal + engine without history; with the history process at the lower
  priority ``lob serve`` gives it (``history_channel.NICENESS``); and with it
  at the server's own priority: what the priority buys when the two compete
  for a core.
- query latency over ten million trades, generated inside DuckDB with
  ``range()`` (20 symbols, one of them, AAPL, half of all trades, over a
  6.5-hour session): ``vwap``, 1-minute ``bars``, ``trade_metrics`` and
  ``market_activity`` through ``lob.analytics`` on one read-only connection
  (result in polars included), and, for comparison, 1-minute bars computed
  by polars itself from the AAPL trades read out of DuckDB.

``--quick`` runs everything tiny (100,000 trades): it checks that the
benchmark works; its figures mean nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lob.bench.harness import (
    BenchReport,
    Progress,
    Summary,
    describe_machine,
    format_count,
    summarize,
)

__all__ = ["Sizes", "run"]

OPEN = 1_767_364_200_000_000_000  # 2026-01-02 09:30 New York, in ns
SESSION_NS = 23_400 * 1_000_000_000  # 6.5 hours
MINUTE = 60 * 1_000_000_000


@dataclass(frozen=True)
class Sizes:
    write_rows: int
    event_trades: int
    match_commands: int
    query_trades: int
    runs: int


FULL = Sizes(
    write_rows=2_000_000,
    event_trades=100_000,
    match_commands=200_000,
    query_trades=10_000_000,
    runs=3,
)
QUICK = Sizes(
    write_rows=20_000, event_trades=5_000, match_commands=5_000, query_trades=100_000, runs=2
)


def _trade_table(rows: int) -> Any:
    """``rows`` synthetic trades as an Arrow table in the ``trades`` schema."""
    import duckdb

    con = duckdb.connect()
    table = con.sql(
        f"""SELECT 1::INTEGER AS session, i::BIGINT AS seq,
                   ({OPEN} + i * {SESSION_NS // max(rows, 1)})::BIGINT AS ts,
                   'S' || (i % 20)::VARCHAR AS symbol, i::BIGINT AS trade_id,
                   (1000000 + (hash(i) % 201)::BIGINT * 100 - 10000) AS price,
                   (1 + hash(i * 7) % 10)::BIGINT * 100 AS qty,
                   CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END AS aggressor,
                   'B' AS buy_account, 'b' || i::VARCHAR AS buy_id, (2 * i)::BIGINT AS buy_oid,
                   'S' AS sell_account, 's' || i::VARCHAR AS sell_id,
                   (2 * i + 1)::BIGINT AS sell_oid
            FROM range({rows}) r(i)"""
    ).to_arrow_table()
    con.close()
    return table


def _trade_events(count: int) -> list[Any]:
    """``count`` engine ``Trade`` events: each one takes a whole resting order."""
    from lob.engine import MatchingEngine, Side

    engine = MatchingEngine()
    events: list[Any] = []
    for i in range(count):
        price = 1_000_000 + (i % 50) * 100
        events += engine.new_order("S", f"s{i}", "AAPL", Side.SELL, 100, price, ts=OPEN + i)
        events += engine.new_order("B", f"b{i}", "AAPL", Side.BUY, 100, price, ts=OPEN + i)
    return events


def _timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _write_rates(sizes: Sizes, workdir: Path, progress: Progress) -> dict[str, Summary]:
    from lob.engine import Trade
    from lob.store.history import HistoryWriter

    table = _trade_table(sizes.write_rows)
    batch = 262_144
    arrow_rates = []
    for run in range(sizes.runs + 1):
        progress(f"history: Arrow insert, run {run}", run, sizes.runs + 1)
        path = workdir / f"write{run}.duckdb"
        with HistoryWriter(path) as writer:

            def insert(w: HistoryWriter = writer) -> None:
                for offset in range(0, table.num_rows, batch):
                    w.insert_trades(table.slice(offset, batch))

            seconds = _timed(insert)
        path.unlink()
        if run:
            arrow_rates.append(table.num_rows / seconds)
    events = _trade_events(sizes.event_trades)
    trades = sum(1 for e in events if type(e) is Trade)
    event_rates = []
    for run in range(sizes.runs + 1):
        progress(f"history: events through the writer, run {run}", run, sizes.runs + 1)
        path = workdir / f"events{run}.duckdb"
        with HistoryWriter(path, batch_rows=batch) as writer:

            def write(w: HistoryWriter = writer) -> None:
                for offset in range(0, len(events), 4096):
                    w.write_events(events[offset : offset + 4096])
                w.flush()

            seconds = _timed(write)
        path.unlink()
        if run:
            event_rates.append(trades / seconds)
    return {"arrow": summarize(arrow_rates), "events": summarize(event_rates)}


MATCH_MODES = (
    "alone",
    "journal",
    "process",
    "thread",
    "journal_core",
    "process_core",
    "process_core_equal",
)
"""The matching loops, in the order each run times them (``_core``: on one CPU)."""

_CAN_PIN = hasattr(os, "sched_setaffinity")
"""Linux can pin a process to one CPU; elsewhere the one-core loops run unpinned."""


def _matching(sizes: Sizes, workdir: Path, progress: Progress) -> dict[str, Any]:
    import asyncio

    from lob.bench.book_workloads import mix_workload

    workload = mix_workload(sizes.match_commands)
    rates: dict[str, list[float]] = {mode: [] for mode in MATCH_MODES}
    lags: dict[str, list[float]] = {}
    events_per_run = 0
    for run in range(sizes.runs + 1):
        progress(f"history: matching with and without the history, run {run}", run, sizes.runs + 1)
        for mode in MATCH_MODES:
            directory = workdir / f"match{run}-{mode}"
            result = asyncio.run(_matching_loop(mode, workload, directory))
            shutil.rmtree(directory, ignore_errors=True)
            if run:
                events_per_run = result["events"]
                rates[mode].append(len(workload.stream) / result["seconds"])
                for lag in ("catch_up", "behind", "drain"):
                    if lag in result:
                        lags.setdefault(f"{mode}.{lag}", []).append(result[lag])
    return {
        **{mode: summarize(values) for mode, values in rates.items()},
        **{name: summarize(values) for name, values in lags.items()},
        "events": events_per_run,
        "commands": len(workload.stream),
    }


async def _matching_loop(
    mode: str, workload: Any, directory: Path, niceness: int | None = None
) -> dict[str, Any]:
    """One timed pass of ``workload.stream`` in ``mode`` (see the module docstring).

    ``niceness``: the history process's (default: what ``lob serve`` gives it).
    """
    if "_core" not in mode or not _CAN_PIN:
        return await _timed_matching(mode, workload, directory, niceness)
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})  # the history process inherits it
    try:
        return await _timed_matching(mode, workload, directory, niceness)
    finally:
        os.sched_setaffinity(0, cpus)


async def _timed_matching(
    mode: str, workload: Any, directory: Path, niceness: int | None
) -> dict[str, Any]:
    from lob.server.history_channel import NICENESS, HistoryProcess
    from lob.server.replica import EngineSetup, new_engine
    from lob.store.history import BackgroundHistoryWriter, HistoryWriter
    from lob.store.journal import JOURNAL_NAME, Journal, encode_record

    journal = Journal.open(directory)
    engine = new_engine()
    symbols = sorted({command.symbol for command in workload.prefill})
    for symbol in symbols:
        engine.add_symbol(symbol, None)
    setup = EngineSetup(tuple((symbol, None) for symbol in symbols), journal.size, ())
    background = None
    if mode == "thread":
        background = BackgroundHistoryWriter(HistoryWriter(directory / "history.duckdb"))
    # The prefill is set-up, journaled too: the history process rebuilds the book from it.
    for command in workload.prefill:
        journal.write(encode_record(command, OPEN))
        events = engine.submit(command, OPEN)
        if background is not None:
            background.submit(events)
    process = None
    if mode.startswith("process"):
        if niceness is None:
            niceness = 0 if mode.endswith("_equal") else NICENESS
        process = await HistoryProcess.spawn(
            directory / "history.duckdb", directory / JOURNAL_NAME, niceness=niceness
        )
        await process.setup(setup)
        await process.sync(journal.size)  # the timed loop starts with the history caught up
    submit = engine.submit
    write = journal.write
    put = background.submit if background is not None else None
    count = 0
    start = time.perf_counter()
    if mode == "alone":
        for i, command in enumerate(workload.stream, 1):
            count += len(submit(command, OPEN + i))
    elif put is None:
        for i, command in enumerate(workload.stream, 1):
            write(encode_record(command, OPEN + i))
            count += len(submit(command, OPEN + i))
    else:
        for i, command in enumerate(workload.stream, 1):
            write(encode_record(command, OPEN + i))
            events = submit(command, OPEN + i)
            count += len(events)
            put(events)
    seconds = time.perf_counter() - start
    result: dict[str, Any] = {"seconds": seconds, "events": count}
    if process is not None:
        status = await process.status()
        result["behind"] = journal.records - status["records"]
        caught = time.perf_counter()
        await process.sync(journal.size)
        result["catch_up"] = time.perf_counter() - caught
        await process.stop(journal.size)
    if background is not None:
        drain = time.perf_counter()
        background.close()
        result["drain"] = time.perf_counter() - drain
    journal.close()
    return result


def _query_history(path: Path, trades: int) -> None:
    """Ten million (or ``trades``) synthetic trades written by DuckDB itself, with ``range()``."""
    import duckdb

    from lob.store.history import create_schema

    con = duckdb.connect(str(path))
    create_schema(con)
    con.execute(
        f"""INSERT INTO trades
            SELECT 1, i, {OPEN} + i * {SESSION_NS // trades},
                   CASE WHEN i % 2 = 0 THEN 'AAPL' ELSE 'S' || (i % 19)::VARCHAR END, i,
                   1000000 + (hash(i) % 201)::BIGINT * 100 - 10000,
                   (1 + hash(i * 7) % 10)::BIGINT * 100,
                   CASE WHEN hash(i * 3) % 2 = 0 THEN 'buy' ELSE 'sell' END,
                   'B', 'b', 2 * i, 'S', 's', 2 * i + 1
            FROM range({trades}) r(i)"""
    )
    con.close()


def _latencies(sizes: Sizes, workdir: Path, progress: Progress) -> dict[str, Summary]:
    import duckdb
    import polars as pl

    from lob.analytics import bars, market_activity, trade_metrics, vwap
    from lob.analytics.db import open_history

    path = workdir / "query.duckdb"
    progress(f"history: generating {sizes.query_trades:,} trades")
    _query_history(path, sizes.query_trades)
    con = open_history(path)

    def polars_bars() -> None:
        frame = con.sql("SELECT ts, price, qty FROM trades WHERE symbol = 'AAPL'").pl()
        frame.sort("ts").group_by_dynamic(pl.col("ts").cast(pl.Datetime("ns")), every="1m").agg(
            pl.col("price").first().alias("open"),
            pl.col("price").max().alias("high"),
            pl.col("price").min().alias("low"),
            pl.col("price").last().alias("close"),
            pl.col("qty").sum().alias("volume"),
        )

    queries: dict[str, Callable[[], object]] = {
        "vwap": lambda: vwap(con, "AAPL"),
        "bars_1m": lambda: bars(con, "AAPL", MINUTE),
        "metrics": lambda: trade_metrics(con, "AAPL"),
        "activity": lambda: market_activity(con),
        "bars_1m_polars": polars_bars,
    }
    repeats = max(sizes.runs, 5)
    out: dict[str, Summary] = {}
    for name, query in queries.items():
        query()  # warm: the first read of a column pulls it from disk
        times = []
        for i in range(repeats):
            progress(f"history: {name} over {sizes.query_trades:,} trades", i, repeats)
            start = time.perf_counter()
            query()
            times.append((time.perf_counter() - start) * 1e3)
        out[name] = summarize(times)
    con.close()
    assert isinstance(con, duckdb.DuckDBPyConnection)
    return out


def run(quick: bool, progress: Progress) -> BenchReport:
    """Measure the history's write rate, its cost to matching, and its query latency."""
    sizes = QUICK if quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="lob-bench-history-"))
    try:
        writes = _write_rates(sizes, workdir, progress)
        matching = _matching(sizes, workdir, progress)
        latency = _latencies(sizes, workdir, progress)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def rate_row(what: str, summary: Summary, unit: str) -> dict[str, Any]:
        return {
            "measure": what,
            "median": f"{format_count(summary.median)} {unit}",
            "low": format_count(summary.low),
            "high": format_count(summary.high),
            "spread": f"{summary.spread:.0%}",
        }

    def count_row(what: str, summary: Summary) -> dict[str, Any]:
        return {
            "measure": what,
            "median": f"{summary.median:,.0f}",
            "low": f"{summary.low:,.0f}",
            "high": f"{summary.high:,.0f}",
            "spread": f"{summary.spread:.0%}",
        }

    def ms_row(what: str, summary: Summary) -> dict[str, Any]:
        return {
            "measure": what,
            "median": f"{summary.median:.1f} ms",
            "low": f"{summary.low:.1f}",
            "high": f"{summary.high:.1f}",
            "spread": f"{summary.spread:.0%}",
        }

    base = matching["journal"].median
    process_ratio = matching["process"].median / base
    thread_ratio = matching["thread"].median / base
    core_base = matching["journal_core"].median
    core_ratio = matching["process_core"].median / core_base
    core_equal_ratio = matching["process_core_equal"].median / core_base
    n = f"{sizes.query_trades:,}"
    rows = [
        rate_row("write: trade rows, Arrow batches", writes["arrow"], "rows/s"),
        rate_row("write: Trade events, whole writer", writes["events"], "trades/s"),
        rate_row("matching alone (engine only, no journal)", matching["alone"], "cmd/s"),
        rate_row("journal + matching, no history", matching["journal"], "cmd/s"),
        rate_row("journal + matching, history process", matching["process"], "cmd/s"),
        rate_row(
            "journal + matching, in-process history thread (old)", matching["thread"], "cmd/s"
        ),
        count_row("history process: records behind at the loop's end", matching["process.behind"]),
        ms_row("history process: catch-up after the loop", _ms(matching["process.catch_up"])),
        ms_row("in-process thread: drain after the loop (old)", _ms(matching["thread.drain"])),
        rate_row("one core: journal + matching, no history", matching["journal_core"], "cmd/s"),
        rate_row(
            "one core: journal + matching, history process (niced)",
            matching["process_core"],
            "cmd/s",
        ),
        rate_row(
            "one core: journal + matching, history process (not niced)",
            matching["process_core_equal"],
            "cmd/s",
        ),
        ms_row(
            "one core: history process (niced): catch-up after the loop",
            _ms(matching["process_core.catch_up"]),
        ),
        ms_row(f"vwap AAPL over {n} trades", latency["vwap"]),
        ms_row(f"1m bars AAPL over {n} trades", latency["bars_1m"]),
        ms_row(f"trade metrics AAPL over {n} trades", latency["metrics"]),
        ms_row(f"activity over {n} trades", latency["activity"]),
        ms_row("1m bars AAPL, polars from a DuckDB read", latency["bars_1m_polars"]),
    ]
    metrics = {
        "write.arrow_rows_per_s": writes["arrow"].median,
        "write.event_trades_per_s": writes["events"].median,
        "matching.alone_cmd_per_s": matching["alone"].median,
        "matching.journal_cmd_per_s": base,
        "matching.process_cmd_per_s": matching["process"].median,
        "matching.thread_cmd_per_s": matching["thread"].median,
        "matching.process_ratio": process_ratio,
        "matching.thread_ratio": thread_ratio,
        "matching.process_behind_records": matching["process.behind"].median,
        "matching.process_catch_up_s": matching["process.catch_up"].median,
        "matching.thread_drain_s": matching["thread.drain"].median,
        "matching.one_core_journal_cmd_per_s": core_base,
        "matching.one_core_process_cmd_per_s": matching["process_core"].median,
        "matching.one_core_process_equal_cmd_per_s": matching["process_core_equal"].median,
        "matching.one_core_process_ratio": core_ratio,
        "matching.one_core_process_equal_ratio": core_equal_ratio,
        "matching.one_core_process_catch_up_s": matching["process_core.catch_up"].median,
        **{f"query.{name}_ms": s.median for name, s in latency.items()},
        "query.trades": sizes.query_trades,
    }
    notes = [
        f"write: {sizes.write_rows:,} trade rows in 262,144-row Arrow tables; "
        f"{sizes.event_trades:,} Trade events (with their accepted/added events) in lists of "
        "4,096, written every 262,144 events.",
        f"matching: {matching['commands']:,} commands of the lob bench book mix, "
        f"{matching['events']:,} events, each journaled (encode + one os.write, no fsync, "
        "as lob serve --fsync off) then applied; with the history process following the "
        f"journal matching ran at {process_ratio:.0%} of its rate without history, with "
        f"the old in-process writer thread at {thread_ratio:.0%}. With the server and the "
        f"history process on one core, matching kept {core_ratio:.0%} of its rate with the "
        f"history process niced as lob serve runs it, {core_equal_ratio:.0%} without.",
        f"queries: {n} trades in one DuckDB file (AAPL half of them), one read-only "
        "connection, warm; each figure includes turning the result into polars.",
    ]
    if not _CAN_PIN:
        notes.append("this platform cannot pin a process to one CPU: the one-core rows ran on all.")
    if quick:
        notes.append("--quick: tiny sizes; these figures mean nothing.")
    return BenchReport(
        name="history",
        title="DuckDB history: write rate, cost to matching, query latency",
        columns=["measure", "median", "low", "high", "spread"],
        rows=rows,
        machine=describe_machine(),
        quick=quick,
        metrics=metrics,
        notes=notes,
    )


def _ms(seconds: Summary) -> Summary:
    return Summary(
        seconds.median * 1e3,
        seconds.low * 1e3,
        seconds.high * 1e3,
        tuple(s * 1e3 for s in seconds.runs),
    )
