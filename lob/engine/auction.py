"""The arithmetic of a cross: one uncrossing price, then who gets filled.

Price selection (Nasdaq's crossing rules, in order):

1. the price that maximises the executable (paired) volume;
2. among those, the one that minimises the imbalance (unpaired shares at it);
3. among those, the one nearest the reference price;
4. if two remain (equally far above and below), the lower one.

Candidates are every limit price on either side and the reference price.
Market (and market-on-open/close) interest counts at every price.

Allocation follows price-time priority on each side: market interest first,
then the more aggressive limit, then the earlier arrival (``rank``). Fills are
paired in that order on both sides, so the earliest, most aggressive orders
trade first and against each other.

Everything here is pure and works on plain ``Interest`` tuples, so it can be
tested against a brute-force search on its own.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate
from typing import Generic, NamedTuple, TypeVar

__all__ = ["CrossResult", "Interest", "allocate", "clearing_price", "pair_fills"]

T = TypeVar("T")


class Interest(NamedTuple, Generic[T]):
    """Shares willing to trade in a cross: ``price`` None means at any price."""

    price: int | None
    qty: int
    rank: int
    ref: T


class CrossResult(NamedTuple):
    """The chosen price (None if there is no price at all), paired shares and imbalance.

    ``imbalance`` is signed: buy shares minus sell shares willing to trade at
    ``price`` (positive: more buyers than sellers).
    """

    price: int | None
    paired: int
    imbalance: int


def _volumes(
    buys: list[Interest[T]], sells: list[Interest[T]]
) -> tuple[list[int], list[int], list[int], list[int], int, int]:
    buy_prices = sorted(b.price for b in buys if b.price is not None)
    sell_prices = sorted(s.price for s in sells if s.price is not None)
    buy_qty = [0] * len(buy_prices)
    sell_qty = [0] * len(sell_prices)
    # Quantities in the same order as the sorted prices (stable per price).
    for order_list, prices, qtys in ((buys, buy_prices, buy_qty), (sells, sell_prices, sell_qty)):
        used: dict[int, int] = {}
        for item in order_list:
            if item.price is None:
                continue
            at = bisect_left(prices, item.price) + used.get(item.price, 0)
            used[item.price] = used.get(item.price, 0) + 1
            qtys[at] = item.qty
    market_buy = sum(b.qty for b in buys if b.price is None)
    market_sell = sum(s.qty for s in sells if s.price is None)
    return (
        buy_prices,
        list(accumulate(buy_qty)),
        sell_prices,
        list(accumulate(sell_qty)),
        market_buy,
        market_sell,
    )


def clearing_price(
    buys: list[Interest[T]], sells: list[Interest[T]], reference: int | None
) -> CrossResult:
    """Choose the cross price for ``buys`` and ``sells`` (see the module rules)."""
    buy_prices, buy_cum, sell_prices, sell_cum, market_buy, market_sell = _volumes(buys, sells)
    candidates = set(buy_prices) | set(sell_prices)
    if reference is not None:
        candidates.add(reference)
    if not candidates:
        return CrossResult(None, 0, market_buy - market_sell)
    buy_total = buy_cum[-1] if buy_cum else 0
    best: tuple[int, int, int, int] | None = None
    best_result = CrossResult(None, 0, 0)
    for price in sorted(candidates):
        # buyers willing at >= price: all limits at or above it
        below = bisect_left(buy_prices, price)
        buy_vol = market_buy + buy_total - (buy_cum[below - 1] if below else 0)
        upto = bisect_right(sell_prices, price)
        sell_vol = market_sell + (sell_cum[upto - 1] if upto else 0)
        paired = min(buy_vol, sell_vol)
        distance = abs(price - reference) if reference is not None else 0
        key = (-paired, abs(buy_vol - sell_vol), distance, price)
        if best is None or key < best:
            best = key
            best_result = CrossResult(price, paired, buy_vol - sell_vol)
    return best_result


def _priority(item: Interest[T], buy: bool) -> tuple[int, int, int]:
    if item.price is None:
        return (0, 0, item.rank)
    return (1, -item.price if buy else item.price, item.rank)


def allocate(
    interest: list[Interest[T]], price: int, volume: int, buy: bool
) -> list[tuple[T, int]]:
    """Fill ``volume`` shares from the side's eligible interest in priority order."""
    eligible = [
        item
        for item in interest
        if item.price is None or (item.price >= price if buy else item.price <= price)
    ]
    eligible.sort(key=lambda item: _priority(item, buy))
    fills: list[tuple[T, int]] = []
    for item in eligible:
        if volume <= 0:
            break
        qty = min(item.qty, volume)
        fills.append((item.ref, qty))
        volume -= qty
    return fills


def pair_fills(
    buy_fills: list[tuple[T, int]], sell_fills: list[tuple[T, int]]
) -> list[tuple[T, T, int]]:
    """Match the two sides' fills in order: (buy ref, sell ref, shares)."""
    pairs: list[tuple[T, T, int]] = []
    i = j = 0
    buy_left = buy_fills[0][1] if buy_fills else 0
    sell_left = sell_fills[0][1] if sell_fills else 0
    while i < len(buy_fills) and j < len(sell_fills):
        qty = min(buy_left, sell_left)
        pairs.append((buy_fills[i][0], sell_fills[j][0], qty))
        buy_left -= qty
        sell_left -= qty
        if not buy_left:
            i += 1
            buy_left = buy_fills[i][1] if i < len(buy_fills) else 0
        if not sell_left:
            j += 1
            sell_left = sell_fills[j][1] if j < len(sell_fills) else 0
    return pairs
