"""Limit Up-Limit Down: price bands around a rolling reference price.

The arithmetic of the LULD plan (Regulation NMS Plan to Address Extraordinary
Market Volatility):

- Reference price: the arithmetic mean price of the trades of the preceding
  five minutes; it moves only when the new mean differs from the current one
  by 1% or more. Before the first trade it is the opening price or, failing
  that, the symbol's reference (previous close).
- Percentage parameters by tier and reference price:

  ============================  ==================  ==================
  reference price               Tier 1              Tier 2
  ============================  ==================  ==================
  above $3.00                   5%                  10%
  $0.75 up to $3.00             20%                 20%
  below $0.75                   lesser of $0.15     lesser of $0.15
                                or 75%              or 75%
  ============================  ==================  ==================

- The parameters double from 9:30 to 9:45 for every stock, and from 15:35 to
  16:00 for Tier 2 stocks and Tier 1 stocks at $3.00 or less.
- Bands are the reference price plus and minus the parameter, rounded to the
  nearest penny.
- Limit state: the best offer at the lower band or the best bid at the upper
  band. A limit state that lasts 15 seconds pauses trading for five minutes;
  trading resumes through a cross.
"""

from __future__ import annotations

from collections import deque
from typing import Final, NamedTuple

__all__ = [
    "LIMIT_STATE_NS",
    "PAUSE_NS",
    "REFERENCE_WINDOW_NS",
    "Bands",
    "LuldMonitor",
    "price_bands",
]

SECOND: Final = 1_000_000_000
LIMIT_STATE_NS: Final = 15 * SECOND
PAUSE_NS: Final = 5 * 60 * SECOND
REFERENCE_WINDOW_NS: Final = 5 * 60 * SECOND

_PENNY: Final = 100
_THREE_DOLLARS: Final = 30_000
_SEVENTY_FIVE_CENTS: Final = 7_500
_FIFTEEN_CENTS: Final = 1_500


class Bands(NamedTuple):
    reference: int
    lower: int
    upper: int


def _round_penny(units: int) -> int:
    return (units + _PENNY // 2) // _PENNY * _PENNY


def price_bands(reference: int, tier: int, doubled: bool = False) -> Bands:
    """The LULD bands around ``reference`` (integer price units) for ``tier`` 1 or 2."""
    if tier not in (1, 2):
        raise ValueError(f"LULD tier must be 1 or 2: {tier!r}")
    factor = 2 if doubled else 1
    if reference > _THREE_DOLLARS:
        width = reference * (5 if tier == 1 else 10) * factor // 100
    elif reference >= _SEVENTY_FIVE_CENTS:
        width = reference * 20 * factor // 100
    else:
        width = min(_FIFTEEN_CENTS * factor, reference * 75 * factor // 100)
    lower = max(0, _round_penny(reference - width))
    upper = _round_penny(reference + width)
    return Bands(reference, lower, upper)


class LuldMonitor:
    """One symbol's LULD state: trades of the last five minutes, bands, limit state."""

    __slots__ = ("_sum", "_trades", "bands", "limit_since", "pause_until", "tier")

    def __init__(self, tier: int, reference: int) -> None:
        self.tier = tier
        self.bands = price_bands(reference, tier)
        self.limit_since: int | None = None
        self.pause_until: int | None = None
        self._trades: deque[tuple[int, int]] = deque()
        self._sum = 0

    def record_trade(self, ts: int, price: int) -> None:
        self._trades.append((ts, price))
        self._sum += price

    def update_reference(self, ts: int, doubled: bool) -> Bands | None:
        """Drop trades older than five minutes; return new bands if they moved."""
        trades = self._trades
        horizon = ts - REFERENCE_WINDOW_NS
        while trades and trades[0][0] <= horizon:
            self._sum -= trades.popleft()[1]
        current = self.bands.reference
        if trades:
            mean = self._sum // len(trades)
            if abs(mean - current) * 100 >= current:
                current = mean
        bands = price_bands(current, self.tier, doubled)
        if bands != self.bands:
            self.bands = bands
            return bands
        return None

    def reset_reference(self, reference: int, doubled: bool) -> Bands:
        """Start from a new reference (the price of a reopening or opening cross)."""
        self._trades.clear()
        self._sum = 0
        self.bands = price_bands(reference, self.tier, doubled)
        return self.bands

    def in_limit_state(self, best_bid: int | None, best_ask: int | None) -> bool:
        bands = self.bands
        return (best_ask is not None and best_ask <= bands.lower) or (
            best_bid is not None and best_bid >= bands.upper
        )
