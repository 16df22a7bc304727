"""``lob bench history``: how fast the DuckDB history writes, and how fast it answers.

Three measurements, each the median of several runs with their spread:

- write rate: trade rows per second into a DuckDB file, (a) as one ready Arrow
  table per batch (``HistoryWriter.insert_trades``: the bulk path) and (b) as
  engine ``Trade`` events through ``write_events`` + ``flush`` (the whole
  writer: rows built in Python, two fill rows per trade in ``order_events``,
  top-of-book tracking, Arrow, insert). Batches of 262,144 rows or events:
  each insert has a fixed cost (its commit syncs the write-ahead log), and
  65,536-row batches measured about half the rate on this machine.
- matching with and without the history: the ``lob bench book`` mix stream
  (``mix_workload``) through ``MatchingEngine.submit``: alone; handing every
  command's events to a ``BackgroundHistoryWriter`` whose writer drops them
  (the cost of the hand-off itself); and to a real ``BackgroundHistoryWriter``
  (its own thread). Timed: the matching loop, hand-offs included; the
  writer's drain after the loop is reported beside it, not hidden.
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


def _matching(sizes: Sizes, workdir: Path, progress: Progress) -> dict[str, Any]:
    from lob.bench.book_workloads import mix_workload
    from lob.engine import MatchingEngine
    from lob.store.history import BackgroundHistoryWriter, HistoryWriter

    workload = mix_workload(sizes.match_commands)
    rates: dict[str, list[float]] = {"alone": [], "handoff": [], "with_history": []}
    drains: list[float] = []
    events_per_run = 0
    for run in range(sizes.runs + 1):
        progress(f"history: matching with and without the writer, run {run}", run, sizes.runs + 1)
        for mode in rates:
            engine = MatchingEngine()
            for command in workload.prefill:
                engine.submit(command, OPEN)
            # The prefill is set-up: the history records the timed stream only.
            background = None
            path = workdir / f"match{run}.duckdb"
            if mode == "with_history":
                background = BackgroundHistoryWriter(HistoryWriter(path))
                put = background.submit
            elif mode == "handoff":
                background = BackgroundHistoryWriter(_Discard())  # type: ignore[arg-type]
                put = background.submit
            submit = engine.submit
            stream = workload.stream
            count = 0
            start = time.perf_counter()
            if mode == "alone":
                for i, command in enumerate(stream):
                    count += len(submit(command, OPEN + i))
            else:
                for i, command in enumerate(stream):
                    events = submit(command, OPEN + i)
                    count += len(events)
                    put(events)
            seconds = time.perf_counter() - start
            if background is not None:
                drain_start = time.perf_counter()
                background.close()
                drain = time.perf_counter() - drain_start
                if mode == "with_history":
                    path.unlink()
                    if run:
                        drains.append(drain)
            if run:
                events_per_run = count
                rates[mode].append(len(stream) / seconds)
    return {
        **{mode: summarize(values) for mode, values in rates.items()},
        "drain_s": summarize(drains),
        "events": events_per_run,
        "commands": len(workload.stream),
    }


class _Discard:
    """A writer that drops everything: the hand-off and its thread, without the history."""

    def write_events(self, events: object) -> None:
        return None

    def flush(self) -> int:
        return 0

    def close(self) -> None:
        return None


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

    def ms_row(what: str, summary: Summary) -> dict[str, Any]:
        return {
            "measure": what,
            "median": f"{summary.median:.1f} ms",
            "low": f"{summary.low:.1f}",
            "high": f"{summary.high:.1f}",
            "spread": f"{summary.spread:.0%}",
        }

    slowdown = 1 - matching["with_history"].median / matching["alone"].median
    n = f"{sizes.query_trades:,}"
    rows = [
        rate_row("write: trade rows, Arrow batches", writes["arrow"], "rows/s"),
        rate_row("write: Trade events, whole writer", writes["events"], "trades/s"),
        rate_row("matching alone", matching["alone"], "cmd/s"),
        rate_row("matching + hand-off to a thread that drops", matching["handoff"], "cmd/s"),
        rate_row("matching + background history", matching["with_history"], "cmd/s"),
        ms_row("history drain after the stream", _ms(matching["drain_s"])),
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
        "matching.handoff_cmd_per_s": matching["handoff"].median,
        "matching.with_history_cmd_per_s": matching["with_history"].median,
        "matching.slowdown": slowdown,
        "matching.drain_s": matching["drain_s"].median,
        **{f"query.{name}_ms": s.median for name, s in latency.items()},
        "query.trades": sizes.query_trades,
    }
    notes = [
        f"write: {sizes.write_rows:,} trade rows in 262,144-row Arrow tables; "
        f"{sizes.event_trades:,} Trade events (with their accepted/added events) in lists of "
        "4,096, written every 262,144 events.",
        f"matching: {matching['commands']:,} commands of the lob bench book mix, "
        f"{matching['events']:,} events; with the history on, matching ran "
        f"{slowdown:.0%} slower; the writer thread then needed the drain time to finish.",
        f"queries: {n} trades in one DuckDB file (AAPL half of them), one read-only "
        "connection, warm; each figure includes turning the result into polars.",
    ]
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
