"""The intraday price chart: bar closes and the session VWAP in braille dots.

Each character cell holds a 2 x 4 grid of braille dots, so a 60 x 12 widget
plots 120 points at 48 levels. The price line is green when the last close is
at or above the reference price, red below it; the VWAP line is yellow. The
left axis gives the high, middle and low of the range; the bottom line gives
the first and last bar times. Drawn by lob itself so it needs no plotting
library and renders the same bytes in snapshot tests.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.reactive import reactive

from lob.tui import fmt
from lob.tui.source import DataSource
from lob.tui.widgets.live import CHART_HZ, Line, LinesWidget, follow, style

__all__ = ["PriceChart", "braille_plot"]

_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_AXIS = 10


def _dot(cells: list[list[tuple[int, int]]], x: int, y: int, owner: int) -> None:
    row, col = y // 4, x // 2
    bits, _ = cells[row][col]
    cells[row][col] = (bits | _DOTS[x % 2][y % 4], owner)


def braille_plot(
    series: list[list[int]], width: int, height: int, low: int, high: int
) -> list[list[tuple[int, int]]]:
    """Rasterise series into ``height`` rows of ``width`` cells.

    Returns, per row, a list of (dot bits, series index or -1) per cell; a cell
    shared by two series takes the colour of the first one drawn (lower index).
    """
    cells = [[(0, -1) for _ in range(width)] for _ in range(height)]
    levels = height * 4
    span = max(1, high - low)

    def y_of(value: int) -> int:
        return min(levels - 1, max(0, (high - value) * (levels - 1) // span))

    columns = width * 2
    for index in reversed(range(len(series))):
        points = series[index][-columns:]
        if not points:
            continue
        # Stretch the points over the full width and join neighbours with straight lines.
        scale = (columns - 1) / (len(points) - 1) if len(points) > 1 else 0.0
        previous: tuple[int, int] | None = None
        for i, value in enumerate(points):
            x, y = round(i * scale), y_of(value)
            if previous is None:
                _dot(cells, x, y, index)
            else:
                px, py = previous
                for step in range(1, x - px + 1):
                    yy = py + (y - py) * step // (x - px)
                    lo, hi = sorted((py + (y - py) * (step - 1) // (x - px), yy))
                    for y2 in range(lo, hi + 1):
                        _dot(cells, px + step, y2, index)
                if x == px:
                    for y2 in range(min(y, py), max(y, py) + 1):
                        _dot(cells, x, y2, index)
            previous = (x, y)
    return cells


class PriceChart(LinesWidget):
    """Closes of the session's bars and the running VWAP (see the module docstring)."""

    symbol: reactive[str] = reactive("")

    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.source = source

    def on_mount(self) -> None:
        follow(self, self.source.state, self.redraw, CHART_HZ)

    def watch_symbol(self) -> None:
        self.redraw()

    def build(self, width: int, height: int) -> list[Line]:
        sym = self.source.state.symbols.get(self.symbol)
        plot_width = max(1, width - _AXIS)
        plot_height = max(1, height - 1)
        if sym is None or not sym.bars:
            return [[Segment("no trades yet", style("dim"))]]
        bars = sym.bars[-plot_width * 2 :]
        vwaps: list[int] = []
        volume = notional = 0
        for bar in sym.bars[: len(sym.bars) - len(bars)]:
            volume += bar.volume
            notional += bar.notional
        for bar in bars:
            volume += bar.volume
            notional += bar.notional
            vwaps.append(notional // volume if volume else bar.close)
        closes = [bar.close for bar in bars]
        low = min(min(bar.low for bar in bars), min(vwaps))
        high = max(max(bar.high for bar in bars), max(vwaps))
        cells = braille_plot([closes, vwaps], plot_width, plot_height, low, high)
        up = closes[-1] >= sym.reference if sym.reference else True
        colours = (style("green" if up else "red"), style("yellow"))
        plain, dim = style(""), style("dim")
        labels = {
            0: fmt.price(high),
            plot_height // 2: fmt.avg((high + low) // 2),
            plot_height - 1: fmt.price(low),
        }
        lines: list[Line] = []
        for r, row in enumerate(cells):
            line = [Segment(f"{labels.get(r, ''):>{_AXIS - 1}} ", dim)]
            # Runs of cells of one colour become one segment.
            run: list[str] = []
            owner_of_run = -2
            for bits, owner in row:
                if owner != owner_of_run and run:
                    line.append(
                        Segment("".join(run), colours[owner_of_run] if owner_of_run >= 0 else plain)
                    )
                    run = []
                owner_of_run = owner
                run.append(chr(0x2800 + bits))
            if run:
                line.append(
                    Segment("".join(run), colours[owner_of_run] if owner_of_run >= 0 else plain)
                )
            lines.append(line)
        first, last = fmt.clock(bars[0].start), fmt.clock(bars[-1].start)
        gap = max(1, plot_width - len(first) - len(last))
        lines.append([Segment(" " * _AXIS + first + " " * gap + last, dim)])
        return lines
