"""The top line: which exchange, which account, total P&L, the exchange clock."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from lob.tui import fmt
from lob.tui.source import DataSource
from lob.tui.widgets.live import follow

__all__ = ["StatusLine"]


class StatusLine(Widget):
    """One line of context above every screen."""

    def __init__(self, source: DataSource, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source
        self.title = title

    def on_mount(self) -> None:
        follow(self, self.source.state, self.refresh, 2)

    def render(self) -> Text:
        state = self.source.state
        realized = unrealized = 0
        for symbol in state.positions:
            r, u = state.pnl(symbol)
            realized += r
            unrealized += u
        total = realized + unrealized
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(" lob ", style="bold reverse")
        out.append(f" {fmt.clock(self.source.now())} ET ", style="bold")
        out.append(f"│ {self.title} ", style="bold")
        out.append(f"│ {self.source.description} ", style="dim")
        out.append(f"│ account {state.account} ", style="cyan")
        out.append("│ P&L ")
        out.append(fmt.money(total), style=fmt.change_style(total))
        out.append(f" │ {len(state.open_orders())} working")
        return out
