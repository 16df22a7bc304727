"""Feed health: sequence, gaps, recoveries, messages per second, latency."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget

from lob.tui import fmt
from lob.tui.screens.base import WorkScreen
from lob.tui.source import DataSource
from lob.tui.widgets.live import follow

__all__ = ["FeedHealth", "FeedScreen"]


class FeedHealth(Widget):
    def __init__(self, source: DataSource, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source

    def on_mount(self) -> None:
        follow(self, self.source.state, self.refresh, 2)
        self.set_interval(1, self.tick)

    def tick(self) -> None:
        self.source.state.feed.tick(self.source.now())
        self.refresh()

    def render(self) -> Table:
        feed = self.source.state.feed
        state = self.source.state
        table = Table(box=None, padding=(0, 2), show_header=False)
        table.add_column(style="dim")
        table.add_column(justify="right", style="bold")
        healthy = feed.gaps == 0 or feed.recoveries >= feed.gaps
        table.add_row("Source", self.source.description)
        table.add_row("Mode", self.source.mode)
        table.add_row(
            "Status",
            Text("healthy" if healthy else "gap not recovered", "green" if healthy else "red"),
        )
        table.add_row("Last sequence", fmt.qty(feed.last_seq))
        table.add_row("Messages", fmt.qty(feed.messages))
        table.add_row("Messages / s", f"{feed.messages_per_second:,.0f}")
        table.add_row("Gaps", Text(fmt.qty(feed.gaps), "red" if feed.gaps else "green"))
        table.add_row("Messages missed", fmt.qty(feed.missed))
        table.add_row("Recoveries", fmt.qty(feed.recoveries))
        table.add_row("Latency (last)", f"{feed.latency_ns / 1000:,.0f} µs")
        table.add_row("Latency (max)", f"{feed.max_latency_ns / 1000:,.0f} µs")
        table.add_row("Trades seen", fmt.qty(len(state.tape)))
        table.add_row("Symbols", fmt.qty(len(state.symbols)))
        return table


class FeedScreen(WorkScreen):
    NAME = "feed"

    def compose_body(self) -> ComposeResult:
        health = FeedHealth(self.source, id="feed-health")
        health.border_title = "feed health"
        yield health
