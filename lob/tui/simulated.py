"""The market ``lob tui`` opens on: the embedded exchange fed by the realtime simulator.

``SimulatorDriver`` paces a ``MarketSimulator`` that shares the embedded
source's engine to the wall clock (``lob.sim.realtime.WallClockPacer``): every
``interval`` seconds it runs the agent actions due by now, and the simulator's
event callback folds each command's events into the workstation's model.
The user's own orders go to the same engine on the same event loop, and their
events are shown to the simulator (``observe``) so its agents know when the
user traded with them. The source's clock is the simulator's, so the user's
orders are stamped on the same timeline as everyone else's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from lob.sim.realtime import WallClockPacer
from lob.sim.simulator import MarketSimulator
from lob.sim.universe import Security
from lob.tui.embedded import EmbeddedSource
from lob.tui.source import SymbolInfo

__all__ = ["DEFAULT_RATE", "SimulatorDriver", "simulated_source"]

DEFAULT_RATE = 2_000.0
"""Messages per second across all symbols: a busy but readable market."""


class SimulatorDriver:
    """Runs the simulator in step with the wall clock (see the module docstring)."""

    def __init__(self, sim: MarketSimulator, speed: float = 1.0, interval: float = 0.02) -> None:
        self.sim = sim
        self.speed = speed
        self.interval = interval
        self.messages = 0

    async def run(self, source: EmbeddedSource) -> None:
        pacer = WallClockPacer(self.sim, self.speed)
        while True:
            self.messages += pacer.tick()
            await asyncio.sleep(self.interval)


def simulated_source(
    securities: Sequence[Security],
    *,
    seed: int = 0,
    rate: float = DEFAULT_RATE,
    speed: float = 1.0,
    account: str = "me",
    start_ns: int | None = None,
) -> EmbeddedSource:
    """An embedded exchange with the realtime simulator trading ``securities``."""
    source = EmbeddedSource(
        [SymbolInfo(s.symbol, s.name, s.reference_price) for s in securities],
        account=account,
        description=f"embedded, sim {rate:,.0f} msg/s",
    )
    sim = MarketSimulator(
        seed,
        list(securities),
        rate,
        engine=source.engine,
        start_ns=start_ns if start_ns is not None else time.time_ns(),
        on_events=lambda command, events: source.apply(events),
    )
    source.clock = lambda: sim.now_ns
    source.observers.append(sim.observe)
    source.driver = SimulatorDriver(sim, speed)
    return source
