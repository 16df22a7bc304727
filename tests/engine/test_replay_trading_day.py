"""``lob replay`` commands that move the trading day: state, advance, luld, --calendar."""

from __future__ import annotations

import json

from lob.engine.replay import replay_lines, session_open_ns

OPEN = session_open_ns("2026-01-02")


def run(lines: list[dict], calendar: bool = False) -> list[dict]:
    text = [json.dumps(line) for line in lines]
    return [json.loads(s) for s in replay_lines(text, OPEN, final_book=True, calendar=calendar)]


def new(account: str, id: str, side: str, qty: int, price: str | None = None, **extra) -> dict:
    order = {"op": "new", "account": account, "id": id, "symbol": "XYZ", "side": side, "qty": qty}
    if price is not None:
        order["price"] = price
    return order | extra


def test_state_command_halts_a_symbol_and_refuses_orders_until_the_halt_cross() -> None:
    out = run(
        [
            new("A", "a1", "buy", 100, "10.00"),
            {"op": "state", "symbol": "XYZ", "state": "halted"},
            new("B", "b1", "sell", 100, "10.00"),
            {"op": "state", "symbol": "XYZ", "state": "quote_only"},
            new("B", "b2", "sell", 100, "10.00"),
            {"op": "state", "symbol": "XYZ", "state": "continuous"},
        ]
    )
    assert [e["code"] for e in out if e["type"] == "rejected"] == ["symbol_halted"]
    crossed = [e for e in out if e["type"] == "crossed"]
    assert [(c["cross_type"], c["price"], c["qty"]) for c in crossed] == [("halt", "10.00", 100)]
    assert [e["state"] for e in out if e["type"] == "state"] == [
        "halted",
        "quote_only",
        "continuous",
    ]


def test_illegal_state_command_is_rejected_and_changes_nothing() -> None:
    out = run(
        [
            new("A", "a1", "buy", 100, "10.00"),
            {"op": "state", "symbol": "XYZ", "state": "quote_only"},
            {"op": "state", "symbol": "XYZ", "state": "sideways"},
            new("B", "b1", "sell", 40, "10.00"),
        ]
    )
    assert [e["code"] for e in out if e["type"] == "rejected"] == [
        "illegal_transition",
        "invalid_field",
    ]
    assert [e["qty"] for e in out if e["type"] == "trade"] == [40]


def test_calendar_replay_runs_the_day_with_both_crosses_and_imbalance_information() -> None:
    out = run(
        [
            new("A", "a1", "buy", 300, "10.10", tif="gtc"),
            new("B", "b1", "sell", 200, "10.00"),
            new("C", "c1", "sell", 150, type="moo"),
            {"op": "advance", "time": "09:26"},
            {"op": "advance", "time": "09:30"},
            new("E", "e1", "sell", 100, type="moc"),
            new("F", "f1", "buy", 100, "10.02"),
            {"op": "advance", "time": "16:00"},
        ],
        calendar=True,
    )
    imbalance = next(e for e in out if e["type"] == "imbalance")
    assert (imbalance["paired"], imbalance["imbalance"], imbalance["imbalance_side"]) == (
        300,
        50,
        "sell",
    )
    crossed = [(e["cross_type"], e["price"], e["qty"]) for e in out if e["type"] == "crossed"]
    # f1 takes b1's 50 left after the open at once; the closing cross pairs 50 of e1's 100.
    assert crossed == [("opening", "10.00", 300), ("closing", "10.00", 50)]
    states = [e["state"] for e in out if e["type"] == "state"]
    assert states == ["opening_auction", "continuous", "closing_auction", "closed"]
    assert [(e["id"], e["qty"], e["reason"]) for e in out if e["type"] == "cancelled"] == [
        ("e1", 50, "auction")
    ]


def test_advance_with_a_bad_time_is_rejected() -> None:
    out = run([{"op": "advance", "time": "25:99"}])
    assert [e["code"] for e in out if e["type"] == "rejected"] == ["invalid_field"]


def test_luld_command_switches_bands_on() -> None:
    out = run(
        [
            {"op": "luld", "symbol": "XYZ", "tier": 1, "reference": "100.00"},
            new("A", "a1", "buy", 100, "105.01"),
            new("A", "a2", "buy", 100, "105.00"),
        ]
    )
    bands = next(e for e in out if e["type"] == "bands")
    assert (bands["lower"], bands["upper"]) == ("95.00", "105.00")
    assert [e["code"] for e in out if e["type"] == "rejected"] == ["outside_price_band"]
