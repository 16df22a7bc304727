"""The realism report: stylized facts of market data, measured on a run.

Each figure is a property real equity markets are known to show; the model is
built to show it too, and docs/simulator.md gives the range a default run
lands in and why.

- ``spread``: the bid-ask spread in ticks, sampled once a second (positive,
  a few ticks).
- ``cancel_to_order``: cancels per order, a replace counting as both
  (most orders are cancelled, not filled).
- ``returns``: log returns of the mid over ``horizon_seconds`` (60 when the
  run has enough minutes, shorter otherwise): excess kurtosis (heavy tails,
  0 for a normal law) and the autocorrelation of absolute returns
  (volatility clustering), standardised per symbol and pooled.
- ``trade_signs``: autocorrelation of the signs of trades (+1 buyer-initiated,
  -1 seller-initiated) at a few lags (order flow persists).
- ``depth``: mean resting quantity at 0..9 ticks from each side's best price.

Pure Python, no numpy: the inputs are at most a few hundred thousand numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lob.sim.market import Market

__all__ = ["autocorrelation", "excess_kurtosis", "realism_report"]

RETURN_HORIZONS = (60, 30, 10, 5, 1)
"""Candidate return horizons in seconds, longest first."""
MIN_RETURNS = 60
"""A horizon is used when the run yields at least this many returns in total."""
SIGN_LAGS = (1, 2, 5, 10, 20)
ABS_RETURN_LAGS = (1, 2, 5)


def excess_kurtosis(values: Sequence[float]) -> float:
    """Sample excess kurtosis (0 for a normal law); 0.0 for fewer than 4 values."""
    n = len(values)
    if n < 4:
        return 0.0
    mean = sum(values) / n
    m2 = sum((v - mean) ** 2 for v in values) / n
    if m2 == 0:
        return 0.0
    m4 = sum((v - mean) ** 4 for v in values) / n
    return m4 / (m2 * m2) - 3.0


def autocorrelation(series: Sequence[Sequence[float]], lag: int) -> float:
    """Autocorrelation at ``lag`` of several series pooled (each demeaned on its own)."""
    num = 0.0
    den = 0.0
    for values in series:
        n = len(values)
        if n <= lag:
            continue
        mean = sum(values) / n
        centred = [v - mean for v in values]
        den += sum(c * c for c in centred)
        num += sum(centred[i] * centred[i + lag] for i in range(n - lag))
    return num / den if den else 0.0


def _quantile(sorted_values: Sequence[int], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = q * (len(sorted_values) - 1)
    low = int(index)
    high = min(low + 1, len(sorted_values) - 1)
    value = sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (index - low)
    return round(value, 4)


def _standardised(values: list[float]) -> list[float]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    return [(v - mean) / sd for v in values] if sd else []


def _returns(markets: Sequence[Market], sample_interval: float) -> dict[str, Any]:
    horizon = RETURN_HORIZONS[-1]
    for candidate in RETURN_HORIZONS:
        step = max(1, round(candidate / sample_interval))
        if sum(max(0, (len(m.mids) - 1) // step) for m in markets) >= MIN_RETURNS:
            horizon = candidate
            break
    step = max(1, round(horizon / sample_interval))
    pooled: list[float] = []
    absolute: list[list[float]] = []
    for m in markets:
        mids = m.mids[::step]
        series = [math.log(b / a) for a, b in itertools.pairwise(mids) if a > 0 and b > 0]
        if len(series) < 2:
            continue
        standard = _standardised(series)
        pooled.extend(standard)
        absolute.append([abs(v) for v in standard])
    return {
        "horizon_seconds": horizon,
        "count": len(pooled),
        "excess_kurtosis": round(excess_kurtosis(pooled), 4),
        "abs_autocorrelation": {
            str(lag): round(autocorrelation(absolute, lag), 4) for lag in ABS_RETURN_LAGS
        },
    }


def realism_report(markets: Sequence[Market], sample_interval: float) -> dict[str, Any]:
    """Every stylized fact of the run, as a JSON-ready dict (numbers rounded)."""
    spreads = sorted(s for m in markets for s in m.spreads)
    orders = sum(m.orders for m in markets)
    cancels = sum(m.cancels for m in markets)
    replaces = sum(m.replaces for m in markets)
    trades = sum(m.trades for m in markets)
    messages = orders + cancels + replaces
    depth: dict[str, Any] = {}
    for m in markets:
        n = m.depth_samples or 1
        depth[m.symbol] = {
            "bid": [round(q / n, 1) for q in m.depth_bid],
            "ask": [round(q / n, 1) for q in m.depth_ask],
        }
    return {
        "spread": {
            "samples": len(spreads),
            "mean_ticks": round(sum(spreads) / len(spreads), 4) if spreads else 0.0,
            "median_ticks": _quantile(spreads, 0.5),
            "p05_ticks": _quantile(spreads, 0.05),
            "p95_ticks": _quantile(spreads, 0.95),
            "min_ticks": spreads[0] if spreads else 0,
            "one_tick_share": round(spreads.count(1) / len(spreads), 4) if spreads else 0.0,
            "per_symbol_mean_ticks": {
                m.symbol: round(sum(m.spreads) / len(m.spreads), 4) if m.spreads else 0.0
                for m in markets
            },
        },
        "cancel_to_order": round((cancels + replaces) / (orders + replaces), 4)
        if orders + replaces
        else 0.0,
        "messages_per_trade": round(messages / trades, 4) if trades else 0.0,
        "returns": _returns(markets, sample_interval),
        "trade_signs": {
            "count": sum(len(m.signs) for m in markets),
            "buy_share": round(
                sum(1 for m in markets for s in m.signs if s > 0)
                / max(1, sum(len(m.signs) for m in markets)),
                4,
            ),
            "autocorrelation": {
                str(lag): round(autocorrelation([m.signs for m in markets], lag), 4)
                for lag in SIGN_LAGS
            },
        },
        "depth": depth,
    }
