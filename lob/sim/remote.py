"""Remote mode: the simulator's order flow sent to a running ``lob serve``, as a load generator.

``run_remote(url, keys, ...)`` runs a ``MarketSimulator`` paced to the wall
clock and sends every command it makes to the server, as the agent's own
account, over one WebSocket per account (``lob simulate --url`` and ``lob
demo`` use it; docs/simulator.md, "Remote mode").

Why a local engine too: the agents decide from a book, and reading the
server's book for every decision would cost a round trip each. The simulator
keeps its own engine, which mirrors the server's book as long as both start
empty from the same reference prices and nobody else trades, because both get
the same commands in the same order per account.

When someone else trades (a person in the workstation takes an agent's
order), the mirror would drift. So each connection follows the account's
``executions`` channel: a maker fill the local engine did not also make came
from outside; it is passed to ``sim.observe`` (the agent learns of the fill;
a market maker requotes) and the local order is cut to what is left on the
server. Commands that still miss (a cancel of an order the person already
took) are refused by the server and counted by code.

Sending: per account, commands go in order, one message on the wire at a
time: whatever has queued while the previous one was out leaves together as
one ``batch`` message (up to ``BATCH`` commands), so an account's rate is not
bounded by one round trip per command; accounts run side by side.
``window`` bounds the commands made but not yet answered: when it is full the
simulator is not advanced, so the generator waits for the exchange instead of
queueing without bound. Latency is measured
from each command's *intended* send time (when the simulated clock says it
was due on the wall clock), not from when it left, so a stalled server shows
as latency rather than hiding as a lower rate (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lob.engine.commands import CancelOrder, NewOrder
from lob.engine.events import Trade
from lob.engine.prices import format_price, parse_price
from lob.engine.types import Side
from lob.sim.simulator import MarketSimulator, agent_accounts

__all__ = [
    "DEFAULT_WINDOW",
    "RemoteError",
    "RemoteStats",
    "command_message",
    "load_keys",
    "parse_keys",
    "run_remote",
]

DEFAULT_WINDOW = 2_000
"""Commands made but not yet answered beyond which the simulator pauses."""
BATCH = 200
"""Most commands an account sends in one ``batch`` message."""
TICK = 0.002
"""Seconds between pacer ticks: small, so a command leaves close to when it is due."""
DRAIN_TIMEOUT = 30.0
"""Seconds allowed, at the end, for the answers still outstanding."""


class RemoteError(Exception):
    """A remote run cannot start or went wrong; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def parse_keys(text: str) -> dict[str, str]:
    """``ACCOUNT:KEY,ACCOUNT:KEY`` (commas, spaces or newlines between) -> {account: key}."""
    keys = {}
    for spec in text.replace("\n", ",").replace(" ", ",").split(","):
        account, sep, key = spec.strip().partition(":")
        if sep and account and key:
            keys[account] = key
    return keys


def load_keys(keys_file: str | None, env_text: str | None) -> dict[str, str]:
    """Keys from a file (``ACCOUNT:KEY`` per line or comma separated), else from the env text."""
    if keys_file is not None:
        try:
            with open(keys_file, encoding="utf-8") as f:
                return parse_keys(f.read())
        except OSError as exc:
            raise RemoteError("io_error", f"cannot read {keys_file}: {exc.strerror}") from None
    return parse_keys(env_text or "")


def command_message(command: Any, prefix: str = "") -> dict[str, Any]:
    """An engine command as the WebSocket ``new`` / ``cancel`` / ``replace`` request.

    ``prefix`` is put before the order id, so that runs against the same server
    never reuse a live order's id.
    """
    if type(command) is NewOrder:
        message: dict[str, Any] = {
            "op": "new",
            "id": prefix + command.id,
            "symbol": command.symbol,
            "side": command.side.value,
            "qty": command.qty,
            "type": command.order_type.value,
            "tif": command.tif.value,
            "smp": command.smp.value,
        }
        if command.price is not None:
            message["price"] = format_price(command.price)
        return message
    if type(command) is CancelOrder:
        return {"op": "cancel", "id": prefix + command.id}
    message = {"op": "replace", "id": prefix + command.id}
    if command.price is not None:
        message["price"] = format_price(command.price)
    if command.qty is not None:
        message["qty"] = command.qty
    return message


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[rank]


@dataclass
class RemoteStats:
    """What a remote run did, as the server answered it."""

    url: str
    rate: float
    seed: int
    sent: int = 0
    messages: int = 0
    """WebSocket messages the commands left in (fewer than commands when batched)."""
    acked: int = 0
    rejected: int = 0
    reject_codes: dict[str, int] = field(default_factory=dict)
    outside_fills: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    trades: dict[str, int] = field(default_factory=dict)
    volume: dict[str, int] = field(default_factory=dict)

    @property
    def in_flight(self) -> int:
        return self.sent - self.acked - self.rejected

    @property
    def achieved_rate(self) -> float:
        """Answered commands per wall second."""
        answered = self.acked + self.rejected
        return answered / self.seconds if self.seconds > 0 else 0.0

    def latency_ms(self, q: float) -> float | None:
        value = _percentile(sorted(self.latencies), q)
        return None if value is None else value * 1_000.0

    def to_dict(self) -> dict[str, Any]:
        def ms(q: float) -> float | None:
            value = self.latency_ms(q)
            return None if value is None else round(value, 3)

        return {
            "url": self.url,
            "seed": self.seed,
            "target_rate": self.rate,
            "seconds": round(self.seconds, 3),
            "sent": self.sent,
            "messages": self.messages,
            "acked": self.acked,
            "rejected": self.rejected,
            "reject_codes": dict(sorted(self.reject_codes.items())),
            "in_flight": self.in_flight,
            "rate": round(self.achieved_rate, 1),
            "latency_ms": {"p50": ms(0.50), "p99": ms(0.99), "max": ms(1.0)},
            "outside_fills": self.outside_fills,
            "symbols": {
                s: {"trades": self.trades.get(s, 0), "volume": self.volume.get(s, 0)}
                for s in sorted(set(self.trades) | set(self.volume))
            },
        }


class _Account:
    """One account's connection and its ordered queue of (message, intended time)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.queue: asyncio.Queue[tuple[dict[str, Any], float]] = asyncio.Queue()
        self.leaves: dict[str, int] = {}
        """Open quantity on the server of each live order (from acks and fills)."""


class _Driver:
    def __init__(
        self,
        sim: MarketSimulator,
        accounts: dict[str, _Account],
        stats: RemoteStats,
        prefix: str,
    ) -> None:
        self.sim = sim
        self.prefix = prefix
        self.accounts = accounts
        self.stats = stats
        self.outstanding = 0
        self.drained = asyncio.Event()
        self.expected: dict[tuple[str, str], int] = {}
        """Maker fills the local engine made, not yet seen on the server."""
        self.wall0 = time.monotonic()
        self.sim0 = sim.now

    # -- the simulator's side --------------------------------------------------

    def sink(self, command: Any, events: list[Any]) -> None:
        """Every command the simulator makes: expected fills noted, the command queued."""
        for e in events:
            if type(e) is Trade and e.aggressor is not None:
                if e.aggressor is Side.BUY:
                    key = (e.sell_account, e.sell_id)
                else:
                    key = (e.buy_account, e.buy_id)
                self.expected[key] = self.expected.get(key, 0) + e.qty
        account = self.accounts.get(command.account)
        if account is None:
            return
        intended = self.wall0 + (self.sim.now - self.sim0)
        account.queue.put_nowait((command_message(command, self.prefix), intended))
        self.stats.sent += 1
        self.outstanding += 1
        self.drained.clear()

    # -- the server's side -----------------------------------------------------

    async def worker(self, name: str) -> None:
        from lob.client.rest import LobApiError

        account = self.accounts[name]
        queue = account.queue
        while True:
            items = [await queue.get()]
            while len(items) < BATCH and not queue.empty():
                items.append(queue.get_nowait())
            answers: list[dict[str, Any] | LobApiError] = []
            self.stats.messages += 1
            try:
                if len(items) == 1:
                    answers.append(await account.client.request(items[0][0]))
                else:
                    answers.extend(await account.client.batch([m for m, _ in items]))
            except LobApiError as exc:
                if exc.code == "disconnected":
                    raise RemoteError("disconnected", f"{name}: {exc.message}") from None
                answers = [exc] * len(items)  # a batch refused whole (rate limit)
            now = time.monotonic()
            for (message, intended), answer in zip(items, answers, strict=True):
                self._answered(account, message, answer, now - intended)
            self.outstanding -= len(items)
            if self.outstanding == 0:
                self.drained.set()

    def _answered(
        self, account: _Account, message: dict[str, Any], answer: Any, latency: float
    ) -> None:
        stats = self.stats
        if isinstance(answer, dict) and answer.get("type") == "error":
            code = str(answer.get("error", {}).get("code", "?"))
        elif isinstance(answer, dict):
            code = ""
        else:  # LobApiError
            code = answer.code
        if code:
            stats.rejected += 1
            stats.reject_codes[code] = stats.reject_codes.get(code, 0) + 1
        else:
            stats.acked += 1
            self._acked(account, message, answer)
        stats.latencies.append(latency)

    def _acked(self, account: _Account, message: dict[str, Any], answer: dict[str, Any]) -> None:
        order = answer.get("order") or answer  # a full ack, or a compact one (status at the top)
        id = message["id"][len(self.prefix) :]
        leaves = order.get("leaves_qty")
        if order.get("status") in ("open", "partially_filled") and isinstance(leaves, int):
            account.leaves[id] = leaves
        else:
            account.leaves.pop(id, None)
        for fill in answer.get("fills") or ():
            if fill.get("liquidity") == "taker":
                symbol = fill["symbol"]
                self.stats.trades[symbol] = self.stats.trades.get(symbol, 0) + 1
                self.stats.volume[symbol] = self.stats.volume.get(symbol, 0) + fill["qty"]

    async def executions(self, name: str) -> None:
        """Maker fills from outside the simulator, told to the agents (module docstring)."""
        account = self.accounts[name]
        updates = account.client.updates
        while True:
            kind, _, payload = await updates.get()
            if kind != "executions":
                continue
            for event in payload:
                if event.get("type") == "fill" and event.get("liquidity") == "maker":
                    self._maker_fill(name, account, event)

    def _maker_fill(self, name: str, account: _Account, fill: dict[str, Any]) -> None:
        id, qty = fill["id"], fill["qty"]
        if not id.startswith(self.prefix):
            return  # an order of an earlier run
        id = id[len(self.prefix) :]
        left = account.leaves.get(id)
        if left is not None:
            left = max(0, left - qty)
            if left:
                account.leaves[id] = left
            else:
                del account.leaves[id]
        key = (name, id)
        expected = self.expected.get(key, 0)
        if expected >= qty:
            if expected == qty:
                del self.expected[key]
            else:
                self.expected[key] = expected - qty
            return
        self.stats.outside_fills += 1
        self._observe_outside(name, id, fill, left or 0)

    def _observe_outside(self, name: str, id: str, fill: dict[str, Any], left: int) -> None:
        sim = self.sim
        ts = sim.now_ns
        symbol, qty = fill["symbol"], fill["qty"]
        price = parse_price(fill["price"])
        buy = fill["side"] == "buy"
        trade = Trade(
            seq=0, ts=ts, symbol=symbol, trade_id=0, price=price, qty=qty,
            aggressor=Side.SELL if buy else Side.BUY,
            buy_account=name if buy else "", buy_id=id if buy else "", buy_oid=0,
            sell_account="" if buy else name, sell_id="" if buy else id, sell_oid=0,
            resting_oid=0, resting_left=left, level_qty=0, level_orders=0,
        )  # fmt: skip
        # The local copy of the order is cut to what the server still holds, quietly:
        # these are corrections of the mirror, not commands to send.
        if left:
            sim.engine.replace(name, id, ts, qty=left)
        else:
            sim.engine.cancel(name, id, ts)
        sim.observe([trade])


async def check_symbols(url: str, symbols: Iterable[str]) -> None:
    """Refuse, before anything is sent, symbols the server does not list."""
    from lob.client.rest import LobApiError, RestClient

    rest = RestClient(url)
    try:
        listed = {s["symbol"] for s in await rest.symbols()}
    except (OSError, LobApiError) as exc:
        raise RemoteError("unavailable", f"cannot reach {url}: {exc}") from None
    finally:
        await rest.close()
    unknown = [s for s in symbols if s not in listed]
    if unknown:
        raise RemoteError(
            "unknown_symbol",
            f"{url} does not list {', '.join(unknown)} (it lists {', '.join(sorted(listed))})",
        )


async def run_remote(
    url: str,
    keys: dict[str, str],
    symbols: str,
    rate: float,
    seed: int,
    duration: float | None = None,
    stop: asyncio.Event | None = None,
    *,
    window: int = DEFAULT_WINDOW,
    on_tick: Callable[[RemoteStats], None] | None = None,
) -> RemoteStats:
    """Send the simulator's flow to ``url`` for ``duration`` wall seconds (or until ``stop``).

    ``keys`` maps every agent account (``agent_accounts()``) to its API key.
    At the end the driver waits for every outstanding answer, so the returned
    ``RemoteStats`` has ``in_flight == 0`` unless the server stopped answering.
    """
    from lob.client.ws import WsClient

    missing = [a for a in agent_accounts() if a not in keys]
    if missing:
        raise RemoteError(
            "missing_keys",
            f"no API key for {len(missing)} agent account(s): {', '.join(missing)}"
            " (lob simulate --print-accounts lists them; give ACCOUNT:KEY pairs)",
        )
    sim = MarketSimulator(seed=seed, symbols=symbols, rate=rate, start_ns=time.time_ns())
    await check_symbols(url, sim.symbols)
    stats = RemoteStats(url=url, rate=rate, seed=seed)
    names = agent_accounts()
    clients = {name: WsClient(url, keys[name], acks="compact") for name in names}
    tasks: list[asyncio.Task[None]] = []
    try:
        try:
            await asyncio.gather(*(c.connect() for c in clients.values()))
            await asyncio.gather(*(c.subscribe_executions() for c in clients.values()))
        except Exception as exc:
            code = getattr(exc, "code", None) or "unavailable"
            raise RemoteError(str(code), f"cannot log the agents in at {url}: {exc}") from None
        prefix = secrets.token_hex(3) + "-"
        driver = _Driver(sim, {n: _Account(c) for n, c in clients.items()}, stats, prefix)
        sim.on_events = driver.sink
        tasks = [asyncio.create_task(driver.worker(n)) for n in names]
        tasks += [asyncio.create_task(driver.executions(n)) for n in names]
        started = time.monotonic()
        driver.wall0, driver.sim0 = started, sim.now
        while not (stop is not None and stop.is_set()):
            elapsed = time.monotonic() - started
            if duration is not None and elapsed >= duration:
                break
            _advance(sim, driver, driver.sim0 + elapsed, window, rate)
            for task in tasks:
                if task.done():
                    task.result()  # a lost connection ends the run, with its reason
            stats.seconds = time.monotonic() - started
            if on_tick is not None:
                on_tick(stats)
            await asyncio.sleep(TICK)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_drained(driver, tasks), DRAIN_TIMEOUT)
        stats.seconds = time.monotonic() - started
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.gather(*(c.close() for c in clients.values()), return_exceptions=True)
    return stats


def _advance(
    sim: MarketSimulator, driver: _Driver, target: float, window: int, rate: float
) -> None:
    """Run the simulator towards ``target`` while the window has room, in slices of about
    the room's worth of messages, so a server that falls behind holds the simulator back
    (its late commands then carry their wait as latency) instead of receiving a burst."""
    while sim.now < target:
        room = window - driver.outstanding
        if room <= 0:
            return
        sim.run_until(min(target, sim.now + room / rate))


async def _drained(driver: _Driver, tasks: list[asyncio.Task[None]]) -> None:
    while driver.outstanding:
        for task in tasks:
            if task.done():
                task.result()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(driver.drained.wait(), 0.1)
