"""Following a journal that another process is appending to: new complete records as they land.

Why: the server's DuckDB history is built by a process of its own from the
journal (``lob.server.history_process``), so the matching loop never hands it
an event. That process needs the records the server has written since it last
looked, and nothing that is not fully written yet.

How: the tail keeps the offset up to which it has taken records. ``read``
reads what lies past the offset in steps (``step`` bytes first, doubling, at
most ``max_read`` in one call); it takes every record whose header and whole
payload are there and whose CRC matches (``journal.scan_frames``), and stops
at the first that is not. It reads on only while a step ran out in the middle
of a record; the zeros the journal keeps written ahead of its records end the
reading, so a tail that is caught up reads one short step. Anything short of a
whole record at the end (one the server is still appending, or the torn tail a
crash left, which the next ``Journal.open`` cuts) means "not yet written": the
offset stays before it and the next ``read`` looks again. The tail only reads;
it never changes the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from lob.store.journal import (
    MAGIC,
    MAX_RECORD,
    JournalError,
    JournalRecord,
    cut_frame,
    decode_payload,
    scan_frames,
)

__all__ = ["JournalTail"]


class JournalTail:
    """The records of a growing journal file, read incrementally from where the last read ended.

    >>> # tail = JournalTail(data_dir / JOURNAL_NAME)
    >>> # for record, end in tail.read(): ...   # end: file offset after the record
    """

    def __init__(self, path: Path, max_read: int = 4 << 20, step: int = 16 << 10) -> None:
        self.path = path
        self.max_read = max(max_read, MAX_RECORD + 8)  # room for the largest record
        self.step = step
        self.offset = 0
        """Bytes of the file taken so far: the header and every complete record read."""
        self.records = 0
        """Records taken so far."""
        self._fd = -1

    def size(self) -> int:
        """The file's size now (0 while it does not exist)."""
        if self._fd < 0 and not self._open():
            return 0
        return os.fstat(self._fd).st_size

    def read(self) -> list[tuple[JournalRecord, int]]:
        """Every complete record written since the last read, with the offset each ends at."""
        size = self.size()
        if self.offset == 0:
            if size < len(MAGIC):
                return []  # not even the header yet
            if os.pread(self._fd, len(MAGIC), 0) != MAGIC:
                raise JournalError(f"{self.path} is not a lob journal")
            self.offset = len(MAGIC)
        if size < self.offset:
            raise JournalError(f"{self.path} shrank below what was read from it")
        out: list[tuple[JournalRecord, int]] = []
        step, budget = self.step, self.max_read
        while self.offset < size and budget > 0:
            want = min(size - self.offset, step, budget)
            data = os.pread(self._fd, want, self.offset)
            budget -= len(data)
            base, end = self.offset, 0
            for payload, end in scan_frames(data, 0):
                out.append((decode_payload(payload), base + end))
            self.offset = base + end
            need = cut_frame(data, end)
            if not need or len(data) < want or self.offset + need > size:
                break  # the records end here, or the file does
            step = max(2 * step, need)  # catching up: read more at a time
        self.records += len(out)
        return out

    def _open(self) -> bool:
        try:
            self._fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        return True

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> JournalTail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
