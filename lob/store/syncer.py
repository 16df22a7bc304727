"""The journal's fdatasync, run by a small process of its own.

Why a process and not a worker thread: ``os.fdatasync`` releases the GIL while
the disk works, but a thread needs the GIL again to start the call and to hand
the result back, and an event loop busy matching orders keeps the GIL for up to
the interpreter's switch interval (5 ms) before it lets a waiting thread in.
Every order of a group commit waits for those hand-offs. A process has an
interpreter of its own: it waits on a pipe, syncs the file the two share (an
fsync covers the file, whichever descriptor wrote to it) and answers on a pipe
that the event loop watches like any socket.

The child (``sync_child.py``) is a few lines of ``os`` calls run with
``python -I -S`` (no site, no lob). It ignores SIGINT, SIGTERM and SIGHUP,
since a server stopping gracefully still needs its last sync, and it exits
when the request pipe closes: when the server closes it or dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

__all__ = ["SYNC_PROCESS_NAME", "SyncDone", "SyncProcess", "SyncProcessExited", "Syncer"]

SYNC_PROCESS_NAME = "lob-journal-sync"
"""The child's first argument, so that ``ps`` (and lob bench) can tell it apart."""

_CHILD = str(Path(__file__).with_name("sync_child.py"))
_REPLY = 4
"""Bytes of one answer: the errno of the sync, 0 when it succeeded (a pipe delivers
writes this small whole)."""


SyncDone = Callable[[Exception | None], None]
"""Called once a sync is over: with ``None`` when it succeeded, else with why it failed."""


class Syncer(Protocol):
    """What the sequencer's group commit needs: durable syncs, answered on the event loop."""

    def request(self, done: SyncDone) -> None:
        """Start a sync of everything written so far; ``done`` hears how it ended.

        Raises at once (``SyncProcessExited``, ``OSError``) if the sync cannot
        even be asked for; otherwise ``done`` runs later, from the event loop,
        never from inside this call.
        """

    def close(self) -> None: ...


class SyncProcessExited(OSError):
    """The sync process is gone: nothing written since its last answer is known durable."""


_GONE = "the journal's sync process has exited"


class SyncProcess:
    """Makes a file durable on request, from another process, answering in order."""

    def __init__(self, fd: int) -> None:
        request_r, self._requests = os.pipe()
        self._replies, reply_w = os.pipe()
        fds = (fd, request_r, reply_w)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", _CHILD, SYNC_PROCESS_NAME, *map(str, fds)],
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            for end in (self._requests, self._replies):
                os.close(end)
            raise
        finally:
            os.close(request_r)
            os.close(reply_w)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: deque[SyncDone] = deque()
        """Who hears each request not answered yet: the child answers in order."""
        self._exited = False
        self._closed = False

    def request(self, done: SyncDone) -> None:
        """Ask for a sync of everything written to the file so far (see ``Syncer``).

        The answer is handled straight from the loop's watch on the reply pipe,
        so ``done`` runs in the same turn of the loop that sees it, not one later.
        """
        if self._exited:
            raise SyncProcessExited(_GONE)
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._replies, self._on_reply)
        try:
            os.write(self._requests, b"s")
        except BrokenPipeError:
            self._exited = True
            raise SyncProcessExited(_GONE) from None
        self._waiting.append(done)

    async def sync(self) -> None:
        """Return once everything written to the file before the call is durable."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done(exc: Exception | None) -> None:
            if future.done():  # the caller stopped waiting
                return
            if exc is None:
                future.set_result(None)
            else:
                future.set_exception(exc)

        self.request(done)
        await future

    def _on_reply(self) -> None:
        data = os.read(self._replies, _REPLY)
        if len(data) < _REPLY:  # end of file: the child is gone
            self._exited = True
            if self._loop is not None:
                self._loop.remove_reader(self._replies)
            waiting, self._waiting = self._waiting, deque()
            for done in waiting:
                done(SyncProcessExited(_GONE))
            return
        if not self._waiting:
            return
        done = self._waiting.popleft()
        code = int.from_bytes(data, "little", signed=True)
        done(OSError(code, os.strerror(code)) if code else None)

    def close(self, timeout: float = 10.0) -> None:
        """Let the child exit (its request pipe closes) and wait for it."""
        if self._closed:
            return
        self._closed = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._replies)
        for end in (self._requests, self._replies):
            with contextlib.suppress(OSError):
                os.close(end)
        self._exited = True
        waiting, self._waiting = self._waiting, deque()
        for done in waiting:  # asked and never answered: not known durable
            done(SyncProcessExited(_GONE))
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
