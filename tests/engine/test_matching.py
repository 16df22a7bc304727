"""Price-time priority, execution price and time in force: the matching rules as scenarios."""

from __future__ import annotations

from lob.engine import Accepted, Added, Cancelled, CancelReason, Side, Trade
from tests.engine.support import Venue, assert_trades, of_type, types


def test_priority_same_price_fills_oldest_first() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.00")
    v.sell("B", "b1", 100, "10.00")
    v.sell("C", "c1", 100, "10.00")
    events = v.buy("D", "d1", 250, "10.00")
    assert_trades(
        events,
        [
            ("10.00", 100, "D/d1", "A/a1"),
            ("10.00", 100, "D/d1", "B/b1"),
            ("10.00", 50, "D/d1", "C/c1"),
        ],
    )
    assert v.queue(Side.SELL) == [("10.00", "C/c1", 50)]


def test_priority_better_price_fills_first_even_when_younger() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.02")
    v.sell("B", "b1", 100, "10.01")
    v.buy("C", "c1", 100, "10.00")
    v.buy("D", "d1", 100, "10.01")  # trades with b1 at once
    v.buy("E", "e1", 100, "9.99")
    v.buy("F", "f1", 100, "10.00")
    assert v.asks() == [("10.02", 100, 1)]
    events = v.sell("G", "g1", 250, "9.99")
    assert_trades(
        events,
        [
            ("10.00", 100, "C/c1", "G/g1"),
            ("10.00", 100, "F/f1", "G/g1"),
            ("9.99", 50, "E/e1", "G/g1"),
        ],
    )


def test_execution_prints_at_the_resting_price_for_a_buyer() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.00")
    events = v.buy("B", "b1", 100, "10.50")
    assert_trades(events, [("10.00", 100, "B/b1", "A/a1")])
    assert of_type(events, Trade)[0].aggressor is Side.BUY


def test_execution_prints_at_the_resting_price_for_a_seller() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.50")
    events = v.sell("B", "b1", 100, "9.00")
    assert_trades(events, [("10.50", 100, "A/a1", "B/b1")])
    assert of_type(events, Trade)[0].aggressor is Side.SELL


def test_limit_sweep_stops_at_the_limit_price() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.00")
    v.sell("A", "a2", 100, "10.01")
    v.sell("A", "a3", 100, "10.02")
    events = v.buy("B", "b1", 300, "10.01")
    assert_trades(events, [("10.00", 100, "B/b1", "A/a1"), ("10.01", 100, "B/b1", "A/a2")])
    assert v.bids() == [("10.01", 100, 1)]
    assert v.asks() == [("10.02", 100, 1)]


def test_limit_day_remainder_rests_at_the_back_of_its_level() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.sell("S", "s1", 30, "10.01")
    events = v.buy("B", "b1", 80, "10.01")
    assert types(events) == ["accepted", "trade", "added"]
    added = of_type(events, Added)[0]
    assert (added.price, added.qty) == (100_100, 50)
    v.buy("C", "c1", 10, "10.01")
    assert v.queue(Side.BUY) == [
        ("10.01", "B/b1", 50),
        ("10.01", "C/c1", 10),
        ("10.00", "A/a1", 100),
    ]


def test_limit_gtc_remainder_rests_and_survives_expiry_of_day_orders() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00", tif="gtc")
    v.buy("B", "b1", 100, "10.00", tif="day")
    events = v.expire()
    assert [(e.account, e.id, e.reason) for e in events] == [("B", "b1", CancelReason.EXPIRED)]
    assert v.queue(Side.BUY) == [("10.00", "A/a1", 100)]


def test_limit_unmarketable_order_rests_without_trading() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.01")
    events = v.buy("B", "b1", 100, "10.00")
    assert types(events) == ["accepted", "added"]
    assert v.bids() == [("10.00", 100, 1)] and v.asks() == [("10.01", 100, 1)]


def test_market_order_sweeps_levels_and_remainder_cancelled_with_reason_market() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.00")
    v.sell("A", "a2", 100, "12.00")
    events = v.buy("B", "b1", 250, type="market")
    assert_trades(events, [("10.00", 100, "B/b1", "A/a1"), ("12.00", 100, "B/b1", "A/a2")])
    cancelled = of_type(events, Cancelled)
    assert len(cancelled) == 1
    left = cancelled[0]
    assert (left.qty, left.reason, left.resting, left.price) == (
        50,
        CancelReason.MARKET,
        False,
        None,
    )
    assert v.bids() == [] and v.asks() == []


def test_market_order_never_rests_even_with_day_or_gtc() -> None:
    for tif in ("day", "gtc", "ioc"):
        v = Venue()
        events = v.sell("A", "a1", 100, type="market", tif=tif)
        assert types(events) == ["accepted", "cancelled"]
        assert of_type(events, Cancelled)[0].reason is CancelReason.MARKET
        assert v.bids() == [] and v.asks() == []
        assert v.engine.order("A", "a1") is None


def test_market_order_accepted_event_has_no_price() -> None:
    v = Venue()
    accepted = of_type(v.buy("A", "a1", 10, type="market"), Accepted)[0]
    assert accepted.price is None


def test_ioc_remainder_cancelled_with_reason_ioc() -> None:
    v = Venue()
    v.sell("A", "a1", 60, "10.00")
    v.sell("A", "a2", 60, "10.05")
    events = v.buy("B", "b1", 100, "10.00", tif="ioc")
    assert_trades(events, [("10.00", 60, "B/b1", "A/a1")])
    left = of_type(events, Cancelled)[0]
    assert (left.qty, left.reason, left.resting, left.price) == (
        40,
        CancelReason.IOC,
        False,
        100_000,
    )
    assert v.bids() == [] and v.asks() == [("10.05", 60, 1)]
    assert v.engine.order("B", "b1") is None


def test_ioc_filled_in_full_has_no_cancel() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.00")
    events = v.buy("B", "b1", 100, "10.00", tif="ioc")
    assert types(events) == ["accepted", "trade"]


def test_fok_without_enough_liquidity_cancelled_with_no_execution() -> None:
    v = Venue()
    v.sell("A", "a1", 60, "10.00")
    v.sell("A", "a2", 30, "10.01")
    v.sell("A", "a3", 500, "10.02")
    events = v.buy("B", "b1", 100, "10.01", tif="fok")
    assert types(events) == ["accepted", "cancelled"]
    left = of_type(events, Cancelled)[0]
    assert (left.qty, left.reason, left.resting) == (100, CancelReason.FOK, False)
    assert v.asks() == [("10.00", 60, 1), ("10.01", 30, 1), ("10.02", 500, 1)]


def test_fok_with_exactly_enough_liquidity_fills_in_full() -> None:
    v = Venue()
    v.sell("A", "a1", 60, "10.00")
    v.sell("C", "c1", 40, "10.01")
    events = v.buy("B", "b1", 100, "10.01", tif="fok")
    assert_trades(events, [("10.00", 60, "B/b1", "A/a1"), ("10.01", 40, "B/b1", "C/c1")])
    assert types(events)[-1] == "trade"


def test_fok_market_order_all_or_nothing() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    assert types(v.sell("B", "b1", 101, type="market", tif="fok")) == ["accepted", "cancelled"]
    assert v.bids() == [("10.00", 100, 1)]
    assert_trades(
        v.sell("B", "b2", 100, type="market", tif="fok"), [("10.00", 100, "A/a1", "B/b2")]
    )


def test_fok_liquidity_behind_own_order_with_cancel_newest_does_not_count() -> None:
    v = Venue()
    v.sell("A", "a1", 50, "10.00")
    v.sell("B", "b1", 50, "10.00")  # B's own order sits between A's and C's
    v.sell("C", "c1", 100, "10.00")
    events = v.buy("B", "b2", 100, "10.00", tif="fok", smp="cancel_newest")
    assert types(events) == ["accepted", "cancelled"]
    assert of_type(events, Cancelled)[0].reason is CancelReason.FOK
    assert v.asks() == [("10.00", 200, 3)]


def test_fok_liquidity_behind_own_order_with_cancel_both_does_not_count() -> None:
    v = Venue()
    v.sell("A", "a1", 50, "10.00")
    v.sell("B", "b1", 50, "10.00")
    v.sell("C", "c1", 100, "10.00")
    events = v.buy("B", "b2", 100, "10.00", tif="fok", smp="cancel_both")
    assert types(events) == ["accepted", "cancelled"]
    assert v.asks() == [("10.00", 200, 3)]


def test_fok_with_cancel_oldest_skips_own_orders_and_cancels_them_when_it_fills() -> None:
    v = Venue()
    v.sell("A", "a1", 50, "10.00")
    v.sell("B", "b1", 50, "10.00")
    v.sell("C", "c1", 100, "10.00")
    events = v.buy("B", "b2", 100, "10.00", tif="fok", smp="cancel_oldest")
    assert_trades(events, [("10.00", 50, "B/b2", "A/a1"), ("10.00", 50, "B/b2", "C/c1")])
    own = [e for e in of_type(events, Cancelled) if e.resting]
    assert [(e.id, e.reason) for e in own] == [("b1", CancelReason.SELF_MATCH)]
    assert v.queue(Side.SELL) == [("10.00", "C/c1", 50)]


def test_fok_with_cancel_oldest_own_quantity_does_not_count_towards_the_fill() -> None:
    v = Venue()
    v.sell("A", "a1", 50, "10.00")
    v.sell("B", "b1", 500, "10.00")
    events = v.buy("B", "b2", 100, "10.00", tif="fok", smp="cancel_oldest")
    assert types(events) == ["accepted", "cancelled"]
    assert v.asks() == [("10.00", 550, 2)]


def test_fill_partial_resting_order_keeps_its_place_at_the_front() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.00")
    v.sell("B", "b1", 100, "10.00")
    v.buy("C", "c1", 30, "10.00")
    assert v.queue(Side.SELL) == [("10.00", "A/a1", 70), ("10.00", "B/b1", 100)]
    assert_trades(
        v.buy("C", "c2", 80, "10.00"),
        [("10.00", 70, "C/c2", "A/a1"), ("10.00", 10, "C/c2", "B/b1")],
    )


def test_symbols_are_independent_books() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.00", symbol="AAA")
    events = v.buy("B", "b1", 100, "10.00", symbol="BBB")
    assert types(events) == ["accepted", "added"]
    assert v.asks("AAA") == [("10.00", 100, 1)]
    assert v.bids("BBB") == [("10.00", 100, 1)]
