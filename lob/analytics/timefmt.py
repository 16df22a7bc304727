"""Text at the analytics edge: intervals, times and money, to and from integers.

Inside lob a time is integer nanoseconds since the epoch and money is integer
units of 1/10,000 dollar. People type ``1m`` and ``10:30``; JSON carries
``"187.2534"``. This module converts, and is the only one that does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

from lob.analytics.errors import INVALID_INTERVAL, INVALID_TIME, AnalyticsError
from lob.engine.prices import PRICE_SCALE

__all__ = [
    "MAX_INTERVAL_NS",
    "MIN_INTERVAL_NS",
    "NEW_YORK",
    "NS",
    "decimal_text",
    "format_interval",
    "format_time",
    "new_york_midnight",
    "parse_interval",
    "parse_time",
    "round_ratio",
]

NS = 1_000_000_000
NEW_YORK = ZoneInfo("America/New_York")
MIN_INTERVAL_NS = NS
MAX_INTERVAL_NS = 86_400 * NS
_UNITS = {"s": NS, "m": 60 * NS, "h": 3600 * NS, "d": 86_400 * NS}
_INTERVAL = re.compile(r"(\d{1,6})([smhd])")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?")


def parse_interval(text: str) -> int:
    """``"1s"``, ``"5m"``, ``"1h"``, ``"1d"`` -> nanoseconds; 1 second to 1 day."""
    match = _INTERVAL.fullmatch(text.strip().lower())
    if match is None:
        raise AnalyticsError(
            INVALID_INTERVAL, f"an interval is a number and s, m, h or d (e.g. 1m): {text!r}"
        )
    ns = int(match[1]) * _UNITS[match[2]]
    if not MIN_INTERVAL_NS <= ns <= MAX_INTERVAL_NS:
        raise AnalyticsError(INVALID_INTERVAL, f"an interval must be 1s to 1d: {text!r}")
    return ns


def format_interval(ns: int) -> str:
    """Nanoseconds -> the shortest ``parse_interval`` text (``60e9`` -> ``"1m"``)."""
    for unit in ("d", "h", "m", "s"):
        if ns % _UNITS[unit] == 0:
            return f"{ns // _UNITS[unit]}{unit}"
    return f"{ns}ns"


def new_york_midnight(ts: int) -> int:
    """Midnight, New York time, of the day that contains ``ts``, in ns since the epoch."""
    day = dt.datetime.fromtimestamp(ts / NS, NEW_YORK).date()
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
    return int(midnight.timestamp()) * NS


def parse_time(text: str, day_of: int | Callable[[], int | None] | None = None) -> int:
    """A time from the command line -> ns since the epoch.

    Accepts integer nanoseconds since the epoch, an ISO 8601 date-time (New
    York time unless it carries an offset), or a clock time ``HH:MM[:SS[.f]]``
    in New York time on the day that contains ``day_of`` (the history's first
    trade, for the CLI; a callable is asked only when a clock time needs it).
    """
    text = text.strip()
    if text.isdigit():
        return int(text)
    clock = _CLOCK.fullmatch(text)
    if clock is not None:
        if callable(day_of):
            day_of = day_of()
        if day_of is None:
            raise AnalyticsError(
                INVALID_TIME, f"no trade to take the day of {text!r} from; give a date"
            )
        hours, minutes = int(clock[1]), int(clock[2])
        seconds = int(clock[3] or 0)
        if hours > 23 or minutes > 59 or seconds > 59:
            raise AnalyticsError(INVALID_TIME, f"not a clock time: {text!r}")
        frac = int((clock[4] or "0").ljust(9, "0"))
        midnight = new_york_midnight(day_of)
        day = dt.datetime.fromtimestamp(midnight / NS, NEW_YORK)
        at = day.replace(hour=hours, minute=minutes, second=seconds)
        return int(at.timestamp()) * NS + frac
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise AnalyticsError(
            INVALID_TIME,
            f"a time is HH:MM[:SS], an ISO date-time or nanoseconds since the epoch: {text!r}",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=NEW_YORK)
    whole = int(when.replace(microsecond=0).timestamp())
    return whole * NS + when.microsecond * 1000


def format_time(ts: int, with_date: bool = False) -> str:
    """ns since the epoch -> New York time text, ``HH:MM:SS[.mmm]`` (and the date)."""
    when = dt.datetime.fromtimestamp(ts // NS, NEW_YORK)
    millis = (ts % NS) // 1_000_000
    text = f"{when:%H:%M:%S}.{millis:03d}" if millis else f"{when:%H:%M:%S}"
    return f"{when:%Y-%m-%d} {text}" if with_date else text


def round_ratio(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, halves away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def decimal_text(units: int) -> str:
    """Integer 1/10,000-dollar units -> decimal text: 2 to 4 decimals, any sign or size.

    ``decimal_text(1872500) == "187.25"``, ``decimal_text(-50) == "-0.005"``.
    """
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), PRICE_SCALE)
    digits = f"{frac:04d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"
