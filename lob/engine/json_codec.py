"""JSON at the engine's edge: command objects in, event objects out.

This is the public, stable form used by ``lob replay`` (docs/replay.md), the
REST API and the WebSocket protocol. Prices are decimal strings on the way out
and decimal strings or numbers on the way in; everything else is plain JSON.
Malformed input raises ``CommandError`` carrying the public error code, so the
caller can record it as a ``Rejected`` event and carry on.
"""

from __future__ import annotations

from typing import Any

from mypy_extensions import mypyc_attr

from lob.engine.commands import CancelOrder, Command, NewOrder, ReplaceOrder
from lob.engine.events import Event
from lob.engine.prices import PriceError, format_price, parse_price
from lob.engine.types import OrderType, RejectCode, SelfMatchMode, Side, TimeInForce

__all__ = ["CommandError", "event_to_dict", "parse_command"]

_NEW_FIELDS = frozenset(
    {
        "op",
        "account",
        "id",
        "symbol",
        "side",
        "type",
        "price",
        "qty",
        "tif",
        "post_only",
        "smp",
        "ts",
    }
)
_CANCEL_FIELDS = frozenset({"op", "account", "id", "ts"})
_REPLACE_FIELDS = frozenset({"op", "account", "id", "price", "qty", "ts"})
_PRICE_FIELDS = frozenset(
    {"price", "old_price", "cross_price", "reference", "near", "far", "lower", "upper"}
)


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class CommandError(ValueError):
    """A command object that cannot be turned into a ``Command``."""

    def __init__(
        self,
        code: RejectCode,
        message: str,
        op: str = "unknown",
        account: str | None = None,
        id: str | None = None,
        symbol: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.op = op
        self.account = account
        self.id = id
        self.symbol = symbol


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def parse_command(obj: object) -> Command:
    """Turn one decoded JSON object into a command, or raise ``CommandError``."""
    if not isinstance(obj, dict):
        raise CommandError(RejectCode.MALFORMED, "a command must be a JSON object")
    op = obj.get("op")
    account, id, symbol = _text(obj.get("account")), _text(obj.get("id")), _text(obj.get("symbol"))
    opname = op if op in ("new", "cancel", "replace") else "unknown"

    def fail(code: RejectCode, message: str) -> CommandError:
        return CommandError(code, message, opname, account, id, symbol)

    if op not in ("new", "cancel", "replace"):
        raise fail(RejectCode.INVALID_OP, f"op must be new, cancel or replace: {op!r}")
    allowed = {"new": _NEW_FIELDS, "cancel": _CANCEL_FIELDS, "replace": _REPLACE_FIELDS}[op]
    unknown = sorted(str(k) for k in obj if k not in allowed)
    if unknown:
        raise fail(RejectCode.INVALID_FIELD, f"unknown field(s) for {op}: {', '.join(unknown)}")
    for name, code in (("account", RejectCode.INVALID_ACCOUNT), ("id", RejectCode.INVALID_ID)):
        if name not in obj:
            raise fail(RejectCode.MISSING_FIELD, f"{name} is required")
        if not isinstance(obj[name], str) or not obj[name]:
            raise fail(code, f"{name} must be a non-empty string")
    assert account is not None and id is not None
    if op == "cancel":
        return CancelOrder(account, id)
    if op == "replace":
        price = _price(obj, fail) if "price" in obj else None
        qty = _qty(obj, fail) if "qty" in obj else None
        if price is None and qty is None:
            raise fail(RejectCode.MISSING_FIELD, "a replace needs a price or a qty")
        return ReplaceOrder(account, id, price, qty)
    for name in ("symbol", "side", "qty"):
        if name not in obj:
            raise fail(RejectCode.MISSING_FIELD, f"{name} is required")
    if symbol is None:
        raise fail(RejectCode.INVALID_SYMBOL, "symbol must be a string")
    side = _choice(obj, "side", Side, None, RejectCode.INVALID_SIDE, fail)
    order_type = _choice(obj, "type", OrderType, OrderType.LIMIT, RejectCode.INVALID_TYPE, fail)
    tif = _choice(obj, "tif", TimeInForce, TimeInForce.DAY, RejectCode.INVALID_TIF, fail)
    smp = _choice(
        obj, "smp", SelfMatchMode, SelfMatchMode.CANCEL_NEWEST, RejectCode.INVALID_FIELD, fail
    )
    qty = _qty(obj, fail)
    post_only = obj.get("post_only", False)
    if not isinstance(post_only, bool):
        raise fail(RejectCode.INVALID_FIELD, "post_only must be true or false")
    price = None
    if obj.get("price") is not None:
        price = _price(obj, fail)
    return NewOrder(account, id, symbol, side, qty, price, order_type, tif, post_only, smp)


def _choice(
    obj: dict[str, Any], name: str, enum: Any, default: Any, code: RejectCode, fail: Any
) -> Any:
    value = obj.get(name, default)
    if value is None and default is not None:
        return default
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise fail(code, f"{name} must be one of {choices}: {value!r}") from None


def _qty(obj: dict[str, Any], fail: Any) -> int:
    qty = obj["qty"]
    if type(qty) is not int:
        raise fail(RejectCode.INVALID_QUANTITY, f"qty must be a positive integer: {qty!r}")
    return qty


def _price(obj: dict[str, Any], fail: Any) -> int:
    try:
        price = parse_price(obj["price"])
    except PriceError as exc:
        raise fail(RejectCode.INVALID_PRICE, str(exc)) from None
    if price <= 0:
        raise fail(RejectCode.INVALID_PRICE, f"price must be positive: {obj['price']!r}")
    return price


def event_to_dict(event: Event) -> dict[str, Any]:
    """One event as a JSON-ready dict: ``type`` first, prices as decimal strings."""
    out: dict[str, Any] = {"type": event.TYPE}
    for name, value in zip(event._fields, event, strict=True):
        if name in _PRICE_FIELDS and isinstance(value, int):
            value = format_price(value)
        out[name] = value
    return out
