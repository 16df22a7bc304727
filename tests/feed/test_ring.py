"""The per-symbol ring answering "everything since seq N"."""

from __future__ import annotations

import pytest

from lob.engine import LevelView, Side
from lob.engine.types import RejectCode
from lob.feed.deltas import BookSnapshot, LevelDelta
from lob.feed.ring import CatchUp, CatchUpError, DeltaRing


def _delta(seq: int, symbol: str = "XYZ") -> LevelDelta:
    return LevelDelta(symbol, seq, seq * 3, seq * 10, Side.BUY, 100_000 + seq * 100, seq, 1)


def _ring(capacity: int, count: int) -> DeltaRing:
    ring = DeltaRing("XYZ", capacity)
    ring.extend([_delta(s) for s in range(1, count + 1)])
    return ring


def _snapshot_at(seq: int) -> BookSnapshot:
    return BookSnapshot("XYZ", seq, seq * 3, (LevelView(100_000, 5, 1),), ())


def _no_snapshot() -> BookSnapshot:
    raise AssertionError("the ring should have answered with deltas")


def test_ring_since_inside_buffer_returns_the_following_deltas() -> None:
    ring = _ring(8, 20)
    answer = ring.catch_up(15, _no_snapshot)
    assert answer == CatchUp("XYZ", 15, None, tuple(_delta(s) for s in range(16, 21)), "deltas")
    assert answer.last_seq == 20


def test_ring_since_oldest_minus_one_is_the_edge_still_answered_with_deltas() -> None:
    ring = _ring(8, 20)
    assert ring.first_seq == 13
    answer = ring.catch_up(12, _no_snapshot)
    assert [d.seq for d in answer.deltas] == list(range(13, 21))
    assert answer.snapshot is None


def test_ring_since_last_seq_returns_no_deltas() -> None:
    ring = _ring(8, 20)
    answer = ring.catch_up(20, _no_snapshot)
    assert (answer.deltas, answer.snapshot, answer.reason) == ((), None, "deltas")
    assert answer.last_seq == 20


def test_ring_since_older_than_buffer_answers_with_snapshot_at_last_seq() -> None:
    ring = _ring(8, 20)
    answer = ring.catch_up(11, lambda: _snapshot_at(20))
    assert answer.snapshot == _snapshot_at(20)
    assert answer.deltas == ()
    assert answer.reason == "too_old"
    assert answer.last_seq == 20


def test_ring_since_future_seq_answers_with_snapshot() -> None:
    ring = _ring(8, 20)
    answer = ring.catch_up(21, lambda: _snapshot_at(20))
    assert (answer.reason, answer.snapshot) == ("future", _snapshot_at(20))


def test_ring_since_negative_or_none_answers_with_snapshot() -> None:
    ring = _ring(8, 5)
    assert ring.catch_up(-1, lambda: _snapshot_at(5)).reason == "invalid"
    assert ring.catch_up(None, lambda: _snapshot_at(5)).reason == "requested"


@pytest.mark.parametrize("since", ["3", 2.0, True])
def test_ring_since_not_an_integer_raises_invalid_field(since: object) -> None:
    ring = _ring(8, 5)
    with pytest.raises(CatchUpError) as info:
        ring.catch_up(since, _no_snapshot)  # type: ignore[arg-type]
    assert info.value.code == RejectCode.INVALID_FIELD


def test_ring_from_zero_replays_everything_while_nothing_was_evicted() -> None:
    ring = _ring(8, 8)
    assert [d.seq for d in ring.catch_up(0, _no_snapshot).deltas] == list(range(1, 9))
    ring.append(_delta(9))
    assert ring.catch_up(0, lambda: _snapshot_at(9)).reason == "too_old"


def test_empty_ring_since_zero_is_up_to_date_and_since_one_is_future() -> None:
    ring = DeltaRing("XYZ", 4)
    assert ring.catch_up(0, _no_snapshot).deltas == ()
    assert ring.catch_up(1, lambda: _snapshot_at(0)).reason == "future"


def test_ring_snapshot_not_matching_last_seq_is_refused() -> None:
    ring = _ring(4, 10)
    with pytest.raises(ValueError, match="does not match"):
        ring.catch_up(1, lambda: _snapshot_at(9))
    depth_limited = _snapshot_at(10)._replace(depth=5)
    with pytest.raises(ValueError, match="does not match"):
        ring.catch_up(1, lambda: depth_limited)


def test_ring_append_out_of_sequence_or_other_symbol_is_refused() -> None:
    ring = _ring(4, 3)
    with pytest.raises(ValueError, match="expects seq 4"):
        ring.append(_delta(5))
    with pytest.raises(ValueError):
        ring.append(_delta(4, "ABC"))
    assert ring.last_seq == 3


def test_ring_answer_is_not_changed_by_later_appends() -> None:
    ring = _ring(4, 4)
    answer = ring.catch_up(2, _no_snapshot)
    ring.extend([_delta(s) for s in range(5, 12)])
    assert [d.seq for d in answer.deltas] == [3, 4]


def test_ring_memory_is_bounded_by_capacity() -> None:
    ring = _ring(16, 1000)
    assert len(ring) == 16
    assert ring.first_seq == 985


@pytest.mark.parametrize("capacity", [0, -3, 2.5])
def test_ring_capacity_must_be_positive_integer(capacity: object) -> None:
    with pytest.raises(ValueError):
        DeltaRing("XYZ", capacity)  # type: ignore[arg-type]


def test_catch_up_messages_are_snapshot_first_then_deltas() -> None:
    ring = _ring(4, 10)
    assert ring.catch_up(1, lambda: _snapshot_at(10)).messages() == [_snapshot_at(10)]
    assert ring.catch_up(8, _no_snapshot).messages() == [_delta(9), _delta(10)]
