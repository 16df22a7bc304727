"""``lob demo`` run headless: the exchange answers, the simulator trades, nothing is left behind."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from lob.sim.remote import parse_keys
from lob.sim.simulator import MarketSimulator, agent_accounts

LOB = [sys.executable, "-c", "from lob.cli.app import main; main()"]


def _start_demo(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [*LOB, "demo", "--headless", "--json", "--symbols", "AAPL,MSFT", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # as if started from a shell of its own
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=30)
        raise AssertionError(
            f"lob demo printed nothing: {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc, json.loads(line)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def _gone(pid: int) -> bool:
    """No process with this pid, and no process left in the group it led."""
    for probe in (os.kill, os.killpg):
        try:
            probe(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def _wait_for_trades(url: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        trades = (
            _get(f"{url}/trades/AAPL?limit=5")["trades"]
            + _get(f"{url}/trades/MSFT?limit=5")["trades"]
        )
        if trades:
            return trades
        time.sleep(0.25)
    raise AssertionError("the simulator made no trade")


def _multicast() -> str:
    return (
        f"239.255.{random.randint(1, 254)}.{random.randint(1, 254)}:{random.randint(31000, 39000)}"
    )


def test_demo_headless_serves_trades_and_ctrl_c_leaves_no_process() -> None:
    proc, info = _start_demo("--multicast", _multicast(), "--rate", "300")
    try:
        assert _get(f"{info['url']}/health")["status"] == "ok"
        assert [s["symbol"] for s in _get(f"{info['url']}/symbols")["symbols"]] == ["AAPL", "MSFT"]
        trades = _wait_for_trades(info["url"])
        assert all(t["qty"] > 0 for t in trades)
        assert set(info["pids"]) == {"server", "simulator"}
        assert not any(_gone(pid) for pid in info["pids"].values())
        data_dir = Path(info["data_dir"])
        assert (data_dir / "server.log").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert all(_gone(pid) for pid in info["pids"].values())
    assert not data_dir.exists()  # the temporary data directory is removed


def test_demo_duration_stops_by_itself_and_keep_data_keeps_the_journal(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    proc, info = _start_demo("--no-multicast", "--duration", "6", "--keep-data", str(kept))
    _wait_for_trades(info["url"])
    proc.wait(timeout=60)
    assert proc.returncode == 0
    assert all(_gone(pid) for pid in info["pids"].values())
    assert (kept / "journal.lob").stat().st_size > 0
    assert "sent" in (kept / "simulator.log").read_text()


def test_demo_sigterm_and_a_server_that_cannot_start(tmp_path: Path) -> None:
    proc, info = _start_demo("--no-multicast", "--no-sim")
    assert set(info["pids"]) == {"server"} and info["simulator"] is None
    assert _get(f"{info['url']}/book/AAPL")["bids"] == []
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == 0 and _gone(info["pids"]["server"])

    taken = tmp_path / "taken"
    first, first_info = _start_demo("--no-multicast", "--no-sim", "--keep-data", str(taken))
    try:
        second = subprocess.run(
            [*LOB, "demo", "--headless", "--no-multicast", "--no-sim", "--keep-data", str(taken)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert "lob serve exited" in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    assert _gone(first_info["pids"]["server"])


def test_demo_rejects_unknown_symbols_before_starting_anything() -> None:
    result = subprocess.run(
        [*LOB, "demo", "--headless", "--symbols", "NOTREAL"], capture_output=True, text=True
    )
    assert result.returncode == 2 and "--symbols" in result.stderr


def test_agent_accounts_cover_every_account_the_simulator_trades_as() -> None:
    seen: set[str] = set()
    sim = MarketSimulator(seed=3, symbols="AAPL,MSFT", rate=3_000)
    sim.on_events = lambda command, events: seen.add(command.account)  # type: ignore[attr-defined]
    sim.run(30.0)
    assert seen and seen <= set(agent_accounts())


def test_parse_keys_reads_account_key_pairs() -> None:
    assert parse_keys("a:k1,b:k2 c:k3,broken") == {"a": "k1", "b": "k2", "c": "k3"}


def test_default_feed_ports_move_past_ports_another_lob_holds() -> None:
    import socket

    from lob.cli.demo import _free_multicast

    first = _free_multicast()
    port = int(first.rpartition(":")[2])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", port + 1))  # as a running lob serve's retransmitter does
        second = _free_multicast()
    assert second.startswith("239.255.40.1:") and int(second.rpartition(":")[2]) > port


def test_demo_web_view_serves_the_workstation_and_its_app_processes_are_stopped() -> None:
    import asyncio
    import socket

    from websockets.asyncio.client import connect

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc, info = _start_demo("--no-multicast", "--no-sim", "--web", "--port", str(port))
    try:
        page = ""
        deadline = time.monotonic() + 60
        while "textual" not in page and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(info["web"], timeout=5) as answer:
                    page = answer.read().decode()
            except OSError:
                time.sleep(0.2)

        async def open_a_tab() -> None:  # what a browser does: textual-serve starts an app
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send(json.dumps(["resize", {"width": 100, "height": 30}]))
                await asyncio.wait_for(ws.recv(), 30)

        asyncio.run(open_a_tab())
        assert "textual" in page
        web_pid = info["pids"]["web view"]
        assert not _gone(web_pid)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert _gone(web_pid) and _gone(info["pids"]["server"])
