"""``lob bench sim``: how fast the market simulator generates and matches order flow.

Embedded mode, one core: a fresh ``MarketSimulator`` (agents + matching
engine) runs a fixed span of simulated time as fast as it can; everything the
agents decide and everything the engine does to their orders is timed. Rows:

- ``simulate``: messages per second (new orders, cancels and replaces, each
  one generated, matched and its events read back by the agents), the same
  per second of this process's CPU time, new orders per second (wall and
  CPU), and simulated seconds per wall second; median of several runs, each a
  fresh simulator with the same seed (the same work every run).
- ``engine only``: the very same commands, recorded beforehand (untimed) and
  replayed through a fresh ``MatchingEngine`` with its direct methods: the
  engine's share of the cost, so the simulator's own share is the difference.

Set-up (universe loading, the first book) is not timed. The notes read the
goal (``GOAL`` orders per second on one core) both ways, as all messages and
as new orders alone, and say which of the two meets it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from lob.bench.harness import (
    BenchReport,
    Progress,
    Summary,
    describe_machine,
    format_count,
    summarize,
)
from lob.engine.commands import CancelOrder, NewOrder
from lob.engine.engine import MatchingEngine
from lob.sim.simulator import DEFAULT_RATE, MarketSimulator

__all__ = ["run"]

SEED = 1
WORKLOADS = (
    ("3 symbols", "AAPL,MSFT,NVDA", DEFAULT_RATE),
    ("8 symbols", "AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,PNNY", 8_000.0),
)
COLUMNS = [
    "workload",
    "what",
    "messages/s",
    "spread",
    "messages/CPU s",
    "orders/s",
    "orders/CPU s",
    "sim s per wall s",
]
GOAL = 200_000
"""Orders per second generated and matched on one core, the simulator's goal. Both
readings are reported against it: all messages, and new orders alone."""


def _throughput(prepare: Callable[[], Callable[[], int]], runs: int) -> tuple[Summary, Summary]:
    """Operations per wall second and per CPU second of this process, after a warm-up.

    The same method as ``harness.repeat_throughput`` (fresh state per run, garbage
    collected before, left on during), with both clocks read around each run: on a
    machine shared with other work the CPU-time rate moves much less than the wall one.
    """
    wall: list[float] = []
    cpu: list[float] = []
    for i in range(1 + runs):
        trial = prepare()
        gc.collect()
        start_wall, start_cpu = time.perf_counter_ns(), time.process_time_ns()
        ops = trial()
        wall_ns = time.perf_counter_ns() - start_wall
        cpu_ns = time.process_time_ns() - start_cpu
        if i:
            wall.append(ops * 1e9 / max(wall_ns, 1))
            cpu.append(ops * 1e9 / max(cpu_ns, 1))
    return summarize(wall), summarize(cpu)


def _simulate_trial(symbols: str, rate: float, seconds: float) -> Callable[[], Callable[[], int]]:
    def prepare() -> Callable[[], int]:
        sim = MarketSimulator(seed=SEED, symbols=symbols, rate=rate)

        def trial() -> int:
            return sim.run_until(seconds)

        return trial

    return prepare


def _recorded(symbols: str, rate: float, seconds: float) -> tuple[list, dict[str, int]]:  # type: ignore[type-arg]
    commands: list = []  # type: ignore[type-arg]
    sim = MarketSimulator(
        seed=SEED,
        symbols=symbols,
        rate=rate,
        on_events=lambda command, events: commands.append((command, events[0].ts)),
    )
    sim.run_until(seconds)
    references = {m.symbol: m.model.security.reference_price for m in sim.markets}
    return commands, references


def _replay_trial(commands: list, references: dict[str, int]) -> Callable[[], Callable[[], int]]:  # type: ignore[type-arg]
    def prepare() -> Callable[[], int]:
        engine = MatchingEngine()
        for symbol, price in references.items():
            engine.add_symbol(symbol, price)

        def trial() -> int:
            new, cancel, replace = engine.new_order, engine.cancel, engine.replace
            for c, ts in commands:
                kind = type(c)
                if kind is NewOrder:
                    new(c.account, c.id, c.symbol, c.side, c.qty, c.price, ts, c.order_type,
                        c.tif, c.post_only, c.smp)  # fmt: skip
                elif kind is CancelOrder:
                    cancel(c.account, c.id, ts)
                else:
                    replace(c.account, c.id, ts, c.price, c.qty)
            return len(commands)

        return trial

    return prepare


def run(quick: bool, progress: Progress) -> BenchReport:
    """Measure the simulator (see the module docstring)."""
    seconds = 0.5 if quick else 30.0
    runs = 1 if quick else 5
    rows = []
    metrics: dict[str, float] = {}
    verdicts: list[str] = []
    for name, symbols, rate in WORKLOADS:
        key = name.replace(" ", "_")
        progress(f"sim: {name}, {seconds:g} simulated s x {runs} runs")
        probe = MarketSimulator(seed=SEED, symbols=symbols, rate=rate)
        probe.run_until(seconds)
        summary = probe.summary()
        messages, orders = summary.messages, summary.orders
        result, cpu = _throughput(_simulate_trial(symbols, rate, seconds), runs)
        orders_per_s = result.median * orders / messages if messages else 0.0
        orders_per_cpu_s = cpu.median * orders / messages if messages else 0.0
        rows.append(
            {
                "workload": f"{name} @ {format_count(rate)} msg/s",
                "what": "simulate",
                "messages/s": format_count(result.median),
                "spread": f"{result.spread:.1%}",
                "messages/CPU s": format_count(cpu.median),
                "orders/s": format_count(orders_per_s),
                "orders/CPU s": format_count(orders_per_cpu_s),
                "sim s per wall s": f"{result.median / messages * seconds:.1f}",
            }
        )
        metrics[f"{key}.messages_per_s"] = result.median
        metrics[f"{key}.messages_per_cpu_s"] = cpu.median
        metrics[f"{key}.orders_per_s"] = orders_per_s
        metrics[f"{key}.orders_per_cpu_s"] = orders_per_cpu_s
        verdicts.append(
            f"{name}: {format_count(cpu.median)} messages per CPU second "
            f"({'meets' if cpu.median >= GOAL else 'misses'} {format_count(GOAL)}), "
            f"{format_count(orders_per_cpu_s)} new orders per CPU second "
            f"({'meets' if orders_per_cpu_s >= GOAL else 'misses'} {format_count(GOAL)})."
        )
        progress(f"sim: {name}, the same commands through the engine alone")
        commands, references = _recorded(symbols, rate, seconds)
        alone, alone_cpu = _throughput(_replay_trial(commands, references), runs)
        rows.append(
            {
                "workload": f"{name} @ {format_count(rate)} msg/s",
                "what": "engine only",
                "messages/s": format_count(alone.median),
                "spread": f"{alone.spread:.1%}",
                "messages/CPU s": format_count(alone_cpu.median),
                "orders/s": format_count(alone.median * orders / messages if messages else 0),
                "orders/CPU s": format_count(
                    alone_cpu.median * orders / messages if messages else 0
                ),
                "sim s per wall s": "",
            }
        )
        metrics[f"{key}.engine_only_messages_per_s"] = alone.median
        metrics[f"{key}.engine_only_messages_per_cpu_s"] = alone_cpu.median
        metrics[f"{key}.engine_share"] = cpu.median / alone_cpu.median if alone_cpu.median else 0.0
    notes = [
        f"{seconds:g} simulated seconds per run, median of {runs} runs after a warm-up, "
        f"seed {SEED}; one process, one core.",
        "messages = new orders + cancels + replaces; every one is matched by the engine and "
        "its events are read back by the agents.",
        "engine only: the same recorded commands replayed into a fresh engine; "
        "engine_share = simulate / engine-only rate per CPU second (the engine's share "
        "of the time).",
        "messages/CPU s divides by this process's CPU time, which other work on a shared "
        "machine disturbs far less than the wall clock.",
        f"goal: {format_count(GOAL)} orders per second on one core, read both ways:",
        *verdicts,
    ]
    return BenchReport(
        name="sim",
        title="Market simulator: order flow generated and matched, embedded mode",
        columns=COLUMNS,
        rows=rows,
        machine=describe_machine(),
        quick=quick,
        metrics=metrics,
        notes=notes,
    )
