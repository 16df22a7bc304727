"""The watchlist: one row per symbol with state, last, change, quote, volume, VWAP, trend.

The state column names the symbol's trading state in five letters and its
colour (``CONT`` continuous, ``HALT`` halted, ``O-AUC`` / ``C-AUC`` the opening
and closing auctions, ...). Bid and ask are the published quote
(``DataSource.quote``): on the embedded exchange odd-lot levels are left out.

Drawn as lines of segments (``LinesWidget``), a few times a second
(``TABLE_HZ``), from the model and each book's top level: cheaper than a
table widget re-rendering its cells, which matters with every symbol on
screen. Up/down (or j/k), PageUp/PageDown, Home/End move the cursor; the view
scrolls to keep it visible. ``s`` cycles the sort column, ``r`` reverses it;
``set_filter`` narrows the rows to symbols or names containing the text.
Enter (or a click) posts ``Watchlist.Opened`` with the symbol under the cursor.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.message import Message

from lob.tui import fmt
from lob.tui.source import DataSource
from lob.tui.widgets.live import TABLE_HZ, Line, LinesWidget, follow, style

__all__ = ["COLUMNS", "SORT_KEYS", "Watchlist"]

SORT_KEYS = ("symbol", "change", "volume", "spread", "last")
SPARK_WIDTH = 20
# (title, width, right-aligned)
COLUMNS = (
    ("Symbol", 7, False),
    ("State", 5, False),
    ("Last", 10, True),
    ("Chg %", 8, True),
    ("Bid", 10, True),
    ("Ask", 10, True),
    ("Spread", 8, True),
    ("Volume", 11, True),
    ("VWAP", 10, True),
    ("Trend", SPARK_WIDTH, False),
)
HEADER = "  ".join(
    f"{title:>{width}}" if right else f"{title:<{width}}" for title, width, right in COLUMNS
)


class Watchlist(LinesWidget, can_focus=True):
    """Symbols of the market (see the module docstring)."""

    BINDINGS = [  # noqa: RUF012
        ("up,k", "move(-1)", "Up"),
        ("down,j", "move(1)", "Down"),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        ("enter", "open", "Open"),
        ("s", "cycle_sort", "Sort"),
        ("r", "reverse_sort", "Reverse"),
    ]

    class Opened(Message):
        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.sort_key = "symbol"
        self.descending = False
        self.filter_text = ""
        self.cursor_row = 0
        self.scroll_row = 0
        self._shown: list[str] = []
        self._names = {info.symbol: info.name.upper() for info in source.symbols()}
        self.frames = 0
        """Redraws so far (the benchmark reads it)."""

    def on_mount(self) -> None:
        self._order()
        follow(self, self.source.state, self.rebuild, TABLE_HZ)

    # -- rows ----------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._shown)

    @property
    def selected_symbol(self) -> str | None:
        if not self._shown:
            return None
        return self._shown[min(self.cursor_row, len(self._shown) - 1)]

    def _spread(self, symbol: str) -> int:
        bid, ask = self.source.quote(symbol)
        if bid is not None and ask is not None:
            return ask.price - bid.price
        return 1 << 40

    def _order(self) -> None:
        """Filter and sort the symbols, keeping the cursor on the same one."""
        keep = self.selected_symbol
        state = self.source.state
        text = self.filter_text
        symbols = [
            s for s in state.symbols if not text or text in s or text in self._names.get(s, "")
        ]
        key = self.sort_key
        if key == "symbol":
            symbols.sort(reverse=self.descending)
        else:

            def value(s: str) -> float:
                sym = state.symbols[s]
                if key == "change":
                    return sym.change_pct
                if key == "volume":
                    return sym.volume
                if key == "spread":
                    return self._spread(s)
                return sym.last or 0

            symbols.sort(key=lambda s: (value(s), s), reverse=self.descending)
        self._shown = symbols
        if keep in symbols:
            self.cursor_row = symbols.index(keep)
        self.cursor_row = max(0, min(self.cursor_row, len(symbols) - 1))

    def rebuild(self) -> None:
        """Re-sort (values move) and redraw."""
        if self.sort_key != "symbol" or not self._shown:
            self._order()
        self.redraw()

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().upper()
        self.cursor_row = 0
        self._order()
        self.redraw()

    # -- keys ----------------------------------------------------------------

    def _visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    def action_move(self, rows: int) -> None:
        self.cursor_row = max(0, min(self.cursor_row + rows, len(self._shown) - 1))
        self.redraw()

    def action_page(self, pages: int) -> None:
        self.action_move(pages * self._visible_rows())

    def action_jump(self, row: int) -> None:
        self.cursor_row = max(0, row if row >= 0 else len(self._shown) - 1)
        self.redraw()

    def action_open(self) -> None:
        symbol = self.selected_symbol
        if symbol is not None:
            self.post_message(self.Opened(symbol))

    def action_cycle_sort(self) -> None:
        i = SORT_KEYS.index(self.sort_key)
        self.sort_key = SORT_KEYS[(i + 1) % len(SORT_KEYS)]
        self.descending = self.sort_key in ("change", "volume")
        self._order()
        self.redraw()
        self.notify(f"sorted by {self.sort_key}", timeout=1.5)

    def action_reverse_sort(self) -> None:
        self.descending = not self.descending
        self._order()
        self.redraw()

    def on_click(self, event: events.Click) -> None:
        row = self.scroll_row + event.y - 1
        if 0 <= row < len(self._shown):
            if row == self.cursor_row and event.chain > 1:
                self.action_open()
            self.cursor_row = row
            self.redraw()

    def on_focus(self) -> None:
        self.redraw()

    def on_blur(self) -> None:
        self.redraw()

    # -- drawing -------------------------------------------------------------

    def build(self, width: int, height: int) -> list[Line]:
        self.frames += 1
        rows = max(1, height - 1)
        if self.cursor_row < self.scroll_row:
            self.scroll_row = self.cursor_row
        elif self.cursor_row >= self.scroll_row + rows:
            self.scroll_row = self.cursor_row - rows + 1
        self.scroll_row = max(0, min(self.scroll_row, max(0, len(self._shown) - rows)))
        lines: list[Line] = [[Segment(" " + HEADER, style("bold"))]]
        state = self.source.state
        quote_of = self.source.quote
        focused = self.has_focus
        gap = "  "
        for index in range(self.scroll_row, min(len(self._shown), self.scroll_row + rows)):
            s = self._shown[index]
            sym = state.symbols[s]
            best_bid, best_ask = quote_of(s)
            bid = best_bid.price if best_bid is not None else None
            ask = best_ask.price if best_ask is not None else None
            state_label, state_style = fmt.state_label(sym.trading_state, short=True)
            change = fmt.change_style(sym.change)
            base = ""
            if index == self.cursor_row:
                base = " on #0b4f8a" if focused else " on grey23"
            elif index % 2:
                base = " on grey11"
            line = [
                Segment(f" {s:<7}{gap}", style("bold" + base)),
                Segment(
                    f"{state_label:<5}",
                    style(state_style if " on " in state_style else state_style + base),
                ),
                Segment(gap, style(base)),
                Segment(f"{fmt.price(sym.last):>10}{gap}", style(base)),
                Segment(
                    f"{fmt.pct(sym.change_pct) if sym.last else '-':>8}{gap}",
                    style(change + base),
                ),
                Segment(f"{fmt.price(bid):>10}{gap}", style("green" + base)),
                Segment(f"{fmt.price(ask):>10}{gap}", style("red" + base)),
                Segment(f"{fmt.price(ask - bid) if bid and ask else '-':>8}{gap}", style(base)),
                Segment(f"{fmt.qty(sym.volume):>11}{gap}", style(base)),
                Segment(f"{fmt.avg(sym.vwap):>10}{gap}", style("yellow" + base)),
                Segment(
                    f"{fmt.sparkline(sym.closes(SPARK_WIDTH), SPARK_WIDTH):<{SPARK_WIDTH}}",
                    style((change or "blue") + base),
                ),
            ]
            if base:
                used = sum(len(segment.text) for segment in line)
                line.append(Segment(" " * max(0, width - used), style(base)))
            lines.append(line)
        return lines
