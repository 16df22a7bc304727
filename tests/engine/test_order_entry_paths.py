"""A plainly valid order (enum fields; continuous trading, or a day limit order waiting for
a cross) takes the engine's short path; anything else takes the general one. Both must give
the very same events and book."""

from __future__ import annotations

from typing import Any

import pytest

from lob.engine import MatchingEngine, Side, parse_price
from lob.engine.types import OrderType, SelfMatchMode, TimeInForce


def px(text: str) -> int:
    return parse_price(text)


def engine_with_book(state: str = "continuous") -> MatchingEngine:
    """XYZ collared around $10.00: three bids queued at $9.99 (two accounts), one ask at $10.01."""
    engine = MatchingEngine()
    engine.add_symbol("XYZ", reference_price=px("10.00"))
    if state != "continuous":
        engine.set_state("XYZ", "closed", ts=0)
        engine.set_state("XYZ", "pre_open", ts=0)
        if state != "pre_open":
            engine.set_state("XYZ", state, ts=0)
    engine.new_order("M", "b1", "XYZ", Side.BUY, 100, px("9.99"), ts=1)
    engine.new_order("M", "b2", "XYZ", Side.BUY, 200, px("9.99"), ts=2)
    engine.new_order("N", "b3", "XYZ", Side.BUY, 300, px("9.99"), ts=3)
    engine.new_order("N", "a1", "XYZ", Side.SELL, 150, px("10.01"), ts=4)
    return engine


def as_strings(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The same order with plain string fields, which the short path does not take."""
    return {
        k: (v.value if isinstance(v, Side | OrderType | TimeInForce | SelfMatchMode) else v)
        for k, v in kwargs.items()
    }


ORDERS = [
    pytest.param({"side": Side.BUY, "qty": 100, "price": px("9.98")}, id="rests-at-a-new-level"),
    pytest.param({"side": Side.BUY, "qty": 50, "price": px("9.99")}, id="joins-a-level"),
    pytest.param({"side": Side.SELL, "qty": 450, "price": px("9.99")}, id="takes-a-level"),
    pytest.param({"side": Side.BUY, "qty": 400, "price": px("10.01")}, id="takes-then-rests"),
    pytest.param(
        {
            "side": Side.SELL,
            "qty": 700,
            "price": None,
            "order_type": OrderType.MARKET,
            "tif": TimeInForce.IOC,
        },
        id="market-sweeps",
    ),
    pytest.param(
        {"side": Side.BUY, "qty": 100, "price": px("10.00"), "tif": TimeInForce.IOC},
        id="ioc-finds-nothing",
    ),
    pytest.param(
        {"side": Side.SELL, "qty": 1_000, "price": px("9.99"), "tif": TimeInForce.FOK},
        id="fok-too-big",
    ),
    pytest.param(
        {
            "side": Side.BUY,
            "qty": 100,
            "price": px("9.99"),
            "tif": TimeInForce.GTC,
            "smp": SelfMatchMode.CANCEL_OLDEST,
        },
        id="gtc-cancel-oldest",
    ),
    pytest.param({"side": Side.SELL, "qty": 100, "price": px("11.00")}, id="at-the-collar"),
    pytest.param({"side": Side.SELL, "qty": 100, "price": px("11.01")}, id="past-the-collar"),
    pytest.param({"side": Side.BUY, "qty": 100, "price": px("9.995")}, id="off-tick"),
    pytest.param({"side": Side.BUY, "qty": 0, "price": px("9.99")}, id="zero-qty"),
    pytest.param(
        {"side": Side.BUY, "qty": 100, "price": px("9.99"), "account": "M", "id": "b1"},
        id="duplicate-id",
    ),
    pytest.param(
        {"side": Side.SELL, "qty": 100, "price": px("10.00"), "account": "N"},
        id="self-match",
    ),
]


@pytest.mark.parametrize("state", ["continuous", "pre_open", "opening_auction"])
@pytest.mark.parametrize("order", ORDERS)
def test_new_order_short_and_general_paths_give_identical_events_and_books(
    order: dict[str, Any], state: str
) -> None:
    kwargs = {"account": "T", "id": "t1", "symbol": "XYZ", "ts": 10, **order}
    short, general = engine_with_book(state), engine_with_book(state)
    fast_events = short.new_order(**kwargs)
    slow_events = general.new_order(**as_strings(kwargs))
    assert fast_events == slow_events
    assert short.state_hash(include_owners=True) == general.state_hash(include_owners=True)
    assert short.l2_snapshot("XYZ") == general.l2_snapshot("XYZ")
    short.check_integrity()


def test_new_order_reusing_the_id_of_an_order_waiting_for_the_close_is_a_duplicate() -> None:
    engine = engine_with_book()
    waiting = engine.new_order("T", "t1", "XYZ", Side.BUY, 100, None, ts=5, order_type="moc")
    assert [e.TYPE for e in waiting] == ["accepted"]
    events = engine.new_order("T", "t1", "XYZ", Side.BUY, 100, px("9.98"), ts=6)
    assert [e.TYPE for e in events] == ["rejected"]
    assert events[0].code == "duplicate_id"
    engine.check_integrity()


@pytest.mark.parametrize("which", ["b1", "b2", "b3"])
def test_cancel_from_the_front_middle_or_back_of_a_queue_keeps_the_rest_in_order(
    which: str,
) -> None:
    engine = engine_with_book()
    events = engine.cancel("M" if which != "b3" else "N", which, ts=5)
    assert [e.TYPE for e in events] == ["cancelled"]
    assert (events[0].level_qty, events[0].level_orders) == (600 - events[0].qty, 2)
    left = [o.id for o in engine.order_snapshot("XYZ").bids]
    assert left == [i for i in ("b1", "b2", "b3") if i != which]
    engine.check_integrity()
    # The queue still fills front to back.
    trades = engine.new_order("S", "s1", "XYZ", Side.SELL, 1_000, px("9.99"), ts=6)
    assert [e.buy_id for e in trades if e.TYPE == "trade"] == left
    engine.check_integrity()


def test_cancel_of_the_last_order_at_a_price_removes_the_level() -> None:
    engine = engine_with_book()
    events = engine.cancel("N", "a1", ts=5)
    assert (events[0].level_qty, events[0].level_orders) == (0, 0)
    assert engine.book("XYZ").best_ask is None
    engine.check_integrity()
