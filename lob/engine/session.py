"""A symbol's trading day as an explicit state machine.

The table ``TRANSITIONS`` maps ``(state, next state)`` to what happens on the
way: nothing, or a cross. A transition that is not in the table raises
``IllegalTransition`` and changes nothing.

::

    pre_open -> opening_auction -> (opening cross) -> continuous
    continuous -> closing_auction -> (closing cross) -> closed
    continuous | opening_auction | closing_auction -> halted
    halted -> quote_only -> (halt cross) -> continuous
    continuous -> paused (LULD) -> (halt cross) -> continuous
    closed -> pre_open (the next day)

What each state lets in (``admits``):

- ``pre_open``, ``opening_auction``, ``quote_only``, ``paused``: orders rest
  without matching (the book may lock or cross) and wait for the cross;
  market, IOC and FOK orders are refused.
- ``continuous``, ``closing_auction``: continuous matching; the closing
  auction also publishes imbalance information before the closing cross.
- ``halted``: cancels only.
- ``closed``: nothing.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

from lob.engine.types import CrossType, TradingState

__all__ = [
    "ACCEPTS_ORDERS",
    "AUCTION_STATES",
    "MATCHING_STATES",
    "TRANSITIONS",
    "IllegalTransition",
    "check_transition",
]

S = TradingState

TRANSITIONS: dict[tuple[TradingState, TradingState], CrossType | None] = {
    (S.PRE_OPEN, S.OPENING_AUCTION): None,
    (S.PRE_OPEN, S.CONTINUOUS): CrossType.OPENING,
    (S.PRE_OPEN, S.HALTED): None,
    (S.PRE_OPEN, S.CLOSED): None,
    (S.OPENING_AUCTION, S.CONTINUOUS): CrossType.OPENING,
    (S.OPENING_AUCTION, S.HALTED): None,
    (S.CONTINUOUS, S.CLOSING_AUCTION): None,
    (S.CONTINUOUS, S.HALTED): None,
    (S.CONTINUOUS, S.PAUSED): None,
    (S.CONTINUOUS, S.CLOSED): CrossType.CLOSING,
    (S.CLOSING_AUCTION, S.CLOSED): CrossType.CLOSING,
    (S.CLOSING_AUCTION, S.HALTED): None,
    (S.HALTED, S.QUOTE_ONLY): None,
    (S.HALTED, S.CLOSED): None,
    (S.QUOTE_ONLY, S.CONTINUOUS): CrossType.HALT,
    (S.QUOTE_ONLY, S.HALTED): None,
    (S.QUOTE_ONLY, S.CLOSED): None,
    (S.PAUSED, S.CONTINUOUS): CrossType.HALT,
    (S.PAUSED, S.HALTED): None,
    (S.PAUSED, S.CLOSED): None,
    (S.CLOSED, S.PRE_OPEN): None,
}
"""Every legal transition, and the cross it runs (None: no cross)."""

MATCHING_STATES: Final = frozenset({S.CONTINUOUS, S.CLOSING_AUCTION})
"""States in which incoming orders match at once."""

AUCTION_STATES: Final = frozenset({S.PRE_OPEN, S.OPENING_AUCTION, S.QUOTE_ONLY, S.PAUSED})
"""States in which orders rest without matching and wait for a cross."""

ACCEPTS_ORDERS: Final = MATCHING_STATES | AUCTION_STATES
"""States that accept new orders and replaces (halted and closed take only cancels)."""


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class IllegalTransition(ValueError):
    """A state change the trading day does not allow; nothing was changed."""

    def __init__(self, state: TradingState, target: TradingState) -> None:
        super().__init__(f"cannot go from {state} to {target}")
        self.state = state
        self.target = target


def check_transition(state: TradingState, target: TradingState) -> CrossType | None:
    """The cross a legal transition runs, or ``IllegalTransition``."""
    try:
        return TRANSITIONS[state, target]
    except KeyError:
        raise IllegalTransition(state, target) from None
