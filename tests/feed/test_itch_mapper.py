"""Engine events -> ITCH: each rule of the mapping, then the books equal on random streams."""

from __future__ import annotations

import random

import pytest

from lob.engine import MatchingEngine, Side, TimeInForce
from lob.feed import itch
from lob.feed.itch import (
    AddOrder,
    OrderCancel,
    OrderDelete,
    OrderExecuted,
    OrderReplace,
    StockDirectory,
    StockTradingAction,
)
from lob.feed.itch_book import ItchBookBuilder
from lob.feed.itch_mapper import ItchMapper

MIDNIGHT = 1_767_330_000_000_000_000  # any epoch ns; timestamps are relative to it
T0 = MIDNIGHT + 34_200_000_000_000
BUY, SELL = Side.BUY, Side.SELL


class Feed:
    """An engine whose every command also goes through the mapper and a book builder."""

    def __init__(self, symbols: tuple[str, ...] = ("XYZ",)) -> None:
        self.engine = MatchingEngine()
        self.mapper = ItchMapper(MIDNIGHT)
        self.builder = ItchBookBuilder()
        self.clock = T0
        for symbol in symbols:
            self.engine.add_symbol(symbol)
            self.builder.apply_all(self.mapper.register(symbol, self.clock - MIDNIGHT))

    def run(self, method: str, *args: object, **kwargs: object) -> list[itch.Message]:
        self.clock += 1_000
        events = getattr(self.engine, method)(*args, ts=self.clock, **kwargs)
        messages = self.mapper.map(events)
        for message in messages:
            # Every message goes through its bytes, as a subscriber would see it.
            self.builder.apply(itch.decode(itch.encode(message)))
        self.engine.check_integrity()
        assert self.builder.state_hash() == self.engine.state_hash()
        return messages


def kinds(messages: list[itch.Message]) -> str:
    return "".join(m.TYPE for m in messages)


def test_resting_order_maps_to_add_with_oid_and_relative_timestamp():
    feed = Feed()
    [add] = feed.run("new_order", "A", "a1", "XYZ", SELL, 100, 100_000)
    oid = feed.engine.order("A", "a1").oid  # type: ignore[union-attr]
    assert add == AddOrder(1, 0, feed.clock - MIDNIGHT, oid, "S", 100, "XYZ", 100_000)


def test_aggressor_filled_in_full_maps_to_executions_only():
    feed = Feed()
    feed.run("new_order", "A", "a1", "XYZ", SELL, 100, 100_000)
    feed.run("new_order", "A", "a2", "XYZ", SELL, 50, 100_100)
    messages = feed.run("new_order", "B", "b1", "XYZ", BUY, 120, 100_100)
    assert messages == [
        OrderExecuted(1, 0, feed.clock - MIDNIGHT, 1, 100, 1),
        OrderExecuted(1, 0, feed.clock - MIDNIGHT, 2, 20, 2),
    ]


def test_partial_fill_then_rest_maps_to_execution_then_add():
    feed = Feed()
    feed.run("new_order", "A", "a1", "XYZ", SELL, 100, 100_000)
    messages = feed.run("new_order", "B", "b1", "XYZ", BUY, 150, 100_000)
    assert kinds(messages) == "EA"
    assert messages[1].shares == 50 and messages[1].side == "B"  # type: ignore[union-attr]


def test_replace_keeping_priority_with_smaller_qty_maps_to_cancel_of_difference():
    feed = Feed()
    feed.run("new_order", "A", "a1", "XYZ", SELL, 100, 100_000)
    messages = feed.run("replace", "A", "a1", qty=30)
    assert messages == [OrderCancel(1, 0, feed.clock - MIDNIGHT, 1, 70)]


def test_replace_losing_priority_that_rests_maps_to_order_replace():
    feed = Feed()
    feed.run("new_order", "A", "a1", "XYZ", SELL, 100, 100_000)
    messages = feed.run("replace", "A", "a1", price=100_200, qty=80)
    assert messages == [OrderReplace(1, 0, feed.clock - MIDNIGHT, 1, 2, 80, 100_200)]


def test_replace_losing_priority_that_executes_maps_to_delete_executions_add():
    feed = Feed()
    feed.run("new_order", "B", "b1", "XYZ", BUY, 40, 99_900)
    feed.run("new_order", "A", "a1", "XYZ", SELL, 100, 100_000)
    messages = feed.run("replace", "A", "a1", price=99_900)
    assert kinds(messages) == "DEA"
    assert messages[0].order_ref == 2  # type: ignore[union-attr]
    assert messages[1].order_ref == 1  # type: ignore[union-attr]
    assert messages[2] == AddOrder(1, 0, feed.clock - MIDNIGHT, 3, "S", 60, "XYZ", 99_900)


def test_replace_losing_priority_that_executes_in_full_maps_to_delete_and_execution():
    feed = Feed()
    feed.run("new_order", "B", "b1", "XYZ", BUY, 400, 99_900)
    feed.run("new_order", "A", "a1", "XYZ", SELL, 100, 100_000)
    assert kinds(feed.run("replace", "A", "a1", price=99_900)) == "DE"


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_non_resting_remainder_maps_to_nothing(tif: TimeInForce):
    feed = Feed()
    assert feed.run("new_order", "B", "b1", "XYZ", BUY, 10, 99_900, tif=tif) == []


def test_cancel_and_expiry_of_resting_orders_map_to_delete():
    feed = Feed()
    feed.run("new_order", "A", "a1", "XYZ", SELL, 100, 100_000)
    feed.run("new_order", "A", "a2", "XYZ", SELL, 100, 100_100)
    assert feed.run("cancel", "A", "a1") == [OrderDelete(1, 0, feed.clock - MIDNIGHT, 1)]
    assert feed.run("expire") == [OrderDelete(1, 0, feed.clock - MIDNIGHT, 2)]


def test_first_appearance_of_symbol_emits_directory_before_its_order():
    feed = Feed(symbols=())
    messages = feed.run("new_order", "A", "a1", "NEW", SELL, 100, 100_000)
    assert [type(m) for m in messages] == [StockDirectory, StockTradingAction, AddOrder]
    assert messages[0].stock == "NEW" and messages[0].stock_locate == 1  # type: ignore[union-attr]
    assert feed.mapper.locates == {"NEW": 1}


def test_locates_follow_registration_order():
    mapper = ItchMapper(0, ["BBB", "AAA"])
    assert mapper.locates == {"BBB": 1, "AAA": 2}
    assert [m.stock for m in mapper.directory(5) if m.TYPE == "R"] == ["BBB", "AAA"]  # type: ignore[union-attr]


def test_rejected_commands_map_to_nothing():
    feed = Feed()
    assert feed.run("cancel", "A", "nope") == []


def random_stream(feed: Feed, rng: random.Random, steps: int) -> None:
    symbols = ["AAA", "BBB"]
    accounts = ["A", "B", "C"]
    live: list[tuple[str, str]] = []
    for n in range(steps):
        roll = rng.random()
        if roll < 0.5 or not live:
            account = rng.choice(accounts)
            id = f"o{n}"
            side = rng.choice([BUY, SELL])
            price = rng.randrange(99_500, 100_600, 100)
            tif = rng.choice([TimeInForce.DAY] * 6 + [TimeInForce.IOC, TimeInForce.FOK])
            smp = rng.choice(["cancel_newest", "cancel_oldest", "cancel_both"])
            if rng.random() < 0.05:
                feed.run(
                    "new_order",
                    account,
                    id,
                    rng.choice(symbols),
                    side,
                    rng.randint(1, 300),
                    order_type="market",
                    smp=smp,
                )
            else:
                feed.run(
                    "new_order",
                    account,
                    id,
                    rng.choice(symbols),
                    side,
                    rng.randint(1, 300),
                    price,
                    tif=tif,
                    smp=smp,
                )
            if feed.engine.order(account, id) is not None:
                live.append((account, id))
        elif roll < 0.65:
            account, id = live.pop(rng.randrange(len(live)))
            feed.run("cancel", account, id)
        elif roll < 0.98:
            account, id = live[rng.randrange(len(live))]
            view = feed.engine.order(account, id)
            if view is None:
                live.remove((account, id))
                continue
            choice = rng.random()
            if choice < 0.3:  # keeps priority: smaller at the same price
                feed.run("replace", account, id, qty=max(1, view.qty - rng.randint(0, 50)))
            elif choice < 0.5:  # size up: loses priority, rests
                feed.run("replace", account, id, qty=view.qty + rng.randint(1, 50))
            else:  # a new price, often through the spread: loses priority and may execute
                feed.run(
                    "replace",
                    account,
                    id,
                    price=rng.randrange(99_500, 100_600, 100),
                    qty=rng.randint(1, 300),
                )
            if feed.engine.order(account, id) is None:
                live.remove((account, id))
        else:
            feed.run("expire")
            live = [(a, i) for a, i in live if feed.engine.order(a, i) is not None]


@pytest.mark.parametrize("seed", range(12))
def test_mapper_and_builder_equal_engine_after_random_streams(seed: int):
    feed = Feed(symbols=("AAA",))  # BBB appears mid-stream
    random_stream(feed, random.Random(seed), 400)
    for symbol in feed.engine.symbols:
        snap = feed.engine.l2_snapshot(symbol)
        l2 = feed.builder.l2(symbol)
        assert (l2.bids, l2.asks) == (snap.bids, snap.asks)


def test_opening_cross_maps_to_state_noii_executions_with_price_and_cross_trade():
    from lob.engine.types import OrderType, TradingState

    feed = Feed()
    for state in ("closing_auction", "closed", "pre_open"):
        feed.run("set_state", "XYZ", TradingState(state))
    assert feed.run("set_state", "XYZ", TradingState.OPENING_AUCTION)[0].trading_state == "Q"  # type: ignore[union-attr]
    feed.run("new_order", "B", "b1", "XYZ", BUY, 100, 100_500)
    feed.run("new_order", "A", "a1", "XYZ", SELL, 60, 100_000)
    feed.run("new_order", "A", "a2", "XYZ", SELL, 50, 100_200)
    assert feed.run("new_order", "C", "c1", "XYZ", SELL, 30, order_type=OrderType.MOO) == []
    [noii] = feed.run("imbalances")
    assert noii.TYPE == "I" and (noii.paired_shares, noii.imbalance_shares) == (100, 40)  # type: ignore[union-attr]
    assert (noii.imbalance_direction, noii.near_price, noii.cross_type) == ("S", 100_200, "O")  # type: ignore[union-attr]
    messages = feed.run("set_state", "XYZ", TradingState.CONTINUOUS)  # the cross runs
    assert kinds(messages) == "CCCCCQSH"  # S 'Q': the opening cross starts market hours
    assert [m.event_code for m in messages if m.TYPE == "S"] == ["Q"]  # type: ignore[union-attr]
    executions = [m for m in messages if m.TYPE == "C"]
    assert [(m.order_ref, m.executed_shares, m.match_number) for m in executions] == [  # type: ignore[union-attr]
        (1, 30, 1),
        (1, 60, 2),
        (2, 60, 2),
        (1, 10, 3),
        (3, 10, 3),
    ]  # the market-on-open order (oid 4) was never displayed: no C for it
    assert all(m.printable == "N" and m.execution_price == 100_200 for m in executions)  # type: ignore[union-attr]
    cross = messages[5]
    assert (cross.shares, cross.cross_price, cross.match_number, cross.cross_type) == (  # type: ignore[union-attr]
        100,
        100_200,
        1,
        "O",
    )
    assert messages[7].trading_state == "T"  # type: ignore[union-attr]


_DAY = ["closing_auction", "closed", "pre_open", "opening_auction", "continuous"]


@pytest.mark.parametrize("seed", range(6))
def test_mapper_and_builder_equal_engine_through_random_auction_days(seed: int):
    from lob.engine.types import OrderType, TradingState

    rng = random.Random(seed)
    feed = Feed(symbols=("AAA", "BBB"))
    step = {"AAA": len(_DAY) - 1, "BBB": len(_DAY) - 1}  # continuous at the start
    for n in range(300):
        symbol = rng.choice(["AAA", "BBB"])
        roll = rng.random()
        if roll < 0.08:
            step[symbol] = (step[symbol] + 1) % len(_DAY)
            feed.run("set_state", symbol, TradingState(_DAY[step[symbol]]))
        elif roll < 0.12:
            feed.run("imbalances")
        elif roll < 0.25:
            order_type = rng.choice([OrderType.MOO, OrderType.MOC, OrderType.LOO, OrderType.LOC])
            limit = order_type in (OrderType.LOO, OrderType.LOC)
            feed.run(
                "new_order",
                rng.choice("ABC"),
                f"x{n}",
                symbol,
                rng.choice([BUY, SELL]),
                rng.randint(1, 300),
                rng.randrange(99_500, 100_600, 100) if limit else None,
                order_type=order_type,
            )
        elif roll < 0.85:
            feed.run(
                "new_order",
                rng.choice("ABC"),
                f"o{n}",
                symbol,
                rng.choice([BUY, SELL]),
                rng.randint(1, 300),
                rng.randrange(99_500, 100_600, 100),
            )
        else:
            orders = [o for a in "ABC" for o in feed.engine.open_orders(a)]
            if orders:
                order = rng.choice(orders)
                feed.run("cancel", order.account, order.id)
