"""Each account's private stream: the events of an input that concern it, as they happen.

Why a view of its own: the sequencer runs every listener for every input, so
the routing runs per order and is compiled with the order path. An input's
events go, whole and once, to the listeners of every account they name: both
sides of a trade, the owner of an order's other events; a rejection goes only
to whoever sent it (through its acknowledgement), and market-wide events
(state changes, crosses) name no account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from lob.engine.events import Event, Rejected, Trade

__all__ = ["PrivateListener", "PrivateStreams"]

PrivateListener = Callable[[list[Event]], None]

# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
_TRADE: Final = Trade
_REJECTED: Final = Rejected


class PrivateStreams:
    """Per-account listeners, and the sequencer listener that feeds them."""

    def __init__(self) -> None:
        self.listeners: dict[str, list[PrivateListener]] = {}

    def add(self, account: str, listener: PrivateListener) -> None:
        self.listeners.setdefault(account, []).append(listener)

    def remove(self, account: str, listener: PrivateListener) -> None:
        listeners = self.listeners.get(account)
        if listeners and listener in listeners:
            listeners.remove(listener)
            if not listeners:
                del self.listeners[account]

    def on_events(self, events: list[Event]) -> None:
        streams = self.listeners
        if not streams:
            return
        seen: set[str] = set()
        for event in events:
            kind = type(event)
            if kind is _TRADE:
                seen.add(event.buy_account)  # type: ignore[union-attr]
                seen.add(event.sell_account)  # type: ignore[union-attr]
            elif kind is not _REJECTED:
                account = getattr(event, "account", None)  # market-wide events have none
                if account is not None:
                    seen.add(account)
        for account in seen:
            for listener in streams.get(account, ()):
                listener(events)
