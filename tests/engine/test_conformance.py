"""The shared conformance streams: each replayed through ``lob replay``'s driver."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from lob.engine import MatchingEngine, Side, format_price
from lob.engine.json_codec import CommandError, parse_command
from lob.engine.replay import replay_lines, session_open_ns
from tests.engine.reference_model import ReferenceExchange

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
NAMES = sorted(p.name.removesuffix(".jsonl") for p in CASES.glob("*.jsonl"))

if not NAMES:  # pragma: no cover - the conformance folder is part of the workspace
    pytest.skip(f"no conformance cases under {CASES}", allow_module_level=True)


def _norm_trade(t: dict) -> tuple:
    return (
        t["symbol"],
        Decimal(t["price"]),
        t["qty"],
        t["buy_account"],
        t["buy_id"],
        t["sell_account"],
        t["sell_id"],
    )


def _norm_levels(levels: list[dict]) -> list[tuple]:
    return [(Decimal(lv["price"]), lv["qty"], lv["orders"]) for lv in levels]


@pytest.mark.parametrize("name", NAMES)
def test_conformance_stream_gives_required_results(name: str) -> None:
    expected = json.loads((CASES / f"{name}.expected.json").read_text())
    engine = MatchingEngine()
    lines = (CASES / f"{name}.jsonl").read_text().splitlines()

    def check(_events: object) -> None:
        engine.check_integrity()

    out = [
        json.loads(s)
        for s in replay_lines(
            lines, session_open_ns("2026-01-02"), final_book=True, engine=engine, on_events=check
        )
    ]
    trades = [_norm_trade(e) for e in out if e["type"] == "trade"]
    assert trades == [_norm_trade(t) for t in expected["trades"]]
    assert sum(e["type"] == "rejected" for e in out) == expected["rejected"]
    books = {e["symbol"]: e for e in out if e["type"] == "book"}
    for symbol, book in expected["final_books"].items():
        assert _norm_levels(books[symbol]["bids"]) == _norm_levels(book["bids"]), symbol
        assert _norm_levels(books[symbol]["asks"]) == _norm_levels(book["asks"]), symbol
    for symbol, book in books.items():
        if symbol not in expected["final_books"]:
            assert not book["bids"] and not book["asks"], symbol


@pytest.mark.parametrize("name", NAMES)
def test_conformance_stream_gives_required_results_in_the_reference_model(name: str) -> None:
    """The naive model of the differential tests agrees with the shared expected results too."""
    expected = json.loads((CASES / f"{name}.expected.json").read_text())
    model = ReferenceExchange()
    trades: list[tuple] = []
    rejected = 0
    for line in (CASES / f"{name}.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        try:
            command = parse_command(json.loads(line))
        except (ValueError, CommandError):
            rejected += 1
            continue
        if hasattr(command, "symbol"):
            result = model.new_order(*command)
        elif hasattr(command, "price"):
            result = model.replace(*command)
        else:
            result = model.cancel(*command)
        rejected += len(result.rejected)
        trades += [
            (t[0], Decimal(format_price(t[1])), t[2], t[3], t[4], t[5], t[6]) for t in result.trades
        ]
    assert trades == [_norm_trade(t) for t in expected["trades"]]
    assert rejected == expected["rejected"]
    assert set(expected["final_books"]) <= set(model.symbols)
    for symbol in model.symbols:
        book = expected["final_books"].get(symbol, {"bids": [], "asks": []})
        for side, key in ((Side.BUY, "bids"), (Side.SELL, "asks")):
            levels = [(Decimal(format_price(p)), q, n) for p, q, n in model.l2(symbol, side)]
            assert levels == _norm_levels(book[key]), (symbol, key)
