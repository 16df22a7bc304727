"""Arrival processes and the latent fair value, drawn from a caller's ``random.Random``.

Everything here is a small state machine advanced to a time the caller names;
nothing reads a clock or owns a random source, so a simulation is reproduced by
its seed alone.

- ``HawkesClock``: a self-exciting point process with an exponential kernel,
  ``lambda(t) = mu + sum(alpha * exp(-beta * (t - t_i)))``. Its next arrival is
  drawn exactly in O(1) (the two-candidate method of Dassios and Zhao, 2013),
  and because the process is Markov in its excitation, a caller may draw a
  fresh candidate after any other event without biasing it.
- ``FairValue``: the latent price agents disagree about. Its log follows a random
  walk whose volatility is itself a mean-reverting log-normal process
  (stochastic volatility: calm and busy spells), plus occasional jumps drawn
  from a Laplace law, more often when volatility is high (jumps cluster).

Times are float seconds of simulated time.
"""

from __future__ import annotations

import math
import random
from typing import Final

__all__ = ["SECONDS_PER_DAY", "FairValue", "HawkesClock"]

SECONDS_PER_DAY: Final = 23_400.0
"""A regular US session, 09:30-16:00: the horizon of a daily volatility."""

_INF: Final = math.inf


class HawkesClock:
    """Self-exciting arrivals: each arrival raises the intensity by ``alpha``.

    The branching ratio ``alpha / beta`` must be below 1 (stationary); the mean
    rate is then ``mu / (1 - alpha / beta)``.
    """

    __slots__ = ("alpha", "beta", "excess", "mu", "t")

    def __init__(self, mu: float, alpha: float, beta: float) -> None:
        if mu <= 0 or alpha < 0 or beta <= 0 or alpha >= beta:
            raise ValueError("need mu > 0, beta > 0 and 0 <= alpha < beta")
        self.mu = mu
        self.alpha = alpha
        self.beta = beta
        self.excess = 0.0  # intensity above mu at time t
        self.t = 0.0

    @property
    def mean_rate(self) -> float:
        return self.mu / (1.0 - self.alpha / self.beta)

    def intensity(self, t: float) -> float:
        """``lambda(t)`` for ``t`` at or after the last update."""
        return self.mu + self.excess * math.exp(-self.beta * (t - self.t))

    def advance(self, t: float) -> None:
        """Decay the excitation to time ``t``."""
        if self.excess:
            self.excess *= math.exp(-self.beta * (t - self.t))
            if self.excess < 1e-12:
                self.excess = 0.0
        self.t = t

    def draw_wait(self, rng: random.Random, mu: float | None = None) -> float:
        """Seconds from ``self.t`` to the next arrival (``mu`` overrides the baseline)."""
        base = self.mu if mu is None else mu
        wait = -math.log(1.0 - rng.random()) / base
        if self.excess:
            d = 1.0 + self.beta * math.log(1.0 - rng.random()) / self.excess
            if d > 0.0:
                excited = -math.log(d) / self.beta
                if excited < wait:
                    wait = excited
        return wait

    def arrive(self, t: float) -> None:
        """Record an arrival at ``t``: decay to ``t``, then add ``alpha``."""
        self.advance(t)
        self.excess += self.alpha


class FairValue:
    """A latent price: log random walk with stochastic volatility and jumps.

    Parameters are per second: ``sigma`` is the base volatility of the log price
    (daily volatility / sqrt(23,400)); ``vol_of_vol`` is the stationary standard
    deviation of log volatility and ``vol_halflife`` how fast it reverts;
    ``jump_rate`` is jumps per second and ``jump_scale`` their mean absolute
    log size. ``vol`` is the current volatility multiplier (1 on average in
    log terms); ``price`` is in price units (float, not on tick).
    """

    __slots__ = (
        "jump_rate",
        "jump_scale",
        "log_vol",
        "price",
        "sigma",
        "sqrt_vol",
        "t",
        "vol",
        "vol_halflife",
        "vol_of_vol",
    )

    def __init__(
        self,
        price: float,
        sigma: float,
        *,
        vol_of_vol: float = 0.6,
        vol_halflife: float = 300.0,
        jump_rate: float = 1.0 / 600.0,
        jump_scale: float = 0.0,
    ) -> None:
        self.price = price
        self.sigma = sigma
        self.vol_of_vol = vol_of_vol
        self.vol_halflife = vol_halflife
        self.jump_rate = jump_rate
        self.jump_scale = jump_scale if jump_scale else 1.5 * sigma * math.sqrt(60.0)
        self.log_vol = 0.0
        self.vol = 1.0
        self.sqrt_vol = 1.0
        self.t = 0.0

    def advance(self, rng: random.Random, t: float) -> float:
        """Move to time ``t`` (not before the last update); return the new price."""
        dt = t - self.t
        if dt <= 0.0:
            return self.price
        self.t = t
        # Exact step of an Ornstein-Uhlenbeck log volatility, mean 0.
        keep = math.exp(-dt * math.log(2.0) / self.vol_halflife)
        self.log_vol = self.log_vol * keep + self.vol_of_vol * math.sqrt(
            1.0 - keep * keep
        ) * rng.gauss(0.0, 1.0)
        self.vol = vol = math.exp(self.log_vol - 0.5 * self.vol_of_vol * self.vol_of_vol)
        self.sqrt_vol = math.sqrt(vol)
        step = self.sigma * vol * math.sqrt(dt) * rng.gauss(0.0, 1.0)
        if rng.random() < self.jump_rate * vol * dt:  # jumps come in busy spells
            size = -self.jump_scale * math.log(1.0 - rng.random())
            step += size if rng.random() < 0.5 else -size
        self.price *= math.exp(step)
        return self.price
