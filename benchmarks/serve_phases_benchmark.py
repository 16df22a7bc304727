"""One ``lob serve`` under chosen loads: orders/s, latency and its CPU per order.

``lob bench e2e`` runs a fixed set of phases and starts a server for each group
of them. This runs the phases you name against one fresh server (journal on,
DuckDB history and multicast as ``lob bench e2e`` has them), with the same
order-entry processes and market-data subscribers, and prints per phase the
acknowledged rate, the latency from the intended send (and its p99 from the
actual send), the server's own order-to-ack latency (its ``GET /metrics``
histogram, scraped around the phase), and the server's user and system CPU
per order read from ``/proc`` (the server's own process: its journal sync
process is left out, so user + system is a little under ``lob bench e2e``'s
CPU per order); with subscribers, how many were still connected at the
phase's end and the deltas they decoded in all. Run it in turns with another
build, or with and without ``--cpu``, to compare two set-ups on a shared
machine:

    uv run python benchmarks/serve_phases_benchmark.py \\
        --phases rate:50000:100,window:2048:100 --seconds 6 [--subscribers 100] \\
        [--fsync batch] [--cpu 0] [-- --md-interval 1]

A phase is ``rate:ORDERS_PER_S:BATCH`` (open loop) or ``window:IN_FLIGHT:BATCH``
(closed loop, orders in flight per entry process); ``BATCH`` is the most orders
in one WebSocket message. Anything after ``--`` goes to ``lob serve``.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", default="rate:50000:100,window:2048:100")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--fsync", choices=("batch", "always", "off"), default="batch")
    parser.add_argument(
        "--cpu",
        type=int,
        default=None,
        help="lob serve --cpu CPU, and the client processes kept to the other CPUs",
    )
    parser.add_argument("serve_options", nargs="*", help="passed to lob serve (after --)")
    args = parser.parse_args()
    phases = []
    for text in args.phases.split(","):
        mode, amount, batch = text.split(":")
        if mode not in ("rate", "window"):
            parser.error(f"a phase is rate:N:BATCH or window:N:BATCH, not {text!r}")
        phases.append((text, mode, float(amount), int(batch)))

    from lob.bench.e2e import ack_buckets, cpu_times, loaded_server, server_latency
    from lob.bench.harness import percentile
    from lob.bench.ws import SYMBOL
    from lob.sim.universe import load_symbols

    reference = load_symbols(SYMBOL)[0].reference_price
    serve = loaded_server(
        args.fsync, args.subscribers, reference, tuple(args.serve_options), cpu=args.cpu
    )
    with serve as (server, pool, entry):
        for text, mode, amount, batch in phases:
            if pool is not None:
                pool.reset(False)
            user0, system0 = cpu_times(server.proc.pid)
            buckets0 = ack_buckets(server.url)
            amount_arg = int(amount) if mode == "window" else amount
            result = entry.run(mode, amount_arg, args.seconds, batch)
            user1, system1 = cpu_times(server.proc.pid)
            own = server_latency(buckets0, ack_buckets(server.url))
            left = ""
            if pool is not None:
                md = pool.drained()
                left = (
                    f", subscribers connected {md['open']} of {args.subscribers}"
                    f", {md['deltas']:,} deltas delivered"
                )
            acks = max(result["acks"], 1)
            lat, sent = result["latencies"], result["from_send"]
            print(
                f"{text}: {result['achieved']:,.0f} orders/s, "
                f"p50 {percentile(lat, 50) / 1e6:.1f} ms, p99 {percentile(lat, 99) / 1e6:.1f} ms, "
                f"p99 from send {percentile(sent, 99) / 1e6:.2f} ms, "
                f"server p50 {(own.get('p50') or 0) / 1e6:.2f} ms, "
                f"p99 {(own.get('p99') or 0) / 1e6:.2f} ms, "
                f"user {(user1 - user0) * 1e6 / acks:.1f} us/order, "
                f"system {(system1 - system0) * 1e6 / acks:.1f} us/order{left}",
                flush=True,
            )


if __name__ == "__main__":
    main()
