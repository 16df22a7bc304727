"""Market data fan-out: engine events -> per-symbol L2 messages -> subscribers.

Why this shape: the sequencer calls ``on_events`` synchronously after every
command, so the engine's book, the per-symbol sequence (``lob.feed.l2.L2Feed``)
and every view here always describe the same instant; a snapshot taken between
two commands lines up exactly with the deltas that follow it.

Messages are the L2 messages of ``lob.feed`` in the encodings of
``lob.feed.wire`` (``LevelDelta``, ``TradeDelta``, ``BookSnapshot``,
``ConflatedBatch``, ``TopOfBook``), so a client rebuilds a book with
``lob.feed.l2_builder.L2BookBuilder``. What each channel carries:

``book`` (full depth)
    A full ``BookSnapshot``, then every delta of the symbol, levels and
    trades, contiguous in the per-symbol ``seq``. A client that falls behind
    gets ``ConflatedBatch``es or a fresh snapshot (``lob.server.ws``).
``book`` with ``depth`` N
    ``BookSnapshot``s of the top N levels, one after each batch of inputs that
    changed them (each replaces the last; a slow client gets only the newest).
``trades``
    The symbol's ``TradeDelta``s (a client following the full book already
    gets them there).
``top``
    ``TopOfBook`` when a batch of inputs changed the best bid or ask (price or
    size).

Each update is encoded once per encoding (``Update.frame``) and the same bytes
go to every subscriber that keeps up.

Batching (``batch_on``, what ``lob serve`` does): fan-out is the server's main
cost with many subscribers (one frame per subscriber per update), so the
deltas of a symbol are held until the end of the current batch of inputs and
go out as one ``Update``: one encoding, one frame per subscriber. The batch
ends when the sequencer is about to send acknowledgements (``flush``: market
data of an input never trails its ack) or, at the latest, when the event loop
finishes its current turn. ``subscribe`` flushes first, so a new subscriber's
snapshot is exactly the book before the next delta it gets. Held deltas are
already sequenced and in the ring; only their delivery waits.

With an interval (``lob serve --md-interval``), a send comes at the earliest
that long after the previous one, and acks no longer wait for it: under heavy
load the market data of every batch in the interval goes out as one frame per
subscriber. Each frame costs a system call per subscriber, so with a hundred
subscribers and thousands of small batches a second the sends, not matching,
would take the server's time.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from mypy_extensions import mypyc_attr

from lob.engine.engine import MatchingEngine
from lob.engine.events import Event
from lob.engine.types import Side
from lob.feed.conflation import DEFAULT_TRADE_LIMIT, conflate
from lob.feed.deltas import BookSnapshot, Delta, TopOfBook, TradeDelta
from lob.feed.l2 import L2Feed
from lob.feed.ring import CatchUp
from lob.feed.wire import Message, encode_msgpack, message_to_dict

__all__ = ["MarketData", "MarketFrame", "Update", "encode_messages"]

log = logging.getLogger("lob.server")

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def encode_messages(messages: list[Message] | tuple[Message, ...], encoding: str) -> bytes:
    """One WebSocket frame of L2 messages: concatenated msgpack arrays, or JSON lines."""
    if encoding == "json":
        return "\n".join(_dumps(message_to_dict(m)) for m in messages).encode()
    if len(messages) == 1:
        return encode_msgpack(messages[0])
    return b"".join(encode_msgpack(m) for m in messages)


@mypyc_attr(native_class=False)  # a bytes subclass: an ordinary class, compiled or not
class MarketFrame(bytes):
    """Encoded L2 messages of a frame; a sender may join several into one frame.

    Concatenated msgpack arrays (or JSON lines joined by a newline) are still a
    valid market-data frame, so a client's writer that has fallen a few frames
    behind sends them as one.
    """

    __slots__ = ()


class Update:
    """The messages of one command for one channel of one symbol, encoded lazily."""

    __slots__ = ("_json", "_msgpack", "messages", "seq")

    def __init__(self, messages: list[Message], seq: int) -> None:
        self.messages = messages
        self.seq = seq
        self._json: bytes | None = None
        self._msgpack: bytes | None = None

    def frame(self, encoding: str) -> bytes:
        if encoding == "json":
            if self._json is None:
                self._json = MarketFrame(encode_messages(self.messages, "json"))
            return self._json
        if self._msgpack is None:
            self._msgpack = MarketFrame(encode_messages(self.messages, "msgpack"))
        return self._msgpack


class Subscriber(Protocol):
    """What the fan-out needs from a subscription (the gateway's ``Subscription``)."""

    symbol: str
    channel: str
    depth: int | None

    def offer(self, update: Update) -> None: ...


_Top = tuple[int | None, int, int | None, int]


class _SymbolSubs:
    __slots__ = ("book", "depth_state", "depths", "top", "top_state", "trades")

    def __init__(self) -> None:
        self.book: list[Subscriber] = []
        self.trades: list[Subscriber] = []
        self.top: list[Subscriber] = []
        self.depths: dict[int, list[Subscriber]] = {}
        self.depth_state: dict[int, BookSnapshot] = {}
        self.top_state: _Top | None = None

    def empty(self) -> bool:
        return not (self.book or self.trades or self.top or self.depths)


class MarketData:
    """L2 deltas, rings and subscriber lists of one engine; fed by the sequencer."""

    def __init__(self, engine: MatchingEngine, ring_capacity: int = 4096) -> None:
        self.engine = engine
        self.feed = L2Feed(ring_capacity, track_top=False)
        self._subs: dict[str, _SymbolSubs] = {}
        self.deltas = 0
        self.on_deltas: list[Callable[[list[Delta]], None]] = []
        self.flushes = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._held: dict[str, list[Delta]] = {}
        self._scheduled = False
        self._interval = 0.0
        self._last_flush = 0.0
        self._catch_ups: dict[tuple[Any, ...], tuple[int, tuple[bytes, int, bool] | None]] = {}

    def batch_on(self, loop: asyncio.AbstractEventLoop, interval: float = 0.0) -> None:
        """Hold deltas until ``flush`` or the end of ``loop``'s current turn, and with an
        ``interval`` (seconds) until that long after the previous send at the earliest."""
        self._loop = loop
        self._interval = interval

    def flush(self) -> None:
        """Send every held delta: one ``Update`` per symbol and channel."""
        held = self._held
        if not held:
            return
        self._held = {}
        self.flushes += 1
        if self._interval and self._loop is not None:
            self._last_flush = self._loop.time()
        subs = self._subs
        for symbol, deltas in held.items():
            group = subs.get(symbol)
            if group is not None:
                try:
                    self._publish(symbol, group, deltas)
                except Exception:  # one broken subscriber must not cost the others
                    log.exception("market data for %s failed", symbol)

    def _turn_end(self) -> None:
        self._scheduled = False
        self.flush()

    # -- input ---------------------------------------------------------------

    def on_events(self, events: list[Event]) -> None:
        deltas = self.feed.on_events(events).deltas
        if not deltas:
            return
        self.deltas += len(deltas)
        subs = self._subs
        if subs and self._loop is not None:
            held = self._held
            for delta in deltas:
                symbol = delta.symbol
                if symbol in subs:
                    pending = held.get(symbol)
                    if pending is None:
                        held[symbol] = [delta]
                    else:
                        pending.append(delta)
            if held and not self._scheduled:
                self._scheduled = True
                loop = self._loop
                wait = self._last_flush + self._interval - loop.time() if self._interval else 0
                if wait > 0:
                    loop.call_later(wait, self._turn_end)
                else:
                    loop.call_soon(self._turn_end)
        elif subs:
            start, n = 0, len(deltas)
            while start < n:
                symbol = deltas[start].symbol
                end = start + 1
                while end < n and deltas[end].symbol == symbol:
                    end += 1
                group = subs.get(symbol)
                if group is not None:
                    self._publish(symbol, group, deltas[start:end])
                start = end
        for hook in self.on_deltas:
            hook(deltas)

    def _publish(self, symbol: str, group: _SymbolSubs, deltas: list[Delta]) -> None:
        last = deltas[-1]
        if group.book:
            update = Update(deltas, last.seq)  # type: ignore[arg-type]
            for sub in group.book:
                sub.offer(update)
        if group.trades:
            trades = [d for d in deltas if type(d) is TradeDelta]
            if trades:
                update = Update(trades, last.seq)  # type: ignore[arg-type]
                for sub in group.trades:
                    sub.offer(update)
        for depth, subscribers in group.depths.items():
            snap = self.snapshot(symbol, depth)
            old = group.depth_state.get(depth)
            if old is None or old.bids != snap.bids or old.asks != snap.asks:
                group.depth_state[depth] = snap
                update = Update([snap], snap.seq)
                for sub in subscribers:
                    sub.offer(update)
        if group.top:
            top = self._top(symbol)
            if top != group.top_state:
                group.top_state = top
                message = TopOfBook(symbol, last.seq, last.engine_seq, last.ts, *top)
                update = Update([message], last.seq)
                for sub in group.top:
                    sub.offer(update)

    def _top(self, symbol: str) -> _Top:
        book = self.engine.book(symbol)
        bid = book.levels(Side.BUY, 1)
        ask = book.levels(Side.SELL, 1)
        return (
            bid[0].price if bid else None,
            bid[0].qty if bid else 0,
            ask[0].price if ask else None,
            ask[0].qty if ask else 0,
        )

    # -- subscribers ---------------------------------------------------------

    def subscribe(self, sub: Subscriber) -> Message | None:
        """Add ``sub``; return its first message (a snapshot or the current top), if any."""
        symbol = sub.symbol
        self.engine.book(symbol)  # UnknownSymbolError for a symbol not traded
        self.flush()  # held deltas describe the book before the snapshot below
        group = self._subs.get(symbol)
        if group is None:
            group = self._subs[symbol] = _SymbolSubs()
        if sub.channel == "book":
            if sub.depth is None:
                group.book.append(sub)
                return self.snapshot(symbol)
            snap = self.snapshot(symbol, sub.depth)
            if sub.depth not in group.depths:
                group.depths[sub.depth] = []
                group.depth_state[sub.depth] = snap
            group.depths[sub.depth].append(sub)
            return snap
        if sub.channel == "trades":
            group.trades.append(sub)
            return None
        if sub.channel == "top":
            if not group.top:
                group.top_state = self._top(symbol)
            group.top.append(sub)
            return self.top(symbol)
        raise ValueError(f"unknown channel {sub.channel!r}")

    def unsubscribe(self, sub: Subscriber) -> None:
        group = self._subs.get(sub.symbol)
        if group is None:
            return
        if sub.channel == "book" and sub.depth is not None:
            subscribers = group.depths.get(sub.depth)
            if subscribers is not None and sub in subscribers:
                subscribers.remove(sub)
                if not subscribers:
                    del group.depths[sub.depth]
                    group.depth_state.pop(sub.depth, None)
        else:
            members = {"book": group.book, "trades": group.trades, "top": group.top}.get(
                sub.channel, []
            )
            if sub in members:
                members.remove(sub)
        if group.empty():
            del self._subs[sub.symbol]

    # -- reading -------------------------------------------------------------

    def snapshot(self, symbol: str, depth: int | None = None) -> BookSnapshot:
        """The book of ``symbol`` stamped with its per-symbol seq (full depth if None)."""
        return self.feed.snapshot(self.engine, symbol, depth)

    def top(self, symbol: str) -> TopOfBook:
        seq = self.feed.seq(symbol)
        ring = self.feed.ring(symbol)
        last = ring.since(seq - 1) if seq else None
        engine_seq, ts = (last[-1].engine_seq, last[-1].ts) if last else (0, 0)
        return TopOfBook(symbol, seq, engine_seq, ts, *self._top(symbol))

    def catch_up_frame(
        self,
        symbol: str,
        since: int,
        encoding: str,
        max_entries: int,
        trade_limit: int = DEFAULT_TRADE_LIMIT,
    ) -> tuple[bytes, int, bool] | None:
        """What a lagging full-book subscriber at ``since`` gets now: ``(frame, seq, resync)``.

        One ``ConflatedBatch`` of the deltas since ``since`` from the ring, or a
        full snapshot (``resync``) when the ring no longer reaches back that far
        or the batch would hold more than ``max_entries`` levels and trades.
        None when there is nothing new. Call ``flush`` first. Subscribers that
        fell behind together share one answer (cached until the next delta).
        """
        seq = self.feed.seq(symbol)
        key = (symbol, since, encoding, max_entries, trade_limit)
        cached = self._catch_ups.get(key)
        if cached is not None and cached[0] == seq:
            return cached[1]
        if len(self._catch_ups) > 256:
            self._catch_ups.clear()
        answer: tuple[bytes, int, bool] | None = None
        if since != seq:
            deltas = self.feed.ring(symbol).since(since)
            batch = conflate(symbol, deltas, trade_limit) if deltas else None
            if batch is not None and len(batch.levels) + len(batch.trades) <= max_entries:
                answer = (encode_messages([batch], encoding), batch.last_seq, False)
            else:
                snap = self.snapshot(symbol)
                answer = (encode_messages([snap], encoding), snap.seq, True)
        self._catch_ups[key] = (seq, answer)
        return answer

    def catch_up(self, symbol: str, since: int | None) -> CatchUp:
        return self.feed.catch_up(self.engine, symbol, since)

    def seq(self, symbol: str) -> int:
        return self.feed.seq(symbol)
