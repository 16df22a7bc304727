"""The trading-state machine: every legal transition, and illegal ones change nothing."""

from __future__ import annotations

import itertools

import pytest

from lob.engine import MatchingEngine, Side
from lob.engine.session import TRANSITIONS, IllegalTransition, check_transition
from lob.engine.types import CrossType, TradingState

STATES = list(TradingState)


@pytest.mark.parametrize(("state", "target"), sorted(TRANSITIONS))
def test_legal_transition_moves_the_symbol(state: TradingState, target: TradingState) -> None:
    engine = MatchingEngine()
    book = engine.add_symbol("XYZ")
    book.state = state
    events = engine.set_state("XYZ", target, ts=5)
    assert book.state is target
    changed = [e for e in events if e.TYPE == "state"]
    assert [(e.previous, e.state) for e in changed] == [(state, target)]
    crossed = [e for e in events if e.TYPE == "crossed"]
    assert [e.cross_type for e in crossed] == (
        [TRANSITIONS[state, target]] if TRANSITIONS[state, target] else []
    )


ILLEGAL = [pair for pair in itertools.product(STATES, STATES) if pair not in TRANSITIONS]


@pytest.mark.parametrize(("state", "target"), ILLEGAL)
def test_illegal_transition_raises_and_changes_nothing(
    state: TradingState, target: TradingState
) -> None:
    engine = MatchingEngine()
    book = engine.add_symbol("XYZ")
    book.state = state
    seq = engine.seq
    with pytest.raises(IllegalTransition):
        engine.set_state("XYZ", target, ts=5)
    assert book.state is state
    assert engine.seq == seq


def test_check_transition_names_the_cross() -> None:
    assert check_transition(TradingState.OPENING_AUCTION, TradingState.CONTINUOUS) is (
        CrossType.OPENING
    )
    assert check_transition(TradingState.CLOSING_AUCTION, TradingState.CLOSED) is (
        CrossType.CLOSING
    )
    assert check_transition(TradingState.QUOTE_ONLY, TradingState.CONTINUOUS) is CrossType.HALT
    assert check_transition(TradingState.CONTINUOUS, TradingState.HALTED) is None


def test_halted_symbol_takes_cancels_but_not_orders() -> None:
    engine = MatchingEngine()
    engine.new_order("A", "a1", "XYZ", Side.BUY, 100, 100_000, ts=1)
    engine.set_state("XYZ", "halted", ts=2)
    rejected = engine.new_order("B", "b1", "XYZ", Side.SELL, 100, 100_000, ts=3)
    assert [e.TYPE for e in rejected] == ["rejected"]
    assert rejected[0].code == "symbol_halted"
    assert engine.replace("A", "a1", ts=4, qty=50)[0].code == "symbol_halted"
    assert [e.TYPE for e in engine.cancel("A", "a1", ts=5)] == ["cancelled"]


def test_closed_symbol_rejects_orders_with_market_closed() -> None:
    engine = MatchingEngine()
    engine.add_symbol("XYZ")
    engine.set_state("XYZ", "closed", ts=1)
    events = engine.new_order("A", "a1", "XYZ", Side.BUY, 100, 100_000, ts=2)
    assert events[0].code == "market_closed"


def test_remove_symbol_takes_only_an_empty_book() -> None:
    engine = MatchingEngine()
    engine.new_order("A", "a1", "XYZ", Side.BUY, 100, 100_000, ts=1)
    engine.add_symbol("EMPTY")
    with pytest.raises(ValueError, match="still has orders"):
        engine.remove_symbol("XYZ")
    engine.remove_symbol("EMPTY")
    assert engine.symbols == ["XYZ"]
