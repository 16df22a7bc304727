"""The replay driver (docs/replay.md): clock, symbols, final books; bad input changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lob.engine import MatchingEngine
from lob.engine.replay import replay_lines, session_midnight_ns, session_open_ns

DATE = "2026-01-02"
OPEN = session_open_ns(DATE)
MS = 1_000_000


def replay(*commands: Any, final_book: bool = False, date: str = DATE) -> list[dict[str, Any]]:
    """Replay commands (dicts are encoded, strings are sent as they are); decode every line."""
    lines = [c if isinstance(c, str) else json.dumps(c) for c in commands]
    return [
        json.loads(line)
        for line in replay_lines(lines, session_open_ns(date), final_book=final_book)
    ]


def new(id: str, side: str, qty: int, price: Any = None, account: str = "A", **kw: Any) -> dict:
    order = {"op": "new", "account": account, "id": id, "symbol": "AAPL", "side": side, "qty": qty}
    if price is not None:
        order["price"] = price
    return {**order, **kw}


def rejected_codes(out: list[dict[str, Any]]) -> list[str]:
    return [e["code"] for e in out if e["type"] == "rejected"]


# -- the clock -------------------------------------------------------------------


def test_replay_clock_starts_at_0930_new_york_and_advances_1ms_per_command() -> None:
    out = replay(new("a1", "buy", 1, "10.00"), "", "   ", new("a2", "buy", 1, "10.00"))
    assert int(dt.datetime(2026, 1, 2, 14, 30, tzinfo=dt.UTC).timestamp()) * 10**9 == OPEN
    assert [(e["type"], e["ts"]) for e in out] == [
        ("accepted", OPEN),
        ("added", OPEN),
        ("accepted", OPEN + MS),
        ("added", OPEN + MS),
    ]


def test_replay_session_date_follows_new_york_daylight_saving() -> None:
    summer = session_open_ns("2026-07-01")
    assert summer == int(dt.datetime(2026, 7, 1, 13, 30, tzinfo=dt.UTC).timestamp()) * 10**9
    assert replay(new("a1", "buy", 1, "10.00"), date="2026-07-01")[0]["ts"] == summer


def test_replay_ts_field_sets_the_clock_in_ns_since_midnight() -> None:
    midnight = session_midnight_ns(DATE)
    ten = 10 * 3600 * 10**9
    out = replay(new("a1", "buy", 1, "10.00", ts=ten), new("a2", "buy", 1, "10.00"))
    assert [e["ts"] for e in out] == [midnight + ten] * 2 + [midnight + ten + MS] * 2


@pytest.mark.parametrize("ts", ["10:00", -1, 1.5, True, [1]])
def test_replay_invalid_ts_rejected_invalid_field_and_the_clock_runs_on(ts: object) -> None:
    out = replay(new("a1", "buy", 1, "10.00", ts=ts), new("a2", "buy", 1, "10.00"))
    assert [e["type"] for e in out] == ["rejected", "accepted", "added"]
    assert out[0]["code"] == "invalid_field" and "ts" in out[0]["message"]
    assert [e["ts"] for e in out] == [OPEN, OPEN + MS, OPEN + MS]


def test_replay_null_ts_is_the_same_as_no_ts() -> None:
    out = replay(new("a1", "buy", 1, "10.00", ts=None), new("a2", "buy", 1, "10.00"))
    assert [e["ts"] for e in out] == [OPEN, OPEN, OPEN + MS, OPEN + MS]


def test_replay_seq_numbers_every_event_from_one() -> None:
    out = replay(new("a1", "sell", 5, "10"), "nonsense", new("b1", "buy", 9, "10", account="B"))
    assert [e["seq"] for e in out] == list(range(1, len(out) + 1))


# -- symbols and books -----------------------------------------------------------


def test_replay_symbols_created_on_first_use_without_a_collar() -> None:
    out = replay(
        new("a1", "sell", 100, "1.00"),
        new("a2", "sell", 100, "9999.00"),
        new("b1", "buy", 200, account="B", type="market"),
    )
    trades = [(e["price"], e["qty"]) for e in out if e["type"] == "trade"]
    assert trades == [("1.00", 100), ("9999.00", 100)]


def test_replay_final_book_prints_every_symbol_all_levels_best_first() -> None:
    out = replay(
        new("a1", "buy", 100, "10.00"),
        new("a2", "buy", 50, "10.01"),
        new("a3", "buy", 25, "10.00"),
        new("a4", "sell", 70, "10.05"),
        new("a5", "sell", 30, "10.03"),
        new("m1", "sell", 10, "20.00", symbol="MSFT"),
        final_book=True,
    )
    books = [e for e in out if e["type"] == "book"]
    assert books == [
        {
            "type": "book",
            "symbol": "AAPL",
            "seq": out[-3]["seq"],
            "bids": [
                {"price": "10.01", "qty": 50, "orders": 1},
                {"price": "10.00", "qty": 125, "orders": 2},
            ],
            "asks": [
                {"price": "10.03", "qty": 30, "orders": 1},
                {"price": "10.05", "qty": 70, "orders": 1},
            ],
        },
        {
            "type": "book",
            "symbol": "MSFT",
            "seq": out[-3]["seq"],
            "bids": [],
            "asks": [{"price": "20.00", "qty": 10, "orders": 1}],
        },
    ]
    assert out[-2:] == books


def test_replay_without_final_book_prints_events_only() -> None:
    out = replay(new("a1", "buy", 100, "10.00"))
    assert all(e["type"] != "book" for e in out)


def test_replay_of_nothing_prints_nothing() -> None:
    assert replay(final_book=True) == []


# -- what is rejected, and what is not ---------------------------------------------

SPEC_REJECTIONS = [
    (
        {"op": "new", "account": "A", "id": "x", "side": "buy", "qty": 1, "price": "1"},
        "missing_field",
    ),
    (new("x", "buy", 1, "10.00", symbol="aapl"), "invalid_symbol"),
    (new("x", "buy", 1, "10.00", symbol="TOOLONGXX"), "invalid_symbol"),
    (new("x", "short", 1, "10.00"), "invalid_side"),
    (new("x", "buy", 1, "10.00", type="stop"), "invalid_type"),
    (new("x", "buy", 1, "10.00", tif="gtd"), "invalid_tif"),
    (new("x", "buy", 0, "10.00"), "invalid_quantity"),
    (new("x", "buy", -3, "10.00"), "invalid_quantity"),
    (new("x", "buy", 1.5, "10.00"), "invalid_quantity"),
    (new("x", "buy", "7", "10.00"), "invalid_quantity"),
    (new("x", "buy", 1), "invalid_price"),
    (new("x", "buy", 1, "0"), "invalid_price"),
    (new("x", "buy", 1, "-10.00"), "invalid_price"),
    (new("x", "buy", 1, "10.005"), "invalid_price"),
    (new("x", "buy", 1, "10.00", type="market"), "invalid_field"),
    (new("x", "buy", 1, type="market", post_only=True), "invalid_field"),
    (new("x", "buy", 1, "9.00", post_only=True, tif="ioc"), "invalid_field"),
    (new("a1", "buy", 1, "9.00"), "duplicate_id"),
    (new("x", "buy", 1, "10.05", post_only=True), "post_only_would_take"),
    ({"op": "cancel", "account": "B", "id": "a1"}, "unknown_order"),
    ({"op": "cancel", "account": "A", "id": "zz"}, "unknown_order"),
    ({"op": "replace", "account": "B", "id": "a1", "qty": 5}, "unknown_order"),
    ({"op": "replace", "account": "A", "id": "a1", "qty": 0}, "invalid_quantity"),
    ({"op": "replace", "account": "A", "id": "a1", "price": "10.001"}, "invalid_price"),
    ({"op": "replace", "account": "A", "id": "a1", "price": "-1"}, "invalid_price"),
    ({"op": "replace", "account": "A", "id": "a1"}, "missing_field"),
    ({"op": "replace", "account": "A", "id": "s1", "price": "10.00"}, "post_only_would_take"),
    ({"op": "erase", "account": "A", "id": "a1"}, "invalid_op"),
    ("{not json", "malformed"),
    ("[1, 2]", "malformed"),
    ('"new"', "malformed"),
]
BOOK = [new("a1", "buy", 100, "10.00"), new("s1", "sell", 100, "10.05", post_only=True)]


@pytest.mark.parametrize(("command", "code"), SPEC_REJECTIONS)
def test_replay_bad_command_rejected_with_code_and_book_unchanged(command: Any, code: str) -> None:
    before = replay(*BOOK, final_book=True)
    out = replay(*BOOK, command, final_book=True)
    assert rejected_codes(out) == [code]
    rejected = out[len(before) - 1]
    assert rejected["type"] == "rejected" and rejected["message"]
    assert [e for e in out if e["type"] == "book"] == [
        {**b, "seq": b["seq"] + 1} for b in before if b["type"] == "book"
    ]


def test_replay_rejected_order_on_a_new_symbol_prints_no_book_for_it() -> None:
    out = replay(new("x", "buy", 1, "10.005", symbol="NEW"), final_book=True)
    assert [e["type"] for e in out] == ["rejected"]


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (new("b1", "buy", 150, "10.00", account="B", tif="ioc"), "ioc"),
        (new("b1", "buy", 150, "10.00", account="B", tif="fok"), "fok"),
        (new("b1", "buy", 150, account="B", type="market"), "market"),
    ],
)
def test_replay_unfilled_remainder_is_cancelled_not_rejected(order: dict, reason: str) -> None:
    out = replay(new("a1", "sell", 100, "10.00"), order)
    assert rejected_codes(out) == []
    cancelled = [e for e in out if e["type"] == "cancelled"]
    assert [(c["reason"], c["resting"], c["qty"]) for c in cancelled] == [
        (reason, False, 50 if reason != "fok" else 150)
    ]


def test_replay_price_as_number_or_string() -> None:
    out = replay(new("a1", "sell", 100, 187.25), new("b1", "buy", 100, "187.25", account="B"))
    assert [e["price"] for e in out if e["type"] == "trade"] == ["187.25"]


# -- bad input never stops a replay or changes a book -------------------------------

GOOD_STREAM = [
    new("a1", "sell", 100, "10.02"),
    new("a2", "sell", 100, "10.01", tif="gtc"),
    new("b1", "buy", 150, "10.00", account="B"),
    new("b2", "buy", 120, "10.01", account="B", tif="ioc"),
    {"op": "replace", "account": "B", "id": "b1", "qty": 100},
    {"op": "replace", "account": "A", "id": "a1", "price": "10.03"},
    new("c1", "sell", 250, account="C", type="market"),
    new("c2", "buy", 50, "10.03", account="C", tif="fok"),
    {"op": "cancel", "account": "A", "id": "a2"},
    new("d1", "sell", 10, "10.03", account="D", post_only=True),
]
GARBAGE = [
    "{",
    "null",
    "42",
    '{"op": "new"}',
    json.dumps(new("z", "buy", 0, "10.00")),
    json.dumps(new("z", "buy", 1, "10.001")),
    json.dumps(new("z", "buy", 1, "10.00", symbol="lower")),
    json.dumps({"op": "cancel", "account": "Z", "id": "a1"}),
    json.dumps({"op": "replace", "account": "Z", "id": "b1", "qty": 1}),
    json.dumps({"op": "replace", "account": "A", "id": "a1", "qty": -1}),
    json.dumps(new("z", "buy", 1, "10.00", type="market")),
]


def _trades_and_books(out: list[dict[str, Any]]) -> tuple[list, list]:
    trades = [
        (e["price"], e["qty"], e["buy_account"], e["buy_id"], e["sell_account"], e["sell_id"])
        for e in out
        if e["type"] == "trade"
    ]
    books = [(e["symbol"], e["bids"], e["asks"]) for e in out if e["type"] == "book"]
    return trades, books


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GOOD_STREAM)), st.sampled_from(GARBAGE))))
def test_replay_garbage_lines_change_no_trade_and_no_book(inserts: list[tuple[int, str]]) -> None:
    lines: list[Any] = list(GOOD_STREAM)
    for position, garbage in sorted(inserts, key=lambda t: -t[0]):
        lines.insert(position, garbage)
    clean = replay(*GOOD_STREAM, final_book=True)
    dirty = replay(*lines, final_book=True)
    assert len(rejected_codes(dirty)) == len(rejected_codes(clean)) + len(inserts)
    assert _trades_and_books(dirty) == _trades_and_books(clean)


def test_replay_runs_through_an_engine_that_stays_consistent() -> None:
    engine = MatchingEngine()
    lines = [json.dumps(c) for c in GOOD_STREAM] + GARBAGE
    for _ in replay_lines(lines, OPEN, engine=engine, on_events=lambda _: engine.check_integrity()):
        pass
    engine.check_integrity()


@pytest.mark.parametrize(
    "command",
    [
        {"op": "state", "symbol": "NEWS", "state": "bogus"},
        {"op": "state", "symbol": "NEWS", "state": "opening_auction"},  # illegal from continuous
        {"op": "luld", "symbol": "NEWS", "tier": 7},
        {"op": "luld", "symbol": "NEWS", "reference": "abc"},
        {"op": "luld", "symbol": "NEWS"},  # no price to centre the bands on
    ],
)
def test_replay_rejected_trading_day_command_creates_no_symbol(command: dict) -> None:
    out = replay(command, final_book=True)
    assert [e["type"] for e in out] == ["rejected"]
