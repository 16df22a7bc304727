"""The journal: framing, torn tails, and replays that rebuild the books exactly."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

import lob.store.journal as journal_module
from lob.engine.commands import CancelOrder, NewOrder, ReplaceOrder
from lob.engine.engine import MatchingEngine
from lob.engine.types import OrderType, SelfMatchMode, Side, TimeInForce
from lob.store.journal import (
    JOURNAL_NAME,
    MAGIC,
    ZERO_AHEAD,
    ExpireOrders,
    Journal,
    JournalError,
    cut_frame,
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


@pytest.mark.parametrize("field", [5, 8, 9, 11], ids=["side", "type", "tif", "smp"])
def test_journal_record_with_an_unknown_enum_value_is_a_journal_error(field: int) -> None:
    import msgpack

    items = [0, 1, "a", "1", "AAPL", "buy", 10, 2_270_000, "limit", "day", False, "cancel_newest"]
    assert decode_payload(msgpack.packb(items)).command.side is Side.BUY  # type: ignore[union-attr]
    items[field] = "sideways"
    with pytest.raises(JournalError, match="unreadable record"):
        decode_payload(msgpack.packb(items))
    with pytest.raises(JournalError, match="unreadable record"):
        decode_payload(msgpack.packb([3, 1, "sideways"]))  # an expiry of no known tif


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
    assert journal.torn_bytes == len(partial.rstrip(b"\0"))  # a lone zero is no record
    assert path.read_bytes() == whole + bytes(ZERO_AHEAD)
    journal.write(encode_record(COMMANDS[4], 100))
    journal.close()
    assert [r.command for r in read_records(path)] == [*COMMANDS[:3], COMMANDS[4]]


def test_journal_keeps_zeros_written_ahead_and_tops_them_up_in_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "ZERO_AHEAD", 4096)
    path = tmp_path / JOURNAL_NAME
    journal = Journal.open(tmp_path)
    assert path.read_bytes() == MAGIC + bytes(4096)
    frame = encode_record(COMMANDS[0], 1)
    lengths = set()
    for _ in range(400):  # about six times the zeros ahead
        journal.write(frame)
        length = path.stat().st_size
        assert length == journal.allocated
        assert length - journal.size >= 2048  # a record always lands on zeros already written
        lengths.add(length)
    assert journal.size == len(MAGIC) + 400 * len(frame)
    assert len(lengths) < 400 * len(frame) // 2048 + 2  # a top-up per half of the zeros ahead
    data = path.read_bytes()
    assert data[journal.size :] == bytes(len(data) - journal.size)
    journal.close()
    assert path.stat().st_size == journal.size  # a closed journal ends at its last record
    assert len(list(read_records(path))) == 400


def test_journal_left_open_by_a_crash_recovers_up_to_the_zeros(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    for i, command in enumerate(COMMANDS):
        journal.write(encode_record(command, i + 1))  # type: ignore[arg-type]
    torn = encode_record(COMMANDS[0], 99)[:20]
    journal.write(torn, 0)  # the crash came in the middle of writing this one
    os.close(journal.fd)  # no close(): the zeros ahead stay in the file
    path = tmp_path / JOURNAL_NAME
    assert [r.command for r in read_records(path)] == COMMANDS
    again = Journal.open(tmp_path)
    assert [r.command for r in again.recovered] == COMMANDS
    assert again.torn_bytes == len(torn)
    assert again.size == journal.size - len(torn)
    again.write(encode_record(COMMANDS[1], 100))
    again.close()
    assert [r.command for r in read_records(path)] == [*COMMANDS, COMMANDS[1]]


@pytest.mark.parametrize(
    ("data", "pos", "whole"),
    [
        (b"", 0, 8),  # not even a header: read at least a header
        (b"\x00\x00\x00", 0, 8),
        (b"\x00\x00\x00\x05\x00\x00\x00\x00ab", 0, 13),  # a header, part of its payload
        (bytes(16), 0, 0),  # the zeros ahead: the records end here
        (b"\x7f\xff\xff\xff" + bytes(12), 0, 0),  # longer than any record: corruption
        (b"\x00\x00\x00\x01\x00\x00\x00\x00a", 0, 0),  # whole but failing its CRC
        (b"xx" + b"\x00\x00\x00\x04\x00\x00\x00\x00", 2, 12),
    ],
)
def test_cut_frame_tells_a_frame_the_read_cut_from_the_end_of_the_records(
    data: bytes, pos: int, whole: int
) -> None:
    assert cut_frame(data, pos) == whole


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
