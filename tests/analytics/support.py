"""A known list of trades in a history file, and plain-Python answers to check analytics by.

The trades are made up, not matched: the point is that the test knows every
one of them, so each figure can be computed again here, independently, with
nothing but integers, ``Decimal`` and ``datetime``.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from lob.store.history import HistoryWriter

NY = ZoneInfo("America/New_York")
NS = 1_000_000_000
MINUTE = 60 * NS
OPEN = int(dt.datetime(2026, 1, 2, 9, 30, tzinfo=NY).timestamp()) * NS
SYMBOLS = ("AAPL", "MSFT", "IBM", "NVDA")

Trade = dict[str, Any]


def make_trades(seed: int = 11, count: int = 2000) -> list[Trade]:
    """Trades over about 70 minutes with quiet minutes, sweeps (equal ts) and trends."""
    rng = random.Random(seed)
    price = {"AAPL": 1_872_500, "MSFT": 4_100_000, "IBM": 2_250_000, "NVDA": 1_400_000}
    drift = {"AAPL": 100, "MSFT": -100, "IBM": 0, "NVDA": 200}
    trades: list[Trade] = []
    ts = OPEN
    seq = 0
    for trade_id in range(1, count + 1):
        if trades and rng.random() < 0.15:
            pass  # same ts as the last trade: part of a sweep
        else:
            ts += rng.randint(1, 4_000) * 1_000_000
            if rng.random() < 0.01:
                ts += rng.randint(2, 5) * MINUTE  # a quiet spell: empty bars
        symbol = rng.choice(SYMBOLS)
        price[symbol] += drift[symbol] * rng.choice((-1, 0, 1, 1)) + rng.choice((-100, 0, 100))
        seq += rng.randint(1, 3)
        trades.append(
            {
                "session": 1,
                "seq": seq,
                "ts": ts,
                "symbol": symbol,
                "trade_id": trade_id,
                "price": price[symbol],
                "qty": rng.choice((1, 50, 100, 100, 200, 500, 1_000, 3_700)),
                "aggressor": rng.choice(("buy", "sell")),
                "buy_account": f"B{rng.randint(1, 3)}",
                "buy_id": f"b{trade_id}",
                "buy_oid": 2 * trade_id,
                "sell_account": f"S{rng.randint(1, 3)}",
                "sell_id": f"s{trade_id}",
                "sell_oid": 2 * trade_id + 1,
            }
        )
    return trades


def write_history(path: Path, trades: list[Trade]) -> Path:
    with HistoryWriter(path) as writer:
        if trades:
            writer.insert_trades(pa.Table.from_pylist(trades))
    return path


def dollars(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def units_to_dollars(units: int) -> Decimal:
    return Decimal(units) / 10_000


def vwap_dollars(trades: list[Trade]) -> Decimal:
    notional = sum(t["price"] * t["qty"] for t in trades)
    volume = sum(t["qty"] for t in trades)
    return (Decimal(notional) / volume / 10_000).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def of(
    trades: list[Trade], symbol: str, start: int | None = None, end: int | None = None
) -> list[Trade]:
    return [
        t
        for t in trades
        if t["symbol"] == symbol
        and (start is None or t["ts"] >= start)
        and (end is None or t["ts"] < end)
    ]


def in_order(trades: list[Trade]) -> list[Trade]:
    return sorted(trades, key=lambda t: (t["ts"], t["seq"]))


def ny_midnight(ts: int) -> int:
    day = dt.datetime.fromtimestamp(ts / NS, NY).date()
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=NY).timestamp()) * NS


def python_bars(trades: list[Trade], interval: int) -> list[dict[str, Any]]:
    """OHLCV bars by hand: buckets counted from New York midnight of the first trade's day."""
    ordered = in_order(trades)
    origin = ny_midnight(ordered[0]["ts"])
    buckets: dict[int, list[Trade]] = {}
    for t in ordered:
        buckets.setdefault(origin + (t["ts"] - origin) // interval * interval, []).append(t)
    out = []
    for start in sorted(buckets):
        rows = buckets[start]
        out.append(
            {
                "start": start,
                "open": rows[0]["price"],
                "high": max(t["price"] for t in rows),
                "low": min(t["price"] for t in rows),
                "close": rows[-1]["price"],
                "volume": sum(t["qty"] for t in rows),
                "trades": len(rows),
                "notional": sum(t["price"] * t["qty"] for t in rows),
            }
        )
    return out
