"""Rule 612 ticks and price collars around a symbol's reference price."""

from __future__ import annotations

import pytest

from lob.engine import (
    Cancelled,
    CancelReason,
    MatchingEngine,
    PriceError,
    Side,
    format_price,
    is_on_tick,
    parse_price,
    tick_size,
)
from tests.engine.support import Venue, assert_rejected, assert_trades, of_type, px, types


@pytest.mark.parametrize(
    ("price", "tick"),
    [("1.00", "0.01"), ("187.25", "0.01"), ("0.9999", "0.0001"), ("0.0001", "0.0001")],
)
def test_rule_612_tick_is_a_cent_at_or_above_a_dollar_else_a_hundredth_of_a_cent(
    price: str, tick: str
) -> None:
    assert tick_size(px(price)) == px(tick)


@pytest.mark.parametrize("price", ["1.00", "1.01", "187.25", "0.9999", "0.5001", "0.0001"])
def test_rule_612_on_tick_limit_price_accepted(price: str) -> None:
    v = Venue()
    assert is_on_tick(px(price))
    assert types(v.buy("A", "a1", 100, price)) == ["accepted", "added"]


@pytest.mark.parametrize("price", ["1.0001", "1.005", "187.255", "10.001"])
def test_rule_612_off_tick_limit_price_rejected_invalid_price(price: str) -> None:
    v = Venue()
    assert not is_on_tick(px(price))
    event = assert_rejected(v.buy("A", "a1", 100, price), "invalid_price")
    assert "Rule 612" in event.message


def test_rule_612_sub_dollar_orders_trade_at_the_resting_sub_penny_price() -> None:
    v = Venue()
    v.sell("A", "a1", 100, "0.9999")
    assert_trades(v.buy("B", "b1", 100, "1.00"), [("0.9999", 100, "B/b1", "A/a1")])


@pytest.mark.parametrize(
    ("text", "units"),
    [("187.25", 1_872_500), ("0.5001", 5_001), ("187", 1_870_000), ("10.0", 100_000)],
)
def test_parse_price_reads_decimal_text(text: str, units: int) -> None:
    assert parse_price(text) == units


@pytest.mark.parametrize(("number", "units"), [(187.25, 1_872_500), (187, 1_870_000)])
def test_parse_price_reads_json_numbers(number: float, units: int) -> None:
    assert parse_price(number) == units


@pytest.mark.parametrize("bad", ["1.00001", "abc", "", "1e3", "-1.00", True, None, float("nan")])
def test_parse_price_refuses_what_is_not_a_price(bad: object) -> None:
    with pytest.raises(PriceError):
        parse_price(bad)


def test_parse_price_answers_the_same_for_text_seen_before_and_after_its_table_fills() -> None:
    """Parsed texts are remembered (orders repeat prices); the table starts afresh when
    full, and a text that is not a price is refused every time, never remembered."""
    texts = [f"{dollars}.{cents:02d}" for dollars in range(1, 61) for cents in range(100)]
    expected = [int(text.replace(".", "")) * 100 for text in texts]  # two decimals: x100
    assert len(texts) > 4096  # more than the table holds: it starts afresh on the way
    for _ in range(2):
        assert [parse_price(text) for text in texts] == expected
    for _ in range(2):
        for bad in ("1.00001", "-1.00", "12.3.4"):
            with pytest.raises(PriceError):
                parse_price(bad)


@pytest.mark.parametrize(("units", "text"), [(1_872_500, "187.25"), (5_001, "0.5001"), (0, "0.00")])
def test_format_price_writes_two_to_four_decimals(units: int, text: str) -> None:
    assert format_price(units) == text


# -- collars -------------------------------------------------------------------


def _collared(reference: str = "100.00", collar: float | None = None) -> Venue:
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol("XYZ", px(reference), collar)
    return Venue(engine)


def test_collar_buy_limit_above_the_collar_rejected_price_out_of_collar() -> None:
    v = _collared()
    assert_rejected(v.buy("A", "a1", 100, "110.01"), "price_out_of_collar")
    assert types(v.buy("A", "a2", 100, "110.00")) == ["accepted", "added"]


def test_collar_sell_limit_below_the_collar_rejected_price_out_of_collar() -> None:
    v = _collared()
    assert_rejected(v.sell("A", "a1", 100, "89.99"), "price_out_of_collar")
    assert types(v.sell("A", "a2", 100, "90.00")) == ["accepted", "added"]


def test_collar_passive_orders_far_from_the_reference_may_rest() -> None:
    v = _collared()
    assert types(v.buy("A", "a1", 100, "50.00")) == ["accepted", "added"]
    assert types(v.sell("A", "a2", 100, "150.00")) == ["accepted", "added"]


def test_collar_market_buy_does_not_execute_beyond_the_collar() -> None:
    v = _collared()
    v.sell("S", "s1", 100, "105.00")
    v.sell("S", "s2", 100, "110.00")
    v.sell("S", "s3", 100, "110.01")
    events = v.buy("B", "b1", 300, type="market")
    assert_trades(events, [("105.00", 100, "B/b1", "S/s1"), ("110.00", 100, "B/b1", "S/s2")])
    left = of_type(events, Cancelled)[-1]
    assert (left.qty, left.reason, left.resting, left.price) == (
        100,
        CancelReason.MARKET,
        False,
        None,
    )
    assert v.asks() == [("110.01", 100, 1)]


def test_collar_market_sell_does_not_execute_beyond_the_collar() -> None:
    v = _collared()
    v.buy("S", "s1", 100, "89.99")
    events = v.sell("B", "b1", 100, type="market")
    assert types(events) == ["accepted", "cancelled"]
    assert v.bids() == [("89.99", 100, 1)]


def test_collar_fok_market_counts_only_liquidity_inside_the_collar() -> None:
    v = _collared()
    v.sell("S", "s1", 100, "105.00")
    v.sell("S", "s2", 100, "111.00")
    assert types(v.buy("B", "b1", 200, type="market", tif="fok")) == ["accepted", "cancelled"]
    assert v.asks() == [("105.00", 100, 1), ("111.00", 100, 1)]


def test_collar_replace_outside_the_collar_rejected_and_order_unchanged() -> None:
    v = _collared()
    v.buy("A", "a1", 100, "100.00")
    assert_rejected(v.replace("A", "a1", price="111.00"), "price_out_of_collar")
    assert v.queue(Side.BUY) == [("100.00", "A/a1", 100)]


def test_collar_width_can_be_chosen_per_symbol() -> None:
    v = _collared(collar=0.05)
    assert_rejected(v.buy("A", "a1", 100, "105.01"), "price_out_of_collar")
    assert types(v.buy("A", "a2", 100, "105.00")) == ["accepted", "added"]


def test_collar_edges_round_inwards_to_the_tick() -> None:
    v = _collared("187.25")  # 10% each side: 168.525 .. 205.975
    book = v.engine.book("XYZ")
    assert (format_price(book.collar_low), format_price(book.collar_high)) == ("168.53", "205.97")


def test_collar_sub_dollar_reference_uses_sub_penny_edges() -> None:
    v = _collared("0.5555")  # 0.49995 .. 0.61105
    book = v.engine.book("XYZ")
    assert (format_price(book.collar_low), format_price(book.collar_high)) == ("0.50", "0.611")


def test_collar_moves_with_the_reference_price_and_switches_off_with_none() -> None:
    v = _collared()
    v.engine.set_reference_price("XYZ", px("200.00"))
    assert types(v.buy("A", "a1", 100, "215.00")) == ["accepted", "added"]
    assert_rejected(v.sell("A", "a2", 100, "179.99"), "price_out_of_collar")
    v.engine.set_reference_price("XYZ", None)
    assert types(v.buy("A", "a3", 100, "999.00")) == ["accepted", "added"]


def test_symbol_without_reference_price_has_no_collar() -> None:
    v = Venue()
    v.sell("S", "s1", 100, "10.00")
    v.sell("S", "s2", 100, "1000.00")
    events = v.buy("B", "b1", 200, type="market")
    assert_trades(events, [("10.00", 100, "B/b1", "S/s1"), ("1000.00", 100, "B/b1", "S/s2")])
