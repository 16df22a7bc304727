"""The agents: noise traders, market makers, momentum and value traders.

Each agent acts on one symbol's ``Market`` (``lob.sim.market``), which owns the
symbol's state and sends commands to the engine. Agents draw every random
number from the simulator's ``random.Random``, so a seed fixes their choices.

- ``NoiseTraders`` (zero intelligence): limit orders at a heavy-tailed distance
  behind the touch (sometimes inside the spread), market orders, and the
  cancellation of their resting orders, each of which dies at a constant rate
  (a per-order Poisson process: a random live order is picked when the
  symbol's total cancel clock rings; the simulator's loop sends that cancel).
- ``MarketMaker``: two-sided quotes around its own fair-value estimate
  (the latent value plus a persistent private error), shifted against its
  inventory, wider in volatile spells; it requotes after each fill and on its
  own clock, by cancel-replace. It takes liquidity only to pick off a side
  that is stale by a unit or more, or to trade out of inventory past its limit.
- ``InformedTraders``: momentum traders buy when the mid has risen over their
  moving average (and sell after falls); value traders buy when the latent fair
  value is above the mid. Both work a decision as a parent order split into
  child orders over time (market orders for momentum, limit IOC at the touch
  for value), which is what makes the signs of trades persist.
"""

from __future__ import annotations

import math
from math import floor
from typing import TYPE_CHECKING, Final

from lob.engine.commands import NewOrder
from lob.engine.events import Added, Cancelled, Rejected, Replaced, Trade
from lob.engine.types import OrderType, SelfMatchMode, Side, TimeInForce

if TYPE_CHECKING:
    from lob.sim.market import Market

__all__ = ["InformedTraders", "MarketMaker", "NoiseTraders", "Parent"]

BUY: Final = Side.BUY
SELL: Final = Side.SELL
LIMIT: Final = OrderType.LIMIT
MARKET: Final = OrderType.MARKET
DAY: Final = TimeInForce.DAY
IOC: Final = TimeInForce.IOC
CANCEL_OLDEST: Final = SelfMatchMode.CANCEL_OLDEST
CANCEL_NEWEST: Final = SelfMatchMode.CANCEL_NEWEST

MID_WEIGHT: Final = 0.1
"""How far a market maker's estimate leans from the latent value toward the mid."""

TAKE_EDGE: Final = 1.0
"""A market maker's quote crosses the book (taking stale orders) only when the
other side is at least this many units through its target; otherwise it joins
one tick behind the other side's best price."""

MAX_SKEW: Final = 4.0
"""The most (in units) a market maker shifts its quotes against its inventory."""

MOMENTUM_ACCOUNT: Final = "MOMENTUM"
VALUE_ACCOUNT: Final = "VALUE"


class NoiseTraders:
    """The zero-intelligence crowd of one symbol, trading from a pool of accounts."""

    __slots__ = ("accounts", "inside_prob", "inv_tail", "mask", "max_distance", "unit")

    def __init__(
        self,
        accounts: list[str],
        unit: float,
        tail: float,
        max_distance_units: float,
        inside_prob: float,
    ) -> None:
        if len(accounts) & (len(accounts) - 1) or len(accounts) > 1 << 15:
            raise ValueError("the number of noise accounts must be a power of two, at most 32768")
        self.accounts = accounts
        self.mask = len(accounts) - 1
        self.unit = unit
        self.inv_tail = -1.0 / tail
        self.max_distance = max(1, int(max_distance_units * unit))
        self.inside_prob = inside_prob

    def distance(self, u: float, scale: float = 1.0) -> int:
        """Ticks behind the touch for a uniform draw ``u`` (a discrete Pareto law).

        ``scale`` stretches the law (the square root of the volatility multiplier:
        books are wider in busy spells).
        """
        d = int(self.unit * scale * ((1.0 - u) ** self.inv_tail - 1.0))
        return d if d < self.max_distance else self.max_distance

    def place_limit(self, m: Market) -> None:
        """One passive limit order: behind the touch, or inside the spread.

        The simulator's most frequent action, so it sends the order itself with
        ``Market.new_order``'s bookkeeping written out (count, id, read-back of
        anything beyond "rests untouched", the sink).
        """
        rng = m.rng
        bits = rng.getrandbits(26)  # side, size and account from one draw
        side = BUY if bits & 1 else SELL
        book = m.book
        keys = book.bid_keys  # the best bid and ask (``book.best_bid`` / ``best_ask``)
        bid = keys[-1] if keys else None
        keys = book.ask_keys
        ask = -keys[-1] if keys else None
        tick = m.tick
        if (
            bid is not None
            and ask is not None
            and ask - bid > tick
            and rng.random() < self.inside_prob
        ):
            # ``floor`` for ``int`` on the hot paths: the same for values >= 0, and cheaper.
            inside = 1 + floor(rng.random() * ((ask - bid) // tick - 1))
            price = bid + inside * tick if side is BUY else ask - inside * tick
        else:
            d = floor(self.unit * m.fair.sqrt_vol * ((1.0 - rng.random()) ** self.inv_tail - 1.0))
            if d > self.max_distance:
                d = self.max_distance
            d *= tick
            if side is BUY:
                if bid is not None:
                    price = bid - d
                else:
                    price = (ask - tick if ask is not None else m.fair_bid()) - d
            else:
                if ask is not None:
                    price = ask + d
                else:
                    price = (bid + tick if bid is not None else m.fair_ask()) + d
        if m.mixed_ticks or not m.floor <= price <= m.ceiling:
            price = m.on_tick(price, side)
        account = self.accounts[(bits >> 11) & self.mask]
        qty = m.sizes[(bits >> 1) & 1023]
        ids = m.ids
        n = ids[0] + 1
        ids[0] = n
        id = str(n)
        m.orders += 1
        events = m.engine.new_order(
            account, id, m.symbol, side, qty, price, m.clock[0], LIMIT, DAY, False, CANCEL_OLDEST
        )
        if len(events) == 2 and type(events[1]) is Added:
            m.noise_live[id] = account
            m.noise_ids.append(id)
        else:
            m.absorb(events)
            if type(events[-1]) is Added:
                m.noise_live[id] = account
                m.noise_ids.append(id)
        if m.sink is not None:
            m.sink(
                NewOrder(account, id, m.symbol, side, qty, price, LIMIT, DAY, False, CANCEL_OLDEST),
                events,
            )

    def send_market(self, m: Market) -> None:
        """One market order for a drawn size; what finds no liquidity is cancelled."""
        rng = m.rng
        side = BUY if rng.random() < 0.5 else SELL
        account = self.accounts[rng.getrandbits(16) & self.mask]
        m.market_orders += 1
        m.new_order(account, side, m.sizes[rng.getrandbits(10)], None, MARKET, IOC, CANCEL_OLDEST)


class MarketMaker:
    """One market maker's two-sided quote in one symbol."""

    __slots__ = (
        "account",
        "ask_id",
        "ask_px",
        "ask_qty",
        "bias",
        "bid_id",
        "bid_px",
        "bid_qty",
        "dirty",
        "half_spread",
        "inventory",
        "max_inventory",
        "noise",
        "size",
        "skew",
    )

    def __init__(
        self,
        account: str,
        half_spread: float,
        size: int,
        max_inventory: int,
        skew: float,
        noise: float,
        bias: float = 0.0,
    ) -> None:
        self.account = account
        self.half_spread = half_spread  # in units
        self.size = size
        self.max_inventory = max_inventory
        self.skew = skew  # shares of inventory per unit of quote shift
        self.noise = noise  # standard deviation of the private error, units
        self.bias = bias
        self.inventory = 0
        self.bid_id = ""
        self.bid_px = 0
        self.bid_qty = 0  # 0: no live bid
        self.ask_id = ""
        self.ask_px = 0
        self.ask_qty = 0
        self.dirty = False

    def estimate(self, m: Market) -> float:
        """Fair value as this market maker sees it: the latent value pulled toward the mid."""
        fair = m.fair.price
        mid = m.mid()
        if mid is not None:
            fair += MID_WEIGHT * (mid - fair)
        return fair + self.bias * m.unit_px

    def targets(self, m: Market) -> tuple[int, int]:
        """The bid and ask this market maker wants now (on tick, bid < ask).

        ``requote`` has the same arithmetic written out; the two must agree.
        """
        unit_px = m.unit_px
        fair = m.fair
        book = m.book
        bids = book.bid_keys  # the best bid is bids[-1], the best ask -asks[-1]
        asks = book.ask_keys
        center = fair.price
        if bids and asks:  # lean toward the mid
            center += MID_WEIGHT * ((bids[-1] - asks[-1]) * 0.5 - center)
        # Inventory risk grows with volatility: so does the skew (and the spread).
        skew = self.inventory / self.skew
        if skew > MAX_SKEW:
            skew = MAX_SKEW
        elif skew < -MAX_SKEW:
            skew = -MAX_SKEW
        sqrt_vol = fair.sqrt_vol
        center += (self.bias - skew * sqrt_vol) * unit_px
        half = self.half_spread * unit_px * sqrt_vol
        tick = m.tick
        if half < tick:
            half = float(tick)
        bid = int(center - half)
        ask = int(center + half) + 1
        if m.mixed_ticks or bid < m.floor or ask > m.ceiling:
            bid = m.on_tick(bid, BUY)
            ask = m.on_tick(ask, SELL)
        else:  # one tick size across the collar: round down and up by modulo
            bid -= bid % tick
            ask += -ask % tick
        if ask <= bid:
            ask = m.on_tick(bid + 1, SELL)
        return bid, ask

    def requote(self, m: Market) -> None:
        """Move both quotes to the targets, in the order that never crosses its own."""
        self.dirty = False
        rng = m.rng
        # AR(1) private error; uniform innovations, scaled so its stationary
        # standard deviation is ``noise`` (0.436^2 = 1 - 0.9^2).
        self.bias = 0.9 * self.bias + 1.51 * self.noise * (rng.random() - 0.5)
        inventory = self.inventory
        limit = self.max_inventory
        if (inventory >= limit or inventory <= -limit) and m.book.matching:
            self._unwind(m)  # limit IOC: only while the book matches
            inventory = self.inventory
        # ``self.targets(m)`` written out: one call less on a path taken at every
        # requote, most of which find both quotes already in place.
        unit_px = m.unit_px
        fair = m.fair
        book = m.book
        bids = book.bid_keys
        asks = book.ask_keys
        center = fair.price
        if bids and asks:
            center += MID_WEIGHT * ((bids[-1] - asks[-1]) * 0.5 - center)
        skew = inventory / self.skew
        if skew > MAX_SKEW:
            skew = MAX_SKEW
        elif skew < -MAX_SKEW:
            skew = -MAX_SKEW
        sqrt_vol = fair.sqrt_vol
        center += (self.bias - skew * sqrt_vol) * unit_px
        half = self.half_spread * unit_px * sqrt_vol
        tick = m.tick
        if half < tick:
            half = float(tick)
        bid = int(center - half)
        ask = int(center + half) + 1
        if m.mixed_ticks or bid < m.floor or ask > m.ceiling:
            bid = m.on_tick(bid, BUY)
            ask = m.on_tick(ask, SELL)
        else:
            bid -= bid % tick
            ask += -ask % tick
        if ask <= bid:
            ask = m.on_tick(bid + 1, SELL)
        half_size = self.size >> 1
        if (
            bid == self.bid_px
            and ask == self.ask_px
            and self.bid_qty > half_size
            and self.ask_qty > half_size
            and -limit < inventory < limit
        ):
            return  # both quotes already where they should be
        want_bid = inventory < limit
        want_ask = inventory > -limit
        if self.bid_qty and bid > self.bid_px:  # moving up: the ask goes first
            self._quote_ask(m, ask, want_ask)
            self._quote_bid(m, bid, want_bid)
        else:
            self._quote_bid(m, bid, want_bid)
            self._quote_ask(m, ask, want_ask)

    def _unwind(self, m: Market) -> None:
        """Past the inventory limit: take the touch (limit IOC) for half the excess and more."""
        inventory = self.inventory
        book = m.book
        qty = abs(inventory) - self.max_inventory // 2
        if inventory > 0:
            if self.bid_qty:  # never trade with its own quote
                m.cancel(self.account, self.bid_id)
                self.bid_qty = 0
            price = book.best_bid
            side = SELL
        else:
            if self.ask_qty:
                m.cancel(self.account, self.ask_id)
                self.ask_qty = 0
            price = book.best_ask
            side = BUY
        if price is None or qty <= 0:
            return
        m.unwinds += 1
        for e in m.new_order(self.account, side, qty, price, LIMIT, IOC, CANCEL_NEWEST):
            if type(e) is Trade:
                self.inventory += e.qty if side is BUY else -e.qty

    def _quote_bid(self, m: Market, price: int, want: bool) -> None:
        if not want:
            if self.bid_qty:
                m.cancel(self.account, self.bid_id)
                self.bid_qty = 0
            return
        asks = m.book.ask_keys
        ask = -asks[-1] if asks else None
        if ask is not None and price >= ask and price - ask < m.unit_px * TAKE_EDGE:
            price = m.on_tick(ask - 1, BUY)  # join passively unless the ask is stale
        if price < m.floor:
            price = m.floor
        if self.bid_qty:
            if price == self.bid_px and self.bid_qty * 2 >= self.size:
                return
            events = m.replace(self.account, self.bid_id, price, self.size)
        else:
            self.bid_id = m.next_id()
            events = m.new_order(
                self.account, BUY, self.size, price, LIMIT, DAY, CANCEL_NEWEST, self.bid_id
            )
        self.bid_px, self.bid_qty = _resting(events)
        if len(events) > 2:
            self.inventory += _taken(events)

    def _quote_ask(self, m: Market, price: int, want: bool) -> None:
        if not want:
            if self.ask_qty:
                m.cancel(self.account, self.ask_id)
                self.ask_qty = 0
            return
        bids = m.book.bid_keys
        bid = bids[-1] if bids else None
        if bid is not None and price <= bid and bid - price < m.unit_px * TAKE_EDGE:
            price = m.on_tick(bid + 1, SELL)  # join passively unless the bid is stale
        if price > m.ceiling:
            price = m.ceiling
        if self.ask_qty:
            if price == self.ask_px and self.ask_qty * 2 >= self.size:
                return
            events = m.replace(self.account, self.ask_id, price, self.size)
        else:
            self.ask_id = m.next_id()
            events = m.new_order(
                self.account, SELL, self.size, price, LIMIT, DAY, CANCEL_NEWEST, self.ask_id
            )
        self.ask_px, self.ask_qty = _resting(events)
        if len(events) > 2:
            self.inventory -= _taken(events)

    def forget(self, id: str) -> None:
        """The quote ``id`` left the book without trading (cancelled by the venue)."""
        if id == self.bid_id:
            self.bid_qty = 0
        elif id == self.ask_id:
            self.ask_qty = 0

    def on_fill(self, m: Market, side: Side, qty: int, left: int) -> None:
        """A resting quote traded ``qty`` (``left`` remains): book it, requote soon."""
        if side is BUY:
            self.inventory += qty
            self.bid_qty = left
        else:
            self.inventory -= qty
            self.ask_qty = left
        if not self.dirty:
            self.dirty = True
            m.dirty.append(self)


def _resting(events: list) -> tuple[int, int]:  # type: ignore[type-arg]
    """(price, open quantity) of the order the events leave resting, or (0, 0)."""
    last = events[-1]
    kind = type(last)
    if kind is Added:
        return last.price, last.qty
    if kind is Replaced:  # kept its priority: no re-entry follows
        return last.price, last.qty
    if kind is Cancelled or kind is Rejected:
        return 0, 0
    return 0, 0  # the re-entry traded in full


def _taken(events: list) -> int:  # type: ignore[type-arg]
    """Shares the command's own order took from the book."""
    return sum(e.qty for e in events if type(e) is Trade)


class Parent:
    """A decision being worked: ``children`` more child orders on ``side``."""

    __slots__ = ("children", "momentum", "side")

    def __init__(self, side: Side, children: int, momentum: bool) -> None:
        self.side = side
        self.children = children
        self.momentum = momentum


class InformedTraders:
    """Momentum and value traders of one symbol, working parent orders."""

    __slots__ = (
        "ema",
        "ema_t",
        "horizon",
        "max_parents",
        "mean_children",
        "momentum_threshold",
        "value_threshold",
    )

    def __init__(
        self,
        horizon: float,
        momentum_threshold: float,
        value_threshold: float,
        mean_children: float,
        max_parents: int,
    ) -> None:
        self.horizon = horizon
        self.momentum_threshold = momentum_threshold
        self.value_threshold = value_threshold
        self.mean_children = mean_children
        self.max_parents = max_parents
        self.ema: float | None = None
        self.ema_t = 0.0

    def _children(self, m: Market) -> int:
        return 1 + int(-math.log(1.0 - m.rng.random()) * (self.mean_children - 1.0))

    def momentum_decision(self, m: Market) -> None:
        """Compare the mid with its moving average; start a parent on a strong trend."""
        mid = m.mid()
        if mid is None:
            return
        ema = self.ema
        if ema is None:
            self.ema, self.ema_t = mid, m.now
            return
        weight = 1.0 - math.exp(-(m.now - self.ema_t) / self.horizon)
        self.ema = ema = ema + weight * (mid - ema)
        self.ema_t = m.now
        trend = mid - ema
        band = self.momentum_threshold * m.unit_px * math.sqrt(self.horizon) * 0.5
        if abs(trend) > band and len(m.parents) < self.max_parents:
            m.parents.append(Parent(BUY if trend > 0 else SELL, self._children(m), True))

    def value_decision(self, m: Market) -> None:
        """Compare the latent fair value with the mid; start a parent on a wide gap."""
        mid = m.mid()
        if mid is None:
            return
        gap = m.fair.price - mid
        edge = abs(gap) / (self.value_threshold * m.unit_px)
        if edge > 1.0 and len(m.parents) < self.max_parents:
            # The wider the mispricing, the bigger the parent order.
            children = int(self._children(m) * min(edge, 4.0)) + 1
            m.parents.append(Parent(BUY if gap > 0 else SELL, children, False))

    def child(self, m: Market) -> None:
        """Send one child order of a parent chosen uniformly."""
        parents = m.parents
        i = int(m.rng.random() * len(parents))
        parent = parents[i]
        parent.children -= 1
        if parent.children <= 0:
            parents[i] = parents[-1]
            parents.pop()
        qty = m.sizes[m.rng.getrandbits(10)]
        side = parent.side
        if parent.momentum:
            m.new_order(MOMENTUM_ACCOUNT, side, qty, None, MARKET, IOC, CANCEL_NEWEST)
            return
        book = m.book
        price = book.best_ask if side is BUY else book.best_bid
        mid = m.mid()
        if price is None or mid is None:
            return
        gap = m.fair.price - mid
        if (gap > 0) is not (side is BUY) or abs(gap) < 0.5 * self.value_threshold * m.unit_px:
            parent.children = 0  # the edge is gone: stop working this parent
            if parents and parents[-1] is parent:
                parents.pop()
            elif parent in parents:
                parents.remove(parent)
            return
        m.new_order(VALUE_ACCOUNT, side, qty, price, LIMIT, IOC, CANCEL_NEWEST)
