"""Redraw from the model on a timer, never per event.

The model absorbs every event as it arrives; a widget looks at the model's
``version`` at most ``hz`` times a second and redraws only when it moved and
its screen is the one being shown. This caps drawing work at the refresh rate
however busy the market is.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.widget import Widget

from lob.tui.model import MarketState

__all__ = ["LADDER_HZ", "TABLE_HZ", "follow"]

LADDER_HZ = 20
"""Ladder, tape and chart: the busiest views, drawn at most 20 times a second."""

TABLE_HZ = 4
"""Tables (watchlist, blotter): a few times a second is plenty to read."""


def follow(widget: Widget, state: MarketState, redraw: Callable[[], None], hz: float) -> None:
    """Call ``redraw`` after the model changed, at most ``hz`` times a second."""
    seen = -1

    def poll() -> None:
        nonlocal seen
        if state.version == seen or not widget.screen.is_current:
            return
        seen = state.version
        redraw()

    widget.set_interval(1 / hz, poll)
