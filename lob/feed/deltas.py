"""L2 deltas: engine events turned into per-symbol, sequenced book changes and trades.

The engine numbers every event with one engine-wide ``seq``. Market data is
per symbol, so ``DeltaSequencer`` gives each symbol its own contiguous sequence
(1, 2, 3, ... with no holes) and stamps every delta with both numbers: the
per-symbol ``seq`` is what a subscriber checks for gaps, the ``engine_seq``
ties a delta to the event (and the command) that caused it.

Two kinds of delta:

``LevelDelta``
    The new state of one price level: total ``qty`` and ``orders`` after the
    change; ``qty == 0`` removes the level. It is a state, not a difference, so
    applying the latest one for a (side, price) always gives the right level;
    that is what makes conflation safe.
``TradeDelta``
    One execution: price, quantity, the aggressor's side, the engine's trade id.

Mapping from events (``lob.engine.events``), which already carry the level's
state after each change, so no second look at the book is needed:

- ``Trade``: a ``TradeDelta``, then a ``LevelDelta`` for the resting side.
  A cross's trade has no aggressor and gives only the ``TradeDelta``.
- ``Executed`` (an order executed in a cross) of a displayed book order: a
  ``LevelDelta`` for its level.
- ``Added``: a ``LevelDelta``.
- ``Cancelled`` of resting quantity: a ``LevelDelta``; an unfilled incoming
  remainder that never rested changes no level and gives nothing.
- ``Replaced`` keeping priority: a ``LevelDelta`` when the quantity changed.
- ``Replaced`` losing priority: a ``LevelDelta`` for the old level
  (``old_level_*``); the re-entry's own events follow and map as above.
- Every other event (acceptances, rejections, trading states, auction
  information): nothing, though its engine ``seq`` is still noted.

``BookSnapshot`` is the engine's L2 snapshot stamped with the per-symbol
``seq`` it includes. The sequencer can stamp one only when it has seen every
engine event so far (``engine.seq == last_engine_seq``): take snapshots
synchronously between commands, after feeding the sequencer the command's
events, and the snapshot and the delta stream line up exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, NamedTuple

from mypy_extensions import mypyc_attr

from lob.engine.book import LevelView
from lob.engine.events import Added, Cancelled, Event, Executed, Replaced, Trade
from lob.engine.types import Priority, Side

if TYPE_CHECKING:
    from lob.engine.engine import MatchingEngine

# Deltas are built with tuple.__new__ on the hot path, as the engine builds its
# events: a named tuple's generated __new__ is an interpreted function call.
_new: Final = tuple.__new__

__all__ = [
    "BookSnapshot",
    "Delta",
    "DeltaSequencer",
    "LevelDelta",
    "SnapshotOutOfStepError",
    "TopOfBook",
    "TradeDelta",
]


class LevelDelta(NamedTuple):
    """One price level's state after a change; ``qty == 0`` removes the level."""

    symbol: str
    seq: int
    engine_seq: int
    ts: int
    side: Side
    price: int
    qty: int
    orders: int

    @property
    def TYPE(self) -> str:
        return "level"


class TradeDelta(NamedTuple):
    """One execution, at the resting order's price."""

    symbol: str
    seq: int
    engine_seq: int
    ts: int
    price: int
    qty: int
    aggressor: Side | None
    """The incoming order's side; None for a trade printed by an opening or closing cross."""
    trade_id: int

    @property
    def TYPE(self) -> str:
        return "trade"


Delta = LevelDelta | TradeDelta
"""Every per-symbol market data change."""


class BookSnapshot(NamedTuple):
    """A symbol's L2 book, best first, as it stands after per-symbol ``seq``.

    ``engine_seq`` is the engine sequence the snapshot was taken at. A snapshot
    taken with a depth limit is for display; a book builder needs the full
    depth (``depth is None``) to stay right when top levels disappear.
    """

    symbol: str
    seq: int
    engine_seq: int
    bids: tuple[LevelView, ...]
    asks: tuple[LevelView, ...]
    depth: int | None = None

    @property
    def TYPE(self) -> str:
        return "snapshot"


class TopOfBook(NamedTuple):
    """Best bid and ask with their sizes after per-symbol ``seq``; a side may be empty."""

    symbol: str
    seq: int
    engine_seq: int
    ts: int
    bid_price: int | None
    bid_qty: int
    ask_price: int | None
    ask_qty: int

    @property
    def TYPE(self) -> str:
        return "top"


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class SnapshotOutOfStepError(RuntimeError):
    """The sequencer has not seen every engine event, so a snapshot cannot be stamped."""

    code = "snapshot_out_of_step"


# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL
_KEPT: Final[Priority] = Priority.KEPT
_TRADE: Final = Trade
_ADDED: Final = Added
_CANCELLED: Final = Cancelled
_REPLACED: Final = Replaced
_EXECUTED: Final = Executed
_LEVEL_DELTA: Final = LevelDelta
_TRADE_DELTA: Final = TradeDelta


class DeltaSequencer:
    """Numbers each symbol's deltas contiguously, from the engine's event stream.

    Feed it every event the engine emits, in order (rejections too, so that it
    knows the engine sequence it is in step with). It is pure and holds only
    one counter per symbol.
    """

    __slots__ = ("_seqs", "last_engine_seq")

    def __init__(self) -> None:
        self._seqs: dict[str, int] = {}
        self.last_engine_seq = 0

    def seq(self, symbol: str) -> int:
        """The per-symbol sequence of the last delta of ``symbol`` (0 before any)."""
        return self._seqs.get(symbol, 0)

    @property
    def symbols(self) -> list[str]:
        """Symbols that have had at least one delta, sorted."""
        return sorted(self._seqs)

    def on_events(self, events: Iterable[Event]) -> list[Delta]:
        """The deltas of ``events``, in event order, each numbered in its symbol's sequence."""
        out: list[Delta] = []
        append = out.append
        seqs = self._seqs
        event: Event | None = None
        for event in events:
            kind = type(event)
            if kind is _TRADE:
                t: Trade = event  # type: ignore[assignment]
                symbol = t.symbol
                n = seqs.get(symbol, 0) + 1
                aggressor = t.aggressor
                append(
                    _new(
                        _TRADE_DELTA,
                        (symbol, n, t.seq, t.ts, t.price, t.qty, aggressor, t.trade_id),
                    )
                )
                if aggressor is not None:  # a cross trade's book changes come as executions
                    n += 1
                    append(
                        _new(
                            _LEVEL_DELTA,
                            (
                                symbol,
                                n,
                                t.seq,
                                t.ts,
                                _SELL if aggressor is _BUY else _BUY,
                                t.price,
                                t.level_qty,
                                t.level_orders,
                            ),
                        )
                    )
                seqs[symbol] = n
            elif kind is _ADDED:
                a: Added = event  # type: ignore[assignment]
                n = seqs.get(a.symbol, 0) + 1
                seqs[a.symbol] = n
                append(
                    _new(
                        _LEVEL_DELTA,
                        (a.symbol, n, a.seq, a.ts, a.side, a.price, a.level_qty, a.level_orders),
                    )
                )
            elif kind is _CANCELLED:
                c: Cancelled = event  # type: ignore[assignment]
                if c.resting:
                    n = seqs.get(c.symbol, 0) + 1
                    seqs[c.symbol] = n
                    append(
                        _new(
                            _LEVEL_DELTA,
                            (
                                c.symbol,
                                n,
                                c.seq,
                                c.ts,
                                c.side,
                                c.price,  # resting: always priced
                                c.level_qty,
                                c.level_orders,
                            ),
                        )
                    )
            elif kind is _REPLACED:
                r: Replaced = event  # type: ignore[assignment]
                if r.priority is _KEPT or r.priority == _KEPT:
                    if r.qty == r.old_qty:
                        continue
                    qty, orders = r.level_qty, r.level_orders
                else:
                    qty, orders = r.old_level_qty, r.old_level_orders
                n = seqs.get(r.symbol, 0) + 1
                seqs[r.symbol] = n
                append(
                    _new(_LEVEL_DELTA, (r.symbol, n, r.seq, r.ts, r.side, r.old_price, qty, orders))
                )
            elif kind is _EXECUTED and event.in_book:  # type: ignore[union-attr]
                x: Executed = event  # type: ignore[assignment]
                n = seqs.get(x.symbol, 0) + 1
                seqs[x.symbol] = n
                append(
                    _new(
                        _LEVEL_DELTA,
                        (x.symbol, n, x.seq, x.ts, x.side, x.price, x.level_qty, x.level_orders),
                    )
                )
        # The engine numbers a command's events in the order it emits them, so
        # the last one's seq is the highest (read by name: any kind of event).
        if event is not None:
            seq = event.seq
            if seq > self.last_engine_seq:
                self.last_engine_seq = seq
        return out

    def snapshot(
        self, engine: MatchingEngine, symbol: str, depth: int | None = None
    ) -> BookSnapshot:
        """The engine's L2 book of ``symbol`` stamped with the per-symbol seq it includes.

        Raises ``SnapshotOutOfStepError`` when the engine has emitted events this
        sequencer has not seen (the stamp would be wrong), and the engine's
        ``UnknownSymbolError`` for a symbol it does not trade.
        """
        snap = engine.l2_snapshot(symbol, depth)
        if snap.seq != self.last_engine_seq:
            raise SnapshotOutOfStepError(
                f"engine is at seq {snap.seq} but the L2 sequencer has seen events up to"
                f" {self.last_engine_seq}: feed it every event before taking a snapshot"
            )
        return BookSnapshot(
            symbol, self.seq(symbol), snap.seq, tuple(snap.bids), tuple(snap.asks), depth
        )
