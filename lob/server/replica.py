"""The exchange's engine rebuilt from its journal in another process: its set-up and its feed.

Why: the history process (``lob.server.history_process``) derives every
history row from engine events, and it never sees the server's engine. The
engine is deterministic, so a replica set up exactly like the server's and
given the journal's records emits the very events the server's engine did,
with the same ``seq``, ``oid`` and ``trade_id``. Three things must match:

- the engine's options: ``new_engine`` is the one place they are named;
- its symbols and their reference prices (collars decide which orders are
  accepted), added at the same point of the journal. The server adds them in
  two steps (``lob.server.exchange``): those the journal was written with
  (``symbols.json``) before its start-up replay, those new in this run after
  it, before the first live input. ``EngineSetup`` holds both lists and the
  journal offset between them;
- how each record is applied: the replica hands records to a ``Sequencer``'s
  own start-up ``replay`` (orders, cancels, replaces, expiries, and the
  session inputs ``Advance``, ``SetState`` and ``EnableLuld``), so there is
  one apply path for the server, its restart and its replica.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lob.engine.engine import MatchingEngine
from lob.engine.events import Event
from lob.server.sequencer import Sequencer
from lob.store.journal import Journal, JournalRecord

__all__ = ["EngineSetup", "Replica", "new_engine"]

Symbols = tuple[tuple[str, int | None], ...]


def new_engine() -> MatchingEngine:
    """A server's matching engine before its symbols are added (symbols are never created by
    an order: an unknown symbol is rejected before it reaches the journal)."""
    return MatchingEngine(auto_create_symbols=False)


@dataclass(frozen=True, slots=True)
class EngineSetup:
    """How a server's engine was set up around its journal (picklable, to hand to a process)."""

    before: Symbols
    """(symbol, reference price) added before the start-up replay, in the server's order."""
    replay_end: int
    """Journal offset where the start-up replay ended: live input starts here."""
    after: Symbols = ()
    """Symbols new in this run, added after the replay, before any live input."""


class Replica:
    """A ``MatchingEngine`` that follows a journal's records as the server's engine did."""

    def __init__(self, setup: EngineSetup) -> None:
        self.setup = setup
        self.engine = new_engine()
        for symbol, price in setup.before:
            self.engine.add_symbol(symbol, price)
        # The sequencer is used only for its replay: it never writes this journal object.
        self._journal = Journal(Path(), -1, [], 0)
        self._sequencer = Sequencer(self.engine, self._journal, "off")
        self._live = False
        self.offset = 0
        """Journal offset after the last record applied."""
        self.records = 0
        """Records applied so far."""

    def apply(
        self, records: Sequence[tuple[JournalRecord, int]], listener: Callable[[list[Event]], None]
    ) -> None:
        """Apply ``(record, end offset)`` pairs in order; ``listener`` gets each record's events."""
        replay_end = self.setup.replay_end
        start = 0
        if not self._live:
            split = 0
            while split < len(records) and records[split][1] <= replay_end:
                split += 1
            self._replay(records[:split], listener)
            start = split
            if split < len(records):
                self._go_live()  # the next record was written live
        if start < len(records):
            self._replay(records[start:], listener)
        self.reached(self.offset)

    def reached(self, offset: int) -> None:
        """The journal is read up to ``offset``: past the start-up replay, add the run's symbols."""
        self.offset = max(self.offset, offset)
        if not self._live and self.offset >= self.setup.replay_end:
            self._go_live()

    def _go_live(self) -> None:
        self._live = True
        for symbol, price in self.setup.after:
            self.engine.add_symbol(symbol, price)

    def _replay(
        self, records: Sequence[tuple[JournalRecord, int]], listener: Callable[[list[Event]], None]
    ) -> None:
        if not records:
            return
        self._journal.recovered = [record for record, _ in records]
        self._sequencer.replay([listener])
        self.offset = records[-1][1]
        self.records += len(records)
