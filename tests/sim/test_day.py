"""A simulated trading day: crosses that print, auction orders, expiry, a clean ITCH file."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lob.cli.app import app
from lob.engine.calendar import DaySchedule, hms
from lob.engine.events import Accepted, Cancelled, Crossed, Event, Imbalance, Rejected, Trade
from lob.engine.json_codec import event_to_dict
from lob.engine.types import CancelReason, OrderType, TimeInForce, TradingState
from lob.feed.itch_book import ItchBookBuilder
from lob.feed.itch_file import ItchFileWriter, read_messages
from lob.feed.itch_mapper import ItchMapper
from lob.sim.agents import VALUE_ACCOUNT
from lob.sim.day import DaySimulator, scaled_schedule

SECOND = 1_000_000_000
SYMBOLS = "AAPL,MSFT"
LENGTH = 200.0
RATE = 200.0


class Day:
    """One recorded day: every event, and its ITCH feed written as it happened."""

    def __init__(self, seed: int = 3, length: float = LENGTH, rate: float = RATE) -> None:
        self.sim = DaySimulator(seed=seed, symbols=SYMBOLS, rate=rate, day_length=length)
        self.events: list[Event] = []
        self.stream = io.BytesIO()
        self.writer = ItchFileWriter(self.stream, ItchMapper(self.sim.midnight, self.sim.symbols))
        self.writer.begin(self.sim.start_ns - self.sim.midnight)
        self.sim.on_events = self.record

    def record(self, command: object, events: list[Event]) -> None:
        self.events.extend(events)
        self.writer.write_events(events)

    def book_from_feed(self) -> ItchBookBuilder:
        builder = ItchBookBuilder()
        builder.apply_all(read_messages(io.BytesIO(self.stream.getvalue())))
        return builder


@pytest.fixture(scope="module")
def day() -> Day:
    recorded = Day()
    recorded.summary = recorded.sim.run()  # type: ignore[attr-defined]
    return recorded


def _window(d: Day, start: int, end: int) -> tuple[int, int]:
    return d.sim.midnight + start, d.sim.midnight + end


def test_scaled_schedule_of_the_real_length_is_nasdaqs_day() -> None:
    assert scaled_schedule(12 * 3600) == DaySchedule()


def test_scaled_schedule_keeps_the_real_days_proportions() -> None:
    s = scaled_schedule(720)  # one second per real minute
    assert s.pre_open == hms("04:00")
    assert s.opening_auction - s.pre_open == 325 * SECOND
    assert s.moo_cutoff - s.pre_open == 328 * SECOND
    assert s.loo_cutoff - s.pre_open == 329_500_000_000
    assert s.open - s.pre_open == 330 * SECOND
    assert s.closing_auction - s.pre_open == 710 * SECOND
    assert s.close_cutoff - s.pre_open == 715 * SECOND
    assert s.close - s.pre_open == 720 * SECOND


@pytest.mark.parametrize("length", [100.0, 50_000.0])
def test_scaled_schedule_outside_the_allowed_lengths_raises(length: float) -> None:
    with pytest.raises(ValueError, match="a day lasts"):
        scaled_schedule(length)


def test_day_opens_with_an_opening_cross_that_prints(day: Day) -> None:
    crossed = [e for e in day.events if type(e) is Crossed and e.cross_type.value == "opening"]
    assert sorted(e.symbol for e in crossed) == SYMBOLS.split(",")
    schedule = day.sim.calendar.schedule
    for e in crossed:
        assert e.qty > 0 and e.price is not None
        assert e.ts == day.sim.midnight + schedule.open
    assert all(c.qty > 0 for c in day.summary.opening.values())  # type: ignore[attr-defined]


def test_day_trades_continuously_between_the_crosses(day: Day) -> None:
    s = day.sim.calendar.schedule
    start, end = _window(day, s.open, s.close)
    continuous = [e for e in day.events if type(e) is Trade and e.aggressor is not None]
    assert len(continuous) > 100
    assert all(start <= e.ts < end for e in continuous)


def test_day_closes_with_a_closing_cross_that_prints(day: Day) -> None:
    crossed = [e for e in day.events if type(e) is Crossed and e.cross_type.value == "closing"]
    assert sorted(e.symbol for e in crossed) == SYMBOLS.split(",")
    for e in crossed:
        assert e.qty > 0 and e.price is not None
        assert e.ts == day.sim.end_ns
    for symbol in day.sim.symbols:
        assert day.sim.engine.book(symbol).state is TradingState.CLOSED


def test_day_orders_expire_at_the_close(day: Day) -> None:
    expired = [
        e
        for e in day.events
        if type(e) is Cancelled and e.resting and e.reason is CancelReason.EXPIRED
    ]
    assert expired and all(e.ts == day.sim.end_ns for e in expired)
    assert day.summary.expired == len(expired)  # type: ignore[attr-defined]
    for symbol in day.sim.symbols:  # the agents send DAY orders only: the book is empty
        book = day.sim.engine.book(symbol)
        assert book.best_bid is None and book.best_ask is None


def test_day_agents_send_every_kind_of_auction_order(day: Day) -> None:
    kinds = {e.order_type for e in day.events if type(e) is Accepted}
    assert {OrderType.MOO, OrderType.LOO, OrderType.MOC, OrderType.LOC, OrderType.IO} <= kinds


def test_day_auction_orders_respect_the_cut_offs(day: Day) -> None:
    s = day.sim.calendar.schedule
    cutoff = {
        OrderType.MOO: s.moo_cutoff,
        OrderType.LOO: s.loo_cutoff,
        OrderType.MOC: s.close_cutoff,
        OrderType.LOC: s.close_cutoff,
        OrderType.IO: s.close,
    }
    for e in day.events:
        if type(e) is Accepted and e.order_type in cutoff:
            assert e.ts < day.sim.midnight + cutoff[e.order_type]


def test_day_value_traders_offset_published_imbalances_with_io_orders(day: Day) -> None:
    io_orders = [e for e in day.events if type(e) is Accepted and e.order_type is OrderType.IO]
    assert io_orders and all(e.account == VALUE_ACCOUNT for e in io_orders)
    for order in io_orders:  # each follows an imbalance published on the other side
        before = [
            e
            for e in day.events
            if type(e) is Imbalance and e.symbol == order.symbol and e.ts == order.ts
        ]
        assert before and before[-1].imbalance_side not in (None, order.side)


def test_day_no_market_or_ioc_orders_outside_continuous_trading(day: Day) -> None:
    s = day.sim.calendar.schedule
    start, end = _window(day, s.open, s.close)
    for e in day.events:
        if type(e) is Accepted and (e.order_type is OrderType.MARKET or e.tif is TimeInForce.IOC):
            assert start <= e.ts < end


def test_day_nothing_the_simulator_sends_is_rejected(day: Day) -> None:
    assert [e for e in day.events if type(e) is Rejected] == []
    assert day.summary.run.rejects == 0  # type: ignore[attr-defined]


def test_day_imbalance_published_every_second_in_both_auction_windows(day: Day) -> None:
    s = day.sim.calendar.schedule
    for symbol in day.sim.symbols:
        for cross, (start, end) in (
            ("opening", _window(day, s.opening_auction, s.open)),
            ("closing", _window(day, s.closing_auction, s.close)),
        ):
            times = [
                e.ts
                for e in day.events
                if type(e) is Imbalance and e.symbol == symbol and e.cross_type.value == cross
            ]
            assert times and times[0] == start and all(start <= t < end for t in times)
            gaps = [b - a for a, b in zip([start, *times], [*times, end], strict=True)]
            assert max(gaps) <= SECOND


def test_day_itch_feed_rebuilds_the_engine_book_mid_day_and_after_the_close() -> None:
    d = Day(seed=5)
    s = d.sim.calendar.schedule
    d.sim.run_until((s.open - s.pre_open) / SECOND + 20.0)
    book = d.sim.engine.book("AAPL")
    assert book.best_bid is not None and book.best_ask is not None  # a live book
    assert d.book_from_feed().state_hash() == d.sim.engine.state_hash()
    d.sim.run()
    d.writer.end(d.sim.now_ns - d.sim.midnight)
    messages = list(read_messages(io.BytesIO(d.stream.getvalue())))
    crosses = [m for m in messages if m.TYPE == "Q"]
    assert sorted(m.cross_type for m in crosses) == ["C", "C", "O", "O"]
    assert all(m.shares > 0 for m in crosses)
    assert d.book_from_feed().state_hash() == d.sim.engine.state_hash()


def _fingerprint(seed: int) -> tuple[list[dict[str, Any]], bytes]:
    d = Day(seed=seed, length=150.0, rate=100.0)
    d.sim.run()
    return [event_to_dict(e) for e in d.events], d.stream.getvalue()


def test_day_same_seed_same_events_and_feed_bytes() -> None:
    first = _fingerprint(11)
    assert first == _fingerprint(11)
    assert first[1] != _fingerprint(12)[1]


def _simulate_day(*args: str) -> Any:
    return CliRunner().invoke(app, ["simulate", "--day", *args])


def test_simulate_day_json_prints_both_crosses_and_writes_the_same_itch_bytes(
    tmp_path: Path,
) -> None:
    args = ("--seed", "4", "--symbols", "AAPL", "--day-length", "150", "--rate", "100", "--json")
    first = _simulate_day(*args, "--itch-out", str(tmp_path / "a.itch"))
    second = _simulate_day(*args, "--itch-out", str(tmp_path / "b.itch"))
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    assert (tmp_path / "a.itch").read_bytes() == (tmp_path / "b.itch").read_bytes()
    out = json.loads(first.stdout)
    assert out["opening"]["AAPL"]["shares"] > 0
    assert out["closing"]["AAPL"]["shares"] > 0
    assert out["imbalance_samples"] == len(out["imbalances"]) > 0
    assert out["run"]["rejects"] == 0 and out["run"]["trades"] > 0
    assert "spread" in out["report"]
    builder = ItchBookBuilder()
    with (tmp_path / "a.itch").open("rb") as stream:
        builder.apply_all(read_messages(stream))
    assert builder.state_hash() == out["state_hash"]


def test_simulate_day_prints_crosses_and_imbalances() -> None:
    result = _simulate_day("--symbols", "MSFT", "--day-length", "150", "--rate", "100")
    assert result.exit_code == 0, result.output
    assert "crosses" in result.stdout and "imbalance information" in result.stdout
    assert "auction orders:" in result.stdout


def test_simulate_day_too_short_a_day_is_a_clear_error() -> None:
    result = _simulate_day("--day-length", "10", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "invalid_field"


@pytest.mark.parametrize("extra", [("--realtime",), ("--url", "http://127.0.0.1:9"), ("--db", "x")])
def test_simulate_day_with_an_other_mode_is_a_clear_error(extra: tuple[str, ...]) -> None:
    result = _simulate_day("--json", *extra)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "invalid_field"
