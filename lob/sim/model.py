"""The simulator's knobs, and how each symbol's parameters follow from them.

``ModelConfig`` holds the model-wide choices (shares of the message rate, tail
exponents, agent counts); ``SymbolModel.build`` turns a ``Security`` and the
symbol's share of the message rate into concrete per-symbol parameters:

- The *unit* of a symbol is its price's standard deviation over one second,
  in ticks: ``reference_price * daily_volatility / sqrt(23,400) / tick``,
  at least 1. Distances (limit placement, quote half-spreads, signal
  thresholds) are measured in units, so a $900 stock and a $0.43 stock get
  books of the same shape in ticks scaled to how far each moves.
- Rates are shares of the symbol's message rate, so the mix of orders,
  cancels and trades does not change with ``--rate``; only the clock does.
- Sizes are round lots with some odd lots; odd lots are more likely the
  higher the price (as in US markets), and sub-$5 stocks trade in bigger lots.

docs/simulator.md explains the values and what they produce.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final

from lob.engine.prices import PRICE_SCALE, tick_size
from lob.sim.processes import SECONDS_PER_DAY
from lob.sim.universe import Security

__all__ = ["ModelConfig", "SymbolModel"]

ROUND_LOT: Final = 100
SIZE_TABLE: Final = 1024  # power of two: sizes are drawn as table[getrandbits(10)]


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Model-wide parameters; the defaults are what docs/simulator.md measures."""

    # Noise (zero-intelligence) traders.
    noise_share: float = 0.55
    """Share of the message rate that is noise-trader order arrivals."""
    market_order_share: float = 0.10
    """Share of noise arrivals that are market orders (the rest are limit orders)."""
    inside_spread_prob: float = 0.03
    """Chance that a noise limit order improves the quote when the spread allows."""
    distance_tail: float = 0.9
    """Tail exponent of the placement distance from the touch, P(d > x) ~ x^-tail."""
    max_distance_units: float = 40.0
    """Placement distances are capped at this many units from the touch."""
    noise_book_orders: int = 300
    noise_order_life: float = 5.0
    """Longest mean life (seconds) of a noise order: at low rates the book thins
    instead of going stale."""
    """Resting noise orders per symbol the per-order cancel rate is chosen to keep."""
    hawkes_branching: float = 0.6
    """Share of noise arrivals triggered by earlier ones (Hawkes alpha / beta)."""
    hawkes_decay: float = 2.0
    """How fast an arrival's excitation fades, per second (Hawkes beta)."""
    noise_accounts: int = 32

    # Market makers.
    market_makers: int = 3
    mm_requote_share: float = 0.30
    """Share of the message rate spent on market-maker requote decisions."""
    mm_half_spreads: tuple[float, ...] = (1.0, 1.5, 2.5)
    """Half-spread of each market maker, in units (at least one tick)."""
    mm_quote_lots: tuple[int, ...] = (3, 5, 8)
    mm_inventory_lots: int = 60
    """Beyond this many lots of inventory a market maker quotes only the reducing side."""
    mm_skew_lots: int = 8
    """Inventory (in lots) that shifts a market maker's quotes by one unit."""
    mm_estimate_noise: float = 0.15
    """Standard deviation of a market maker's fair-value error, in units."""

    # Informed traders: momentum and value.
    momentum_share: float = 0.003
    value_share: float = 0.008
    """Shares of the message rate spent on momentum / value trading decisions."""
    child_share: float = 0.05
    """Rate of child orders per active parent order, as a share of the message rate."""
    min_value_rate: float = 0.5
    """Value decisions per second at least, however low the message rate."""
    min_child_rate: float = 2.0
    """Child orders per second per parent at least."""
    max_parents: int = 3
    parent_children: float = 12.0
    """Mean number of child orders per parent (meta-)order."""
    momentum_horizon: float = 30.0
    """Seconds of the moving average momentum traders compare the mid with."""
    momentum_threshold: float = 1.0
    """Trend (in standard deviations over the horizon) that makes a momentum trader act."""
    value_threshold: float = 2.0
    """Gap between fair value and mid, in units, that makes a value trader act."""

    # The latent fair value.
    vol_of_vol: float = 1.2
    vol_halflife: float = 300.0
    jump_rate: float = 1.0 / 600.0
    jump_variance_share: float = 0.05
    """Share of the daily variance that comes from jumps."""


class SymbolModel:
    """Per-symbol parameters derived from a ``Security`` and its message rate."""

    __slots__ = (
        "cancel_hazard",
        "child_rate",
        "hawkes_alpha",
        "hawkes_beta",
        "hawkes_mu",
        "jump_rate",
        "jump_scale",
        "lot",
        "market_rate",
        "mm_rate",
        "momentum_rate",
        "noise_rate",
        "odd_lot_prob",
        "rate",
        "security",
        "sigma",
        "sizes",
        "tick",
        "unit",
        "value_rate",
        "vol_halflife",
        "vol_of_vol",
    )

    def __init__(self, security: Security, rate: float, config: ModelConfig, rng: random.Random):
        if rate <= 0:
            raise ValueError("the message rate must be positive")
        self.security = security
        self.rate = rate
        price = security.reference_price
        self.tick = tick_size(price)
        daily = security.volatility
        second = daily / math.sqrt(SECONDS_PER_DAY)
        self.unit = max(1.0, price * second / self.tick)
        # Split the per-second variance between diffusion (scaled by the mean
        # square of the volatility multiplier) and jumps.
        vv = config.vol_of_vol
        share = config.jump_variance_share
        self.sigma = second * math.sqrt((1.0 - share) / math.exp(vv * vv))
        # Laplace jumps of mean size b have variance 2 b^2.
        self.jump_scale = second * math.sqrt(share / (2.0 * config.jump_rate))
        self.jump_rate = config.jump_rate
        self.vol_of_vol = vv
        self.vol_halflife = config.vol_halflife
        self.noise_rate = rate * config.noise_share
        self.market_rate = self.noise_rate * config.market_order_share
        limit_rate = self.noise_rate - self.market_rate
        self.cancel_hazard = max(
            limit_rate / config.noise_book_orders, 1.0 / config.noise_order_life
        )
        self.hawkes_beta = config.hawkes_decay
        self.hawkes_alpha = config.hawkes_branching * config.hawkes_decay
        self.hawkes_mu = self.noise_rate * (1.0 - config.hawkes_branching)
        self.mm_rate = rate * config.mm_requote_share / max(1, config.market_makers)
        self.momentum_rate = rate * config.momentum_share
        # Value traders watch the fair value, which moves in seconds whatever
        # the message rate: at low rates they keep a floor of activity.
        self.value_rate = max(rate * config.value_share, config.min_value_rate)
        self.child_rate = max(rate * config.child_share, config.min_child_rate)
        dollars = price / PRICE_SCALE
        self.lot = ROUND_LOT * (10 ** max(0, math.ceil(math.log10(5.0 / dollars))))
        self.odd_lot_prob = min(0.5, 0.04 + dollars / 1500.0) if self.lot == ROUND_LOT else 0.02
        self.sizes = [self._draw_size(rng) for _ in range(SIZE_TABLE)]

    def _draw_size(self, rng: random.Random) -> int:
        """One order size: an odd lot, or a heavy-tailed number of round lots."""
        if rng.random() < self.odd_lot_prob:
            return rng.randint(1, ROUND_LOT - 1)
        lots: int = min(50, int((1.0 - rng.random()) ** -0.8))  # P(lots > k) ~ k^-1.25
        return lots * int(self.lot)
