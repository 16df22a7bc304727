"""The lob workstation: a Textual app over one ``DataSource``.

Six main screens (market overview, symbol, blotter, trades, analytics, feed
health) are installed once and switched with the number keys or Tab, so each
keeps its cursor and scroll; dialogs (order ticket, replace, help) are pushed
over them. The app owns no market data: everything comes from the source it is
handed, which is what lets tests run it on an in-process exchange with a
seeded market and ``lob tui --url`` run it on a remote server.
"""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen

from lob.client.rest import LobApiError
from lob.engine.types import Side
from lob.tui.commands import CancelLine, CommandLineError, ReplaceLine, parse_line
from lob.tui.screens.analytics import AnalyticsScreen
from lob.tui.screens.base import SCREENS, WorkScreen
from lob.tui.screens.blotter import BlotterScreen
from lob.tui.screens.feed import FeedScreen
from lob.tui.screens.help import HelpScreen
from lob.tui.screens.history import TradesScreen
from lob.tui.screens.overview import OverviewScreen
from lob.tui.screens.symbol import SymbolScreen
from lob.tui.screens.ticket import OrderTicket, describe
from lob.tui.source import DataSource

__all__ = ["WorkstationApp"]

_SCREEN_TYPES: tuple[type[WorkScreen], ...] = (
    OverviewScreen,
    SymbolScreen,
    BlotterScreen,
    TradesScreen,
    AnalyticsScreen,
    FeedScreen,
)


class WorkstationApp(App[None]):
    """The trading workstation (see the module docstring)."""

    CSS_PATH = "app.tcss"
    TITLE = "lob"
    ENABLE_COMMAND_PALETTE = False
    AUTO_FOCUS = None  # each screen names its own; the command bar only on ":"
    BINDINGS = [  # noqa: RUF012
        Binding("q", "quit", "Quit"),
        # Priority, so Ctrl+C quits from any screen or input as a terminal user expects.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("t", "ticket", "Ticket"),
        *(
            Binding(str(i + 1), f"show('{name}')", name.title(), show=False)
            for i, name in enumerate(SCREENS)
        ),
    ]

    def __init__(self, source: DataSource, symbol: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.symbol = symbol or ""
        self.start_error: tuple[str, str] | None = None
        """(code, message) when the source could not start; the app exits with it."""

    async def on_mount(self) -> None:
        try:
            await self.source.start()
        except (OSError, TimeoutError, LobApiError) as exc:
            code = getattr(exc, "code", "unavailable")
            self.start_error = (str(code), str(getattr(exc, "message", None) or exc))
            self.exit(return_code=2)
            return
        symbols = [info.symbol for info in self.source.symbols()]
        if self.symbol not in symbols:
            self.symbol = symbols[0] if symbols else ""
        for screen_type in _SCREEN_TYPES:
            self.install_screen(screen_type(self.source), screen_type.NAME)
        await self.push_screen("overview")

    @property
    def _symbol_screen(self) -> SymbolScreen:
        screen = self.get_screen("symbol")
        assert isinstance(screen, SymbolScreen)
        return screen

    async def on_unmount(self) -> None:
        await self.source.stop()

    # -- navigation ----------------------------------------------------------

    @property
    def current_name(self) -> str:
        return self.screen.name or ""

    def action_show(self, name: str) -> None:
        if isinstance(self.screen, ModalScreen) or name not in SCREENS:
            return
        if self.current_name != name:
            self.switch_screen(name)

    def action_cycle_screen(self, step: int) -> None:
        index = SCREENS.index(self.current_name) if self.current_name in SCREENS else 0
        self.action_show(SCREENS[(index + step) % len(SCREENS)])

    def open_symbol(self, symbol: str) -> None:
        """Show ``symbol`` on the symbol screen."""
        self.symbol = symbol
        if self.current_name == "symbol":
            self._symbol_screen.set_symbol(symbol)
        else:
            self.action_show("symbol")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_ticket(self) -> None:
        self.open_ticket(self.symbol, Side.BUY, None)

    def open_ticket(self, symbol: str, side: Side, price: int | None) -> None:
        if isinstance(self.screen, ModalScreen) or not symbol:
            return
        if price is None:
            book = self.source.book(symbol, depth=1)
            levels = book.asks if side is Side.BUY else book.bids
            price = levels[0].price if levels else self.source.state.symbols[symbol].reference
        self.push_screen(OrderTicket(symbol, side, price))

    # -- the command line ----------------------------------------------------

    async def run_line(self, line: str) -> tuple[bool, str]:
        """Run one command line; return (accepted, what to show)."""
        try:
            parsed = parse_line(line)
        except CommandLineError as exc:
            return False, f"{exc.code}: {exc.message}"
        if isinstance(parsed, CancelLine):
            result = await self.source.cancel(parsed.id)
            done = f"{parsed.id} cancelled"
        elif isinstance(parsed, ReplaceLine):
            result = await self.source.replace(parsed.id, parsed.price, parsed.qty)
            done = f"{parsed.id} replaced"
        else:
            if parsed.symbol not in self.source.state.symbols:
                return False, f"unknown_symbol: {parsed.symbol} is not traded here"
            result = await self.source.submit(parsed)
            done = f"{result.id}: {describe(parsed)}"
        if not result.ok:
            return False, f"{result.code}: {result.message}"
        return True, done
