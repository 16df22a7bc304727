"""Order status and fills folded from engine events, including an opening cross."""

from __future__ import annotations

from lob.engine import MatchingEngine, Side
from lob.engine.types import TradingState
from lob.server.accounts import Accounts, Tape


def _engine() -> MatchingEngine:
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol("XYZ", 100_000)
    return engine


def test_accounts_fold_a_continuous_fill_replace_and_cancel() -> None:
    engine, accounts, tape = _engine(), Accounts(), Tape()
    for events in (
        engine.new_order("a", "s1", "XYZ", Side.SELL, 100, 100_000, ts=1),
        engine.new_order("b", "b1", "XYZ", Side.BUY, 30, 100_000, ts=2),
        engine.replace("a", "s1", ts=3, price=100_100),
        engine.cancel("a", "s1", ts=4),
    ):
        accounts.apply(events)
        tape.apply(events)
    s1 = accounts.order("a", "s1")
    assert s1 is not None
    assert (s1.status, s1.filled, s1.leaves, s1.qty, s1.price) == ("cancelled", 30, 0, 100, 100_100)
    b1 = accounts.order("b", "b1")
    assert b1 is not None and (b1.status, b1.filled) == ("filled", 30)
    assert [f["liquidity"] for f in accounts.fills("a")] == ["maker"]
    assert [f["liquidity"] for f in accounts.fills("b")] == ["taker"]
    assert accounts.open_orders("a") == [] and accounts.open_count("a") == 0
    assert tape.recent("XYZ", 10)[0]["aggressor"] == "buy"


def test_accounts_fold_an_opening_cross_from_executed_events() -> None:
    engine, accounts, tape = _engine(), Accounts(), Tape()
    ts = iter(range(1, 100))
    for state in (TradingState.CLOSED, TradingState.PRE_OPEN):
        accounts.apply(engine.set_state("XYZ", state, next(ts)))
    accounts.apply(engine.new_order("a", "buy", "XYZ", Side.BUY, 100, 100_000, ts=next(ts)))
    accounts.apply(engine.new_order("b", "sell", "XYZ", Side.SELL, 60, 99_900, ts=next(ts)))
    events: list = []
    for state in (TradingState.OPENING_AUCTION, TradingState.CONTINUOUS):
        events += engine.set_state("XYZ", state, next(ts))
    assert "executed" in [e.TYPE for e in events]
    accounts.apply(events)
    tape.apply(events)
    buy, sell = accounts.order("a", "buy"), accounts.order("b", "sell")
    assert buy is not None and sell is not None
    assert (buy.status, buy.filled, buy.leaves) == ("open", 60, 40)
    assert (sell.status, sell.filled, sell.leaves) == ("filled", 60, 0)
    assert [(f["qty"], f["liquidity"]) for f in accounts.fills("a")] == [(60, "cross")]
    assert [t["aggressor"] for t in tape.recent("XYZ", 10)] == [None]
