"""The workstation's model, fed by a real engine's events."""

from __future__ import annotations

from lob.engine.engine import MatchingEngine
from lob.engine.prices import parse_price
from lob.engine.types import OrderType, Side
from lob.tui.model import MarketState

P = parse_price
NS = 1_000_000_000


def _market() -> tuple[MatchingEngine, MarketState]:
    engine = MatchingEngine()
    engine.add_symbol("AAPL", P("100.00"))
    state = MarketState("me", bar_seconds=5)
    state.add_symbol("AAPL", "Apple", P("100.00"))
    return engine, state


def test_trades_update_last_volume_vwap_and_bars() -> None:
    engine, state = _market()
    state.apply_all(engine.new_order("mm", "a", "AAPL", Side.SELL, 300, P("100.10"), ts=1 * NS), 0)
    state.apply_all(engine.new_order("x", "b", "AAPL", Side.BUY, 100, P("100.10"), ts=2 * NS), 0)
    state.apply_all(engine.new_order("mm", "c", "AAPL", Side.BUY, 200, P("99.90"), ts=7 * NS), 0)
    state.apply_all(engine.new_order("y", "d", "AAPL", Side.SELL, 200, P("99.90"), ts=8 * NS), 0)
    s = state.symbols["AAPL"]
    assert (s.last, s.volume, s.trades) == (P("99.90"), 300, 2)
    assert s.vwap == (P("100.10") * 100 + P("99.90") * 200) // 300
    assert [(b.open, b.close, b.volume) for b in s.bars] == [
        (P("100.10"), P("100.10"), 100),
        (P("99.90"), P("99.90"), 200),
    ]
    assert s.volume_at_price == {P("100.10"): 100, P("99.90"): 200}
    assert round(s.change_pct, 2) == -0.10


def test_my_orders_follow_accept_fill_and_cancel() -> None:
    engine, state = _market()
    state.apply_all(engine.new_order("me", "T1", "AAPL", Side.BUY, 300, P("99.50"), ts=1), 0)
    assert state.my_qty_at("AAPL") == {(Side.BUY, P("99.50")): 300}
    state.apply_all(engine.new_order("x", "s", "AAPL", Side.SELL, 100, P("99.50"), ts=2), 0)
    order = state.orders["T1"]
    assert (order.qty, order.filled, order.status) == (200, 100, "working")
    assert state.fills[-1].liquidity == "maker"
    state.apply_all(engine.cancel("me", "T1", ts=3), 0)
    assert state.orders["T1"].status == "done"
    assert state.open_orders() == []


def test_position_pnl_average_cost_realises_on_close() -> None:
    engine, state = _market()
    for price in ("100.00", "100.20"):
        state.apply_all(engine.new_order("mm", f"s{price}", "AAPL", Side.SELL, 100, P(price)), 0)
    state.apply_all(
        engine.new_order("me", "T1", "AAPL", Side.BUY, 200, None, order_type=OrderType.MARKET), 0
    )
    position = state.positions["AAPL"]
    assert (position.qty, position.avg_price) == (200, P("100.10"))
    state.apply_all(engine.new_order("mm", "b", "AAPL", Side.BUY, 100, P("100.50")), 0)
    state.apply_all(
        engine.new_order("me", "T2", "AAPL", Side.SELL, 100, None, order_type=OrderType.MARKET), 0
    )
    realised, unrealised = state.pnl("AAPL")
    assert realised == 100 * (P("100.50") - P("100.10"))
    assert unrealised == 100 * (P("100.50") - P("100.10"))
    assert position.qty == 100


def test_feed_stats_count_gaps_in_sequence() -> None:
    state = MarketState("me")
    engine, _ = _market()
    events = engine.new_order("mm", "a", "AAPL", Side.SELL, 100, P("100.10"), ts=1)
    events += engine.new_order("mm", "b", "AAPL", Side.SELL, 100, P("100.20"), ts=2)
    state.apply(events[0], 1)
    state.apply(events[-1], 2)
    assert (state.feed.gaps, state.feed.missed, state.feed.last_seq) == (1, 2, events[-1].seq)


def test_sparkline_closes_spread_over_the_whole_session() -> None:
    engine, state = _market()
    for second in range(0, 100, 5):  # twenty 5 s bars, prices rising one tick each
        price = P("100.00") + second // 5 * 100
        state.apply_all(engine.new_order("mm", f"s{second}", "AAPL", Side.SELL, 1, price), 0)
        state.apply_all(
            engine.new_order("x", f"b{second}", "AAPL", Side.BUY, 1, price, ts=second * NS), 0
        )
    s = state.symbols["AAPL"]
    assert len(s.bars) == 20
    assert s.closes(4) == [P("100.04"), P("100.09"), P("100.14"), P("100.19")]
    assert s.closes(50) == [bar.close for bar in s.bars]
