"""The engine's vocabulary: sides, order types, time in force, reasons and codes.

All are ``StrEnum`` so that their values are the public JSON spellings and a
member compares equal to its text.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AUCTION_ORDER_TYPES",
    "ORDER_TYPE_BY_TEXT",
    "SIDE_BY_TEXT",
    "SMP_BY_TEXT",
    "TIF_BY_TEXT",
    "CancelReason",
    "CrossType",
    "OrderType",
    "Priority",
    "RejectCode",
    "SelfMatchMode",
    "Side",
    "TimeInForce",
    "TradingState",
]


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"
    MOO = "moo"
    """Market-on-open: executes only in the opening cross, at its price."""
    LOO = "loo"
    """Limit-on-open: executes only in the opening cross, at its limit or better."""
    MOC = "moc"
    """Market-on-close: executes only in the closing cross."""
    LOC = "loc"
    """Limit-on-close: executes only in the closing cross, at its limit or better."""
    IO = "io"
    """Imbalance-only: a priced order that only offsets the imbalance of the next cross."""


AUCTION_ORDER_TYPES = frozenset(
    {OrderType.MOO, OrderType.LOO, OrderType.MOC, OrderType.LOC, OrderType.IO}
)
"""Order types that never rest in the continuous book: they wait for a cross."""


class TradingState(StrEnum):
    """Where a symbol is in its trading day (transitions: ``lob.engine.session``)."""

    PRE_OPEN = "pre_open"
    OPENING_AUCTION = "opening_auction"
    CONTINUOUS = "continuous"
    HALTED = "halted"
    QUOTE_ONLY = "quote_only"
    PAUSED = "paused"
    CLOSING_AUCTION = "closing_auction"
    CLOSED = "closed"


class CrossType(StrEnum):
    """Which cross printed a trade (the ITCH cross type codes in docs/protocol-itch.md)."""

    OPENING = "opening"
    CLOSING = "closing"
    HALT = "halt"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class SelfMatchMode(StrEnum):
    """What happens when an incoming order would trade with its own account."""

    CANCEL_NEWEST = "cancel_newest"
    """The incoming order's remainder is cancelled; earlier fills stand."""
    CANCEL_OLDEST = "cancel_oldest"
    """The resting order is cancelled and matching goes on."""
    CANCEL_BOTH = "cancel_both"
    """Both the resting order and the incoming remainder are cancelled."""


# An order's enums by their text, for the paths that read orders in bulk (order
# entry, the journal): a dictionary look-up, where calling the class with a value
# runs Python-level code even in compiled builds.
SIDE_BY_TEXT: dict[object, Side] = {m.value: m for m in Side}
ORDER_TYPE_BY_TEXT: dict[object, OrderType] = {m.value: m for m in OrderType}
TIF_BY_TEXT: dict[object, TimeInForce] = {m.value: m for m in TimeInForce}
SMP_BY_TEXT: dict[object, SelfMatchMode] = {m.value: m for m in SelfMatchMode}


class CancelReason(StrEnum):
    USER = "user"
    IOC = "ioc"
    FOK = "fok"
    MARKET = "market"
    SELF_MATCH = "self_match"
    EXPIRED = "expired"
    AUCTION = "auction"
    """An on-open, on-close or imbalance-only order the cross did not fill."""
    PRICE_BAND = "price_band"
    """A market order stopped at the Limit Up-Limit Down band."""


class Priority(StrEnum):
    """Whether a replace kept the order's place in its queue."""

    KEPT = "kept"
    LOST = "lost"


class RejectCode(StrEnum):
    """Stable, public reasons for a rejection (also the REST/WebSocket error codes)."""

    MALFORMED = "malformed"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    INVALID_OP = "invalid_op"
    INVALID_ACCOUNT = "invalid_account"
    INVALID_ID = "invalid_id"
    INVALID_SYMBOL = "invalid_symbol"
    UNKNOWN_SYMBOL = "unknown_symbol"
    INVALID_SIDE = "invalid_side"
    INVALID_TYPE = "invalid_type"
    INVALID_TIF = "invalid_tif"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_PRICE = "invalid_price"
    DUPLICATE_ID = "duplicate_id"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    UNKNOWN_ORDER = "unknown_order"
    PRICE_OUT_OF_COLLAR = "price_out_of_collar"
    OUTSIDE_PRICE_BAND = "outside_price_band"
    MARKET_CLOSED = "market_closed"
    SYMBOL_HALTED = "symbol_halted"
    NOT_CONTINUOUS = "not_continuous"
    AUCTION_CLOSED = "auction_closed"
    ILLEGAL_TRANSITION = "illegal_transition"
