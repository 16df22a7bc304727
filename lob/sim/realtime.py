"""Drivers that pace a ``MarketSimulator`` to the wall clock.

The simulator itself never reads a clock; these drivers do, and tell it how
far simulated time may go. Two shapes, for two kinds of host:

- ``WallClockPacer``: call ``tick()`` from any timer (a Textual
  ``set_interval``, a loop); each call runs every agent action due by now.
- ``run_realtime``: an asyncio task that ticks every ``interval`` seconds for
  ``duration`` wall seconds (or until cancelled).

``speed`` is simulated seconds per wall second (2.0 runs twice as fast as
life). For engine timestamps that read as the real time of day, construct
the simulator with ``start_ns=time.time_ns()``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from lob.sim.simulator import MarketSimulator, SimSummary

__all__ = ["WallClockPacer", "run_realtime"]


class WallClockPacer:
    """Keeps a simulator's clock level with the wall clock, one ``tick()`` at a time."""

    def __init__(
        self,
        sim: MarketSimulator,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.sim = sim
        self.speed = speed
        self._clock = clock
        self._wall0 = clock()
        self._sim0 = sim.now

    @property
    def elapsed(self) -> float:
        """Wall seconds since the pacer started."""
        return self._clock() - self._wall0

    def tick(self, limit: float | None = None) -> int:
        """Run every action due by now (no further than ``limit`` simulated seconds
        after the start); return the number of messages sent."""
        target = self._sim0 + self.elapsed * self.speed
        if limit is not None:
            target = min(target, self._sim0 + limit)
        return self.sim.run_until(target)


async def run_realtime(
    sim: MarketSimulator,
    duration: float | None,
    *,
    speed: float = 1.0,
    interval: float = 0.02,
    on_tick: Callable[[int], None] | None = None,
) -> SimSummary:
    """Run ``sim`` in step with the wall clock for ``duration`` wall seconds.

    ``None`` runs until the task is cancelled. ``on_tick(messages)`` is called
    after each tick with the number of messages that tick sent.
    """
    pacer = WallClockPacer(sim, speed)
    limit = None if duration is None else duration * speed
    while True:
        done = duration is not None and pacer.elapsed >= duration
        sent = pacer.tick(limit)  # once done, this reaches the limit exactly
        if on_tick is not None:
            on_tick(sent)
        if done:
            return sim.summary()
        await asyncio.sleep(interval)
