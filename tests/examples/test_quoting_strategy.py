"""The tutorial's quoting strategy, run against a real lob serve on loopback."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

from lob.client import RestClient
from tests.server.support import ALICE, BOB, run, running

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quoting_strategy.py"


def load_example():
    spec = importlib.util.spec_from_file_location("quoting_strategy", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["quoting_strategy"] = module
    spec.loader.exec_module(module)
    return module


def test_quoter_targets_skew_against_inventory_and_stop_at_the_limit() -> None:
    example = load_example()
    quoter = example.Quoter("AAPL", size=100, half_spread_ticks=2, max_position=200)
    bid, ask = 2_275_000, 2_275_200  # 227.50 / 227.52: mid 227.51
    assert quoter.targets(bid, ask) == {"buy": 2_274_900, "sell": 2_275_300}
    quoter.position = 100  # long one lot: both quotes one tick lower
    assert quoter.targets(bid, ask) == {"buy": 2_274_800, "sell": 2_275_200}
    quoter.position = 200  # at the limit: no more buying
    assert quoter.targets(bid, ask) == {"sell": 2_275_100}
    assert quoter.targets(None, ask) == {}


def test_quoting_strategy_quotes_trades_and_leaves_nothing_resting(tmp_path: Path) -> None:
    example = load_example()

    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, BOB) as bob:
            # Bob makes a market for the strategy to quote inside, then trades with it.
            await bob.place("AAPL", "buy", 500, "227.00", id="bb")
            await bob.place("AAPL", "sell", 500, "228.00", id="bs")
            strategy = asyncio.create_task(example.run(server.url, ALICE, "AAPL", 3.0))
            for _ in range(100):  # wait until the strategy's quotes rest
                book = await bob.book("AAPL")
                if len(book["bids"]) > 1 and len(book["asks"]) > 1:
                    break
                await asyncio.sleep(0.05)
            best_bid = book["bids"][0]["price"]
            await bob.place("AAPL", "sell", 100, best_bid, id="hit", tif="ioc")
            quoter = await strategy
            async with RestClient(server.url, ALICE) as alice:
                fills = await alice.fills()
                open_orders = await alice.orders()
        assert quoter.fills >= 1
        position = sum(f["qty"] if f["side"] == "buy" else -f["qty"] for f in fills)
        cash = sum(
            (-1 if f["side"] == "buy" else 1) * f["qty"] * Decimal(f["price"]) for f in fills
        )
        assert (quoter.position, quoter.cash) == (position, cash)
        assert position == 100  # it bought the lot bob sold into its bid
        assert open_orders == []  # everything cancelled at the end

    run(body)
