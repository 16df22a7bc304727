"""Wall-clock drivers: the simulator's clock follows the (given) wall clock."""

from __future__ import annotations

import asyncio

import pytest

from lob.sim.realtime import WallClockPacer, run_realtime
from lob.sim.simulator import MarketSimulator


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pacer_runs_exactly_the_actions_due_by_the_wall_clock() -> None:
    clock = FakeClock()
    sim = MarketSimulator(seed=1, symbols="AAPL", rate=1_000)
    pacer = WallClockPacer(sim, speed=2.0, clock=clock)
    assert pacer.tick() == 0
    clock.now += 0.25
    sent = pacer.tick()
    assert sent > 0
    assert sim.now == pytest.approx(0.5)  # two simulated seconds per wall second
    twin = MarketSimulator(seed=1, symbols="AAPL", rate=1_000)
    assert twin.run_until(0.5) == sent  # pacing changes when, never what


def test_pacer_limit_stops_the_simulated_clock() -> None:
    clock = FakeClock()
    sim = MarketSimulator(seed=2, symbols="AAPL", rate=500)
    pacer = WallClockPacer(sim, clock=clock)
    clock.now += 10.0
    pacer.tick(limit=1.5)
    assert sim.now == pytest.approx(1.5)


def test_pacer_rejects_non_positive_speed() -> None:
    with pytest.raises(ValueError):
        WallClockPacer(MarketSimulator(seed=1, symbols="AAPL", rate=100), speed=0)


def test_run_realtime_runs_for_the_duration_and_reports() -> None:
    sim = MarketSimulator(seed=3, symbols="AAPL", rate=2_000)
    ticks: list[int] = []
    summary = asyncio.run(run_realtime(sim, 0.2, speed=5.0, interval=0.01, on_tick=ticks.append))
    assert sim.now == pytest.approx(1.0)  # 0.2 wall seconds at five times life
    assert summary.messages == sum(ticks) > 0
    assert len(ticks) >= 2  # at least one tick before the end and the last one
