"""Order status and fills folded from engine events, including an opening cross."""

from __future__ import annotations

from lob.engine import MatchingEngine, Side
from lob.engine.types import TradingState
from lob.server.accounts import MAX_DONE_ORDERS, Accounts, Tape


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


def _opening_cross(engine: MatchingEngine, accounts: Accounts, buy_price: int) -> list:
    """A buys 100 at ``buy_price`` and B sells 60 at 9.99 before the open; the events of
    the opening cross (A's and B's orders seen by ``accounts``, the cross's not yet)."""
    ts = iter(range(1, 100))
    for state in (TradingState.CLOSED, TradingState.PRE_OPEN):
        accounts.apply(engine.set_state("XYZ", state, next(ts)))
    accounts.apply(engine.new_order("a", "buy", "XYZ", Side.BUY, 100, buy_price, ts=next(ts)))
    accounts.apply(engine.new_order("b", "sell", "XYZ", Side.SELL, 60, 99_900, ts=next(ts)))
    events: list = []
    for state in (TradingState.OPENING_AUCTION, TradingState.CONTINUOUS):
        events += engine.set_state("XYZ", state, next(ts))
    return events


def test_accounts_fold_an_opening_cross_from_executed_events() -> None:
    engine, accounts, tape = _engine(), Accounts(), Tape()
    events = _opening_cross(engine, accounts, 100_000)
    assert "executed" in [e.TYPE for e in events]
    accounts.apply(events)
    tape.apply(events)
    buy, sell = accounts.order("a", "buy"), accounts.order("b", "sell")
    assert buy is not None and sell is not None
    assert (buy.status, buy.filled, buy.leaves) == ("open", 60, 40)
    assert (sell.status, sell.filled, sell.leaves) == ("filled", 60, 0)
    assert [(f["qty"], f["liquidity"]) for f in accounts.fills("a")] == [(60, "cross")]
    assert [t["aggressor"] for t in tape.recent("XYZ", 10)] == [None]


def test_accounts_fills_answer_every_field_newest_first_within_the_limit() -> None:
    engine, accounts = _engine(), Accounts()
    trades = []
    for events in (
        engine.new_order("a", "s1", "XYZ", Side.SELL, 100, 100_000, ts=1),
        engine.new_order("b", "b1", "XYZ", Side.BUY, 30, 100_000, ts=2),
        engine.new_order("b", "b2", "XYZ", Side.BUY, 20, 100_000, ts=3),
    ):
        accounts.apply(events)
        trades += [e for e in events if e.TYPE == "trade"]
    first, second = trades
    assert accounts.fills("a") == [
        {
            "trade_id": t.trade_id,
            "symbol": "XYZ",
            "id": "s1",
            "side": "sell",
            "price": "10.00",
            "qty": t.qty,
            "liquidity": "maker",
            "ts": t.ts,
            "seq": t.seq,
        }
        for t in (second, first)
    ]
    assert accounts.fills("b", 1) == [
        {
            "trade_id": second.trade_id,
            "symbol": "XYZ",
            "id": "b2",
            "side": "buy",
            "price": "10.00",
            "qty": 20,
            "liquidity": "taker",
            "ts": 3,
            "seq": second.seq,
        }
    ]
    assert accounts.fills("nobody") == []


def test_accounts_fill_of_a_cross_names_the_orders_side_and_the_cross_price() -> None:
    engine, accounts = _engine(), Accounts()
    events = _opening_cross(engine, accounts, 100_100)
    accounts.apply(events)
    executed = {e.account: e for e in events if e.TYPE == "executed"}
    assert {e.cross_price for e in executed.values()} == {100_000}  # at the reference price
    for account, id, side in (("a", "buy", "buy"), ("b", "sell", "sell")):
        e = executed[account]
        assert accounts.fills(account) == [
            {
                "trade_id": e.trade_id,
                "symbol": "XYZ",
                "id": id,
                "side": side,
                "price": "10.00",
                "qty": 60,
                "liquidity": "cross",
                "ts": e.ts,
                "seq": e.seq,
            }
        ]


def test_accounts_keep_the_newest_finished_orders_and_an_id_used_again_is_the_new_order() -> None:
    engine, accounts = _engine(), Accounts()
    ts = iter(range(1, 1_000_000))
    for events in (
        engine.new_order("a", "x", "XYZ", Side.SELL, 100, 100_100, ts=next(ts)),
        engine.cancel("a", "x", ts=next(ts)),
        engine.new_order("a", "x", "XYZ", Side.SELL, 50, 100_200, ts=next(ts)),
    ):
        accounts.apply(events)
    again = accounts.order("a", "x")
    assert again is not None and (again.status, again.qty, again.price) == ("open", 50, 100_200)
    accounts.apply(engine.cancel("a", "x", ts=next(ts)))
    for i in range(MAX_DONE_ORDERS):  # as many more finished: "x" is now the oldest, and goes
        accounts.apply(engine.new_order("a", f"o{i}", "XYZ", Side.SELL, 1, 100_100, ts=next(ts)))
        accounts.apply(engine.cancel("a", f"o{i}", ts=next(ts)))
    assert accounts.order("a", "x") is None
    first, last = accounts.order("a", "o0"), accounts.order("a", f"o{MAX_DONE_ORDERS - 1}")
    assert first is not None and last is not None and first.status == last.status == "cancelled"
