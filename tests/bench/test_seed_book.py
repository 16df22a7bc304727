"""The seed design is a fair, working engine: lob's rules, lob's trades."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lob.bench.book_workloads import add_cancel_workload, mix_workload, sweep_rounds, to_seed
from lob.bench.seed_book import (
    SeedCancel,
    SeedEngine,
    SeedNew,
    SeedReplace,
    SeedTrade,
)
from lob.engine import MatchingEngine, Side
from lob.engine.prices import format_price


def sell(engine: SeedEngine, account: str, cid: str, qty: int, price: str, tif: str = "day"):
    return engine.submit(SeedNew(account, cid, "AAPL", "sell", qty, Decimal(price), tif=tif), 1)


def buy(engine: SeedEngine, account: str, cid: str, qty: int, price: str | None, **kw):
    p = None if price is None else Decimal(price)
    return engine.submit(SeedNew(account, cid, "AAPL", "buy", qty, p, **kw), 2)


def trades(events) -> list[tuple[str, int, str, str]]:
    return [
        (str(e.price), e.qty, e.buy_client_id, e.sell_client_id)
        for e in events
        if isinstance(e, SeedTrade)
    ]


def types(events) -> list[str]:
    return [e.type for e in events]


def test_seed_fills_the_oldest_order_first_at_the_resting_price() -> None:
    engine = SeedEngine()
    sell(engine, "A", "a1", 100, "10.05")
    sell(engine, "B", "b1", 100, "10.05")
    sell(engine, "C", "c1", 100, "10.01")
    events = buy(engine, "D", "d1", 250, "10.10")
    assert trades(events) == [
        ("10.01", 100, "d1", "c1"),
        ("10.05", 100, "d1", "a1"),
        ("10.05", 50, "d1", "b1"),
    ]
    assert engine.book("AAPL").levels("sell") == [(Decimal("10.05"), 50, 1)]


def test_seed_ioc_remainder_is_cancelled_and_never_rests() -> None:
    engine = SeedEngine()
    sell(engine, "A", "a1", 100, "10.00")
    events = buy(engine, "B", "b1", 300, "10.00", tif="ioc")
    assert types(events) == ["accepted", "trade", "cancelled"]
    assert events[-1].qty == 200 and events[-1].reason == "ioc"
    assert engine.book("AAPL").levels("buy") == []


def test_seed_fok_without_enough_liquidity_trades_nothing() -> None:
    engine = SeedEngine()
    sell(engine, "A", "a1", 100, "10.00")
    events = buy(engine, "B", "b1", 150, "10.00", tif="fok")
    assert types(events) == ["accepted", "cancelled"]
    assert events[-1].reason == "fok"
    assert engine.book("AAPL").levels("sell") == [(Decimal("10.00"), 100, 1)]
    assert types(buy(engine, "B", "b2", 100, "10.00", tif="fok")) == ["accepted", "trade"]


def test_seed_market_order_sweeps_levels_and_cancels_the_rest() -> None:
    engine = SeedEngine()
    sell(engine, "A", "a1", 100, "10.00")
    sell(engine, "A", "a2", 100, "10.50")
    events = buy(engine, "B", "b1", 500, None, order_type="market")
    assert trades(events) == [("10.00", 100, "b1", "a1"), ("10.50", 100, "b1", "a2")]
    assert events[-1].reason == "market" and events[-1].qty == 300
    assert engine.book("AAPL").levels("buy") == []


def test_seed_cancel_removes_the_order_and_unknown_ids_are_rejected() -> None:
    engine = SeedEngine()
    sell(engine, "A", "a1", 100, "10.00")
    assert types(engine.submit(SeedCancel("A", "a1"), 3)) == ["cancelled"]
    assert engine.book("AAPL").levels("sell") == []
    rejected = engine.submit(SeedCancel("A", "a1"), 4)
    assert types(rejected) == ["rejected"] and rejected[0].reason == "unknown_order"


def test_seed_replace_down_keeps_priority_and_up_loses_it() -> None:
    engine = SeedEngine()
    sell(engine, "A", "a1", 100, "10.00")
    sell(engine, "B", "b1", 100, "10.00")
    kept = engine.submit(SeedReplace("A", "a1", qty=50), 3)
    assert kept[0].kept_priority
    assert trades(buy(engine, "C", "c1", 50, "10.00")) == [("10.00", 50, "c1", "a1")]
    sell(engine, "A", "a2", 100, "10.00")
    lost = engine.submit(SeedReplace("B", "b1", qty=200), 4)
    assert not lost[0].kept_priority and lost[0].order_id != lost[0].old_order_id
    assert trades(buy(engine, "C", "c2", 150, "10.00")) == [
        ("10.00", 100, "c2", "a2"),
        ("10.00", 50, "c2", "b1"),
    ]


def test_seed_replace_to_a_crossing_price_trades_as_incoming() -> None:
    engine = SeedEngine()
    sell(engine, "A", "a1", 100, "10.05")
    buy(engine, "B", "b1", 100, "10.00")
    events = engine.submit(SeedReplace("B", "b1", price=Decimal("10.05")), 3)
    assert types(events) == ["replaced", "trade"]
    assert trades(events) == [("10.05", 100, "b1", "a1")]


def test_seed_self_match_cancels_the_incoming_remainder() -> None:
    engine = SeedEngine()
    sell(engine, "B", "b0", 50, "10.00")
    sell(engine, "A", "a1", 100, "10.00")
    events = buy(engine, "A", "a2", 100, "10.00")
    assert trades(events) == [("10.00", 50, "a2", "b0")]
    assert events[-1].reason == "self_match" and events[-1].qty == 50
    assert engine.book("AAPL").levels("sell") == [(Decimal("10.00"), 100, 1)]


@pytest.mark.parametrize(
    ("price", "qty", "reason"),
    [("10.005", 100, "invalid_price"), ("10.00", 0, "invalid_quantity")],
)
def test_seed_rejects_off_tick_prices_and_empty_quantities(price, qty, reason) -> None:
    engine = SeedEngine()
    events = sell(engine, "A", "a1", qty, price)
    assert types(events) == ["rejected"] and events[0].reason == reason


def test_seed_rejects_a_live_duplicate_client_id() -> None:
    engine = SeedEngine()
    sell(engine, "A", "a1", 100, "10.00")
    assert sell(engine, "A", "a1", 100, "10.01")[0].reason == "duplicate_id"


def _same_outcome(prefill, stream) -> None:
    lob, seed = MatchingEngine(), SeedEngine()
    lob_trades, seed_trades = [], []
    for command in prefill + stream:
        for event in lob.submit(command, 0):
            if event.TYPE == "trade":
                row = (format_price(event.price), event.qty, event.buy_id, event.sell_id)
                lob_trades.append(row)
            assert event.TYPE != "rejected", event
    for command in to_seed(prefill + stream):
        for event in seed.submit(command, 0):
            if isinstance(event, SeedTrade):
                seed_trades.append(
                    (
                        format_price(int(event.price * 10_000)),
                        event.qty,
                        event.buy_client_id,
                        event.sell_client_id,
                    )
                )
            assert event.type != "rejected", event
    assert lob_trades == seed_trades
    for symbol in lob.symbols:
        snapshot = lob.l2_snapshot(symbol)
        book = seed.book(symbol)
        for lob_levels, side in ((snapshot.bids, "buy"), (snapshot.asks, "sell")):
            assert [(lv.price, lv.qty, lv.orders) for lv in lob_levels] == [
                (int(p * 10_000), q, n) for p, q, n in book.levels(side)
            ]


def test_seed_and_lob_agree_on_the_benchmark_mix() -> None:
    workload = mix_workload(3_000, live_target=200, symbols=("AAPL", "MSFT"))
    _same_outcome(workload.prefill, workload.stream)


def test_seed_and_lob_agree_on_add_cancel() -> None:
    workload = add_cancel_workload(2_000, live_target=200)
    _same_outcome(workload.prefill, workload.stream)


def test_seed_and_lob_agree_on_market_sweeps() -> None:
    initial, rounds = sweep_rounds(6)
    stream = [c for refill, sweep in rounds for c in [*refill, sweep]]
    _same_outcome(initial, stream)


def test_seed_submit_refuses_what_is_not_a_command() -> None:
    with pytest.raises(TypeError):
        SeedEngine().submit(Side.BUY, 0)  # type: ignore[arg-type]
