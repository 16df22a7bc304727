"""``lob bench tui``: what the workstation costs on a busy market, in share of one core.

The market is recorded first (untimed): a ``MarketSimulator`` runs the
workload and its commands are kept. Each trial then replays those commands on
the wall clock, paced at the workload's message rate, into an
``EmbeddedSource`` (engine + the workstation's model), twice:

- ``feed only``: no app; the replay, the engine and the model absorbing every
  event. This is the market's cost, paid with or without a screen.
- ``with app``: the same, with ``WorkstationApp`` running headless at 160 x 48
  on the symbol screen (ladder, chart, tape and statistics redrawn at their
  refresh rates, at most 20 times a second).

The TUI's cost is the difference in process CPU time per wall second: the
share of one core the workstation adds. "Keeps up" is checked, not assumed:
the model must have applied every event the engine emitted, and the replay's
worst lag behind its schedule is reported. Headless Textual builds every frame
as a terminal would get it and throws the bytes away, so a real terminal adds
only the cost of writing them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from lob.bench.harness import BenchReport, Progress, describe_machine, format_count, summarize
from lob.engine.commands import Command
from lob.sim.simulator import MarketSimulator
from lob.sim.universe import load_symbols, load_universe
from lob.tui.widgets.live import LADDER_HZ, TABLE_HZ

__all__ = ["run"]

SEED = 3
WORKLOADS = (
    # name, symbols (None: the whole universe, as `lob tui` opens), msg/s, symbol on screen
    # (None: stay on the market overview, the watchlist of every symbol)
    ("market overview", None, 2_000.0, None),
    ("symbol view", None, 2_000.0, "AAPL"),
    ("one busy symbol", "AAPL", 5_000.0, "AAPL"),
)
COLUMNS = ["workload", "what", "cpu share of a core", "spread", "frames/s", "events", "max lag"]
TICK = 0.005


def _record(symbols: str | None, rate: float, seconds: float) -> tuple[list[Any], list[Command]]:
    securities = load_symbols(symbols) if symbols else load_universe()
    commands: list[Command] = []
    sim = MarketSimulator(
        SEED, securities, rate, on_events=lambda command, events: commands.append(command)
    )
    sim.run_until(seconds)
    return securities, commands


def _source(securities: list[Any]) -> Any:
    from lob.tui.embedded import EmbeddedSource
    from lob.tui.source import SymbolInfo

    return EmbeddedSource(
        [SymbolInfo(s.symbol, s.name, s.reference_price) for s in securities],
        description="benchmark replay",
    )


async def _replay(source: Any, commands: list[Command], rate: float) -> float:
    """Send ``commands`` at ``rate`` per second on the wall clock; return the worst lag (s)."""
    start = time.perf_counter()
    sent = 0
    worst = 0.0
    total = len(commands)
    while sent < total:
        now = time.perf_counter()
        due = min(total, int((now - start) * rate) + 1)
        if due > sent:
            worst = max(worst, now - (start + sent / rate))
        while sent < due:
            source.execute(commands[sent])
            sent += 1
        await asyncio.sleep(TICK)
    return worst


async def _feed_only(source: Any, commands: list[Command], rate: float) -> tuple[float, float]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    lag = await _replay(source, commands, rate)
    return (time.process_time() - cpu0) / (time.perf_counter() - wall0), lag


async def _with_app(
    source: Any, commands: list[Command], rate: float, symbol: str | None
) -> tuple[float, float, float]:
    from lob.tui.app import WorkstationApp
    from lob.tui.widgets.ladder import PriceLadder
    from lob.tui.widgets.watchlist import Watchlist

    app = WorkstationApp(source, symbol=symbol)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        counted: Any = app.screen.query_one(Watchlist)
        if symbol is not None:
            app.open_symbol(symbol)
            await pilot.pause()
            counted = app.screen.query_one(PriceLadder)
        frames0 = counted.frames
        cpu0, wall0 = time.process_time(), time.perf_counter()
        lag = await _replay(source, commands, rate)
        wall = time.perf_counter() - wall0
        cpu = (time.process_time() - cpu0) / wall
        frames = (counted.frames - frames0) / wall
    return cpu, lag, frames


def run(quick: bool, progress: Progress) -> BenchReport:
    """Measure the workstation's CPU share (see the module docstring)."""
    seconds = 2.0 if quick else 20.0
    runs = 1 if quick else 3
    rows: list[dict[str, Any]] = []
    metrics: dict[str, float] = {}
    for name, symbols, rate, symbol in WORKLOADS:
        key = name.replace(" ", "_")
        progress(f"tui: {name}: recording {seconds:g} s of market at {rate:,.0f} msg/s")
        securities, commands = _record(symbols, rate, seconds)
        feed_cpu: list[float] = []
        app_cpu: list[float] = []
        frames: list[float] = []
        lags: list[float] = []
        events = 0
        for i in range(runs):
            progress(f"tui: {name}: run {i + 1} of {runs}, feed only")
            source = _source(securities)
            cpu, lag = asyncio.run(_feed_only(source, commands, rate))
            feed_cpu.append(cpu)
            lags.append(lag)
            progress(f"tui: {name}: run {i + 1} of {runs}, with the app")
            source = _source(securities)
            cpu, lag, fps = asyncio.run(_with_app(source, commands, rate, symbol))
            app_cpu.append(cpu)
            frames.append(fps)
            lags.append(lag)
            if source.state.feed.messages != source.engine.seq:
                raise AssertionError("the workstation's model missed events")
            events = source.state.feed.messages
        feed = summarize(feed_cpu)
        with_app = summarize(app_cpu)
        added = summarize(a - f for a, f in zip(app_cpu, feed_cpu, strict=True))
        # Share at the widget's full refresh rate: the cost per frame drawn, times the rate
        # it is drawn at when the process is not starved of CPU by other work.
        nominal = LADDER_HZ if symbol else TABLE_HZ
        full = summarize(
            (a - f) * nominal / max(fps, 0.1)
            for a, f, fps in zip(app_cpu, feed_cpu, frames, strict=True)
        )
        label = f"{name} @ {format_count(rate)} msg/s"
        common = {"events": format_count(events), "max lag": f"{max(lags) * 1000:.0f} ms"}
        share = "cpu share of a core"
        fps = f"{summarize(frames).median:.1f} of {nominal}"
        rows.append(
            {"workload": label, "what": "feed only", share: f"{feed.median:.1%}",
             "spread": f"{feed.spread:.0%}", "frames/s": "", **common}
        )  # fmt: skip
        rows.append(
            {"workload": label, "what": "with app", share: f"{with_app.median:.1%}",
             "spread": f"{with_app.spread:.0%}", "frames/s": fps,
             **common}
        )  # fmt: skip
        rows.append(
            {"workload": label, "what": "TUI's share", share: f"{added.median:.1%}",
             "spread": "", "frames/s": "", "events": "", "max lag": ""}
        )  # fmt: skip
        rows.append(
            {"workload": label, "what": f"TUI at {nominal} frames/s", share: f"{full.median:.1%}",
             "spread": f"{full.spread:.0%}", "frames/s": "", "events": "", "max lag": ""}
        )  # fmt: skip
        metrics[f"{key}.feed_cpu_share"] = feed.median
        metrics[f"{key}.app_cpu_share"] = with_app.median
        metrics[f"{key}.tui_cpu_share"] = added.median
        metrics[f"{key}.tui_cpu_share_at_full_rate"] = full.median
        metrics[f"{key}.frames_per_s"] = summarize(frames).median
        metrics[f"{key}.max_lag_s"] = max(lags)
    notes = [
        f"{seconds:g} s of recorded simulator flow (seed {SEED}) replayed on the wall clock at the "
        f"workload's rate; median of {runs} runs; one process.",
        "cpu share = process CPU seconds / wall seconds while the replay runs; TUI's share = "
        "with app - feed only (the market's own cost is paid either way).",
        "with app: WorkstationApp headless at 160 x 48 on the market overview (watchlist of every "
        "symbol) or the symbol screen (ladder, chart, tape, statistics); frames/s counts watchlist "
        "rebuilds (at most 4/s) or ladder redraws (at most 20/s). events = every engine event, "
        "all applied to the model.",
        "TUI at N frames/s = TUI's share x N / frames/s measured: the cost at the full refresh "
        "rate even when other work on the machine slowed the frames down.",
    ]
    return BenchReport(
        name="tui",
        title="Workstation CPU cost on a live market (embedded, headless)",
        columns=COLUMNS,
        rows=rows,
        machine=describe_machine(),
        quick=quick,
        metrics=metrics,
        notes=notes,
    )
