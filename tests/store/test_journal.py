"""The journal: framing, torn tails, and replays that rebuild the books exactly."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lob.engine.commands import CancelOrder, NewOrder, ReplaceOrder
from lob.engine.engine import MatchingEngine
from lob.engine.types import OrderType, SelfMatchMode, Side, TimeInForce
from lob.store.journal import (
    JOURNAL_NAME,
    ExpireOrders,
    Journal,
    JournalError,
    decode_payload,
    encode_record,
    read_records,
)

COMMANDS = [
    NewOrder("a", "1", "AAPL", Side.BUY, 100, 2_275_000),
    NewOrder(
        "b",
        "x-2",
        "MSFT",
        Side.SELL,
        7,
        None,
        OrderType.MARKET,
        TimeInForce.IOC,
        False,
        SelfMatchMode.CANCEL_BOTH,
    ),
    NewOrder("c", "3", "PNNY", Side.SELL, 10, 4271, tif=TimeInForce.GTC, post_only=True),
    CancelOrder("a", "1"),
    ReplaceOrder("a", "1", 2_276_000, None),
    ReplaceOrder("a", "1", None, 50),
    ExpireOrders(TimeInForce.DAY),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_journal_record_round_trips_every_kind(command: object) -> None:
    frame = encode_record(command, 1_700_000_000_123_456_789)  # type: ignore[arg-type]
    record = decode_payload(frame[8:])
    assert record.ts == 1_700_000_000_123_456_789
    assert record.command == command
    assert type(record.command) is type(command)


def _write(directory: Path, commands: list[object]) -> None:
    journal = Journal.open(directory)
    for i, command in enumerate(commands):
        journal.write(encode_record(command, i + 1))  # type: ignore[arg-type]
    journal.close()


def test_journal_reopen_recovers_every_record_in_order(tmp_path: Path) -> None:
    _write(tmp_path, COMMANDS)
    journal = Journal.open(tmp_path)
    assert [r.command for r in journal.recovered] == COMMANDS
    assert [r.ts for r in journal.recovered] == list(range(1, len(COMMANDS) + 1))
    assert journal.torn_bytes == 0
    journal.close()


@pytest.mark.parametrize("cut", [1, 5, 9, 12])
def test_journal_torn_tail_is_cut_and_appending_goes_on(tmp_path: Path, cut: int) -> None:
    _write(tmp_path, COMMANDS[:3])
    path = tmp_path / JOURNAL_NAME
    whole = path.read_bytes()
    partial = encode_record(COMMANDS[3], 99)[:cut]
    path.write_bytes(whole + partial)
    journal = Journal.open(tmp_path)
    assert [r.command for r in journal.recovered] == COMMANDS[:3]
    assert journal.torn_bytes == cut
    assert path.stat().st_size == len(whole)
    journal.write(encode_record(COMMANDS[4], 100))
    journal.close()
    assert [r.command for r in read_records(path)] == [*COMMANDS[:3], COMMANDS[4]]


def test_journal_corrupt_record_stops_recovery_there(tmp_path: Path) -> None:
    _write(tmp_path, COMMANDS[:4])
    path = tmp_path / JOURNAL_NAME
    data = bytearray(path.read_bytes())
    second = 8 + len(encode_record(COMMANDS[0], 1))
    data[second + 10] ^= 0xFF  # flip a byte inside the second record's payload
    path.write_bytes(bytes(data))
    journal = Journal.open(tmp_path)
    assert [r.command for r in journal.recovered] == COMMANDS[:1]
    assert journal.torn_bytes > 0
    journal.close()


def test_journal_refuses_a_file_that_is_not_a_journal(tmp_path: Path) -> None:
    (tmp_path / JOURNAL_NAME).write_bytes(b"hello, this is not a journal at all")
    with pytest.raises(JournalError):
        Journal.open(tmp_path)


def test_journal_crash_while_writing_the_header_starts_a_new_journal(tmp_path: Path) -> None:
    (tmp_path / JOURNAL_NAME).write_bytes(b"LOB")
    journal = Journal.open(tmp_path)
    assert journal.recovered == []
    journal.write(encode_record(COMMANDS[0], 1))
    journal.close()
    assert [r.command for r in read_records(tmp_path / JOURNAL_NAME)] == COMMANDS[:1]


def _random_commands(seed: int, n: int) -> list[object]:
    rng = random.Random(seed)
    out: list[object] = []
    live: list[tuple[str, str]] = []
    for i in range(n):
        roll = rng.random()
        if live and roll < 0.2:
            account, id = rng.choice(live)
            out.append(CancelOrder(account, id))
        elif live and roll < 0.35:
            account, id = rng.choice(live)
            out.append(ReplaceOrder(account, id, 100_000 + rng.randint(-20, 20) * 100, None))
        else:
            account = rng.choice("abc")
            id = str(i)
            live.append((account, id))
            tif = rng.choice([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC])
            price = 100_000 + rng.randint(-20, 20) * 100
            side = rng.choice([Side.BUY, Side.SELL])
            out.append(NewOrder(account, id, "XYZ", side, rng.randint(1, 500), price, tif=tif))
    return out


def test_journal_replay_rebuilds_the_books_exactly(tmp_path: Path) -> None:
    commands = _random_commands(7, 600)
    live = MatchingEngine(auto_create_symbols=False)
    live.add_symbol("XYZ", 100_000)
    journal = Journal.open(tmp_path)
    for ts, command in enumerate(commands, start=1):
        journal.write(encode_record(command, ts))  # type: ignore[arg-type]
        live.submit(command, ts)  # type: ignore[arg-type]
    journal.close()
    rebuilt = MatchingEngine(auto_create_symbols=False)
    rebuilt.add_symbol("XYZ", 100_000)
    for record in read_records(tmp_path / JOURNAL_NAME):
        rebuilt.submit(record.command, record.ts)  # type: ignore[arg-type]
    rebuilt.check_integrity()
    assert rebuilt.state_hash(include_owners=True) == live.state_hash(include_owners=True)
    assert rebuilt.seq == live.seq
    assert rebuilt.state_hash() != MatchingEngine().state_hash()  # the book is not empty
