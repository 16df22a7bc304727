"""What the garbage collector costs lob serve's order path, with and without its policy.

The order path of ``lob serve`` in one process, no network: each order is
parsed from its WebSocket message (msgpack), checked, journaled (``--fsync
off``), matched, folded into every view (L2 deltas, the ITCH feed to a
loopback multicast group nobody joined, accounts, trading state) and
acknowledged, as ``lob.server.ws`` does. The flow is the ``lob bench e2e``
mix (passive adds, cancels, crossing IOCs) for two accounts. Each run takes
a fresh exchange in a fresh process and prints CPU microseconds per order
and the collector's pauses by generation, over ``--orders`` orders that follow
``--warmup`` untimed ones (so the accounts' views hold what a server that has
traded a while holds: up to 100,000 finished orders and fills per account):

- ``default``: CPython's collector as it comes;
- ``policy``: ``lob.server.collector.CollectorPolicy`` as ``lob serve`` runs it.

    uv run python benchmarks/order_path_gc_benchmark.py [--orders 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _flow(orders: int, reference: int) -> list[tuple[str, str, bytes]]:
    import msgpack

    from lob.engine.prices import format_price

    rng = random.Random(1)
    prices = {
        side: [format_price(reference + sign * k * 100) for k in range(-10, 11)]
        for side, sign in (("buy", 1), ("sell", -1))
    }
    live: dict[str, list[str]] = {"buyer": [], "seller": []}
    out = []
    for i in range(orders):
        account = "buyer" if i % 2 else "seller"
        side = "buy" if account == "buyer" else "sell"
        resting = live[account]
        roll = rng.random()
        if len(resting) > 100 or (0.1 <= roll < 0.4 and resting):
            message: dict[str, object] = {"op": "cancel", "id": resting.pop(0)}
        elif roll < 0.1:
            price = prices[side][10 + rng.randint(1, 3)]
            message = {"op": "new", "symbol": "AAPL", "side": side, "qty": 100,
                       "price": price, "tif": "ioc"}  # fmt: skip
        else:
            id = f"{account}{i}"
            resting.append(id)
            price = prices[side][10 - rng.randint(1, 10)]
            message = {"op": "new", "id": id, "symbol": "AAPL", "side": side,
                       "qty": rng.randint(1, 5) * 100, "price": price}  # fmt: skip
        out.append((account, str(message["op"]), msgpack.packb(message)))
    return out


async def _run(orders: int, warmup: int, policy: bool) -> None:
    import msgpack

    from lob.server.auth import KeyStore
    from lob.server.collector import CollectorPolicy
    from lob.server.config import ServerConfig
    from lob.server.orders import ack_or_error, parse_cancel, parse_new
    from lob.server.server import ExchangeServer
    from lob.sim.universe import load_symbols

    securities = load_symbols("AAPL")
    group = ("239.255.77.7", random.randrange(40_000, 60_000))
    keys = [("buyer", "buyer-key-0123456789"), ("seller", "seller-key-0123456789")]
    with tempfile.TemporaryDirectory() as directory:
        config = ServerConfig(
            data_dir=Path(directory),
            securities=tuple(securities),
            api_keys=tuple(keys),
            port=0,
            multicast=group,
            fsync="off",
            history=False,
        )
        server = ExchangeServer(config, KeyStore(keys))
        await server.start()
        exchange = server.exchange
        assert exchange is not None
        flow = _flow(warmup + orders, securities[0].reference_price)
        pauses: dict[int, list[int]] = {}
        started = [0]

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                started[0] = time.perf_counter_ns()
            else:
                pauses.setdefault(info["generation"], []).append(
                    time.perf_counter_ns() - started[0]
                )

        collector = CollectorPolicy(lambda: exchange.sequencer.inputs) if policy else None
        if collector is not None:
            collector.start()
        else:
            gc.collect()
        pack = msgpack.Packer(use_bin_type=True).pack
        accounts, symbols, enqueue = (
            exchange.accounts,
            exchange.reference,
            exchange.sequencer.enqueue,
        )
        sent: list[bytes] = []

        class Ack:
            """An order message's receiver, as in lob.server.ws: its ack, packed once applied."""

            def __init__(self, op: str, account: str, id: str) -> None:
                self.op, self.account, self.id = op, account, id

            def applied(self, events: list) -> None:  # type: ignore[type-arg]
                ack = ack_or_error(self.op, self.account, self.id, events, accounts)
                if isinstance(ack, dict):
                    sent.append(pack(ack))

            def done(self, events: list) -> None:  # type: ignore[type-arg]
                pass

            def failed(self, exc: Exception) -> None:
                raise exc

        gc.callbacks.append(on_gc)
        start = time.process_time()
        for n, (account, op, data) in enumerate(flow):
            if n == warmup:  # the views now hold what a server that traded a while holds
                sent.clear()
                for times in pauses.values():
                    times.clear()
                start = time.process_time()
            message = msgpack.unpackb(data)
            del message["op"]
            if op == "new":
                command = parse_new(account, message, symbols, accounts, 100_000)
            else:
                command = parse_cancel(account, message["id"])

            enqueue(command, Ack(op, account, command.id))
            if n % 100 == 99:  # the loop turns, as between batch messages: acks go out
                await asyncio.sleep(0)
        elapsed = time.process_time() - start
        gc.callbacks.remove(on_gc)
        if collector is not None:
            await collector.stop()
        await server.stop()
    name = "policy" if policy else "default"
    print(f"{name}: {orders:,} orders, {elapsed / orders * 1e6:.1f} us of CPU per order")
    for generation in sorted(pauses):
        times = sorted(pauses[generation])
        print(
            f"  generation {generation}: {len(times)} collections, {sum(times) / 1e6:.1f} ms in"
            f" all, longest {times[-1] / 1e6:.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument(
        "--warmup", type=int, default=300_000, help="orders before the timed ones (untimed)"
    )
    parser.add_argument("--one", choices=("default", "policy"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        asyncio.run(_run(args.orders, args.warmup, args.one == "policy"))
        return
    for mode in ("default", "policy", "default", "policy"):  # a fresh process each
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--orders",
                str(args.orders),
                "--warmup",
                str(args.warmup),
                "--one",
                mode,
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
