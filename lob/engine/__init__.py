"""The exchange core: pure, deterministic, integers on the hot path.

Script against it directly::

    from lob.engine import MatchingEngine, Side, parse_price

    engine = MatchingEngine()
    engine.new_order("alice", "a1", "AAPL", Side.SELL, 100, parse_price("187.25"), ts=1)
    for event in engine.new_order("bob", "b1", "AAPL", Side.BUY, 60, parse_price("187.30"), ts=2):
        print(event)

See docs/engine.md for the rules and the events.
"""

from lob.engine.book import IntegrityError, LevelView, OrderBook, OrderView
from lob.engine.commands import CancelOrder, Command, NewOrder, ReplaceOrder
from lob.engine.engine import DEFAULT_COLLAR, MAX_QTY, MatchingEngine, UnknownSymbolError
from lob.engine.events import Accepted, Added, Cancelled, Event, Rejected, Replaced, Trade
from lob.engine.prices import (
    PRICE_SCALE,
    PriceError,
    format_price,
    is_on_tick,
    parse_price,
    tick_size,
)
from lob.engine.snapshots import L2Snapshot, OrderSnapshot
from lob.engine.types import (
    CancelReason,
    OrderType,
    Priority,
    RejectCode,
    SelfMatchMode,
    Side,
    TimeInForce,
)

__all__ = [
    "DEFAULT_COLLAR",
    "MAX_QTY",
    "PRICE_SCALE",
    "Accepted",
    "Added",
    "CancelOrder",
    "CancelReason",
    "Cancelled",
    "Command",
    "Event",
    "IntegrityError",
    "L2Snapshot",
    "LevelView",
    "MatchingEngine",
    "NewOrder",
    "OrderBook",
    "OrderSnapshot",
    "OrderType",
    "OrderView",
    "PriceError",
    "Priority",
    "RejectCode",
    "Rejected",
    "ReplaceOrder",
    "Replaced",
    "SelfMatchMode",
    "Side",
    "TimeInForce",
    "Trade",
    "UnknownSymbolError",
    "format_price",
    "is_on_tick",
    "parse_price",
    "tick_size",
]
