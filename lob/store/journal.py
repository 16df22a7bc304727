"""The journal: an append-only log of every input the sequencer hands the engine.

Why: the engine is deterministic, so its inputs with their timestamps are the
whole truth. Replaying the journal through a fresh engine rebuilds every book,
every resting order with its owner and priority, and the same event sequence
numbers; history, market data and order status are all derived from that.

File layout (``journal.lob`` in the data directory)::

    header   b"LOBJ" + version byte (1) + 3 zero bytes
    record*  u32 length | u32 crc32(payload) | payload   (big-endian)

Each payload is a msgpack array whose first two items are the record kind and
the timestamp (int ns since the epoch) the input was sequenced at:

    [0, ts, account, id, symbol, side, qty, price|nil, type, tif, post_only, smp]  new
    [1, ts, account, id]                                                           cancel
    [2, ts, account, id, price|nil, qty|nil]                                       replace
    [3, ts, tif]                                                                   expire
    [4, ts, calendar, day, length]                                                 advance
    [5, ts, symbol, state]                                                         state
    [6, ts, symbol, tier, reference|nil]                                           luld

``advance`` lets time pass (the trading day's transitions, crosses, imbalance
information, LULD timers) under the calendar it names: ``continuous``,
``nasdaq`` or ``compressed``, the start of the day ``ts`` falls in and, for a
compressed day, its length (``lob.server.day``). ``state`` is an operator's
move of a symbol's trading state; ``luld`` switches price bands on.

Past the last record the file holds zeros: the journal writes ``ZERO_AHEAD``
bytes of them ahead of its records and tops them up as records fill them, so
that appending a record overwrites blocks the file already has. Why: on ext4
(and most file systems) a sync after an append must also commit the file's new
size through the file system's own journal, a second write on the disk; a sync
after overwriting allocated blocks writes the data alone. Only the sync after a
top-up pays for the size. A length of zero ends the records, and a cleanly
closed journal is cut back to its last record.

A crash can leave a torn record at the end (short or failing its CRC). Reading
stops at the first bad record and ``open`` cuts the file there (then writes
fresh zeros ahead): such a record was never acknowledged, because
acknowledgements wait for the write (and, with fsync, for the disk).

This module does file I/O only; group commit (when to write, when to fsync,
when to acknowledge) belongs to the caller, which knows its event loop.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final, NamedTuple

import msgpack  # type: ignore[import-untyped]
from mypy_extensions import mypyc_attr

from lob.engine.commands import CancelOrder, Command, NewOrder, ReplaceOrder
from lob.engine.types import (
    ORDER_TYPE_BY_TEXT,
    SIDE_BY_TEXT,
    SMP_BY_TEXT,
    TIF_BY_TEXT,
    TimeInForce,
)

__all__ = [
    "JOURNAL_NAME",
    "Advance",
    "EnableLuld",
    "ExpireOrders",
    "Journal",
    "JournalError",
    "JournalRecord",
    "SetState",
    "cut_frame",
    "decode_payload",
    "encode_record",
    "read_records",
    "scan_frames",
]

JOURNAL_NAME = "journal.lob"
MAGIC = b"LOBJ\x01\x00\x00\x00"
"""The file header every journal starts with."""
_MAGIC = MAGIC
_HEAD: Final = struct.Struct(">II")
MAX_RECORD = 1 << 20
"""A record longer than this is corruption, not an input."""
ZERO_AHEAD = 1 << 20
"""Bytes of zeros the journal keeps written past its last record (see the module doc)."""

_pack: Final[Callable[[object], bytes]] = msgpack.Packer(use_bin_type=True).pack
"""``msgpack.packb`` without building a packer per record (same bytes)."""
_crc32: Final = zlib.crc32  # a Final global is read directly, a module's attribute by name

# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
_NEW: Final = 0
_CANCEL: Final = 1
_REPLACE: Final = 2
_EXPIRE: Final = 3
_ADVANCE: Final = 4
_STATE: Final = 5
_LULD: Final = 6
_NEW_ORDER: Final = NewOrder
_CANCEL_ORDER: Final = CancelOrder
_REPLACE_ORDER: Final = ReplaceOrder


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class JournalError(Exception):
    """The journal file cannot be used (wrong magic, unreadable record content)."""


class ExpireOrders(NamedTuple):
    """End-of-session input: cancel every live order with time in force ``tif``."""

    tif: TimeInForce


class Advance(NamedTuple):
    """Time passes: the engine follows ``calendar``'s day starting at ``day`` (ns)."""

    calendar: str
    """``continuous`` (no calendar), ``nasdaq`` or ``compressed``."""
    day: int
    """Start (midnight) of the trading day, ns since the epoch; 0 when continuous."""
    length: int
    """Length of a compressed day in ns; 0 otherwise."""


class SetState(NamedTuple):
    """An operator moves ``symbol`` to trading state ``state`` (e.g. a halt)."""

    symbol: str
    state: str


class EnableLuld(NamedTuple):
    """Limit Up-Limit Down bands on for ``symbol`` (tier 1 or 2) around ``reference``."""

    symbol: str
    tier: int
    reference: int | None


JournalInput = Command | ExpireOrders | Advance | SetState | EnableLuld


class JournalRecord(NamedTuple):
    """One input as it was sequenced."""

    ts: int
    command: JournalInput


def encode_record(command: JournalInput, ts: int) -> bytes:
    """One framed record (header + payload) for ``command`` sequenced at ``ts``."""
    kind = type(command)
    if kind is _NEW_ORDER:
        c: NewOrder = command  # type: ignore[assignment]
        # The enums are str subclasses: msgpack writes their text, as str() would
        # (without making a copy of each).
        items: list[object] = [
            _NEW,
            ts,
            c.account,
            c.id,
            c.symbol,
            c.side,
            c.qty,
            c.price,
            c.order_type,
            c.tif,
            c.post_only,
            c.smp,
        ]
    elif kind is _CANCEL_ORDER:
        x: CancelOrder = command  # type: ignore[assignment]
        items = [_CANCEL, ts, x.account, x.id]
    elif kind is _REPLACE_ORDER:
        r: ReplaceOrder = command  # type: ignore[assignment]
        items = [_REPLACE, ts, r.account, r.id, r.price, r.qty]
    elif kind is ExpireOrders:
        items = [_EXPIRE, ts, str(command.tif)]  # type: ignore[union-attr]
    elif kind is Advance:
        a: Advance = command  # type: ignore[assignment]
        items = [_ADVANCE, ts, a.calendar, a.day, a.length]
    elif kind is SetState:
        items = [_STATE, ts, command.symbol, command.state]  # type: ignore[union-attr]
    elif kind is EnableLuld:
        e: EnableLuld = command  # type: ignore[assignment]
        items = [_LULD, ts, e.symbol, e.tier, e.reference]
    else:
        raise TypeError(f"not a journal input: {command!r}")
    payload = _pack(items)
    return _HEAD.pack(len(payload), _crc32(payload)) + payload


def decode_payload(payload: bytes) -> JournalRecord:
    """The record a payload holds; ``JournalError`` if it is not one."""
    try:
        items = msgpack.unpackb(payload, raw=False)
        kind, ts = items[0], items[1]
        if kind == _NEW:
            _, _, account, id, symbol, side, qty, price, otype, tif, post_only, smp = items
            command: JournalInput = NewOrder(
                account,
                id,
                symbol,
                SIDE_BY_TEXT[side],
                qty,
                price,
                ORDER_TYPE_BY_TEXT[otype],
                TIF_BY_TEXT[tif],
                post_only,
                SMP_BY_TEXT[smp],
            )
        elif kind == _CANCEL:
            command = CancelOrder(items[2], items[3])
        elif kind == _REPLACE:
            command = ReplaceOrder(items[2], items[3], items[4], items[5])
        elif kind == _EXPIRE:
            command = ExpireOrders(TIF_BY_TEXT[items[2]])
        elif kind == _ADVANCE:
            command = Advance(str(items[2]), int(items[3]), int(items[4]))
        elif kind == _STATE:
            command = SetState(str(items[2]), str(items[3]))
        elif kind == _LULD:
            command = EnableLuld(
                str(items[2]), int(items[3]), None if items[4] is None else int(items[4])
            )
        else:
            raise JournalError(f"unknown record kind {kind!r}")
    except (ValueError, TypeError, IndexError, KeyError, msgpack.UnpackException) as exc:
        raise JournalError(f"unreadable record: {exc}") from None
    return JournalRecord(ts, command)


def scan_frames(data: bytes, pos: int) -> Iterator[tuple[bytes, int]]:
    """The complete, CRC-valid payloads of ``data`` from ``pos``, each with the offset it ends at.

    Stops at the first record that is short or fails its CRC, or at a length
    of zero: the end of what is written (the zeros ahead, a torn tail after a
    crash, or a record still being appended).
    """
    end = len(data)
    while pos + _HEAD.size <= end:
        length, crc = _HEAD.unpack_from(data, pos)
        start = pos + _HEAD.size
        if length == 0 or length > MAX_RECORD or start + length > end:
            return
        payload = data[start : start + length]
        if _crc32(payload) != crc:
            return
        pos = start + length
        yield payload, pos


def cut_frame(data: bytes, pos: int) -> int:
    """The whole length of the frame at ``pos`` if ``data`` ends inside it, else 0.

    After ``scan_frames`` stops at ``pos``: a non-zero answer means the bytes
    read ran out in the middle of a frame (read at least that many from ``pos``
    to see it whole); 0 means the records end there (a length of zero, a length
    too long to be a record, or a whole frame that fails its CRC).
    """
    left = len(data) - pos
    if left < _HEAD.size:
        return _HEAD.size
    length: int = _HEAD.unpack_from(data, pos)[0]
    if length == 0 or length > MAX_RECORD or _HEAD.size + length <= left:
        return 0
    return _HEAD.size + length


def _scan(data: bytes) -> tuple[list[bytes], int]:
    """Complete, CRC-valid payloads of ``data`` (after the header) and where they end."""
    payloads: list[bytes] = []
    end = len(_MAGIC)
    for payload, frame_end in scan_frames(data, end):
        payloads.append(payload)
        end = frame_end
    return payloads, end


def read_records(path: Path) -> Iterator[JournalRecord]:
    """Every intact record of the journal at ``path``, in order (none if it is absent)."""
    if not path.exists():
        return
    data = path.read_bytes()
    if not data:
        return
    if not data.startswith(_MAGIC):
        raise JournalError(f"{path} is not a lob journal")
    payloads, _ = _scan(data)
    for payload in payloads:
        yield decode_payload(payload)


@mypyc_attr(native_class=False)  # an ordinary class: tests wrap ``sync`` on an instance
class Journal:
    """An open journal file: recover its records, then append framed batches.

    >>> # j = Journal.open(data_dir); for rec in j.recovered: ...; j.write(batch); j.sync()
    """

    def __init__(self, path: Path, fd: int, recovered: list[JournalRecord], size: int) -> None:
        self.path = path
        self.fd = fd
        self.recovered = recovered
        """The records found on open, for the caller to replay."""
        self.size = size
        """Bytes of header and records: where the next record goes."""
        self.allocated = size
        """The file's length: ``size`` and the zeros written ahead of it."""
        self.records = len(recovered)
        self.torn_bytes = 0
        """How many bytes of a torn tail ``open`` cut off."""

    @classmethod
    def open(cls, directory: Path) -> Journal:
        """Open (creating if needed) the journal in ``directory``, cutting any torn tail."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / JOURNAL_NAME
        data = path.read_bytes() if path.exists() else b""
        if data and not data.startswith(_MAGIC):
            if len(data) < len(_MAGIC) and _MAGIC.startswith(data):
                data = b""  # a crash while writing the header of a new journal
            else:
                raise JournalError(f"{path} is not a lob journal")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if not data:
            os.ftruncate(fd, 0)
            os.write(fd, _MAGIC)
            journal = cls(path, fd, [], len(_MAGIC))
            journal._zero_ahead()
            os.fsync(fd)
            _fsync_dir(directory)
        else:
            payloads, end = _scan(data)
            journal = cls(path, fd, [decode_payload(p) for p in payloads], end)
            journal.torn_bytes = len(data[end:].rstrip(b"\0"))
            if journal.torn_bytes:
                os.ftruncate(fd, end)  # the torn record and the zeros after it go
            else:
                journal.allocated = len(data)  # zeros a crash left ahead are kept
            journal._zero_ahead()
            os.fsync(fd)
        os.lseek(fd, journal.size, os.SEEK_SET)
        return journal

    def write(self, data: bytes, count: int = 1) -> None:
        """Append already framed records (one ``os.write`` per batch)."""
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.size += len(data)
        self.records += count
        if self.allocated - self.size < ZERO_AHEAD // 2:
            self._zero_ahead()

    def _zero_ahead(self) -> None:
        """Write zeros from the end of the file up to ``ZERO_AHEAD`` past the records.

        Made durable by the next sync, which is the only one that commits a new
        file size; the syncs after it overwrite blocks the file already has.
        """
        self.allocated = max(self.allocated, self.size)
        missing = self.size + ZERO_AHEAD - self.allocated
        if missing > 0:  # a short write (a full disk) is topped up at the next write
            self.allocated += os.pwrite(self.fd, bytes(missing), self.allocated)

    def sync(self) -> None:
        """Make everything written so far durable."""
        os.fdatasync(self.fd) if hasattr(os, "fdatasync") else os.fsync(self.fd)

    def close(self) -> None:
        """Cut the zeros ahead, sync and close: a closed journal ends at its last record."""
        if self.fd >= 0:
            try:
                os.ftruncate(self.fd, self.size)
                self.allocated = self.size
                self.sync()
            finally:
                os.close(self.fd)
                self.fd = -1


def _fsync_dir(directory: Path) -> None:
    """Make a newly created file's directory entry durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
