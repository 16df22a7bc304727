"""Durability: acknowledged orders survive a restart and a kill -9 of ``lob serve``."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lob.client.rest import LobApiError, RestClient
from lob.server.server import ExchangeServer
from tests.server.support import ALICE, BOB, KEYS, ManualClock, run, running


def test_restart_rebuilds_books_owners_and_order_status_exactly(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, fsync="batch") as server:
            async with RestClient(server.url, ALICE) as alice, RestClient(server.url, BOB) as bob:
                await alice.place("AAPL", "buy", 100, "227.00", id="day", tif="day")
                await alice.place("AAPL", "buy", 100, "226.90", id="gtc", tif="gtc")
                await bob.place("AAPL", "sell", 300, "227.40", id="s1")
                await alice.place("AAPL", "buy", 50, "227.40", id="taker")
                await alice.replace("gtc", price="226.95")
                await bob.place("MSFT", "sell", 10, "418.00", id="m")
                await bob.cancel("m")
            ex = server.exchange
            assert ex is not None
            before = ex.engine.state_hash(include_owners=True)
            seq = ex.engine.seq
            market_seq = ex.market.seq("AAPL")
        async with running(tmp_path, fsync="batch") as server:
            ex = server.exchange
            assert ex is not None
            assert ex.replayed == 7
            assert ex.engine.state_hash(include_owners=True) == before
            assert ex.engine.seq == seq and ex.market.seq("AAPL") == market_seq
            async with RestClient(server.url, ALICE) as alice, RestClient(server.url, BOB) as bob:
                assert {o["id"] for o in await alice.orders()} == {"day", "gtc"}
                assert (await alice.order("taker"))["status"] == "filled"
                assert (await bob.order("m"))["status"] == "cancelled"
                assert (await bob.order("s1"))["filled_qty"] == 50
                ack = await bob.place("AAPL", "sell", 100, "227.00", id="s2")
                assert [f["qty"] for f in ack["fills"]] == [100]  # the recovered DAY order

    run(body)


def _start(
    data_dir: Path, history: bool = False, extra: list[str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    args = [
        sys.executable,
        "-c",
        "from lob.cli.app import main; main()",
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--symbols",
        "AAPL,MSFT",
        "--no-multicast",
        "--fsync",
        "batch",
    ]
    if not history:
        args.append("--no-history")
    args += extra or []
    for account, key in KEYS:
        args += ["--api-key", f"{account}:{key}"]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, stdout=subprocess.DEVNULL)
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        match = re.search(r"REST\s+(http://\S+)", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise AssertionError("lob serve did not print its address")


def _stop(proc: subprocess.Popen[str], sig: int) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    proc.wait(timeout=30)
    if proc.stderr is not None:
        proc.stderr.close()


def test_kill_9_loses_no_acknowledged_order(tmp_path: Path) -> None:
    proc, url = _start(tmp_path)
    acked: dict[str, int] = {}

    async def trade() -> None:
        async def worker(n: int) -> None:
            async with RestClient(url, ALICE if n % 2 else BOB) as client:
                for i in range(10_000):
                    id = f"w{n}-{i}"
                    side = "buy" if (i + n) % 2 else "sell"
                    price = f"{227 + (i % 7) * 0.01 - (0.05 if side == 'buy' else -0.05):.2f}"
                    try:
                        await client.place("AAPL", side, 10 + i % 5, price, id=id, tif="gtc")
                    except (OSError, LobApiError):
                        return
                    acked[id] = 10 + i % 5

        tasks = [asyncio.create_task(worker(n)) for n in range(4)]
        while len(acked) < 300:
            await asyncio.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # mid-flight: some requests are never answered
        await asyncio.gather(*tasks)

    run(trade)
    _stop(proc, signal.SIGKILL)
    assert len(acked) >= 300
    proc, url = _start(tmp_path)
    try:

        async def check() -> None:
            async with RestClient(url, ALICE) as alice, RestClient(url, BOB) as bob:
                for id, qty in acked.items():
                    owner = alice if int(id[1]) % 2 else bob
                    status = await owner.order(id)
                    assert status["qty"] == qty, id

        run(check)
    finally:
        _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0


def test_history_catches_up_from_the_journal_after_kill_9(tmp_path: Path) -> None:
    import duckdb

    proc, url = _start(tmp_path, history=True)

    async def trade(rounds: int) -> None:
        async with RestClient(url, ALICE) as alice, RestClient(url, BOB) as bob:
            for i in range(rounds):
                await alice.place("MSFT", "sell", 10, "418.00", id=f"s{i}")
                await bob.place("MSFT", "buy", 10, "418.00", id=f"b{i}")

    run(lambda: trade(40))
    _stop(proc, signal.SIGKILL)  # the last history batch never reached DuckDB
    proc, url = _start(tmp_path, history=True)
    run(lambda: trade(5))
    _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    with duckdb.connect(str(tmp_path / "history.duckdb"), read_only=True) as con:
        count, distinct = con.execute(
            "SELECT count(*), count(DISTINCT trade_id) FROM trades"
        ).fetchone()  # type: ignore[misc]
        sessions = con.execute("SELECT count(DISTINCT session) FROM trades").fetchone()
    assert count == distinct == 45
    assert sessions == (1,)


def test_restart_after_a_day_with_crosses_and_a_halt_rebuilds_books_states_and_crosses(
    tmp_path: Path,
) -> None:
    second = 1_000_000_000
    day = 1_800_000_000 * second  # a whole multiple of the day's length
    clock = ManualClock(day + 4 * second)
    admin_key = "operator-key-01"
    options = {
        "calendar": "compressed",
        "day_length": 60 * second,
        "day_tick": 3600.0,
        "admin_key": admin_key,
        "fsync": "batch",
    }

    def at(server: ExchangeServer, seconds: int) -> None:
        clock.set(day + seconds * second)
        assert server.exchange is not None
        server.exchange.day.step()

    async def body() -> None:
        async with running(tmp_path, clock, **options) as server:
            ex = server.exchange
            assert ex is not None
            async with (
                RestClient(server.url, ALICE) as alice,
                RestClient(server.url, BOB) as bob,
                RestClient(server.url, admin_key) as admin,
            ):
                await alice.place("AAPL", "buy", 300, "227.60", id="b", tif="gtc")
                await bob.place("AAPL", "sell", 100, "227.40", id="s")
                await bob.place("MSFT", "sell", 10, "418.00", id="m")
                at(server, 13)
                await bob.place("AAPL", "sell", 50, id="moo", type="moo")
                at(server, 19)  # the opening cross
                await admin.set_state("MSFT", "halted")
                await admin.set_state("MSFT", "quote_only")
                await alice.place("MSFT", "buy", 10, "418.10", id="mb")
                at(server, 21)  # imbalance information of the halt
                await admin.set_state("MSFT", "continuous")  # the halt cross
                await alice.place("AAPL", "buy", 5, "227.00", id="day")
                at(server, 50)  # the closing auction
                await _until_idle(ex)
            before = ex.engine.state_hash(include_owners=True)
            seq = ex.engine.seq
            states = {s: ex.engine.book(s).state for s in ex.engine.symbols}
            crosses = {s: ex.trading.status(s)["last_cross"] for s in ex.engine.symbols}
            records = ex.journal.records
        async with running(tmp_path, clock, **options) as server:
            ex = server.exchange
            assert ex is not None
            assert ex.replayed == records
            assert ex.engine.state_hash(include_owners=True) == before
            assert {s: ex.engine.book(s).state for s in ex.engine.symbols} == states
            assert {s: ex.trading.status(s)["last_cross"] for s in ex.engine.symbols} == crosses
            assert crosses["AAPL"]["cross_type"] == "opening"
            assert crosses["MSFT"]["cross_type"] == "halt"
            assert ex.engine.seq >= seq  # the restart's own advance may publish imbalance

    run(body)


async def _until_idle(ex: Any) -> None:
    """Wait until every journaled input (the last advance too) has been applied."""
    while ex.sequencer.queued or ex.day.pending:
        await asyncio.sleep(0.01)
