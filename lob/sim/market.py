"""One symbol as the simulator sees it: its agents, clocks, counters and samples.

Commands go to the engine through ``new_order`` / ``cancel`` / ``replace``
here, which stamp the simulated time, read the engine's events back (fills of
the agents' resting orders, rejections, trade statistics) and hand each
``(command, events)`` pair to the simulator's sink when one is attached. The
two most frequent actions, a noise trader's passive limit order and its
cancel (seven in ten messages), do the same bookkeeping inline (the order in
``lob.sim.agents``, the cancel in the simulator's loop) to save calls per
message; nothing else bypasses it.

Agents read the top of the book, the same thing a participant reads from a
top-of-book feed: the book's ``best_bid`` / ``best_ask``, or on the hottest
paths the last price key of each side they are made of.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from lob.engine.commands import CancelOrder, NewOrder, ReplaceOrder
from lob.engine.engine import MatchingEngine
from lob.engine.events import Added, Cancelled, Event, Executed, Rejected, Trade
from lob.engine.prices import ONE_DOLLAR
from lob.engine.types import CancelReason, OrderType, SelfMatchMode, Side, TimeInForce
from lob.sim.model import SymbolModel
from lob.sim.processes import FairValue, HawkesClock

if TYPE_CHECKING:
    from lob.sim.agents import InformedTraders, MarketMaker, NoiseTraders, Parent

__all__ = ["DEPTH_TICKS", "Market", "Sink"]

BUY: Final = Side.BUY
SELL: Final = Side.SELL
SELF_MATCH: Final = CancelReason.SELF_MATCH
_MAX_PRICE: Final = 200_000 * 10_000 - 100

DEPTH_TICKS: Final = 10
"""The depth profile covers this many ticks from each side's best price."""

Sink = Callable[[object, list[Event]], None]
"""Receives each command the simulator sends and the events it caused."""


class Market:
    """State of one simulated symbol (see the module docstring)."""

    def __init__(
        self,
        index: int,
        model: SymbolModel,
        engine: MatchingEngine,
        rng: random.Random,
        start_ns: int,
        clock: list[int],
        ids: list[int],
    ) -> None:
        security = model.security
        self.index = index
        self.symbol = security.symbol
        self.model = model
        self.engine = engine
        self.rng = rng
        self.start_ns = start_ns
        self.clock = clock  # shared one-element list: the engine timestamp of "now"
        self.ids = ids  # shared one-element list: the last client id issued
        book = engine.book(security.symbol)
        self.book = book
        self.tick = model.tick
        self.unit_px = model.unit * model.tick
        self.sizes = model.sizes
        self.floor = book.collar_low if book.collar_low is not None else 1
        self.ceiling = book.collar_high if book.collar_high is not None else _MAX_PRICE
        # One tick size across the whole collar: prices built from on-tick
        # prices by whole ticks stay on tick, and rounding is a modulo.
        self.mixed_ticks = self.floor < ONE_DOLLAR <= self.ceiling
        self.fair = FairValue(
            float(security.reference_price),
            model.sigma,
            vol_of_vol=model.vol_of_vol,
            vol_halflife=model.vol_halflife,
            jump_rate=model.jump_rate,
            jump_scale=model.jump_scale,
        )
        self.hawkes = HawkesClock(model.hawkes_mu, model.hawkes_alpha, model.hawkes_beta)
        self.now = 0.0  # simulated seconds since the start
        self.next_t = 0.0
        self.next_u = -1.0  # < 0: a noise arrival; else an offset into the Poisson rate
        self.cancel_hazard = 0.0
        self.mm_rate = 0.0
        self.mm_total = 0.0
        self.momentum_rate = 0.0
        self.value_rate = 0.0
        self.child_rate = 0.0
        self.market_share = 0.0
        self.hawkes_mu = model.hawkes_mu
        self.fixed_rate = 0.0
        self.noise: NoiseTraders | None = None
        self.informed: InformedTraders | None = None
        self.makers: list[MarketMaker] = []
        self.owners: dict[str, MarketMaker] = {}
        self.noise_live: dict[str, str] = {}  # id -> account
        self.noise_ids: list[str] = []  # may hold ids no longer live (dropped lazily)
        self.parents: list[Parent] = []
        self.dirty: list[MarketMaker] = []
        self.sink: Sink | None = None
        # Counters.
        self.orders = 0
        self.market_orders = 0
        self.unwinds = 0
        self.cancels = 0
        self.replaces = 0
        self.rejects = 0
        self.reject_codes: dict[str, int] = {}
        self.self_match_cancels = 0
        self.trades = 0
        self.volume = 0
        self.notional = 0
        self.first_price = 0
        self.last_price = 0
        self.high = 0
        self.low = 0
        self.signs = array("b")
        # Samples on the simulator's grid.
        self.mids = array("q")  # bid + ask (twice the mid), or the last value
        self.spreads = array("q")  # ask - bid in ticks, only when both sides exist
        self.depth_bid = [0] * DEPTH_TICKS
        self.depth_ask = [0] * DEPTH_TICKS
        self.depth_samples = 0

    def set_rates(
        self,
        cancel_hazard: float,
        mm_rate: float,
        momentum_rate: float,
        value_rate: float,
        child_rate: float,
        market_share: float,
    ) -> None:
        """Fix the rates of the symbol's Poisson clock (once its agents are in place)."""
        self.cancel_hazard = cancel_hazard
        self.mm_rate = mm_rate
        self.mm_total = mm_rate * len(self.makers)
        self.momentum_rate = momentum_rate
        self.value_rate = value_rate
        self.child_rate = child_rate if self.informed is not None else 0.0
        self.market_share = market_share
        # E[sqrt(vol)] = exp(-vol_of_vol^2 / 8) for the log-normal multiplier.
        self.hawkes_mu = self.model.hawkes_mu * math.exp(self.model.vol_of_vol**2 / 8.0)
        self.fixed_rate = self.mm_total + momentum_rate + value_rate

    # -- prices --------------------------------------------------------------

    def on_tick(self, price: int, side: Side) -> int:
        """``price`` made valid for ``side``: inside the collar, rounded on tick.

        A buy rounds down and a sell rounds up, so rounding never makes an
        order more aggressive (Rule 612: $0.01 at or above $1.00, $0.0001 below).
        """
        if price < self.floor:
            price = self.floor
        elif price > self.ceiling:
            price = self.ceiling
        tick = 100 if price >= ONE_DOLLAR else 1
        rem = price % tick
        if rem:
            price = price - rem if side is BUY else price + tick - rem
            if price > self.ceiling:
                price -= tick
        return price

    def fair_bid(self) -> int:
        return self.on_tick(int(self.fair.price) - self.tick, BUY)

    def fair_ask(self) -> int:
        return self.on_tick(int(self.fair.price) + self.tick, SELL)

    def mid(self) -> float | None:
        book = self.book
        bid = book.best_bid
        ask = book.best_ask
        if bid is None or ask is None:
            return None
        return (bid + ask) * 0.5

    # -- commands ------------------------------------------------------------

    def next_id(self) -> str:
        ids = self.ids
        ids[0] += 1
        return str(ids[0])

    def new_order(
        self,
        account: str,
        side: Side,
        qty: int,
        price: int | None,
        order_type: OrderType,
        tif: TimeInForce,
        smp: SelfMatchMode,
        id: str | None = None,
    ) -> list[Event]:
        """Send a new order now; return its events (already absorbed)."""
        if id is None:
            ids = self.ids
            ids[0] += 1
            id = str(ids[0])
        self.orders += 1
        ts = self.clock[0]
        events = self.engine.new_order(
            account, id, self.symbol, side, qty, price, ts, order_type, tif, False, smp
        )
        if len(events) != 2 or type(events[1]) is not Added:  # more than "rests untouched"
            self.absorb(events)
        if self.sink is not None:
            self.sink(
                NewOrder(account, id, self.symbol, side, qty, price, order_type, tif, False, smp),
                events,
            )
        return events

    def cancel(self, account: str, id: str) -> list[Event]:
        self.cancels += 1
        events = self.engine.cancel(account, id, self.clock[0])
        if type(events[0]) is Rejected:
            self.absorb(events)
        if self.sink is not None:
            self.sink(CancelOrder(account, id), events)
        return events

    def replace(self, account: str, id: str, price: int, qty: int) -> list[Event]:
        self.replaces += 1
        events = self.engine.replace(account, id, self.clock[0], price, qty)
        # Nothing to learn from a replace that kept its place, or moved and rested untouched.
        if len(events) == 1:
            if type(events[0]) is Rejected:
                self.absorb(events)
        elif len(events) != 2 or type(events[1]) is not Added:
            self.absorb(events)
        if self.sink is not None:
            self.sink(ReplaceOrder(account, id, price, qty), events)
        return events

    def absorb(self, events: list[Event]) -> None:
        """Learn from one command's events: fills of resting orders, trades, rejections."""
        e: Any  # narrowed by hand: ``kind is Trade`` and so on
        for e in events:
            kind = type(e)
            if kind is Trade:
                qty = e.qty
                price = e.price
                self.trades += 1
                self.volume += qty
                self.notional += price * qty
                if not self.first_price:
                    self.first_price = self.high = self.low = price
                elif price > self.high:
                    self.high = price
                elif price < self.low:
                    self.low = price
                self.last_price = price
                if e.aggressor is BUY:
                    self.signs.append(1)
                    account = e.sell_account
                    maker = self.owners.get(account)
                    if maker is None:
                        if not e.resting_left and self.noise_live.get(e.sell_id) == account:
                            del self.noise_live[e.sell_id]
                    else:
                        maker.on_fill(self, SELL, qty, e.resting_left)
                else:
                    self.signs.append(-1)
                    account = e.buy_account
                    maker = self.owners.get(account)
                    if maker is None:
                        if not e.resting_left and self.noise_live.get(e.buy_id) == account:
                            del self.noise_live[e.buy_id]
                    else:
                        maker.on_fill(self, BUY, qty, e.resting_left)
            elif kind is Cancelled:
                if e.reason is SELF_MATCH:
                    self.self_match_cancels += 1
                    if e.resting and self.noise_live.get(e.id) == e.account:
                        del self.noise_live[e.id]
            elif kind is Rejected:
                self.rejects += 1
                code = str(e.code)
                self.reject_codes[code] = self.reject_codes.get(code, 0) + 1

    def observe(self, events: list[Event]) -> None:
        """Learn from the events of commands others sent to a shared engine.

        A fill or a cancel of a simulated order caused by someone else would
        otherwise leave the agents believing the order still rests.
        """
        e: Any  # narrowed by hand: ``kind is Trade`` and so on
        for e in events:
            kind = type(e)
            if kind is Trade:
                if e.aggressor is BUY:
                    account, id, side = e.sell_account, e.sell_id, SELL
                else:
                    account, id, side = e.buy_account, e.buy_id, BUY
                maker = self.owners.get(account)
                if maker is not None:
                    maker.on_fill(self, side, e.qty, e.resting_left)
                elif not e.resting_left and self.noise_live.get(id) == account:
                    del self.noise_live[id]
            elif kind is Executed and e.in_book:  # a cross took a resting order
                maker = self.owners.get(e.account)
                if maker is not None:
                    maker.on_fill(self, e.side, e.qty, e.left)
                elif not e.left and self.noise_live.get(e.id) == e.account:
                    del self.noise_live[e.id]
            elif kind is Cancelled and e.resting:  # e.g. expired at the end of the day
                maker = self.owners.get(e.account)
                if maker is not None:
                    maker.forget(e.id)
                elif self.noise_live.get(e.id) == e.account:
                    del self.noise_live[e.id]

    # -- sampling ------------------------------------------------------------

    def sample(self, with_depth: bool) -> None:
        """Record the spread and mid now; with ``with_depth`` the depth profile too."""
        book = self.book
        bid = book.best_bid
        ask = book.best_ask
        if bid is not None and ask is not None:
            self.mids.append(bid + ask)
            if bid < ask:  # a pre-open book may lock or cross: no spread to measure
                self.spreads.append((ask - bid) // (100 if bid >= ONE_DOLLAR else 1))
        elif self.mids:
            self.mids.append(self.mids[-1])
        else:
            self.mids.append(2 * self.model.security.reference_price)
        if with_depth:
            self.depth_samples += 1
            tick = self.tick
            for side, depth in ((BUY, self.depth_bid), (SELL, self.depth_ask)):
                levels = book.levels(side, DEPTH_TICKS)
                if not levels:
                    continue
                best = levels[0].price
                for level in levels:
                    distance = abs(level.price - best) // tick
                    if distance >= DEPTH_TICKS:
                        break
                    depth[distance] += level.qty
