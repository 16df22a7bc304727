"""A seeded market on the embedded exchange, for the TUI's tests only.

Market makers quote ten levels a side around each reference price, then a
random stream of limit and marketable orders trades for a simulated hour, at
fixed timestamps. The clock is frozen at the end of that hour, so every screen
renders the same bytes on every run.
"""

from __future__ import annotations

import random

from lob.engine.commands import NewOrder
from lob.engine.prices import tick_size
from lob.engine.types import OrderType, Side, TimeInForce
from lob.sim.universe import load_universe
from lob.tui.embedded import EmbeddedSource
from lob.tui.source import SymbolInfo

START_NS = 1_764_081_000_000_000_000  # 2025-11-25 14:30:00 UTC, the 09:30 ET open
STEP_NS = 250_000_000


def seeded_source(symbols: int = 12, steps: int = 1_500, seed: int = 7) -> EmbeddedSource:
    """An embedded source whose market has traded for a while, with a frozen clock."""
    rng = random.Random(seed)
    universe = load_universe()[:symbols]
    now = [START_NS]
    source = EmbeddedSource(
        [SymbolInfo(s.symbol, s.name, s.reference_price) for s in universe],
        clock=lambda: now[0],
        description="embedded, seeded test market",
    )
    ids = iter(range(1, 10**9))
    fair = {s.symbol: s.reference_price for s in universe}
    drift = {s.symbol: rng.choice((-1, 1)) for s in universe}
    for s in universe:
        tick = tick_size(s.reference_price)
        for level in range(1, 11):
            for side, sign in ((Side.BUY, -1), (Side.SELL, 1)):
                price = s.reference_price + sign * level * tick
                source.execute(
                    NewOrder("mm", f"m{next(ids)}", s.symbol, side, 100 * rng.randint(1, 9), price)
                )
    for _ in range(steps):
        now[0] += STEP_NS
        s = universe[rng.randrange(len(universe))]
        tick = tick_size(fair[s.symbol])
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        if rng.random() < 0.35:
            source.execute(
                NewOrder(
                    f"flow{rng.randint(1, 5)}",
                    f"f{next(ids)}",
                    s.symbol,
                    side,
                    rng.choice((100, 100, 200, 300, 500)),
                    None,
                    OrderType.MARKET,
                    TimeInForce.IOC,
                )
            )
        else:
            fair[s.symbol] += rng.choice((-1, -1, 0, 1, 1, 1 if drift[s.symbol] > 0 else -1)) * tick
            offset = rng.randint(-1, 4) * tick
            price = fair[s.symbol] - offset if side is Side.BUY else fair[s.symbol] + offset
            source.execute(
                NewOrder("mm", f"m{next(ids)}", s.symbol, side, 100 * rng.randint(1, 5), price)
            )
    return source
