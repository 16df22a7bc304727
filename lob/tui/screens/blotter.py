"""The blotter: my working orders, my fills, and position and P&L per symbol.

On the orders table ``c`` cancels the order under the cursor and ``r`` opens
the replace dialog; Tab-free focus moves between tables with ``o``/``f``/``p``.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable

from lob.tui import fmt
from lob.tui.screens.base import WorkScreen
from lob.tui.widgets.live import TABLE_HZ, follow

__all__ = ["BlotterScreen"]


def _side(side: str) -> Text:
    return Text(side, style="green" if side == "buy" else "red")


class BlotterScreen(WorkScreen):
    NAME = "blotter"
    AUTO_FOCUS = "#orders"
    BINDINGS = [  # noqa: RUF012
        Binding("c", "cancel_order", "Cancel order"),
        Binding("r", "replace_order", "Replace"),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
        Binding("escape", "app.show('overview')", "Back"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="blotter-body"):
            orders = DataTable[object](id="orders", cursor_type="row", zebra_stripes=True)
            orders.border_title = "working orders  (c cancel, r replace)"
            yield orders
            with Horizontal(id="blotter-lower"):
                fills = DataTable[object](id="fills", cursor_type="row", zebra_stripes=True)
                fills.border_title = "fills"
                yield fills
                positions = DataTable[object](id="positions", cursor_type="row")
                positions.border_title = "positions and P&L"
                yield positions

    def on_mount(self) -> None:
        self.query_one("#orders", DataTable).add_columns(
            "ID", "Symbol", "Side", "Type", "Price", "Open", "Filled", "TIF", "Status"
        )
        self.query_one("#fills", DataTable).add_columns(
            "Time", "ID", "Symbol", "Side", "Price", "Qty", "Liq"
        )
        self.query_one("#positions", DataTable).add_columns(
            "Symbol", "Position", "Avg", "Last", "Realised", "Open P&L", "Total"
        )
        self.rebuild()
        follow(self.query_one("#orders"), self.source.state, self.rebuild, TABLE_HZ)

    def on_screen_resume(self) -> None:
        self.rebuild()
        self.query_one("#orders", DataTable).focus()

    def rebuild(self) -> None:
        state = self.source.state
        orders = self.query_one("#orders", DataTable)
        row = orders.cursor_row
        orders.clear()
        for o in state.open_orders():
            orders.add_row(
                Text(o.id, style="bold cyan"),
                o.symbol,
                _side(o.side),
                o.order_type,
                Text(fmt.price(o.price), justify="right"),
                Text(fmt.qty(o.qty), justify="right"),
                Text(fmt.qty(o.filled), justify="right"),
                o.tif,
                o.status,
                key=o.id,
            )
        if orders.row_count:
            orders.move_cursor(row=min(row, orders.row_count - 1), animate=False)
        fills = self.query_one("#fills", DataTable)
        if fills.row_count != len(state.fills):
            fills.clear()
            for f in reversed(state.fills[-500:]):
                fills.add_row(
                    fmt.clock(f.ts),
                    f.id,
                    f.symbol,
                    _side(f.side),
                    Text(fmt.price(f.price), justify="right"),
                    Text(fmt.qty(f.qty), justify="right"),
                    f.liquidity,
                )
        positions = self.query_one("#positions", DataTable)
        positions.clear()
        for symbol in sorted(state.positions):
            p = state.positions[symbol]
            realized, unrealized = state.pnl(symbol)
            total = realized + unrealized
            positions.add_row(
                symbol,
                Text(fmt.qty(p.qty), style="bold cyan", justify="right"),
                Text(fmt.avg(p.avg_price), justify="right"),
                Text(fmt.price(state.symbols[symbol].last), justify="right"),
                Text(fmt.money(realized), style=fmt.change_style(realized), justify="right"),
                Text(fmt.money(unrealized), style=fmt.change_style(unrealized), justify="right"),
                Text(fmt.money(total), style=fmt.change_style(total), justify="right"),
            )

    def _selected_id(self) -> str | None:
        orders = self.query_one("#orders", DataTable)
        if not orders.row_count:
            return None
        key = orders.coordinate_to_cell_key(orders.cursor_coordinate).row_key
        return str(key.value)

    def action_cursor(self, rows: int) -> None:
        table = self.focused
        if isinstance(table, DataTable):
            table.move_cursor(row=table.cursor_row + rows)

    async def action_cancel_order(self) -> None:
        id = self._selected_id()
        if id is None:
            self.notify("no working order selected", severity="warning")
            return
        ok, message = await self.workstation.run_line(f"cancel {id}")
        self.notify(message, severity="information" if ok else "error")
        self.rebuild()

    def action_replace_order(self) -> None:
        id = self._selected_id()
        order = self.source.state.orders.get(id or "")
        if order is None:
            self.notify("no working order selected", severity="warning")
            return
        from lob.tui.screens.ticket import ReplaceDialog

        self.app.push_screen(ReplaceDialog(order.id, order.symbol, order.price, order.qty))
