"""``JournalTail``: the records another process appends, each once, never a partial one."""

from __future__ import annotations

from pathlib import Path

import pytest

from lob.engine.commands import CancelOrder, NewOrder
from lob.engine.types import Side
from lob.store.journal import JOURNAL_NAME, MAGIC, Journal, JournalError, encode_record
from lob.store.journal_tail import JournalTail


def _new(i: int) -> NewOrder:
    return NewOrder("alice", f"o{i}", "AAPL", Side.BUY, 100, 1_000_000 + i * 100)


def test_tail_reads_records_appended_after_each_read_once_in_order(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    tail = JournalTail(tmp_path / JOURNAL_NAME)
    assert tail.read() == []
    journal.write(encode_record(_new(1), 10) + encode_record(_new(2), 11), 2)
    first = tail.read()
    assert [(r.ts, r.command) for r, _ in first] == [(10, _new(1)), (11, _new(2))]
    assert first[-1][1] == journal.size == tail.offset
    assert tail.read() == []
    journal.write(encode_record(CancelOrder("alice", "o1"), 12))
    assert [r.command for r, _ in tail.read()] == [CancelOrder("alice", "o1")]
    assert tail.records == 3 and tail.offset == journal.size
    journal.close()
    tail.close()


def test_tail_waits_for_a_torn_record_to_be_completed(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    whole = encode_record(_new(1), 10)
    torn = encode_record(_new(2), 11)
    journal.write(whole + torn[:7], 1)  # the second record's header, part of its payload
    with JournalTail(tmp_path / JOURNAL_NAME) as tail:
        assert [r.command for r, _ in tail.read()] == [_new(1)]
        assert tail.offset == len(MAGIC) + len(whole)
        assert tail.read() == []  # still not written: read again later
        journal.write(torn[7:], 0)
        assert [r.command for r, _ in tail.read()] == [_new(2)]
        assert tail.offset == journal.size
    journal.close()


def test_tail_does_not_take_a_record_whose_crc_fails(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    bad = bytearray(encode_record(_new(1), 10))
    bad[-1] ^= 0xFF
    journal.write(bytes(bad))
    with JournalTail(tmp_path / JOURNAL_NAME) as tail:
        assert tail.read() == []
        assert tail.offset == len(MAGIC)
    journal.close()


def test_tail_of_a_journal_not_yet_created_reads_nothing_until_it_appears(
    tmp_path: Path,
) -> None:
    with JournalTail(tmp_path / JOURNAL_NAME) as tail:
        assert tail.read() == [] and tail.size() == 0
        (tmp_path / JOURNAL_NAME).write_bytes(MAGIC[:3])  # a header being written
        assert tail.read() == []
        journal = Journal.open(tmp_path)
        journal.write(encode_record(_new(1), 10))
        assert [r.command for r, _ in tail.read()] == [_new(1)]
        journal.close()


def test_tail_of_a_file_that_is_not_a_journal_raises(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_NAME
    path.write_bytes(b"not a journal at all")
    with JournalTail(path) as tail, pytest.raises(JournalError):
        tail.read()


@pytest.mark.parametrize("step", [16, 100, 16 << 10])
def test_tail_reads_every_record_past_step_boundaries_and_stops_at_the_zeros(
    tmp_path: Path, step: int
) -> None:
    journal = Journal.open(tmp_path)
    big = NewOrder("alice", "x" * 5000, "AAPL", Side.BUY, 100, 1_000_000)  # longer than a step
    first = [_new(i) for i in range(300)] + [big] + [_new(i) for i in range(300, 310)]
    journal.write(b"".join(encode_record(c, i) for i, c in enumerate(first)), len(first))
    with JournalTail(tmp_path / JOURNAL_NAME, step=step) as tail:
        assert tail.size() > journal.size  # the zeros ahead are in the file
        assert [r.command for r, _ in tail.read()] == first
        assert tail.offset == journal.size
        assert tail.read() == []  # caught up: the zeros end the reading
        journal.write(encode_record(CancelOrder("alice", "o1"), 999))
        assert [r.command for r, _ in tail.read()] == [CancelOrder("alice", "o1")]
        assert tail.offset == journal.size and tail.records == len(first) + 1
    journal.close()


def test_tail_stops_at_most_max_read_bytes_and_goes_on_at_the_next_read(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    frames = [encode_record(_new(i), i) for i in range(30_000)]  # about 2.4 MiB
    journal.write(b"".join(frames), len(frames))
    with JournalTail(tmp_path / JOURNAL_NAME, max_read=0) as tail:  # raised to the least allowed
        first = tail.read()
        assert 0 < len(first) < len(frames)
        assert tail.offset - len(MAGIC) <= tail.max_read
        rest = tail.read()
        assert [r.ts for r, _ in first + rest] == list(range(30_000))
        assert tail.offset == journal.size
    journal.close()
