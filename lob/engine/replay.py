"""The replay driver: JSON-lines commands through a fresh engine, JSON-lines events out.

The format is public and stable (docs/replay.md). The clock starts at 09:30:00
New York time on the session date and advances 1 ms per command; a command
carrying ``ts`` (nanoseconds since midnight, New York time) sets the clock.
Bad input never stops a replay: it becomes a ``rejected`` event.

Besides orders, a stream may move the trading day:
``{"op":"state","symbol":"AAPL","state":"halted"}`` moves one symbol through
the state machine, ``{"op":"advance","time":"16:00"}`` lets the clock run to a
time of day (with a calendar: the day's transitions, crosses and imbalance
information on the way), and ``{"op":"luld","symbol":"AAPL","tier":1,
"reference":"187.00"}`` switches Limit Up-Limit Down bands on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from lob.engine.book import LevelView
from lob.engine.calendar import MARKET_OPEN, SessionCalendar, hms
from lob.engine.engine import MatchingEngine
from lob.engine.events import Event, Rejected
from lob.engine.json_codec import CommandError, event_to_dict, parse_command
from lob.engine.prices import PriceError, format_price, parse_price
from lob.engine.session import IllegalTransition
from lob.engine.types import RejectCode, TradingState

__all__ = [
    "NEW_YORK",
    "book_to_dict",
    "calendar_engine",
    "replay_events",
    "replay_lines",
    "session_midnight_ns",
    "session_open_ns",
]

NEW_YORK = ZoneInfo("America/New_York")
_MS = 1_000_000


def session_midnight_ns(date: str) -> int:
    """Midnight New York time on ``date`` (YYYY-MM-DD) in ns since the epoch."""
    day = dt.date.fromisoformat(date)
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
    return int(midnight.timestamp()) * 1_000_000_000


def session_open_ns(date: str) -> int:
    """09:30 New York time on ``date`` in ns since the epoch."""
    return session_midnight_ns(date) + MARKET_OPEN


def calendar_engine(open_ns: int) -> MatchingEngine:
    """An engine that follows the trading day of the session opening at ``open_ns``."""
    return MatchingEngine(calendar=SessionCalendar(open_ns - MARKET_OPEN))


_SESSION_OPS = ("state", "advance", "luld")


def _session_command(engine: MatchingEngine, obj: dict[str, Any], clock: int) -> list[Event]:
    """Apply a trading-day command (state, advance, luld) at ``clock``."""
    op = obj["op"]
    symbol = obj.get("symbol")
    if op == "advance":
        return engine.advance(clock) + engine.imbalances(clock)

    def reject(code: RejectCode, message: str) -> list[Event]:
        return engine.reject(
            op, None, None, symbol if isinstance(symbol, str) else None, code, message, clock
        )

    if not isinstance(symbol, str) or symbol not in engine.symbols:
        if not isinstance(symbol, str):
            return reject(RejectCode.MISSING_FIELD, "symbol is required")
        try:
            engine.add_symbol(symbol)
        except ValueError as exc:
            return reject(RejectCode.INVALID_SYMBOL, str(exc))
    if op == "state":
        try:
            return engine.set_state(symbol, TradingState(str(obj.get("state"))), clock)
        except ValueError as exc:  # an unknown state name or an illegal transition
            code = (
                RejectCode.ILLEGAL_TRANSITION
                if isinstance(exc, IllegalTransition)
                else RejectCode.INVALID_FIELD
            )
            return reject(code, str(exc))
    tier = obj.get("tier", 1)
    if tier not in (1, 2):
        return reject(RejectCode.INVALID_FIELD, "tier must be 1 or 2")
    try:
        reference = parse_price(obj["reference"]) if obj.get("reference") is not None else None
        return engine.enable_luld(symbol, tier, reference, clock)
    except (PriceError, ValueError) as exc:
        return reject(RejectCode.INVALID_PRICE, str(exc))


def replay_events(
    lines: Iterable[str],
    open_ns: int,
    engine: MatchingEngine | None = None,
    on_events: Callable[[list[Event]], None] | None = None,
) -> Iterator[list[Event]]:
    """Yield the events of each non-blank line, in order.

    An engine with a calendar starts its clock at the calendar's pre-open
    (04:00) instead of 09:30, so a stream can build the opening auction.
    """
    engine = engine if engine is not None else MatchingEngine()
    midnight = open_ns - MARKET_OPEN
    start = open_ns if engine.calendar is None else midnight + engine.calendar.schedule.pre_open
    clock = start - _MS
    for line in lines:
        if not line.strip():
            continue
        clock += _MS
        events, clock = _apply_line(engine, line, clock, midnight)
        if on_events is not None:
            on_events(events)
        yield events


def _apply_line(
    engine: MatchingEngine, line: str, clock: int, midnight: int
) -> tuple[list[Event], int]:
    """One line's events, and the clock after it."""
    try:
        obj = json.loads(line)
    except ValueError as exc:
        return engine.reject(
            "unknown", None, None, None, RejectCode.MALFORMED, f"not JSON: {exc}", clock
        ), clock
    if not isinstance(obj, dict):
        return engine.reject(
            "unknown",
            None,
            None,
            None,
            RejectCode.MALFORMED,
            "a command must be a JSON object",
            clock,
        ), clock
    ts = obj.get("ts")
    if type(ts) is int and ts >= 0:
        clock = midnight + ts
    elif ts is not None:
        op = obj.get("op")
        return engine.reject(
            op if isinstance(op, str) else "unknown",
            _text(obj.get("account")),
            _text(obj.get("id")),
            _text(obj.get("symbol")),
            RejectCode.INVALID_FIELD,
            f"ts must be a whole number of nanoseconds since midnight, 0 or more: {ts!r}",
            clock,
        ), clock
    op = obj.get("op")
    if op == "advance":
        try:
            clock = max(clock, midnight + hms(str(obj.get("time"))))
        except ValueError as exc:
            return engine.reject(
                "advance", None, None, None, RejectCode.INVALID_FIELD, str(exc), clock
            ), clock
    events = engine.advance(clock) if engine.calendar is not None else []
    if op in _SESSION_OPS:
        known = set(engine.symbols)
        session = _session_command(engine, obj, clock)
        if len(session) == 1 and type(session[0]) is Rejected:
            # A rejected command changes nothing: not even the symbols it named.
            for symbol in set(engine.symbols) - known:
                engine.remove_symbol(symbol)
        return events + session, clock
    try:
        command = parse_command(obj)
    except CommandError as exc:
        return events + engine.reject(
            exc.op, exc.account, exc.id, exc.symbol, exc.code, exc.message, clock
        ), clock
    return events + engine.submit(command, clock), clock


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def book_to_dict(
    symbol: str, seq: int, bids: list[LevelView], asks: list[LevelView]
) -> dict[str, Any]:
    """An L2 book in the public JSON shape (best level first, prices as decimal text)."""

    def rows(levels: list[LevelView]) -> list[dict[str, Any]]:
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
    calendar: bool = False,
) -> Iterator[str]:
    """Yield one JSON text per event, then (optionally) one per symbol's final book.

    With ``calendar`` (and no ``engine`` given) the engine follows the trading day.
    """
    if engine is None:
        engine = calendar_engine(open_ns) if calendar else MatchingEngine()
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for events in replay_events(lines, open_ns, engine, on_events):
        for event in events:
            yield dumps(event_to_dict(event))
    if final_book:
        for symbol in engine.symbols:
            snap = engine.l2_snapshot(symbol)
            yield dumps(book_to_dict(symbol, snap.seq, snap.bids, snap.asks))
