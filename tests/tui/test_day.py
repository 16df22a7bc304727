"""``lob tui --day-length``: the embedded engine on the compressed calendar, step by step."""

from __future__ import annotations

from lob.engine.commands import NewOrder
from lob.engine.types import CrossType, Side, TradingState
from lob.server.day import SECOND
from lob.tui.day import EmbeddedDay
from lob.tui.embedded import EmbeddedSource
from lob.tui.source import SymbolInfo
from lob.tui.widgets.market_state import state_text

S = TradingState
LENGTH = 100 * SECOND
DAY = 17_950_000 * LENGTH  # a whole multiple of the day length: the start of a day
PRICE = 2_000_000  # 200.00


def day_source() -> tuple[EmbeddedSource, EmbeddedDay, list[int]]:
    now = [DAY + LENGTH // 100]
    source = EmbeddedSource([SymbolInfo("AAPL", "Apple", PRICE)], clock=lambda: now[0])
    day = EmbeddedDay(source, LENGTH)
    return source, day, now


def test_day_steps_through_pre_open_auction_and_opening_cross_into_the_model() -> None:
    source, day, now = day_source()
    sym = source.state.symbols["AAPL"]
    assert day.step()
    assert sym.trading_state is S.CLOSED

    now[0] = DAY + 6 * SECOND
    assert day.step()
    assert sym.trading_state is S.PRE_OPEN
    source.execute(NewOrder("a", "b1", "AAPL", Side.BUY, 500, PRICE + 100))
    source.execute(NewOrder("b", "s1", "AAPL", Side.SELL, 300, PRICE))

    now[0] = DAY + 21 * SECOND
    assert day.step()
    assert sym.trading_state is S.OPENING_AUCTION
    assert sym.imbalance is not None
    assert sym.imbalance.cross_type is CrossType.OPENING
    assert (sym.imbalance.paired, sym.imbalance.imbalance) == (300, 200)
    assert sym.imbalance.imbalance_side is Side.BUY
    assert not day.step()  # less than a second later: nothing is due

    now[0] = DAY + 22 * SECOND
    assert day.step()  # once a second while a cross is ahead

    now[0] = DAY + 31 * SECOND
    assert day.step()
    assert sym.trading_state is S.CONTINUOUS
    assert sym.last_cross is not None
    assert (sym.last_cross.cross_type, sym.last_cross.qty) == (CrossType.OPENING, 300)
    assert sym.imbalance is None
    assert sym.tape[-1].aggressor is None
    assert sym.volume == 300


def test_day_reaches_the_closing_cross_and_closes() -> None:
    source, day, now = day_source()
    sym = source.state.symbols["AAPL"]
    now[0] = DAY + 81 * SECOND
    day.step()
    assert sym.trading_state is S.CLOSING_AUCTION
    assert sym.imbalance is not None and sym.imbalance.cross_type is CrossType.CLOSING
    now[0] = DAY + 91 * SECOND
    day.step()
    assert sym.trading_state is S.CLOSED
    assert sym.last_cross is not None and sym.last_cross.cross_type is CrossType.CLOSING


def test_state_bar_counts_down_to_the_next_change_of_the_day() -> None:
    source, day, now = day_source()
    assert source.next_change() is None  # no trading day until one is set
    source.day = day
    now[0] = DAY + 21 * SECOND
    day.step()
    assert source.next_change() == ("opening cross", DAY + 30 * SECOND)
    text = str(state_text(source.state.symbols["AAPL"], source.next_change(), source.now()))
    assert text.startswith(" OPENING AUCTION ")
    assert text.endswith("opening cross in 0:09")
    now[0] = DAY + 95 * SECOND
    assert source.next_change() == ("next day", DAY + LENGTH)


def test_next_day_pre_open_starts_statistics_again_from_the_last_price() -> None:
    source, day, now = day_source()
    sym = source.state.symbols["AAPL"]
    now[0] = DAY + 31 * SECOND
    day.step()
    assert sym.trading_state is S.CONTINUOUS
    source.execute(NewOrder("a", "s1", "AAPL", Side.SELL, 200, PRICE + 500))
    source.execute(NewOrder("b", "b1", "AAPL", Side.BUY, 200, PRICE + 500))
    assert (sym.volume, sym.last, sym.reference) == (200, PRICE + 500, PRICE)
    now[0] = DAY + 91 * SECOND
    day.step()
    assert sym.trading_state is S.CLOSED and sym.volume == 200
    now[0] = DAY + LENGTH + 6 * SECOND
    day.step()
    assert sym.trading_state is S.PRE_OPEN
    assert (sym.volume, sym.trades, sym.open, sym.vwap) == (0, 0, None, None)
    assert sym.reference == PRICE + 500
    assert sym.change == 0
    assert len(sym.tape) == 1  # the tape runs on across the night
