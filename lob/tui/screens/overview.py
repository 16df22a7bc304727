"""Market overview: the watchlist with search, and the session's movers."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input

from lob.tui.screens.base import WorkScreen
from lob.tui.widgets.movers import Movers
from lob.tui.widgets.watchlist import Watchlist

__all__ = ["OverviewScreen"]


class OverviewScreen(WorkScreen):
    NAME = "overview"
    AUTO_FOCUS = "#watchlist"
    BINDINGS = [  # noqa: RUF012
        Binding("slash", "search", "Search", key_display="/"),
        Binding("escape", "clear_search", "Clear", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="overview-body"):
            with Vertical(id="watch-column"):
                yield Input(placeholder="search symbol or name, Enter to open", id="search")
                yield Watchlist(self.source, id="watchlist")
            yield Movers(self.source, id="movers")

    def on_mount(self) -> None:
        self.query_one(Watchlist).focus()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("active")
        search.focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        search.remove_class("active")
        self.query_one(Watchlist).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.query_one(Watchlist).set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "search":
            return
        event.stop()
        watchlist = self.query_one(Watchlist)
        symbol = watchlist.selected_symbol
        if symbol is not None:
            self.workstation.open_symbol(symbol)

    def on_watchlist_opened(self, message: Watchlist.Opened) -> None:
        self.workstation.open_symbol(message.symbol)
