"""The workstation against a real ``lob serve`` on loopback, through ``lob.client``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input, Static

from lob.client.rest import RestClient
from lob.engine.prices import parse_price
from lob.engine.types import Side, TradingState
from lob.tui.app import WorkstationApp
from lob.tui.remote import RemoteSource
from lob.tui.widgets.ladder import PriceLadder
from lob.tui.widgets.market_state import ImbalancePanel, MarketStateBar
from lob.tui.widgets.watchlist import Watchlist
from tests.server.support import ALICE, BOB, run, running
from tests.tui.conftest import SIZE


async def _until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def test_app_starts_on_live_server_and_trades_through_it(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, BOB) as bob:
            await bob.place("AAPL", "sell", 500, "227.60", id="b1")
            await bob.place("AAPL", "buy", 500, "227.40", id="b2")
            await bob.place("AAPL", "buy", 100, "227.60", id="b3")  # a print before we connect
            source = RemoteSource(server.url, ALICE)
            app = WorkstationApp(source)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                assert source.account == "alice"
                watchlist = app.screen.query_one(Watchlist)
                assert set(watchlist._shown) == {"AAPL", "MSFT", "PNNY"}
                await _until(lambda: source.book("AAPL").asks != [])
                assert source.book("AAPL", 1).asks[0].price == parse_price("227.60")

                app.open_symbol("AAPL")
                await pilot.pause()
                ok, answer = await app.run_line("buy 200 AAPL 227.45")
                assert ok, answer
                await _until(lambda: source.state.open_orders() != [])
                [order] = source.state.open_orders()
                assert (order.side, order.price, order.qty) == (
                    Side.BUY,
                    parse_price("227.45"),
                    200,
                )
                await pilot.pause(0.2)
                ladder = app.screen.query_one(PriceLadder)
                [line] = [ln for ln in ladder.lines_text() if " 227.45 " in ln]
                assert line.split()[0] == "200"

                ok, answer = await app.run_line("buy 100 AAPL mkt")
                assert ok, answer
                await _until(lambda: source.state.fills != [])
                assert source.state.positions["AAPL"].qty == 100
                await _until(lambda: source.state.symbols["AAPL"].trades >= 1)

                await pilot.press("colon")
                app.screen.query_one("#command", Input).value = "buy 10 AAPL 227.451"
                await pilot.press("enter")
                await pilot.pause()
                answer = str(app.screen.query_one("#answer", Static).render())
                assert answer.startswith("✘ invalid_price:")

    run(body)


def test_app_exits_with_error_when_server_is_not_there() -> None:
    async def body() -> None:
        app = WorkstationApp(RemoteSource("http://127.0.0.1:9", ALICE))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
        assert app.start_error is not None
        assert app.return_code == 2

    run(body)


def test_state_bar_follows_a_halt_and_halt_cross_on_live_server(tmp_path: Path) -> None:
    admin_key = "operator-key-01"

    async def body() -> None:
        async with (
            running(tmp_path, admin_key=admin_key) as server,
            RestClient(server.url, BOB) as bob,
            RestClient(server.url, admin_key) as admin,
        ):
            await bob.place("AAPL", "sell", 500, "227.60", id="b1")
            source = RemoteSource(server.url, ALICE)
            app = WorkstationApp(source)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                aapl = source.state.symbols["AAPL"]
                app.open_symbol("AAPL")
                await pilot.pause()
                bar = app.screen.query_one(MarketStateBar)
                panel = app.screen.query_one(ImbalancePanel)
                assert str(bar.render()).startswith(" CONTINUOUS ")

                await admin.set_state("AAPL", "halted")
                await _until(lambda: aapl.trading_state is TradingState.HALTED)
                await admin.set_state("AAPL", "quote_only")
                await bob.place("AAPL", "buy", 300, "227.60", id="b2")
                await _until(lambda: aapl.imbalance is not None and aapl.imbalance.paired == 300)
                await pilot.pause(0.3)
                assert str(bar.render()).startswith(" QUOTE ONLY ")
                assert panel.display
                assert str(panel.render()).split()[:4] == ["halt", "cross", "paired", "300"]

                await admin.set_state("AAPL", "continuous")
                await _until(lambda: aapl.last_cross is not None)
                await _until(lambda: aapl.trading_state is TradingState.CONTINUOUS)
                await pilot.pause(0.3)
                assert "last cross halt 300 @ 227.60" in str(bar.render())
                assert not panel.display
                await _until(lambda: aapl.trades >= 1)
                assert aapl.tape[-1].aggressor is None

    run(body)
