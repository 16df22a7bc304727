"""``lob.priority``: a helper's priority and its group's (its parent's left alone), time slices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lob.priority import SHORT_SLICE

AUTOGROUP = Path("/proc/self/autogroup")

_CHILD = """
import json, os
from pathlib import Path
from lob.priority import give_way
before = os.nice(0)
give_way(5, own_session={own})
group = Path("/proc/self/autogroup")
print(json.dumps({{
    "raised": os.nice(0) - before,
    "leader": os.getsid(0) == os.getpid(),
    "group": group.read_text() if group.exists() else None,
}}))
"""


def _child(own_session: bool) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD.format(own=own_session)],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=not own_session,  # like the history process's Popen
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


@pytest.mark.parametrize("own_session", [True, False], ids=["moves itself", "started apart"])
def test_give_way_lowers_the_process_and_its_own_autogroup_not_the_parents(
    own_session: bool,
) -> None:
    parent_group = AUTOGROUP.read_text() if AUTOGROUP.exists() else None
    answer = _child(own_session)
    assert answer["leader"] is True  # a session, hence an autogroup, of its own
    if os.nice(0) + 5 <= 19:
        assert answer["raised"] == 5
    if parent_group is not None:
        assert str(answer["group"]).split()[-2:] == ["nice", "5"]
        assert (AUTOGROUP.read_text() if AUTOGROUP.exists() else None) == parent_group


_SLICES = """
import json, subprocess, sys
from lob.priority import SHORT_SLICE, ask_short_slices, give_way, time_slice
default = time_slice()
granted = ask_short_slices()
own = time_slice()
child = subprocess.run(
    [sys.executable, "-c", "import json, lob.priority as p; print(json.dumps(p.time_slice()))"],
    capture_output=True, text=True, check=True,
).stdout.strip()
give_way(0)
print(json.dumps({"default": default, "granted": granted, "own": own,
                  "child": json.loads(child), "after": time_slice()}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="Linux's scheduler")
def test_short_slices_are_inherited_and_dropped_by_giving_way() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SLICES],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # give_way(0) sets its session's group: not ours
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    if answer["default"] is None or answer["own"] == answer["default"]:
        pytest.skip("this kernel keeps its default time slice (Linux 6.12 grants shorter ones)")
    assert answer["granted"] is True
    assert answer["own"] == SHORT_SLICE
    assert answer["child"] == SHORT_SLICE  # a process started afterwards inherits it
    assert answer["after"] == answer["default"]  # a helper that gives way drops it


_PINNED = """
import json, os, subprocess, sys, threading
from pathlib import Path
from lob.priority import allowed_cpus, keep_to
before = threading.Event()
threading.Thread(target=before.wait, daemon=True).start()  # started before the call
cpu = max(allowed_cpus())
keep_to((cpu,))
after = threading.Event()
threading.Thread(target=after.wait, daemon=True).start()
threads = [int(t.name) for t in Path("/proc/self/task").iterdir()]
child = subprocess.run(
    [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
    capture_output=True, text=True, check=True,
).stdout.strip()
print(json.dumps({"cpu": cpu, "threads": [sorted(os.sched_getaffinity(t)) for t in threads],
                  "child": json.loads(child)}))
"""


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity")
def test_keep_to_pins_every_thread_and_what_starts_afterwards() -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")
    result = subprocess.run(
        [sys.executable, "-c", _PINNED], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    cpu = answer["cpu"]
    assert len(answer["threads"]) == 3  # the main thread, one started before, one after
    assert answer["threads"] == [[cpu]] * 3
    assert answer["child"] == [cpu]  # a process started afterwards inherits the set
    assert os.sched_getaffinity(0) != {cpu}  # the caller's parent is left alone


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity")
def test_keep_to_another_process_and_a_cpu_it_may_not_use() -> None:
    from lob.priority import allowed_cpus, keep_to

    allowed = allowed_cpus()
    assert allowed == frozenset(os.sched_getaffinity(0))
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, threading; threading.Thread(target=sys.stdin.read)"
            ".start(); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
    )
    try:
        keep_to((min(allowed),), child.pid)
        tasks = [int(t.name) for t in Path(f"/proc/{child.pid}/task").iterdir()]
        assert tasks and all(os.sched_getaffinity(t) == {min(allowed)} for t in tasks)
        with pytest.raises(OSError):
            keep_to((100_000,), child.pid)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
