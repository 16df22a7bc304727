"""Time and sales: the latest prints of one symbol, newest on top.

Each print is coloured by its aggressor: green when a buyer lifted the offer,
red when a seller hit the bid. A cross print (opening, closing or halt cross)
has no aggressor: it is shown in yellow as ``cross``, neither a buy nor a sell.
Prints that involve the user are marked ◆.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.reactive import reactive

from lob.engine.types import Side
from lob.tui import fmt
from lob.tui.source import DataSource
from lob.tui.widgets.live import TAPE_HZ, Line, LinesWidget, follow, style

__all__ = ["TimeAndSales"]

HEADER = f"{'TIME':<12} {'PRICE':>9} {'SIZE':>7}  SIDE"


class TimeAndSales(LinesWidget):
    """The tape of one symbol (see the module docstring)."""

    symbol: reactive[str] = reactive("")

    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.source = source

    def on_mount(self) -> None:
        follow(self, self.source.state, self.redraw, TAPE_HZ)

    def watch_symbol(self) -> None:
        self.redraw()

    def build(self, width: int, height: int) -> list[Line]:
        state = self.source.state
        lines: list[Line] = [[Segment(HEADER, style("bold"))]]
        sym = state.symbols.get(self.symbol)
        if sym is None:
            return lines
        tape = sym.tape
        me = state.account
        dim, mark = style("dim"), style("bold cyan")
        for i in range(1, min(height - 1, len(tape)) + 1):
            t = tape[-i]
            if t.aggressor is None:
                colour, side = style("bold yellow"), "cross"
            elif t.aggressor is Side.BUY:
                colour, side = style("green"), "buy "
            else:
                colour, side = style("red"), "sell"
            line = [
                Segment(f"{fmt.clock_ms(t.ts):<12} ", dim),
                Segment(f"{fmt.price(t.price):>9} {t.qty:>7,}  {side}", colour),
            ]
            if me in (t.buy_account, t.sell_account):
                line.append(Segment(" ◆", mark))
            lines.append(line)
        return lines
