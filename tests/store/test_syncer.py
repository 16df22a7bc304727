"""The journal's sync process: syncs on request, reports the disk's errors, outlives signals
meant for the server and not the server itself."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lob.store.syncer import SYNC_PROCESS_NAME, SyncProcess, SyncProcessExited


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[tuple[int, SyncProcess]]:
    """A file's descriptor and a sync process for it; the process is stopped afterwards."""
    fd = os.open(tmp_path / "file", os.O_RDWR | os.O_CREAT, 0o600)
    syncer = SyncProcess(fd)
    try:
        yield fd, syncer
    finally:
        with contextlib.suppress(ProcessLookupError):
            syncer.process.send_signal(signal.SIGCONT)
        syncer.close()
        os.close(fd)


def test_sync_answers_each_request_and_close_ends_the_child(
    tmp_path: Path, synced: tuple[int, SyncProcess]
) -> None:
    fd, syncer = synced

    async def body() -> None:
        for i in range(20):
            os.write(fd, b"record %d\n" % i)
            await syncer.sync()

    asyncio.run(body())
    assert syncer.process.poll() is None
    assert syncer.process.args[4] == SYNC_PROCESS_NAME  # type: ignore[index]
    syncer.close()
    assert syncer.process.returncode == 0
    assert (tmp_path / "file").read_bytes().count(b"record") == 20


def test_a_failed_sync_raises_the_disks_error(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()  # fdatasync on a pipe fails with EINVAL
    syncer = SyncProcess(write_end)
    try:

        async def body() -> None:
            with pytest.raises(OSError) as failure:
                await syncer.sync()
            assert failure.value.errno == errno.EINVAL
            assert not isinstance(failure.value, SyncProcessExited)
            with pytest.raises(OSError):  # the child is still there to answer
                await syncer.sync()

        asyncio.run(body())
    finally:
        syncer.close()
        os.close(read_end)
        os.close(write_end)


def test_a_dead_child_fails_the_waiting_sync_and_every_later_one(
    synced: tuple[int, SyncProcess],
) -> None:
    _, syncer = synced

    async def body() -> None:
        await syncer.sync()
        syncer.process.kill()
        syncer.process.wait()
        with pytest.raises(SyncProcessExited):
            await syncer.sync()
        with pytest.raises(SyncProcessExited):
            await syncer.sync()

    asyncio.run(body())


def test_the_child_ignores_sigterm_and_sigint_meant_for_a_stopping_server(
    synced: tuple[int, SyncProcess],
) -> None:
    fd, syncer = synced

    async def body() -> None:
        await syncer.sync()  # the child is up and has set its signal handling
        for number in (signal.SIGTERM, signal.SIGINT):
            syncer.process.send_signal(number)
        await asyncio.sleep(0.05)
        os.write(fd, b"after the signals\n")
        await syncer.sync()

    asyncio.run(body())
    assert syncer.process.poll() is None


def test_the_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    """kill -9 of the server leaves no sync process behind: its request pipe closes."""
    code = (
        "import os, sys, asyncio; from lob.store.syncer import SyncProcess\n"
        f"fd = os.open({str(tmp_path / 'file')!r}, os.O_RDWR | os.O_CREAT)\n"
        "s = SyncProcess(fd)\n"
        "asyncio.run(s.sync())\n"
        "print(s.process.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        os.kill(child, 0)  # alive
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.01)
        assert not _alive(child)
    finally:
        parent.kill()
        parent.wait()
        if parent.stdin is not None:
            parent.stdin.close()
        if parent.stdout is not None:
            parent.stdout.close()


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, reparented and not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_answers_go_to_requests_in_order_past_a_cancelled_sync(
    synced: tuple[int, SyncProcess],
) -> None:
    """A caller that stops waiting keeps its place in line: its late answer is
    dropped quietly and the next request gets the next answer."""
    _, syncer = synced

    async def body() -> None:
        loop = asyncio.get_running_loop()
        errors: list[object] = []
        loop.set_exception_handler(lambda _, context: errors.append(context))
        await syncer.sync()
        syncer.process.send_signal(signal.SIGSTOP)  # hold every answer back
        heard: list[tuple[str, Exception | None]] = []
        syncer.request(lambda exc: heard.append(("first", exc)))
        cancelled = asyncio.create_task(syncer.sync())
        await asyncio.sleep(0.01)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        last = loop.create_future()
        syncer.request(lambda exc: (heard.append(("last", exc)), last.set_result(None)))
        await asyncio.sleep(0.05)
        assert heard == []  # nothing answered while the child is stopped
        syncer.process.send_signal(signal.SIGCONT)
        await asyncio.wait_for(last, 10)
        assert heard == [("first", None), ("last", None)]
        assert not syncer._waiting and errors == []

    asyncio.run(body())
