"""The workstation driven through Textual's Pilot, on a seeded embedded market."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from lob.engine.prices import format_price, parse_price
from lob.engine.types import Side
from lob.tui.app import WorkstationApp
from lob.tui.screens.help import HelpScreen
from lob.tui.screens.ticket import OrderTicket
from lob.tui.widgets.ladder import PriceLadder
from lob.tui.widgets.watchlist import Watchlist
from tests.tui.conftest import SIZE


def drive(app: WorkstationApp, script: Callable[[Pilot[None]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


async def command(pilot: Pilot[None], line: str) -> str:
    """Type ``line`` into the command bar; return the answer shown."""
    await pilot.press("colon")
    await pilot.pause()
    bar_input = pilot.app.screen.query_one("#command", Input)
    bar_input.value = line
    await pilot.press("enter")
    await pilot.pause()
    return str(pilot.app.screen.query_one("#answer", Static).render())


async def settle(pilot: Pilot[None], check: Callable[[], bool], turns: int = 100) -> None:
    """Let the app run until ``check()`` holds (screens refresh on timers), at most
    ``turns`` short pauses: a loaded machine may need more than one."""
    for _ in range(turns):
        if check():
            return
        await pilot.pause(0.02)


def ladder_line(app: WorkstationApp, price: int) -> str:
    ladder = app.screen.query_one(PriceLadder)
    lines = ladder.lines_text()
    text = "\n".join(lines)
    for line in lines:
        if f" {format_price(price)} " in line:
            return line
    raise AssertionError(f"{format_price(price)} is not on the ladder:\n{text}")


def best(app: WorkstationApp, symbol: str, side: Side) -> int:
    book = app.source.book(symbol, depth=1)
    levels = book.bids if side is Side.BUY else book.asks
    return levels[0].price


def test_app_start_shows_every_symbol_in_the_watchlist(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        watchlist = pilot.app.screen.query_one(Watchlist)
        assert watchlist.row_count == len(app.source.symbols())
        assert pilot.app.screen.name == "overview"

    drive(app, script)


def test_watchlist_enter_on_second_row_opens_that_symbol(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        watchlist = pilot.app.screen.query_one(Watchlist)
        second = watchlist._shown[1]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert pilot.app.screen.name == "symbol"
        assert pilot.app.screen.query_one(PriceLadder).symbol == second
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen.name == "overview"

    drive(app, script)


def test_search_filters_watchlist_and_enter_opens_match(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("slash")
        await pilot.press(*"msft")
        await pilot.pause()
        watchlist = pilot.app.screen.query_one(Watchlist)
        assert watchlist._shown == ["MSFT"]
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen.name == "symbol"
        assert pilot.app.screen.query_one(PriceLadder).symbol == "MSFT"

    drive(app, script)


def test_switching_symbol_redraws_the_ladder_for_the_new_symbol(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        app.open_symbol("AAPL")
        await pilot.pause()
        aapl = best(app, "AAPL", Side.BUY)
        assert ladder_line(app, aapl)
        app.open_symbol("NVDA")
        await pilot.pause()
        nvda = best(app, "NVDA", Side.BUY)
        assert app.screen.query_one(PriceLadder).symbol == "NVDA"
        assert "NVDA" in str(app.screen.query_one("#ladder").border_title)
        assert ladder_line(app, nvda)

    drive(app, script)


def test_limit_order_from_command_line_shows_on_ladder_then_cancel_removes_it(
    app: WorkstationApp,
) -> None:
    async def script(pilot: Pilot[None]) -> None:
        app.open_symbol("AAPL")
        await pilot.pause()
        price = best(app, "AAPL", Side.BUY) - 100
        answer = await command(pilot, f"buy 300 AAPL {format_price(price)}")
        assert answer.startswith("✔ T1")
        await pilot.pause(0.1)
        line = ladder_line(app, price)
        assert line.split()[0] == "300", line
        answer = await command(pilot, "cancel T1")
        assert "T1 cancelled" in answer
        await pilot.pause(0.1)
        assert ladder_line(app, price).split()[0] != "300"
        assert app.source.state.open_orders() == []

    drive(app, script)


def test_blotter_c_key_cancels_selected_order(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        price = best(app, "MSFT", Side.SELL) + 500
        await command(pilot, f"sell 200 MSFT {format_price(price)} gtc")
        await pilot.press("escape", "3")
        await pilot.pause()
        assert pilot.app.screen.name == "blotter"
        orders = pilot.app.screen.query_one("#orders", DataTable)
        assert orders.row_count == 1
        await pilot.press("c")
        await pilot.pause()
        assert orders.row_count == 0
        assert app.source.state.orders["T1"].status == "cancelled"

    drive(app, script)


def test_market_order_fill_shows_in_blotter_with_position(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        ask = best(app, "AAPL", Side.SELL)
        answer = await command(pilot, "buy 100 AAPL mkt")
        assert answer.startswith("✔ T1")
        await pilot.press("escape", "3")
        await pilot.pause()
        fills = pilot.app.screen.query_one("#fills", DataTable)
        assert fills.row_count == 1
        row = [str(cell) for cell in fills.get_row_at(0)]
        assert row[1:6] == ["T1", "AAPL", "buy", format_price(ask), "100"]
        positions = pilot.app.screen.query_one("#positions", DataTable)
        assert [str(c) for c in positions.get_row_at(0)][:2] == ["AAPL", "100"]

    drive(app, script)


def test_ticket_off_tick_price_shows_invalid_price_in_place(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        app.open_symbol("AAPL")
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        ticket = pilot.app.screen
        assert isinstance(ticket, OrderTicket)
        ticket.query_one("#price", Input).value = "227.005"
        await pilot.press("enter")  # review
        await pilot.pause()
        await pilot.press("enter")  # confirm
        await pilot.pause()
        assert pilot.app.screen is ticket, "the ticket stays open on an error"
        error = str(ticket.query_one("#ticket-error", Static).render())
        assert error.startswith("✘ invalid_price:")
        assert app.source.state.open_orders() == []

    drive(app, script)


def test_ticket_confirm_sends_limit_order_that_rests(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        app.open_symbol("AAPL")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        ticket = pilot.app.screen
        assert isinstance(ticket, OrderTicket)
        price = best(app, "AAPL", Side.SELL) + 300
        ticket.query_one("#price", Input).value = format_price(price)
        ticket.query_one("#qty", Input).value = "250"
        await pilot.press("enter")
        await pilot.pause()
        review = str(ticket.query_one("#ticket-review", Static).render())
        assert f"SELL 250 AAPL @ {format_price(price)} limit DAY" in review
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen.name == "symbol"
        [order] = app.source.state.open_orders()
        assert (order.side, order.price, order.qty) == (Side.SELL, price, 250)
        await pilot.pause(0.1)
        assert "250" in ladder_line(app, price).split()

    drive(app, script)


def test_ticket_escape_closes_without_sending(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(pilot.app.screen, OrderTicket)
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen.name == "overview"
        assert app.source.state.orders == {}

    drive(app, script)


def test_command_line_bad_quantity_shows_stable_code(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        answer = await command(pilot, "buy lots AAPL 1")
        assert answer.startswith("✘ invalid_quantity:")
        answer = await command(pilot, "buy 10 ZZZZ 1")
        assert answer.startswith("✘ unknown_symbol:")

    drive(app, script)


def test_number_keys_and_tab_switch_screens(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        for key, name in (("3", "blotter"), ("4", "trades"), ("5", "analytics"), ("6", "feed")):
            await pilot.press(key)
            await pilot.pause()
            assert pilot.app.screen.name == name
        await pilot.press("1")
        await pilot.pause()
        assert pilot.app.screen.name == "overview"
        await pilot.press("tab")
        await pilot.pause()
        assert pilot.app.screen.name == "symbol"

    drive(app, script)


def test_help_opens_with_question_mark_and_closes_with_escape(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen.name == "overview"

    drive(app, script)


def test_trades_screen_filters_one_stock_and_names_its_source(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("4")
        await pilot.pause()
        table = pilot.app.screen.query_one("#trades", DataTable)

        def symbols() -> set[str]:
            return {str(table.get_row_at(i)[1]) for i in range(table.row_count)}

        await settle(pilot, lambda: len(symbols()) > 1)
        assert len(symbols()) > 1
        await pilot.press("slash", *"tsla", "enter")
        await settle(pilot, lambda: symbols() == {"TSLA"})
        assert symbols() == {"TSLA"}
        label = str(pilot.app.screen.query_one("#trades-source", Static).render())
        assert "in-memory trades" in label

    drive(app, script)


def test_quit_key_exits(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("q")
        await pilot.pause()
        assert not pilot.app.is_running

    drive(app, script)


def test_replace_from_blotter_moves_order_price(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        price = best(app, "AAPL", Side.BUY) - 200
        await command(pilot, f"buy 100 AAPL {format_price(price)}")
        await pilot.press("escape", "3")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        new_price = price - 100
        pilot.app.screen.query_one("#price", Input).value = format_price(new_price)
        await pilot.press("enter")
        await pilot.pause()
        assert app.source.state.orders["T1"].price == new_price
        assert parse_price(format_price(new_price)) == new_price

    drive(app, script)


def test_escape_in_command_line_gives_keys_back_to_the_screen(app: WorkstationApp) -> None:
    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(pilot.app.focused, Input)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.focused, Watchlist)
        await pilot.press("3")
        await pilot.pause()
        assert pilot.app.screen.name == "blotter"

    drive(app, script)


def test_ladder_lines_on_screen_follow_the_book_after_partial_redraws(
    app: WorkstationApp,
) -> None:
    async def script(pilot: Pilot[None]) -> None:
        app.open_symbol("AAPL")
        await pilot.pause(0.2)
        ladder = app.screen.query_one(PriceLadder)
        price = best(app, "AAPL", Side.BUY) - 100
        for line in (f"buy 300 AAPL {format_price(price)}", "sell 100 AAPL mkt", "cancel T1"):
            await app.run_line(line)
            await pilot.pause(0.2)  # the ticker redraws the lines that changed
            shown = [ladder.render_line(y).text.rstrip() for y in range(ladder.size.height)]
            assert shown == [text.rstrip() for text in ladder.lines_text()]

    drive(app, script)
