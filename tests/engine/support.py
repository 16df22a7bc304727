"""Domain helpers for engine tests: a venue with a clock, and assertions that read as specs.

``Venue`` wraps a ``MatchingEngine`` so that a scenario reads like an order
ticket (``venue.buy("B", "b1", 100, "10.00")``), advances the clock by 1 µs per
command, and checks the engine's integrity after every command. Prices in and
out of the helpers are decimal text; the engine itself only sees integers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lob.engine import (
    Added,
    Cancelled,
    Event,
    MatchingEngine,
    OrderType,
    RejectCode,
    Rejected,
    Replaced,
    SelfMatchMode,
    Side,
    TimeInForce,
    Trade,
    format_price,
    parse_price,
)

SYMBOL = "XYZ"

Level = tuple[str, int, int]
"""An L2 level as (price text, total qty, order count)."""


def px(text: str) -> int:
    """Decimal price text to engine units."""
    return parse_price(text)


def types(events: Sequence[Event]) -> list[str]:
    return [e.TYPE for e in events]


def of_type(events: Sequence[Event], cls: type) -> list[Any]:
    return [e for e in events if type(e) is cls]


def assert_trades(events: Sequence[Event], expected: Sequence[tuple[str, int, str, str]]) -> None:
    """The events hold exactly these trades, in order: (price, qty, "buyer/id", "seller/id")."""
    got = [
        (
            format_price(t.price),
            t.qty,
            f"{t.buy_account}/{t.buy_id}",
            f"{t.sell_account}/{t.sell_id}",
        )
        for t in of_type(events, Trade)
    ]
    want = [(format_price(px(p)), q, b, s) for p, q, b, s in expected]
    assert got == want


def assert_rejected(events: Sequence[Event], code: RejectCode | str) -> Rejected:
    """The command was refused with ``code`` and produced nothing else."""
    assert len(events) == 1, f"expected one rejection, got {types(events)}"
    event = events[0]
    assert type(event) is Rejected, f"expected a rejection, got {event}"
    assert event.code == RejectCode(code), f"expected {code}, got {event.code}: {event.message}"
    assert event.message
    return event


def assert_not_rejected(events: Sequence[Event]) -> None:
    rejected = of_type(events, Rejected)
    assert not rejected, f"unexpected rejection: {rejected}"


class Venue:
    """An engine plus a clock; every command is followed by an integrity check."""

    def __init__(self, engine: MatchingEngine | None = None) -> None:
        self.engine = engine if engine is not None else MatchingEngine()
        self.ts = 1_000_000_000

    def _tick(self) -> int:
        self.ts += 1_000
        return self.ts

    def _checked(self, events: list[Event]) -> list[Event]:
        self.engine.check_integrity()
        return events

    def order(
        self,
        side: Side,
        account: str,
        id: str,
        qty: int,
        price: str | int | None = None,
        *,
        symbol: str = SYMBOL,
        type: OrderType | str = OrderType.LIMIT,
        tif: TimeInForce | str = TimeInForce.DAY,
        post_only: bool = False,
        smp: SelfMatchMode | str = SelfMatchMode.CANCEL_NEWEST,
    ) -> list[Event]:
        units = px(price) if isinstance(price, str) else price
        events = self.engine.new_order(
            account,
            id,
            symbol,
            side,
            qty,
            units,
            self._tick(),
            OrderType(type),
            TimeInForce(tif),
            post_only,
            SelfMatchMode(smp),
        )
        return self._checked(events)

    def buy(self, account: str, id: str, qty: int, price: str | int | None = None, **kw: Any):
        return self.order(Side.BUY, account, id, qty, price, **kw)

    def sell(self, account: str, id: str, qty: int, price: str | int | None = None, **kw: Any):
        return self.order(Side.SELL, account, id, qty, price, **kw)

    def cancel(self, account: str, id: str) -> list[Event]:
        return self._checked(self.engine.cancel(account, id, self._tick()))

    def replace(
        self, account: str, id: str, price: str | int | None = None, qty: int | None = None
    ) -> list[Event]:
        units = px(price) if isinstance(price, str) else price
        return self._checked(self.engine.replace(account, id, self._tick(), units, qty))

    def expire(self, tif: TimeInForce = TimeInForce.DAY) -> list[Event]:
        return self._checked(self.engine.expire(self._tick(), tif))

    def bids(self, symbol: str = SYMBOL) -> list[Level]:
        snap = self.engine.l2_snapshot(symbol)
        return [(format_price(lv.price), lv.qty, lv.orders) for lv in snap.bids]

    def asks(self, symbol: str = SYMBOL) -> list[Level]:
        snap = self.engine.l2_snapshot(symbol)
        return [(format_price(lv.price), lv.qty, lv.orders) for lv in snap.asks]

    def queue(self, side: Side, symbol: str = SYMBOL) -> list[tuple[str, str, int]]:
        """Resting orders of one side in priority order: (price, "account/id", qty)."""
        snap = self.engine.order_snapshot(symbol)
        orders = snap.bids if side is Side.BUY else snap.asks
        return [(format_price(o.price), f"{o.account}/{o.id}", o.qty) for o in orders]


class L2FromEvents:
    """An L2 book rebuilt from events' level fields alone, as a market-data consumer would.

    Trades report the resting side's level, ``Added`` and resting ``Cancelled``
    their own level, a kept ``Replaced`` its level and a lost one the level it
    left. Anything else (accepts, rejects, unrested remainders) changes no level.
    """

    def __init__(self) -> None:
        self.levels: dict[tuple[str, Side, int], tuple[int, int]] = {}

    def _put(self, symbol: str, side: Side, price: int, qty: int, orders: int) -> None:
        key = (symbol, Side(side), price)
        if orders:
            assert qty > 0, f"level {key} has {orders} orders but qty {qty}"
            self.levels[key] = (qty, orders)
        else:
            assert qty == 0, f"empty level {key} has qty {qty}"
            self.levels.pop(key, None)

    def apply(self, events: Sequence[Event]) -> None:
        for e in events:
            if type(e) is Trade:
                self._put(e.symbol, e.aggressor.opposite, e.price, e.level_qty, e.level_orders)
            elif type(e) is Added or (type(e) is Cancelled and e.resting):
                self._put(e.symbol, e.side, e.price, e.level_qty, e.level_orders)
            elif type(e) is Replaced:
                if e.priority == "kept":
                    self._put(e.symbol, e.side, e.price, e.level_qty, e.level_orders)
                else:
                    self._put(e.symbol, e.side, e.old_price, e.old_level_qty, e.old_level_orders)

    def book(self, symbol: str, side: Side) -> list[tuple[int, int, int]]:
        """One side as (price, qty, orders), best first."""
        rows = [
            (p, q, n) for (s, sd, p), (q, n) in self.levels.items() if s == symbol and sd == side
        ]
        return sorted(rows, reverse=side is Side.BUY)
