"""The history process: ``lob serve``'s DuckDB history, built from its journal in a process of
its own.

Why a process: a history writer inside the server, even on a thread of its
own, slowed a saturated matching loop by about three quarters (the GIL, and
the garbage collector walking events kept alive for the writer:
docs/benchmarks.md). The journal already holds every accepted input with its
timestamp, written before the input is applied, and the engine is
deterministic: replaying the journal through an engine set up like the
server's (``lob.server.replica``) gives the very events the server's engine
emitted. So the server only writes its journal, as it must anyway, and this
process follows the file, replays it and writes the history; the matching
loop never touches an event on the history's behalf.

What it does (``python -m lob.server.history_process``, started by
``lob.server.history_channel.HistoryProcess``):

1. Waits for the engine's set-up on the channel, opens ``history.duckdb``
   (retrying for a while if a process of an earlier run still holds its lock),
   starts a session and drops the rows of earlier ``lob serve`` sessions: it
   rebuilds the history from the whole journal, so after a crash (when the
   last batches never reached DuckDB) the history catches up and never holds a
   row twice.
2. Follows the journal (``lob.store.journal_tail``): new complete records
   are applied to the replica and their events handed to ``HistoryWriter``,
   which writes Arrow batches. A record still being written (or a torn tail)
   is read again a few milliseconds later.
3. Flushes at most once a second (``FLUSH_EVERY``), whether it has caught up
   or not: each flush is a DuckDB commit that syncs its write-ahead log on the
   disk where the server's group commit syncs the journal, and at twenty a
   second they showed in the server's order-to-ack p99 (docs/benchmarks.md).
   Queries do not wait for it: a query flushes what is applied first.
4. Answers queries (``lob.analytics.api``) on two threads of its own, each
   once the journal is applied up to the offset the server sent with it
   (read-your-writes), on its own cursor inside one read transaction; a query
   that cannot be reached within ``query_wait`` seconds is answered as
   unavailable.
5. Runs at a lower CPU priority than the server (``history_channel.NICENESS``):
   when both want the same core, matching gets it and the history trails.
   With ``lob serve --cpu N`` it keeps to the other CPUs (``--cpus``), so
   the two never want the same core.
6. Stops when told to, after catching up to the offset named and flushing;
   exits when the channel closes (the server is gone, even by kill -9) or its
   parent changes. SIGINT is ignored (a Ctrl-C is the server's to handle);
   SIGTERM stops it after it has flushed what it holds.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lob.priority import give_way, keep_to
from lob.server.collector import young_only
from lob.server.history_channel import FrameBuffer, frame
from lob.server.replica import EngineSetup, Replica

__all__ = ["FLUSH_EVERY", "HistoryFollower", "drop_earlier_sessions", "main"]

log = logging.getLogger("lob.history")

SOURCE = "lob serve"
QUERY_THREADS = 2


def drop_earlier_sessions(con: Any, source: str, session: int) -> int:
    """Delete every row of the ``source`` sessions before ``session``; return how many sessions."""
    from lob.store.history import TABLES

    old = [
        row[0]
        for row in con.execute(
            "SELECT session FROM sessions WHERE source = ? AND session < ?", [source, session]
        ).fetchall()
    ]
    if old:
        marks = ", ".join("?" for _ in old)
        for table in TABLES:
            con.execute(f"DELETE FROM {table} WHERE session IN ({marks})", old)
        con.execute(f"DELETE FROM sessions WHERE session IN ({marks})", old)
    return len(old)


def open_writer(path: Path, source: str, lock_wait: float = 15.0) -> Any:
    """A ``HistoryWriter`` on ``path``, retrying while another process holds the file's lock."""
    import duckdb

    from lob.store.history import HistoryWriter

    deadline = time.monotonic() + lock_wait
    while True:
        try:
            return HistoryWriter(path, source=source)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # the history process of a run that just died is exiting


FLUSH_EVERY = 1.0
"""Seconds between the history's flushes (DuckDB commits) while the exchange trades."""


class HistoryFollower:
    """The journal followed into a DuckDB history: the work of the history process."""

    def __init__(
        self,
        writer: Any,
        journal: Path,
        setup: EngineSetup,
        *,
        interval: float = FLUSH_EVERY,
        max_lag: float = FLUSH_EVERY,
    ) -> None:
        from lob.store.journal_tail import JournalTail

        self.writer = writer
        self.tail = JournalTail(journal, max_read=1 << 20)
        self.replica = Replica(setup)
        self.interval = interval
        self.max_lag = max_lag
        self._dirty = False
        self._last_flush = time.monotonic()

    @property
    def offset(self) -> int:
        """Journal offset up to which the history holds every record (flushed or buffered)."""
        return self.replica.offset

    def step(self) -> int:
        """Apply what the journal holds beyond the offset (up to a chunk); return the records."""
        records = self.tail.read()
        if records:
            events: list[Any] = []
            self.replica.apply(records, events.extend)
            self.writer.write_events(events)
            self._dirty = True
        self.replica.reached(self.tail.offset)
        return len(records)

    def flush(self) -> None:
        if self._dirty:
            self.writer.flush()
            self._dirty = False
        self._last_flush = time.monotonic()

    def flush_if_due(self, idle: bool) -> None:
        """Flush after ``interval`` once caught up, or after ``max_lag`` while behind."""
        if not self._dirty:
            return
        waited = time.monotonic() - self._last_flush
        if waited >= self.max_lag or (idle and waited >= self.interval):
            self.flush()

    def close(self) -> None:
        self.tail.close()
        self.writer.close()


class _Channel:
    """The child's end of the socket pair: whole messages in, replies out from any thread."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._frames = FrameBuffer()
        self._send_lock = threading.Lock()
        self.closed = False

    def receive(self, timeout: float | None) -> list[tuple[Any, ...]]:
        """Messages that arrive within ``timeout`` (none on a timeout); sets ``closed`` on EOF."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return []
        try:
            data = self.sock.recv(1 << 16)
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return []
        return self._frames.feed(data)

    def reply(self, request_id: int, ok: bool, value: Any) -> None:
        data = frame(("reply", request_id, ok, value))
        with self._send_lock:
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True


def _answer(writer: Any, path: str, params: dict[str, str]) -> tuple[bool, Any]:
    """One ``lob.analytics.api`` answer on a fresh cursor, in one read transaction."""
    import duckdb

    from lob.analytics.api import handle
    from lob.analytics.source import DuckDBSource

    try:
        con = writer.reader()
    except duckdb.Error as exc:
        return False, f"the history is closed: {exc}"
    try:
        con.execute("BEGIN TRANSACTION")
        return True, handle(DuckDBSource(con), path, params)
    except duckdb.Error as exc:
        return False, f"the history query failed: {exc}"
    finally:
        con.close()


class _Waiting:
    """A request that waits for the history to reach a journal offset."""

    __slots__ = ("deadline", "kind", "message", "request_id", "target")

    def __init__(self, message: tuple[Any, ...], wait: float) -> None:
        self.kind: str = message[0]
        self.request_id: int = message[1]
        self.target: int = message[2]
        self.message = message
        self.deadline = time.monotonic() + wait


def serve(
    channel: _Channel,
    follower: HistoryFollower,
    *,
    poll: float = 0.005,
    query_wait: float = 10.0,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Follow the journal and answer requests until told to stop or the server is gone."""
    pool = ThreadPoolExecutor(QUERY_THREADS, thread_name_prefix="lob-history-query")
    writer = follower.writer
    parent = os.getppid()
    waiting: list[_Waiting] = []
    signalled = False
    stop: _Waiting | None = None
    try:
        while True:
            applied = follower.step()
            follower.flush_if_due(idle=not applied)
            for message in channel.receive(0 if applied else poll):
                kind = message[0]
                if kind == "status":
                    value = {"offset": follower.offset, "records": follower.replica.records}
                    channel.reply(message[1], True, value)
                elif kind == "stop":
                    stop = _Waiting(message, float("inf"))
                elif kind in ("query", "sync"):
                    waiting.append(_Waiting(message, query_wait if kind == "query" else 3600.0))
                else:
                    channel.reply(message[1], False, f"unknown request {kind!r}")
            if channel.closed or os.getppid() != parent:
                return  # the server is gone: keep what is applied, a restart rebuilds the rest
            if stopping() and stop is None:
                # Signalled without a request: stop once caught up with what was
                # journaled by then (where the records end; the file runs on in
                # zeros), judged by a step that began after the signal was seen.
                if signalled and not applied:
                    stop = _Waiting(("stop", 0, follower.offset), float("inf"))
                signalled = True
            if waiting:
                waiting = _serve_due(channel, follower, writer, pool, waiting)
            if stop is not None and follower.offset >= stop.target:
                follower.flush()
                pool.shutdown(wait=True)  # queries already running finish first
                for left in waiting:
                    channel.reply(left.request_id, False, "the history is stopping")
                follower.close()
                if stop.request_id:
                    channel.reply(stop.request_id, True, {"records": follower.replica.records})
                return
    finally:
        pool.shutdown(wait=True)
        follower.close()


def _serve_due(
    channel: _Channel,
    follower: HistoryFollower,
    writer: Any,
    pool: ThreadPoolExecutor,
    waiting: list[_Waiting],
) -> list[_Waiting]:
    """Answer the requests whose offset is reached; refuse those past their deadline."""
    offset = follower.offset
    due = [w for w in waiting if w.target <= offset]
    now = time.monotonic()
    late = [w for w in waiting if w.target > offset and w.deadline < now]
    if due:
        follower.flush()  # the queries see every row of what is applied
    for w in due:
        if w.kind == "sync":
            records = follower.replica.records
            channel.reply(w.request_id, True, {"offset": offset, "records": records})
        else:
            _, request_id, _, path, params = w.message
            pool.submit(_run_query, channel, writer, request_id, path, params)
    for w in late:
        behind = w.target - offset
        channel.reply(w.request_id, False, f"the history is {behind} journal bytes behind")
    return [w for w in waiting if w.target > offset and w.deadline >= now]


def _run_query(
    channel: _Channel, writer: Any, request_id: int, path: str, params: dict[str, str]
) -> None:
    try:
        ok, value = _answer(writer, path, params)
    except Exception as exc:  # never leave the server waiting
        log.exception("history query %s failed", path)
        ok, value = False, f"the history query failed: {exc}"
    channel.reply(request_id, ok, value)


def _cpu_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(cpu) for cpu in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"CPU numbers separated by commas, not {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the child process (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m lob.server.history_process")
    parser.add_argument("--fd", type=int, required=True, help="this end of the socket pair")
    parser.add_argument("--db", type=Path, required=True, help="the DuckDB history file")
    parser.add_argument("--journal", type=Path, required=True, help="the journal to follow")
    parser.add_argument("--source", default=SOURCE, help="the sessions' source")
    parser.add_argument("--nice", type=int, default=0, help="lower this process's priority")
    parser.add_argument("--cpus", type=_cpu_list, default=(), help="keep to these CPUs: 1,2,3")
    args = parser.parse_args(argv)
    if args.cpus:
        keep_to(args.cpus)  # before DuckDB starts its threads: they inherit the set
    if args.nice:
        give_way(args.nice)  # started in a session of its own: its group gives way too
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    terminated = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: terminated.set())
    channel = _Channel(socket.socket(fileno=args.fd))
    setup_message: tuple[Any, ...] | None = None
    while setup_message is None:
        for message in channel.receive(1.0):
            if message[0] == "setup":
                setup_message = message
        if channel.closed or terminated.is_set():
            return 0
    request_id, setup = setup_message[1], setup_message[2]
    try:
        writer = open_writer(args.db, args.source)
        con = writer.reader()
        try:
            drop_earlier_sessions(con, args.source, writer.session)
        finally:
            con.close()
        follower = HistoryFollower(writer, args.journal, setup)
    except Exception as exc:
        channel.reply(request_id, False, f"cannot open the history {args.db}: {exc}")
        return 1
    channel.reply(request_id, True, writer.session)
    young_only()  # its replica and buffers hold no cycles: no full collections (collector.py)
    try:
        serve(channel, follower, stopping=terminated.is_set)
    except Exception:
        log.exception("the history process failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
