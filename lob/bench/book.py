"""``lob bench book``: the matching engine's order book against the seed design.

Every workload (``lob.bench.book_workloads``) is generated first and never
timed. Then, for lob's ``MatchingEngine`` and for the seed design
(``lob.bench.seed_book``), in the same process and the same run:

- throughput: a fresh engine is filled with the workload's prefill (untimed),
  then the whole stream is sent through ``engine.submit(command, ts)``, every
  event built and returned; ops/s is commands per second of the process's CPU
  time, the median of several runs after a warm-up run, with the spread of
  the runs. lob's runs and the seed design's take turns, so both meet the same
  load on a shared machine;
- latency without coordinated omission, on the wall clock: the stream is sent
  again at a fixed offered rate of half the wall-clock throughput of a
  closed-loop pass just before,
  each latency counted from the command's intended start
  (``harness.open_loop_latency``); the service time (from actual start) is
  reported beside it;
- market sweeps: each market order takes 20 levels (200 fills); the refill
  between sweeps is not timed, only the sweep itself;
- resting orders: the time to add N passive orders, and the bytes each one
  costs, measured with ``tracemalloc``: everything the engine holds after the
  adds (book, levels, order index, client-id strings) divided by N.

The seed design runs shorter command streams (it is slower); a rate is a
rate, and each stream is long enough for the book to be in its steady state.
Both add the same number of resting orders.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lob.bench.book_workloads import (
    ORDERS_PER_LEVEL,
    SWEEP_DEPTH,
    Workload,
    add_cancel_workload,
    mix_workload,
    resting_orders,
    sweep_rounds,
    to_seed,
)
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
    summarize,
)
from lob.bench.seed_book import SeedEngine
from lob.engine import MatchingEngine

__all__ = ["Sizes", "run"]

TS = 1_767_364_200_000_000_000  # 2026-01-02 09:30 New York, in ns: any fixed time will do
SYMBOLS8 = ("AAPL", "MSFT", "NVDA", "AMZN", "META", "GOOG", "TSLA", "JPM")

COLUMNS = [
    "workload",
    "engine",
    "ops/s",
    "spread",
    "lat p50",
    "lat p99",
    "lat p99.9",
    "lat max",
    "svc p50",
    "svc p99",
    "bytes/order",
    "vs seed",
]


@dataclass(frozen=True)
class Sizes:
    """How big each part of the benchmark is (full or quick)."""

    stream: int  # commands per timed stream, lob
    seed_stream: int  # the seed design's share of it
    latency: int  # commands sent on the open-loop schedule, lob
    seed_latency: int
    sweeps: int
    seed_sweeps: int
    resting: int
    runs: int  # timed runs of each engine, after one warm-up round
    resting_runs: int  # timed runs of the resting adds (no warm-up: each is long)
    live: int  # live orders per symbol in the mixes

    @classmethod
    def full(cls) -> Sizes:
        return cls(
            stream=300_000,
            seed_stream=30_000,
            latency=200_000,
            seed_latency=20_000,
            sweeps=2_000,
            seed_sweeps=200,
            resting=1_000_000,
            runs=5,
            resting_runs=3,
            live=1_000,
        )

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            stream=2_000,
            seed_stream=500,
            latency=1_000,
            seed_latency=300,
            sweeps=20,
            seed_sweeps=10,
            resting=3_000,
            runs=2,
            resting_runs=1,
            live=200,
        )


# -- the two engines behind one shape -----------------------------------------


@dataclass(frozen=True)
class _Subject:
    """An engine factory, and how to turn lob commands into that engine's commands."""

    name: str
    make: Callable[[], Any]
    convert: Callable[[Sequence[Any]], list[Any]]


LOB = _Subject("lob", MatchingEngine, list)
SEED = _Subject("seed", SeedEngine, to_seed)


def _fresh(subject: _Subject, prefill: list[Any]) -> Callable[[Any, int], Any]:
    """A new engine with ``prefill`` applied; its ``submit``."""
    submit = subject.make().submit
    for command in prefill:
        submit(command, TS)
    return submit  # type: ignore[no-any-return]


def _prepare(subject: _Subject, prefill: list[Any], stream: list[Any]) -> Callable[[], Any]:
    """A fresh engine with the prefill applied (untimed); the trial sends the stream."""

    def prepare() -> Callable[[], int]:
        submit = _fresh(subject, prefill)

        def trial() -> int:
            for command in stream:
                submit(command, TS)
            return len(stream)

        return trial

    return prepare


def _throughput(
    lob: tuple[list[Any], list[Any]], seed: tuple[list[Any], list[Any]], runs: int, warmup: int
) -> tuple[Summary, Summary]:
    """lob's and the seed design's ops per CPU second, their runs taking turns."""
    result = interleaved_throughput(
        {"lob": _prepare(LOB, *lob), "seed": _prepare(SEED, *seed)},
        runs=runs,
        warmup=warmup,
        clock=CPU_CLOCK,
    )
    return result["lob"], result["seed"]


def _latency(subject: _Subject, prefill: list[Any], stream: list[Any]) -> LatencyResult:
    """Open-loop latency at half the wall-clock capacity measured just before.

    The capacity is taken on the wall clock, from one closed-loop pass over the
    same stream, so that on a shared machine the offered rate stays below what
    the process can get right now.
    """
    capacity = repeat_throughput(_prepare(subject, prefill, stream), runs=1, warmup=0).median
    submit = _fresh(subject, prefill)
    gc.collect()
    return open_loop_latency(
        lambda command: submit(command, TS), stream, capacity / 2, warmup=len(stream) // 10
    )


def _sweep_plan(subject: _Subject, rounds: int) -> tuple[list[Any], list[tuple[list[Any], Any]]]:
    initial, plan = sweep_rounds(rounds)
    converted = [(subject.convert(refill), subject.convert([sweep])[0]) for refill, sweep in plan]
    return subject.convert(initial), converted


def _sweep_rate(subject: _Subject, initial: list[Any], plan: list[tuple[list[Any], Any]]) -> float:
    """Sweeps per CPU second: only the market orders are timed, never the refills."""
    engine = subject.make()
    submit = engine.submit
    for command in initial:
        submit(command, TS)
    gc.collect()
    clock = CPU_CLOCK
    spent = 0
    for refill, sweep in plan:
        for command in refill:
            submit(command, TS)
        start = clock()
        submit(sweep, TS)
        spent += clock() - start
    return len(plan) * 1e9 / max(spent, 1)


def _sweeps(lob_rounds: int, seed_rounds: int, runs: int) -> tuple[Summary, Summary]:
    lob_plan = _sweep_plan(LOB, lob_rounds)
    seed_plan = _sweep_plan(SEED, seed_rounds)
    lob_rates, seed_rates = [], []
    for i in range(runs + 1):  # the first round of runs warms up
        lob_rate = _sweep_rate(LOB, *lob_plan)
        seed_rate = _sweep_rate(SEED, *seed_plan)
        if i:
            lob_rates.append(lob_rate)
            seed_rates.append(seed_rate)
    return summarize(lob_rates), summarize(seed_rates)


def _resting_time(lob_n: int, seed_n: int, runs: int) -> tuple[Summary, Summary]:
    accounts = [f"A{i:04d}" for i in range(1_000)]
    lob_orders = LOB.convert(resting_orders(lob_n, accounts))
    seed_orders = SEED.convert(resting_orders(seed_n, accounts))
    return _throughput(([], lob_orders), ([], seed_orders), runs, warmup=0)


def _resting_bytes(subject: _Subject, n: int) -> float:
    """Traced bytes the engine holds after ``n`` adds, per order (ids made while tracing)."""
    accounts = [f"A{i:04d}" for i in range(1_000)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        engine = subject.make()
        if subject is SEED:
            commands = to_seed(resting_orders(n, accounts), shared_prices=False)
        else:
            commands = subject.convert(resting_orders(n, accounts))
        submit = engine.submit
        for command in commands:
            submit(command, TS)
        del commands, command
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del engine
    return held / n


# -- the report ---------------------------------------------------------------


def _row(
    workload: str, engine: str, ops: Summary | None, lat: LatencyResult | None = None
) -> dict[str, Any]:
    row: dict[str, Any] = {"workload": workload, "engine": engine}
    if ops is not None:
        row["ops/s"] = ops.median
        row["spread"] = f"{100 * ops.spread:.0f}%"
    if lat is not None:
        for col, q in (("lat p50", 50), ("lat p99", 99), ("lat p99.9", 99.9)):
            row[col] = format_ns(lat.latency(q))
        row["lat max"] = format_ns(max(lat.latencies))
        row["svc p50"] = format_ns(lat.service(50))
        row["svc p99"] = format_ns(lat.service(99))
    return row


def _metrics(prefix: str, ops: Summary, lat: LatencyResult | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {f"{prefix}.ops_per_s": ops.to_json()}
    if lat is not None:
        out[f"{prefix}.latency"] = lat.to_json()
    return out


def run(quick: bool, progress: Progress) -> BenchReport:
    """Measure lob's order book and the seed design on the same workloads."""
    sizes = Sizes.quick() if quick else Sizes.full()
    load_at_start = load_average()
    rows: list[dict[str, Any]] = []
    metrics: dict[str, Any] = {}
    notes: list[str] = []
    steps = 9
    step = 0

    def say(message: str) -> None:
        nonlocal step
        progress(message, completed=step, total=steps)
        step += 1

    say("generating workloads")
    workloads: list[Workload] = [
        mix_workload(sizes.stream, sizes.live),
        mix_workload(sizes.stream, sizes.live, symbols=SYMBOLS8, seed=3),
        add_cancel_workload(sizes.stream, sizes.live),
    ]
    keys = {"mix": "mix", "add_cancel": "add_cancel"}
    for workload in workloads:
        key = keys.get(workload.name, "mix8")
        say(f"{workload.name}: throughput")
        seed_prefill = to_seed(workload.prefill)
        seed_stream = to_seed(workload.stream[: sizes.seed_stream])
        lob_ops, seed_ops = _throughput(
            (workload.prefill, workload.stream), (seed_prefill, seed_stream), sizes.runs, 1
        )
        say(f"{workload.name}: latency")
        lob_lat = _latency(LOB, workload.prefill, workload.stream[: sizes.latency])
        seed_lat = _latency(SEED, seed_prefill, seed_stream[: sizes.seed_latency])
        ratio = lob_ops.median / seed_ops.median
        rows.append(_row(workload.name, "lob", lob_ops, lob_lat) | {"vs seed": f"{ratio:.1f}x"})
        rows.append(_row(workload.name, "seed", seed_ops, seed_lat))
        metrics |= _metrics(key, lob_ops, lob_lat)
        metrics |= _metrics(f"{key}.seed", seed_ops, seed_lat)
        metrics[f"{key}.speedup"] = ratio
        notes.append(
            f"{workload.name}: {workload.share()}; {workload.live_after_prefill:,} live orders"
            f" after the untimed prefill; lob {len(workload.stream):,} commands per run,"
            f" seed {len(seed_stream):,}; latency offered/achieved: lob"
            f" {lob_lat.offered_rate:,.0f}/{lob_lat.achieved_rate:,.0f} per s,"
            f" seed {seed_lat.offered_rate:,.0f}/{seed_lat.achieved_rate:,.0f} per s"
        )

    say("market sweeps")
    lob_sweeps, seed_sweeps = _sweeps(sizes.sweeps, sizes.seed_sweeps, sizes.runs)
    fills = SWEEP_DEPTH * ORDERS_PER_LEVEL
    ratio = lob_sweeps.median / seed_sweeps.median
    rows.append(_row("sweep", "lob", lob_sweeps) | {"vs seed": f"{ratio:.1f}x"})
    rows.append(_row("sweep", "seed", seed_sweeps))
    metrics |= _metrics("sweep", lob_sweeps) | _metrics("sweep.seed", seed_sweeps)
    metrics["sweep.speedup"] = ratio
    metrics["sweep.fills_per_sweep"] = fills
    notes.append(
        f"sweep: ops/s are market orders per second, each taking {SWEEP_DEPTH} levels"
        f" ({fills} fills, so lob fills {lob_sweeps.median * fills:,.0f} orders/s);"
        " the refill between sweeps is not timed"
    )

    say(f"{sizes.resting:,} resting orders: time to add")
    lob_add, seed_add = _resting_time(sizes.resting, sizes.resting, sizes.resting_runs)
    say("resting orders: memory (tracemalloc)")
    lob_bytes = _resting_bytes(LOB, sizes.resting)
    seed_bytes = _resting_bytes(SEED, sizes.resting)
    ratio = lob_add.median / seed_add.median
    rows.append(
        _row(f"resting {sizes.resting:,}", "lob", lob_add)
        | {"bytes/order": round(lob_bytes), "vs seed": f"{ratio:.1f}x"}
    )
    rows.append(
        _row(f"resting {sizes.resting:,}", "seed", seed_add) | {"bytes/order": round(seed_bytes)}
    )
    metrics |= _metrics("resting", lob_add) | _metrics("resting.seed", seed_add)
    metrics["resting.orders"] = sizes.resting
    metrics["resting.seconds"] = sizes.resting / lob_add.median
    metrics["resting.bytes_per_order"] = lob_bytes
    metrics["resting.seed.bytes_per_order"] = seed_bytes
    metrics["resting.speedup"] = ratio
    metrics["resting.seed_bytes_ratio"] = seed_bytes / lob_bytes
    notes.append(
        f"resting: {sizes.resting:,} passive adds take lob {sizes.resting / lob_add.median:.2f}"
        f" s of CPU, the seed design {sizes.resting / seed_add.median:.2f} s; bytes/order is"
        " everything the engine holds afterwards (levels, orders, order index, client-id"
        f" strings) over the number of orders, by tracemalloc: the seed design needs"
        f" {seed_bytes / lob_bytes:.1f}x lob's"
    )
    notes.append(
        f"ops/s: per second of CPU time used by this process (time spent descheduled by"
        f" other work on the machine does not count); median of {sizes.runs} runs after one"
        f" warm-up run ({sizes.resting_runs} for resting, no warm-up), lob's and the"
        " seed design's runs taking turns; spread = (max - min) / median; every command"
        " goes through engine.submit and its events are built"
    )
    notes.append(
        "lat: wall clock, open loop at half the wall-clock capacity measured just before,"
        " latency = completion - intended start (stalls, including time descheduled,"
        " charged to every queued"
        " command); svc = completion - actual start"
    )
    notes.append(f"load average at the start: {load_at_start}")
    progress("done", completed=steps, total=steps)
    return BenchReport(
        name="book",
        title="Order book: lob's matching engine vs the seed design",
        columns=COLUMNS,
        rows=rows,
        machine=describe_machine(),
        quick=quick,
        metrics=metrics,
        notes=notes,
    )
