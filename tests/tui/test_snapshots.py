"""SVG snapshots of every screen on the seeded, frozen embedded market.

Regenerate after an intended change of look with
``uv run pytest tests/tui/test_snapshots.py --snapshot-update`` and review the
SVGs (``tests/tui/__snapshots__``) before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from lob.engine.commands import NewOrder
from lob.engine.types import Side, TradingState
from lob.tui.app import WorkstationApp
from tests.tui.conftest import SIZE
from tests.tui.market import seeded_source

SnapCompare = Callable[..., bool]


async def _trade(pilot: Pilot[Any]) -> None:
    """A fill, a resting order on each side and a rejected order, through the command line."""
    app = pilot.app
    assert isinstance(app, WorkstationApp)
    for line in (
        "buy 300 AAPL mkt",
        "sell 100 AAPL mkt",
        "buy 200 AAPL 227.40",
        "sell 100 MSFT 419.00 gtc",
    ):
        ok, answer = await app.run_line(line)
        assert ok, answer
    await pilot.pause()


def test_snapshot_market_overview(snap_compare: SnapCompare) -> None:
    assert snap_compare(WorkstationApp(seeded_source()), terminal_size=SIZE)


def test_snapshot_symbol_view(snap_compare: SnapCompare) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _trade(pilot)
        pilot.app.open_symbol("AAPL")
        await pilot.pause()

    assert snap_compare(WorkstationApp(seeded_source()), terminal_size=SIZE, run_before=before)


def test_snapshot_symbol_view_halted_with_imbalance(snap_compare: SnapCompare) -> None:
    """AAPL in a halt's quotation period: the state bar and the imbalance panel."""
    source = seeded_source()
    now = source.now()
    source.apply(source.engine.set_state("AAPL", TradingState.HALTED, now, "admin"))
    source.apply(source.engine.set_state("AAPL", TradingState.QUOTE_ONLY, now, "admin"))
    ask = source.book("AAPL", 1).asks[0].price
    source.execute(NewOrder("flow9", "x1", "AAPL", Side.BUY, 2_000, ask))
    source.apply(source.engine.imbalances(now))

    async def before(pilot: Pilot[Any]) -> None:
        pilot.app.open_symbol("AAPL")
        await pilot.pause()

    assert snap_compare(WorkstationApp(source), terminal_size=SIZE, run_before=before)


def test_snapshot_order_ticket(snap_compare: SnapCompare) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        pilot.app.open_symbol("AAPL")
        await pilot.pause()

    assert snap_compare(
        WorkstationApp(seeded_source()), terminal_size=SIZE, run_before=before, press=["b"]
    )


def test_snapshot_blotter(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        WorkstationApp(seeded_source()), terminal_size=SIZE, run_before=_trade, press=["3"]
    )


def test_snapshot_trade_history(snap_compare: SnapCompare) -> None:
    assert snap_compare(WorkstationApp(seeded_source()), terminal_size=SIZE, press=["4"])


def test_snapshot_analytics(snap_compare: SnapCompare) -> None:
    assert snap_compare(WorkstationApp(seeded_source()), terminal_size=SIZE, press=["5"])


def test_snapshot_feed_health(snap_compare: SnapCompare) -> None:
    assert snap_compare(WorkstationApp(seeded_source()), terminal_size=SIZE, press=["6"])


def test_snapshot_help(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        WorkstationApp(seeded_source()), terminal_size=SIZE, press=["question_mark"]
    )
