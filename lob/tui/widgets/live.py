"""Redraw from the model on one shared timer, never per event.

The model absorbs every event as it arrives; widgets look at the model's
``version`` on the app's single ticker (``TICK_HZ`` times a second), each at
its own rate (a divisor of the ticker), and redraw only when the model moved
and their screen is shown. One ticker means the widgets that change together
are composed into the screen together, once per tick, and drawing work is
capped at the refresh rate however busy the market is.

``LinesWidget`` is the base of the busiest views (ladder, tape, chart): they
build their lines as rich ``Segment`` lists once per redraw and hand Textual
ready ``Strip`` objects (the line API), which skips parsing and wrapping text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from lob.tui.model import MarketState

__all__ = [
    "CHART_HZ",
    "LADDER_HZ",
    "TABLE_HZ",
    "TAPE_HZ",
    "TICK_HZ",
    "Line",
    "LinesWidget",
    "follow",
    "style",
]

TICK_HZ = 20
"""The ticker's rate: the fastest any widget redraws."""

LADDER_HZ = 20
"""The ladder: drawn at most 20 times a second."""

TAPE_HZ = 10
"""Time and sales: 10 times a second, faster than anyone reads a scrolling tape."""

CHART_HZ = 4
"""The chart and statistics: they move with trades, a few times a second is plenty."""

TABLE_HZ = 4
"""Tables (watchlist, blotter): a few times a second is plenty to read."""

Line = list[Segment]

_STYLES: dict[str, Style] = {}


def style(spec: str) -> Style:
    """A parsed rich ``Style`` for ``spec``, parsed once."""
    parsed = _STYLES.get(spec)
    if parsed is None:
        parsed = _STYLES[spec] = Style.parse(spec) if spec else Style()
    return parsed


class _Ticker:
    def __init__(self) -> None:
        self.count = 0
        self.followers: list[tuple[Widget, Callable[[], None], int, list[int]]] = []

    def tick(self) -> None:
        self.count += 1
        alive = []
        for follower in self.followers:
            widget, redraw, every, seen = follower
            if not widget.is_attached:
                continue
            alive.append(follower)
            if self.count % every:
                continue
            state: MarketState = widget._lob_state  # type: ignore[attr-defined]
            if state.version == seen[0] or not widget.screen.is_current:
                continue
            seen[0] = state.version
            redraw()
        self.followers = alive


def follow(widget: Widget, state: MarketState, redraw: Callable[[], None], hz: float) -> None:
    """Call ``redraw`` after the model changed, at most ``hz`` times a second."""
    app: App[Any] = widget.app
    ticker: _Ticker | None = getattr(app, "_lob_ticker", None)
    if ticker is None:
        ticker = _Ticker()
        app._lob_ticker = ticker  # type: ignore[attr-defined]
        app.set_interval(1 / TICK_HZ, ticker.tick)
    widget._lob_state = state  # type: ignore[attr-defined]
    every = max(1, round(TICK_HZ / hz))
    ticker.followers.append((widget, redraw, every, [-1]))


class LinesWidget(Widget):
    """A widget drawn as whole lines of segments (see the module docstring).

    ``redraw`` builds the lines at once and compares them with the lines on
    screen: only the lines that changed are marked dirty, so Textual restyles
    and composes those alone (a ladder whose book moved at two prices repaints
    two lines, not forty).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lines: list[Line] = []
        self._strips: list[Strip] = []
        self._built_for: tuple[int, int, Style] | None = None

    def build(self, width: int, height: int) -> list[Line]:
        """Every line of the widget, top to bottom."""
        raise NotImplementedError

    def _strip(self, line: Line, width: int, base: Style) -> Strip:
        return Strip(line).apply_style(base).adjust_cell_length(width, base)

    def redraw(self) -> None:
        width, height = self.size
        base = self.visual_style.rich_style  # the widget's colours, as Textual's own lines
        if self._built_for != (width, height, base) or not width or not height:
            self._built_for = None
            self.refresh()
            return
        lines = self.build(width, height)
        old = self._lines
        strips = self._strips
        changed: list[int] = []
        for y, line in enumerate(lines):
            if y >= len(old) or line != old[y]:
                if y < len(strips):
                    strips[y] = self._strip(line, width, base)
                else:
                    strips.append(self._strip(line, width, base))
                changed.append(y)
        if len(lines) < len(strips):
            changed.extend(range(len(lines), len(strips)))
            del strips[len(lines) :]
        self._lines = lines
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def on_resize(self) -> None:
        self._built_for = None

    def lines_text(self) -> list[str]:
        """The current lines as plain text (for tests)."""
        width, height = self.size
        return ["".join(s.text for s in line) for line in self.build(width, height)]

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        base = self.visual_style.rich_style
        if self._built_for != (width, height, base):
            self._lines = self.build(width, height)
            self._strips = [self._strip(line, width, base) for line in self._lines]
            self._built_for = (width, height, base)
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, base)
