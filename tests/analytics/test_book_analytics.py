"""Spread, depth and order-flow imbalance from top-of-book quotes, against plain Python."""

from __future__ import annotations

import random
import statistics
from pathlib import Path
from typing import Any

import duckdb
import pytest

from lob.analytics import AnalyticsError, order_flow_imbalance, spread_stats
from lob.store.history import HistoryWriter
from tests.analytics.support import MINUTE, OPEN

Quote = tuple[int, int, int | None, int, int | None, int]
"""(seq, ts, bid_price, bid_qty, ask_price, ask_qty)."""


def make_quotes(seed: int = 5, count: int = 600) -> list[Quote]:
    rng = random.Random(seed)
    quotes: list[Quote] = []
    ts = OPEN
    bid, ask = 1_000_000, 1_000_300
    for seq in range(1, count + 1):
        ts += rng.randint(0, 3) * 250_000_000
        move = rng.random()
        if move < 0.3:
            bid += rng.choice((-100, 100))
        elif move < 0.6:
            ask += rng.choice((-100, 100))
        if ask <= bid:
            ask = bid + 100
        bid_price: int | None = bid if rng.random() > 0.05 else None
        ask_price: int | None = ask if rng.random() > 0.05 else None
        bid_qty = rng.randint(1, 20) * 100 if bid_price is not None else 0
        ask_qty = rng.randint(1, 20) * 100 if ask_price is not None else 0
        quotes.append((seq, ts, bid_price, bid_qty, ask_price, ask_qty))
    return quotes


@pytest.fixture(scope="module")
def quotes() -> list[Quote]:
    return make_quotes()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, quotes: list[Quote]) -> Path:
    path = tmp_path_factory.mktemp("quotes") / "q.duckdb"
    HistoryWriter(path).close()
    con = duckdb.connect(str(path))
    con.executemany(
        "INSERT INTO quotes VALUES (1, ?, ?, 'XYZ', ?, ?, ?, ?)",
        [list(q) for q in quotes],
    )
    con.close()
    return path


def expected_spread(quotes: list[Quote], end: int | None = None) -> dict[str, Any]:
    held = [
        (quotes[i + 1][1] if i + 1 < len(quotes) else (end if end is not None else q[1])) - q[1]
        for i, q in enumerate(quotes)
    ]
    two = [
        (q, h) for q, h in zip(quotes, held, strict=True) if q[2] is not None and q[4] is not None
    ]
    spreads = [q[4] - q[2] for q, _ in two]  # type: ignore[operator]
    weight = sum(h for _, h in two)
    return {
        "quotes": len(quotes),
        "two_sided": len(two),
        "mean_spread": statistics.fmean(spreads),
        "median_spread": statistics.median(spreads),
        "min_spread": min(spreads),
        "max_spread": max(spreads),
        "time_weighted_spread": sum(s * h for s, (_, h) in zip(spreads, two, strict=True)) / weight,
        "mean_bid_qty": statistics.fmean(q[3] for q, _ in two),
        "mean_ask_qty": statistics.fmean(q[5] for q, _ in two),
        "time_weighted_bid_qty": sum(q[3] * h for q, h in two) / weight,
        "time_weighted_ask_qty": sum(q[5] * h for q, h in two) / weight,
        "two_sided_time": weight / sum(held),
    }


def test_spread_stats_equal_plain_python(db: Path, quotes: list[Quote]) -> None:
    result = spread_stats(db, "XYZ")
    expected = expected_spread(quotes)
    assert result["quotes"] == expected["quotes"]
    assert result["two_sided"] == expected["two_sided"]
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, rel=1e-9), key


def test_spread_stats_last_quote_holds_until_the_range_end(db: Path, quotes: list[Quote]) -> None:
    start, end = OPEN + MINUTE, OPEN + 3 * MINUTE
    inside = [q for q in quotes if start <= q[1] < end]
    result = spread_stats(db, "XYZ", start, end)
    for key, value in expected_spread(inside, end).items():
        assert result[key] == pytest.approx(value, rel=1e-9), key


def ofi_terms(quotes: list[Quote]) -> list[tuple[int, int]]:
    """(ts, e(n)) per quote change; an empty side is a bid at -inf or an ask at +inf."""
    inf = float("inf")
    prev: tuple[float, int, float, int] = (-inf, 0, inf, 0)
    out = []
    for _, ts, bid, bid_qty, ask, ask_qty in quotes:
        pb = bid if bid is not None else -inf
        pa = ask if ask is not None else inf
        pb0, qb0, pa0, qa0 = prev
        e = (bid_qty if pb >= pb0 else 0) - (qb0 if pb <= pb0 else 0)
        e += -(ask_qty if pa <= pa0 else 0) + (qa0 if pa >= pa0 else 0)
        out.append((ts, e))
        prev = (pb, bid_qty, pa, ask_qty)
    return out


def test_order_flow_imbalance_sums_cont_kukanov_stoikov_terms(
    db: Path, quotes: list[Quote]
) -> None:
    frame = order_flow_imbalance(db, "XYZ", MINUTE)
    buckets: dict[int, list[int]] = {}
    for ts, e in ofi_terms(quotes):
        buckets.setdefault(ts // MINUTE * MINUTE, []).append(e)
    assert frame["start"].to_list() == sorted(buckets)
    assert frame["ofi"].to_list() == [sum(buckets[s]) for s in sorted(buckets)]
    assert frame["quote_changes"].to_list() == [len(buckets[s]) for s in sorted(buckets)]
    assert frame["buy_volume"].sum() == 0, "no trades in this history"


def test_order_flow_imbalance_of_a_unit_example() -> None:
    # A bid of 100 appears, rises with 200, then the ask at 1.01 shrinks from 300 to 100.
    quotes: list[Quote] = [
        (1, OPEN, 1_000_000, 100, 1_010_000, 300),
        (2, OPEN + 1, 1_000_100, 200, 1_010_000, 300),
        (3, OPEN + 2, 1_000_100, 200, 1_010_000, 100),
    ]
    assert [e for _, e in ofi_terms(quotes)] == [100 - 300, 200, -100 + 300]
    writer = HistoryWriter(":memory:")
    con = writer.reader()
    con.executemany(
        "INSERT INTO quotes VALUES (1, ?, ?, 'XYZ', ?, ?, ?, ?)", [list(q) for q in quotes]
    )
    frame = order_flow_imbalance(con, "XYZ", MINUTE)
    assert frame["ofi"].to_list() == [-200 + 200 + 200]


def test_spread_of_unknown_symbol_is_an_error(db: Path) -> None:
    with pytest.raises(AnalyticsError) as info:
        spread_stats(db, "NOPE")
    assert info.value.code == "unknown_symbol"
