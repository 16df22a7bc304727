"""Replace: when an order keeps its place, when it loses it, and what a bad replace does."""

from __future__ import annotations

import pytest

from lob.engine import Added, Priority, Replaced, Side, Trade
from tests.engine.support import Venue, assert_rejected, assert_trades, of_type, px, types


def _three_bids() -> Venue:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.buy("B", "b1", 100, "10.00")
    v.buy("C", "c1", 100, "10.00")
    return v


def test_replace_reduce_at_same_price_keeps_priority_and_oid() -> None:
    v = _three_bids()
    oid = v.engine.order("A", "a1").oid
    events = v.replace("A", "a1", qty=40)
    assert types(events) == ["replaced"]
    r = of_type(events, Replaced)[0]
    assert r.priority is Priority.KEPT and r.oid == r.old_oid == oid
    assert (r.old_qty, r.qty, r.old_price, r.price) == (100, 40, px("10.00"), px("10.00"))
    assert (r.level_qty, r.level_orders) == (240, 3)
    assert v.queue(Side.BUY)[0] == ("10.00", "A/a1", 40)
    assert_trades(v.sell("S", "s1", 40, "10.00"), [("10.00", 40, "A/a1", "S/s1")])


def test_replace_same_qty_same_price_keeps_priority() -> None:
    v = _three_bids()
    events = v.replace("A", "a1", price="10.00", qty=100)
    assert of_type(events, Replaced)[0].priority is Priority.KEPT
    assert [q[1] for q in v.queue(Side.BUY)] == ["A/a1", "B/b1", "C/c1"]


def test_replace_qty_increase_loses_priority_and_gets_a_new_oid() -> None:
    v = _three_bids()
    old = v.engine.order("A", "a1").oid
    events = v.replace("A", "a1", qty=150)
    assert types(events) == ["replaced", "added"]
    r = of_type(events, Replaced)[0]
    assert r.priority is Priority.LOST and r.old_oid == old and r.oid > old
    assert (r.old_level_qty, r.old_level_orders) == (200, 2)
    added = of_type(events, Added)[0]
    assert (added.oid, added.id, added.qty, added.level_qty, added.level_orders) == (
        r.oid,
        "a1",
        150,
        350,
        3,
    )
    assert [q[1] for q in v.queue(Side.BUY)] == ["B/b1", "C/c1", "A/a1"]
    assert v.engine.order("A", "a1").oid == r.oid


def test_replace_price_change_loses_priority_even_when_qty_is_reduced() -> None:
    v = _three_bids()
    v.buy("D", "d1", 100, "9.99")
    events = v.replace("A", "a1", price="9.99", qty=50)
    assert of_type(events, Replaced)[0].priority is Priority.LOST
    assert v.queue(Side.BUY)[-2:] == [("9.99", "D/d1", 100), ("9.99", "A/a1", 50)]


@pytest.mark.parametrize(
    ("leaves", "to"),
    [
        pytest.param("a shared level", "9.99", id="shared-to-existing"),
        pytest.param("a shared level", "9.97", id="shared-to-new"),
        pytest.param("its own level", "9.99", id="alone-to-existing"),
        pytest.param("its own level", "9.97", id="alone-to-new"),
    ],
)
def test_replace_that_moves_links_the_order_at_the_back_of_its_new_level(
    leaves: str, to: str
) -> None:
    v = Venue()
    v.buy("D", "d1", 100, "9.99")
    v.buy("E", "e1", 100, "9.99")
    v.buy("A", "a1", 100, "9.98")
    if leaves == "a shared level":
        v.buy("B", "b1", 100, "9.98")
        v.buy("C", "c1", 100, "9.98")
    events = v.replace("A", "a1", price=to, qty=70)  # Venue checks the book's integrity
    r = of_type(events, Replaced)[0]
    expected_old = (200, 2) if leaves == "a shared level" else (0, 0)
    assert (r.old_level_qty, r.old_level_orders) == expected_old
    added = of_type(events, Added)[0]
    expected_new = (270, 3) if to == "9.99" else (70, 1)
    assert (added.level_qty, added.level_orders) == expected_new
    assert [q for q in v.queue(Side.BUY) if q[0] == to][-1] == (to, "A/a1", 70)
    # Linked where it now stands: the book still trades around it, and it cancels cleanly.
    v.sell("S", "s1", 100, "9.97")
    v.cancel("A", "a1")
    assert "A/a1" not in [q[1] for q in v.queue(Side.BUY)]
    assert v.engine.order("A", "a1") is None


def test_replace_price_through_the_book_executes_at_once_under_the_same_client_id() -> None:
    v = Venue()
    v.sell("S", "s1", 60, "10.01")
    v.buy("A", "a1", 100, "10.00")
    events = v.replace("A", "a1", price="10.01")
    assert types(events) == ["replaced", "trade", "added"]
    r = of_type(events, Replaced)[0]
    trade = of_type(events, Trade)[0]
    assert (trade.buy_id, trade.buy_oid, trade.price, trade.qty) == ("a1", r.oid, px("10.01"), 60)
    assert v.queue(Side.BUY) == [("10.01", "A/a1", 40)]
    assert v.asks() == []


def test_replace_that_fills_in_full_leaves_no_live_order() -> None:
    v = Venue()
    v.sell("S", "s1", 100, "10.01")
    v.buy("A", "a1", 100, "10.00")
    assert types(v.replace("A", "a1", price="10.01")) == ["replaced", "trade"]
    assert v.engine.order("A", "a1") is None
    assert_rejected(v.cancel("A", "a1"), "unknown_order")


def test_replace_keeps_time_in_force() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00", tif="gtc")
    v.replace("A", "a1", price="10.02")
    assert v.expire() == []
    assert v.engine.order("A", "a1").tif == "gtc"


@pytest.mark.parametrize(
    ("price", "qty", "code"),
    [
        (None, 0, "invalid_quantity"),
        (None, -1, "invalid_quantity"),
        (None, 2_000_000_000, "invalid_quantity"),
        (100_050, None, "invalid_price"),  # off tick
        (0, None, "invalid_price"),
        (-100_000, None, "invalid_price"),
        (None, None, "missing_field"),
        (100_100, 0, "invalid_quantity"),
    ],
)
def test_replace_with_invalid_price_or_qty_rejected_and_order_unchanged(
    price: int | None, qty: int | None, code: str
) -> None:
    v = _three_bids()
    before = v.engine.state_hash(include_owners=True)
    rejected = assert_rejected(v.replace("A", "a1", price=price, qty=qty), code)
    assert rejected.op == "replace"
    assert v.engine.state_hash(include_owners=True) == before


def test_replace_of_a_post_only_order_to_a_marketable_price_rejected() -> None:
    v = Venue()
    v.sell("S", "s1", 100, "10.02")
    v.buy("A", "a1", 100, "10.00", post_only=True)
    assert_rejected(v.replace("A", "a1", price="10.02"), "post_only_would_take")
    assert v.queue(Side.BUY) == [("10.00", "A/a1", 100)]


def test_replace_by_another_account_is_unknown_order() -> None:
    v = _three_bids()
    before = v.engine.state_hash(include_owners=True)
    assert_rejected(v.replace("B", "a1", qty=10), "unknown_order")
    assert v.engine.state_hash(include_owners=True) == before


def test_replace_re_entry_applies_the_orders_self_match_mode() -> None:
    v = Venue()
    v.sell("A", "a2", 100, "10.01")
    v.buy("A", "a1", 100, "10.00", smp="cancel_oldest")
    events = v.replace("A", "a1", price="10.01")
    assert types(events) == ["replaced", "cancelled", "added"]
    assert v.asks() == [] and v.queue(Side.BUY) == [("10.01", "A/a1", 100)]
