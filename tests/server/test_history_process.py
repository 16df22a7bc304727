"""The history process: ``lob serve``'s DuckDB history built from its journal in a child process.

Checked against what the server's engine emitted live (the rows an in-process
writer makes of those events), across a restart that adds a symbol, with the
trading day's session inputs in the journal; queries must see every order
acknowledged before them and answer the same bytes as an in-process answer;
the child must go when the server goes, even by kill -9, and not exist with
``--no-history``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import duckdb

from lob.client.rest import LobApiError, RestClient
from lob.server.history_channel import HistoryProcess
from lob.server.replica import EngineSetup, Replica
from lob.server.server import ExchangeServer
from lob.store.history import TABLES, HistoryWriter
from lob.store.journal import JOURNAL_NAME, MAGIC, Journal, encode_record
from lob.store.journal_tail import JournalTail
from tests.server.support import ALICE, BOB, ManualClock, run, running
from tests.server.test_durability import _start, _stop

SECOND = 1_000_000_000
ADMIN = "operator-key-01"


def _rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every event table's rows without their session, in one order."""
    return {
        table: con.execute(f"SELECT * EXCLUDE (session) FROM {table} ORDER BY ALL").fetchall()
        for table in TABLES
    }


def _record_live(server: ExchangeServer, writer: HistoryWriter) -> None:
    """Hand every event the server's engine emits from now on to ``writer``."""
    assert server.exchange is not None
    server.exchange.sequencer.listeners.append(writer.write_events)


async def _until_idle(server: ExchangeServer) -> None:
    ex = server.exchange
    assert ex is not None
    while ex.sequencer.queued or ex.day.pending:
        await asyncio.sleep(0.01)


def test_history_process_writes_the_rows_of_the_live_events_across_a_restart(
    tmp_path: Path,
) -> None:
    """Two runs (a compressed day with crosses, a halt and LULD bands; the second adds a
    symbol): the history equals an in-process writer fed the live events of both."""
    day = 1_800_000_000 * SECOND
    clock = ManualClock(day + 4 * SECOND)
    options: dict[str, Any] = {
        "calendar": "compressed",
        "day_length": 60 * SECOND,
        "day_tick": 3600.0,
        "admin_key": ADMIN,
        "luld": True,
        "fsync": "batch",
        "history": True,
    }
    expected = HistoryWriter(":memory:")

    def at(server: ExchangeServer, seconds: int) -> None:
        clock.set(day + seconds * SECOND)
        assert server.exchange is not None
        server.exchange.day.step()

    async def first_run() -> None:
        async with running(tmp_path, clock, symbols="AAPL,MSFT", **options) as server:
            _record_live(server, expected)
            async with (
                RestClient(server.url, ALICE) as alice,
                RestClient(server.url, BOB) as bob,
                RestClient(server.url, ADMIN) as admin,
            ):
                await alice.place("AAPL", "buy", 300, "227.60", id="b", tif="gtc")
                await bob.place("AAPL", "sell", 100, "227.40", id="s")
                await bob.place("MSFT", "sell", 10, "418.00", id="m")
                at(server, 13)
                await bob.place("AAPL", "sell", 50, id="moo", type="moo")
                at(server, 19)  # the opening cross
                await alice.place("AAPL", "buy", 40, "227.50", id="b2")
                await bob.place("AAPL", "sell", 60, "227.50", id="s2")
                await alice.replace("b", qty=200)
                await admin.set_state("MSFT", "halted")
                await admin.set_state("MSFT", "quote_only")
                await alice.place("MSFT", "buy", 10, "418.10", id="mb")
                at(server, 21)
                await admin.set_state("MSFT", "continuous")  # the halt cross
                await _until_idle(server)

    run(first_run)
    symbols = json.loads((tmp_path / "symbols.json").read_text())["symbols"]
    before = tuple((row["symbol"], row["reference_price"]) for row in symbols)
    replay_end = (tmp_path / JOURNAL_NAME).stat().st_size
    final: dict[str, Any] = {}

    async def second_run() -> None:
        async with running(tmp_path, clock, symbols="AAPL,MSFT,PNNY", **options) as server:
            _record_live(server, expected)
            ex = server.exchange
            assert ex is not None
            async with RestClient(server.url, ALICE) as alice, RestClient(server.url, BOB) as bob:
                await bob.place("AAPL", "sell", 30, "227.45", id="s3")
                await alice.cancel("b")
                pnny = ex.symbol_info("PNNY")["reference_price"]
                await alice.place("PNNY", "buy", 100, pnny, id="p")
                at(server, 50)  # the closing auction
                await _until_idle(server)
                trades = await alice.call("GET", "/history/trades")
                final["trades"] = len(trades["trades"])
            final["hash"] = ex.engine.state_hash(include_owners=True)
            final["seq"] = ex.engine.seq
            final["pnny"] = ex.reference["PNNY"]

    run(second_run)
    assert final["trades"] > 0
    with duckdb.connect(str(tmp_path / "history.duckdb"), read_only=True) as con:
        got = _rows(con)
        sessions = con.execute("SELECT DISTINCT session FROM trades").fetchall()
    expected.flush()
    want = _rows(expected.reader())
    assert {t: len(r) for t, r in got.items()} == {t: len(r) for t, r in want.items()}
    assert got == want
    assert len(got["trades"]) == final["trades"] and len(sessions) == 1

    # The replica set up like the second run's engine ends where that engine did.
    setup = EngineSetup(before, replay_end, (("PNNY", final["pnny"]),))
    replica = Replica(setup)
    with JournalTail(tmp_path / JOURNAL_NAME) as tail:
        while records := tail.read():
            replica.apply(records, lambda events: None)
    assert replica.engine.state_hash(include_owners=True) == final["hash"]
    assert replica.engine.seq == final["seq"]


def test_history_queries_see_every_order_acknowledged_before_them(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path, fsync="batch", history=True) as server,
            RestClient(server.url, ALICE) as alice,
            RestClient(server.url, BOB) as bob,
        ):
            for i in range(12):
                await alice.place("AAPL", "sell", 10 + i, "227.00", id=f"s{i}")
                await bob.place("AAPL", "buy", 10 + i, "227.00", id=f"b{i}")
                # No waiting: the query must see both orders and their trade.
                page = await alice.call("GET", "/history/trades", query={"symbol": "AAPL"})
                assert [t["qty"] for t in page["trades"]] == [10 + k for k in range(i + 1)]
                orders = await alice.call("GET", "/history/orders")
                assert [o["id"] for o in orders["orders"]] == [f"s{k}" for k in range(i + 1)]

    run(body)


def test_a_killed_history_process_is_replaced_and_rebuilds_every_trade(tmp_path: Path) -> None:
    import os

    async def body() -> None:
        async with (
            running(tmp_path, fsync="batch", history=True) as server,
            RestClient(server.url, ALICE) as alice,
            RestClient(server.url, BOB) as bob,
        ):
            history = server.history
            assert history is not None
            for i in range(5):
                await alice.place("AAPL", "sell", 10, "227.00", id=f"s{i}")
                await bob.place("AAPL", "buy", 10, "227.00", id=f"b{i}")
            first = history.process.pid
            os.kill(first, signal.SIGKILL)
            await bob.place("AAPL", "sell", 7, "227.00", id="after")
            await alice.place("AAPL", "buy", 7, "227.00", id="after")
            deadline = time.monotonic() + 30
            while True:
                try:
                    page = await alice.call("GET", "/history/trades", query={"symbol": "AAPL"})
                    break
                except LobApiError as exc:  # 503 until the new process is up
                    assert exc.code == "unavailable", exc
                    assert time.monotonic() < deadline, "no new history process"
                    await asyncio.sleep(0.05)
            assert [t["qty"] for t in page["trades"]] == [10] * 5 + [7]
            assert history.process.pid != first and history.restarts == 1
            assert not _is_history_process(first)

    run(body)


def test_history_answers_are_the_bytes_an_in_process_answer_gives(tmp_path: Path) -> None:
    from lob.analytics.api import handle
    from lob.analytics.source import DuckDBSource
    from lob.server.http import json_response

    asked = {
        "/analytics/AAPL/vwap": ("/analytics/vwap/AAPL", {}),
        "/analytics/AAPL/bars?interval=1s": ("/analytics/bars/AAPL", {"interval": "1s"}),
        "/analytics/activity": ("/analytics/activity", {}),
        "/history/trades?symbol=AAPL&limit=2": (
            "/history/trades",
            {"symbol": "AAPL", "limit": "2"},
        ),
        "/analytics/ZZZZ/vwap": None,  # refused by the server itself
        "/analytics/AAPL/bars?interval=3d": ("/analytics/bars/AAPL", {"interval": "3d"}),
    }
    answers: dict[str, tuple[int, bytes]] = {}

    async def body() -> None:
        async with (
            running(tmp_path, fsync="batch", history=True) as server,
            RestClient(server.url, ALICE) as alice,
            RestClient(server.url, BOB) as bob,
        ):
            for i in range(3):
                await alice.place("AAPL", "sell", 5, f"227.0{i}", id=f"s{i}")
                await bob.place("AAPL", "buy", 5, f"227.0{i}", id=f"b{i}")
            for path in asked:
                status, data, _ = await alice._http.request("GET", path, None, {})
                answers[path] = (status, data)

    run(body)
    source = DuckDBSource(tmp_path / "history.duckdb")
    try:
        for path, question in asked.items():
            if question is None:
                continue
            status, answer = handle(source, *question)
            if status >= 400:
                want = json_response({"error": answer["error"]}, status)
            else:
                want = json_response(answer, status)
            assert answers[path] == (want.status, want.body), path
    finally:
        source.close()


def test_history_process_exits_when_the_server_end_of_its_channel_closes(
    tmp_path: Path,
) -> None:
    journal = Journal.open(tmp_path)
    journal.write(encode_record(_sell(), 1))
    journal.close()

    async def body() -> int | None:
        process = await HistoryProcess.spawn(tmp_path / "history.duckdb", tmp_path / JOURNAL_NAME)
        try:
            await process.setup(EngineSetup((("AAPL", None),), len(MAGIC), ()))
            await process.sync(journal.size)
            process._writer.close()  # as if the server died: the socket closes
            deadline = time.monotonic() + 15
            while process.popen.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return process.popen.poll()
        finally:
            process.kill()

    assert run(body) == 0
    with duckdb.connect(str(tmp_path / "history.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM orders").fetchone() == (1,)


def test_history_follower_applies_a_torn_record_once_it_is_complete(tmp_path: Path) -> None:
    from lob.engine.commands import NewOrder
    from lob.engine.types import Side
    from lob.server.history_process import HistoryFollower

    journal = Journal.open(tmp_path)
    buy = encode_record(NewOrder("bob", "b", "AAPL", Side.BUY, 10, 2_270_000), 2)
    journal.write(encode_record(_sell(), 1) + buy[:9], 1)  # the buy is half written
    writer = HistoryWriter(":memory:")
    setup = EngineSetup((("AAPL", None),), len(MAGIC), ())  # started on an empty journal
    follower = HistoryFollower(writer, tmp_path / JOURNAL_NAME, setup)
    counts = "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM trades)"
    assert follower.step() == 1
    follower.flush()
    assert writer.reader().execute(counts).fetchone() == (1, 0)
    assert follower.step() == 0  # not written yet: nothing taken, nothing skipped
    journal.write(buy[9:], 0)
    assert follower.step() == 1
    follower.flush()
    assert writer.reader().execute(counts).fetchone() == (2, 1)
    assert follower.offset == journal.size
    follower.close()
    journal.close()


def test_history_follower_flushes_at_most_once_a_second_caught_up_or_not(tmp_path: Path) -> None:
    """Each flush is a DuckDB commit that syncs on the journal's disk: few of them."""
    from lob.server.history_process import FLUSH_EVERY, HistoryFollower

    journal = Journal.open(tmp_path)
    journal.write(encode_record(_sell(), 1), 1)
    writer = HistoryWriter(":memory:")
    setup = EngineSetup((("AAPL", None),), len(MAGIC), ())
    follower = HistoryFollower(writer, tmp_path / JOURNAL_NAME, setup)
    orders = "SELECT count(*) FROM orders"
    assert follower.step() == 1
    follower.flush_if_due(idle=True)  # caught up, but a flush was just made
    follower.flush_if_due(idle=False)
    assert writer.reader().execute(orders).fetchone() == (0,)
    follower._last_flush -= FLUSH_EVERY  # a second later
    follower.flush_if_due(idle=True)
    assert writer.reader().execute(orders).fetchone() == (1,)
    follower.close()
    journal.close()


def _sell() -> Any:
    from lob.engine.commands import NewOrder
    from lob.engine.types import Side

    return NewOrder("alice", "s", "AAPL", Side.SELL, 10, 2_270_000)


# -- lob serve as a subprocess ------------------------------------------------


def _history_children(pid: int) -> list[int]:
    """Live history processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_history_process(int(entry.name), parent=pid):
            found.append(int(entry.name))
    return found


def _is_history_process(pid: int, parent: int | None = None) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    state, ppid = fields[0], int(fields[1])
    if state == "Z" or b"lob.server.history_process" not in cmdline:
        return False
    return parent is None or ppid == parent


def _gone(pid: int, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while _is_history_process(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def _trade(url: str, rounds: int) -> None:
    async with RestClient(url, ALICE) as alice, RestClient(url, BOB) as bob:
        for i in range(rounds):
            await alice.place("MSFT", "sell", 10, "418.00", id=f"s{i}")
            await bob.place("MSFT", "buy", 10, "418.00", id=f"b{i}")


def test_kill_9_of_lob_serve_leaves_no_history_process(tmp_path: Path) -> None:
    proc, url = _start(tmp_path, history=True)
    try:
        children = _history_children(proc.pid)
        assert len(children) == 1
        run(lambda: _trade(url, 5))
    finally:
        _stop(proc, signal.SIGKILL)
    assert _gone(children[0])


def test_sigterm_stops_the_history_process_after_it_holds_every_trade(tmp_path: Path) -> None:
    proc, url = _start(tmp_path, history=True)
    try:
        children = _history_children(proc.pid)
        assert len(children) == 1
        run(lambda: _trade(url, 20))
    finally:
        _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    assert _gone(children[0], within=0.5)  # stopped before the server exited
    with duckdb.connect(str(tmp_path / "history.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM trades").fetchone() == (20,)


def test_a_sigterm_to_the_history_process_alone_stops_it_once_it_holds_what_is_journaled(
    tmp_path: Path,
) -> None:
    """The server goes on; the journal's file is longer than its records (the zeros
    ahead), so "what is journaled" must be where the records end, not the file's size."""
    proc, url = _start(tmp_path, history=True)
    try:
        children = _history_children(proc.pid)
        assert len(children) == 1
        run(lambda: _trade(url, 5))
        os.kill(children[0], signal.SIGTERM)
        assert _gone(children[0], within=10.0)
        assert proc.poll() is None  # the server is still up
    finally:
        _stop(proc, signal.SIGTERM)
    with duckdb.connect(str(tmp_path / "history.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM trades").fetchone() == (5,)


def test_no_history_starts_no_history_process(tmp_path: Path) -> None:
    proc, url = _start(tmp_path, history=False)
    try:
        run(lambda: _trade(url, 1))
        assert _history_children(proc.pid) == []
    finally:
        _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    assert not (tmp_path / "history.duckdb").exists()
