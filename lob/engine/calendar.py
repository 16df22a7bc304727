"""The Nasdaq trading day on a clock: when each state begins and when auction entry closes.

Times are New York wall-clock times, converted to nanoseconds since the epoch
from the session's midnight (the caller passes it in: the core reads no
clock). Defaults follow Nasdaq's published timeline for its Opening and Closing
Crosses (nasdaqtrader.com, "Opening and Closing Crosses"):

=========  ==========================================================
04:00      order entry begins (``pre_open``: orders rest, no matching)
09:25      opening imbalance information begins (``opening_auction``)
09:28      market-on-open entry and on-open cancel cut-off
09:29:30   limit-on-open entry cut-off
09:30      the Opening Cross; continuous trading (``continuous``)
15:50      closing imbalance information begins (``closing_auction``)
15:55      market-on-close / limit-on-close entry and cancel cut-off
16:00      the Closing Cross (``closed``)
=========  ==========================================================

Every time is a field of ``DaySchedule`` so a simulation can compress or move
the day.
"""

from __future__ import annotations

from dataclasses import dataclass

from lob.engine.types import OrderType, TradingState

__all__ = ["MARKET_OPEN", "DaySchedule", "SessionCalendar", "hms"]

SECOND = 1_000_000_000


def hms(text: str) -> int:
    """``"09:30"`` or ``"09:29:30"`` to nanoseconds since midnight."""
    parts = [int(p) for p in text.split(":")]
    if len(parts) == 2:
        parts.append(0)
    hours, minutes, seconds = parts
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60):
        raise ValueError(f"not a time of day: {text!r}")
    return ((hours * 60 + minutes) * 60 + seconds) * SECOND


MARKET_OPEN = hms("09:30")
"""The regular session's open (the Opening Cross), in nanoseconds since midnight."""


@dataclass(frozen=True)
class DaySchedule:
    """Times of the trading day, in nanoseconds since midnight."""

    pre_open: int = hms("04:00")
    opening_auction: int = hms("09:25")
    open_cancel_cutoff: int = hms("09:28")
    moo_cutoff: int = hms("09:28")
    loo_cutoff: int = hms("09:29:30")
    open: int = MARKET_OPEN
    closing_auction: int = hms("15:50")
    close_cutoff: int = hms("15:55")
    close: int = hms("16:00")
    luld_open_doubling_end: int = hms("09:45")
    luld_close_doubling_start: int = hms("15:35")


class SessionCalendar:
    """One trading day: the state each symbol should be in at a time, and cut-offs."""

    def __init__(self, midnight_ns: int, schedule: DaySchedule | None = None) -> None:
        self.midnight = midnight_ns
        self.schedule = schedule or DaySchedule()

    def time_of_day(self, ts: int) -> int:
        return ts - self.midnight

    def scheduled_state(self, ts: int) -> TradingState:
        """The state of the regular day at ``ts``."""
        t = ts - self.midnight
        s = self.schedule
        if t < s.pre_open or t >= s.close:
            return TradingState.CLOSED
        if t < s.opening_auction:
            return TradingState.PRE_OPEN
        if t < s.open:
            return TradingState.OPENING_AUCTION
        if t < s.closing_auction:
            return TradingState.CONTINUOUS
        return TradingState.CLOSING_AUCTION

    def next_change(self, ts: int) -> int:
        """The next time (ns since the epoch) at which ``scheduled_state`` changes."""
        t = ts - self.midnight
        s = self.schedule
        for at in (s.pre_open, s.opening_auction, s.open, s.closing_auction, s.close):
            if t < at:
                return self.midnight + at
        return self.midnight + 24 * 3600 * SECOND + s.pre_open

    def entry_open(self, order_type: OrderType, ts: int) -> bool:
        """Whether an auction order of ``order_type`` may still be entered at ``ts``."""
        t = ts - self.midnight
        s = self.schedule
        if order_type == OrderType.MOO:
            return t < s.moo_cutoff
        if order_type == OrderType.LOO:
            return t < s.loo_cutoff
        if order_type in (OrderType.MOC, OrderType.LOC):
            return t < s.close_cutoff
        return t < s.close  # imbalance-only: until its cross

    def cancel_open(self, for_open: bool, ts: int) -> bool:
        """Whether an on-open (or on-close) order may still be cancelled at ``ts``."""
        t = ts - self.midnight
        return t < (self.schedule.open_cancel_cutoff if for_open else self.schedule.close_cutoff)

    def luld_doubled(self, ts: int, tier: int, reference: int) -> bool:
        """Whether LULD percentage parameters are doubled at ``ts`` (see lob.engine.luld)."""
        t = ts - self.midnight
        s = self.schedule
        if s.open <= t < s.luld_open_doubling_end:
            return True
        if s.luld_close_doubling_start <= t < s.close:
            return tier == 2 or reference <= 30_000
        return False
