"""Post-only, cancel, and every rejection of the engine API: a code, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from lob.engine import (
    MAX_QTY,
    Cancelled,
    CancelReason,
    MatchingEngine,
    OrderType,
    SelfMatchMode,
    Side,
    TimeInForce,
)
from tests.engine.support import Venue, assert_rejected, of_type, px, types


def test_post_only_buy_rejected_when_it_would_take_the_best_ask() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.01")
    assert_rejected(v.buy("B", "b1", 100, "10.01", post_only=True), "post_only_would_take")
    assert_rejected(v.buy("B", "b1", 100, "10.05", post_only=True), "post_only_would_take")
    assert v.bids() == [] and v.asks() == [("10.01", 100, 1)]


def test_post_only_sell_rejected_when_it_would_take_the_best_bid() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    assert_rejected(v.sell("B", "b1", 100, "10.00", post_only=True), "post_only_would_take")
    assert v.asks() == [] and v.bids() == [("10.00", 100, 1)]


def test_post_only_rejected_even_against_own_resting_order() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.01")
    assert_rejected(v.buy("A", "a2", 100, "10.01", post_only=True), "post_only_would_take")


def test_post_only_not_marketable_rests() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.01")
    assert types(v.buy("B", "b1", 100, "10.00", post_only=True)) == ["accepted", "added"]
    assert types(v.sell("C", "c1", 100, "10.02", post_only=True, tif="gtc")) == [
        "accepted",
        "added",
    ]


@pytest.mark.parametrize("tif", ["ioc", "fok"])
def test_post_only_with_ioc_or_fok_rejected_invalid_field(tif: str) -> None:
    v = Venue()
    assert_rejected(v.buy("B", "b1", 100, "10.00", post_only=True, tif=tif), "invalid_field")


def test_cancel_removes_the_order_and_reports_the_level_after() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.buy("B", "b1", 40, "10.00")
    events = v.cancel("A", "a1")
    assert types(events) == ["cancelled"]
    c = of_type(events, Cancelled)[0]
    assert (c.account, c.id, c.qty, c.reason, c.resting) == (
        "A",
        "a1",
        100,
        CancelReason.USER,
        True,
    )
    assert (c.price, c.level_qty, c.level_orders) == (px("10.00"), 40, 1)
    assert v.bids() == [("10.00", 40, 1)]
    assert v.engine.order("A", "a1") is None


def test_cancel_by_another_account_is_unknown_order_and_changes_nothing() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    before = v.engine.state_hash(include_owners=True)
    assert_rejected(v.cancel("B", "a1"), "unknown_order")
    assert v.engine.state_hash(include_owners=True) == before
    assert v.engine.order("A", "a1") is not None


def test_cancel_twice_second_is_unknown_order() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.cancel("A", "a1")
    assert_rejected(v.cancel("A", "a1"), "unknown_order")


def test_cancel_of_filled_order_is_unknown_order() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.sell("B", "b1", 100, "10.00")
    assert_rejected(v.cancel("A", "a1"), "unknown_order")


def test_client_id_reusable_once_the_order_is_gone() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.cancel("A", "a1")
    assert types(v.buy("A", "a1", 100, "10.00")) == ["accepted", "added"]


def test_client_ids_are_per_account() -> None:
    v = Venue()
    v.buy("A", "x", 100, "10.00")
    assert types(v.buy("B", "x", 100, "10.00")) == ["accepted", "added"]
    v.cancel("A", "x")
    assert v.queue(Side.BUY) == [("10.00", "B/x", 100)]


def test_duplicate_live_client_id_rejected() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    assert_rejected(v.sell("A", "a1", 100, "11.00", symbol="OTHER"), "duplicate_id")


# -- every rejection code the engine API produces ------------------------------

GOOD: dict[str, Any] = {
    "account": "A",
    "id": "a1",
    "symbol": "XYZ",
    "side": Side.BUY,
    "qty": 100,
    "price": px("10.00"),
    "order_type": OrderType.LIMIT,
    "tif": TimeInForce.DAY,
    "post_only": False,
    "smp": SelfMatchMode.CANCEL_NEWEST,
}

BAD_NEW_ORDERS = [
    ({"account": ""}, "invalid_account"),
    ({"account": 7}, "invalid_account"),
    ({"id": ""}, "invalid_id"),
    ({"id": "x" * 65}, "invalid_id"),
    ({"symbol": "xyz"}, "invalid_symbol"),
    ({"symbol": "ABCDEFGHI"}, "invalid_symbol"),
    ({"symbol": ""}, "invalid_symbol"),
    ({"symbol": "AB1"}, "invalid_symbol"),
    ({"side": "hold"}, "invalid_side"),
    ({"order_type": "stop"}, "invalid_type"),
    ({"tif": "gfd"}, "invalid_tif"),
    ({"smp": "none"}, "invalid_field"),
    ({"qty": 0}, "invalid_quantity"),
    ({"qty": -5}, "invalid_quantity"),
    ({"qty": MAX_QTY + 1}, "invalid_quantity"),
    ({"qty": 1.5}, "invalid_quantity"),
    ({"qty": True}, "invalid_quantity"),
    ({"post_only": "yes"}, "invalid_field"),
    ({"price": None}, "invalid_price"),
    ({"price": 0}, "invalid_price"),
    ({"price": -100}, "invalid_price"),
    ({"price": 100_050}, "invalid_price"),  # $10.005: off the $0.01 tick
    ({"price": 10_001}, "invalid_price"),  # $1.0001: off the $0.01 tick
    ({"price": 100_000.0}, "invalid_price"),
    ({"order_type": OrderType.MARKET}, "invalid_field"),  # a market order with a price
    ({"order_type": OrderType.MARKET, "price": None, "post_only": True}, "invalid_field"),
    ({"post_only": True, "tif": TimeInForce.IOC}, "invalid_field"),
]


@pytest.mark.parametrize(("change", "code"), BAD_NEW_ORDERS)
def test_new_order_with_bad_field_rejected_with_code_and_changes_nothing(
    change: dict[str, Any], code: str
) -> None:
    v = Venue()
    v.sell("S", "s1", 100, "10.01")
    engine = v.engine
    before, seq, symbols = engine.state_hash(include_owners=True), engine.seq, engine.symbols
    events = engine.new_order(**{**GOOD, **change, "ts": 5})
    rejected = assert_rejected(events, code)
    assert (rejected.seq, rejected.ts, rejected.op) == (seq + 1, 5, "new")
    engine.check_integrity()
    assert engine.state_hash(include_owners=True) == before
    assert engine.symbols == symbols


def test_rejected_order_on_a_new_symbol_does_not_create_the_symbol() -> None:
    engine = MatchingEngine()
    assert_rejected(
        engine.new_order(**{**GOOD, "symbol": "NEW", "price": 100_050}), "invalid_price"
    )
    assert engine.symbols == []
    engine.new_order(**GOOD)
    assert_rejected(engine.new_order(**{**GOOD, "symbol": "NEW"}), "duplicate_id")
    assert engine.symbols == ["XYZ"]


def test_unknown_symbol_rejected_when_symbols_are_not_created_on_use() -> None:
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol("XYZ")
    assert_rejected(engine.new_order(**{**GOOD, "symbol": "ABC"}), "unknown_symbol")
    assert types(engine.new_order(**GOOD)) == ["accepted", "added"]
    assert engine.symbols == ["XYZ"]


def test_add_symbol_with_bad_name_raises() -> None:
    with pytest.raises(ValueError, match="capital letters"):
        MatchingEngine().add_symbol("xyz")


def test_submit_of_a_non_command_raises_type_error() -> None:
    with pytest.raises(TypeError):
        MatchingEngine().submit(("new", "A"), 1)  # type: ignore[arg-type]


def test_new_order_given_plain_strings_for_enums_gets_the_same_checks() -> None:
    engine = MatchingEngine()
    engine.new_order("A", "a1", "XYZ", "sell", 100, px("10.00"), 1, "limit", "day")
    off_tick = engine.new_order("B", "b1", "XYZ", "buy", 100, 100_050, 2, "limit", "day")
    assert_rejected(off_tick, "invalid_price")
    would_take = engine.new_order("B", "b2", "XYZ", "buy", 9, px("10.00"), 3, "limit", "gtc", True)
    assert_rejected(would_take, "post_only_would_take")
    events = engine.new_order("B", "b3", "XYZ", "buy", 40, px("10.00"), 4, "limit", "ioc")
    assert types(events) == ["accepted", "trade"]
    engine.check_integrity()
