"""The published quote and session statistics of one symbol, with the user's position.

Bid and ask come from ``DataSource.quote``: on the embedded exchange that is
``OrderBook.quote()``, so a level holding only odd lots is not the best bid or
offer here (the ladder still shows it).
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from lob.tui import fmt
from lob.tui.source import DataSource
from lob.tui.widgets.live import CHART_HZ, follow

__all__ = ["SymbolStatsPanel"]


class SymbolStatsPanel(Widget):
    """Bid/ask, spread, last, change, open/high/low, volume, VWAP, trades, position."""

    symbol: reactive[str] = reactive("")

    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source

    def on_mount(self) -> None:
        follow(self, self.source.state, self.refresh, CHART_HZ)

    def render(self) -> Table:
        state = self.source.state
        sym = state.symbols.get(self.symbol)
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(style="dim", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(style="dim", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        if sym is None:
            return table
        bid, ask = self.source.quote(self.symbol)
        spread = ask.price - bid.price if bid and ask else None
        change = Text(
            f"{fmt.price(abs(sym.change)) if sym.last else '-'} {fmt.pct(sym.change_pct)}",
            style=fmt.change_style(sym.change),
        )
        position = state.positions.get(self.symbol)
        realized, unrealized = state.pnl(self.symbol)
        table.add_row(
            "Bid",
            Text(
                f"{fmt.qty(bid.qty) if bid else '-'} @ {fmt.price(bid.price if bid else None)}",
                style="green",
            ),
            "Ask",
            Text(
                f"{fmt.price(ask.price if ask else None)} x {fmt.qty(ask.qty) if ask else '-'}",
                style="red",
            ),
        )
        table.add_row("Spread", fmt.price(spread), "Last", Text(fmt.price(sym.last), style="bold"))
        table.add_row("Change", change, "Ref", fmt.price(sym.reference))
        table.add_row("Open", fmt.price(sym.open), "High", fmt.price(sym.high))
        table.add_row("Low", fmt.price(sym.low), "VWAP", Text(fmt.avg(sym.vwap), style="yellow"))
        table.add_row("Volume", fmt.qty(sym.volume), "Trades", fmt.qty(sym.trades))
        table.add_row(
            "Position",
            Text(fmt.qty(position.qty if position else 0), style="bold cyan"),
            "Avg",
            fmt.avg(position.avg_price if position else None),
        )
        table.add_row(
            "P&L real",
            Text(fmt.money(realized), style=fmt.change_style(realized)),
            "P&L open",
            Text(fmt.money(unrealized), style=fmt.change_style(unrealized)),
        )
        return table
