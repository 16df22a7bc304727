"""``lob bench engine``: the exchange in one process, everything real but the network.

What a command costs as more of the exchange sits behind the engine. The
same pre-generated stream (``lob bench book``'s exchange-core mix, from
``lob.bench.book_workloads``) goes through stacks that each add one layer on
top of the previous one:

1. ``engine``: ``MatchingEngine.submit`` alone (the order book benchmark's
   subject, the reference row);
2. ``+ journal``: the ``Sequencer`` stamps each command, frames it, writes it
   to a ``Journal`` in a temporary directory (``fsync=off``: one ``os.write``
   per command, no sync) and applies it; a side row shows ``fsync=batch``,
   where commands arrive in bursts on an event loop and one group commit
   (a write, then the fsync in the journal's sync process) covers each burst;
3. ``+ L2 market data``: ``MarketData`` as a listener (deltas, per-symbol
   sequence and ring), no subscribers;
4. ``+ ITCH feed``: ``ItchMapper`` maps each command's events and a real
   ``Publisher`` numbers, packs (MoldUDP64) and sends them with ``sendto`` to
   a multicast group on interface 127.0.0.1, TTL 0, that nobody joined;
5. ``+ history``: a ``BackgroundHistoryWriter`` into a temporary DuckDB file;
   its thread's work counts, and the timed run ends only when it has written
   everything (its ``close`` is inside the timing). This is how ``lob replay
   --db`` and ``lob simulate --db`` keep history; ``lob serve`` builds it in a
   process of its own from the journal instead, which costs its matching loop
   nothing (``lob bench history`` measures that).

Every stack is fed the untimed prefill first. Throughput is commands per
second of the process's CPU time (all threads), the median of several runs,
the stacks' runs taking turns so their ratios are fair on a shared machine.
Latency is one ``submit`` through the whole stack on the wall clock, open loop
at half the capacity measured just before (``harness.open_loop_latency``).

A check pass (untimed) runs the whole stack once with a counting listener and
reports that every layer saw every command: journal records, L2 sequence,
ITCH messages and history trade rows against the engine's trades.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lob.bench.book_workloads import Workload, mix_workload
from lob.bench.harness import (
    CPU_CLOCK,
    BenchReport,
    LatencyResult,
    Progress,
    Summary,
    describe_machine,
    format_ns,
    interleaved_throughput,
    load_average,
    open_loop_latency,
    repeat_throughput,
)
from lob.engine import MatchingEngine
from lob.engine.commands import NewOrder
from lob.engine.events import Event

__all__ = ["LAYERS", "Sizes", "Stack", "build_stack", "run"]

TS = 1_767_364_200_000_000_000  # 2026-01-02 09:30 New York, in ns
BURST = 256  # commands per group-commit burst in the fsync=batch row

LAYERS = ("engine", "+ journal", "+ L2 market data", "+ ITCH feed", "+ history")
"""The cumulative stacks, in order; each adds one layer to the one before."""

BATCH = "journal fsync=batch"
"""The side row: engine + journal with group commit, instead of fsync=off."""

COLUMNS = ["layer", "orders/s", "spread", "CPU us/order", "added us", "share", "lat p50", "lat p99"]


@dataclass(frozen=True)
class Sizes:
    """How big the benchmark is (full or quick)."""

    stream: int
    latency: int
    runs: int
    warmup: int
    live: int

    @classmethod
    def full(cls) -> Sizes:
        return cls(stream=100_000, latency=50_000, runs=5, warmup=1, live=1_000)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(stream=600, latency=400, runs=1, warmup=0, live=100)


@dataclass
class Stack:
    """One exchange stack: ``submit(command)`` sends a command through all its layers."""

    submit: Callable[[Any], object]
    engine: MatchingEngine
    closers: list[Callable[[], None]] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)

    def drain(self) -> None:
        """Wait for the history writer (if any) to write everything, and close it."""
        drain = self.parts.pop("drain", None)
        if drain is not None:
            self.closers.remove(drain)
            drain()

    def close(self) -> None:
        """Release files, sockets and threads (in reverse order of opening)."""
        closers, self.closers = self.closers, []
        for close in reversed(closers):
            close()


def build_stack(
    depth: int,
    directory: Path,
    symbols: tuple[str, ...],
    extra: Callable[[list[Event]], None] | None = None,
) -> Stack:
    """The first ``depth`` layers of ``LAYERS`` (1..5), files in ``directory``.

    ``extra`` is one more listener after the others (the check pass counts
    with it).
    """
    engine = MatchingEngine()
    if depth == 1:
        return Stack(lambda command: engine.submit(command, TS), engine)
    from lob.server.sequencer import Sequencer
    from lob.store.journal import Journal

    directory.mkdir(parents=True, exist_ok=True)
    journal = Journal.open(directory)
    sequencer = Sequencer(engine, journal, "off")
    stack = Stack(sequencer.enqueue, engine, [journal.close], {"journal": journal})
    listeners = sequencer.listeners
    if depth >= 3:
        from lob.server.marketdata import MarketData

        market = MarketData(engine)
        listeners.append(market.on_events)
        stack.parts["market"] = market
    if depth >= 4:
        from lob.feed.itch_mapper import ItchMapper
        from lob.feed.net import Publisher
        from lob.server.wiring import midnight_ns

        # the sequencer stamps commands with the wall clock, as in lob serve
        mapper = ItchMapper(midnight_ns(time.time_ns()), symbols)
        publisher = Publisher(interface="127.0.0.1", session="BENCH", heartbeat_interval=0)
        publisher.open()
        stack.closers.append(lambda: asyncio.run(publisher.close(end_of_session=False)))
        publisher.publish_messages(mapper.directory(0))
        publish = publisher.publish_messages
        map_events = mapper.map

        def feed(events: list[Event]) -> None:
            messages = map_events(events)
            if messages:
                publish(messages)

        listeners.append(feed)
        stack.parts["publisher"] = publisher
    if depth >= 5:
        from lob.store.history import BackgroundHistoryWriter, HistoryWriter

        path = directory / "history.duckdb"
        background = BackgroundHistoryWriter(HistoryWriter(path, source="lob bench engine"))
        listeners.append(background.submit)
        stack.closers.append(background.close)
        stack.parts["history"] = path
        stack.parts["drain"] = background.close
    if extra is not None:
        listeners.append(extra)
    return stack


# -- throughput ---------------------------------------------------------------


class _Runs:
    """Fresh stacks for the timed runs; the previous one is closed (untimed) first."""

    def __init__(self, root: Path, workload: Workload, symbols: tuple[str, ...]) -> None:
        self.root = root
        self.workload = workload
        self.symbols = symbols
        self.open: Stack | None = None
        self.count = 0

    def retire(self) -> None:
        if self.open is not None:
            self.open.close()
            self.open = None

    def layer(self, depth: int) -> Callable[[], Callable[[], int]]:
        def prepare() -> Callable[[], int]:
            self.retire()
            self.count += 1
            stack = build_stack(depth, self.root / f"run{self.count}", self.symbols)
            self.open = stack
            submit = stack.submit
            for command in self.workload.prefill:
                submit(command)
            stream = self.workload.stream

            def trial() -> int:
                for command in stream:
                    submit(command)
                stack.drain()  # the history thread's work belongs to these commands
                return len(stream)

            return trial

        return prepare

    def batch(self) -> Callable[[], Callable[[], int]]:
        """engine + journal with group commit: bursts of ``BURST`` commands on an event loop."""

        def prepare() -> Callable[[], int]:
            from lob.server.sequencer import Sequencer
            from lob.store.journal import Journal

            self.retire()
            self.count += 1
            directory = self.root / f"run{self.count}"
            directory.mkdir(parents=True)
            journal = Journal.open(directory)
            sequencer = Sequencer(MatchingEngine(), journal, "batch")
            loop = asyncio.new_event_loop()

            async def send(commands: list[Any]) -> None:
                for start in range(0, len(commands), BURST):
                    burst = commands[start : start + BURST]
                    for command in burst[:-1]:
                        sequencer.enqueue(command)
                    await sequencer.submit(burst[-1])

            async def begin() -> None:
                sequencer.start()
                await send(self.workload.prefill)

            def close() -> None:
                loop.run_until_complete(sequencer.close())
                loop.close()

            loop.run_until_complete(begin())
            self.open = Stack(sequencer.enqueue, sequencer.engine, [close], {"journal": journal})
            stream = self.workload.stream

            def trial() -> int:
                loop.run_until_complete(send(stream))
                return len(stream)

            return trial

        return prepare


def _throughput(runs: _Runs, sizes: Sizes) -> dict[str, Summary]:
    prepares = {name: runs.layer(depth) for depth, name in enumerate(LAYERS, start=1)}
    prepares[BATCH] = runs.batch()
    try:
        return interleaved_throughput(
            prepares, runs=sizes.runs, warmup=sizes.warmup, clock=CPU_CLOCK
        )
    finally:
        runs.retire()


def _latency(runs: _Runs, depth: int, items: list[Any]) -> LatencyResult:
    """Open-loop latency of one submit through ``depth`` layers at half the wall capacity."""
    short = Workload(runs.workload.name, runs.workload.prefill, items)
    sub = _Runs(runs.root / f"lat{depth}", short, runs.symbols)
    try:
        capacity = repeat_throughput(sub.layer(depth), runs=1, warmup=0).median
        sub.retire()
        sub.count += 1
        stack = build_stack(depth, sub.root / "timed", runs.symbols)
        sub.open = stack
        for command in short.prefill:
            stack.submit(command)
        gc.collect()
        return open_loop_latency(stack.submit, items, capacity / 2, warmup=len(items) // 10)
    finally:
        sub.retire()


# -- the check pass -----------------------------------------------------------


def check(workload: Workload, directory: Path, symbols: tuple[str, ...]) -> dict[str, int]:
    """Send prefill and stream through the whole stack once; count what each layer did."""
    seen = {"commands": 0, "trades": 0}

    def count(events: list[Event]) -> None:
        seen["commands"] += 1
        seen["trades"] += sum(1 for event in events if event.TYPE == "trade")

    stack = build_stack(len(LAYERS), directory, symbols, extra=count)
    commands = [*workload.prefill, *workload.stream]
    for command in commands:
        stack.submit(command)
    journal = stack.parts["journal"]
    market = stack.parts["market"]
    publisher = stack.parts["publisher"]
    out = {
        "commands": len(commands),
        "applied": seen["commands"],
        "trades": seen["trades"],
        "journal_records": journal.records,
        "l2_seq": sum(market.seq(symbol) for symbol in symbols),
        "l2_deltas": market.deltas,
        "itch_messages": publisher.messages_sent,
        "mold_packets": publisher.packets_sent + publisher.send_errors,
    }
    stack.close()
    import duckdb

    con = duckdb.connect(str(stack.parts["history"]), read_only=True)
    try:
        out["history_trades"] = int(con.execute("SELECT count(*) FROM trades").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()
    return out


# -- the report ---------------------------------------------------------------


def run(quick: bool, progress: Progress) -> BenchReport:
    """Measure the cost of each layer of the exchange, in one process, on one stream."""
    sizes = Sizes.quick() if quick else Sizes.full()
    load_at_start = load_average()
    steps = 5
    progress("generating the workload", completed=0, total=steps)
    workload = mix_workload(sizes.stream, sizes.live)
    symbols = tuple(sorted({c.symbol for c in workload.prefill if isinstance(c, NewOrder)}))
    with tempfile.TemporaryDirectory(prefix="lob-bench-engine-") as tmp:
        root = Path(tmp)
        progress("check pass: every layer sees every command", completed=1, total=steps)
        counts = check(workload, root / "check", symbols)
        progress("throughput, the stacks taking turns", completed=2, total=steps)
        runs = _Runs(root / "runs", workload, symbols)
        ops = _throughput(runs, sizes)
        progress("latency: the engine alone", completed=3, total=steps)
        items = workload.stream[: sizes.latency]
        engine_lat = _latency(runs, 1, items)
        progress("latency: the whole stack", completed=4, total=steps)
        full_lat = _latency(runs, len(LAYERS), items)

    cpu_us = {name: 1e6 / summary.median for name, summary in ops.items()}
    total = cpu_us[LAYERS[-1]]
    rows: list[dict[str, Any]] = []
    metrics: dict[str, Any] = {"check": counts, "stream": len(workload.stream)}
    previous = 0.0
    for name in LAYERS:
        added = cpu_us[name] - previous
        row = _row(name, ops[name], cpu_us[name])
        row["added us"] = f"{added:.2f}"
        row["share"] = f"{100 * added / total:.0f}%"
        rows.append(row)
        previous = cpu_us[name]
        metrics[f"{name}.ops_per_s"] = ops[name].to_json()
    rows[0] |= _lat(engine_lat)
    rows[-1] |= _lat(full_lat)
    batch = _row(BATCH, ops[BATCH], cpu_us[BATCH])
    batch["added us"] = f"{cpu_us[BATCH] - cpu_us[LAYERS[0]]:.2f}"
    rows.insert(2, batch)
    metrics[f"{BATCH}.ops_per_s"] = ops[BATCH].to_json()
    metrics["engine.latency"] = engine_lat.to_json()
    metrics["stack.latency"] = full_lat.to_json()
    notes = [
        f"{workload.name}: {workload.share()}; {workload.live_after_prefill:,} live orders after"
        f" the untimed prefill; {len(workload.stream):,} commands per run",
        f"orders/s: commands per second of process CPU time (every thread), median of"
        f" {sizes.runs} runs after {sizes.warmup} warm-up, the stacks' runs taking turns;"
        " spread = (max - min) / median; added us and share: what the layer adds to the one"
        " above, as a share of the whole stack",
        "each stack includes the ones above it; the journal is fsync=off; the fsync=batch row"
        f" is engine + journal only, bursts of {BURST} commands, one group commit each"
        " (added us compared with the engine)",
        "ITCH feed: real Publisher, sendto on multicast group 239.255.40.1 via interface"
        " 127.0.0.1, TTL 0, nobody joined; history: BackgroundHistoryWriter into a temporary"
        " DuckDB file, its close (writing everything) inside the timed run",
        "lat: wall clock, open loop at half the wall-clock capacity measured just before;"
        f" engine row: the engine alone, last row: the whole stack; {len(items):,} commands",
        f"check: {counts}",
        f"load average at the start: {load_at_start}",
    ]
    progress("done", completed=steps, total=steps)
    return BenchReport(
        name="engine",
        title="Exchange in-process: the cost of each layer behind the matching engine",
        columns=COLUMNS,
        rows=rows,
        machine=describe_machine(),
        quick=quick,
        metrics=metrics,
        notes=notes,
    )


def _row(name: str, ops: Summary, cpu_us: float) -> dict[str, Any]:
    return {
        "layer": name,
        "orders/s": ops.median,
        "spread": f"{100 * ops.spread:.0f}%",
        "CPU us/order": f"{cpu_us:.2f}",
    }


def _lat(lat: LatencyResult) -> dict[str, Any]:
    return {"lat p50": format_ns(lat.latency(50)), "lat p99": format_ns(lat.latency(99))}
