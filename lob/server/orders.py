"""Order entry shared by REST and WebSocket: checking inputs, shaping acknowledgements.

Why here and not in the engine: these are the checks that need no book (field
types, the account's open-order limit, whether the symbol is traded, Rule 612
ticks), so junk is refused before it reaches the journal and changes nothing,
not even the sequence. Everything that needs the book (collars, post-only,
duplicate ids, unknown orders) is the engine's to decide, deterministically,
after the journal write.

The account always comes from the API key, never from the message, so no
client can place, see, cancel or replace another account's order: another
account's client id simply does not exist for it (``unknown_order``).
"""

from __future__ import annotations

import secrets
from typing import Any

from lob.engine.commands import CancelOrder, NewOrder, ReplaceOrder
from lob.engine.engine import MAX_QTY
from lob.engine.events import Event, Rejected, Trade
from lob.engine.json_codec import CommandError, event_to_dict, parse_command
from lob.engine.prices import format_price, is_on_tick, tick_size
from lob.server.accounts import Accounts
from lob.server.errors import TOO_MANY_ORDERS, ApiError

__all__ = ["ack_for", "new_order_id", "parse_cancel", "parse_new", "parse_replace", "private_event"]

_SERVER_SET = ("op", "account", "ts")


def new_order_id() -> str:
    """A client id for an order that came without one."""
    return "o" + secrets.token_hex(8)


def _fail(exc: CommandError) -> ApiError:
    return ApiError(exc.code, exc.message)


def _check_body(body: object, fields: tuple[str, ...] = _SERVER_SET) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError("malformed", "the body must be a JSON object")
    for name in fields:
        if name in body:
            raise ApiError("invalid_field", f"{name} is set by the server, not the client")
    return body


def _check_qty(qty: int) -> None:
    if not 0 < qty <= MAX_QTY:
        raise ApiError("invalid_quantity", f"qty must be 1 to {MAX_QTY:,} shares: {qty}")


def _check_tick(price: int | None) -> None:
    if price is not None and not is_on_tick(price):
        raise ApiError(
            "invalid_price",
            f"{format_price(price)} is off tick: the tick is ${format_price(tick_size(price))}"
            " at this price (Rule 612)",
        )


def parse_new(
    account: str,
    body: object,
    symbols: frozenset[str] | set[str],
    accounts: Accounts,
    max_open: int,
) -> NewOrder:
    """A new order from a client's fields; ``ApiError`` if it must not reach the engine."""
    obj = dict(_check_body(body))
    if "id" not in obj or obj["id"] is None:
        obj["id"] = new_order_id()
    obj["op"] = "new"
    obj["account"] = account
    try:
        command = parse_command(obj)
    except CommandError as exc:
        raise _fail(exc) from None
    assert isinstance(command, NewOrder)
    if len(command.id) > 64:
        raise ApiError("invalid_id", "id must be a string of 1 to 64 characters")
    if command.symbol not in symbols:
        raise ApiError("unknown_symbol", f"{command.symbol} is not traded here")
    _check_qty(command.qty)
    _check_tick(command.price)
    if accounts.open_count(account) >= max_open:
        raise ApiError(TOO_MANY_ORDERS, f"the account may have at most {max_open} open orders")
    return command


def parse_cancel(account: str, id: object) -> CancelOrder:
    if not isinstance(id, str) or not id or len(id) > 64:
        raise ApiError("invalid_id", "id must be a string of 1 to 64 characters")
    return CancelOrder(account, id)


def parse_replace(account: str, id: object, body: object) -> ReplaceOrder:
    obj = dict(_check_body(body, (*_SERVER_SET, "id")))
    obj.update(op="replace", account=account, id=id)
    if not isinstance(id, str) or not id or len(id) > 64:
        raise ApiError("invalid_id", "id must be a string of 1 to 64 characters")
    try:
        command = parse_command(obj)
    except CommandError as exc:
        raise _fail(exc) from None
    assert isinstance(command, ReplaceOrder)
    if command.qty is not None:
        _check_qty(command.qty)
    _check_tick(command.price)
    return command


def private_event(event: Event, account: str) -> dict[str, Any]:
    """An event as its account may see it: fills never name the other side."""
    if type(event) is Trade:
        return fill_dict(event, account)
    return event_to_dict(event)


def fill_dict(t: Trade, account: str) -> dict[str, Any]:
    """A trade seen by one of its sides (the buyer's view if the account is both)."""
    buyer = t.buy_account == account
    side = "buy" if buyer else "sell"
    return {
        "type": "fill",
        "seq": t.seq,
        "ts": t.ts,
        "symbol": t.symbol,
        "trade_id": t.trade_id,
        "id": t.buy_id if buyer else t.sell_id,
        "side": side,
        "price": format_price(t.price),
        "qty": t.qty,
        "liquidity": "taker" if str(t.aggressor) == side else "maker",
    }


def ack_for(
    op: str, account: str, id: str, events: list[Event], accounts: Accounts
) -> dict[str, Any]:
    """The acknowledgement of one command, or ``ApiError`` if the engine rejected it."""
    first = events[0]
    if type(first) is Rejected:
        raise ApiError(first.code, first.message)
    fills = []
    for event in events:
        if type(event) is Trade and (
            (event.buy_account == account and event.buy_id == id)
            or (event.sell_account == account and event.sell_id == id)
        ):
            fills.append(fill_dict(event, account))
    status = accounts.order(account, id)
    return {
        "type": "ack",
        "op": op,
        "id": id,
        "seq": events[-1].seq,
        "order": status.to_dict() if status is not None else None,
        "fills": fills,
        "events": [private_event(e, account) for e in events if _mine(e, account)],
    }


def _mine(event: Event, account: str) -> bool:
    if type(event) is Trade:
        return event.buy_account == account or event.sell_account == account
    return getattr(event, "account", None) == account
