"""The garbage-collection policy of a serving exchange (lob.server.collector)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

import pytest

from lob.client.rest import LobApiError, RestClient
from lob.client.ws import WsClient
from lob.server.collector import YOUNG, CollectorPolicy
from lob.server.http import HttpRequest
from tests.server.support import ALICE, BOB, run, running


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


def test_a_second_of_survivors_starts_no_young_collection_before_the_freeze() -> None:
    async def body() -> None:
        policy = CollectorPolicy(lambda: 0, quiet=60, every=0.2)
        policy.start()
        try:
            collections = gc.get_stats()[0]["collections"]
            # more than a second of trading leaves alive at lob's rates (orders in flight,
            # resting orders, views): none of it may start a young collection
            alive = [[i] for i in range(300_000)]
            assert gc.get_stats()[0]["collections"] == collections
            assert gc.get_count()[0] >= 300_000
            await asyncio.sleep(0.5)  # the policy's freezes take them out of the count
            assert gc.get_count()[0] < 300_000
            assert gc.get_freeze_count() >= len(alive)
        finally:
            await policy.stop()

    asyncio.run(body())


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


_SERVER_SIDE = ("lob.server", "lob.engine", "lob.feed", "lob.store")


async def _trade(buyer: WsClient, seller: WsClient, rest: RestClient, round: int) -> None:
    """Orders of every kind, alone and in batches, filled, replaced, cancelled and refused,
    over WebSocket and REST."""
    await seller.place("AAPL", "sell", 100, "227.50", id=f"s{round}")
    await buyer.place("AAPL", "buy", 60, "227.50", id=f"b{round}")  # a fill
    await seller.replace(f"s{round}", qty=30)
    await seller.cancel(f"s{round}")
    with pytest.raises(LobApiError):  # refused: unknown_order
        await seller.cancel("never-placed")
    await buyer.batch(
        [
            {"op": "new", "id": f"r{round}", "symbol": "AAPL", "side": "buy", "qty": 10,
             "price": "226.00"},
            {"op": "new", "symbol": "AAPL", "side": "buy", "qty": -1, "price": "226.00"},
            {"op": "replace", "id": f"r{round}", "qty": 5},
            {"op": "cancel", "id": f"r{round}"},
            {"op": "cancel", "id": "never-placed"},
        ]
    )  # fmt: skip
    await rest.place("AAPL", "sell", 10, "228.00", id=f"h{round}")
    await rest.replace(f"h{round}", qty=5)
    await rest.order(f"h{round}")
    await rest.cancel(f"h{round}")
    with pytest.raises(LobApiError):
        await rest.place("AAPL", "sell", -1, "228.00")


def test_the_order_path_makes_no_reference_cycles(tmp_path: Path) -> None:
    """What the policy rests on: an order's objects are freed by reference counting alone.

    Anything of the order path caught in a cycle would be frozen with the survivors
    while the exchange trades and kept until the next quiet spell: memory that
    grows with the load. Here the collector is off while orders of every kind go
    through a server (WebSocket with acks of both shapes, and REST) with a
    market-data subscriber; then a collection that keeps what it finds must
    find nothing of the server's.
    """

    async def body() -> None:
        async with (
            running(tmp_path, fsync="batch") as server,
            WsClient(server.url, ALICE, acks="compact") as buyer,
            WsClient(server.url, BOB) as seller,
            WsClient(server.url) as watcher,
            RestClient(server.url, BOB) as rest,
        ):
            await watcher.subscribe_book("AAPL")
            await _trade(buyer, seller, rest, 0)  # first use: caches, lazily made state
            gc.collect()
            gc.disable()
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                for round in range(1, 6):
                    await _trade(buyer, seller, rest, round)
                gc.collect()
                found = [type(o).__module__ + "." + type(o).__qualname__ for o in gc.garbage]
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
                gc.enable()
            ours = sorted({name for name in found if name.startswith(_SERVER_SIDE)})
            assert ours == []

    run(body)
