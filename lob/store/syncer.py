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
from pathlib import Path
from typing import Protocol

__all__ = ["SYNC_PROCESS_NAME", "SyncProcess", "SyncProcessExited", "Syncer"]

SYNC_PROCESS_NAME = "lob-journal-sync"
"""The child's first argument, so that ``ps`` (and lob bench) can tell it apart."""

_CHILD = str(Path(__file__).with_name("sync_child.py"))
_REPLY = 4
"""Bytes of one answer: the errno of the sync, 0 when it succeeded (a pipe delivers
writes this small whole)."""


class Syncer(Protocol):
    """What the sequencer's group commit needs: one durable sync at a time."""

    async def sync(self) -> None: ...

    def close(self) -> None: ...


class SyncProcessExited(OSError):
    """The sync process is gone: nothing written since its last answer is known durable."""


_GONE = "the journal's sync process has exited"


class SyncProcess:
    """Makes a file durable on request, one sync at a time, from another process."""

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
        self._asked = 0
        self._answered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._exited = False
        self._closed = False

    async def sync(self) -> None:
        """Return once everything written to the file before the call is durable."""
        if self._exited:
            raise SyncProcessExited(_GONE)
        if self._waiter is not None:
            raise RuntimeError("one sync at a time")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            loop.add_reader(self._replies, self._on_reply)
        try:
            os.write(self._requests, b"s")
        except BrokenPipeError:
            self._exited = True
            raise SyncProcessExited(_GONE) from None
        self._asked += 1
        waiter = self._waiter = loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _on_reply(self) -> None:
        data = os.read(self._replies, _REPLY)
        waiter = self._waiter
        if len(data) < _REPLY:  # end of file: the child is gone
            self._exited = True
            if self._loop is not None:
                self._loop.remove_reader(self._replies)
            if waiter is not None and not waiter.done():
                waiter.set_exception(SyncProcessExited(_GONE))
            return
        self._answered += 1
        # An answer to a sync whose waiter was cancelled must not end a later one.
        if waiter is None or waiter.done() or self._answered != self._asked:
            return
        code = int.from_bytes(data, "little", signed=True)
        if code:
            waiter.set_exception(OSError(code, os.strerror(code)))
        else:
            waiter.set_result(None)

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
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
