"""Export SVG screenshots of every screen: ``python -m lob.tui.screenshots docs/images``.

The market is the realtime simulator's, run ahead without pacing for a few
simulated minutes from the 09:30 New York open and then held still, so the
pictures show a real session; the user has a fill, a position and working
orders on each side. The last picture (``tui-halt``) halts AAPL, lets the
simulator trade on through the quotation period and shows the state bar and
the imbalance panel. Used for the README and docs/tui.md.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lob.engine.prices import format_price
from lob.engine.replay import session_open_ns
from lob.engine.types import TradingState
from lob.sim.universe import load_universe
from lob.tui.app import WorkstationApp
from lob.tui.embedded import EmbeddedSource
from lob.tui.simulated import SimulatorDriver, simulated_source

__all__ = ["export"]

SIZE = (160, 48)
SIM_SECONDS = 180.0
SHOTS = (
    ("tui-market", None),
    ("tui-symbol", "symbol"),
    ("tui-ticket", "ticket"),
    ("tui-blotter", "3"),
    ("tui-trades", "4"),
    ("tui-analytics", "5"),
    ("tui-feed", "6"),
)


def _market() -> tuple[EmbeddedSource, SimulatorDriver]:
    source = simulated_source(load_universe(), seed=11, start_ns=session_open_ns("2025-06-02"))
    driver, source.driver = source.driver, None  # held still while the pictures are taken
    assert isinstance(driver, SimulatorDriver)
    driver.sim.run_until(SIM_SECONDS)
    return source, driver


async def _trade(source: EmbeddedSource) -> None:
    """A fill, a position and a working order on each side, through the command line."""
    app = WorkstationApp(source, symbol="AAPL")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        book = source.book("AAPL", 3)
        for line in (
            "buy 300 AAPL mkt",
            "sell 100 AAPL mkt",
            f"buy 200 AAPL {format_price(book.bids[-1].price)}",
            f"sell 100 AAPL {format_price(book.asks[-1].price)} gtc",
        ):
            ok, answer = await app.run_line(line)
            if not ok:
                raise RuntimeError(answer)


async def _shoot(source: EmbeddedSource, path: Path, step: str | None) -> None:
    app = WorkstationApp(source, symbol="AAPL")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if step in ("symbol", "ticket"):
            app.open_symbol("AAPL")
            await pilot.pause()
            if step == "ticket":
                await pilot.press("b")
        elif step is not None:
            await pilot.press(step)
        await pilot.pause(0.5)
        app.save_screenshot(str(path))


HALT_SECONDS = 20.0
"""Simulated seconds of quotation (orders rest, nothing trades) before the halt picture."""


def _halt(source: EmbeddedSource, driver: SimulatorDriver) -> None:
    """Halt AAPL, move it to quotation and let the market send orders into it."""
    engine = source.engine
    for state in (TradingState.HALTED, TradingState.QUOTE_ONLY):
        source.apply(engine.set_state("AAPL", state, source.now(), "admin"))
    driver.sim.run_until(SIM_SECONDS + HALT_SECONDS)
    source.apply(engine.imbalances(source.now()))


def export(directory: Path) -> list[Path]:
    """Write one SVG per screen into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    source, driver = _market()
    asyncio.run(_trade(source))
    paths = []
    for name, step in SHOTS:
        path = directory / f"{name}.svg"
        asyncio.run(_shoot(source, path, step))
        paths.append(path)
    _halt(source, driver)
    path = directory / "tui-halt.svg"
    asyncio.run(_shoot(source, path, "symbol"))
    paths.append(path)
    return paths


if __name__ == "__main__":
    for written in export(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")):
        print(written)
