"""The trading day in the engine: crosses, auction orders, the calendar, halts, LULD, round lots."""

from __future__ import annotations

import pytest

from lob.engine import MatchingEngine, Side, parse_price
from lob.engine.calendar import SessionCalendar, hms
from lob.engine.luld import LIMIT_STATE_NS, PAUSE_NS, price_bands
from lob.engine.prices import round_lot
from lob.engine.replay import session_midnight_ns
from lob.engine.types import TradingState

MIDNIGHT = session_midnight_ns("2026-01-02")


def at(text: str) -> int:
    return MIDNIGHT + hms(text)


def px(text: str) -> int:
    return parse_price(text)


def of(events, kind: str):
    return [e for e in events if kind == e.TYPE]


def pre_open_engine() -> MatchingEngine:
    engine = MatchingEngine()
    engine.add_symbol("XYZ", reference_price=px("10.00"))
    engine.set_state("XYZ", "closed", ts=0)
    engine.set_state("XYZ", "pre_open", ts=0)
    return engine


def test_pre_open_orders_rest_without_matching_and_the_book_may_cross() -> None:
    engine = pre_open_engine()
    engine.new_order("A", "a1", "XYZ", Side.BUY, 100, px("10.10"), ts=1)
    events = engine.new_order("B", "b1", "XYZ", Side.SELL, 100, px("10.00"), ts=2)
    assert [e.TYPE for e in events] == ["accepted", "added"]
    book = engine.book("XYZ")
    assert book.best_bid > book.best_ask
    engine.check_integrity()


def test_market_ioc_and_fok_orders_wait_for_continuous_trading() -> None:
    engine = pre_open_engine()
    market = engine.new_order("A", "a1", "XYZ", Side.BUY, 100, None, ts=1, order_type="market")
    ioc = engine.new_order("A", "a2", "XYZ", Side.BUY, 100, px("10.00"), ts=1, tif="ioc")
    assert [market[0].code, ioc[0].code] == ["not_continuous", "not_continuous"]


def test_opening_cross_prints_one_price_with_book_and_on_open_orders() -> None:
    engine = pre_open_engine()
    engine.new_order("A", "a1", "XYZ", Side.BUY, 300, px("10.10"), ts=1)
    engine.new_order("B", "b1", "XYZ", Side.SELL, 200, px("10.00"), ts=2)
    engine.new_order("C", "c1", "XYZ", Side.SELL, 150, None, ts=3, order_type="moo")
    engine.new_order("D", "d1", "XYZ", Side.BUY, 100, px("9.90"), ts=4, order_type="loo")
    events = engine.set_state("XYZ", "opening_auction", ts=5)
    events = engine.set_state("XYZ", "continuous", ts=6)
    trades = of(events, "trade")
    # Buyers at >= 10.00: 300 (a1); sellers at <= 10.00: 350 (b1 + moo) -> 300 pair at 10.00
    # (at 10.10 too, with the same imbalance; 10.00 is nearest the reference price 10.00).
    assert {t.price for t in trades} == {px("10.00")}
    assert sum(t.qty for t in trades) == 300
    assert all(t.aggressor is None for t in trades)
    # The market-on-open sell fills first (market interest), then b1.
    assert [(t.sell_id, t.qty) for t in trades] == [("c1", 150), ("b1", 150)]
    crossed = of(events, "crossed")[0]
    assert (crossed.price, crossed.qty, crossed.imbalance) == (px("10.00"), 300, -50)
    # The unfilled limit-on-open order is cancelled; b1's remainder rests; the book is uncrossed.
    assert [(c.id, c.reason) for c in of(events, "cancelled")] == [("d1", "auction")]
    snap = engine.l2_snapshot("XYZ")
    assert snap.bids == [] and [(lv.price, lv.qty) for lv in snap.asks] == [(px("10.00"), 50)]
    executed = {(e.id, e.qty, e.left, e.in_book) for e in of(events, "executed")}
    assert executed == {
        ("a1", 150, 150, True),
        ("a1", 150, 0, True),
        ("c1", 150, 0, False),
        ("b1", 150, 50, True),
    }
    engine.check_integrity()


def test_imbalance_only_orders_offset_the_imbalance_and_never_add_to_it() -> None:
    engine = pre_open_engine()
    engine.new_order("A", "a1", "XYZ", Side.BUY, 300, None, ts=1, order_type="moo")
    engine.new_order("B", "b1", "XYZ", Side.SELL, 100, px("10.00"), ts=2)
    engine.new_order("C", "c1", "XYZ", Side.SELL, 150, px("10.05"), ts=3, order_type="io")
    engine.new_order("D", "d1", "XYZ", Side.BUY, 500, px("10.05"), ts=3, order_type="io")
    assert engine.imbalances(ts=4) == []  # nothing is published in the pre-open
    engine.set_state("XYZ", "opening_auction", ts=4)
    imbalance = of(engine.imbalances(ts=4), "imbalance")[0]
    assert (imbalance.paired, imbalance.imbalance, imbalance.imbalance_side) == (250, 50, "buy")
    events = engine.set_state("XYZ", "continuous", ts=5)
    assert sum(t.qty for t in of(events, "trade")) == 250
    assert {c.id for c in of(events, "cancelled")} == {"a1", "d1"}


def test_closing_cross_then_day_orders_expire_and_gtc_orders_stay() -> None:
    engine = MatchingEngine()
    engine.add_symbol("XYZ")
    engine.new_order("A", "a1", "XYZ", Side.BUY, 100, px("9.90"), ts=1, tif="gtc")
    engine.new_order("A", "a2", "XYZ", Side.BUY, 100, px("9.80"), ts=1)
    engine.new_order("B", "b1", "XYZ", Side.SELL, 100, None, ts=2, order_type="moc")
    engine.new_order("C", "c1", "XYZ", Side.SELL, 100, px("10.50"), ts=3, order_type="loc")
    engine.set_state("XYZ", "closing_auction", ts=4)
    events = engine.set_state("XYZ", "closed", ts=5)
    assert [(t.price, t.qty, t.buy_id, t.sell_id) for t in of(events, "trade")] == [
        (px("9.90"), 100, "a1", "b1")
    ]
    assert {(c.id, c.reason) for c in of(events, "cancelled")} == {
        ("c1", "auction"),
        ("a2", "expired"),
    }
    assert engine.book("XYZ").state is TradingState.CLOSED
    assert engine.order("A", "a1") is None  # filled in the cross
    engine.check_integrity()


def test_halt_then_quote_only_then_halt_cross_resumes_trading() -> None:
    engine = MatchingEngine()
    engine.new_order("A", "a1", "XYZ", Side.BUY, 100, px("10.00"), ts=1)
    engine.set_state("XYZ", "halted", ts=2)
    engine.set_state("XYZ", "quote_only", ts=3)
    engine.new_order("B", "b1", "XYZ", Side.SELL, 60, px("9.95"), ts=4)
    events = engine.set_state("XYZ", "continuous", ts=5)
    assert of(events, "crossed")[0].cross_type == "halt"
    # 60 pair at 9.95 and at 10.00 with the same imbalance; no reference: the lower price.
    assert [(t.price, t.qty) for t in of(events, "trade")] == [(px("9.95"), 60)]
    assert engine.book("XYZ").matching


def test_calendar_walks_the_day_and_runs_both_crosses() -> None:
    engine = MatchingEngine(calendar=SessionCalendar(MIDNIGHT))
    engine.add_symbol("XYZ")
    assert engine.book("XYZ").state is TradingState.CLOSED
    states = []
    for time in ("03:00", "04:00", "09:25", "09:30", "12:00", "15:50", "16:00"):
        engine.advance(at(time))
        states.append(engine.book("XYZ").state)
        if time == "04:00":
            engine.new_order("A", "a1", "XYZ", Side.BUY, 100, px("10.00"), ts=at("04:01"))
            engine.new_order(
                "B", "b1", "XYZ", Side.SELL, 100, None, ts=at("04:02"), order_type="moo"
            )
    assert states == [
        TradingState.CLOSED,
        TradingState.PRE_OPEN,
        TradingState.OPENING_AUCTION,
        TradingState.CONTINUOUS,
        TradingState.CONTINUOUS,
        TradingState.CLOSING_AUCTION,
        TradingState.CLOSED,
    ]


def test_calendar_cut_offs_refuse_late_auction_orders() -> None:
    engine = MatchingEngine(calendar=SessionCalendar(MIDNIGHT))
    engine.add_symbol("XYZ")
    engine.advance(at("09:26"))
    ok = engine.new_order("A", "a1", "XYZ", Side.BUY, 100, None, ts=at("09:27"), order_type="moo")
    late = engine.new_order(
        "A", "a2", "XYZ", Side.BUY, 100, None, ts=at("09:28:01"), order_type="moo"
    )
    loo = engine.new_order(
        "A", "a3", "XYZ", Side.BUY, 100, px("10"), ts=at("09:29"), order_type="loo"
    )
    assert ok[0].TYPE == "accepted"
    assert late[0].code == "auction_closed"
    assert loo[0].TYPE == "accepted"
    engine.advance(at("15:56"))
    moc = engine.new_order("A", "a4", "XYZ", Side.BUY, 100, None, ts=at("15:56"), order_type="moc")
    assert moc[0].code == "auction_closed"


@pytest.mark.parametrize(
    ("reference", "tier", "doubled", "lower", "upper"),
    [
        ("100.00", 1, False, "95.00", "105.00"),
        ("100.00", 2, False, "90.00", "110.00"),
        ("100.00", 1, True, "90.00", "110.00"),
        ("3.01", 1, False, "2.86", "3.16"),  # 5% of 3.01 = 0.1505 -> bands round to the penny
        ("3.00", 1, False, "2.40", "3.60"),  # $3.00 is in the 20% tier
        ("0.75", 2, False, "0.60", "0.90"),  # $0.75 is in the 20% tier
        ("0.74", 1, False, "0.59", "0.89"),  # below $0.75: lesser of $0.15 or 75%
        ("0.10", 1, False, "0.03", "0.18"),  # 75% of 0.10 = 0.075 < 0.15
        ("0.10", 1, True, "0.00", "0.25"),  # doubled: lesser of $0.30 or 150%
    ],
)
def test_luld_bands_at_tier_boundaries(reference, tier, doubled, lower, upper) -> None:
    bands = price_bands(px(reference), tier, doubled)
    assert (bands.lower, bands.upper) == (px(lower), px(upper))


def test_luld_limit_state_pauses_after_15_seconds_and_reopens_by_cross() -> None:
    engine = MatchingEngine()
    engine.add_symbol("XYZ")
    engine.enable_luld("XYZ", tier=1, reference=px("100.00"), ts=0)
    assert engine.new_order("A", "a0", "XYZ", Side.BUY, 10, px("105.01"), ts=1)[0].code == (
        "outside_price_band"
    )
    engine.new_order("A", "a1", "XYZ", Side.BUY, 100, px("105.00"), ts=1)  # bid at the upper band
    engine.advance(1 + LIMIT_STATE_NS - 1)
    assert engine.book("XYZ").state is TradingState.CONTINUOUS
    events = engine.advance(1 + LIMIT_STATE_NS)
    assert engine.book("XYZ").state is TradingState.PAUSED
    assert of(events, "state")[0].reason == "luld"
    engine.new_order("B", "b1", "XYZ", Side.SELL, 40, px("104.00"), ts=2 + LIMIT_STATE_NS)
    pause_end = 1 + LIMIT_STATE_NS + PAUSE_NS
    events = engine.advance(pause_end)
    assert engine.book("XYZ").state is TradingState.CONTINUOUS
    crossed = of(events, "crossed")[0]
    assert crossed.cross_type == "halt" and crossed.qty == 40
    bands = of(events, "bands")[-1]
    assert bands.reference == crossed.price


def test_market_order_does_not_execute_beyond_the_luld_band() -> None:
    engine = MatchingEngine()
    engine.add_symbol("XYZ")
    engine.enable_luld("XYZ", tier=1, reference=px("100.00"))
    engine.new_order("S", "s1", "XYZ", Side.SELL, 100, px("104.00"), ts=1)
    engine.new_order("S", "s2", "XYZ", Side.SELL, 100, px("105.00"), ts=1)
    engine.set_reference_price("XYZ", None)
    engine.book("XYZ").luld.bands = price_bands(px("100.00"), 1)
    events = engine.new_order("B", "b1", "XYZ", Side.BUY, 300, None, ts=2, order_type="market")
    assert [t.price for t in of(events, "trade")] == [px("104.00"), px("105.00")]
    assert of(events, "cancelled")[0].qty == 100


def test_round_lot_tiers() -> None:
    assert [round_lot(px(p)) for p in ("250.00", "250.01", "1000.00", "1000.01", "10000.01")] == [
        100,
        40,
        40,
        10,
        1,
    ]


def test_odd_lots_stay_out_of_the_published_quote() -> None:
    engine = MatchingEngine()
    engine.new_order("A", "a1", "XYZ", Side.BUY, 100, px("10.00"), ts=1)
    engine.new_order("A", "a2", "XYZ", Side.BUY, 30, px("10.05"), ts=1)  # odd lot
    engine.new_order("A", "a3", "XYZ", Side.SELL, 50, px("10.10"), ts=1)  # odd lot
    engine.new_order("B", "b1", "XYZ", Side.SELL, 60, px("10.10"), ts=1)  # 110 at 10.10 now
    bid, ask = engine.book("XYZ").quote()
    assert (bid.price, bid.qty) == (px("10.00"), 100)
    assert (ask.price, ask.qty) == (px("10.10"), 110)
    assert engine.book("XYZ").best_bid == px("10.05")  # still in the book and in depth


def test_auction_order_can_be_cancelled_until_its_cut_off() -> None:
    engine = MatchingEngine(calendar=SessionCalendar(MIDNIGHT))
    engine.add_symbol("XYZ")
    engine.advance(at("09:00"))
    engine.new_order("A", "a1", "XYZ", Side.BUY, 100, None, ts=at("09:01"), order_type="moo")
    engine.new_order("A", "a2", "XYZ", Side.BUY, 100, None, ts=at("09:01"), order_type="moo")
    cancelled = engine.cancel("A", "a1", ts=at("09:27"))
    assert [(e.TYPE, e.reason, e.resting) for e in cancelled] == [("cancelled", "user", False)]
    late = engine.cancel("A", "a2", ts=at("09:28:30"))
    assert late[0].code == "auction_closed"
    assert engine.cancel("A", "a1", ts=at("09:28:31"))[0].code == "unknown_order"
    engine.check_integrity()
