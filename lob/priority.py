"""A process's CPU priority: helpers give way to the server, the server wakes promptly.

Why more than ``os.nice``: Linux with autogroup scheduling (the default on
many distributions) first shares the CPU between autogroups, one per session,
and weighs each group by the group's own niceness; a process's niceness only
counts against the other processes of its session. A helper that must give
way to a server in another session (the history process, the benchmarks'
market-data subscribers) runs in a session of its own and lowers that
session's group as well as itself.

Why time slices: Linux's EEVDF scheduler (6.6 on) lets a task that wakes up
take the CPU from the one running only when the newcomer's deadline comes
first, and by default every task asks for the same slice (0.7 ms times
1 + log2 of the CPUs: 1.4 ms on two). A server that wakes for an order while
another process has just started its slice can wait for that slice to end.
Since 6.12 a task may ask for a shorter slice (``sched_setattr``'s
``sched_runtime``); a woken task with a shorter slice than the one running
takes the CPU at once. The slice sets when a task is served, not how much CPU
it gets: its share is still its weight's.

Why a core of its own: on a machine with few cores the sequencer shares
them with the history process, the clients and whatever else runs. Kept to
one CPU while the helpers keep to the others (``lob serve --cpu``), it
never waits behind them for that CPU and never moves off the caches it has
warmed; the helpers still share the remaining CPUs among themselves.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "SHORT_SLICE",
    "allowed_cpus",
    "ask_short_slices",
    "give_way",
    "keep_to",
    "time_slice",
]

SHORT_SLICE = 100_000
"""Nanoseconds: the shortest slice Linux grants (0.1 ms)."""

_SCHED_ATTR = struct.Struct("IIQiIQQQII")
"""``struct sched_attr`` as of Linux 5.3 (size, policy, flags, nice, priority,
runtime, deadline, period, util_min, util_max)."""

_SYSCALLS = {"x86_64": (314, 315), "aarch64": (274, 275)}
"""Machine -> (sched_setattr, sched_getattr) system call numbers."""


def give_way(niceness: int, *, own_session: bool = False) -> None:
    """Lower this process's priority by ``niceness``, and its autogroup's.

    ``own_session`` first moves the process into a new session (a new
    autogroup), so that lowering the group leaves the processes it came from
    alone; a process started with ``start_new_session`` has one already. A
    short slice inherited from the server goes back to the default: a helper
    that gives way has no business taking the CPU on every wake-up.
    """
    if own_session:
        with contextlib.suppress(OSError):  # already a session leader
            os.setsid()
    with contextlib.suppress(OSError):
        os.nice(niceness)
    # Not Linux, or no autogroup scheduling: the process's own niceness is all there is.
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(f"{niceness}\n")
    _set_runtime(0)


def ask_short_slices(nanoseconds: int = SHORT_SLICE) -> bool:
    """Ask for ``nanoseconds`` slices for this thread; True if the kernel took the request.

    Threads and processes started afterwards inherit the slice (a helper
    that calls ``give_way`` drops it). Kernels before 6.12 accept the request
    and keep their default slice; ``time_slice`` tells what was granted.
    """
    return _set_runtime(nanoseconds)


def allowed_cpus(pid: int = 0) -> frozenset[int] | None:
    """The CPUs process ``pid`` (0: this one) may run on, or None where the OS does not say."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return frozenset(os.sched_getaffinity(pid))


def keep_to(cpus: Iterable[int], pid: int = 0) -> None:
    """Keep every thread of process ``pid`` (0: this one) to ``cpus``.

    Threads and processes it starts afterwards inherit the set. A thread that
    exits meanwhile is skipped; any other refusal (a CPU not allowed, not
    Linux) raises ``OSError``.
    """
    if not hasattr(os, "sched_setaffinity"):
        raise OSError("this system does not let a process choose its CPUs")
    wanted = set(cpus)
    tasks = Path(f"/proc/{pid or 'self'}/task")
    try:
        threads = [int(task.name) for task in tasks.iterdir()]
    except OSError:
        threads = [pid]
    for thread in threads:
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(thread, wanted)


def time_slice(pid: int = 0) -> int | None:
    """The slice in nanoseconds the scheduler gives thread ``pid`` (0: this one), if it says."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid or 'thread-self'}/sched").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "se.slice":
                return int(value)
    return None


def _set_runtime(nanoseconds: int) -> bool:
    """Set this thread's ``sched_runtime``, keeping its policy and niceness (0: the default)."""
    numbers = _SYSCALLS.get(platform.machine()) if sys.platform == "linux" else None
    if numbers is None:
        return False
    set_call, get_call = numbers
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    attr = ctypes.create_string_buffer(_SCHED_ATTR.size)
    if libc.syscall(get_call, 0, attr, _SCHED_ATTR.size, 0) != 0:
        return False
    _, policy, _, nice, priority, *_ = _SCHED_ATTR.unpack(attr.raw)
    wanted = _SCHED_ATTR.pack(_SCHED_ATTR.size, policy, 0, nice, priority, nanoseconds, 0, 0, 0, 0)
    attr = ctypes.create_string_buffer(wanted, _SCHED_ATTR.size)
    return bool(libc.syscall(set_call, 0, attr, 0) == 0)
