"""The event stream's numbering and level fields, snapshots, expiry, integrity and state hashes."""

from __future__ import annotations

import pytest

from lob.engine import (
    Added,
    Cancelled,
    CancelReason,
    IntegrityError,
    MatchingEngine,
    Replaced,
    Side,
    TimeInForce,
    Trade,
    UnknownSymbolError,
)
from tests.engine.support import Venue, of_type, px, types


def _busy_venue() -> tuple[Venue, list]:
    v = Venue()
    events = []
    events += v.sell("A", "a1", 100, "10.01")
    events += v.sell("B", "b1", 50, "10.01")
    events += v.sell("A", "a2", 70, "10.03")
    events += v.buy("C", "c1", 120, "10.00")
    events += v.buy("C", "c1", 1, "10.00")  # duplicate id: rejected
    events += v.buy("D", "d1", 130, "10.02")
    events += v.replace("C", "c1", qty=20)
    events += v.replace("A", "a2", price="10.02")
    events += v.cancel("Z", "nothing")
    events += v.sell("E", "e1", 10, type="market")
    return v, events


def test_events_seq_increases_by_one_across_commands_and_rejections() -> None:
    v, events = _busy_venue()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert v.engine.seq == len(events)


def test_events_carry_the_ts_passed_in() -> None:
    engine = MatchingEngine()
    events = engine.new_order("A", "a1", "XYZ", Side.SELL, 100, px("10.00"), ts=111)
    events += engine.new_order("B", "b1", "XYZ", Side.BUY, 40, px("10.00"), ts=222)
    events += engine.cancel("A", "a1", ts=333)
    events += engine.cancel("A", "a1", ts=444)
    assert [(e.TYPE, e.ts) for e in events] == [
        ("accepted", 111),
        ("added", 111),
        ("accepted", 222),
        ("trade", 222),
        ("cancelled", 333),
        ("rejected", 444),
    ]


def _l2_from_events(events: list) -> dict[tuple[Side, int], tuple[int, int]]:
    """Rebuild L2 from the level fields alone, as a market-data consumer would."""
    levels: dict[tuple[Side, int], tuple[int, int]] = {}

    def put(side: Side, price: int, qty: int, orders: int) -> None:
        if orders:
            levels[(side, price)] = (qty, orders)
        else:
            assert qty == 0
            levels.pop((side, price), None)

    for e in events:
        if type(e) is Trade:
            put(e.aggressor.opposite, e.price, e.level_qty, e.level_orders)
        elif type(e) is Added or (type(e) is Cancelled and e.resting):
            put(e.side, e.price, e.level_qty, e.level_orders)
        elif type(e) is Replaced:
            if e.priority == "kept":
                put(e.side, e.price, e.level_qty, e.level_orders)
            else:
                put(e.side, e.old_price, e.old_level_qty, e.old_level_orders)
    return levels


def test_events_level_fields_rebuild_the_l2_book() -> None:
    v, events = _busy_venue()
    snap = v.engine.l2_snapshot("XYZ")
    expected = {(Side.BUY, lv.price): (lv.qty, lv.orders) for lv in snap.bids}
    expected |= {(Side.SELL, lv.price): (lv.qty, lv.orders) for lv in snap.asks}
    assert _l2_from_events(events) == expected


def test_trade_carries_resting_order_left_and_level_after_the_fill() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "10.00")
    v.sell("B", "b1", 50, "10.00")
    trade = of_type(v.buy("C", "c1", 30, "10.00"), Trade)[0]
    assert (trade.resting_oid, trade.resting_left) == (v.engine.order("A", "a1").oid, 70)
    assert (trade.level_qty, trade.level_orders) == (120, 2)
    trades = of_type(v.buy("C", "c2", 120, "10.00"), Trade)
    assert [(t.resting_left, t.level_qty, t.level_orders) for t in trades] == [
        (0, 50, 1),
        (0, 0, 0),
    ]
    assert [t.trade_id for t in trades] == [trade.trade_id + 1, trade.trade_id + 2]


def test_oids_increase_for_each_accepted_order_and_priority_losing_replace() -> None:
    v = Venue()
    a = v.buy("A", "a1", 100, "10.00")[0].oid
    b = v.buy("B", "b1", 100, "10.00")[0].oid
    c = of_type(v.replace("A", "a1", qty=200), Replaced)[0].oid
    assert a < b < c


def test_l2_snapshot_at_any_depth_best_first_and_stamped_with_seq() -> None:
    v = Venue()
    for i, price in enumerate(["10.00", "9.99", "9.98", "10.00"]):
        v.buy("A", f"b{i}", 100 + i, price)
    v.sell("A", "s1", 5, "10.05")
    v.sell("A", "s2", 6, "10.02")
    full = v.engine.l2_snapshot("XYZ")
    assert full.seq == v.engine.seq and full.symbol == "XYZ"
    assert [(lv.price, lv.qty, lv.orders) for lv in full.bids] == [
        (px("10.00"), 203, 2),
        (px("9.99"), 101, 1),
        (px("9.98"), 102, 1),
    ]
    assert [(lv.price, lv.qty) for lv in full.asks] == [(px("10.02"), 6), (px("10.05"), 5)]
    for depth in range(5):
        snap = v.engine.l2_snapshot("XYZ", depth)
        assert snap.bids == full.bids[:depth] and snap.asks == full.asks[:depth]


def test_order_snapshot_lists_orders_in_queue_order() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.buy("B", "b1", 100, "10.01")
    v.buy("C", "c1", 100, "10.00", tif="gtc")
    v.replace("A", "a1", qty=150)  # to the back of 10.00
    snap = v.engine.order_snapshot("XYZ")
    assert snap.seq == v.engine.seq
    assert [(o.account, o.id, o.price, o.qty, o.tif) for o in snap.bids] == [
        ("B", "b1", px("10.01"), 100, "day"),
        ("C", "c1", px("10.00"), 100, "gtc"),
        ("A", "a1", px("10.00"), 150, "day"),
    ]
    assert snap.asks == []


def test_snapshot_of_unknown_symbol_raises() -> None:
    with pytest.raises(UnknownSymbolError):
        MatchingEngine().l2_snapshot("NOPE")


def test_open_orders_lists_an_accounts_live_orders_oldest_first() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.sell("A", "a2", 100, "11.00", symbol="OTHER")
    v.buy("B", "b1", 100, "10.00")
    assert [(o.id, o.symbol) for o in v.engine.open_orders("A")] == [("a1", "XYZ"), ("a2", "OTHER")]
    assert v.engine.open_orders("nobody") == []


def test_expire_cancels_every_day_order_and_keeps_gtc() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.buy("B", "b1", 100, "10.00", tif="gtc")
    v.sell("C", "c1", 100, "11.00", symbol="OTHER")
    events = v.expire()
    assert all(e.seq == events[0].seq + i for i, e in enumerate(events))
    assert {(e.account, e.id, e.reason, e.resting) for e in events} == {
        ("A", "a1", CancelReason.EXPIRED, True),
        ("C", "c1", CancelReason.EXPIRED, True),
    }
    by_id = {e.id: e for e in events}
    assert (by_id["a1"].level_qty, by_id["a1"].level_orders) == (100, 1)
    assert v.bids() == [("10.00", 100, 1)] and v.asks("OTHER") == []
    gtc = v.expire(TimeInForce.GTC)
    assert [e.id for e in gtc] == ["b1"]
    assert v.bids() == [] and v.expire() == []


def test_check_integrity_detects_a_level_total_that_disagrees_with_its_orders() -> None:
    v, _ = _busy_venue()
    v.engine.check_integrity()
    level = v.engine.book("XYZ").bids[px("10.00")]
    level.qty += 1
    with pytest.raises(IntegrityError):
        v.engine.check_integrity()


def test_check_integrity_detects_an_order_missing_from_the_index() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    book = v.engine.book("XYZ")
    book.unlink(book.bids[px("10.00")].head)
    with pytest.raises(IntegrityError):
        v.engine.check_integrity()


def test_state_hash_equal_for_equal_state() -> None:
    first, _ = _busy_venue()
    second, _ = _busy_venue()
    assert first.engine.state_hash() == second.engine.state_hash()
    assert first.engine.state_hash(True) == second.engine.state_hash(True)


def test_state_hash_of_an_emptied_book_equals_a_fresh_engine() -> None:
    v = Venue()
    v.buy("A", "a1", 100, "10.00")
    v.cancel("A", "a1")
    assert v.engine.state_hash() == MatchingEngine().state_hash()


def test_state_hash_differs_when_state_differs() -> None:
    base, _ = _busy_venue()
    hashes = {base.engine.state_hash(True)}
    for change in (
        lambda v: v.replace("C", "c1", qty=19),
        lambda v: v.buy("F", "f1", 1, "9.00"),
        lambda v: v.buy("F", "f1", 1, "9.00", symbol="OTHER"),
        lambda v: v.cancel("B", "b1"),
    ):
        other, _ = _busy_venue()
        assert types(change(other)) != ["rejected"]
        hashes.add(other.engine.state_hash(True))
    assert len(hashes) == 5


def test_state_hash_with_owners_tells_accounts_apart() -> None:
    one, two = Venue(), Venue()
    one.buy("A", "x", 100, "10.00")
    two.buy("B", "x", 100, "10.00")
    assert one.engine.state_hash() == two.engine.state_hash()
    assert one.engine.state_hash(include_owners=True) != two.engine.state_hash(include_owners=True)
