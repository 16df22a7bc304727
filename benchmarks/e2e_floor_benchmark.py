"""The order-entry harness's own floor: `lob bench e2e`'s clients against a do-nothing server.

``lob bench e2e`` times each order on the clients' clock, from the moment it
was due (and from the moment it was handed to the socket) to its answer. Part
of that is the clients' own: their processes, the WebSocket library, the
loopback path, the sender's 1 ms timers, all on the machine's cores. This runs
the same order-entry processes at the same rate against a WebSocket server
that answers every message at once (no engine, no journal, no history), so
what it measures is that floor; subtract it in your head from the figures of
``lob bench e2e``. Each round also prints the share of a core each process
used (from ``/proc``):

    uv run python benchmarks/e2e_floor_benchmark.py [--rate 10000] [--seconds 8] [--rounds 3]

The answering server is this file run with ``--serve``, in a process and
session of its own with short time slices, as ``lob serve`` has them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from typing import Any


async def _answer(ws: Any) -> None:
    import msgpack

    async for frame in ws:
        body = msgpack.unpackb(frame)
        if body.get("op") == "auth":
            reply: dict[str, Any] = {"type": "authenticated"}
        elif body.get("op") == "batch":
            results = [{"type": "ack"}] * len(body["orders"])
            reply = {"type": "batch", "req": body["req"], "results": results}
        else:
            reply = {"type": "ack", "req": body.get("req")}
        await ws.send(msgpack.packb(reply))


async def _serve() -> None:
    import websockets

    async with websockets.serve(_answer, "127.0.0.1", 0, compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10_000.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import uvloop

        from lob.priority import ask_short_slices

        ask_short_slices()
        uvloop.run(_serve())
        return

    from lob.bench.e2e import OrderEntry, cpu_times
    from lob.bench.harness import percentile
    from lob.bench.ws import SYMBOL
    from lob.sim.universe import load_symbols

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    entry = None
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        entry = OrderEntry(url, load_symbols(SYMBOL)[0].reference_price, "compact")
        entry.run("rate", 500.0, 0.5)  # warm-up, as lob bench e2e does
        pids = [proc.pid for proc in entry.procs]
        for _ in range(args.rounds):
            before = [sum(cpu_times(pid)) for pid in [*pids, server.pid]]
            result = entry.run("rate", args.rate, args.seconds, 1)
            after = [sum(cpu_times(pid)) for pid in [*pids, server.pid]]
            share = [f"{(b - a) / args.seconds:.0%}" for a, b in zip(before, after, strict=True)]
            due, sent = result["latencies"], result["from_send"]
            print(
                f"{args.rate:,.0f}/s offered, {result['achieved']:,.0f}/s answered: "
                f"from the due time p50 {percentile(due, 50) / 1e6:.2f} ms, "
                f"p99 {percentile(due, 99) / 1e6:.2f} ms; "
                f"from the send p50 {percentile(sent, 50) / 1e6:.2f} ms, "
                f"p99 {percentile(sent, 99) / 1e6:.2f} ms; "
                f"CPU of a core: entry processes {', '.join(share[:-1])}, server {share[-1]}",
                flush=True,
            )
    finally:
        if entry is not None:
            entry.close()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
