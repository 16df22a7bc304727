"""Events: the engine's only output, and the truth every other view derives from.

Each event is an immutable named tuple (its kind in ``.TYPE``, e.g. ``"trade"``)
carrying the engine-wide sequence number ``seq`` and the timestamp ``ts`` the
caller passed in (integer nanoseconds).
Book-changing events also carry the state of the price level they touched after
the change (``level_qty``, ``level_orders``), so L2 market data needs no second
look at the book, and the engine order ids (``oid``) that order-level (ITCH)
market data is made of.

The events of one command, in order:

- new order: ``Accepted``, then one ``Trade`` per fill, then ``Added`` if a
  remainder rests or ``Cancelled`` (``resting=False``) if it does not; or a
  single ``Rejected``. Self-match prevention may put ``Cancelled`` events of
  resting orders (``resting=True``) between trades.
- cancel: ``Cancelled`` (``reason="user"``, ``resting=True``) or ``Rejected``.
- replace: ``Replaced`` or ``Rejected``. A replace that keeps priority carries
  the level's new state. One that loses priority removes the order (the
  ``old_level_*`` fields) and re-enters it under a new ``oid``; the re-entry's
  ``Trade``, ``Added`` and ``Cancelled`` events follow, as for a new order.
"""

from __future__ import annotations

from typing import NamedTuple

from lob.engine.types import (
    CancelReason,
    CrossType,
    OrderType,
    Priority,
    RejectCode,
    SelfMatchMode,
    Side,
    TimeInForce,
    TradingState,
)

__all__ = [
    "Accepted",
    "Added",
    "BandsChanged",
    "Cancelled",
    "Crossed",
    "Event",
    "Executed",
    "Imbalance",
    "Rejected",
    "Replaced",
    "StateChanged",
    "Trade",
]


class Accepted(NamedTuple):
    """A new order passed validation and entered the engine (before any fill)."""

    seq: int
    ts: int
    symbol: str
    account: str
    id: str
    oid: int
    side: Side
    order_type: OrderType
    price: int | None
    qty: int
    tif: TimeInForce
    post_only: bool
    smp: SelfMatchMode

    @property
    def TYPE(self) -> str:
        return "accepted"


class Rejected(NamedTuple):
    """A command refused with a stable code; it changed nothing."""

    seq: int
    ts: int
    op: str
    account: str | None
    id: str | None
    symbol: str | None
    code: RejectCode
    message: str

    @property
    def TYPE(self) -> str:
        return "rejected"


class Trade(NamedTuple):
    """One fill between the incoming (aggressor) order and a resting order.

    It prints at the resting order's price. ``resting_oid`` / ``resting_left``
    and the level fields describe the resting side after the fill.

    In a cross there is no aggressor: ``aggressor`` is None, the resting and
    level fields are zero, and each book order's execution comes as an
    ``Executed`` event instead.
    """

    seq: int
    ts: int
    symbol: str
    trade_id: int
    price: int
    qty: int
    aggressor: Side | None
    buy_account: str
    buy_id: str
    buy_oid: int
    sell_account: str
    sell_id: str
    sell_oid: int
    resting_oid: int
    resting_left: int
    level_qty: int
    level_orders: int

    @property
    def TYPE(self) -> str:
        return "trade"


class Added(NamedTuple):
    """An order, or the remainder of one, now rests at the back of its level."""

    seq: int
    ts: int
    symbol: str
    account: str
    id: str
    oid: int
    side: Side
    price: int
    qty: int
    level_qty: int
    level_orders: int

    @property
    def TYPE(self) -> str:
        return "added"


class Cancelled(NamedTuple):
    """Quantity that will never trade: a resting order removed, or an unfilled remainder.

    ``resting`` tells whether the quantity was in the book (a book change at
    ``price``, described by the level fields) or was the incoming order's
    remainder that never rested (``price`` is None for a market order).
    """

    seq: int
    ts: int
    symbol: str
    account: str
    id: str
    oid: int
    side: Side
    price: int | None
    qty: int
    reason: CancelReason
    resting: bool
    level_qty: int
    level_orders: int

    @property
    def TYPE(self) -> str:
        return "cancelled"


class Replaced(NamedTuple):
    """A resting order got a new price and/or open quantity.

    With ``priority == "kept"`` the order stayed in place (same price, quantity
    not increased): ``oid == old_oid`` and the level fields are its level's new
    state. With ``"lost"`` the order left ``old_price`` (``old_level_*`` after
    its removal) and is re-entered under the new ``oid``; the events of that
    entry follow, and the level fields here are zero.
    """

    seq: int
    ts: int
    symbol: str
    account: str
    id: str
    oid: int
    old_oid: int
    side: Side
    old_price: int
    old_qty: int
    price: int
    qty: int
    priority: Priority
    old_level_qty: int
    old_level_orders: int
    level_qty: int
    level_orders: int

    @property
    def TYPE(self) -> str:
        return "replaced"


class Executed(NamedTuple):
    """An order executed in a cross (at ``cross_price``, whatever its own ``price``).

    ``in_book`` tells whether it was a displayed book order (the level fields
    then give its level after the execution) or an on-open, on-close or
    imbalance-only order that was never displayed.
    """

    seq: int
    ts: int
    symbol: str
    account: str
    id: str
    oid: int
    side: Side
    price: int | None
    qty: int
    left: int
    trade_id: int
    cross_price: int
    in_book: bool
    level_qty: int
    level_orders: int

    @property
    def TYPE(self) -> str:
        return "executed"


class Crossed(NamedTuple):
    """A cross ran: its price and the shares it paired (0 when nothing could trade)."""

    seq: int
    ts: int
    symbol: str
    cross_type: CrossType
    price: int | None
    qty: int
    imbalance: int

    @property
    def TYPE(self) -> str:
        return "crossed"


class StateChanged(NamedTuple):
    """A symbol's trading state changed (``reason``: schedule, halt, luld, ...)."""

    seq: int
    ts: int
    symbol: str
    state: TradingState
    previous: TradingState
    reason: str

    @property
    def TYPE(self) -> str:
        return "state"


class Imbalance(NamedTuple):
    """Auction information before a cross (Nasdaq's Net Order Imbalance Indicator).

    ``paired`` shares would execute at ``near`` price now; ``imbalance`` shares
    on ``imbalance_side`` would not. ``far`` is the price at which auction-only
    orders alone would cross; ``reference`` is the near price kept within the
    current best bid and offer.
    """

    seq: int
    ts: int
    symbol: str
    cross_type: CrossType
    paired: int
    imbalance: int
    imbalance_side: Side | None
    reference: int | None
    near: int | None
    far: int | None

    @property
    def TYPE(self) -> str:
        return "imbalance"


class BandsChanged(NamedTuple):
    """New Limit Up-Limit Down bands around a new reference price."""

    seq: int
    ts: int
    symbol: str
    reference: int
    lower: int
    upper: int

    @property
    def TYPE(self) -> str:
        return "bands"


Event = (
    Accepted
    | Rejected
    | Trade
    | Added
    | Cancelled
    | Replaced
    | Executed
    | Crossed
    | StateChanged
    | Imbalance
    | BandsChanged
)
"""Every event the engine emits."""

# ``TYPE`` is spelled as a property above so type checkers see a constant rather
# than a tuple field; at run time it becomes a plain class attribute, readable
# from the class (``Trade.TYPE``) as well as from an event.
for _event in (
    Accepted,
    Rejected,
    Trade,
    Added,
    Cancelled,
    Replaced,
    Executed,
    Crossed,
    StateChanged,
    Imbalance,
    BandsChanged,
):
    setattr(_event, "TYPE", _event.TYPE.fget(None))  # type: ignore[union-attr]  # noqa: B010
del _event
