"""The server's trading day: which calendar it follows, and the timer that lets time pass.

Why time is an input: the engine reads no clock, and a replay of the journal
must rebuild exactly what the live server did. So the passing of time is
journaled like an order: a timer stamps an ``Advance`` record through the
sequencer, and applying it (live or in a replay) calls ``engine.advance(ts)``
and ``engine.imbalances(ts)`` under the calendar the record names. Operator
halts (``SetState``) and LULD bands (``EnableLuld``) are journaled the same way.

Calendars (``lob serve --calendar``):

``continuous`` (the default)
    No trading day: every symbol trades at any hour, so a demo works whenever
    it is started. States change only when an operator halts or resumes a
    symbol; imbalance information is published during a halt's quotation
    period, and LULD timers run when bands are on.
``nasdaq``
    Nasdaq's day on the New York clock (``lob.engine.calendar``): pre-open
    from 04:00, the opening cross at 09:30, the closing cross at 16:00; closed
    on Saturdays and Sundays (no holiday list).
``compressed``
    The whole day in ``--day-length`` minutes of wall time, then the next
    day, so a demo shows both crosses: closed for the first 5% of the day,
    pre-open from 5%, opening imbalance information from 20%, the opening
    cross at 30%, the closing auction from 80%, the closing cross at 90%
    (``compressed_schedule``). Days start at whole multiples of the length
    since the Unix epoch, so a restart lands in the same day.

The timer journals an ``Advance`` when a scheduled transition is due, and
once a second while any symbol waits for a cross (imbalance information) or
has LULD bands to watch; a closed exchange writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from lob.engine.calendar import DaySchedule, SessionCalendar
from lob.engine.engine import MatchingEngine, UnknownSymbolError
from lob.engine.events import Event
from lob.engine.replay import NEW_YORK
from lob.engine.session import IllegalTransition
from lob.engine.types import RejectCode, TradingState
from lob.store.journal import Advance, EnableLuld, SetState

if TYPE_CHECKING:
    from lob.server.sequencer import Sequencer

__all__ = [
    "CALENDARS",
    "DayClock",
    "DayPlan",
    "apply_session_input",
    "compressed_schedule",
    "new_york_midnight",
]

log = logging.getLogger("lob.server")

CALENDARS = ("continuous", "nasdaq", "compressed")
SECOND = 1_000_000_000
HOUR = 3600 * SECOND
_DAY_NS = 24 * HOUR
S = TradingState

_CLOSED_DAY = DaySchedule(*([_DAY_NS] * len(DaySchedule.__dataclass_fields__)))
"""A day on which the market never opens (Saturdays and Sundays)."""

_WAITING = frozenset({S.PRE_OPEN, S.OPENING_AUCTION, S.CLOSING_AUCTION, S.QUOTE_ONLY, S.PAUSED})
"""States in which a symbol publishes imbalance information or waits on a timer."""
_WATCHED = frozenset({S.CONTINUOUS, S.CLOSING_AUCTION, S.PAUSED})
"""States in which LULD bands and timers move."""


def new_york_midnight(ts: int) -> int:
    """Midnight New York time of the day ``ts`` (ns since the epoch) falls on."""
    day = dt.datetime.fromtimestamp(ts / 1e9, tz=NEW_YORK).date()
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
    return int(midnight.timestamp()) * SECOND


def compressed_schedule(length: int) -> DaySchedule:
    """A whole trading day squeezed into ``length`` ns (fractions in the module docstring)."""

    def at(fraction: float) -> int:
        return int(length * fraction)

    return DaySchedule(
        pre_open=at(0.05),
        opening_auction=at(0.20),
        open_cancel_cutoff=at(0.26),
        moo_cutoff=at(0.26),
        loo_cutoff=at(0.28),
        open=at(0.30),
        closing_auction=at(0.80),
        close_cutoff=at(0.85),
        close=at(0.90),
        luld_open_doubling_end=at(0.35),
        luld_close_doubling_start=at(0.75),
    )


def schedule_for(calendar: str, day: int, length: int) -> DaySchedule:
    """The timetable of the day starting at ``day`` under ``calendar``."""
    if calendar == "compressed":
        return compressed_schedule(length)
    weekday = dt.datetime.fromtimestamp(day / 1e9 + 12 * 3600, tz=NEW_YORK).weekday()
    return _CLOSED_DAY if weekday >= 5 else DaySchedule()


class DayPlan:
    """The calendar a server runs: which day a time falls in, and when the next change is."""

    def __init__(self, calendar: str = "continuous", day_length: int = 0) -> None:
        if calendar not in CALENDARS:
            raise ValueError(f"calendar must be one of {', '.join(CALENDARS)}: {calendar!r}")
        if calendar == "compressed" and day_length < 10 * SECOND:
            raise ValueError("a compressed day lasts at least 10 seconds")
        self.calendar = calendar
        self.length = day_length if calendar == "compressed" else 0

    def day_start(self, ts: int) -> int:
        if self.calendar == "compressed":
            return ts - ts % self.length
        if self.calendar == "nasdaq":
            return new_york_midnight(ts)
        return 0

    def advance(self, ts: int) -> Advance:
        """The journal input that lets time pass up to ``ts``."""
        return Advance(self.calendar, self.day_start(ts), self.length)

    def session_calendar(self, ts: int) -> SessionCalendar | None:
        if self.calendar == "continuous":
            return None
        day = self.day_start(ts)
        return SessionCalendar(day, schedule_for(self.calendar, day, self.length))

    def next_change(self, ts: int) -> int | None:
        """The first scheduled transition after ``ts`` (None: there are none)."""
        calendar = self.session_calendar(ts)
        if calendar is None:
            return None
        s = calendar.schedule
        if s is not _CLOSED_DAY:
            for at in (s.pre_open, s.opening_auction, s.open, s.closing_auction, s.close):
                if ts < calendar.midnight + at:
                    return calendar.midnight + at
        if self.calendar == "compressed":
            return calendar.midnight + self.length
        return new_york_midnight(calendar.midnight + 30 * HOUR)


# -- applying the journal's trading-day inputs ----------------------------------


def apply_session_input(
    engine: MatchingEngine, command: Advance | SetState | EnableLuld, ts: int
) -> list[Event]:
    """Apply an ``Advance``, ``SetState`` or ``EnableLuld`` (live or in a replay)."""
    kind = type(command)
    if kind is Advance:
        return _advance(engine, command, ts)  # type: ignore[arg-type]
    if kind is SetState:
        return _set_state(engine, command, ts)  # type: ignore[arg-type]
    return _enable_luld(engine, command, ts)  # type: ignore[arg-type]


def _advance(engine: MatchingEngine, command: Advance, ts: int) -> list[Event]:
    events: list[Event] = []
    current = engine.calendar
    if command.calendar == "continuous":
        if current is not None:
            # Leaving a calendar: symbols waiting for the day to begin open at once.
            engine.calendar = None
            for symbol in engine.symbols:
                state = engine.book(symbol).state
                if state is S.CLOSED:
                    events += engine.set_state(symbol, S.PRE_OPEN, ts, "calendar")
                    state = S.PRE_OPEN
                if state in (S.PRE_OPEN, S.OPENING_AUCTION):
                    events += engine.set_state(symbol, S.CONTINUOUS, ts, "calendar")
    else:
        schedule = schedule_for(command.calendar, command.day, command.length)
        if current is None or current.midnight != command.day or current.schedule != schedule:
            if current is not None and current.midnight < command.day:
                # A new day: whatever the last one left open closes first (its close
                # may have passed while the server was down).
                events += engine.advance(ts)
            engine.calendar = SessionCalendar(command.day, schedule)
    events += engine.advance(ts)
    events += engine.imbalances(ts)
    return events


def _set_state(engine: MatchingEngine, command: SetState, ts: int) -> list[Event]:
    try:
        return engine.set_state(command.symbol, TradingState(command.state), ts, "admin")
    except IllegalTransition as exc:
        code, message = RejectCode.ILLEGAL_TRANSITION, str(exc)
    except UnknownSymbolError:
        code, message = RejectCode.UNKNOWN_SYMBOL, f"{command.symbol} is not traded here"
    except ValueError as exc:
        code, message = RejectCode.INVALID_FIELD, str(exc)
    return engine.reject("state", None, None, command.symbol, code, message, ts)


def _enable_luld(engine: MatchingEngine, command: EnableLuld, ts: int) -> list[Event]:
    try:
        return engine.enable_luld(command.symbol, command.tier, command.reference, ts)
    except UnknownSymbolError:
        code, message = RejectCode.UNKNOWN_SYMBOL, f"{command.symbol} is not traded here"
    except ValueError as exc:
        code, message = RejectCode.INVALID_FIELD, str(exc)
    return engine.reject("luld", None, None, command.symbol, code, message, ts)


# -- the timer -------------------------------------------------------------------


class DayClock:
    """Journals ``Advance`` inputs when the day needs them (see the module docstring)."""

    def __init__(
        self,
        plan: DayPlan,
        engine: MatchingEngine,
        sequencer: Sequencer,
        clock: Callable[[], int],
        interval: float = 0.2,
    ) -> None:
        self.plan = plan
        self.engine = engine
        self.sequencer = sequencer
        self.clock = clock
        self.interval = interval
        self.last = 0
        """Clock time of the last advance journaled."""
        self.next_change: int | None = 0 if plan.calendar != "continuous" else None
        self.pending = False
        self.advances = 0
        self._task: asyncio.Task[None] | None = None

    def _busy(self) -> bool:
        for symbol in self.engine.symbols:
            book = self.engine.book(symbol)
            if book.state in _WAITING or (book.luld is not None and book.state in _WATCHED):
                return True
        return False

    def due(self, ts: int) -> bool:
        """Whether an advance should be journaled at ``ts``."""
        if self.engine.calendar is not None and self.plan.calendar == "continuous":
            return True  # the calendar changed since the journal was written
        if self.next_change is not None and ts >= self.next_change:
            return True
        return ts - self.last >= SECOND and self._busy()

    def step(self) -> bool:
        """Journal an advance if one is due now; return whether one was."""
        if self.pending or not self.sequencer.accepting:
            return False
        ts = self.clock()
        if not self.due(ts):
            return False
        self.pending = True
        self.last = ts
        self.sequencer.enqueue(self.plan.advance(ts), self)
        return True

    # The sequencer's receiver of the one advance in flight (``pending``).

    def applied(self, events: list[Event]) -> None:
        pass

    def done(self, events: list[Event]) -> None:
        self.pending = False
        self.advances += 1
        self.next_change = self.plan.next_change(max(self.last, self.sequencer.last_ts))

    def failed(self, exc: Exception) -> None:
        self.pending = False

    def start(self) -> None:
        """Run the timer on the running event loop (without one, ``step`` is called by hand)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._task is None:
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                self.step()
            except Exception:  # the exchange goes on; the next tick tries again
                log.exception("advancing the trading day failed")
                self.pending = False
            await asyncio.sleep(self.interval)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
