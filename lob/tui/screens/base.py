"""The frame every main screen shares: status line, body, command bar, footer.

Screens are switched with the number keys or Tab / Shift+Tab (``SCREENS`` is
their order); the command bar answers every screen's ``:`` key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from lob.tui.source import DataSource
from lob.tui.widgets.command_bar import CommandBar
from lob.tui.widgets.status import StatusLine

if TYPE_CHECKING:
    from lob.tui.app import WorkstationApp

__all__ = ["SCREENS", "WorkScreen"]

SCREENS = ("overview", "symbol", "blotter", "trades", "analytics", "feed")
"""Main screens in Tab order; number keys 1-6 pick them."""

TITLES = {
    "overview": "1 Market",
    "symbol": "2 Symbol",
    "blotter": "3 Blotter",
    "trades": "4 Trades",
    "analytics": "5 Stats",
    "feed": "6 Feed",
}


class WorkScreen(Screen[None]):
    """A main screen: subclasses give ``NAME`` and ``compose_body``."""

    NAME = "overview"
    AUTO_FOCUS: str | None = None
    BINDINGS = [  # noqa: RUF012
        Binding("tab", "app.cycle_screen(1)", "Next", show=False),
        Binding("shift+tab", "app.cycle_screen(-1)", "Prev", show=False),
        Binding("colon", "command_line", "Command", key_display=":"),
    ]

    def __init__(self, source: DataSource) -> None:
        super().__init__(name=self.NAME, id=f"screen-{self.NAME}")
        self.source = source

    @property
    def workstation(self) -> WorkstationApp:
        return cast("WorkstationApp", self.app)

    def compose(self) -> ComposeResult:
        yield StatusLine(
            self.source,
            " ".join(f"[{t}]" if n == self.NAME else t for n, t in TITLES.items()),
            id="status",
        )
        yield from self.compose_body()
        yield CommandBar(id="command-bar")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        return iter(())

    def focus_body(self) -> None:
        """Give the keyboard back to the screen's main widget (Esc in the command line)."""
        if self.AUTO_FOCUS:
            self.query_one(self.AUTO_FOCUS).focus()
        else:
            self.set_focus(None)

    def action_command_line(self) -> None:
        self.query_one(CommandBar).focus_input()

    async def on_command_bar_submitted(self, message: CommandBar.Submitted) -> None:
        ok, answer = await self.workstation.run_line(message.line)
        self.query_one(CommandBar).show(ok, answer)
