"""``MarketSimulator``: agents trading on a matching engine, on a simulated clock.

Usage::

    from lob.sim import MarketSimulator

    sim = MarketSimulator(seed=7, symbols="AAPL,MSFT", rate=2_000)
    summary = sim.run(60.0)               # one simulated minute, as fast as possible
    print(summary.trades, summary.to_dict()["symbols"]["AAPL"]["last"])
    print(sim.report())                   # the realism report (docs/simulator.md)

How it runs
    Each symbol is a ``Market`` with its own clocks: a Hawkes clock for noise
    order arrivals and one Poisson clock for everything else (the cancellation
    of resting noise orders, market-maker requotes, momentum and value
    decisions, child orders of working parents), whose rate is the sum of
    theirs. Both clocks are memoryless given their state, so after every
    action the symbol redraws its next time, which keeps the per-order cancel
    rate exact while the number of resting orders changes. A heap orders the
    symbols by their next time; the simulator pops the earliest, lets that
    symbol act, and pushes it back.

Determinism
    All randomness comes from one ``random.Random(seed)``; timestamps are the
    session start plus simulated time; nothing iterates a hash-ordered set.
    The same seed, symbols, rate and configuration give the same commands and
    the same events, byte for byte.

Driving it
    ``run(seconds)`` as fast as possible; ``step()`` one agent action;
    ``step_until(ts_ns)`` every action up to an engine timestamp (for a UI
    timer); ``stream(seconds)`` an iterator of ``(command, events)``;
    ``on_events=`` a callback with the same pair; ``run_realtime`` (in
    ``lob.sim.realtime``) paces it to the wall clock. ``observe(events)`` tells
    the simulator about commands others sent to a shared engine.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from lob.engine.commands import CancelOrder
from lob.engine.engine import MatchingEngine
from lob.engine.events import Event, Rejected
from lob.engine.prices import format_price
from lob.engine.replay import session_open_ns
from lob.engine.types import Side
from lob.sim.agents import (
    MOMENTUM_ACCOUNT,
    VALUE_ACCOUNT,
    InformedTraders,
    MarketMaker,
    NoiseTraders,
)
from lob.sim.market import Market, Sink
from lob.sim.model import ModelConfig, SymbolModel
from lob.sim.universe import Security, load_symbols

__all__ = [
    "DEFAULT_RATE",
    "DEFAULT_SESSION_DATE",
    "DEFAULT_SYMBOLS",
    "AgentMix",
    "MarketSimulator",
    "SimSummary",
    "SymbolSummary",
    "agent_accounts",
]

DEFAULT_SYMBOLS: Final = "AAPL,MSFT,NVDA"
DEFAULT_RATE: Final = 3_000.0
"""Messages (new orders, cancels, replaces) per simulated second, all symbols together."""
DEFAULT_SESSION_DATE: Final = "2025-06-02"
"""The simulated session: its 09:30 New York open is time zero."""

SAMPLE_INTERVAL: Final = 1.0
"""Seconds between samples of each book's spread and mid."""
DEPTH_EVERY: Final = 5
"""Take the depth profile at every fifth sample."""
FAIR_VALUE_STEP: Final = 0.05
"""Seconds between updates of a symbol's latent fair value."""

_NS: Final = 1_000_000_000


def noise_account(i: int) -> str:
    return f"NOISE{i:02d}"


def maker_account(k: int) -> str:
    return f"MM{k + 1}"


def agent_accounts(config: ModelConfig | None = None) -> list[str]:
    """Every account the simulator's agents trade as (a server needs a key for each)."""
    config = config if config is not None else ModelConfig()
    noise = [noise_account(i) for i in range(config.noise_accounts)]
    makers = [maker_account(k) for k in range(config.market_makers)]
    return [*noise, *makers, MOMENTUM_ACCOUNT, VALUE_ACCOUNT]


@dataclass(frozen=True, slots=True)
class AgentMix:
    """Which agent kinds trade (all by default); for studying one in isolation."""

    noise: bool = True
    market_makers: bool = True
    momentum: bool = True
    value: bool = True


@dataclass(slots=True)
class SymbolSummary:
    """What happened in one symbol; prices in integer units (0: no trade)."""

    symbol: str
    orders: int
    market_orders: int
    cancels: int
    replaces: int
    trades: int
    volume: int
    notional: int
    rejects: int
    self_match_cancels: int
    reference_price: int
    open: int
    high: int
    low: int
    last: int
    resting_orders: int

    @property
    def vwap(self) -> int:
        return self.notional // self.volume if self.volume else 0

    def to_dict(self) -> dict[str, Any]:
        def price(value: int) -> str | None:
            return format_price(value) if value else None

        return {
            "orders": self.orders,
            "market_orders": self.market_orders,
            "cancels": self.cancels,
            "replaces": self.replaces,
            "trades": self.trades,
            "volume": self.volume,
            "notional": format_price(self.notional),
            "rejects": self.rejects,
            "self_match_cancels": self.self_match_cancels,
            "reference_price": format_price(self.reference_price),
            "open": price(self.open),
            "high": price(self.high),
            "low": price(self.low),
            "last": price(self.last),
            "vwap": price(self.vwap),
            "resting_orders": self.resting_orders,
        }


@dataclass(slots=True)
class SimSummary:
    """Totals of a run (``orders`` counts new orders; ``messages`` all commands)."""

    seed: int
    rate: float
    start_ns: int
    end_ns: int
    orders: int
    cancels: int
    replaces: int
    trades: int
    volume: int
    rejects: int
    reject_codes: dict[str, int]
    symbols: dict[str, SymbolSummary] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return self.orders + self.cancels + self.replaces

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / _NS

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rate": self.rate,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "seconds": round(self.seconds, 9),
            "messages": self.messages,
            "orders": self.orders,
            "cancels": self.cancels,
            "replaces": self.replaces,
            "trades": self.trades,
            "volume": self.volume,
            "rejects": self.rejects,
            "reject_codes": dict(sorted(self.reject_codes.items())),
            "symbols": {s: v.to_dict() for s, v in self.symbols.items()},
        }


class MarketSimulator:
    """Agents trading several symbols on one engine (see the module docstring).

    ``symbols`` is a ``"AAPL,MSFT"`` string, a CSV path, or ``Security`` rows;
    ``rate`` is the target number of messages per simulated second across all
    symbols (shared equally); ``engine`` defaults to a fresh
    ``MatchingEngine`` with each symbol collared around its reference price.
    """

    def __init__(
        self,
        seed: int = 0,
        symbols: str | Sequence[Security] = DEFAULT_SYMBOLS,
        rate: float = DEFAULT_RATE,
        *,
        engine: MatchingEngine | None = None,
        config: ModelConfig | None = None,
        agents: AgentMix | None = None,
        start_ns: int | None = None,
        on_events: Sink | None = None,
    ) -> None:
        if not rate > 0 or math.isinf(rate):
            raise ValueError("rate must be a positive number of messages per second")
        securities = load_symbols(symbols) if isinstance(symbols, str) else list(symbols)
        if not securities:
            raise ValueError("no symbols to simulate")
        self.seed = seed
        self.rate = float(rate)
        self.config = config = config if config is not None else ModelConfig()
        self.agents = agents = agents if agents is not None else AgentMix()
        self.rng = rng = random.Random(seed)
        self.engine = engine if engine is not None else MatchingEngine()
        self.start_ns = start_ns if start_ns is not None else session_open_ns(DEFAULT_SESSION_DATE)
        self._clock = [self.start_ns]
        self._ids = [0]
        self._sink = on_events
        self.now = 0.0
        self._next_sample = 0.0
        self._samples = 0
        per_symbol = self.rate / len(securities)
        self.markets: list[Market] = []
        noise_accounts = [noise_account(i) for i in range(config.noise_accounts)]
        for index, security in enumerate(securities):
            if security.symbol not in self.engine.symbols:
                self.engine.add_symbol(security.symbol, security.reference_price)
            model = SymbolModel(security, per_symbol, config, rng)
            m = Market(index, model, self.engine, rng, self.start_ns, self._clock, self._ids)
            m.sink = on_events
            if agents.noise:
                m.noise = NoiseTraders(
                    noise_accounts,
                    model.unit,
                    config.distance_tail,
                    config.max_distance_units,
                    config.inside_spread_prob,
                )
            if agents.market_makers:
                for k in range(config.market_makers):
                    half = config.mm_half_spreads[k % len(config.mm_half_spreads)]
                    lots = config.mm_quote_lots[k % len(config.mm_quote_lots)]
                    maker = MarketMaker(
                        maker_account(k),
                        half,
                        lots * model.lot,
                        config.mm_inventory_lots * model.lot,
                        config.mm_skew_lots * model.lot,
                        config.mm_estimate_noise,
                        bias=rng.gauss(0.0, config.mm_estimate_noise),
                    )
                    m.makers.append(maker)
                    m.owners[maker.account] = maker
            if agents.momentum or agents.value:
                m.informed = InformedTraders(
                    config.momentum_horizon,
                    config.momentum_threshold,
                    config.value_threshold,
                    config.parent_children,
                    config.max_parents,
                )
            m.set_rates(
                cancel_hazard=model.cancel_hazard if agents.noise else 0.0,
                mm_rate=model.mm_rate,
                momentum_rate=model.momentum_rate if agents.momentum else 0.0,
                value_rate=model.value_rate if agents.value else 0.0,
                child_rate=model.child_rate,
                market_share=config.market_order_share,
            )
            self.markets.append(m)
        self._heap: list[tuple[float, int]] = []
        for m in self.markets:
            self._schedule(m, 0.0)
            self._heap.append((m.next_t, m.index))
        heapq.heapify(self._heap)

    # -- the clock -----------------------------------------------------------

    @property
    def now_ns(self) -> int:
        """The engine timestamp of the simulated present."""
        return self.start_ns + math.floor(self.now * 1e9 + 0.5)

    def _schedule(self, m: Market, t: float) -> None:
        """Draw the symbol's next action from its clocks, by thinning.

        The symbol's intensity is the Poisson rate ``R`` (cancels, requotes,
        decisions, children: constant until the next action) plus the Hawkes
        intensity of noise arrivals, which only decays until then. So the
        intensity now bounds it from above: draw a candidate time at the
        bound and accept it with probability (true intensity there) / bound,
        else try again from the candidate (Lewis-Shedler thinning, exact). The
        uniform that accepts also picks the stream: below the Hawkes part a
        noise arrival (``next_u = -1``), else an offset into ``R`` that
        ``_run`` splits among the Poisson streams. ``_run`` draws every later time
        with the same arithmetic, inlined; this method draws the first.
        """
        rng = self.rng
        rate = m.fixed_rate + m.cancel_hazard * len(m.noise_live) + m.child_rate * len(m.parents)
        if m.noise is None:
            if rate <= 0.0:
                m.next_t = math.inf
                return
            m.next_u = rng.random() * rate
            m.next_t = t - math.log(1.0 - rng.random()) / rate
            return
        hawkes = m.hawkes
        beta = hawkes.beta
        base = m.hawkes_mu * m.fair.sqrt_vol
        excess = hawkes.excess
        if excess and t != hawkes.t:
            excess *= math.exp(beta * (hawkes.t - t))
        bound = rate + base + excess
        while True:
            wait = -math.log(1.0 - rng.random()) / bound
            t += wait
            if excess:
                excess *= math.exp(-beta * wait)
                if excess < 1e-9:
                    excess = 0.0
            intensity = rate + base + excess
            u = rng.random() * bound
            if u < intensity:
                break
            bound = intensity
        hawkes.excess = excess
        hawkes.t = t
        u -= base + excess
        m.next_u = u if u >= 0.0 else -1.0
        m.next_t = t

    def _run(self, t_end: float, budget: int) -> None:
        """Let every action up to ``t_end`` happen, at most ``budget`` of them (-1: all).

        The hot loop of the simulator, so it is written flat: the symbol's
        action (``next_u`` picks the stream, as ``_schedule`` explains) and the
        draw of its next time (``_schedule``'s thinning, inlined with the same
        arithmetic and the same random draws) happen here without a call in
        between; the agents' methods send the commands, all but a noise
        trader's cancel, which is sent here.
        """
        heap = self._heap
        markets = self.markets
        rng = self.rng
        random = rng.random
        clock = self._clock
        start_ns = self.start_ns
        log = math.log
        exp = math.exp
        floor = math.floor
        heapreplace = heapq.heapreplace
        next_sample = self._next_sample
        fair_step = FAIR_VALUE_STEP
        cancel = self.engine.cancel
        while budget:
            t, index = heap[0]
            if t > t_end:
                break
            budget -= 1
            if t >= next_sample:
                while t >= self._next_sample:
                    self._sample()
                next_sample = self._next_sample
            self.now = t
            m = markets[index]
            m.now = t
            clock[0] = start_ns + floor(t * 1e9 + 0.5)  # as ``now_ns``
            fair = m.fair
            if t - fair.t >= fair_step:
                fair.advance(rng, t)
            # The action.
            u = m.next_u
            noise = m.noise
            hawkes = m.hawkes
            if u < 0.0:
                hawkes.excess += hawkes.alpha
                assert noise is not None
                # Outside continuous trading (pre-open, opening auction) market
                # orders are refused: the crowd sends limit orders that rest instead.
                if random() < m.market_share and m.book.matching:
                    noise.send_market(m)
                else:
                    noise.place_limit(m)
            else:
                live = m.noise_live
                u -= m.cancel_hazard * len(live)
                if u < 0.0:
                    # A noise trader cancels a live order picked uniformly (each
                    # dies at the same rate), sent here with ``Market.cancel``'s
                    # bookkeeping written out: the second most frequent action. Ids
                    # of orders that have traded away are dropped as they are met.
                    ids = m.noise_ids
                    while ids:
                        i = floor(random() * len(ids))
                        id = ids[i]
                        last = ids.pop()
                        if i < len(ids):
                            ids[i] = last
                        account = live.pop(id, None)
                        if account is not None:
                            m.cancels += 1
                            events = cancel(account, id, clock[0])
                            if type(events[0]) is Rejected:
                                m.absorb(events)
                            if m.sink is not None:
                                m.sink(CancelOrder(account, id), events)
                            break
                elif u < m.mm_total:
                    m.makers[floor(u / m.mm_rate)].requote(m)  # as int(): u >= 0
                else:
                    u -= m.mm_total
                    informed = m.informed
                    if informed is not None and m.book.matching:  # children are IOC/market
                        if u < m.momentum_rate:
                            informed.momentum_decision(m)
                        elif u < m.momentum_rate + m.value_rate:
                            informed.value_decision(m)
                        elif m.parents:
                            informed.child(m)
            dirty = m.dirty
            while dirty:
                dirty.pop(0).requote(m)
            # The symbol's next action: ``_schedule``, inlined.
            rate = m.fixed_rate + m.cancel_hazard * len(m.noise_live)
            if m.parents:
                rate += m.child_rate * len(m.parents)
            if noise is None:
                if rate <= 0.0:
                    t = math.inf
                else:
                    m.next_u = random() * rate
                    t -= log(1.0 - random()) / rate
            else:
                beta = hawkes.beta
                base = m.hawkes_mu * fair.sqrt_vol
                excess = hawkes.excess
                bound = rate + base + excess  # the excess was decayed to t by the last draw
                while True:
                    wait = -log(1.0 - random()) / bound
                    t += wait
                    if excess:
                        excess *= exp(-beta * wait)
                        if excess < 1e-9:
                            excess = 0.0
                    intensity = rate + base + excess
                    u = random() * bound
                    if u < intensity:
                        break
                    bound = intensity
                hawkes.excess = excess
                hawkes.t = t
                u -= base + excess
                m.next_u = u if u >= 0.0 else -1.0
            m.next_t = t
            heapreplace(heap, (t, index))

    # -- driving -------------------------------------------------------------

    def step(self) -> float:
        """Let the next agent action happen; return its simulated time in seconds."""
        t = self._heap[0][0]
        self._run(t, 1)
        return t

    def run_until(self, t_end: float) -> int:
        """Every action up to simulated second ``t_end``; return the messages sent."""
        before = self._messages()
        self._run(t_end, -1)
        if t_end > self.now:
            self.now = t_end
            while t_end >= self._next_sample:
                self._sample()
        return self._messages() - before

    def run(self, seconds: float) -> SimSummary:
        """Simulate ``seconds`` more of market time, as fast as possible."""
        if seconds < 0:
            raise ValueError("duration must not be negative")
        self.run_until(self.now + seconds)
        return self.summary()

    def step_until(self, ts_ns: int) -> int:
        """Every action up to engine timestamp ``ts_ns``; return the messages sent.

        For a UI timer: call it with the timestamp the display should reach.
        """
        return self.run_until((ts_ns - self.start_ns) / _NS)

    def stream(self, seconds: float) -> Iterator[tuple[object, list[Event]]]:
        """Yield each ``(command, events)`` of the next ``seconds`` of simulated time."""
        pending: list[tuple[object, list[Event]]] = []
        previous = self._sink

        def collect(command: object, events: list[Event]) -> None:
            pending.append((command, events))
            if previous is not None:
                previous(command, events)

        self._set_sink(collect)
        try:
            t_end = self.now + seconds
            while self._heap[0][0] <= t_end:
                self.step()
                yield from pending
                pending.clear()
            self.run_until(t_end)
        finally:
            self._set_sink(previous)

    @property
    def symbols(self) -> list[str]:
        """The simulated symbols, in the order given."""
        return [m.symbol for m in self.markets]

    @property
    def on_events(self) -> Sink | None:
        """The callback given each ``(command, events)`` pair, or None."""
        return self._sink

    @on_events.setter
    def on_events(self, sink: Sink | None) -> None:
        self._set_sink(sink)

    def _set_sink(self, sink: Sink | None) -> None:
        self._sink = sink
        for m in self.markets:
            m.sink = sink

    def observe(self, events: list[Event]) -> None:
        """Tell the agents about events of commands someone else sent."""
        by_symbol = {m.symbol: m for m in self.markets}
        for e in events:
            m = by_symbol.get(getattr(e, "symbol", None) or "")
            if m is not None:
                m.observe([e])
        # Market makers whose quotes were hit requote at once, at the simulator's now.
        self._clock[0] = self.now_ns
        for m in self.markets:
            while m.dirty:
                m.dirty.pop(0).requote(m)

    def _sample(self) -> None:
        self._samples += 1
        with_depth = self._samples % DEPTH_EVERY == 1
        for m in self.markets:
            m.sample(with_depth)
        self._next_sample = self._samples * SAMPLE_INTERVAL

    # -- results -------------------------------------------------------------

    def _messages(self) -> int:
        return sum(m.orders + m.cancels + m.replaces for m in self.markets)

    def summary(self) -> SimSummary:
        """Totals so far, per symbol and overall."""
        symbols: dict[str, SymbolSummary] = {}
        codes: dict[str, int] = {}
        for m in self.markets:
            book = m.book
            symbols[m.symbol] = SymbolSummary(
                symbol=m.symbol,
                orders=m.orders,
                market_orders=m.market_orders,
                cancels=m.cancels,
                replaces=m.replaces,
                trades=m.trades,
                volume=m.volume,
                notional=m.notional,
                rejects=m.rejects,
                self_match_cancels=m.self_match_cancels,
                reference_price=m.model.security.reference_price,
                open=m.first_price,
                high=m.high,
                low=m.low,
                last=m.last_price,
                resting_orders=sum(lv.orders for lv in book.levels(Side.BUY))
                + sum(lv.orders for lv in book.levels(Side.SELL)),
            )
            for code, n in m.reject_codes.items():
                codes[code] = codes.get(code, 0) + n
        values = list(symbols.values())
        return SimSummary(
            seed=self.seed,
            rate=self.rate,
            start_ns=self.start_ns,
            end_ns=self.now_ns,
            orders=sum(s.orders for s in values),
            cancels=sum(s.cancels for s in values),
            replaces=sum(s.replaces for s in values),
            trades=sum(s.trades for s in values),
            volume=sum(s.volume for s in values),
            rejects=sum(s.rejects for s in values),
            reject_codes=codes,
            symbols=symbols,
        )

    def report(self) -> dict[str, Any]:
        """The realism report: stylized facts measured on this run (docs/simulator.md)."""
        from lob.sim.report import realism_report

        return realism_report(self.markets, SAMPLE_INTERVAL)
