"""Intervals, times and money text at the analytics edge."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from lob.analytics.errors import AnalyticsError
from lob.analytics.timefmt import (
    decimal_text,
    format_interval,
    format_time,
    parse_interval,
    parse_time,
    round_ratio,
)

NY = ZoneInfo("America/New_York")
NS = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "ns"),
    [("1s", NS), ("90s", 90 * NS), ("1m", 60 * NS), ("15M", 900 * NS), ("1h", 3600 * NS),
     ("1d", 86_400 * NS), (" 5m ", 300 * NS)],
)  # fmt: skip
def test_parse_interval_units_give_nanoseconds(text: str, ns: int) -> None:
    assert parse_interval(text) == ns
    assert parse_interval(format_interval(ns)) == ns


@pytest.mark.parametrize("text", ["", "m", "1", "0s", "2d", "1w", "1.5m", "-1m", "86401s"])
def test_parse_interval_outside_one_second_to_one_day_is_refused(text: str) -> None:
    with pytest.raises(AnalyticsError) as info:
        parse_interval(text)
    assert info.value.code == "invalid_interval"


def test_parse_time_reads_clock_iso_and_nanoseconds() -> None:
    day = int(dt.datetime(2026, 7, 1, 12, 0, tzinfo=NY).timestamp()) * NS
    ten = int(dt.datetime(2026, 7, 1, 10, 0, tzinfo=NY).timestamp()) * NS
    assert parse_time("10:00", day) == ten
    assert parse_time("10:00:00.5", lambda: day) == ten + NS // 2
    assert parse_time("2026-07-01T10:00:00") == ten
    assert parse_time("2026-07-01T14:00:00+00:00") == ten
    assert parse_time(str(ten)) == ten
    assert format_time(ten) == "10:00:00"
    assert format_time(ten + 5_000_000, with_date=True) == "2026-07-01 10:00:00.005"


@pytest.mark.parametrize("text", ["noon", "25:00", "10:61", "2026-13-01", "10h"])
def test_parse_time_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(AnalyticsError) as info:
        parse_time(text, 0)
    assert info.value.code == "invalid_time"


def test_parse_time_clock_without_a_day_is_refused() -> None:
    with pytest.raises(AnalyticsError) as info:
        parse_time("10:00", lambda: None)
    assert info.value.code == "invalid_time"


@pytest.mark.parametrize(
    ("units", "text"),
    [(1_872_500, "187.25"), (1, "0.0001"), (0, "0.00"), (-50, "-0.005"), (-1_872_534, "-187.2534"),
     (10**20 + 1, "10000000000000000.0001")],
)  # fmt: skip
def test_decimal_text_is_exact_for_any_sign_and_size(units: int, text: str) -> None:
    assert decimal_text(units) == text


@pytest.mark.parametrize(
    ("n", "d", "q"), [(5, 2, 3), (-5, 2, -3), (4, 3, 1), (5, 3, 2), (-4, 3, -1), (0, 7, 0)]
)
def test_round_ratio_rounds_halves_away_from_zero(n: int, d: int, q: int) -> None:
    assert round_ratio(n, d) == q
