"""What the exchange tells about each symbol's trading day: state, bands, crosses, imbalance.

Why a view of events and not a look at the engine alone: the last cross and
the latest imbalance information are events, not book state, and subscribers
of the WebSocket ``state`` and ``imbalance`` channels want them as they
happen. The sequencer feeds ``on_events`` after every input (and the journal
replay does at start-up), so this view always matches the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from lob.engine.engine import MatchingEngine
from lob.engine.events import BandsChanged, Crossed, Event, Imbalance, StateChanged
from lob.engine.json_codec import event_to_dict
from lob.engine.prices import format_price
from lob.engine.types import TradingState

__all__ = ["STATE_CHANNELS", "TradingView"]

STATE_CHANNELS = ("state", "imbalance")
_WINDOWS = frozenset(
    {
        TradingState.PRE_OPEN,
        TradingState.OPENING_AUCTION,
        TradingState.CLOSING_AUCTION,
        TradingState.QUOTE_ONLY,
        TradingState.PAUSED,
    }
)
"""States in which the engine publishes imbalance information (a cross is ahead)."""

Callback = Callable[[dict[str, Any]], None]

# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
# ``on_events`` tests every event of every order against these.
_IMBALANCE: Final = Imbalance
_STATE_CHANGED: Final = StateChanged
_CROSSED: Final = Crossed
_BANDS_CHANGED: Final = BandsChanged


class TradingView:
    """Last cross and latest imbalance per symbol, and the subscribers to them."""

    def __init__(self, engine: MatchingEngine) -> None:
        self.engine = engine
        self.last_cross: dict[str, Crossed] = {}
        self.imbalance: dict[str, Imbalance] = {}
        self._subs: dict[tuple[str, str], list[Callback]] = {}

    # -- input ---------------------------------------------------------------

    def on_events(self, events: list[Event]) -> None:
        for event in events:
            kind = type(event)
            if kind is _IMBALANCE:
                i: Imbalance = event  # type: ignore[assignment]
                self.imbalance[i.symbol] = i
                self._notify(i.symbol, "imbalance", i)
            elif kind is _STATE_CHANGED:
                s: StateChanged = event  # type: ignore[assignment]
                if s.state not in _WINDOWS:
                    self.imbalance.pop(s.symbol, None)
                self._notify(s.symbol, "state", s)
            elif kind is _CROSSED:
                c: Crossed = event  # type: ignore[assignment]
                self.last_cross[c.symbol] = c
                self._notify(c.symbol, "state", c)
            elif kind is _BANDS_CHANGED:
                b: BandsChanged = event  # type: ignore[assignment]
                self._notify(b.symbol, "state", b)

    def _notify(self, symbol: str, channel: str, event: Event) -> None:
        subscribers = self._subs.get((symbol, channel))
        if subscribers:
            body = {**event_to_dict(event), "channel": channel}
            for callback in list(subscribers):
                callback(body)

    # -- subscribers ---------------------------------------------------------

    def subscribe(self, symbol: str, channel: str, callback: Callback) -> dict[str, Any] | None:
        """Follow ``channel`` of ``symbol``; return the message that starts it (if any)."""
        self._subs.setdefault((symbol, channel), []).append(callback)
        if channel == "state":
            return {**self.status(symbol), "type": "trading_state", "channel": "state"}
        latest = self.latest_imbalance(symbol)
        return None if latest is None else {**latest, "channel": "imbalance"}

    def unsubscribe(self, symbol: str, channel: str, callback: Callback) -> None:
        subscribers = self._subs.get((symbol, channel))
        if subscribers and callback in subscribers:
            subscribers.remove(callback)
            if not subscribers:
                del self._subs[(symbol, channel)]

    # -- reading -------------------------------------------------------------

    def bands(self, symbol: str) -> dict[str, Any] | None:
        monitor = self.engine.book(symbol).luld
        if monitor is None:
            return None
        bands = monitor.bands
        return {
            "tier": monitor.tier,
            "reference": format_price(bands.reference),
            "lower": format_price(bands.lower),
            "upper": format_price(bands.upper),
        }

    def status(self, symbol: str) -> dict[str, Any]:
        """State, bands and last cross of ``symbol``."""
        cross = self.last_cross.get(symbol)
        return {
            "symbol": symbol,
            "state": str(self.engine.book(symbol).state),
            "bands": self.bands(symbol),
            "last_cross": None if cross is None else event_to_dict(cross),
            "engine_seq": self.engine.seq,
        }

    def latest_imbalance(self, symbol: str) -> dict[str, Any] | None:
        """The latest imbalance information while ``symbol`` waits for a cross, else None."""
        event = self.imbalance.get(symbol)
        if event is None or self.engine.book(symbol).state not in _WINDOWS:
            return None
        return event_to_dict(event)
