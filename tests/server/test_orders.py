"""Order entry's parsing: the plain-order fast path builds exactly what the generic parser does."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lob.engine import events
from lob.engine.commands import NewOrder
from lob.engine.json_codec import CommandError, event_to_dict, parse_command
from lob.engine.types import OrderType, SelfMatchMode, Side, TimeInForce
from lob.server.accounts import Accounts
from lob.server.errors import ApiError
from lob.server.orders import _plain_new, event_dict, parse_new

JUNK: list[Any] = [None, 0, -1, 7, 1.5, True, "", "x", [1], {"a": 1}, "-1", "0", "1e3"]
VALUES: dict[str, list[Any]] = {
    "id": ["c1", "a" * 64, "a" * 65, *JUNK],
    "symbol": ["AAPL", "ZZZZ", *JUNK],
    "side": [*(m.value for m in Side), "BUY", *JUNK],
    "qty": [100, 1, 0, -5, 10**12, 100.0, *JUNK],
    "price": ["227.50", "227.5001", " 227.5 ", "0.0001", "227.12345", 227.5, 227, *JUNK],
    "type": [*(m.value for m in OrderType), *JUNK],
    "tif": [*(m.value for m in TimeInForce), *JUNK],
    "post_only": [False, True, 1, "true", None],
    "smp": [*(m.value for m in SelfMatchMode), *JUNK],
    "op": ["new", "cancel"],
    "account": ["bob"],
    "ts": [1],
    "extra": [1],
}
BODIES = st.lists(st.sampled_from(sorted(VALUES)), unique=True).flatmap(
    lambda keys: st.fixed_dictionaries({k: st.sampled_from(VALUES[k]) for k in keys})
)
PLAIN = st.fixed_dictionaries(
    {
        "symbol": st.just("AAPL"),
        "side": st.sampled_from([m.value for m in Side]),
        "qty": st.integers(1, 10_000),
    },
    optional={
        "id": st.text(min_size=1, max_size=8),
        "price": st.decimals(min_value=1, max_value=999, places=2).map(str),
        "type": st.sampled_from([m.value for m in OrderType]),
        "tif": st.sampled_from([m.value for m in TimeInForce]),
        "post_only": st.booleans(),
        "smp": st.sampled_from([m.value for m in SelfMatchMode]),
    },
)


def _generic(body: dict[str, Any], id: str) -> NewOrder | CommandError:
    obj = dict(body)
    if obj.get("id") is None:
        obj["id"] = id
    obj.update(op="new", account="alice")
    try:
        command = parse_command(obj)
    except CommandError as exc:
        return exc
    assert isinstance(command, NewOrder)
    return command


@settings(max_examples=600)
@given(BODIES)
def test_plain_new_any_body_builds_the_generic_order_or_defers(body: dict[str, Any]) -> None:
    fast = _plain_new("alice", body)
    expected = _generic(body, fast.id if fast is not None else "generated")
    if fast is not None:
        assert fast == expected
    elif isinstance(expected, NewOrder):
        # Deferring is always safe. It happens only for fields the server sets (refused
        # before the generic parser) or for a price the generic parser converts.
        server_set = {"op", "account", "ts"} & set(body)
        assert server_set or not isinstance(body.get("price"), str)


@given(PLAIN)
def test_plain_new_well_formed_orders_take_the_fast_path(body: dict[str, Any]) -> None:
    fast = _plain_new("alice", body)
    assert fast is not None
    assert fast == _generic(body, fast.id)


def test_parse_new_bad_bodies_get_the_generic_errors() -> None:
    symbols = frozenset({"AAPL"})
    cases = [
        ({"symbol": "AAPL", "side": "buy", "qty": 1, "op": "new"}, "invalid_field"),
        ({"symbol": "AAPL", "side": "up", "qty": 1}, "invalid_side"),
        ({"symbol": "AAPL", "side": "buy", "qty": "1"}, "invalid_quantity"),
        ({"symbol": "AAPL", "side": "buy", "qty": 1, "price": "-1"}, "invalid_price"),
        ({"symbol": "AAPL", "side": "buy", "qty": 1, "color": "red"}, "invalid_field"),
        ({"symbol": "AAPL", "side": "buy", "qty": 1, "price": "227.123"}, "invalid_price"),
    ]
    for body, code in cases:
        try:
            parse_new("alice", body, symbols, Accounts(), 10)
        except ApiError as exc:
            assert exc.code == code, (body, exc.code)
        else:
            raise AssertionError(f"accepted {body}")


EVENT_TYPES = [
    kind
    for kind in vars(events).values()
    if isinstance(kind, type) and hasattr(kind, "_fields") and hasattr(kind, "TYPE")
]


@given(st.sampled_from(EVENT_TYPES), st.data())
def test_event_dict_every_event_type_matches_event_to_dict_key_for_key(
    kind: Any, data: st.DataObject
) -> None:
    values = [
        data.draw(st.one_of(st.none(), st.integers(-(10**9), 10**9), st.text(max_size=3)))
        for _ in kind._fields
    ]
    event = kind(*values)
    expected = event_to_dict(event)
    got = event_dict(event)
    assert got == expected and list(got) == list(expected)


def test_event_dict_covers_the_engine_event_types() -> None:
    assert {kind.TYPE for kind in EVENT_TYPES} >= {
        "accepted",
        "rejected",
        "trade",
        "added",
        "cancelled",
        "replaced",
    }


def test_price_text_is_format_price_and_its_memory_stays_bounded() -> None:
    from lob.engine.prices import format_price
    from lob.server import price_text as module

    for units in (1, 99, 10_000, 2_275_000, 1_234_567_890, 12_345):
        assert module.price_text(units) == format_price(units)
        assert module.price_text(units) == format_price(units)  # the remembered text
    for units in range(module.LIMIT + 10):
        module.price_text(units + 1)
    assert len(module._texts) <= module.LIMIT
    assert module.price_text(2_275_000) == "227.50"
