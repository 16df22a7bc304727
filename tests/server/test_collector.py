"""The garbage-collection policy of a serving exchange (lob.server.collector)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

from lob.server.collector import YOUNG, CollectorPolicy
from lob.server.http import HttpRequest
from tests.server.support import run, running


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    """A reference cycle nobody holds: only the collector can free it."""
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_collector_freezes_while_trading_and_restores_everything_on_stop() -> None:
    before = gc.get_threshold()

    async def body() -> None:
        policy = CollectorPolicy(lambda: 0, quiet=60, every=0.02)
        policy.start()
        try:
            assert gc.get_threshold()[0] == YOUNG
            assert gc.get_freeze_count() > 0  # start-up state is out of reach
            await asyncio.sleep(0.1)
        finally:
            await policy.stop()

    asyncio.run(body())
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_collector_runs_in_full_once_per_quiet_spell_and_frees_cycles() -> None:
    async def body() -> None:
        inputs = [0]
        policy = CollectorPolicy(lambda: inputs[0], quiet=0.1, every=0.02)
        policy.start()
        try:
            inputs[0] += 1  # trading
            dead = _cycle()
            await asyncio.sleep(0.05)
            gc.freeze()  # as the policy's own freezes would: the cycle is out of reach now
            gc.collect()
            assert dead() is not None
            await asyncio.sleep(0.4)  # quiet: one full collection, not one per tick
            assert policy.full_collections == 1
            assert dead() is None
            inputs[0] += 1  # trading again, then quiet again
            await asyncio.sleep(0.4)
            assert policy.full_collections == 2
        finally:
            await policy.stop()

    asyncio.run(body())


def test_metrics_report_the_collector_and_a_tuned_server_restores_it(tmp_path: Path) -> None:
    before = gc.get_threshold()

    async def body() -> None:
        async with running(tmp_path, gc_tuning=True) as server:
            assert server.collector is not None
            assert gc.get_threshold()[0] == YOUNG
            assert server.rest is not None
            request = HttpRequest("GET", "/metrics", {}, {}, b"", [])
            response = await server.rest.metrics(request)
            text = response.body.decode()
            frozen = next(
                line for line in text.splitlines() if line.startswith("lob_gc_frozen_objects ")
            )
            assert int(frozen.split()[1]) > 0
            assert "lob_gc_gen2_collections_total" in text

    run(body)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
