"""The server's side of the history process: start it, ask it, stop it, over a socket pair.

Why a channel: DuckDB lets one process at a time open a file for writing, and
the history process (``lob.server.history_process``) owns ``history.duckdb``,
so the server's history and analytics endpoints are answered there. The
server talks to it over a Unix socket pair made at spawn: the child inherits
one end (its only link to the server), the server reads the other with
asyncio, so a query never blocks the event loop.

Frames are ``u32 length (big-endian) | pickle``, each a tuple. The server
sends requests ``(kind, id, ...)``; the child answers each with
``("reply", id, ok, value)``:

- ``("setup", id, EngineSetup)``: open the history (a new session, earlier
  ``lob serve`` sessions dropped) and follow the journal; the value is the
  session number.
- ``("query", id, target, path, params)``: answer a GET of
  ``lob.analytics.api`` once the journal is applied up to byte ``target``
  (the journal's size when the request arrived: read-your-writes); the value
  is ``(status, body)``.
- ``("sync", id, target)``: wait until applied up to ``target`` and flushed.
- ``("status", id)``: how far the child has got, at once.
- ``("stop", id, target)``: catch up to ``target``, flush, close, exit.

``ok`` false means the child could not do it; the value is the reason. The
socket closing means the other side is gone: the child exits when the server
dies (even by kill -9), and the server's pending requests fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pickle
import socket
import struct
import subprocess
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from lob.server.replica import EngineSetup

__all__ = ["FrameBuffer", "HistoryProcess", "HistoryUnavailable", "frame"]

_LENGTH = struct.Struct(">I")

NICENESS = 10
"""How much lower the history process's CPU priority is than the server's. The history may
trail (queries wait for it); matching must not wait for the history. When both want a core,
Linux then gives the server about nine tenths of it; when a core is free, the history runs
at full speed."""


def frame(message: tuple[Any, ...]) -> bytes:
    """One framed message."""
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(payload)) + payload


class FrameBuffer:
    """Bytes in, whole messages out (for a blocking reader)."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> list[tuple[Any, ...]]:
        buf = self._data
        buf += data
        out: list[tuple[Any, ...]] = []
        pos = 0
        while len(buf) - pos >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(buf, pos)
            end = pos + _LENGTH.size + length
            if end > len(buf):
                break
            out.append(pickle.loads(buf[pos + _LENGTH.size : end]))
            pos = end
        del buf[:pos]
        return out


def _child_environment() -> dict[str, str]:
    """This environment, with the directory lob is imported from first on ``PYTHONPATH``."""
    import lob

    root = str(Path(lob.__file__).resolve().parent.parent)
    env = dict(os.environ)
    paths = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = root + (os.pathsep + paths if paths else "")
    return env


class HistoryUnavailable(RuntimeError):
    """The history process cannot answer: not running, failed, too far behind, or gone."""


class HistoryProcess:
    """The server's handle on its history process.

    >>> # proc = await HistoryProcess.spawn(db_path, journal_path)
    >>> # session = await proc.setup(EngineSetup(...))
    >>> # status, body = await proc.query("/analytics/activity", {}, journal.size)
    >>> # await proc.stop(journal.size)
    """

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.popen = popen
        self.pid = popen.pid
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._gone: str | None = None
        self._task = asyncio.get_running_loop().create_task(self._read_replies())
        self.ready = False
        """True once ``setup`` succeeded."""

    @classmethod
    async def spawn(
        cls,
        db: Path,
        journal: Path,
        source: str = "lob serve",
        *,
        niceness: int = NICENESS,
        cpus: Collection[int] = (),
        stderr: Any = None,
    ) -> HistoryProcess:
        """Start ``python -m lob.server.history_process`` with one end of a socket pair.

        ``cpus``: the CPUs it keeps to (empty: those it inherits).
        """
        ours, theirs = socket.socketpair()
        try:
            popen = subprocess.Popen(
                [
                    sys.executable,
                    "-P",  # not the working directory's modules: it may hold anything
                    "-m",
                    "lob.server.history_process",
                    "--fd",
                    str(theirs.fileno()),
                    "--db",
                    str(db),
                    "--journal",
                    str(journal),
                    "--source",
                    source,
                    "--nice",
                    str(niceness),
                    *(("--cpus", ",".join(map(str, sorted(cpus)))) if cpus else ()),
                ],
                pass_fds=(theirs.fileno(),),
                env=_child_environment(),
                stdin=subprocess.DEVNULL,
                stderr=stderr,
                # Its own session: a Ctrl-C at the terminal reaches the server, which
                # then stops the history process after it has caught up.
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        try:
            reader, writer = await asyncio.open_unix_connection(sock=ours)
        except BaseException:
            ours.close()
            popen.kill()
            popen.wait()
            raise
        return cls(popen, reader, writer)

    # -- requests --------------------------------------------------------------

    async def setup(self, setup: EngineSetup, timeout: float = 60.0) -> int:
        """Hand the child the engine's set-up; it opens the history: return its session."""
        session = int(await self._request(("setup", setup), timeout))
        self.ready = True
        return session

    async def query(
        self, path: str, params: Mapping[str, str], target: int, timeout: float = 30.0
    ) -> tuple[int, dict[str, Any]]:
        """``lob.analytics.api`` answer to a GET, seeing the journal up to byte ``target``."""
        status, body = await self._request(("query", target, path, dict(params)), timeout)
        return int(status), body

    async def sync(self, target: int, timeout: float = 600.0) -> dict[str, int]:
        """Wait until the history holds the journal up to byte ``target``, flushed."""
        answer: dict[str, int] = await self._request(("sync", target), timeout)
        return answer

    async def status(self, timeout: float = 10.0) -> dict[str, int]:
        """How far the child has got (``offset``, ``records``), answered at once."""
        answer: dict[str, int] = await self._request(("status",), timeout)
        return answer

    async def exited(self) -> None:
        """Wait until the channel is gone: the child exited (or was stopped)."""
        await asyncio.wait({self._task})

    async def stop(self, target: int, timeout: float = 600.0) -> None:
        """Let the child catch up to ``target``, flush and exit; kill it if it cannot.

        Without a channel (never set up, or its reader is gone, as when the
        event loop shuts down at once) the child cannot be asked: closing our
        end makes it exit with what it has applied, which the next start
        rebuilds from the journal anyway.
        """
        try:
            if self._gone is None and self.ready:
                await self._request(("stop", target), timeout)
            else:
                await self._close_channel()
            await asyncio.get_running_loop().run_in_executor(None, self.popen.wait, 10.0)
        except (TimeoutError, HistoryUnavailable, subprocess.TimeoutExpired):
            self.kill()
            raise
        finally:
            await self._close_channel()

    def kill(self) -> None:
        """Kill the child at once and reap it (for when a graceful stop is not possible)."""
        if self.popen.poll() is None:
            self.popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10.0)

    async def _request(self, message: tuple[Any, ...], timeout: float) -> Any:
        if self._gone is not None:
            raise HistoryUnavailable(self._gone)
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            self._writer.write(frame((message[0], request_id, *message[1:])))
            await self._writer.drain()
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise HistoryUnavailable(
                f"the history process did not answer within {timeout:g} s"
            ) from None
        except (ConnectionError, OSError) as exc:
            raise HistoryUnavailable(f"the history process is gone: {exc}") from None
        finally:
            self._pending.pop(request_id, None)

    async def _read_replies(self) -> None:
        try:
            while True:
                head = await self._reader.readexactly(_LENGTH.size)
                (length,) = _LENGTH.unpack(head)
                _, request_id, ok, value = pickle.loads(await self._reader.readexactly(length))
                future = self._pending.get(request_id)
                if future is None or future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(HistoryUnavailable(str(value)))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self._gone = "the history process has exited"
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(HistoryUnavailable(self._gone))

    async def _close_channel(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
        if not self._task.done():
            self._task.cancel()
            await asyncio.wait({self._task})  # a cancel of the caller itself still propagates
