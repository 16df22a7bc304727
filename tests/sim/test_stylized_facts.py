"""The realism report on default runs: each stylized fact within its documented range.

docs/simulator.md gives each range and why the model produces it. Two runs are
shared by the tests (module fixtures): the default run (AAPL, MSFT, NVDA at the
default rate, one simulated minute) for the microstructure facts, and a long,
slow run (six symbols at 20 messages per second each, half an hour) for the
facts of one-minute returns, which need many minutes of prices.
"""

from __future__ import annotations

from typing import Any

import pytest

from lob.sim.simulator import MarketSimulator


@pytest.fixture(scope="module")
def default_run() -> tuple[MarketSimulator, dict[str, Any]]:
    sim = MarketSimulator(seed=1)
    sim.run(60.0)
    return sim, sim.report()


@pytest.fixture(scope="module")
def minute_run() -> dict[str, Any]:
    sim = MarketSimulator(seed=1, symbols="AAPL,MSFT,NVDA,AMZN,GOOGL,META", rate=120)
    sim.run(1_800.0)
    assert sim.summary().rejects == 0
    return sim.report()


def test_spread_default_run_is_always_positive_and_a_few_ticks(default_run) -> None:
    _, report = default_run
    spread = report["spread"]
    assert spread["samples"] >= 150
    assert spread["min_ticks"] >= 1
    assert 1.0 <= spread["mean_ticks"] <= 3.0
    assert spread["median_ticks"] <= 2
    assert spread["p95_ticks"] <= 6


def test_cancel_to_order_default_run_most_orders_are_cancelled(default_run) -> None:
    _, report = default_run
    assert 0.6 <= report["cancel_to_order"] <= 0.95
    assert 4.0 <= report["messages_per_trade"] <= 30.0


def test_trade_signs_default_run_are_persistent_and_decay(default_run) -> None:
    _, report = default_run
    acf = report["trade_signs"]["autocorrelation"]
    assert report["trade_signs"]["count"] > 5_000
    assert 0.25 <= acf["1"] <= 0.8
    assert acf["5"] > 0.05
    assert acf["1"] > acf["5"] > acf["20"]
    assert 0.4 <= report["trade_signs"]["buy_share"] <= 0.6


def test_depth_profile_default_run_is_deepest_near_the_touch(default_run) -> None:
    _, report = default_run
    for symbol, sides in report["depth"].items():
        for side in ("bid", "ask"):
            depth = sides[side]
            assert depth[0] > 0, (symbol, side)
            assert sum(depth[:3]) > sum(depth[7:]), (symbol, side)


def test_returns_default_run_has_heavy_tails_at_short_horizon(default_run) -> None:
    _, report = default_run
    returns = report["returns"]
    assert returns["horizon_seconds"] == 1  # one minute has too few minutes
    assert returns["excess_kurtosis"] > 1.0


def test_minute_returns_long_run_have_heavy_tails(minute_run) -> None:
    returns = minute_run["returns"]
    assert returns["horizon_seconds"] == 60
    assert returns["count"] >= 150
    assert returns["excess_kurtosis"] > 1.0


def test_minute_returns_long_run_show_volatility_clustering(minute_run) -> None:
    returns = minute_run["returns"]
    assert returns["abs_autocorrelation"]["1"] > 0.05


def test_report_same_seed_is_identical() -> None:
    a = MarketSimulator(seed=3, symbols="AAPL", rate=1_000)
    b = MarketSimulator(seed=3, symbols="AAPL", rate=1_000)
    a.run(5.0)
    b.run(5.0)
    assert a.report() == b.report()
