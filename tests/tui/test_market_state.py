"""The trading day on the workstation: state bar, imbalance panel, cross prints, Ctrl+C.

The embedded source runs on a frozen clock; the tests move the engine's state
machine themselves (``engine.set_state``, ``engine.imbalances``) and hand the
events to the source as the embedded exchange does.
"""

from __future__ import annotations

from textual.pilot import Pilot

from lob.engine.commands import NewOrder
from lob.engine.events import Crossed, Imbalance, Trade
from lob.engine.prices import format_price, parse_price
from lob.engine.types import CrossType, Side, TradingState
from lob.tui.app import WorkstationApp
from lob.tui.embedded import EmbeddedSource
from lob.tui.screens.ticket import OrderTicket
from lob.tui.widgets.market_state import ImbalancePanel, MarketStateBar
from lob.tui.widgets.tape import TimeAndSales
from lob.tui.widgets.watchlist import Watchlist
from tests.tui.test_app import best, drive

S = TradingState


def set_state(source: EmbeddedSource, symbol: str, state: TradingState) -> None:
    source.apply(source.engine.set_state(symbol, state, source.now(), "admin"))


def bar_text(app: WorkstationApp) -> str:
    return str(app.screen.query_one(MarketStateBar).render())


def panel_text(app: WorkstationApp) -> str:
    return str(app.screen.query_one(ImbalancePanel).render())


def watch_row(app: WorkstationApp, symbol: str) -> str:
    [line] = [ln for ln in app.screen.query_one(Watchlist).lines_text() if f" {symbol} " in ln]
    return line


def test_state_bar_halt_then_halt_cross_shows_each_state_and_the_cross(
    app: WorkstationApp, source: EmbeddedSource
) -> None:
    async def script(pilot: Pilot[None]) -> None:
        assert watch_row(app, "AAPL").split()[1] == "CONT"
        await pilot.press("2")
        await pilot.pause()
        assert app.screen.query_one(MarketStateBar).symbol == "AAPL"
        assert bar_text(app).startswith(" CONTINUOUS ")
        assert "no cross yet" in bar_text(app)
        assert not app.screen.query_one(ImbalancePanel).display

        set_state(source, "AAPL", S.HALTED)
        await pilot.pause(0.3)
        assert bar_text(app).startswith(" HALTED ")
        assert app.screen.query_one(ImbalancePanel).display

        set_state(source, "AAPL", S.QUOTE_ONLY)
        # A buyer above the offer: in quotation nothing trades, the halt cross pairs it.
        ask = best(app, "AAPL", Side.SELL)
        source.execute(NewOrder("flow9", "x1", "AAPL", Side.BUY, 300, ask))
        await pilot.pause(0.3)
        assert bar_text(app).startswith(" QUOTE ONLY ")

        now = source.now()
        events = source.apply(source.engine.set_state("AAPL", S.CONTINUOUS, now, "admin"))
        [cross] = [e for e in events if isinstance(e, Crossed)]
        prints = [e for e in events if isinstance(e, Trade)]
        assert cross.cross_type is CrossType.HALT and cross.qty == 300
        assert prints and all(t.aggressor is None for t in prints)
        await pilot.pause(0.3)
        text = bar_text(app)
        assert text.startswith(" CONTINUOUS ")
        assert f"last cross halt 300 @ {format_price(cross.price)}" in text
        assert not app.screen.query_one(ImbalancePanel).display
        tape = app.screen.query_one(TimeAndSales).lines_text()
        assert tape[1].split()[1:] == [format_price(cross.price), str(prints[0].qty), "cross"]

        await pilot.press("1")
        await pilot.pause(0.3)
        assert watch_row(app, "AAPL").split()[1] == "CONT"
        set_state(source, "MSFT", S.HALTED)
        await pilot.pause(0.3)
        assert watch_row(app, "MSFT").split()[1] == "HALT"

    drive(app, script)


def test_imbalance_panel_shows_paired_imbalance_side_and_prices(
    app: WorkstationApp, source: EmbeddedSource
) -> None:
    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("2")
        set_state(source, "AAPL", S.HALTED)
        set_state(source, "AAPL", S.QUOTE_ONLY)
        ask = best(app, "AAPL", Side.SELL)
        source.execute(NewOrder("flow9", "x1", "AAPL", Side.BUY, 100_000, ask))
        await pilot.pause(0.3)
        assert "waiting for imbalance information" in panel_text(app)

        [info] = [e for e in source.engine.imbalances(source.now()) if e.symbol == "AAPL"]
        source.apply([info])
        await pilot.pause(0.3)
        assert isinstance(info, Imbalance)
        assert info.paired > 0 and info.imbalance > 0 and info.imbalance_side is Side.BUY
        first, second = panel_text(app).splitlines()
        assert first.split() == [
            "halt",
            "cross",
            "paired",
            f"{info.paired:,}",
            "imbalance",
            f"{info.imbalance:,}",
            "buy",
        ]
        assert second.split()[:6] == [
            "near",
            format_price(info.near) if info.near is not None else "-",
            "far",
            format_price(info.far) if info.far is not None else "-",
            "reference",
            format_price(info.reference) if info.reference is not None else "-",
        ]

    drive(app, script)


def test_ctrl_c_quits_from_the_market_screen(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        assert app.return_code is None
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.return_code == 0

    drive(app, script)


def test_ctrl_c_quits_while_the_order_ticket_has_the_focus(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, OrderTicket)
        assert app.return_code is None
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.return_code == 0

    drive(app, script)


def test_quote_leaves_out_an_odd_lot_level_that_the_ladder_shows(
    app: WorkstationApp, source: EmbeddedSource
) -> None:
    async def script(pilot: Pilot[None]) -> None:
        bid = best(app, "AAPL", Side.BUY)
        odd = bid + parse_price("0.01")
        source.execute(NewOrder("flow9", "odd", "AAPL", Side.BUY, 50, odd))
        await pilot.pause(0.3)
        assert source.book("AAPL", 1).bids[0].price == odd
        quoted, _ = source.quote("AAPL")
        assert quoted is not None and quoted.price == bid
        assert watch_row(app, "AAPL").split()[4] == format_price(bid)

    drive(app, script)
