"""The server's error vocabulary: one JSON shape, stable codes, fixed HTTP statuses.

Every error a client can get, over REST or WebSocket, is
``{"error": {"code": "...", "message": "..."}}``. The codes are the engine's
``RejectCode`` values plus the server's own below; the HTTP status of each is
fixed here so that REST and the docs cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from lob.engine.types import RejectCode

__all__ = ["STATUS", "ApiError", "error_body", "status_for"]

# Codes the server adds to the engine's RejectCode values.
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NO_AUCTION = "no_auction"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
PAYLOAD_TOO_LARGE = "payload_too_large"
TOO_MANY_ORDERS = "too_many_orders"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
INTERNAL = "internal"
# Codes of lob.analytics (history and analytics endpoints), with its statuses.
EMPTY_HISTORY = "empty_history"
INVALID_INTERVAL = "invalid_interval"
INVALID_TIME = "invalid_time"
INVALID_CURSOR = "invalid_cursor"
INVALID_LIMIT = "invalid_limit"

STATUS: dict[str, int] = {
    RejectCode.MALFORMED: 400,
    RejectCode.MISSING_FIELD: 400,
    RejectCode.INVALID_FIELD: 400,
    RejectCode.INVALID_OP: 400,
    RejectCode.INVALID_ACCOUNT: 400,
    RejectCode.INVALID_ID: 400,
    RejectCode.INVALID_SYMBOL: 400,
    RejectCode.UNKNOWN_SYMBOL: 404,
    RejectCode.INVALID_SIDE: 400,
    RejectCode.INVALID_TYPE: 400,
    RejectCode.INVALID_TIF: 400,
    RejectCode.INVALID_QUANTITY: 400,
    RejectCode.INVALID_PRICE: 400,
    RejectCode.DUPLICATE_ID: 409,
    RejectCode.POST_ONLY_WOULD_TAKE: 422,
    RejectCode.UNKNOWN_ORDER: 404,
    RejectCode.PRICE_OUT_OF_COLLAR: 422,
    RejectCode.OUTSIDE_PRICE_BAND: 422,
    RejectCode.MARKET_CLOSED: 409,
    RejectCode.SYMBOL_HALTED: 409,
    RejectCode.NOT_CONTINUOUS: 409,
    RejectCode.AUCTION_CLOSED: 409,
    RejectCode.ILLEGAL_TRANSITION: 409,
    UNAUTHORIZED: 401,
    FORBIDDEN: 403,
    NO_AUCTION: 404,
    NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    PAYLOAD_TOO_LARGE: 413,
    TOO_MANY_ORDERS: 429,
    RATE_LIMITED: 429,
    UNAVAILABLE: 503,
    INTERNAL: 500,
    EMPTY_HISTORY: 404,
    INVALID_INTERVAL: 400,
    INVALID_TIME: 400,
    INVALID_CURSOR: 400,
    INVALID_LIMIT: 400,
}
"""HTTP status of every error code."""

DESCRIPTIONS: dict[str, str] = {
    "malformed": "the body is not a JSON object, or not valid JSON",
    "missing_field": "a required field is absent",
    "invalid_field": "a field has a wrong type or value, or is not known",
    "invalid_op": "a WebSocket message type that does not exist",
    "invalid_account": "an account name is not usable",
    "invalid_id": "an order id is empty or longer than 64 characters",
    "invalid_symbol": "a symbol is not 1-8 capital letters",
    "unknown_symbol": "the symbol is not traded on this exchange",
    "invalid_side": "side is not buy or sell",
    "invalid_type": "type is not limit, market, moo, loo, moc, loc or io",
    "invalid_tif": "tif is not day, gtc, ioc or fok",
    "invalid_quantity": "qty is not a whole number from 1 to 1,000,000,000",
    "invalid_price": "price is missing, not positive, has more than 4 decimals or is off tick",
    "duplicate_id": "the account already has a live order with this id",
    "post_only_would_take": "a post-only order would have taken liquidity",
    "unknown_order": "no such order for this account (other accounts' orders are never visible)",
    "price_out_of_collar": "the price is outside the collar around the reference price",
    "outside_price_band": "a buy above the upper or a sell below the lower LULD band",
    "market_closed": "the symbol is closed: only cancels are accepted",
    "symbol_halted": "the symbol is halted: only cancels are accepted",
    "not_continuous": "market, IOC and FOK orders need continuous trading",
    "auction_closed": "the auction order's entry or cancel cut-off has passed, or its cross ran",
    "illegal_transition": "the trading-state machine has no such move from the current state",
    "unauthorized": "no valid `Authorization: Bearer KEY` header",
    "forbidden": "the key is valid but may not do this (operator endpoints need the admin key)",
    "no_auction": "the symbol is not waiting for a cross: no imbalance information",
    "not_found": "no such endpoint",
    "method_not_allowed": "the endpoint exists but not with this method",
    "payload_too_large": "the body or frame is over the size limit",
    "too_many_orders": "the account has as many open orders as it may",
    "rate_limited": "too many messages on this connection",
    "unavailable": "the exchange is shutting down or its journal failed, or (history and"
    " analytics) the server runs with --no-history",
    "internal": "a bug in lob; the request changed nothing",
    "empty_history": "the history holds no trades, orders or quotes yet",
    "invalid_interval": "an interval is not 1s to 1d, or a window is not whole steps",
    "invalid_time": "since/until (or from/to) is not HH:MM[:SS], an ISO time or ns",
    "invalid_cursor": "a cursor that no page of this query handed out",
    "invalid_limit": "a history limit outside 1 to 10,000",
}


class ApiError(Exception):
    """An error answer; raising it anywhere in a handler sends it."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.status = status if status is not None else status_for(self.code)

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def status_for(code: str) -> int:
    return STATUS.get(str(code), 400)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": str(code), "message": message}}
