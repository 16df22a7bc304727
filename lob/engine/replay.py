"""The replay driver: JSON-lines commands through a fresh engine, JSON-lines events out.

The format is public and stable (docs/replay.md). The clock starts at 09:30:00
New York time on the session date and advances 1 ms per command; a command
carrying ``ts`` (nanoseconds since midnight, New York time) sets the clock.
Bad input never stops a replay: it becomes a ``rejected`` event.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from lob.engine.book import LevelView
from lob.engine.engine import MatchingEngine
from lob.engine.events import Event
from lob.engine.json_codec import CommandError, event_to_dict, parse_command
from lob.engine.prices import format_price
from lob.engine.types import RejectCode

__all__ = ["NEW_YORK", "book_to_dict", "replay_events", "replay_lines", "session_open_ns"]

NEW_YORK = ZoneInfo("America/New_York")
_MS = 1_000_000


def session_midnight_ns(date: str) -> int:
    """Midnight New York time on ``date`` (YYYY-MM-DD) in ns since the epoch."""
    day = dt.date.fromisoformat(date)
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
    return int(midnight.timestamp()) * 1_000_000_000


def session_open_ns(date: str) -> int:
    """09:30 New York time on ``date`` in ns since the epoch."""
    return session_midnight_ns(date) + (9 * 3600 + 30 * 60) * 1_000_000_000


def replay_events(
    lines: Iterable[str],
    open_ns: int,
    engine: MatchingEngine | None = None,
    on_events: Callable[[list[Event]], None] | None = None,
) -> Iterator[list[Event]]:
    """Yield the events of each non-blank line, in order."""
    engine = engine if engine is not None else MatchingEngine()
    midnight = open_ns - (9 * 3600 + 30 * 60) * 1_000_000_000
    clock = open_ns - _MS
    for line in lines:
        if not line.strip():
            continue
        clock += _MS
        try:
            obj = json.loads(line)
        except ValueError as exc:
            events = engine.reject(
                "unknown", None, None, None, RejectCode.MALFORMED, f"not JSON: {exc}", clock
            )
        else:
            if isinstance(obj, dict) and "ts" in obj:
                ts = obj["ts"]
                if type(ts) is int and ts >= 0:
                    clock = midnight + ts
            try:
                command = parse_command(obj)
            except CommandError as exc:
                events = engine.reject(
                    exc.op, exc.account, exc.id, exc.symbol, exc.code, exc.message, clock
                )
            else:
                events = engine.submit(command, clock)
        if on_events is not None:
            on_events(events)
        yield events


def book_to_dict(symbol: str, seq: int, bids: list[LevelView], asks: list[LevelView]) -> dict:
    """An L2 book in the public JSON shape (best level first, prices as decimal text)."""

    def rows(levels: list[LevelView]) -> list[dict]:
        return [
            {"price": format_price(lv.price), "qty": lv.qty, "orders": lv.orders} for lv in levels
        ]

    return {"type": "book", "symbol": symbol, "seq": seq, "bids": rows(bids), "asks": rows(asks)}


def replay_lines(
    lines: Iterable[str],
    open_ns: int,
    *,
    final_book: bool = False,
    engine: MatchingEngine | None = None,
    on_events: Callable[[list[Event]], None] | None = None,
) -> Iterator[str]:
    """Yield one JSON text per event, then (optionally) one per symbol's final book."""
    engine = engine if engine is not None else MatchingEngine()
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for events in replay_events(lines, open_ns, engine, on_events):
        for event in events:
            yield dumps(event_to_dict(event))
    if final_book:
        for symbol in engine.symbols:
            snap = engine.l2_snapshot(symbol)
            yield dumps(book_to_dict(symbol, snap.seq, snap.bids, snap.asks))
