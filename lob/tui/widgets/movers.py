"""Most active, gainers and losers of the session, side by side."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from lob.tui import fmt
from lob.tui.activity import market_activity
from lob.tui.model import SymbolState
from lob.tui.source import DataSource
from lob.tui.widgets.live import TABLE_HZ, follow

__all__ = ["Movers"]


def _table(title: str, rows: list[SymbolState], volume: bool) -> Table:
    table = Table(title=title, title_style="bold", box=None, expand=True, padding=(0, 1))
    table.add_column("Sym", no_wrap=True)
    table.add_column("Last", justify="right", no_wrap=True)
    table.add_column("Volume" if volume else "Chg %", justify="right", no_wrap=True)
    for s in rows:
        style = fmt.change_style(s.change)
        table.add_row(
            s.symbol,
            fmt.price(s.last),
            fmt.qty(s.volume) if volume else Text(fmt.pct(s.change_pct), style=style),
        )
    if not rows:
        table.add_row(Text("none yet", style="dim"), "", "")
    return table


class Movers(Widget):
    """Market activity panels (``lob.tui.activity.market_activity``)."""

    def __init__(self, source: DataSource, count: int = 5, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source
        self.count = count

    def on_mount(self) -> None:
        follow(self, self.source.state, self.refresh, TABLE_HZ / 2)

    def render(self) -> Group:
        activity = market_activity(self.source.state, self.count)
        return Group(
            _table("Most active", activity.most_active, True),
            Text(""),
            _table("Gainers", activity.gainers, False),
            Text(""),
            _table("Losers", activity.losers, False),
        )
