"""Text for the screen: prices, sizes, changes, times and sparklines.

Integer prices become decimal text only here (and in the engine's own
``format_price``), so every widget shows numbers the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from lob.engine.prices import PRICE_SCALE, format_price

__all__ = [
    "EASTERN",
    "avg",
    "change_style",
    "clock",
    "money",
    "pct",
    "price",
    "qty",
    "sparkline",
]

EASTERN = ZoneInfo("America/New_York")
"""US equity sessions are told in New York time."""

_BLOCKS = "▁▂▃▄▅▆▇█"


def price(value: int | None) -> str:
    return format_price(value) if value is not None else "-"


def avg(value: int | None) -> str:
    """An average price (VWAP, average cost): cents at or above $1, four places below."""
    if value is None:
        return "-"
    if value >= PRICE_SCALE:
        return f"{value / PRICE_SCALE:.2f}"
    return f"{value / PRICE_SCALE:.4f}"


def qty(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value:,}"


def pct(value: float) -> str:
    return f"{value:+.2f}%"


def money(units_times_shares: int) -> str:
    """P&L in price units times shares, as signed dollars (``+1,234.50``)."""
    return f"{units_times_shares / PRICE_SCALE:+,.2f}"


def clock(ts: int) -> str:
    """Nanoseconds since the epoch as New York wall time, ``HH:MM:SS``."""
    moment = datetime.fromtimestamp(ts / 1e9, tz=UTC).astimezone(EASTERN)
    return moment.strftime("%H:%M:%S")


def clock_ms(ts: int) -> str:
    moment = datetime.fromtimestamp(ts / 1e9, tz=UTC).astimezone(EASTERN)
    return moment.strftime("%H:%M:%S.") + f"{ts // 1_000_000 % 1000:03d}"


def change_style(change: float) -> str:
    if change > 0:
        return "green"
    if change < 0:
        return "red"
    return ""


def sparkline(values: list[int], width: int) -> str:
    """A one-line chart of the last ``width`` values with block characters."""
    values = values[-width:]
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    if not span:
        return _BLOCKS[3] * len(values)
    top = len(_BLOCKS) - 1
    return "".join(_BLOCKS[(v - low) * top // span] for v in values)


STATES: dict[str, tuple[str, str, str]] = {
    "pre_open": ("PRE-OPEN", "PRE", "bold cyan"),
    "opening_auction": ("OPENING AUCTION", "O-AUC", "bold yellow"),
    "continuous": ("CONTINUOUS", "CONT", "bold green"),
    "halted": ("HALTED", "HALT", "bold white on red"),
    "quote_only": ("QUOTE ONLY", "QUOTE", "bold magenta"),
    "paused": ("PAUSED (LULD)", "PAUSE", "bold white on dark_orange3"),
    "closing_auction": ("CLOSING AUCTION", "C-AUC", "bold yellow"),
    "closed": ("CLOSED", "CLOSD", "dim"),
}
"""Trading state -> (long label, five-character label, style)."""


def state_label(state: str, short: bool = False) -> tuple[str, str]:
    """The label (long, or five characters for the watchlist) and style of a trading state."""
    long, five, style = STATES.get(str(state), (str(state).upper(), str(state)[:5], ""))
    return (five if short else long), style
