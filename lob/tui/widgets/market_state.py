"""The trading day of one symbol: the state bar and the imbalance panel.

``MarketStateBar`` is one line above the symbol screen: the trading state in
its colour (pre-open, opening auction, continuous, halted, quote only, paused,
closing auction, closed), the LULD bands when they are on, and the last cross
(which, price, shares), and on an embedded exchange with a trading day
(``lob tui --day-length``) how long until the day's next change.
``ImbalancePanel`` shows while a cross is ahead
(auction windows, a halt's quotation period, a LULD pause): the shares that
would pair at the near price, the imbalance left and its side, and the near,
far and reference prices. Both read ``SymbolState`` only, so they look the
same on an embedded exchange and on a ``lob serve``.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from lob.engine.types import Side
from lob.tui import fmt
from lob.tui.model import AUCTION_STATES, SymbolState
from lob.tui.source import DataSource
from lob.tui.widgets.live import TABLE_HZ, follow

__all__ = ["ImbalancePanel", "MarketStateBar", "cross_text", "imbalance_text", "state_text"]


def state_text(sym: SymbolState, next_change: tuple[str, int] | None = None, now: int = 0) -> Text:
    """One line: state, LULD bands, last cross, and the day's next change when known."""
    label, style = fmt.state_label(sym.trading_state)
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f" {label} ", style=style or "bold")
    if sym.bands is not None:
        b = sym.bands
        out.append("  LULD ", style="dim")
        out.append(f"{fmt.price(b.lower)} - {fmt.price(b.upper)}", style="bold")
        out.append(f" (ref {fmt.price(b.reference)})", style="dim")
    else:
        out.append("  LULD off", style="dim")
    out.append("  │  ", style="dim")
    out.append_text(cross_text(sym))
    if next_change is not None:
        name, at = next_change
        seconds = max(0, (at - now) // 1_000_000_000)
        out.append("  │  ", style="dim")
        out.append(f"{name} in {seconds // 60}:{seconds % 60:02d}", style="cyan")
    return out


def cross_text(sym: SymbolState) -> Text:
    cross = sym.last_cross
    if cross is None:
        return Text("no cross yet", style="dim")
    out = Text()
    out.append("last cross ", style="dim")
    out.append(f"{cross.cross_type} ", style="bold yellow")
    if cross.price is None or not cross.qty:
        out.append("no shares paired", style="dim")
    else:
        out.append(f"{cross.qty:,} @ {fmt.price(cross.price)}", style="bold")
    out.append(f"  {fmt.clock(cross.ts)}", style="dim")
    return out


def imbalance_text(sym: SymbolState) -> Text:
    """The auction information of ``sym`` (a line saying none yet before the first)."""
    imb = sym.imbalance
    out = Text()  # wraps in a narrow terminal; the panel grows to fit
    if imb is None:
        out.append("waiting for imbalance information", style="dim")
        return out
    out.append(f"{imb.cross_type} cross  ", style="bold yellow")
    out.append("paired ", style="dim")
    out.append(f"{imb.paired:,}", style="bold")
    out.append("  imbalance ", style="dim")
    if imb.imbalance and imb.imbalance_side is not None:
        colour = "green" if imb.imbalance_side is Side.BUY else "red"
        out.append(f"{imb.imbalance:,} {imb.imbalance_side}", style=f"bold {colour}")
    else:
        out.append("none", style="bold")
    out.append("\n")
    for name, value in (("near", imb.near), ("far", imb.far), ("reference", imb.reference)):
        out.append(f"{name} ", style="dim")
        out.append(f"{fmt.price(value)}  ", style="bold")
    out.append(f"at {fmt.clock(imb.ts)}", style="dim")
    return out


class MarketStateBar(Widget):
    """The state line of the symbol screen (see the module docstring)."""

    symbol: reactive[str] = reactive("")

    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source

    def on_mount(self) -> None:
        follow(self, self.source.state, self.redraw, TABLE_HZ)
        self.set_interval(1.0, self.redraw)  # the countdown moves when the market is quiet

    def redraw(self) -> None:
        self.refresh()

    def render(self) -> Text:
        sym = self.source.state.symbols.get(self.symbol)
        if sym is None:
            return Text("")
        return state_text(sym, self.source.next_change(), self.source.now())


class ImbalancePanel(Widget):
    """Auction information, shown only while a cross is ahead (see the module docstring)."""

    symbol: reactive[str] = reactive("")

    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source

    def on_mount(self) -> None:
        follow(self, self.source.state, self.update_view, TABLE_HZ)
        self.update_view()

    def watch_symbol(self) -> None:
        self.update_view()

    def update_view(self) -> None:
        sym = self.source.state.symbols.get(self.symbol)
        self.display = sym is not None and (
            sym.trading_state in AUCTION_STATES or sym.imbalance is not None
        )
        self.refresh()

    def render(self) -> Text:
        sym = self.source.state.symbols.get(self.symbol)
        if sym is None:
            return Text("")
        return imbalance_text(sym)
