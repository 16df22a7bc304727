"""The simulator's order flow sent to a running ``lob serve``: what ``lob demo`` trades with.

``python -m lob.cli.demo_feed --url URL --symbols AAPL,MSFT --rate 200`` with
``LOB_DEMO_KEYS`` set to ``ACCOUNT:KEY`` pairs (comma separated), one for each
simulator account (``simulator_accounts()``).

How: a ``MarketSimulator`` runs on its own engine, paced to the wall clock
(``WallClockPacer``); every command it sends there is also sent to the server,
as the same account (so self-match prevention and trades between agents work
as in the simulator), over one WebSocket per account. Per account the
commands go in order, each waiting for its ack; accounts run side by side.
The server's books follow the simulator's because both start empty from the
same reference prices and receive the same commands in the same order per
account. Orders a person places through the TUI trade against that flow on
the server; the simulator does not see them, so a cancel of an order the
person already took is refused (``unknown_order``) and simply counted.

When more than ``MAX_BACKLOG`` commands wait for the server, the pacer is
not ticked: the simulator waits for the exchange instead of growing a queue
without bound (principle 5 of docs/architecture.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from typing import Any

__all__ = ["MAX_BACKLOG", "parse_keys", "run_feed", "simulator_accounts"]

MAX_BACKLOG = 2_000
"""Commands waiting for the server beyond which the simulator pauses."""
TICK = 0.02
"""Seconds between pacer ticks."""


def simulator_accounts() -> list[str]:
    """Every account ``MarketSimulator`` trades as, with its default configuration."""
    from lob.sim.agents import MOMENTUM_ACCOUNT, VALUE_ACCOUNT
    from lob.sim.model import ModelConfig

    config = ModelConfig()
    noise = [f"NOISE{i:02d}" for i in range(config.noise_accounts)]
    makers = [f"MM{k + 1}" for k in range(config.market_makers)]
    return [*noise, *makers, MOMENTUM_ACCOUNT, VALUE_ACCOUNT]


def parse_keys(text: str) -> dict[str, str]:
    """``ACCOUNT:KEY,ACCOUNT:KEY`` -> {account: key}."""
    keys = {}
    for spec in text.replace(" ", ",").split(","):
        account, sep, key = spec.partition(":")
        if sep and account and key:
            keys[account] = key
    return keys


def _message(command: Any) -> dict[str, Any]:
    from lob.engine.commands import CancelOrder, NewOrder
    from lob.engine.prices import format_price

    if type(command) is NewOrder:
        message = {
            "op": "new",
            "id": command.id,
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
        return {"op": "cancel", "id": command.id}
    message = {"op": "replace", "id": command.id}
    if command.price is not None:
        message["price"] = format_price(command.price)
    if command.qty is not None:
        message["qty"] = command.qty
    return message


class _Stats:
    def __init__(self) -> None:
        self.sent = 0
        self.refused = 0
        self.codes: dict[str, int] = {}


async def run_feed(
    url: str,
    keys: dict[str, str],
    symbols: str,
    rate: float,
    seed: int,
    duration: float | None = None,
    stop: asyncio.Event | None = None,
) -> _Stats:
    """Send the simulator's flow to ``url`` until ``stop`` is set (or for ``duration`` s)."""
    from lob.client.rest import LobApiError
    from lob.client.ws import WsClient
    from lob.sim.realtime import WallClockPacer
    from lob.sim.simulator import MarketSimulator

    sim = MarketSimulator(seed=seed, symbols=symbols, rate=rate, start_ns=time.time_ns())
    missing = sorted(set(simulator_accounts()) - set(keys))
    if missing:
        raise SystemExit(f"lob demo feed: no key for {', '.join(missing)}")
    queues: dict[str, asyncio.Queue[dict[str, Any]]] = {a: asyncio.Queue() for a in keys}
    clients = {account: WsClient(url, key, encoding="msgpack") for account, key in keys.items()}
    await asyncio.gather(*(client.connect() for client in clients.values()))
    stats = _Stats()
    backlog = [0]

    def sink(command: Any, events: list[Any]) -> None:
        queue = queues.get(command.account)
        if queue is not None:
            queue.put_nowait(_message(command))
            backlog[0] += 1

    async def worker(account: str) -> None:
        client, queue = clients[account], queues[account]
        while True:
            message = await queue.get()
            try:
                await client.request(message)
                stats.sent += 1
            except LobApiError as exc:
                if exc.code == "disconnected":
                    raise
                stats.refused += 1
                stats.codes[exc.code] = stats.codes.get(exc.code, 0) + 1
            finally:
                backlog[0] -= 1

    sim.on_events = sink
    pacer = WallClockPacer(sim)
    workers = [asyncio.create_task(worker(a)) for a in clients]
    started = time.monotonic()
    try:
        while not (stop is not None and stop.is_set()) and (
            duration is None or time.monotonic() - started < duration
        ):
            if backlog[0] < MAX_BACKLOG:
                pacer.tick()
            for task in workers:
                if task.done():
                    task.result()  # a lost connection ends the feed, with its reason
            await asyncio.sleep(TICK)
    finally:
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError, LobApiError):
                await task
        await asyncio.gather(*(c.close() for c in clients.values()), return_exceptions=True)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lob.cli.demo_feed", description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--symbols", default="AAPL,MSFT,NVDA")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=float, default=None)
    args = parser.parse_args(argv)
    keys = parse_keys(os.environ.get("LOB_DEMO_KEYS", ""))

    async def guarded() -> _Stats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run_feed(
            args.url, keys, args.symbols, args.rate, args.seed, args.duration, stop
        )

    try:
        stats = asyncio.run(guarded())
    except Exception as exc:  # a lost server is the usual end of a demo
        print(f"lob demo feed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(
        f"lob demo feed: {stats.sent} sent, {stats.refused} refused {stats.codes}", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
