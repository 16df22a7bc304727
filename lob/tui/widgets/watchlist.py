"""The watchlist: one row per symbol with last, change, inside quote, volume, VWAP.

Rows are rebuilt from the model a few times a second (``TABLE_HZ``), keeping
the cursor on the same symbol. ``s`` cycles the sort column, ``r`` reverses
it; ``filter`` narrows the rows to symbols or names containing the text.
Enter posts ``Watchlist.Opened`` with the symbol under the cursor.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from lob.tui import fmt
from lob.tui.source import DataSource
from lob.tui.widgets.live import TABLE_HZ, follow

__all__ = ["SORT_KEYS", "Watchlist"]

COLUMNS = ("Symbol", "Last", "Chg %", "Bid", "Ask", "Spread", "Volume", "VWAP", "Trend")
SORT_KEYS = ("symbol", "change", "volume", "spread", "last")
SPARK_WIDTH = 20


class Watchlist(DataTable[object]):
    """Symbols of the market (see the module docstring)."""

    BINDINGS = [  # noqa: RUF012
        ("s", "cycle_sort", "Sort"),
        ("r", "reverse_sort", "Reverse"),
        ("j", "cursor_down", "Down"),
        ("k", "cursor_up", "Up"),
    ]

    class Opened(Message):
        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.source = source
        self.sort_key = "symbol"
        self.descending = False
        self.filter_text = ""
        self._shown: list[str] = []
        self._values: dict[str, tuple[tuple[str, str, str], ...]] = {}
        self.frames = 0
        """Rebuilds so far (the benchmark reads it)."""

    def on_mount(self) -> None:
        for name in COLUMNS:
            self.add_column(name, key=name)
        self.rebuild()
        follow(self, self.source.state, self.rebuild, TABLE_HZ)

    @property
    def selected_symbol(self) -> str | None:
        if not self._shown or self.cursor_row >= len(self._shown):
            return None
        return self._shown[self.cursor_row]

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().upper()
        self.rebuild()

    def action_cycle_sort(self) -> None:
        i = SORT_KEYS.index(self.sort_key)
        self.sort_key = SORT_KEYS[(i + 1) % len(SORT_KEYS)]
        self.descending = self.sort_key in ("change", "volume")
        self.rebuild()
        self.notify(f"sorted by {self.sort_key}", timeout=1.5)

    def action_reverse_sort(self) -> None:
        self.descending = not self.descending
        self.rebuild()

    def action_select_cursor(self) -> None:
        symbol = self.selected_symbol
        if symbol is not None:
            self.post_message(self.Opened(symbol))

    def _spread(self, symbol: str) -> int:
        book = self.source.book(symbol, depth=1)
        if book.bids and book.asks:
            return book.asks[0].price - book.bids[0].price
        return 1 << 40

    def rebuild(self) -> None:
        self.frames += 1
        state = self.source.state
        names = {info.symbol: info.name for info in self.source.symbols()}
        symbols = [
            s
            for s in state.symbols
            if not self.filter_text
            or self.filter_text in s
            or self.filter_text in names.get(s, "").upper()
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
        rows = {s: self._cells(s) for s in symbols}
        if symbols == self._shown and self.row_count == len(symbols):
            # Same rows in the same order: touch only the cells whose text or colour moved.
            for s in symbols:
                old = self._values.get(s)
                for column, (cell, before) in enumerate(zip(rows[s], old or (), strict=False)):
                    if cell != before:
                        self.update_cell(s, COLUMNS[column], _text(cell))
                self._values[s] = rows[s]
            return
        keep = self.selected_symbol
        self.clear()
        for s in symbols:
            self.add_row(*(_text(cell) for cell in rows[s]), key=s)
        self._values = rows
        self._shown = symbols
        if keep in symbols:
            self.move_cursor(row=symbols.index(keep), animate=False)

    def _cells(self, s: str) -> tuple[tuple[str, str, str], ...]:
        """(text, style, justify) of each column of one symbol's row."""
        sym = self.source.state.symbols[s]
        book = self.source.book(s, depth=1)
        bid = book.bids[0].price if book.bids else None
        ask = book.asks[0].price if book.asks else None
        style = fmt.change_style(sym.change)
        return (
            (s, "bold", "left"),
            (fmt.price(sym.last), "", "right"),
            (fmt.pct(sym.change_pct) if sym.last else "-", style, "right"),
            (fmt.price(bid), "green", "right"),
            (fmt.price(ask), "red", "right"),
            (fmt.price(ask - bid) if bid and ask else "-", "", "right"),
            (fmt.qty(sym.volume), "", "right"),
            (fmt.avg(sym.vwap), "yellow", "right"),
            (fmt.sparkline(sym.closes(SPARK_WIDTH), SPARK_WIDTH), style or "blue", "left"),
        )


def _text(cell: tuple[str, str, str]) -> Text:
    text, style, justify = cell
    return Text(text, style=style, justify=justify)  # type: ignore[arg-type]
