"""Seeded random order flow for the L2 market data tests.

Commands stay near one mid price per symbol so books have ~10-20 levels a side
and orders keep crossing: limit, market, IOC and FOK orders, cancels, and
replaces that keep or lose priority, from a few accounts (self-match
prevention included). Random only here, in tests: the feed itself is pure.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from lob.engine import (
    CancelOrder,
    Command,
    MatchingEngine,
    NewOrder,
    OrderType,
    ReplaceOrder,
    SelfMatchMode,
    Side,
    TimeInForce,
)

ACCOUNTS = ("A", "B", "C", "D")
MIDS = {"AAA": 1_000_000, "BBB": 250_000, "CCC": 5_000}  # $100, $25, $0.50
TS0 = 1_767_364_200_000_000_000


def _tick(mid: int) -> int:
    return 100 if mid >= 10_000 else 1


def random_commands(
    rng: random.Random, n: int, engine: MatchingEngine, symbols: tuple[str, ...] = ("AAA", "BBB")
) -> Iterator[Command]:
    """``n`` commands; cancels and replaces pick live orders of ``engine`` as it runs."""
    counter = 0
    for _ in range(n):
        symbol = rng.choice(symbols)
        mid = MIDS[symbol]
        tick = _tick(mid)
        account = rng.choice(ACCOUNTS)
        live = engine.open_orders(account)
        roll = rng.random()
        if live and roll < 0.25:
            yield CancelOrder(account, rng.choice(live).id)
            continue
        if live and roll < 0.40:
            order = rng.choice(live)
            choice = rng.random()
            if choice < 0.4:
                yield ReplaceOrder(account, order.id, qty=max(1, order.qty - rng.randint(1, 50)))
            elif choice < 0.7:
                yield ReplaceOrder(account, order.id, price=order.price + tick * rng.randint(-3, 3))
            else:
                yield ReplaceOrder(account, order.id, qty=order.qty + rng.randint(1, 200))
            continue
        counter += 1
        side = rng.choice((Side.BUY, Side.SELL))
        qty = rng.choice((100, 100, 200, 300, 500, 1000)) + rng.randint(0, 99)
        smp = rng.choice(tuple(SelfMatchMode))
        if roll > 0.95:
            market = OrderType.MARKET
            yield NewOrder(account, f"m{counter}", symbol, side, qty, None, market, smp=smp)
            continue
        # Buys mostly below mid, sells above, with some crossing.
        offset = rng.randint(-3, 15) * tick
        price = mid - offset if side is Side.BUY else mid + offset
        tif = rng.choice((TimeInForce.DAY, TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC))
        if roll > 0.92:
            tif = TimeInForce.FOK
        yield NewOrder(account, f"o{counter}", symbol, side, qty, price, tif=tif, smp=smp)
