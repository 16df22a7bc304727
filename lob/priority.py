"""Lowering a helper process's CPU priority so that it gives way to the server.

Why more than ``os.nice``: Linux with autogroup scheduling (the default on
many distributions) first shares the CPU between autogroups, one per session,
and weighs each group by the group's own niceness; a process's niceness only
counts against the other processes of its session. A helper that must give
way to a server in another session (the history process, the benchmarks'
market-data subscribers) runs in a session of its own and lowers that
session's group as well as itself.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["give_way"]


def give_way(niceness: int, *, own_session: bool = False) -> None:
    """Lower this process's priority by ``niceness``, and its autogroup's.

    ``own_session`` first moves the process into a new session (a new
    autogroup), so that lowering the group leaves the processes it came from
    alone; a process started with ``start_new_session`` has one already.
    """
    if own_session:
        with contextlib.suppress(OSError):  # already a session leader
            os.setsid()
    with contextlib.suppress(OSError):
        os.nice(niceness)
    # Not Linux, or no autogroup scheduling: the process's own niceness is all there is.
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(f"{niceness}\n")
