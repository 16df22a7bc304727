"""One symbol: state bar, price ladder, statistics, imbalance, chart with VWAP, time and sales.

The state bar on top tells where the symbol is in its trading day (state,
LULD bands, last cross); the imbalance panel appears under the statistics
while a cross is ahead.

``b`` / ``s`` open the order ticket to buy or sell at the ladder's cursor
price; Escape goes back to the market overview.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical

from lob.engine.types import Side
from lob.tui.screens.base import WorkScreen
from lob.tui.widgets.chart import PriceChart
from lob.tui.widgets.ladder import PriceLadder
from lob.tui.widgets.market_state import ImbalancePanel, MarketStateBar
from lob.tui.widgets.stats import SymbolStatsPanel
from lob.tui.widgets.tape import TimeAndSales

__all__ = ["SymbolScreen"]


class SymbolScreen(WorkScreen):
    NAME = "symbol"
    AUTO_FOCUS = "#ladder"
    BINDINGS = [  # noqa: RUF012
        Binding("b", "ticket('buy')", "Buy"),
        Binding("s", "ticket('sell')", "Sell"),
        Binding("escape", "app.show('overview')", "Back"),
    ]

    symbol = ""

    def compose_body(self) -> ComposeResult:
        yield MarketStateBar(self.source, id="state-bar")
        with Horizontal(id="symbol-body"):
            yield PriceLadder(self.source, id="ladder")
            with Vertical(id="symbol-side"):
                yield SymbolStatsPanel(self.source, id="stats")
                yield ImbalancePanel(self.source, id="imbalance")
                yield PriceChart(self.source, id="chart")
                yield TimeAndSales(self.source, id="tape")

    def set_symbol(self, symbol: str) -> None:
        self.symbol = symbol
        self.query_one(PriceLadder).symbol = symbol
        self.query_one(SymbolStatsPanel).symbol = symbol
        self.query_one(PriceChart).symbol = symbol
        self.query_one(TimeAndSales).symbol = symbol
        self.query_one(MarketStateBar).symbol = symbol
        self.query_one(ImbalancePanel).symbol = symbol
        self.query_one("#imbalance").border_title = "imbalance"
        self.query_one("#ladder").border_title = f"{symbol} ladder"
        self.query_one("#stats").border_title = symbol
        self.query_one("#chart").border_title = "price and VWAP"
        self.query_one("#tape").border_title = "time and sales"

    def on_screen_resume(self) -> None:
        if self.symbol != self.workstation.symbol:
            self.set_symbol(self.workstation.symbol)
        self.query_one(PriceLadder).focus()

    def action_ticket(self, side: str) -> None:
        price = self.query_one(PriceLadder).cursor_price
        self.workstation.open_ticket(self.symbol, Side(side), price)
