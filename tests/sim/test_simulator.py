"""MarketSimulator: determinism, valid orders, the driving API, the summary."""

from __future__ import annotations

import pytest

from lob.engine.commands import CancelOrder, NewOrder, ReplaceOrder
from lob.engine.events import Accepted, Added, Replaced, Trade
from lob.engine.json_codec import event_to_dict
from lob.engine.prices import is_on_tick
from lob.sim.simulator import MarketSimulator
from lob.sim.universe import UniverseError


def _trace(seed: int, seconds: float, symbols: str = "AAPL,PNNY", rate: float = 2_000) -> list:
    sim = MarketSimulator(seed=seed, symbols=symbols, rate=rate)
    out = []
    for command, events in sim.stream(seconds):
        out.append((command, [event_to_dict(e) for e in events]))
    return out


def test_simulator_same_seed_gives_identical_commands_and_events() -> None:
    assert _trace(11, 3.0) == _trace(11, 3.0)


def test_simulator_different_seeds_give_different_runs() -> None:
    assert _trace(11, 2.0) != _trace(12, 2.0)


def test_simulator_same_seed_gives_identical_book_state_and_summary() -> None:
    a = MarketSimulator(seed=5, symbols="AAPL,MSFT,NVDA", rate=3_000)
    b = MarketSimulator(seed=5, symbols="AAPL,MSFT,NVDA", rate=3_000)
    assert a.run(5.0).to_dict() == b.run(5.0).to_dict()
    assert a.engine.state_hash(include_owners=True) == b.engine.state_hash(include_owners=True)
    assert a.report() == b.report()


def test_simulator_every_price_sent_is_on_tick_including_sub_dollar() -> None:
    sim = MarketSimulator(seed=3, symbols="AAPL,PNNY,SNDL", rate=3_000)
    prices = []
    for command, _ in sim.stream(4.0):
        if isinstance(command, NewOrder | ReplaceOrder) and command.price is not None:
            prices.append(command.price)
    assert len(prices) > 1_000
    assert all(is_on_tick(p) for p in prices)
    sub_dollar = [p for p in prices if p < 10_000]
    assert sub_dollar and any(p % 100 for p in sub_dollar)  # $0.0001 ticks are used


def test_simulator_default_run_has_no_rejections_and_a_sound_book() -> None:
    sim = MarketSimulator(seed=1)
    summary = sim.run(10.0)
    assert summary.rejects == 0, summary.reject_codes
    sim.engine.check_integrity()
    assert summary.trades > 0 and summary.cancels > 0 and summary.replaces > 0


def test_simulator_sends_all_three_command_kinds_and_trades() -> None:
    kinds: set[str] = set()
    events_seen: set[str] = set()
    sim = MarketSimulator(seed=2, symbols="MSFT", rate=1_000)
    for command, events in sim.stream(3.0):
        kinds.add(type(command).__name__)
        events_seen.update(e.TYPE for e in events)
    assert kinds == {NewOrder.__name__, CancelOrder.__name__, ReplaceOrder.__name__}
    assert {Accepted.TYPE, Added.TYPE, Trade.TYPE, Replaced.TYPE} <= events_seen
    assert "rejected" not in events_seen


def test_simulator_summary_counts_match_the_event_stream() -> None:
    counts = {"new": 0, "cancel": 0, "replace": 0, "trades": 0, "volume": 0}
    sim = MarketSimulator(seed=4, symbols="AAPL,NVDA", rate=2_000)
    for command, events in sim.stream(3.0):
        if isinstance(command, NewOrder):
            counts["new"] += 1
        elif isinstance(command, CancelOrder):
            counts["cancel"] += 1
        else:
            counts["replace"] += 1
        for e in events:
            if type(e) is Trade:
                counts["trades"] += 1
                counts["volume"] += e.qty
    summary = sim.summary()
    assert summary.orders == counts["new"]
    assert summary.cancels == counts["cancel"]
    assert summary.replaces == counts["replace"]
    assert summary.trades == counts["trades"]
    assert summary.volume == counts["volume"]
    assert sum(s.orders for s in summary.symbols.values()) == summary.orders


def test_simulator_timestamps_never_go_back_and_stay_in_the_run() -> None:
    sim = MarketSimulator(seed=6, symbols="AAPL,MSFT", rate=2_000)
    last = sim.start_ns
    for _, events in sim.stream(2.0):
        for e in events:
            assert e.ts >= last
            last = e.ts
    assert last <= sim.start_ns + 2_000_000_000
    assert sim.now_ns == sim.start_ns + 2_000_000_000


def test_simulator_rate_sets_the_message_count_roughly() -> None:
    slow = MarketSimulator(seed=8, symbols="AAPL", rate=500).run(20.0)
    fast = MarketSimulator(seed=8, symbols="AAPL", rate=2_000).run(20.0)
    assert 0.5 * 500 * 20 < slow.messages < 1.6 * 500 * 20
    assert 0.5 * 2_000 * 20 < fast.messages < 1.6 * 2_000 * 20


def test_simulator_step_until_reaches_the_timestamp() -> None:
    sim = MarketSimulator(seed=9, symbols="AAPL", rate=1_000)
    sent = sim.step_until(sim.start_ns + 1_500_000_000)
    assert sent > 0
    assert sim.now_ns == sim.start_ns + 1_500_000_000
    assert sim.summary().messages == sent


def test_simulator_run_in_pieces_equals_one_run() -> None:
    whole = MarketSimulator(seed=10, symbols="AAPL,PNNY", rate=1_500)
    whole.run(4.0)
    pieces = MarketSimulator(seed=10, symbols="AAPL,PNNY", rate=1_500)
    for _ in range(8):
        pieces.run(0.5)
    assert whole.summary().to_dict() == pieces.summary().to_dict()
    assert whole.engine.state_hash(True) == pieces.engine.state_hash(True)


def test_simulator_step_by_step_equals_one_run_with_a_callback() -> None:
    seen: list = []
    run = MarketSimulator(
        seed=13, symbols="AAPL,PNNY", rate=1_500, on_events=lambda c, e: seen.append((c, e))
    )
    run.run(3.0)
    stepped = _trace(13, 3.0, rate=1_500)  # stream() takes one action per step()
    assert [(c, [event_to_dict(e) for e in events]) for c, events in seen] == stepped
    assert len(stepped) == run.summary().messages


def test_simulator_on_events_callback_sees_every_command() -> None:
    seen = []
    sim = MarketSimulator(
        seed=12, symbols="AAPL", rate=1_000, on_events=lambda c, e: seen.append(c)
    )
    summary = sim.run(2.0)
    assert len(seen) == summary.messages


def test_simulator_unknown_symbol_raises_with_code() -> None:
    with pytest.raises(UniverseError) as info:
        MarketSimulator(seed=1, symbols="AAPL,ZZZZZ")
    assert info.value.code == "unknown_symbol"


def test_simulator_rejects_non_positive_rate() -> None:
    with pytest.raises(ValueError):
        MarketSimulator(seed=1, rate=0)


def test_simulator_around_one_dollar_switches_ticks_without_rejections(tmp_path) -> None:
    universe = tmp_path / "cheap.csv"
    universe.write_text("symbol,reference_price,daily_volatility\nONED,1.00,0.08\nNEAR,1.03,0.08\n")
    sim = MarketSimulator(seed=2, symbols=str(universe), rate=2_000)
    prices = []
    for command, _ in sim.stream(5.0):
        if isinstance(command, NewOrder | ReplaceOrder) and command.price is not None:
            prices.append(command.price)
    assert all(is_on_tick(p) for p in prices)
    assert any(p < 10_000 and p % 100 for p in prices)  # below $1: $0.0001 ticks
    assert any(p >= 10_000 for p in prices)  # at or above $1: cents
    assert sim.summary().rejects == 0


@pytest.mark.parametrize("seed", range(4))
def test_simulator_many_seeds_never_rejected_and_books_stay_sound(seed: int) -> None:
    sim = MarketSimulator(seed=seed, symbols="TSLA,LLY,SNDL,PNNY", rate=4_000)
    for _ in range(3):
        summary = sim.run(1.0)
        sim.engine.check_integrity()
    assert summary.rejects == 0, summary.reject_codes
    assert all(s.trades > 0 for s in summary.symbols.values())


def test_agent_accounts_lists_every_account_a_run_trades_as() -> None:
    from lob.sim.simulator import agent_accounts

    sim = MarketSimulator(seed=1, symbols="AAPL,NVDA", rate=2_000)
    used = {command.account for command, _ in sim.stream(20.0)}
    listed = agent_accounts()
    assert used <= set(listed)
    assert len(listed) == len(set(listed)) == 32 + 3 + 2
