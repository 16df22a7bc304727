"""The price ladder: one row per tick, bids and asks either side of the price.

Columns, left to right: my working buy quantity, bid size, price, ask size, my
working sell quantity, and the volume traded at that price this session. The
ladder is centred on the middle of the spread (or the last trade) and holds as
many rows as the widget is tall. It is drawn as lines of rich ``Text`` from
the model and one L2 snapshot, at most ``LADDER_HZ`` times a second, never a
table updated per tick.

A cursor row (up/down, j/k) picks a price; the symbol screen opens the order
ticket at it.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.reactive import reactive

from lob.engine.prices import format_price, tick_size
from lob.engine.types import Side
from lob.tui.source import DataSource
from lob.tui.widgets.live import LADDER_HZ, Line, LinesWidget, follow, style

__all__ = ["PriceLadder"]

_W = 9  # width of one numeric column
HEADER = (
    f"{'MY BID':>{_W}} {'BID':>{_W}} {'PRICE':>{_W + 1}} {'ASK':<{_W}} {'MY ASK':<{_W}} "
    f"{'VOLUME':>{_W}}"
)


def _bar(value: int, peak: int, width: int) -> str:
    if not peak or not value:
        return ""
    return "▮" * max(1, value * width // peak)


BUY, SELL = Side.BUY, Side.SELL


class PriceLadder(LinesWidget, can_focus=True):
    """Depth by price for one symbol (see the module docstring)."""

    BINDINGS = [  # noqa: RUF012
        ("up,k", "move(-1)", "Up"),
        ("down,j", "move(1)", "Down"),
        ("home", "recentre", "Centre"),
    ]

    symbol: reactive[str] = reactive("", always_update=True)
    cursor: reactive[int] = reactive(0)
    """Rows above (-) or below (+) the centre row."""

    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source
        self.centre: int | None = None
        self.frames = 0
        """Ladders drawn so far (the benchmark reads it)."""

    def on_mount(self) -> None:
        follow(self, self.source.state, self.redraw, LADDER_HZ)

    def watch_symbol(self) -> None:
        self.centre = None
        self.cursor = 0
        self.redraw()

    def watch_cursor(self) -> None:
        self.redraw()

    def on_focus(self) -> None:
        self.redraw()

    def on_blur(self) -> None:
        self.redraw()

    def action_move(self, rows: int) -> None:
        self.cursor += rows

    def action_recentre(self) -> None:
        self.centre = None
        self.cursor = 0
        self.redraw()

    @property
    def cursor_price(self) -> int | None:
        if self.centre is None:
            return None
        return self._price_at(self.centre, self.cursor)

    @staticmethod
    def _price_at(centre: int, offset: int) -> int:
        price = centre
        step = -1 if offset > 0 else 1
        for _ in range(abs(offset)):
            nxt = price + step * tick_size(price if step > 0 else price - 1)
            if nxt <= 0:
                break
            price = nxt
        return price

    def _find_centre(self, bid: int | None, ask: int | None, rows: int) -> int:
        sym = self.source.state.symbols.get(self.symbol)
        if bid is not None and ask is not None:
            mid = (bid + ask) // 2
        else:
            mid = (
                bid
                or ask
                or (sym.last if sym and sym.last else None)
                or (sym.reference if sym else 0)
            )
        mid = mid or 10_000
        mid -= mid % tick_size(mid)
        if self.centre is None:
            return mid
        # Keep the ladder still while the inside stays on screen; recentre when it leaves.
        half = rows // 2
        top = self._price_at(self.centre, -half)
        bottom = self._price_at(self.centre, rows - half - 1)
        inside = [p for p in (bid, ask) if p is not None]
        if inside and all(bottom <= p <= top for p in inside):
            return self.centre
        return mid

    def build(self, width: int, height: int) -> list[Line]:
        self.frames += 1
        if not self.symbol:
            return [[Segment("no symbol")]]
        state = self.source.state
        rows = max(1, height - 1)
        book = self.source.book(self.symbol, depth=rows)
        bids = {lv.price: lv.qty for lv in book.bids}
        asks = {lv.price: lv.qty for lv in book.asks}
        best_bid = book.bids[0].price if book.bids else None
        best_ask = book.asks[0].price if book.asks else None
        self.centre = self._find_centre(best_bid, best_ask, rows)
        mine = state.my_qty_at(self.symbol)
        sym = state.symbols.get(self.symbol)
        traded = sym.volume_at_price if sym else {}
        last = sym.last if sym else None
        vol_peak = max(traded.values(), default=1)
        half = rows // 2
        price = self._price_at(self.centre, -half)
        blank = " " * _W
        lines: list[Line] = [[Segment(HEADER, style("bold"))]]
        focused = self.has_focus
        for row in range(rows):
            bid_qty, ask_qty = bids.get(price, 0), asks.get(price, 0)
            my_bid, my_ask = mine.get((BUY, price), 0), mine.get((SELL, price), 0)
            volume = traded.get(price, 0)
            base = " on grey30" if focused and row - half == self.cursor else ""
            gap = Segment(" ", style(base))
            if price == last:
                price_style, marker = "bold yellow", "▶"
            else:
                price_style, marker = ("" if bid_qty or ask_qty else "dim"), " "
            lines.append(
                [
                    Segment(f"{my_bid:>{_W},}" if my_bid else blank, style("bold cyan" + base)),
                    gap,
                    Segment(
                        f"{bid_qty:>{_W},}" if bid_qty else blank,
                        style(("bold green" if price == best_bid else "green") + base),
                    ),
                    gap,
                    Segment(f"{marker}{format_price(price):>{_W}}", style(price_style + base)),
                    gap,
                    Segment(
                        f"{ask_qty:<{_W},}" if ask_qty else blank,
                        style(("bold red" if price == best_ask else "red") + base),
                    ),
                    gap,
                    Segment(f"{my_ask:<{_W},}" if my_ask else blank, style("bold cyan" + base)),
                    gap,
                    Segment(f"{volume:>{_W},}" if volume else blank, style(base)),
                    Segment(" "),
                    Segment(_bar(volume, vol_peak, 7), style("blue")),
                ]
            )
            price = self._price_at(price, 1)
            if price <= 0:
                break
        return lines
