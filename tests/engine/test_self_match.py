"""Self-match prevention: an account never trades with itself, in each of the three modes."""

from __future__ import annotations

from lob.engine import Cancelled, CancelReason, Side
from tests.engine.support import Venue, assert_trades, of_type, types


def _book_with_own_order_second() -> Venue:
    v = Venue()
    v.sell("X", "x1", 50, "10.00")
    v.sell("A", "a1", 100, "10.00")
    v.sell("Y", "y1", 100, "10.01")
    return v


def test_self_match_cancel_newest_fills_up_to_own_order_then_cancels_incoming_remainder() -> None:
    v = _book_with_own_order_second()
    events = v.buy("A", "a2", 200, "10.01", smp="cancel_newest")
    assert_trades(events, [("10.00", 50, "A/a2", "X/x1")])
    cancelled = of_type(events, Cancelled)
    assert [(c.id, c.qty, c.reason, c.resting) for c in cancelled] == [
        ("a2", 150, CancelReason.SELF_MATCH, False)
    ]
    assert v.queue(Side.SELL) == [("10.00", "A/a1", 100), ("10.01", "Y/y1", 100)]
    assert v.bids() == []


def test_self_match_default_mode_is_cancel_newest() -> None:
    v = _book_with_own_order_second()
    events = v.buy("A", "a2", 200, "10.01")
    assert of_type(events, Cancelled)[0].reason is CancelReason.SELF_MATCH
    assert v.queue(Side.SELL)[0] == ("10.00", "A/a1", 100)


def test_self_match_cancel_oldest_cancels_resting_own_order_and_keeps_matching() -> None:
    v = _book_with_own_order_second()
    events = v.buy("A", "a2", 200, "10.01", smp="cancel_oldest")
    assert types(events) == ["accepted", "trade", "cancelled", "trade", "added"]
    assert_trades(events, [("10.00", 50, "A/a2", "X/x1"), ("10.01", 100, "A/a2", "Y/y1")])
    own = of_type(events, Cancelled)[0]
    assert (own.id, own.qty, own.reason, own.resting) == ("a1", 100, CancelReason.SELF_MATCH, True)
    assert (own.level_qty, own.level_orders) == (0, 0)
    assert v.asks() == [] and v.queue(Side.BUY) == [("10.01", "A/a2", 50)]


def test_self_match_cancel_both_cancels_resting_and_incoming() -> None:
    v = _book_with_own_order_second()
    events = v.buy("A", "a2", 200, "10.01", smp="cancel_both")
    assert_trades(events, [("10.00", 50, "A/a2", "X/x1")])
    cancelled = of_type(events, Cancelled)
    assert [(c.id, c.qty, c.reason, c.resting) for c in cancelled] == [
        ("a1", 100, CancelReason.SELF_MATCH, True),
        ("a2", 150, CancelReason.SELF_MATCH, False),
    ]
    assert v.queue(Side.SELL) == [("10.01", "Y/y1", 100)]
    assert v.bids() == []


def test_self_match_only_applies_to_orders_the_incoming_order_would_reach() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.02")
    v.sell("X", "x1", 100, "10.00")
    events = v.buy("A", "a2", 100, "10.01")
    assert_trades(events, [("10.00", 100, "A/a2", "X/x1")])
    assert v.asks() == [("10.02", 100, 1)]


def test_self_match_never_rests_a_crossed_book_with_cancel_oldest() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.00")
    v.sell("A", "a2", 100, "10.00")
    events = v.buy("A", "a3", 150, "10.00", smp="cancel_oldest")
    assert [c.id for c in of_type(events, Cancelled)] == ["a1", "a2"]
    assert v.asks() == [] and v.bids() == [("10.00", 150, 1)]


def test_self_match_is_per_account_not_per_client_id() -> None:
    v = Venue()
    v.sell("A", "same", 100, "10.00")
    assert_trades(v.buy("B", "same", 100, "10.00"), [("10.00", 100, "B/same", "A/same")])
