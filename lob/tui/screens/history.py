"""Trade history: every stock, or one, newest first, filterable by symbol.

The rows come from the data source's ``trade_history``; the line above the
table says where from (the history store of a server, or the in-memory trade
list of the embedded exchange).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from lob.engine.types import Side
from lob.tui import fmt
from lob.tui.screens.base import WorkScreen
from lob.tui.widgets.live import follow

__all__ = ["TradesScreen"]

LIMIT = 500


class TradesScreen(WorkScreen):
    NAME = "trades"
    AUTO_FOCUS = "#trades"
    BINDINGS = [  # noqa: RUF012
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "All stocks"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="trades-body"):
            yield Input(placeholder="symbol (empty: all stocks)", id="trade-filter")
            yield Static("", id="trades-source")
            table = DataTable[object](id="trades", cursor_type="row", zebra_stripes=True)
            yield table

    def on_mount(self) -> None:
        self.query_one("#trades", DataTable).add_columns(
            "Time", "Symbol", "Price", "Qty", "Aggressor", "Buyer", "Seller", "Trade"
        )
        follow(self.query_one("#trades"), self.source.state, self.reload, 1)

    async def on_screen_resume(self) -> None:
        await self.load()

    @property
    def symbol_filter(self) -> str | None:
        text = self.query_one("#trade-filter", Input).value.strip().upper()
        return text or None

    def reload(self) -> None:
        self.run_worker(self.load(), exclusive=True, group="trades")

    async def load(self) -> None:
        symbol = self.symbol_filter
        rows, label = await self.source.trade_history(symbol, LIMIT)
        which = symbol or "all stocks"
        self.query_one("#trades-source", Static).update(
            Text.assemble(
                (f" {which}: ", "bold"),
                (f"latest {len(rows)} trades ", ""),
                (f"from {label}", "dim"),
            )
        )
        table = self.query_one("#trades", DataTable)
        table.clear()
        for t in rows:
            if t.aggressor is None or t.aggressor == "":
                style, side = "bold yellow", "cross"
            else:
                style = "green" if t.aggressor is Side.BUY or t.aggressor == "buy" else "red"
                side = str(t.aggressor)
            table.add_row(
                fmt.clock_ms(t.ts),
                Text(t.symbol, style="bold"),
                Text(fmt.price(t.price), style=style, justify="right"),
                Text(fmt.qty(t.qty), justify="right"),
                Text(side, style=style),
                t.buy_account,
                t.sell_account,
                str(t.trade_id),
            )

    def action_filter(self) -> None:
        self.query_one("#trade-filter", Input).focus()

    async def action_clear_filter(self) -> None:
        self.query_one("#trade-filter", Input).value = ""
        self.query_one("#trades", DataTable).focus()
        await self.load()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "trade-filter":
            event.stop()
            await self.load()
            self.query_one("#trades", DataTable).focus()
