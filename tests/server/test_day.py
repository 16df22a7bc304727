"""The server's calendars and the trading-day inputs of the journal, without sockets."""

from __future__ import annotations

import datetime as dt

import pytest

from lob.engine.engine import MatchingEngine
from lob.engine.replay import NEW_YORK
from lob.engine.types import Side, TimeInForce, TradingState
from lob.server.day import DayPlan, apply_session_input, new_york_midnight
from lob.store.journal import Advance, EnableLuld, SetState, decode_payload, encode_record

SECOND = 1_000_000_000
S = TradingState


def _ny(*parts: int) -> int:
    return int(dt.datetime(*parts, tzinfo=NEW_YORK).timestamp()) * SECOND


def _engine() -> MatchingEngine:
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol("AAPL", 2_275_000)
    return engine


def test_journal_round_trips_the_trading_day_inputs() -> None:
    for command in (
        Advance("compressed", 60 * SECOND, 60 * SECOND),
        Advance("continuous", 0, 0),
        SetState("AAPL", "halted"),
        EnableLuld("AAPL", 1, 2_275_000),
        EnableLuld("AAPL", 2, None),
    ):
        frame = encode_record(command, 42)
        assert decode_payload(frame[8:]) == (42, command)


def test_compressed_days_start_on_multiples_of_their_length_and_step_through_the_day() -> None:
    plan = DayPlan("compressed", 100 * SECOND)
    start = 17_000_000_000 * SECOND
    assert plan.day_start(start + 99 * SECOND) == start
    assert plan.day_start(start + 100 * SECOND) == start + 100 * SECOND
    changes, ts = [], start
    for _ in range(7):
        nxt = plan.next_change(ts)
        assert nxt is not None
        changes.append((nxt - start) // SECOND)
        ts = nxt
    assert changes == [5, 20, 30, 80, 90, 100, 105]  # the next day begins, then opens
    calendar = plan.session_calendar(start + 50 * SECOND)
    assert calendar is not None and calendar.scheduled_state(start + 50 * SECOND) is S.CONTINUOUS


def test_nasdaq_calendar_follows_new_york_and_stays_closed_at_weekends() -> None:
    plan = DayPlan("nasdaq")
    friday_noon = _ny(2026, 3, 6, 12)
    calendar = plan.session_calendar(friday_noon)
    assert calendar is not None and calendar.midnight == _ny(2026, 3, 6)
    assert calendar.scheduled_state(friday_noon) is S.CONTINUOUS
    assert plan.next_change(friday_noon) == _ny(2026, 3, 6, 15, 50)
    assert plan.next_change(_ny(2026, 3, 6, 17)) == _ny(2026, 3, 7)  # Saturday's midnight
    saturday = plan.session_calendar(_ny(2026, 3, 7, 10))
    assert saturday is not None and saturday.scheduled_state(_ny(2026, 3, 7, 10)) is S.CLOSED
    assert new_york_midnight(_ny(2026, 3, 8, 23)) == _ny(2026, 3, 8)  # DST starts that day
    assert plan.next_change(_ny(2026, 3, 8, 12)) == _ny(2026, 3, 9)


def test_unknown_calendar_and_too_short_a_day_are_refused() -> None:
    with pytest.raises(ValueError, match="calendar"):
        DayPlan("lunar")
    with pytest.raises(ValueError, match="10 seconds"):
        DayPlan("compressed", SECOND)


def test_a_day_missed_while_down_closes_first_expiring_day_orders_then_the_new_day_begins() -> None:
    engine = _engine()
    day = 1_800_000_000 * SECOND
    length = 60 * SECOND
    apply_session_input(engine, Advance("compressed", day, length), day + 40 * SECOND)
    assert engine.book("AAPL").state is S.CONTINUOUS
    engine.new_order("a", "day", "AAPL", Side.BUY, 100, 2_270_000, day + 41 * SECOND)
    engine.new_order(
        "a", "gtc", "AAPL", Side.BUY, 100, 2_260_000, day + 41 * SECOND, tif=TimeInForce.GTC
    )
    later = day + 2 * length
    events = apply_session_input(engine, Advance("compressed", later, length), later + 40)
    kinds = [e.TYPE for e in events]
    assert "crossed" in kinds and kinds.count("cancelled") == 1
    assert engine.book("AAPL").state is S.CLOSED  # 40 ns into the new day: night still
    assert [o.id for o in engine.open_orders("a")] == ["gtc"]


def test_going_back_to_continuous_opens_symbols_the_calendar_had_closed() -> None:
    engine = _engine()
    midnight = _ny(2026, 3, 6)
    apply_session_input(engine, Advance("nasdaq", midnight, 0), _ny(2026, 3, 6, 20))
    assert engine.book("AAPL").state is S.CLOSED
    events = apply_session_input(engine, Advance("continuous", 0, 0), _ny(2026, 3, 6, 21))
    assert engine.calendar is None and engine.book("AAPL").state is S.CONTINUOUS
    assert [e.reason for e in events if e.TYPE == "state"] == ["calendar", "calendar"]


def test_bad_state_moves_become_rejections_that_change_nothing_but_the_sequence() -> None:
    engine = _engine()
    for command, code in (
        (SetState("AAPL", "quote_only"), "illegal_transition"),
        (SetState("AAPL", "asleep"), "invalid_field"),
        (SetState("ZZZZ", "halted"), "unknown_symbol"),
        (EnableLuld("AAPL", 3, None), "invalid_field"),
        (EnableLuld("ZZZZ", 1, None), "unknown_symbol"),
    ):
        (event,) = apply_session_input(engine, command, 1)
        assert (event.TYPE, event.code) == ("rejected", code)  # type: ignore[union-attr]
    assert engine.book("AAPL").state is S.CONTINUOUS and engine.book("AAPL").luld is None
