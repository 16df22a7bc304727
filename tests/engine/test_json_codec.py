"""The JSON edge: command objects to commands (with stable error codes), events to objects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lob.engine import (
    CancelOrder,
    MatchingEngine,
    NewOrder,
    OrderType,
    ReplaceOrder,
    SelfMatchMode,
    Side,
    TimeInForce,
)
from lob.engine.json_codec import CommandError, event_to_dict, parse_command

NEW: dict[str, Any] = {
    "op": "new",
    "account": "A",
    "id": "o1",
    "symbol": "AAPL",
    "side": "buy",
    "type": "limit",
    "price": "187.25",
    "qty": 100,
    "tif": "day",
    "post_only": False,
}


def test_parse_new_order_with_every_field() -> None:
    command = parse_command({**NEW, "smp": "cancel_both", "tif": "gtc", "post_only": True})
    assert command == NewOrder(
        "A",
        "o1",
        "AAPL",
        Side.BUY,
        100,
        1_872_500,
        OrderType.LIMIT,
        TimeInForce.GTC,
        True,
        SelfMatchMode.CANCEL_BOTH,
    )


def test_parse_new_order_defaults_limit_day_not_post_only_cancel_newest() -> None:
    command = parse_command(
        {
            "op": "new",
            "account": "A",
            "id": "o1",
            "symbol": "AAPL",
            "side": "sell",
            "qty": 5,
            "price": "1",
        }
    )
    assert command == NewOrder("A", "o1", "AAPL", Side.SELL, 5, 10_000)
    assert (command.order_type, command.tif, command.post_only, command.smp) == (
        OrderType.LIMIT,
        TimeInForce.DAY,
        False,
        SelfMatchMode.CANCEL_NEWEST,
    )


@pytest.mark.parametrize("price", ["187.25", 187.25, "187.2500", " 187.25 "])
def test_parse_price_as_string_or_number(price: object) -> None:
    assert parse_command({**NEW, "price": price}).price == 1_872_500


def test_parse_market_order_without_price() -> None:
    fields = {k: v for k, v in NEW.items() if k != "price"}
    command = parse_command({**fields, "type": "market", "tif": "ioc"})
    assert (command.order_type, command.price) == (OrderType.MARKET, None)


def test_parse_cancel_and_replace() -> None:
    assert parse_command({"op": "cancel", "account": "A", "id": "o1"}) == CancelOrder("A", "o1")
    replace = {"op": "replace", "account": "A", "id": "o1"}
    assert parse_command({**replace, "price": "187.30", "qty": 200}) == ReplaceOrder(
        "A", "o1", 1_873_000, 200
    )
    assert parse_command({**replace, "qty": 50}) == ReplaceOrder("A", "o1", None, 50)
    assert parse_command({**replace, "price": 10}) == ReplaceOrder("A", "o1", 100_000, None)


def test_parse_accepts_a_ts_field_on_every_command() -> None:
    assert parse_command({**NEW, "ts": 5}).qty == 100
    assert parse_command({"op": "cancel", "account": "A", "id": "o1", "ts": 5})


BAD = [
    ([], "malformed"),
    ("new", "malformed"),
    ({"account": "A"}, "invalid_op"),
    ({**NEW, "op": "amend"}, "invalid_op"),
    ({**NEW, "colour": "red"}, "invalid_field"),
    ({"op": "cancel", "id": "o1"}, "missing_field"),
    ({"op": "cancel", "account": "A"}, "missing_field"),
    ({"op": "cancel", "account": 5, "id": "o1"}, "invalid_account"),
    ({"op": "cancel", "account": "A", "id": ""}, "invalid_id"),
    ({"op": "cancel", "account": "A", "id": "o1", "price": "1"}, "invalid_field"),
    ({"op": "replace", "account": "A", "id": "o1"}, "missing_field"),
    ({"op": "replace", "account": "A", "id": "o1", "qty": "5"}, "invalid_quantity"),
    ({"op": "replace", "account": "A", "id": "o1", "price": "x"}, "invalid_price"),
    ({"op": "replace", "account": "A", "id": "o1", "price": "0"}, "invalid_price"),
    ({k: v for k, v in NEW.items() if k != "symbol"}, "missing_field"),
    ({k: v for k, v in NEW.items() if k != "side"}, "missing_field"),
    ({k: v for k, v in NEW.items() if k != "qty"}, "missing_field"),
    ({**NEW, "symbol": 5}, "invalid_symbol"),
    ({**NEW, "side": "hold"}, "invalid_side"),
    ({**NEW, "type": "stop"}, "invalid_type"),
    ({**NEW, "tif": "gfd"}, "invalid_tif"),
    ({**NEW, "smp": "never"}, "invalid_field"),
    ({**NEW, "qty": "100"}, "invalid_quantity"),
    ({**NEW, "qty": 100.0}, "invalid_quantity"),
    ({**NEW, "qty": True}, "invalid_quantity"),
    ({**NEW, "post_only": "false"}, "invalid_field"),
    ({**NEW, "price": "abc"}, "invalid_price"),
    ({**NEW, "price": "-1"}, "invalid_price"),
    ({**NEW, "price": 0}, "invalid_price"),
    ({**NEW, "price": "187.00001"}, "invalid_price"),
    ({**NEW, "price": True}, "invalid_price"),
]


@pytest.mark.parametrize(("obj", "code"), BAD)
def test_parse_bad_command_raises_command_error_with_code(obj: object, code: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(obj)
    assert info.value.code == code
    assert info.value.message


def test_command_error_carries_what_could_be_read_of_the_command() -> None:
    with pytest.raises(CommandError) as info:
        parse_command({**NEW, "side": "hold"})
    error = info.value
    assert (error.op, error.account, error.id, error.symbol) == ("new", "A", "o1", "AAPL")


def test_event_to_dict_puts_type_first_and_prices_as_decimal_text() -> None:
    engine = MatchingEngine()
    events = engine.new_order("A", "a1", "AAPL", Side.SELL, 100, 1_872_500, ts=7)
    events += engine.new_order("B", "b1", "AAPL", Side.BUY, 60, 1_873_000, ts=8)
    events += engine.replace("A", "a1", 9, 1_872_600)
    events += engine.cancel("A", "a1", ts=10)
    events += engine.cancel("A", "a1", ts=11)
    events += engine.new_order("C", "c1", "AAPL", Side.BUY, 1, None, 12, OrderType.MARKET)
    dicts = [event_to_dict(e) for e in events]
    assert [next(iter(d)) for d in dicts] == ["type"] * len(dicts)
    assert [d["type"] for d in dicts] == [
        "accepted",
        "added",
        "accepted",
        "trade",
        "replaced",
        "added",
        "cancelled",
        "rejected",
        "accepted",
        "cancelled",
    ]
    trade = dicts[3]
    assert (trade["price"], trade["qty"], trade["aggressor"]) == ("187.25", 60, "buy")
    replaced = dicts[4]
    assert (replaced["old_price"], replaced["price"], replaced["priority"]) == (
        "187.25",
        "187.26",
        "lost",
    )
    assert dicts[7]["code"] == "unknown_order"
    assert dicts[8]["price"] is None and dicts[9]["price"] is None
    # Plain JSON: enums are their public text, and the objects round-trip unchanged.
    assert json.loads(json.dumps(dicts)) == dicts
    assert json.dumps(dicts[0]).count('"side": "sell"') == 1
