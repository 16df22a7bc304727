"""The shared conformance streams: each replayed through ``lob replay``'s driver."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from lob.engine import MatchingEngine
from lob.engine.replay import replay_lines, session_open_ns

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
