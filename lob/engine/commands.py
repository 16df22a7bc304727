"""Commands: the engine's only input (see ``MatchingEngine.submit``)."""

from __future__ import annotations

from typing import NamedTuple

from lob.engine.types import OrderType, SelfMatchMode, Side, TimeInForce

__all__ = ["CancelOrder", "Command", "NewOrder", "ReplaceOrder"]


class NewOrder(NamedTuple):
    account: str
    id: str
    symbol: str
    side: Side
    qty: int
    price: int | None = None
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.DAY
    post_only: bool = False
    smp: SelfMatchMode = SelfMatchMode.CANCEL_NEWEST


class CancelOrder(NamedTuple):
    account: str
    id: str


class ReplaceOrder(NamedTuple):
    """New price and/or new open quantity; ``None`` keeps the current value."""

    account: str
    id: str
    price: int | None = None
    qty: int | None = None


Command = NewOrder | CancelOrder | ReplaceOrder
