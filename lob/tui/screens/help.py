"""The key map, shown by ``?``."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["KEYS", "HelpScreen"]

KEYS = (
    ("1-6, Tab, Shift+Tab", "switch screen: market, symbol, blotter, trades, analytics, feed"),
    ("/", "search symbols (market), filter trades (trades)"),
    ("Enter", "open the symbol under the cursor"),
    ("↑ ↓, j k", "move"),
    ("Esc", "back out: close a dialog, leave a symbol, clear a search"),
    ("b / s", "order ticket to buy / sell at the ladder's cursor price (symbol)"),
    ("t", "order ticket for the current symbol"),
    (":", "command line: buy 100 AAPL 187.25 ioc, sell 50 MSFT mkt, cancel T1"),
    ("c / r", "cancel / replace the selected order (blotter)"),
    ("s / r", "cycle sort column / reverse (market)"),
    ("?", "this help"),
    ("q, Ctrl+C", "quit (Ctrl+C from anywhere, even a dialog)"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [  # noqa: RUF012
        Binding("escape,question_mark,q", "dismiss_help", "Close"),
    ]

    def compose(self) -> ComposeResult:
        table = Table(title="lob keys", box=None, padding=(0, 2), title_style="bold")
        table.add_column("Key", style="bold cyan", no_wrap=True)
        table.add_column("Does")
        for key, does in KEYS:
            table.add_row(key, does)
        with Vertical(id="help-box"):
            yield Static(table)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
