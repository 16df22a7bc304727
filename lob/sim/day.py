"""``DaySimulator``: a whole simulated trading day, from the pre-open to the closing cross.

Usage::

    from lob.sim.day import DaySimulator

    day = DaySimulator(seed=7, symbols="AAPL,MSFT", day_length=720)
    summary = day.run()                  # 04:00 to 16:00, compressed into 720 s
    print(summary.opening["AAPL"], summary.closing["AAPL"])

The day
    The engine gets a ``SessionCalendar`` on the simulated clock. With
    ``day_length=43200`` it is Nasdaq's real day (04:00 to 16:00, New York);
    a shorter ``day_length`` squeezes 04:00-16:00 into that many simulated
    seconds keeping the proportions of the real day (``scaled_schedule``): at
    the default of 720 s every real minute lasts one simulated second, so the
    pre-open lasts 330 s, the opening auction 5 s (market-on-open entry closes
    3 s in, limit-on-open 4.5 s in), continuous trading 380 s and the closing
    auction 10 s (on-close entry closes 5 s in).

How time passes
    The simulator's agents act on their own clocks (``MarketSimulator``);
    between their actions the day calls ``engine.advance(ts)`` at every
    simulated second and at each scheduled transition, and
    ``engine.imbalances(ts)`` once a second while a symbol waits for a cross.
    Events of the crosses (executions of resting quotes, expiries at the
    close) go to the agents through ``MarketSimulator.observe`` and to the
    ``on_events`` sink with an ``{"op": "advance"}`` command.

What the agents do
    Outside continuous trading the crowd sends limit orders that rest (the
    engine refuses market, IOC and FOK orders there), market makers keep
    quoting but never take liquidity, momentum and value traders wait. The
    ``AuctionFlow`` adds the auction orders: a trickle of market-on-open and
    limit-on-open orders in the pre-open, more in the opening auction, and
    market-on-close and limit-on-close orders from shortly before the closing
    auction, each before its cut-off. Value traders read the published
    imbalance and offset part of it with imbalance-only orders priced at
    their fair value. The day ends with the closing cross; DAY orders expire.

Determinism
    Every draw comes from the simulator's ``random.Random(seed)``: the same
    seed, symbols, rate and day length give the same events, byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from lob.engine.calendar import DaySchedule, SessionCalendar
from lob.engine.engine import MatchingEngine
from lob.engine.events import Crossed, Event, Imbalance, Trade
from lob.engine.prices import format_price
from lob.engine.replay import session_midnight_ns
from lob.engine.types import OrderType, SelfMatchMode, Side, TimeInForce, TradingState
from lob.sim.agents import VALUE_ACCOUNT
from lob.sim.market import Market, Sink
from lob.sim.model import ModelConfig
from lob.sim.simulator import (
    DEFAULT_SESSION_DATE,
    DEFAULT_SYMBOLS,
    AgentMix,
    MarketSimulator,
    SimSummary,
    noise_account,
)
from lob.sim.universe import Security

__all__ = [
    "DAY_RATE",
    "DEFAULT_DAY_LENGTH",
    "MIN_DAY_LENGTH",
    "REAL_DAY_LENGTH",
    "AuctionFlow",
    "CrossPrint",
    "DaySimulator",
    "DaySummary",
    "scaled_schedule",
]

SECOND = 1_000_000_000
MILLISECOND = 1_000_000
REAL_DAY_LENGTH = 12 * 3600.0
"""Seconds from 04:00 to 16:00: ``day_length`` for the real Nasdaq day."""
DEFAULT_DAY_LENGTH = 720.0
"""One simulated second per real minute: a day of a few CPU seconds at ``DAY_RATE``."""
MIN_DAY_LENGTH = 144.0
"""The shortest day whose opening auction (5 real minutes) still lasts a simulated second."""
DAY_RATE = 300.0
"""Default messages per simulated second of a day (all symbols together)."""

S = TradingState
MOO, LOO, MOC, LOC, IO = (OrderType.MOO, OrderType.LOO, OrderType.MOC, OrderType.LOC, OrderType.IO)
DAY = TimeInForce.DAY
CANCEL_NEWEST = SelfMatchMode.CANCEL_NEWEST
_ADVANCE = {"op": "advance"}


def scaled_schedule(day_length: float) -> DaySchedule:
    """Nasdaq's 04:00-16:00 in ``day_length`` seconds, every time in proportion.

    Offsets from 04:00 are rounded to whole milliseconds so the simulated
    clock (float seconds) lands on each transition exactly.
    """
    if not MIN_DAY_LENGTH <= day_length <= REAL_DAY_LENGTH:
        raise ValueError(
            f"a day lasts {MIN_DAY_LENGTH:g} to {REAL_DAY_LENGTH:g} simulated seconds"
            f" (04:00-16:00): {day_length!r}"
        )
    real = DaySchedule()
    start = real.pre_open
    span = real.close - start
    length_ms = round(day_length * 1000)
    times = {
        f.name: start + round((getattr(real, f.name) - start) * length_ms / span) * MILLISECOND
        for f in fields(DaySchedule)
    }
    return DaySchedule(**times)


@dataclass(frozen=True, slots=True)
class CrossPrint:
    """One symbol's cross: price (None: nothing paired), shares, signed imbalance."""

    price: int | None
    qty: int
    imbalance: int
    ts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "price": format_price(self.price) if self.price is not None else None,
            "shares": self.qty,
            "imbalance": self.imbalance,
            "ts": self.ts,
        }


@dataclass(slots=True)
class DaySummary:
    """What a simulated day did: the crosses, imbalance samples and the run's totals."""

    run: SimSummary
    opening: dict[str, CrossPrint]
    closing: dict[str, CrossPrint]
    imbalances: list[Imbalance]
    auction_orders: dict[str, int]
    expired: int
    cross_trades: int
    day_length: float
    schedule: DaySchedule = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "day_length": self.day_length,
            "opening": {s: c.to_dict() for s, c in self.opening.items()},
            "closing": {s: c.to_dict() for s, c in self.closing.items()},
            "imbalance_samples": len(self.imbalances),
            "auction_orders": dict(sorted(self.auction_orders.items())),
            "expired_at_close": self.expired,
            "cross_trades": self.cross_trades,
            "run": self.run.to_dict(),
        }


class AuctionFlow:
    """Who sends auction orders, and when (see the module docstring)."""

    def __init__(
        self,
        calendar: SessionCalendar,
        noise_accounts: list[str],
        pre_open_rate: float = 0.05,
        auction_rate: float = 0.8,
        value_share: float = 0.5,
        value_cap_lots: int = 40,
    ) -> None:
        self.calendar = calendar
        self.accounts = noise_accounts
        s = calendar.schedule
        # On-close orders start arriving one closing-auction length before 15:50.
        self.close_orders_from = s.closing_auction - (s.close - s.closing_auction)
        self.pre_open_rate = pre_open_rate
        """Chance per symbol per simulated second of an on-open order in the pre-open."""
        self.auction_rate = auction_rate
        """Chance per symbol per simulated second of an on-open/on-close order near a cross."""
        self.value_share = value_share
        """Share of a published imbalance value traders offset at once."""
        self.value_cap_lots = value_cap_lots
        """Most imbalance-only shares (in lots) value traders commit per symbol and cross."""
        self.counts: dict[str, int] = {}
        self._io_sent: dict[tuple[str, bool], int] = {}

    def _send(
        self, m: Market, account: str, side: Side, qty: int, price: int | None, kind: OrderType
    ) -> None:
        m.new_order(account, side, qty, price, kind, DAY, CANCEL_NEWEST)
        self.counts[kind.value] = self.counts.get(kind.value, 0) + 1

    def _limit(self, m: Market, side: Side) -> int:
        """A limit around fair value: up to two units through it, or three behind."""
        offset = (m.rng.random() * 5.0 - 3.0) * m.unit_px
        price = m.fair.price + (offset if side is Side.BUY else -offset)
        return m.on_tick(int(price), side)

    def tick(self, m: Market, ts: int) -> None:
        """One simulated second of auction-order arrivals for ``m``'s symbol."""
        state = m.book.state
        t = ts - self.calendar.midnight
        s = self.calendar.schedule
        rng = m.rng
        if state is S.PRE_OPEN or state is S.OPENING_AUCTION:
            if t >= s.loo_cutoff:
                return
            rate = self.pre_open_rate if state is S.PRE_OPEN else self.auction_rate
            if rng.random() >= rate:
                return
            kind = MOO if t < s.moo_cutoff and rng.random() < 0.5 else LOO
        elif (state is S.CONTINUOUS or state is S.CLOSING_AUCTION) and (
            self.close_orders_from <= t < s.close_cutoff
        ):
            if rng.random() >= self.auction_rate:
                return
            kind = MOC if rng.random() < 0.5 else LOC
        else:
            return
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        account = self.accounts[int(rng.random() * len(self.accounts))]
        qty = m.sizes[rng.getrandbits(10)]
        price = self._limit(m, side) if kind is LOO or kind is LOC else None
        self._send(m, account, side, qty, price, kind)

    def react(self, m: Market, imbalance: Imbalance) -> None:
        """Value traders offset a published imbalance with imbalance-only orders."""
        side = imbalance.imbalance_side
        if side is None or not imbalance.imbalance:
            return
        key = (m.symbol, imbalance.cross_type.value == "opening")
        cap = self.value_cap_lots * m.model.lot
        sent = self._io_sent.get(key, 0)
        lot = m.model.lot
        qty = min(cap - sent, int(imbalance.imbalance * self.value_share) // lot * lot)
        if qty <= 0:
            return
        offset = Side.SELL if side is Side.BUY else Side.BUY
        # Value traders sell to excess buyers at fair value or better, and buy likewise.
        fair = m.fair.price
        price = m.on_tick(int(fair) + (m.tick if offset is Side.SELL else 0), offset)
        self._io_sent[key] = sent + qty
        self._send(m, VALUE_ACCOUNT, offset, qty, price, IO)


class DaySimulator:
    """A ``MarketSimulator`` on a trading-day calendar (see the module docstring)."""

    def __init__(
        self,
        seed: int = 0,
        symbols: str | Sequence[Security] = DEFAULT_SYMBOLS,
        rate: float = DAY_RATE,
        *,
        day_length: float = DEFAULT_DAY_LENGTH,
        date: str = DEFAULT_SESSION_DATE,
        config: ModelConfig | None = None,
        agents: AgentMix | None = None,
        on_events: Sink | None = None,
    ) -> None:
        schedule = scaled_schedule(day_length)
        self.day_length = float(day_length)
        self.midnight = midnight = session_midnight_ns(date)
        self.calendar = SessionCalendar(midnight, schedule)
        self.engine = MatchingEngine(calendar=self.calendar)
        self.start_ns = midnight + schedule.pre_open
        self.end_ns = midnight + schedule.close
        self.sim = MarketSimulator(
            seed,
            symbols,
            rate,
            engine=self.engine,
            config=config,
            agents=agents,
            start_ns=self.start_ns,
            on_events=on_events,
        )
        config = self.sim.config
        self.flow = AuctionFlow(
            self.calendar, [noise_account(i) for i in range(config.noise_accounts)]
        )
        self._transitions = sorted(
            {
                at - schedule.pre_open
                for at in (
                    schedule.opening_auction,
                    schedule.open,
                    schedule.closing_auction,
                    schedule.close,
                )
            }
        )
        self._elapsed = -1  # ns since the pre-open of the last tick (-1: not started)
        self.opening: dict[str, CrossPrint] = {}
        self.closing: dict[str, CrossPrint] = {}
        self.imbalance_samples: list[Imbalance] = []
        self.expired = 0
        self.cross_trades = 0

    @property
    def markets(self) -> list[Market]:
        return self.sim.markets

    @property
    def symbols(self) -> list[str]:
        return self.sim.symbols

    @property
    def on_events(self) -> Sink | None:
        return self.sim.on_events

    @on_events.setter
    def on_events(self, sink: Sink | None) -> None:
        self.sim.on_events = sink

    @property
    def now_ns(self) -> int:
        return self.sim.now_ns

    @property
    def seconds(self) -> float:
        """Simulated seconds from the pre-open to the close."""
        return (self.end_ns - self.start_ns) / SECOND

    @property
    def done(self) -> bool:
        return self._elapsed >= self.end_ns - self.start_ns

    def _next_tick(self) -> int:
        elapsed = self._elapsed
        second = (elapsed // SECOND + 1) * SECOND
        for at in self._transitions:
            if elapsed < at < second:
                return at
        return min(second, self.end_ns - self.start_ns)

    def run_until(self, seconds: float) -> int:
        """Run the day up to ``seconds`` after the pre-open; return the messages sent."""
        sim = self.sim
        before = _messages(sim)
        if self._elapsed < 0:
            self._tick(0)
        limit = min(round(seconds * 1000) * MILLISECOND, self.end_ns - self.start_ns)
        while not self.done:
            at = self._next_tick()
            if at > limit:
                sim.run_until(limit / SECOND)
                break
            sim.run_until(at / SECOND)
            self._tick(at)
        return _messages(sim) - before

    def run(self) -> DaySummary:
        """The whole day (what is left of it), as fast as possible."""
        self.run_until(self.seconds)
        return self.summary()

    def _tick(self, elapsed: int) -> None:
        """Let the day reach ``elapsed`` ns after the pre-open: transitions, imbalances."""
        self._elapsed = elapsed
        ts = self.start_ns + elapsed
        engine = self.engine
        self._deliver(engine.advance(ts))
        if self.done:
            return
        imbalances = engine.imbalances(ts)
        if imbalances:
            self._deliver(imbalances)
        by_symbol = {m.symbol: m for m in self.sim.markets}
        self.sim._clock[0] = ts  # auction orders are stamped at the tick
        for e in imbalances:
            if type(e) is Imbalance:
                self.imbalance_samples.append(e)
                self.flow.react(by_symbol[e.symbol], e)
        for m in self.sim.markets:
            self.flow.tick(m, ts)

    def _deliver(self, events: list[Event]) -> None:
        """Hand the engine's own events (crosses, expiries) to the agents and the sink."""
        if not events:
            return
        sim = self.sim
        e: Any
        for e in events:
            kind = type(e)
            if kind is Crossed:
                cross = CrossPrint(e.price if e.qty else None, e.qty, e.imbalance, e.ts)
                if e.cross_type.value == "opening":
                    self.opening[e.symbol] = cross
                elif e.cross_type.value == "closing":
                    self.closing[e.symbol] = cross
            elif kind is Trade:
                self.cross_trades += 1
            elif e.TYPE == "cancelled" and e.resting and e.reason.value == "expired":
                self.expired += 1
        if sim.on_events is not None:
            sim.on_events(_ADVANCE, events)
        # Cross trades have no aggressor: their ``executed`` events tell each side.
        told = [e for e in events if type(e) is not Trade]
        if not self.done:
            sim.observe(told)  # market makers filled in a cross requote at once
            return
        for m in sim.markets:  # after the close nobody requotes: the market is shut
            m.observe([e for e in told if getattr(e, "symbol", None) == m.symbol])
            for maker in m.dirty:
                maker.dirty = False
            m.dirty.clear()

    def summary(self) -> DaySummary:
        return DaySummary(
            run=self.sim.summary(),
            opening=dict(self.opening),
            closing=dict(self.closing),
            imbalances=list(self.imbalance_samples),
            auction_orders=dict(self.flow.counts),
            expired=self.expired,
            cross_trades=self.cross_trades,
            day_length=self.day_length,
            schedule=self.calendar.schedule,
        )

    def report(self) -> dict[str, Any]:
        return self.sim.report()


def _messages(sim: MarketSimulator) -> int:
    return sum(m.orders + m.cancels + m.replaces for m in sim.markets)
