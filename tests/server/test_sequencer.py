"""The sequencer: journal first, then the engine, then market data, then acknowledgements."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from lob.engine.commands import NewOrder
from lob.engine.engine import MatchingEngine
from lob.engine.events import Event
from lob.engine.types import Side
from lob.server.sequencer import Sequencer
from lob.store.journal import Journal, read_records
from lob.store.syncer import SyncDone, SyncProcess


def orders(n: int) -> list[NewOrder]:
    return [NewOrder("alice", f"o{i}", "AAPL", Side.BUY, 10, 2_270_000 - i * 100) for i in range(n)]


def sequencer(tmp_path: Path, fsync: str) -> tuple[Sequencer, Journal]:
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol("AAPL", 2_275_000)
    journal = Journal.open(tmp_path)
    return Sequencer(engine, journal, fsync=fsync), journal


class _Heard:
    """A receiver that hands each call on to the test's functions."""

    def __init__(
        self,
        done: Callable[[list[Event]], None] | None = None,
        failed: Callable[[Exception], None] | None = None,
        applied: Callable[[list[Event]], None] | None = None,
    ) -> None:
        self.on_done, self.on_failed, self.on_applied = done, failed, applied

    def applied(self, events: list[Event]) -> None:
        if self.on_applied is not None:
            self.on_applied(events)

    def done(self, events: list[Event]) -> None:
        if self.on_done is not None:
            self.on_done(events)

    def failed(self, exc: Exception) -> None:
        if self.on_failed is not None:
            self.on_failed(exc)


class _CountingSyncer:
    """The real sync process, noting how many records the journal held at each sync."""

    def __init__(self, journal: Journal) -> None:
        self.real = SyncProcess(journal.fd)
        self.journal = journal
        self.synced: list[int] = []

    def request(self, done: SyncDone) -> None:
        records = self.journal.records

        def counted(exc: Exception | None) -> None:
            self.synced.append(records)
            done(exc)

        self.real.request(counted)

    def close(self) -> None:
        self.real.close()


def test_sequencer_batch_acks_each_input_only_after_the_whole_batch_is_synced(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        seq, journal = sequencer(tmp_path, "batch")
        seq.syncer = counting = _CountingSyncer(journal)
        synced = counting.synced
        log: list[tuple[str, object]] = []
        seq.before_ack.append(lambda: log.append(("flush", seq.engine.seq)))
        seq.after_ack.append(lambda: log.append(("written", seq.engine.seq)))
        seq.start()
        commands = orders(20)
        for command in commands:

            def done(events: list[Event], id: str = command.id) -> None:
                on_disk = {r.command.id for r in read_records(journal.path)}  # type: ignore[union-attr]
                log.append(("ack", (id, id in on_disk, synced[-1] if synced else 0)))

            seq.enqueue(command, _Heard(done))
        await seq.close()
        acks = [entry for kind, entry in log if kind == "ack"]
        assert [a[0] for a in acks] == [c.id for c in commands]  # type: ignore[index]
        assert all(a[1] for a in acks)  # type: ignore[index]
        assert all(a[2] == 20 for a in acks)  # type: ignore[index]
        assert log[0] == ("flush", seq.engine.seq)  # market data went out before any ack
        assert log[-1] == ("written", seq.engine.seq)  # the acks were written after the last

    asyncio.run(body())


def test_sequencer_off_acks_the_inputs_of_one_loop_turn_together_after_the_flush(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        seq, journal = sequencer(tmp_path, "off")
        log: list[str] = []
        seq.before_ack.append(lambda: log.append("flush"))
        seq.after_ack.append(lambda: log.append("written"))
        seq.start()
        for command in orders(5):

            def done(events: list[Event], id: str = command.id) -> None:
                on_disk = {r.command.id for r in read_records(journal.path)}  # type: ignore[union-attr]
                assert id in on_disk and events[0].TYPE == "accepted"
                log.append(id)

            seq.enqueue(command, _Heard(done))
        assert log == [] and seq.engine.seq > 0  # applied now, acknowledged at the turn's end
        await asyncio.sleep(0)
        assert log == ["flush", "o0", "o1", "o2", "o3", "o4", "written"]
        events = await seq.submit(orders(6)[5])
        assert events[0].TYPE == "accepted"
        await seq.close()

    asyncio.run(body())


class _GatedSyncer:
    """A syncer that waits for the test to let each sync finish (or fail)."""

    def __init__(self, journal: Journal) -> None:
        self.started: list[int] = []  # journal records at the start of each sync
        self.gates: list[asyncio.Event] = []
        self.fail: set[int] = set()  # sync numbers (from 0) that raise
        self.journal = journal
        self.closed = False
        self.tasks: set[asyncio.Task[None]] = set()

    def request(self, done: SyncDone) -> None:
        n = len(self.started)
        gate = asyncio.Event()
        self.gates.append(gate)
        self.started.append(self.journal.records)

        async def finish() -> None:
            await gate.wait()
            if n in self.fail:
                done(OSError(28, "No space left on device"))
                return
            self.journal.sync()
            done(None)

        self.tasks.add(asyncio.get_running_loop().create_task(finish()))

    def close(self) -> None:
        self.closed = True

    async def wait_started(self, count: int) -> None:
        for _ in range(500):
            if len(self.started) >= count:
                return
            await asyncio.sleep(0.002)
        raise AssertionError(f"{count} syncs never started: {self.started}")


def test_sequencer_fails_only_the_group_whose_fsync_failed(tmp_path: Path) -> None:
    async def body() -> None:
        seq, journal = sequencer(tmp_path, "batch")
        seq.syncer = gated = _GatedSyncer(journal)
        gated.fail = {1}
        acked: list[str] = []
        failed: list[str] = []
        seq.start()
        for i, command in enumerate(orders(6)):
            seq.enqueue(
                command,
                _Heard(
                    lambda events, id=command.id: acked.append(id),
                    lambda exc, id=command.id: failed.append(id),
                ),
            )
            if i == 2:
                await gated.wait_started(1)
        gated.gates[0].set()
        await gated.wait_started(2)
        gated.gates[1].set()
        for _ in range(200):
            if failed:
                break
            await asyncio.sleep(0.002)
        assert acked == ["o0", "o1", "o2"]  # durable before the failure: acknowledged
        assert failed == ["o3", "o4", "o5"]
        assert not seq.accepting and seq.engine.seq > 0
        applied = {e.id for e in seq.engine.order_snapshot("AAPL").bids}
        assert applied == {"o0", "o1", "o2"}  # the failed group never reached the book
        await seq.close()
        assert gated.closed

    asyncio.run(body())


def test_the_next_batch_is_journaled_and_syncing_before_the_synced_one_is_applied(
    tmp_path: Path,
) -> None:
    """Group commit is pipelined: the disk syncs batch 2 while the engine applies batch 1."""

    async def body() -> None:
        seq, journal = sequencer(tmp_path, "batch")
        seq.syncer = gated = _GatedSyncer(journal)
        seen: list[tuple[str, list[int]]] = []
        seq.start()
        first, *rest = orders(3)

        def applied(events: list[Event]) -> None:
            seen.append(("applied o0", list(gated.started)))

        seq.enqueue(first, _Heard(applied=applied))
        await gated.wait_started(1)
        acked: list[str] = []
        for command in rest:  # they arrive while the first batch syncs
            seq.enqueue(command, _Heard(lambda events, id=command.id: acked.append(id)))
        await asyncio.sleep(0.01)
        assert gated.started == [1] and seq.engine.seq == 0  # one sync at a time
        gated.gates[0].set()
        await gated.wait_started(2)
        # when o0 was applied, o1 and o2 were already in the journal and syncing
        assert seen == [("applied o0", [1, 3])]
        assert acked == [] and len(list(read_records(journal.path))) == 3
        gated.gates[1].set()
        await seq.close()
        assert acked == ["o1", "o2"]

    asyncio.run(body())


def test_each_input_is_applied_and_read_before_the_next_and_acked_after_the_batch(
    tmp_path: Path,
) -> None:
    """``applied`` sees the book as its own input left it; ``done`` comes after all of them."""

    async def body() -> None:
        seq, _ = sequencer(tmp_path, "batch")
        log: list[tuple[str, str, int]] = []
        seq.start()
        for command in orders(4):

            def applied(events: list[Event], id: str = command.id) -> None:
                log.append(("applied", id, len(seq.engine.order_snapshot("AAPL").bids)))

            def done(events: list[Event], id: str = command.id) -> None:
                log.append(("done", id, len(seq.engine.order_snapshot("AAPL").bids)))

            seq.enqueue(command, _Heard(done, applied=applied))
        seq.enqueue(orders(5)[4])  # nobody listens: applied all the same
        await seq.close()
        assert log == [("applied", f"o{i}", i + 1) for i in range(4)] + [
            ("done", f"o{i}", 5) for i in range(4)
        ]

    asyncio.run(body())


def test_a_failing_hook_is_logged_and_the_batch_is_still_acknowledged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken view at before_ack or after_ack must not cost anyone their ack."""

    async def body() -> None:
        seq, _ = sequencer(tmp_path, "batch")
        ran: list[str] = []

        def broken() -> None:
            raise RuntimeError("a broken view")

        seq.before_ack += [broken, lambda: ran.append("before")]
        seq.after_ack += [broken, lambda: ran.append("after")]
        seq.start()
        acked: list[str] = []
        for command in orders(3):
            seq.enqueue(command, _Heard(lambda events, id=command.id: acked.append(id)))
        await seq.close()
        assert acked == ["o0", "o1", "o2"]
        assert ran == ["before", "after"]  # one batch: each hook once, after the broken one

    with caplog.at_level("ERROR", logger="lob.server"):
        asyncio.run(body())
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("before-ack hook") for m in messages)
    assert any(m.startswith("after-ack hook") for m in messages)


def test_off_without_a_loop_acknowledges_at_once_between_the_hooks(tmp_path: Path) -> None:
    """Never started (no event loop): each input is acknowledged before enqueue
    returns, in the same order as every other acknowledgement."""
    seq, _ = sequencer(tmp_path, "off")
    log: list[str] = []
    seq.before_ack.append(lambda: log.append("market data"))
    seq.after_ack.append(lambda: log.append("written"))
    seq.enqueue(orders(1)[0], _Heard(lambda events: log.append(events[0].TYPE)))
    assert log == ["market data", "accepted", "written"]
