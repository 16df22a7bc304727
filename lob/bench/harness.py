"""The benchmark harness: machine, statistics, timing, open-loop latency, reports.

Every lob benchmark is built from the same few pieces, so that their figures
mean the same thing:

- ``describe_machine()`` says where a figure was measured (CPU model, cores,
  Python version and implementation, OS, load average). A figure without its
  machine is noise.
- ``repeat_throughput()`` runs a trial several times after warm-up and keeps
  every run, so that a report can give the median and the spread
  (``Summary``) instead of one lucky number. Set-up is never timed.
  ``interleaved_throughput()`` does the same for several subjects whose runs
  take turns, so that a comparison between them is made under the same load;
  ``CPU_CLOCK`` times by the process's CPU time instead of the wall clock.
- ``open_loop_latency()`` measures latency *without coordinated omission*:
  requests follow a fixed schedule at an offered rate, and each latency is
  ``completion time - intended start time``. When one request stalls, the ones
  queued behind it are charged the time they waited, as they would be by a
  real sender that does not pause because the server is slow. A closed loop
  (time each call, then send the next) hides exactly those waits.
- ``percentile()`` is the nearest-rank percentile: the smallest sample with at
  least ``q`` percent of the samples at or below it, so p99.9 and max are real
  observed latencies, never interpolated ones.
- ``BenchReport`` is what a benchmark returns: a table (columns and rows), the
  headline metrics, notes and the machine; ``to_json()`` for scripts,
  ``render_report()`` for a terminal.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypeVar

from lob import native

__all__ = [
    "CPU_CLOCK",
    "BenchReport",
    "LatencyResult",
    "Machine",
    "NullProgress",
    "Progress",
    "Summary",
    "describe_machine",
    "format_count",
    "format_ns",
    "interleaved_throughput",
    "load_average",
    "merge_counts",
    "open_loop_latency",
    "percentile",
    "repeat_throughput",
    "summarize",
]

T = TypeVar("T")

CPU_CLOCK = time.process_time_ns
"""CPU time of this process: throughput on a shared machine without the time it was
descheduled (a single-threaded engine on a core of its own would see the same)."""

PERCENTILES = (50.0, 99.0, 99.9)
"""The latency percentiles every report gives, besides the maximum."""


# -- machine ----------------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    """Where a figure was measured."""

    cpu: str
    cores: int
    python: str
    implementation: str
    os: str
    load: str = ""
    """The 1, 5 and 15 minute load averages when described: how shared the machine was."""
    native: str = ""
    """How lob's compiled modules ran: "compiled" or "python (why)" (``lob.native``)."""

    def describe(self) -> str:
        text = f"{self.cpu}, {self.cores} cores, {self.implementation} {self.python}, {self.os}"
        text += f", lob {self.native}" if self.native else ""
        return text + (f", load average {self.load}" if self.load else "")


def _cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    try:
        with open(cpuinfo, encoding="utf-8") as lines:
            for line in lines:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def load_average() -> str:
    """``"1.20 0.80 0.40"``: the 1, 5 and 15 minute load averages, or "" where unknown."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        return ""


def describe_machine() -> Machine:
    """The CPU model (from /proc/cpuinfo), usable cores, Python, OS and load of this machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return Machine(
        cpu=_cpu_model(),
        cores=cores,
        python=platform.python_version(),
        implementation=sys.implementation.name.replace("cpython", "CPython"),
        os=f"{platform.system()} {platform.release()}",
        load=load_average(),
        native=native.MODE,
    )


# -- statistics ---------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``samples``.

    The result is the smallest sample such that at least ``q`` percent of the
    samples are at or below it: for 1..100, p50 is 50, p99 is 99, p100 is 100.
    ``samples`` need not be sorted.
    """
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100]: {q}")
    ordered = sorted(samples)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Summary:
    """Several runs of one measurement: the median and how far the runs spread."""

    median: float
    low: float
    high: float
    runs: tuple[float, ...]

    @property
    def spread(self) -> float:
        """(high - low) / median: 0.05 means the runs lie within 5% of the median."""
        return (self.high - self.low) / self.median if self.median else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "low": self.low,
            "high": self.high,
            "spread": self.spread,
            "runs": list(self.runs),
        }


def summarize(values: Iterable[float]) -> Summary:
    """The median, minimum and maximum of a few runs."""
    runs = tuple(values)
    if not runs:
        raise ValueError("summary of no runs")
    return Summary(statistics.median(runs), min(runs), max(runs), runs)


# -- throughput ---------------------------------------------------------------


def repeat_throughput(
    prepare: Callable[[], Callable[[], int]],
    runs: int,
    warmup: int = 1,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> Summary:
    """Operations per second over ``runs`` timed runs, after ``warmup`` untimed ones.

    ``prepare()`` builds fresh state (untimed) and returns the trial; the trial
    does the work and returns how many operations it did. The garbage collector
    is collected before each run and left enabled during it: a real engine
    pays for it too.
    """
    rates: list[float] = []
    for i in range(warmup + runs):
        trial = prepare()
        gc.collect()
        start = clock()
        ops = trial()
        elapsed = clock() - start
        if i >= warmup:
            rates.append(ops * 1e9 / max(elapsed, 1))
    return summarize(rates)


def interleaved_throughput(
    prepares: Mapping[str, Callable[[], Callable[[], int]]],
    runs: int,
    warmup: int = 1,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, Summary]:
    """``repeat_throughput`` for several subjects, their runs taking turns.

    Run 1 of every subject, then run 2 of every subject, and so on: on a
    shared machine whose load changes over a minute, each subject meets the
    same conditions, so the ratio of their medians is fair. Pass
    ``clock=CPU_CLOCK`` to count only the CPU time this process used.
    """
    rates: dict[str, list[float]] = {name: [] for name in prepares}
    for i in range(warmup + runs):
        for name, prepare in prepares.items():
            trial = prepare()
            gc.collect()
            start = clock()
            ops = trial()
            elapsed = clock() - start
            if i >= warmup:
                rates[name].append(ops * 1e9 / max(elapsed, 1))
    return {name: summarize(values) for name, values in rates.items()}


# -- latency without coordinated omission ------------------------------------


@dataclass(frozen=True)
class LatencyResult:
    """Per-request latency (completion - intended start) and service time (completion - start).

    Times are integer nanoseconds. ``achieved_rate`` is the number of requests
    divided by the time from the first intended start to the last completion:
    well below ``offered_rate`` means the target could not keep up.
    """

    offered_rate: float
    achieved_rate: float
    latencies: tuple[int, ...]
    service_times: tuple[int, ...]

    def latency(self, q: float) -> float:
        return percentile(self.latencies, q)

    def service(self, q: float) -> float:
        return percentile(self.service_times, q)

    def to_json(self) -> dict[str, Any]:
        """Percentiles and maxima in nanoseconds (not the raw samples)."""
        out: dict[str, Any] = {
            "offered_rate": self.offered_rate,
            "achieved_rate": self.achieved_rate,
            "samples": len(self.latencies),
        }
        for name, samples in (("latency_ns", self.latencies), ("service_ns", self.service_times)):
            out[name] = {_pname(q): percentile(samples, q) for q in PERCENTILES}
            out[name]["max"] = max(samples)
        return out


def _pname(q: float) -> str:
    return "p" + (f"{q:g}".replace(".", "_"))


def _spin_until(deadline: int, clock: Callable[[], int] = time.perf_counter_ns) -> None:
    while clock() < deadline:
        pass


def open_loop_latency(
    call: Callable[[T], object],
    items: Sequence[T],
    rate: float,
    warmup: int = 0,
    clock: Callable[[], int] = time.perf_counter_ns,
    wait_until: Callable[[int], None] | None = None,
) -> LatencyResult:
    """Send ``items`` to ``call`` at a fixed offered ``rate`` (per second); time each one.

    Request ``i`` is intended to start at ``t0 + i / rate``. If the previous
    request finished early, the sender waits (spins) for that moment; if it
    finished late, request ``i`` starts at once and its latency still counts
    from its intended start, so a stall is charged to every request that
    queued behind it. The first ``warmup`` requests run on the same schedule
    but are not recorded. ``clock`` and ``wait_until`` exist so tests can
    drive a synthetic clock.
    """
    if rate <= 0:
        raise ValueError(f"offered rate must be positive: {rate}")
    if len(items) <= warmup:
        raise ValueError("need more items than warm-up requests")
    wait = wait_until if wait_until is not None else lambda t: _spin_until(t, clock)
    interval = 1e9 / rate
    latencies: list[int] = []
    services: list[int] = []
    record_lat = latencies.append
    record_svc = services.append
    t0 = clock()
    first_recorded = t0
    done = t0
    for i, item in enumerate(items):
        intended = t0 + int(i * interval)
        now = clock()
        if now < intended:
            wait(intended)
            now = clock()
        call(item)
        done = clock()
        if i >= warmup:
            record_lat(done - intended)
            record_svc(done - now)
        elif i == warmup - 1:
            first_recorded = t0 + int((i + 1) * interval)
    span = max(done - first_recorded, 1)
    return LatencyResult(rate, len(latencies) * 1e9 / span, tuple(latencies), tuple(services))


# -- progress -----------------------------------------------------------------


class Progress(Protocol):
    """Told what a benchmark is doing; the CLI shows it, scripts and tests ignore it.

    ``progress("workload (a): 3 of 5 runs", completed=3, total=5)``; ``completed``
    and ``total`` are optional.
    """

    def __call__(
        self, message: str, completed: float | None = None, total: float | None = None
    ) -> None: ...


class NullProgress:
    """A progress sink that shows nothing."""

    def __call__(
        self, message: str, completed: float | None = None, total: float | None = None
    ) -> None:
        return None


# -- reports ------------------------------------------------------------------


@dataclass
class BenchReport:
    """What one benchmark measured.

    ``columns`` name the keys of each row of ``rows`` in display order;
    ``metrics`` holds the headline figures under stable dotted names (e.g.
    ``"mix.ops_per_s"``) for scripts and tests; ``notes`` say how to read the
    table (workload sizes, what is timed, what is not).
    """

    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    machine: Machine
    quick: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: name, title, quick, columns, rows, metrics, notes, machine."""
        return {
            "name": self.name,
            "title": self.title,
            "quick": self.quick,
            "columns": list(self.columns),
            "rows": [dict(row) for row in self.rows],
            "metrics": dict(self.metrics),
            "notes": list(self.notes),
            "machine": asdict(self.machine),
        }


def merge_counts(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Counts by name from several processes, added up (error codes, close reasons)."""
    out: dict[str, int] = {}
    for c in counts:
        for key, n in c.items():
            out[key] = out.get(key, 0) + n
    return out


def format_count(value: float) -> str:
    """``1234567.8`` -> ``"1,234,568"``; small values keep two significant decimals."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def format_ns(ns: float) -> str:
    """A duration in the unit that reads best: ``"850 ns"``, ``"3.2 us"``, ``"12.5 ms"``."""
    if ns < 1_000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.1f} us"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"
