"""The sequencer: the one place where inputs become engine events, journal first.

Why it looks like this: an acknowledged order must survive a crash, and every
view of the exchange (acks, market data, history) must agree with what a
replay of the journal would rebuild. So an input is stamped with its time,
framed and written to the journal, and only after the write (and the fsync, in
``batch``/``always`` mode) is it applied to the engine; its events then go to
every listener in order and to whoever submitted it. Nothing outside sees an
input's effect before it is durable: a crash loses only inputs nobody heard
back about.

Group commit (``batch``, the default): inputs that arrive while an fsync is
running wait for the next one, so one fsync covers every input of a burst and
the engine never waits on the disk (the fsync runs in a small process of its
own, ``lob.store.syncer``: a worker thread would wait for the GIL on the way
in and out). The group commit is pipelined: when a sync ends, the inputs that
gathered meanwhile are written and their sync begins before the synced batch
is applied and acknowledged, so the disk works while the engine does. It is
driven by callbacks, not a task: the sync's answer is handled in the turn of
the event loop that reads it.
``always`` syncs every input on its own; ``off`` writes to the OS and applies
at once (fast, survives a process crash but not a power cut), and acknowledges
the inputs of one turn of the event loop together at the end of that turn.

Before acknowledgements go out (once per group-commit batch, or per turn of the
loop with ``off``), the ``before_ack`` hooks run: market data batches its
fan-out per batch of inputs and sends it there, so an input's market data never
trails its ack. After them, the ``after_ack`` hooks run: the WebSocket gateway
writes the acknowledgements to their sockets there, at once, rather than in a
later turn of the loop behind the reading of new orders.

Everything here runs on the event loop thread; the engine is never touched
from anywhere else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final, Protocol

from mypy_extensions import mypyc_attr

from lob.engine.engine import MatchingEngine
from lob.engine.events import Event
from lob.server.day import apply_session_input
from lob.store.journal import (
    Advance,
    EnableLuld,
    ExpireOrders,
    Journal,
    JournalInput,
    SetState,
    encode_record,
)
from lob.store.syncer import Syncer, SyncProcess

__all__ = ["FSYNC_MODES", "Listener", "Receiver", "Sequencer", "SequencerClosed"]

FSYNC_MODES = ("batch", "always", "off")

# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
_EXPIRE_ORDERS: Final = ExpireOrders
_ADVANCE: Final = Advance
_SET_STATE: Final = SetState
_ENABLE_LULD: Final = EnableLuld

log = logging.getLogger("lob.server")

Listener = Callable[[list[Event]], None]
Applied = Callable[[list[Event]], None]


class Receiver(Protocol):
    """Whoever hears back about one input (an order's acknowledgement, a waiting caller).

    One object with three methods rather than three callbacks: a batch of
    inputs in flight holds one object each, not a tuple and three bound
    methods, which the garbage collector's young generation would have to
    look at again and again under load.
    """

    def applied(self, events: list[Event]) -> None:
        """Right after the input is applied and every listener has seen it, before
        the next input of its batch: the place to read a view (an order's status)
        as this input left it."""

    def done(self, events: list[Event]) -> None:
        """Once the input is durable, its whole batch is applied and its market
        data is out: the place to acknowledge it."""

    def failed(self, exc: Exception) -> None:
        """The input was never applied (the journal failed): ``exc`` says why."""


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class SequencerClosed(RuntimeError):
    """The exchange no longer takes input (shutting down, or the journal failed)."""


class Sequencer:
    """Journal, then engine, then listeners: in order, one input at a time."""

    def __init__(
        self,
        engine: MatchingEngine,
        journal: Journal,
        fsync: str = "batch",
        clock: Callable[[], int] = time.time_ns,
        syncer: Syncer | None = None,
    ) -> None:
        """``syncer`` makes the journal durable (with ``batch``/``always``); by default
        a ``SyncProcess`` on the journal's file, started by ``start``."""
        if fsync not in FSYNC_MODES:
            raise ValueError(f"fsync must be one of {', '.join(FSYNC_MODES)}: {fsync!r}")
        self.engine = engine
        self.journal = journal
        self.fsync = fsync
        self.clock = clock
        self.listeners: list[Listener] = []
        self.before_ack: list[Callable[[], None]] = []
        self.after_ack: list[Callable[[], None]] = []
        self.last_ts = 0
        self.batches = 0
        self.inputs = 0
        """Inputs sequenced since start (a quiet exchange is one whose count stands still)."""
        self.syncs = 0
        self.failure: Exception | None = None
        self._accepting = True
        # The inputs waiting for the next group commit, in four parallel lists (a
        # tuple per input would be one more object for the collector to track).
        self._frames: list[bytes] = []
        self._commands: list[JournalInput] = []
        self._stamps: list[int] = []
        self._receivers: list[Receiver | None] = []
        # The batch whose sync is running (written to the journal, not applied yet).
        self._syncing = False
        self._inflight_commands: list[JournalInput] = []
        self._inflight_stamps: list[int] = []
        self._inflight_receivers: list[Receiver | None] = []
        self._commit_soon = False
        self._idle = asyncio.Event()
        self._idle.set()
        self.syncer = syncer
        self._loop: asyncio.AbstractEventLoop | None = None
        self._acks: list[Receiver | None] = []
        self._ack_events: list[list[Event]] = []
        """fsync=off: acknowledgements (and their events) waiting for the end of the loop's turn."""

    # -- start-up ------------------------------------------------------------

    def replay(self, listeners: list[Listener] | None = None) -> int:
        """Apply the journal's recovered records; return how many there were."""
        for record in self.journal.recovered:
            events = self._apply(record.command, record.ts)
            self.last_ts = max(self.last_ts, record.ts)
            for listener in listeners if listeners is not None else self.listeners:
                listener(events)
        count = len(self.journal.recovered)
        self.journal.recovered = []
        return count

    def start(self) -> None:
        """Begin group commit (needs a running event loop, except with ``off``)."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            if self.fsync != "off":
                raise
        if self.fsync != "off":
            if self.syncer is None:
                self.syncer = SyncProcess(self.journal.fd)
            self._schedule_commit()

    # -- intake --------------------------------------------------------------

    @property
    def accepting(self) -> bool:
        return self._accepting and self.failure is None

    @property
    def queued(self) -> int:
        """Inputs waiting for the next group commit (journaled and applied after it)."""
        return len(self._commands)

    def enqueue(self, command: JournalInput, receiver: Receiver | None = None) -> None:
        """Sequence ``command``; ``receiver`` (if any) hears when it is applied and done.

        With ``fsync="off"`` the input is applied before this returns, and
        ``receiver.done`` runs at the end of the event loop's turn (at once if
        the sequencer was never started), with every other input of that turn.
        """
        if not self.accepting:
            raise SequencerClosed("the exchange is not taking input")
        self.inputs += 1
        ts = self.clock()
        if ts <= self.last_ts:
            ts = self.last_ts + 1
        self.last_ts = ts
        frame = encode_record(command, ts)
        if self.fsync == "off":
            self.journal.write(frame)
            events = self._apply(command, ts)
            self._notify(events)
            if receiver is None:
                return
            self._applied(receiver, events)
            if self._loop is None:
                self._acknowledge([receiver], [events])
                return
            self._acks.append(receiver)
            self._ack_events.append(events)
            if len(self._acks) == 1:
                self._loop.call_soon(self._send_acks)
            return
        self._frames.append(frame)
        self._commands.append(command)
        self._stamps.append(ts)
        self._receivers.append(receiver)
        self._idle.clear()
        if not self._syncing and not self._commit_soon:
            self._schedule_commit()

    async def submit(self, command: JournalInput, applied: Applied | None = None) -> list[Event]:
        """Sequence ``command`` and wait for its events (``applied`` as ``Receiver.applied``)."""
        waiter = _Waiter(applied)
        if self.fsync == "off" and self._loop is None:
            self.enqueue(command, waiter)
            assert waiter.events is not None
            return waiter.events
        waiter.future = asyncio.get_running_loop().create_future()
        self.enqueue(command, waiter)
        return await waiter.future

    # -- group commit --------------------------------------------------------

    def _schedule_commit(self) -> None:
        # At the end of this turn of the loop, so that the inputs read in it
        # (a batch message's hundred orders) share one sync.
        if self._loop is not None and self._commands:
            self._commit_soon = True
            self._loop.call_soon(self._commit)

    def _commit(self) -> None:
        """Write the waiting inputs to the journal and start their sync."""
        self._commit_soon = False
        if self._syncing or not self._commands or self.failure is not None:
            return
        syncer = self.syncer
        assert syncer is not None
        if self.fsync == "always":
            frames = self._frames[:1]
            self._inflight_commands = self._commands[:1]
            self._inflight_stamps = self._stamps[:1]
            self._inflight_receivers = self._receivers[:1]
            del self._frames[:1], self._commands[:1], self._stamps[:1], self._receivers[:1]
        else:
            frames = self._frames
            self._inflight_commands, self._inflight_stamps = self._commands, self._stamps
            self._inflight_receivers = self._receivers
            self._frames, self._commands, self._stamps, self._receivers = [], [], [], []
        self._syncing = True
        try:
            self.journal.write(b"".join(frames), len(frames))
            syncer.request(self._synced)
        except Exception as exc:  # disk full, I/O error, the sync process gone
            self._stop(exc)

    def _synced(self, exc: Exception | None) -> None:
        """The sync of the batch in flight ended: apply and acknowledge that batch."""
        commands, stamps = self._inflight_commands, self._inflight_stamps
        receivers = self._inflight_receivers
        if exc is not None:
            self._stop(exc)
            return
        self._syncing = False
        self._inflight_commands, self._inflight_stamps, self._inflight_receivers = [], [], []
        self.batches += 1
        self.syncs += 1
        # The next batch goes to the disk before this one is applied: its sync
        # runs while the engine, the views and the acknowledgements work.
        self._commit()
        applied = []
        # By index: a zip would make a tuple per input, for three lists of one length.
        assert len(stamps) == len(receivers) == len(commands)
        for i in range(len(commands)):
            receiver = receivers[i]
            events = self._apply(commands[i], stamps[i])
            self._notify(events)
            if receiver is not None:
                self._applied(receiver, events)
            applied.append(events)
        self._acknowledge(receivers, applied)
        if not self._syncing and not self._commands:
            self._idle.set()

    def _stop(self, exc: Exception) -> None:
        """The journal failed: fail the batch in flight and every waiting input, take no more."""
        self.failure = exc
        self._syncing = False
        self._fail_all(self._inflight_receivers + self._receivers, exc)
        self._inflight_commands, self._inflight_stamps, self._inflight_receivers = [], [], []
        self._frames, self._commands, self._stamps, self._receivers = [], [], [], []
        self._idle.set()

    @staticmethod
    def _applied(receiver: Receiver, events: list[Event]) -> None:
        try:
            receiver.applied(events)
        except Exception:
            log.exception("applied callback failed")

    @staticmethod
    def _done(receiver: Receiver, events: list[Event]) -> None:
        try:
            receiver.done(events)
        except Exception:
            log.exception("acknowledgement callback failed")

    @staticmethod
    def _fail_all(receivers: list[Receiver | None], exc: Exception) -> None:
        error = SequencerClosed(f"the journal failed: {exc}")
        for receiver in receivers:
            if receiver is not None:
                receiver.failed(error)

    def _apply(self, command: JournalInput, ts: int) -> list[Event]:
        kind = type(command)
        if kind is _EXPIRE_ORDERS:
            return self.engine.expire(ts, command.tif)  # type: ignore[union-attr]
        if kind is _ADVANCE or kind is _SET_STATE or kind is _ENABLE_LULD:
            return apply_session_input(self.engine, command, ts)  # type: ignore[arg-type]
        return self.engine.submit(command, ts)  # type: ignore[arg-type]

    def _send_acks(self) -> None:
        acks, self._acks = self._acks, []
        events, self._ack_events = self._ack_events, []
        if acks:
            self._acknowledge(acks, events)

    def _acknowledge(self, receivers: list[Receiver | None], applied: list[list[Event]]) -> None:
        """Market data out (``before_ack``), then each input's ``done``, then the
        writes (``after_ack``): the one order every acknowledgement follows."""
        self._run_hooks(self.before_ack, "before-ack")
        assert len(applied) == len(receivers)
        for i in range(len(receivers)):
            receiver = receivers[i]
            if receiver is not None:
                self._done(receiver, applied[i])
        self._run_hooks(self.after_ack, "after-ack")

    @staticmethod
    def _run_hooks(hooks: list[Callable[[], None]], name: str) -> None:
        for hook in hooks:
            try:
                hook()
            except Exception:
                log.exception("%s hook %r failed", name, hook)

    def _notify(self, events: list[Event]) -> None:
        # A broken view must never stop matching: it is logged and the others go on.
        for listener in self.listeners:
            try:
                listener(events)
            except Exception:
                log.exception("event listener %r failed", listener)

    # -- shutdown ------------------------------------------------------------

    async def close(self) -> None:
        """Stop intake, let every queued input commit, then close the journal."""
        self._accepting = False
        self._send_acks()
        if self._loop is not None and self.fsync != "off" and self.failure is None:
            await self._idle.wait()
        if self.syncer is not None:
            self.syncer.close()
        self.journal.close()


class _Waiter:
    """The receiver of ``Sequencer.submit``: a future for the events, and ``applied``."""

    def __init__(self, applied: Applied | None) -> None:
        self.on_applied = applied
        self.future: asyncio.Future[list[Event]] | None = None
        self.events: list[Event] | None = None

    def applied(self, events: list[Event]) -> None:
        if self.on_applied is not None:
            self.on_applied(events)

    def done(self, events: list[Event]) -> None:
        self.events = events
        future = self.future
        if future is not None and not future.done():
            future.set_result(events)

    def failed(self, exc: Exception) -> None:
        future = self.future
        if future is not None and not future.done():
            future.set_exception(exc)
