"""L2 market data in one object: the part of the server between the engine and subscribers.

``L2Feed`` wires the pure pieces together for a server (or any driver):

- ``DeltaSequencer`` (lob.feed.deltas): engine events -> per-symbol numbered deltas;
- one ``DeltaRing`` per symbol (lob.feed.ring): "everything since seq N", or a
  snapshot when N is out of reach;
- ``TopOfBookTracker`` (lob.feed.top): top-of-book messages when the top changes.

Each subscriber gets a ``SubscriberQueue`` per symbol (lob.feed.subscriber):
every delta while it keeps up, one ``ConflatedBatch`` (lob.feed.conflation)
when it falls behind. Clients rebuild books with ``L2BookBuilder``
(lob.feed.l2_builder); messages travel as msgpack, JSON or binary
(lob.feed.wire).

Typical server loop, all on the engine's thread, between commands::

    events = engine.submit(command, ts)
    update = feed.on_events(events)          # deltas + changed tops
    for delta in update.deltas:              # each subscriber of delta.symbol:
        queue.push(delta)                    #   its SubscriberQueue
    for top in update.tops: fan out to top-of-book subscribers
    ...
    when a connection can take more: send encode_msgpack(m) for m in queue.take()
    on subscribe / reconnect / REST: answer = feed.catch_up(engine, "AAPL", since=client_seq)
        send answer.messages(), then a new SubscriberQueue's deltas (after answer.last_seq)

Because snapshots are taken synchronously between commands, after the
command's events went through ``on_events``, a snapshot's per-symbol seq is
exactly the seq of the last delta it includes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, NamedTuple

from lob.engine.events import Event
from lob.feed.deltas import BookSnapshot, Delta, DeltaSequencer, TopOfBook
from lob.feed.ring import DEFAULT_CAPACITY, CatchUp, DeltaRing
from lob.feed.top import TopOfBookTracker

if TYPE_CHECKING:
    from lob.engine.engine import MatchingEngine

__all__ = ["L2Feed", "L2Update"]

_new: Final = tuple.__new__  # a named tuple without its interpreted __new__


class L2Update(NamedTuple):
    """What one command changed in L2 market data."""

    deltas: list[Delta]
    tops: list[TopOfBook]


_L2_UPDATE: Final = L2Update  # read directly by compiled code, unlike a class (lob.native)


class L2Feed:
    """Sequencer, rings and top-of-book tracking for every symbol of one engine."""

    __slots__ = ("_rings", "ring_capacity", "sequencer", "tops")

    def __init__(self, ring_capacity: int = DEFAULT_CAPACITY, track_top: bool = True) -> None:
        if type(ring_capacity) is not int or ring_capacity < 1:
            raise ValueError(f"ring capacity must be a positive integer: {ring_capacity!r}")
        self.ring_capacity = ring_capacity
        self.sequencer = DeltaSequencer()
        self.tops: TopOfBookTracker | None = TopOfBookTracker() if track_top else None
        self._rings: dict[str, DeltaRing] = {}

    def on_events(self, events: Iterable[Event]) -> L2Update:
        """Number, record and return the deltas of one command's events (every event, in order)."""
        deltas = self.sequencer.on_events(events)
        rings = self._rings
        for delta in deltas:
            symbol = delta.symbol  # of either kind: read by name, so once
            ring = rings.get(symbol)
            if ring is None:
                ring = rings[symbol] = DeltaRing(symbol, self.ring_capacity)
            ring.append(delta)
        tops = self.tops.on_deltas(deltas) if self.tops is not None and deltas else []
        return _new(_L2_UPDATE, (deltas, tops))

    def seq(self, symbol: str) -> int:
        """The per-symbol seq of the last delta of ``symbol``."""
        return self.sequencer.seq(symbol)

    def ring(self, symbol: str) -> DeltaRing:
        """The ring of ``symbol`` (an empty one if it has had no delta yet)."""
        ring = self._rings.get(symbol)
        if ring is None:
            ring = self._rings[symbol] = DeltaRing(symbol, self.ring_capacity)
        return ring

    def snapshot(
        self, engine: MatchingEngine, symbol: str, depth: int | None = None
    ) -> BookSnapshot:
        """The engine's L2 book stamped with the per-symbol seq (see ``DeltaSequencer``)."""
        return self.sequencer.snapshot(engine, symbol, depth)

    def catch_up(self, engine: MatchingEngine, symbol: str, since: int | None) -> CatchUp:
        """Everything after per-symbol seq ``since``: deltas from the ring, or a snapshot.

        Raises the engine's ``UnknownSymbolError`` for a symbol it does not trade.
        """
        engine.book(symbol)
        return self.ring(symbol).catch_up(since, lambda: self.sequencer.snapshot(engine, symbol))

    def top(self, symbol: str) -> TopOfBook | None:
        """The latest top of book of ``symbol`` (None if not tracked or never set)."""
        return self.tops.top(symbol) if self.tops is not None else None
