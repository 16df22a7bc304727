"""The exchange's running totals of inputs, trades and rejections (``GET /metrics``).

A listener of the sequencer like every view, so it runs per input and is
compiled with the order path. The totals live in a plain dict that the
metrics endpoint reads and other counters (HTTP requests) share.
"""

from __future__ import annotations

from typing import Final

from lob.engine.events import Event, Rejected, Trade

__all__ = ["EventCounters"]

# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
_TRADE: Final = Trade
_REJECTED: Final = Rejected


class EventCounters:
    """Counts ``commands``, ``trades`` and ``rejected`` into ``totals``."""

    def __init__(self, totals: dict[str, int]) -> None:
        self.totals = totals
        for name in ("commands", "rejected", "trades"):
            totals.setdefault(name, 0)

    def on_events(self, events: list[Event]) -> None:
        totals = self.totals
        totals["commands"] += 1
        for event in events:
            kind = type(event)
            if kind is _TRADE:
                totals["trades"] += 1
            elif kind is _REJECTED:
                totals["rejected"] += 1
