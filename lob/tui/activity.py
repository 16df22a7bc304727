"""Market activity from the session's trades: most active, gainers, losers, metrics.

Computed from the workstation's own ``MarketState`` (every trade of this
session), so it works on the embedded exchange with no history store.
"""

from __future__ import annotations

from typing import NamedTuple

from lob.tui.model import MarketState, SymbolState

__all__ = ["Activity", "TradeMetrics", "market_activity", "trade_metrics"]


class Activity(NamedTuple):
    most_active: list[SymbolState]
    gainers: list[SymbolState]
    losers: list[SymbolState]


class TradeMetrics(NamedTuple):
    """Per-symbol trade statistics of the session."""

    symbol: str
    trades: int
    volume: int
    notional: int
    """Dollar value traded, in price units times shares."""
    vwap: int | None
    avg_size: float
    buy_volume: int
    sell_volume: int
    high: int | None
    low: int | None

    @property
    def buy_share(self) -> float:
        """Fraction of volume where the buyer was the aggressor."""
        return self.buy_volume / self.volume if self.volume else 0.0


def market_activity(state: MarketState, count: int = 5) -> Activity:
    traded = [s for s in state.symbols.values() if s.trades]
    most = sorted(traded, key=lambda s: (-s.volume, s.symbol))[:count]
    gainers = sorted((s for s in traded if s.change > 0), key=lambda s: (-s.change_pct, s.symbol))[
        :count
    ]
    losers = sorted((s for s in traded if s.change < 0), key=lambda s: (s.change_pct, s.symbol))[
        :count
    ]
    return Activity(most, gainers, losers)


def trade_metrics(state: MarketState) -> list[TradeMetrics]:
    buy_volume: dict[str, int] = {}
    for row in state.tape:
        if row.aggressor == "buy":
            buy_volume[row.symbol] = buy_volume.get(row.symbol, 0) + row.qty
    out = []
    for s in state.symbols.values():
        if not s.trades:
            continue
        buys = buy_volume.get(s.symbol, 0)
        out.append(
            TradeMetrics(
                s.symbol,
                s.trades,
                s.volume,
                s.notional,
                s.vwap,
                s.volume / s.trades,
                buys,
                s.volume - buys,
                s.high,
                s.low,
            )
        )
    out.sort(key=lambda m: (-m.notional, m.symbol))
    return out
