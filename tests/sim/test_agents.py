"""Each agent kind on its own: what it sends and how it reacts."""

from __future__ import annotations

import random

from lob.engine.commands import CancelOrder, NewOrder, ReplaceOrder
from lob.engine.events import Trade
from lob.engine.types import OrderType, Side, TimeInForce
from lob.sim.agents import MOMENTUM_ACCOUNT, VALUE_ACCOUNT, NoiseTraders
from lob.sim.model import ModelConfig
from lob.sim.simulator import AgentMix, MarketSimulator

NOISE_ONLY = AgentMix(market_makers=False, momentum=False, value=False)
MAKERS_ONLY = AgentMix(noise=False, momentum=False, value=False)


def _sim(agents: AgentMix, seed: int = 1, symbols: str = "AAPL", rate: float = 1_000):
    return MarketSimulator(seed=seed, symbols=symbols, rate=rate, agents=agents)


# -- noise traders --------------------------------------------------------------


def test_noise_limit_orders_never_take_liquidity() -> None:
    sim = _sim(NOISE_ONLY)
    limits = 0
    for command, events in sim.stream(5.0):
        if isinstance(command, NewOrder) and command.order_type is OrderType.LIMIT:
            limits += 1
            assert not any(type(e) is Trade for e in events)
    assert limits > 1_000


def test_noise_market_orders_trade_and_never_rest() -> None:
    sim = _sim(NOISE_ONLY)
    markets = traded = 0
    for command, events in sim.stream(5.0):
        if isinstance(command, NewOrder) and command.order_type is OrderType.MARKET:
            markets += 1
            traded += any(type(e) is Trade for e in events)
            assert events[-1].TYPE != "added"
    assert markets > 100
    assert traded > markets // 2


def test_noise_cancels_target_only_live_orders_of_their_own() -> None:
    sim = _sim(NOISE_ONLY)
    cancels = 0
    for command, events in sim.stream(5.0):
        if isinstance(command, CancelOrder):
            cancels += 1
            assert command.account.startswith("NOISE")
            assert events[0].TYPE == "cancelled"
    assert cancels > 1_000
    assert sim.summary().rejects == 0


def test_noise_per_order_cancel_rate_holds_the_book_near_its_target() -> None:
    sim = _sim(NOISE_ONLY, rate=2_000)
    sim.run(20.0)
    resting = sim.summary().symbols["AAPL"].resting_orders
    target = sim.config.noise_book_orders
    assert 0.4 * target < resting < 1.5 * target


def test_noise_distance_is_heavy_tailed_and_capped() -> None:
    noise = NoiseTraders(["A", "B"], unit=2.0, tail=0.9, max_distance_units=40, inside_prob=0.0)
    rng = random.Random(1)
    draws = sorted(noise.distance(rng.random()) for _ in range(20_000))
    assert noise.distance(0.0) == 0
    assert draws[-1] == noise.max_distance == 80
    median = draws[len(draws) // 2]
    p99 = draws[int(len(draws) * 0.99)]
    assert 1 <= median <= 4
    assert p99 >= 15 * median  # a power law, not an exponential, behind the touch


def test_noise_only_market_has_no_market_maker_orders() -> None:
    sim = _sim(NOISE_ONLY)
    accounts = {c.account for c, _ in sim.stream(2.0)}
    assert accounts and all(a.startswith("NOISE") for a in accounts)


# -- market makers ----------------------------------------------------------------


def test_market_makers_alone_quote_two_sided_around_fair_value() -> None:
    sim = _sim(MAKERS_ONLY)
    sim.run(10.0)
    m = sim.markets[0]
    book = m.book
    assert book.best_bid is not None and book.best_ask is not None
    assert book.best_bid < book.best_ask
    mid = (book.best_bid + book.best_ask) / 2
    assert abs(mid - m.fair.price) < 5 * m.unit_px
    owners = {o.account for o in sim.engine.order_snapshot("AAPL").bids}
    assert owners <= {"MM1", "MM2", "MM3"}


def test_market_makers_churn_by_cancel_replace() -> None:
    sim = _sim(MAKERS_ONLY)
    kinds = {"new": 0, "replace": 0}
    for command, _ in sim.stream(10.0):
        if isinstance(command, NewOrder):
            kinds["new"] += 1
        elif isinstance(command, ReplaceOrder):
            kinds["replace"] += 1
    assert kinds["replace"] > 5 * kinds["new"]


def test_market_maker_inventory_skews_quotes_down_when_long() -> None:
    sim = _sim(MAKERS_ONLY)
    sim.run(1.0)
    m = sim.markets[0]
    maker = m.makers[0]
    flat = maker.targets(m)
    maker.inventory = 20 * m.model.lot
    long_bid, long_ask = maker.targets(m)
    assert long_bid < flat[0] and long_ask < flat[1]
    maker.inventory = -20 * m.model.lot
    short_bid, short_ask = maker.targets(m)
    assert short_bid > flat[0] and short_ask > flat[1]


def test_market_maker_requote_leaves_quotes_alone_exactly_at_its_targets() -> None:
    # ``requote`` writes ``targets`` out: at the targets it must send nothing, one tick
    # off them it must move, whatever the inventory skew and the book.
    sim = _sim(MAKERS_ONLY, symbols="AAPL,PNNY")
    sent: list[object] = []
    sim.run(2.0)
    sim.on_events = lambda command, events: sent.append(command)
    checked = 0
    for m in sim.markets:
        for maker in m.makers:
            for lots in (0, 3, -7):
                maker.noise = 0.0  # the private error then decays without a draw
                maker.bias = 0.0
                maker.inventory = lots * m.model.lot
                bid, ask = maker.targets(m)
                maker.bid_px, maker.ask_px = bid, ask
                maker.bid_qty = maker.ask_qty = maker.size
                maker.requote(m)
                assert sent == [], (m.symbol, maker.account, lots)
                maker.bid_px = bid - m.tick
                maker.requote(m)
                assert sent, (m.symbol, maker.account, lots)
                sent.clear()
                checked += 1
    assert checked == 3 * sum(len(m.makers) for m in sim.markets)


def test_market_maker_requotes_after_a_fill() -> None:
    sim = _sim(MAKERS_ONLY)
    sim.run(2.0)
    m = sim.markets[0]
    bid = m.book.best_bid
    # Someone else sells into the bid: the simulator hears of it and requotes.
    events = sim.engine.new_order(
        "OUTSIDE",
        "x1",
        "AAPL",
        Side.SELL,
        10_000,
        bid,
        sim.now_ns,
        OrderType.LIMIT,
        TimeInForce.IOC,
    )
    assert any(type(e) is Trade for e in events)
    before = sim.summary().messages
    sim.observe(events)
    assert sum(mm.inventory for mm in m.makers) > 0
    assert not m.dirty
    assert sim.summary().messages > before  # the hit makers sent their new quotes
    assert m.book.best_bid is not None


# -- momentum and value traders -----------------------------------------------------


def test_momentum_trader_follows_a_rising_mid() -> None:
    sim = _sim(AgentMix(momentum=True, value=False))
    sim.run(2.0)
    m = sim.markets[0]
    informed = m.informed
    assert informed is not None
    m.parents.clear()
    informed.ema = m.mid() - 10 * m.unit_px * informed.horizon**0.5  # the mid rose a lot
    informed.ema_t = m.now
    informed.momentum_decision(m)
    assert len(m.parents) == 1
    assert m.parents[0].side is Side.BUY and m.parents[0].momentum


def test_value_trader_buys_below_fair_value_with_ioc_at_the_ask() -> None:
    sim = _sim(AgentMix(momentum=False, value=True))
    sim.run(2.0)
    m = sim.markets[0]
    informed = m.informed
    assert informed is not None
    m.parents.clear()
    m.fair.price = m.mid() + 10 * m.unit_px  # the market is cheap
    informed.value_decision(m)
    assert len(m.parents) == 1 and m.parents[0].side is Side.BUY
    seen = []
    m.sink = lambda command, events: seen.append(command)
    informed.child(m)
    m.sink = None
    assert len(seen) == 1
    child = seen[0]
    assert child.account == VALUE_ACCOUNT and child.side is Side.BUY
    assert child.tif is TimeInForce.IOC and child.order_type is OrderType.LIMIT


def test_informed_children_come_from_their_own_accounts_and_never_rest() -> None:
    eager = ModelConfig(momentum_threshold=0.2, value_threshold=0.2)
    sim = MarketSimulator(seed=1, symbols="AAPL", rate=2_000, config=eager)
    children = 0
    for command, events in sim.stream(5.0):
        if isinstance(command, NewOrder) and command.account in (MOMENTUM_ACCOUNT, VALUE_ACCOUNT):
            children += 1
            assert events[-1].TYPE != "added"
    assert children > 0


def test_market_makers_requote_after_the_venue_cancels_their_quotes() -> None:
    sim = _sim(MAKERS_ONLY)
    sim.run(2.0)
    m = sim.markets[0]
    expired = sim.engine.expire(sim.now_ns, TimeInForce.DAY)  # the venue ends the day
    assert expired and m.book.best_bid is None
    sim.observe(expired)
    assert all(mm.bid_qty == 0 and mm.ask_qty == 0 for mm in m.makers)
    sim.run(2.0)
    assert m.book.best_bid is not None and m.book.best_ask is not None
    assert sim.summary().rejects == 0
