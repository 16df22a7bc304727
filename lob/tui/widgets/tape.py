"""Time and sales: the latest prints of one symbol, newest on top.

Each print is coloured by its aggressor: green when a buyer lifted the offer,
red when a seller hit the bid. Prints that involve the user are marked.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from lob.engine.types import Side
from lob.tui import fmt
from lob.tui.source import DataSource
from lob.tui.widgets.live import LADDER_HZ, follow

__all__ = ["TimeAndSales"]


class TimeAndSales(Widget):
    """The tape of one symbol (see the module docstring)."""

    symbol: reactive[str] = reactive("")

    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source

    def on_mount(self) -> None:
        follow(self, self.source.state, self.refresh, LADDER_HZ)

    def render(self) -> Text:
        state = self.source.state
        sym = state.symbols.get(self.symbol)
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"{'TIME':<12} {'PRICE':>9} {'SIZE':>7}  SIDE", style="bold")
        if sym is None:
            return out
        rows = max(0, self.size.height - 1)
        tape = sym.tape
        me = state.account
        for i in range(1, min(rows, len(tape)) + 1):
            t = tape[-i]
            buy = t.aggressor is Side.BUY
            style = "green" if buy else "red"
            mine = me in (t.buy_account, t.sell_account)
            out.append("\n")
            out.append(f"{fmt.clock_ms(t.ts):<12} ", style="dim")
            out.append(f"{fmt.price(t.price):>9} {t.qty:>7,}  ", style=style)
            out.append("buy " if buy else "sell", style=style)
            if mine:
                out.append(" ◆", style="bold cyan")
        return out
