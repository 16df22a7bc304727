"""Analytics: VWAP and trade metrics per symbol, OHLCV bars, and market activity.

Computed from the session's trades as the workstation saw them
(``lob.tui.activity``), so the figures match the tape on screen.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from lob.tui import fmt
from lob.tui.activity import trade_metrics
from lob.tui.screens.base import WorkScreen
from lob.tui.widgets.live import follow
from lob.tui.widgets.movers import Movers

__all__ = ["AnalyticsScreen"]

BARS_SHOWN = 30


class AnalyticsScreen(WorkScreen):
    NAME = "analytics"
    AUTO_FOCUS = "#metrics"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="analytics-body"):
            with Vertical(id="analytics-main"):
                metrics = DataTable[object](id="metrics", cursor_type="row", zebra_stripes=True)
                metrics.border_title = "trade metrics (session)"
                yield metrics
                bars = DataTable[object](id="bars", cursor_type="row", zebra_stripes=True)
                yield bars
            with Vertical(id="analytics-side"):
                yield Static("", id="analytics-note")
                yield Movers(self.source, count=6, id="analytics-movers")

    def on_mount(self) -> None:
        self.query_one("#metrics", DataTable).add_columns(
            "Symbol", "Trades", "Volume", "Value $", "VWAP", "Avg size", "Buy %", "High", "Low"
        )
        self.query_one("#bars", DataTable).add_columns(
            "Bar", "Open", "High", "Low", "Close", "Volume", "VWAP"
        )
        self.query_one("#analytics-note", Static).update(
            Text(f"computed from this session's trades\n(bars of {self.bar_seconds} s)", "dim")
        )
        self.rebuild()
        follow(self.query_one("#metrics"), self.source.state, self.rebuild, 1)

    @property
    def bar_seconds(self) -> int:
        return self.source.state.bar_ns // 1_000_000_000

    def on_screen_resume(self) -> None:
        self.rebuild()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "metrics" and event.row_key.value:
            self.show_bars(str(event.row_key.value))

    def rebuild(self) -> None:
        table = self.query_one("#metrics", DataTable)
        row = table.cursor_row
        table.clear()
        for m in trade_metrics(self.source.state):
            table.add_row(
                Text(m.symbol, style="bold"),
                Text(fmt.qty(m.trades), justify="right"),
                Text(fmt.qty(m.volume), justify="right"),
                Text(f"{m.notional / 10_000:,.0f}", justify="right"),
                Text(fmt.avg(m.vwap), style="yellow", justify="right"),
                Text(f"{m.avg_size:,.0f}", justify="right"),
                Text(f"{100 * m.buy_share:.0f}%", justify="right"),
                Text(fmt.price(m.high), justify="right"),
                Text(fmt.price(m.low), justify="right"),
                key=m.symbol,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), animate=False)
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.show_bars(str(key))

    def show_bars(self, symbol: str) -> None:
        sym = self.source.state.symbols.get(symbol)
        bars = self.query_one("#bars", DataTable)
        bars.border_title = f"{symbol} OHLCV bars"
        bars.clear()
        if sym is None:
            return
        for bar in reversed(sym.bars[-BARS_SHOWN:]):
            style = "green" if bar.close >= bar.open else "red"
            bars.add_row(
                fmt.clock(bar.start),
                Text(fmt.price(bar.open), justify="right"),
                Text(fmt.price(bar.high), justify="right"),
                Text(fmt.price(bar.low), justify="right"),
                Text(fmt.price(bar.close), style=style, justify="right"),
                Text(fmt.qty(bar.volume), justify="right"),
                Text(fmt.avg(bar.vwap), style="yellow", justify="right"),
            )
