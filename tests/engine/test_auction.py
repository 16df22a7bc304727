"""Uncrossing: hand-worked examples and a brute-force search over all candidate prices."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lob.engine.auction import Interest, allocate, clearing_price, pair_fills


def buy(price: int | None, qty: int, rank: int = 0) -> Interest[str]:
    return Interest(price, qty, rank, f"b{rank}")


def sell(price: int | None, qty: int, rank: int = 0) -> Interest[str]:
    return Interest(price, qty, rank, f"s{rank}")


def test_clearing_price_maximises_paired_volume() -> None:
    # At 9 and 10: buyers 300, sellers 200 -> 200 pair; at 11: buyers 100, sellers 400 -> 100
    buys = [buy(10, 200, 1), buy(11, 100, 2)]
    sells = [sell(9, 200, 3), sell(11, 200, 4)]
    result = clearing_price(buys, sells, reference=11)
    assert (result.price, result.paired, result.imbalance) == (10, 200, 100)


def test_clearing_price_tie_on_volume_goes_to_smaller_imbalance() -> None:
    # 100 pairs at 10 (imbalance 50) and at 11 (imbalance 0)
    buys = [buy(11, 100, 1), buy(10, 50, 2)]
    sells = [sell(10, 100, 3)]
    result = clearing_price(buys, sells, reference=None)
    assert (result.price, result.paired, result.imbalance) == (11, 100, 0)


def test_clearing_price_tie_on_imbalance_goes_nearest_the_reference() -> None:
    buys = [buy(12, 100, 1)]
    sells = [sell(10, 100, 2)]
    assert clearing_price(buys, sells, reference=11).price == 11
    assert clearing_price(buys, sells, reference=15).price == 12
    assert clearing_price(buys, sells, reference=5).price == 10


def test_clearing_price_equidistant_candidates_take_the_lower() -> None:
    buys = [buy(12, 100, 1)]
    sells = [sell(10, 100, 2)]
    assert clearing_price(buys, sells, reference=None).price == 10


def test_market_interest_counts_at_every_price() -> None:
    buys = [buy(None, 300, 1)]
    sells = [sell(10, 100, 2), sell(12, 100, 3)]
    result = clearing_price(buys, sells, reference=None)
    assert (result.price, result.paired, result.imbalance) == (12, 200, 100)


def test_no_crossing_interest_pairs_nothing() -> None:
    result = clearing_price([buy(9, 100, 1)], [sell(10, 100, 2)], reference=None)
    assert result.paired == 0


def test_allocation_is_market_first_then_price_then_time() -> None:
    buys = [buy(10, 100, 5), buy(11, 100, 7), buy(None, 50, 9), buy(11, 100, 6)]
    fills = allocate(buys, price=10, volume=280, buy=True)
    assert fills == [("b9", 50), ("b6", 100), ("b7", 100), ("b5", 30)]


def test_pair_fills_matches_both_sides_in_order() -> None:
    pairs = pair_fills([("b1", 150), ("b2", 50)], [("s1", 100), ("s2", 100)])
    assert pairs == [("b1", "s1", 100), ("b1", "s2", 50), ("b2", "s2", 50)]


def _brute_force(buys: list[Interest[str]], sells: list[Interest[str]], reference: int | None):
    prices = {i.price for i in buys + sells if i.price is not None}
    if reference is not None:
        prices.add(reference)
    best = None
    for p in sorted(prices):
        bv = sum(i.qty for i in buys if i.price is None or i.price >= p)
        sv = sum(i.qty for i in sells if i.price is None or i.price <= p)
        key = (-min(bv, sv), abs(bv - sv), abs(p - reference) if reference is not None else 0, p)
        if best is None or key < best[0]:
            best = (key, p, min(bv, sv), bv - sv)
    return best


interest = st.tuples(st.one_of(st.none(), st.integers(1, 30)), st.integers(1, 500))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(interest, max_size=12),
    st.lists(interest, max_size=12),
    st.one_of(st.none(), st.integers(1, 30)),
)
def test_clearing_price_equals_brute_force_search(buy_rows, sell_rows, reference) -> None:
    buys = [buy(p, q, i) for i, (p, q) in enumerate(buy_rows)]
    sells = [sell(p, q, 100 + i) for i, (p, q) in enumerate(sell_rows)]
    result = clearing_price(buys, sells, reference)
    expected = _brute_force(buys, sells, reference)
    if expected is None:
        assert result.price is None and result.paired == 0
        return
    _, price, paired, imbalance = expected
    assert (result.price, result.paired, result.imbalance) == (price, paired, imbalance)
    if paired:
        buy_fills = allocate(buys, price, paired, True)
        sell_fills = allocate(sells, price, paired, False)
        assert sum(q for _, q in buy_fills) == paired == sum(q for _, q in sell_fills)
        pairs = pair_fills(buy_fills, sell_fills)
        assert sum(q for _, _, q in pairs) == paired
