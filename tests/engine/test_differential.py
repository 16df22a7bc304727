"""The engine against the naive reference model on random command streams (hypothesis).

Streams cover three symbols (one collared above $1, one collared around $1 so
both Rule 612 ticks and the tick change at $1.00 are in play, one without a
collar), four accounts with a small pool of client ids (so duplicates, cancels
of filled orders and cancels by the wrong account happen often), every order
type, time in force, post-only and self-match mode, replaces, expiries, and
invalid commands of every kind. After every command the engine must agree with
the model on trades, rejection codes, cancellations, every book down to the
order queue and the engine order ids, and must pass ``check_integrity``; its
events must be numbered one by one and carry the command's time; and an L2
book rebuilt from the events' level fields must equal the engine's snapshot.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from lob.engine import (
    MAX_QTY,
    Cancelled,
    Event,
    MatchingEngine,
    OrderType,
    Rejected,
    SelfMatchMode,
    Side,
    TimeInForce,
    Trade,
    format_price,
)
from lob.engine.json_codec import CommandError, parse_command
from lob.engine.replay import replay_events, session_open_ns
from tests.engine.reference_model import ReferenceExchange, Result, tick
from tests.engine.support import L2FromEvents

SYMBOLS = {"AAA": 100_000, "PNY": 10_000, "BBB": None}  # reference prices ($10, $1, none)
NEAR_TOUCH = {
    "AAA": [99_800, 99_900, 99_900, 100_000, 100_000, 100_100, 100_100, 100_200],
    "PNY": [9_998, 9_999, 9_999, 10_000, 10_000, 10_100, 10_200],
    "BBB": [199_900, 200_000, 200_000, 200_100],
}
EDGES = {  # collar edges either side, far prices, off-tick and non-positive prices
    "AAA": [90_000, 89_900, 110_000, 110_100, 100_050, 0, -100_000],
    "PNY": [9_000, 8_999, 11_000, 11_100, 10_001, 10_050],
    "BBB": [500_000, 100_000, 200_001],
}
PRICES = {symbol: NEAR_TOUCH[symbol] * 4 + EDGES[symbol] for symbol in NEAR_TOUCH}
ALL_PRICES = sorted({p for ps in PRICES.values() for p in ps})
ACCOUNTS = ["A", "B", "C", "D"]
IDS = ["o1", "o2", "o3", "o4"]
QTYS = [1, 10, 50, 100, 100, 100, 150, 300]
BAD_QTYS = [0, -5, MAX_QTY + 1]

Command = tuple[Any, ...]


@st.composite
def new_orders(draw: st.DrawFn) -> Command:
    """A well-formed new order; its price may still be off tick, zero or outside the collar."""
    symbol = draw(st.sampled_from(list(SYMBOLS)))
    order_type = draw(st.sampled_from(["limit", "limit", "limit", "market"]))
    price = None if order_type == "market" else draw(st.sampled_from(PRICES[symbol]))
    fields = {
        "account": draw(st.sampled_from(ACCOUNTS)),
        "id": draw(st.sampled_from(IDS)),
        "symbol": symbol,
        "side": draw(st.sampled_from(["buy", "sell"])),
        "qty": draw(st.sampled_from(QTYS)),
        "price": price,
        "order_type": order_type,
        "tif": draw(st.sampled_from(["day", "day", "day", "gtc", "gtc", "ioc", "fok"])),
        "post_only": draw(st.sampled_from([False, False, False, True])),
        "smp": draw(st.sampled_from([m.value for m in SelfMatchMode])),
    }
    return ("new", fields)


CORRUPTIONS = [
    ("account", ""),
    ("account", 7),
    ("id", ""),
    ("id", "x" * 65),
    ("symbol", "ZZZ"),  # well formed but not traded
    ("symbol", "bad"),
    ("side", "hold"),
    ("order_type", "stop"),
    ("tif", "gfd"),
    ("post_only", "yes"),
    ("smp", "none"),
    ("qty", 0),
    ("qty", -5),
    ("qty", MAX_QTY + 1),
    ("price", None),
    ("price", 100_000),  # a price on a market order, or harmless on a limit order
]


@st.composite
def bad_new_orders(draw: st.DrawFn) -> Command:
    """A new order with one field made invalid."""
    _, fields = draw(new_orders())
    name, value = draw(st.sampled_from(CORRUPTIONS))
    return ("new", {**fields, name: value})


cancels = st.tuples(st.just("cancel"), st.sampled_from([*ACCOUNTS, ""]), st.sampled_from(IDS))
MOVES = {"same": 0, "up": 1, "down": -1, "up2": 2, "down2": -2}
"""Replace prices relative to the order's own price (in ticks), resolved when the command runs."""

replaces = st.tuples(
    st.just("replace"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(IDS),
    st.sampled_from([None] * 6 + list(MOVES) * 3 + [0, -100, 100_050, 10_001, 89_900, 110_100]),
    st.sampled_from(QTYS + BAD_QTYS + [None] * 6),
)
expiries = st.tuples(st.just("expire"), st.sampled_from(["day", "day", "gtc"]))
commands = st.sampled_from(
    ["new"] * 20 + ["bad"] * 3 + ["cancel"] * 5 + ["replace"] * 8 + ["expire"]
).flatmap(
    lambda kind: {
        "new": new_orders(),
        "bad": bad_new_orders(),
        "cancel": cancels,
        "replace": replaces,
        "expire": expiries,
    }[kind]
)


def _enum_or_raw(enum: Any, value: Any) -> Any:
    """The API's enum when the value is valid (as a typed caller passes), else the raw value."""
    try:
        return enum(value)
    except ValueError:
        return value


def fresh_pair() -> tuple[MatchingEngine, ReferenceExchange]:
    engine = MatchingEngine(auto_create_symbols=False)
    model = ReferenceExchange(auto_create_symbols=False)
    for symbol, reference in SYMBOLS.items():
        engine.add_symbol(symbol, reference)
        model.add_symbol(symbol, reference)
    return engine, model


def run_on_engine(engine: MatchingEngine, command: Command, ts: int) -> list[Event]:
    op = command[0]
    if op == "new":
        f = dict(command[1])
        for name, enum in (
            ("side", Side),
            ("order_type", OrderType),
            ("tif", TimeInForce),
            ("smp", SelfMatchMode),
        ):
            f[name] = _enum_or_raw(enum, f[name])
        return engine.new_order(ts=ts, **f)
    if op == "cancel":
        return engine.cancel(command[1], command[2], ts)
    if op == "replace":
        return engine.replace(command[1], command[2], ts, command[3], command[4])
    return engine.expire(ts, TimeInForce(command[1]))


def run_on_model(model: ReferenceExchange, command: Command) -> Result:
    op = command[0]
    if op == "new":
        return model.new_order(**command[1])
    if op == "cancel":
        return model.cancel(command[1], command[2])
    if op == "replace":
        return model.replace(*command[1:])
    return model.expire(command[1])


def observed(events: list[Event]) -> Result:
    """What the engine did, in the model's terms."""
    result = Result()
    for e in events:
        if type(e) is Trade:
            buyer, seller = (e.buy_account, e.buy_id), (e.sell_account, e.sell_id)
            result.trades.append((e.symbol, e.price, e.qty, *buyer, *seller, e.aggressor.value))
        elif type(e) is Rejected:
            result.rejected.append(e.code.value)
        elif type(e) is Cancelled:
            result.cancelled.append((e.account, e.id, e.qty, e.reason.value, e.resting))
    return result


def assert_same_books(engine: MatchingEngine, model: ReferenceExchange) -> None:
    assert engine.symbols == sorted(model.symbols)
    for symbol in model.symbols:
        snap = engine.order_snapshot(symbol)
        for side, orders in (("buy", snap.bids), ("sell", snap.asks)):
            got = [(o.price, o.account, o.id, o.qty, o.oid, o.tif.value) for o in orders]
            want = [
                (o.price, o.account, o.id, o.qty, o.oid, o.tif) for o in model.queue(symbol, side)
            ]
            assert got == want, f"{symbol} {side}"
        l2 = engine.l2_snapshot(symbol)
        assert [tuple(lv) for lv in l2.bids] == model.l2(symbol, "buy"), symbol
        assert [tuple(lv) for lv in l2.asks] == model.l2(symbol, "sell"), symbol


class Harness:
    """Runs each command on both sides and checks everything that must agree."""

    def __init__(self) -> None:
        self.engine, self.model = fresh_pair()
        self.from_events = L2FromEvents()
        self.ts = 34_200_000_000_000

    def resolve(self, command: Command) -> Command:
        """Turn a relative replace price into a price, using the order's price in the model."""
        if command[0] != "replace" or command[3] not in MOVES:
            return command
        order = self.model.live(command[1], command[2])
        if order is None:
            return (*command[:3], 100_000, *command[4:])
        price = order.price
        for _ in range(abs(MOVES[command[3]])):
            price += tick(price) if MOVES[command[3]] > 0 else -tick(price - 1)
        return (*command[:3], price, *command[4:])

    def step(self, command: Command) -> list[Event]:
        command = self.resolve(command)
        self.ts += 1_000_000
        seq = self.engine.seq
        events = run_on_engine(self.engine, command, self.ts)
        want = run_on_model(self.model, command)
        got = observed(events)
        assert got.trades == want.trades, command
        assert got.rejected == want.rejected, command
        if command[0] == "expire":
            assert sorted(got.cancelled) == sorted(want.cancelled), command
        else:
            assert got.cancelled == want.cancelled, command
        assert [e.seq for e in events] == list(range(seq + 1, seq + 1 + len(events)))
        assert all(e.ts == self.ts for e in events)
        if command[0] == "new" and not want.rejected:
            assert events[0].TYPE == "accepted"
        self.engine.check_integrity()
        assert_same_books(self.engine, self.model)
        self.from_events.apply(events)
        for symbol in self.model.symbols:
            l2 = self.engine.l2_snapshot(symbol)
            assert self.from_events.book(symbol, Side.BUY) == [tuple(lv) for lv in l2.bids]
            assert self.from_events.book(symbol, Side.SELL) == [tuple(lv) for lv in l2.asks]
        return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(commands, min_size=30, max_size=120))
def test_engine_matches_reference_model_on_random_streams(stream: list[Command]) -> None:
    harness = Harness()
    for command in stream:
        harness.step(command)


@settings(max_examples=40, deadline=None)
@given(st.lists(commands, min_size=1, max_size=60))
def test_engine_replays_identically_from_the_same_commands(stream: list[Command]) -> None:
    first, _ = fresh_pair()
    second, _ = fresh_pair()
    for i, command in enumerate(stream):
        assert run_on_engine(first, command, i) == run_on_engine(second, command, i)
    assert first.state_hash(include_owners=True) == second.state_hash(include_owners=True)


class EngineAgainstModel(RuleBasedStateMachine):
    """Stateful form: cancels and replaces aim at orders that were actually placed."""

    placed = Bundle("placed")

    def __init__(self) -> None:
        super().__init__()
        self.harness = Harness()

    @rule(target=placed, command=new_orders())
    def new(self, command: Command) -> tuple[Any, Any]:
        self.harness.step(command)
        return command[1]["account"], command[1]["id"]

    @rule(order=placed)
    def cancel(self, order: tuple[Any, Any]) -> None:
        self.harness.step(("cancel", *order))

    @rule(
        order=placed,
        price=st.sampled_from([None, *MOVES, 0, 100_050]),
        qty=st.sampled_from(QTYS + BAD_QTYS + [None] * 4),
    )
    def replace(self, order: tuple[Any, Any], price: int | None, qty: int | None) -> None:
        self.harness.step(("replace", *order, price, qty))

    @rule(tif=st.sampled_from(["day", "gtc"]))
    def expire(self, tif: str) -> None:
        self.harness.step(("expire", tif))

    @invariant()
    def integrity(self) -> None:
        self.harness.engine.check_integrity()


EngineAgainstModel.TestCase.settings = settings(
    max_examples=60, stateful_step_count=50, deadline=None
)
test_engine_matches_reference_model_statefully = EngineAgainstModel.TestCase


def _as_json_line(command: Command) -> str:
    """The replay form of a command: prices as decimal text, the engine's names as JSON's."""

    def price_text(price: object) -> object:
        return format_price(price) if type(price) is int and price > 0 else price

    if command[0] == "new":
        fields = dict(command[1])
        obj = {"op": "new", **fields, "type": fields.pop("order_type")}
        del obj["order_type"]
        if obj["price"] is None:
            del obj["price"]
        else:
            obj["price"] = price_text(obj["price"])
    elif command[0] == "cancel":
        obj = {"op": "cancel", "account": command[1], "id": command[2]}
    else:
        obj = {"op": "replace", "account": command[1], "id": command[2]}
        if command[3] is not None:
            obj["price"] = price_text(command[3])
        if command[4] is not None:
            obj["qty"] = command[4]
    return json.dumps(obj)


@settings(max_examples=60, deadline=None)
@given(st.lists(commands, min_size=10, max_size=80))
def test_replay_of_json_lines_gives_the_same_events_as_the_engine_api(
    stream: list[Command],
) -> None:
    """The JSON edge is a faithful path to the engine: same events, same rejection codes."""
    harness = Harness()
    stream = [harness.resolve(c) for c in stream if c[0] != "expire"]
    direct, _ = fresh_pair()
    replayed, _ = fresh_pair()
    open_ns = session_open_ns("2026-01-02")
    lines = [_as_json_line(c) for c in stream]
    for i, (command, events) in enumerate(
        zip(stream, replay_events(lines, open_ns, replayed), strict=True)
    ):
        ts = open_ns + i * 1_000_000
        try:
            parse_command(json.loads(lines[i]))
        except CommandError as exc:
            # The edge refuses a badly shaped command before the engine sees it.
            assert [(e.TYPE, e.code, e.ts) for e in events] == [("rejected", exc.code, ts)]
            direct.reject(exc.op, None, None, None, exc.code, exc.message, ts)
            continue
        want = run_on_engine(direct, command, ts)
        assert [e._replace(message="") if type(e) is Rejected else e for e in events] == [
            e._replace(message="") if type(e) is Rejected else e for e in want
        ], lines[i]
    assert replayed.state_hash(include_owners=True) == direct.state_hash(include_owners=True)
