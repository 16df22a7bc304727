"""Arrival processes and the latent fair value, on their own."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from lob.sim.processes import FairValue, HawkesClock


def _hawkes_arrivals(seed: int, mu: float, alpha: float, beta: float, horizon: float) -> list:
    rng = random.Random(seed)
    clock = HawkesClock(mu, alpha, beta)
    t = 0.0
    times = []
    while True:
        t += clock.draw_wait(rng)
        if t > horizon:
            return times
        clock.arrive(t)
        times.append(t)


def test_hawkes_mean_rate_matches_mu_over_one_minus_branching() -> None:
    times = _hawkes_arrivals(1, mu=20.0, alpha=1.2, beta=2.0, horizon=2_000.0)
    expected = 20.0 / (1 - 0.6)
    assert abs(len(times) / 2_000.0 - expected) < 0.1 * expected


def test_hawkes_arrivals_cluster_more_than_poisson() -> None:
    def dispersion(times: list, horizon: float, window: float = 1.0) -> float:
        counts = [0] * int(horizon / window)
        for t in times:
            counts[min(int(t / window), len(counts) - 1)] += 1
        mean = sum(counts) / len(counts)
        return sum((c - mean) ** 2 for c in counts) / len(counts) / mean

    excited = _hawkes_arrivals(2, mu=20.0, alpha=1.4, beta=2.0, horizon=1_000.0)
    plain = _hawkes_arrivals(2, mu=50.0, alpha=0.0, beta=2.0, horizon=1_000.0)
    assert dispersion(plain, 1_000.0) < 1.3  # Poisson: variance = mean
    assert dispersion(excited, 1_000.0) > 2.0


def test_hawkes_rejects_an_explosive_kernel() -> None:
    with pytest.raises(ValueError):
        HawkesClock(1.0, alpha=2.0, beta=2.0)


def test_hawkes_intensity_decays_back_to_the_baseline() -> None:
    clock = HawkesClock(5.0, alpha=1.5, beta=2.0)
    clock.arrive(1.0)
    assert clock.intensity(1.0) == pytest.approx(6.5)
    assert clock.intensity(1.5) == pytest.approx(5.0 + 1.5 * math.exp(-1.0))
    assert clock.intensity(100.0) == pytest.approx(5.0)


def _path(seed: int, seconds: int, **kw: float) -> list[float]:
    rng = random.Random(seed)
    fair = FairValue(100.0, 0.001, **kw)
    return [fair.advance(rng, float(t)) for t in range(1, seconds + 1)]


def test_fair_value_same_seed_same_path() -> None:
    assert _path(4, 500) == _path(4, 500)
    assert _path(4, 500) != _path(5, 500)


def test_fair_value_volatility_matches_sigma_without_jumps_or_stochastic_vol() -> None:
    path = _path(6, 20_000, vol_of_vol=1e-9, jump_rate=1e-12)
    returns = [math.log(b / a) for a, b in itertools.pairwise(path)]
    sd = math.sqrt(sum(r * r for r in returns) / len(returns))
    assert sd == pytest.approx(0.001, rel=0.05)


def test_fair_value_jumps_make_returns_heavy_tailed() -> None:
    path = _path(7, 20_000, vol_of_vol=1e-9, jump_rate=0.01, jump_scale=0.01)
    returns = [math.log(b / a) for a, b in itertools.pairwise(path)]
    mean = sum(returns) / len(returns)
    m2 = sum((r - mean) ** 2 for r in returns) / len(returns)
    m4 = sum((r - mean) ** 4 for r in returns) / len(returns)
    assert m4 / (m2 * m2) - 3.0 > 10.0


def test_fair_value_stays_positive_and_ignores_time_going_back() -> None:
    rng = random.Random(8)
    fair = FairValue(0.5, 0.01)
    for t in range(1, 5_000):
        assert fair.advance(rng, float(t)) > 0.0
    assert fair.advance(rng, 10.0) == fair.price
