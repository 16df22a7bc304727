"""The order book benchmark's command streams are what the benchmark says they are."""

from __future__ import annotations

from collections import Counter

from lob.bench.book_workloads import (
    ORDERS_PER_LEVEL,
    SWEEP_DEPTH,
    add_cancel_workload,
    mix_workload,
    resting_orders,
    sweep_rounds,
)
from lob.engine import CancelOrder, MatchingEngine, NewOrder, ReplaceOrder, TimeInForce


def _run(commands) -> Counter[str]:
    engine = MatchingEngine()
    seen: Counter[str] = Counter()
    for command in commands:
        for event in engine.submit(command, 0):
            seen[event.TYPE] += 1
    engine.check_integrity()
    return seen


def test_mix_workload_is_mostly_replaces_and_never_rejected() -> None:
    workload = mix_workload(5_000, live_target=300)
    assert workload.live_after_prefill == 300
    kinds = Counter(type(c).__name__ for c in workload.stream)
    assert 0.70 <= kinds["ReplaceOrder"] / 5_000 <= 0.90
    assert 0.03 <= kinds["CancelOrder"] / 5_000 <= 0.09
    iocs = sum(1 for c in workload.stream if type(c) is NewOrder and c.tif is TimeInForce.IOC)
    assert 0.01 <= iocs / 5_000 <= 0.05
    seen = _run(workload.prefill + workload.stream)
    assert seen["rejected"] == 0
    assert seen["trade"] > 0


def test_mix_workload_is_the_same_for_the_same_seed() -> None:
    assert mix_workload(500, 50).stream == mix_workload(500, 50).stream
    assert mix_workload(500, 50).stream != mix_workload(500, 50, seed=9).stream


def test_mix_workload_keeps_the_live_orders_near_the_target() -> None:
    workload = mix_workload(4_000, live_target=400, symbols=("AAPL", "MSFT"))
    engine = MatchingEngine()
    for command in workload.prefill + workload.stream:
        engine.submit(command, 0)
    live = sum(engine.book(s).order_count() for s in engine.symbols)
    assert 0.9 * 800 <= live <= 1.1 * 800


def test_add_cancel_workload_cancels_most_orders() -> None:
    workload = add_cancel_workload(4_000, live_target=200)
    cancels = sum(type(c) is CancelOrder for c in workload.stream)
    adds = sum(type(c) is NewOrder and c.tif is TimeInForce.GTC for c in workload.stream)
    assert not any(type(c) is ReplaceOrder for c in workload.stream)
    assert cancels > 0.8 * adds
    assert _run(workload.prefill + workload.stream)["rejected"] == 0


def test_every_sweep_takes_exactly_its_levels() -> None:
    initial, rounds = sweep_rounds(6)
    engine = MatchingEngine()
    for command in initial:
        engine.submit(command, 0)
    for refill, sweep in rounds:
        for command in refill:
            engine.submit(command, 0)
        events = engine.submit(sweep, 0)
        assert sum(e.TYPE == "trade" for e in events) == SWEEP_DEPTH * ORDERS_PER_LEVEL
        assert events[-1].TYPE == "trade"
    engine.check_integrity()


def test_resting_orders_never_trade() -> None:
    orders = resting_orders(4_000, ["A", "B", "C"])
    seen = _run(orders)
    assert seen == Counter({"accepted": 4_000, "added": 4_000})
