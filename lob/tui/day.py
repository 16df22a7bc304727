"""The trading day on the embedded exchange: ``lob tui --day-length MINUTES``.

Without it the embedded market trades continuously and never crosses. With it
the embedded engine follows the same compressed calendar as ``lob serve
--calendar compressed --day-length`` (closed, pre-open, the opening auction
and cross, continuous trading, the closing auction and cross), so the state
bar and the imbalance panel can be watched through a whole day in minutes.

The calendar and its timer are the server's own (``lob.server.day``:
``DayPlan`` says when the next change is due, ``DayClock`` decides when an
advance is due and ``apply_session_input`` applies it, calling
``engine.advance`` and, about once a second while a cross is ahead,
``engine.imbalances``). Importing that module brings in the journal's record
types but no server. Here nothing is journaled: ``_InlineSequencer`` applies
each advance to the embedded engine at once, on the app's event loop, and
folds its events into the workstation's model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lob.server.day import SECOND, DayClock, DayPlan, apply_session_input
from lob.server.sequencer import Receiver
from lob.store.journal import Advance, EnableLuld, SetState

if TYPE_CHECKING:
    from lob.tui.embedded import EmbeddedSource

__all__ = ["MIN_DAY_MINUTES", "EmbeddedDay"]

MIN_DAY_MINUTES = 10 / 60
"""The shortest day the calendar accepts (10 seconds)."""


class _InlineSequencer:
    """What ``DayClock`` needs of a sequencer, applying each input to the engine at once."""

    accepting = True

    def __init__(self, source: EmbeddedSource) -> None:
        self.source = source

    @property
    def last_ts(self) -> int:
        return self.source.clock()

    def enqueue(self, command: Advance | SetState | EnableLuld, receiver: Receiver) -> None:
        ts = self.source.clock()
        try:
            events = apply_session_input(self.source.engine, command, ts)
        except Exception as exc:  # the timer tries again on its next tick
            receiver.failed(exc)
            return
        self.source.apply(events)
        receiver.applied(events)
        receiver.done(events)


class EmbeddedDay:
    """A compressed trading day driving an embedded source's engine."""

    def __init__(self, source: EmbeddedSource, day_length_ns: int, interval: float = 0.2) -> None:
        self.plan = DayPlan("compressed", day_length_ns)
        self.sequencer = _InlineSequencer(source)
        self.clock = DayClock(self.plan, source.engine, self.sequencer, source.clock, interval)  # type: ignore[arg-type]

    @classmethod
    def minutes(cls, source: EmbeddedSource, minutes: float) -> EmbeddedDay:
        return cls(source, int(minutes * 60 * SECOND))

    def next_change(self, ts: int) -> tuple[str, int] | None:
        """The next scheduled change after ``ts``: its name and when (ns)."""
        at = self.plan.next_change(ts)
        calendar = self.plan.session_calendar(ts)
        if at is None or calendar is None:
            return None
        s = calendar.schedule
        names = {
            s.pre_open: "pre-open",
            s.opening_auction: "opening auction",
            s.open: "opening cross",
            s.closing_auction: "closing auction",
            s.close: "closing cross",
        }
        return names.get(at - calendar.midnight, "next day"), at

    def step(self) -> bool:
        """Advance the day if a change or an imbalance is due now (tests call this by hand)."""
        return self.clock.step()

    def start(self) -> None:
        self.clock.step()  # the first advance puts every symbol where the day is now
        self.clock.start()

    async def stop(self) -> None:
        await self.clock.close()
