"""The sequencer: journal first, then the engine, then market data, then acknowledgements."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lob.engine.commands import NewOrder
from lob.engine.engine import MatchingEngine
from lob.engine.events import Event
from lob.engine.types import Side
from lob.server.sequencer import Sequencer
from lob.store.journal import Journal, read_records


def orders(n: int) -> list[NewOrder]:
    return [NewOrder("alice", f"o{i}", "AAPL", Side.BUY, 10, 2_270_000 - i * 100) for i in range(n)]


def sequencer(tmp_path: Path, fsync: str) -> tuple[Sequencer, Journal]:
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol("AAPL", 2_275_000)
    journal = Journal.open(tmp_path)
    return Sequencer(engine, journal, fsync=fsync), journal


def test_sequencer_batch_acks_each_input_only_after_the_whole_batch_is_synced(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        seq, journal = sequencer(tmp_path, "batch")
        synced: list[int] = []
        sync = journal.sync

        def counting_sync() -> None:
            sync()
            synced.append(journal.records)

        journal.sync = counting_sync  # type: ignore[method-assign]
        log: list[tuple[str, object]] = []
        seq.before_ack.append(lambda: log.append(("flush", seq.engine.seq)))
        seq.start()
        commands = orders(20)
        for command in commands:

            def done(events: list[Event], id: str = command.id) -> None:
                on_disk = {r.command.id for r in read_records(journal.path)}  # type: ignore[union-attr]
                log.append(("ack", (id, id in on_disk, synced[-1] if synced else 0)))

            seq.enqueue(command, done)
        await seq.close()
        acks = [entry for kind, entry in log if kind == "ack"]
        assert [a[0] for a in acks] == [c.id for c in commands]  # type: ignore[index]
        assert all(a[1] for a in acks)  # type: ignore[index]
        assert all(a[2] == 20 for a in acks)  # type: ignore[index]
        assert log[0] == ("flush", seq.engine.seq)  # market data went out before any ack

    asyncio.run(body())


def test_sequencer_off_acks_the_inputs_of_one_loop_turn_together_after_the_flush(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        seq, journal = sequencer(tmp_path, "off")
        log: list[str] = []
        seq.before_ack.append(lambda: log.append("flush"))
        seq.start()
        for command in orders(5):

            def done(events: list[Event], id: str = command.id) -> None:
                on_disk = {r.command.id for r in read_records(journal.path)}  # type: ignore[union-attr]
                assert id in on_disk and events[0].TYPE == "accepted"
                log.append(id)

            seq.enqueue(command, done)
        assert log == [] and seq.engine.seq > 0  # applied now, acknowledged at the turn's end
        await asyncio.sleep(0)
        assert log == ["flush", "o0", "o1", "o2", "o3", "o4"]
        events = await seq.submit(orders(6)[5])
        assert events[0].TYPE == "accepted"
        await seq.close()

    asyncio.run(body())
