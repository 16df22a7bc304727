"""lob's benchmarks: a registry of names, loaded lazily, run by ``lob bench``.

A benchmark is a function with this exact signature::

    def run(quick: bool, progress: Progress) -> BenchReport: ...

- ``quick=True`` runs it at a tiny size (a second or two) so tests and CI can
  check that it works and reports a sane structure; figures from a quick run
  mean nothing.
- ``progress(message, completed=None, total=None)`` says what it is doing; the
  CLI shows it, scripts pass ``NullProgress()``.
- It returns a ``BenchReport`` (``lob.bench.harness``) built with the harness
  helpers: median of several runs with their spread, latency measured on an
  open-loop schedule (no coordinated omission), the machine.

To add a benchmark, write ``lob/bench/<name>.py`` with that ``run`` and add ONE
line to ``BENCHMARKS`` below, ``"<name>": "lob.bench.<name>:run"``. The module
is imported only when the benchmark runs, so heavy imports cost nothing to
``lob --help`` or to the other benchmarks. Then ``lob bench <name>``,
``lob bench all`` and ``benchmarks/run_all_benchmarks.py`` run it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from lob.bench.harness import BenchReport, NullProgress, Progress

__all__ = ["BENCHMARKS", "BenchFn", "UnknownBenchmarkError", "load", "names", "run"]

BenchFn = Callable[[bool, Progress], BenchReport]

BENCHMARKS: dict[str, str] = {
    "book": "lob.bench.book:run",
    "multicast": "lob.bench.multicast:run",
    "deltas": "lob.bench.deltas:run",
    "sim": "lob.bench.sim:run",
    "history": "lob.bench.history:run",
    "tui": "lob.bench.tui:run",
    "ws": "lob.bench.ws:run",
    "e2e": "lob.bench.e2e:run",
    "engine": "lob.bench.engine:run",
}
"""Benchmark name -> ``"module:function"``, in the order ``lob bench all`` runs them."""


class UnknownBenchmarkError(KeyError):
    """A benchmark name that is not registered."""

    code = "unknown_benchmark"

    def __str__(self) -> str:
        known = ", ".join(names()) or "none"
        return f"no benchmark named {self.args[0]!r} (registered: {known})"


def names() -> list[str]:
    """Registered benchmark names, in running order."""
    return list(BENCHMARKS)


def load(name: str) -> BenchFn:
    """Import the benchmark ``name`` and return its ``run`` function."""
    try:
        target = BENCHMARKS[name]
    except KeyError:
        raise UnknownBenchmarkError(name) from None
    module, _, function = target.partition(":")
    fn: BenchFn = getattr(import_module(module), function)
    return fn


def run(name: str, quick: bool = False, progress: Progress | None = None) -> BenchReport:
    """Run one registered benchmark."""
    return load(name)(quick, progress if progress is not None else NullProgress())
