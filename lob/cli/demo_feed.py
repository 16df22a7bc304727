"""The simulator's order flow sent to a running ``lob serve``: what ``lob demo`` trades with.

``python -m lob.cli.demo_feed --url URL --symbols AAPL,MSFT --rate 200`` with
``LOB_DEMO_KEYS`` set to ``ACCOUNT:KEY`` pairs (comma separated), one for each
agent account (``lob.sim.agent_accounts()``). It runs until SIGINT or SIGTERM
(or ``--duration`` seconds); the work is done by ``lob.sim.remote.run_remote``,
the same driver as ``lob simulate --url``. Orders a person places through the
workstation trade against that flow on the server; the agents learn of their
fills from the server's executions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from lob.sim.remote import RemoteError, RemoteStats, parse_keys, run_remote

    parser = argparse.ArgumentParser(prog="python -m lob.cli.demo_feed", description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--symbols", default="AAPL,MSFT,NVDA")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=float, default=None)
    args = parser.parse_args(argv)
    keys = parse_keys(os.environ.get("LOB_DEMO_KEYS", ""))

    async def guarded() -> RemoteStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run_remote(
            args.url, keys, args.symbols, args.rate, args.seed, args.duration, stop
        )

    try:
        stats = asyncio.run(guarded())
    except RemoteError as exc:
        print(f"lob demo feed: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:  # a lost server is the usual end of a demo
        print(f"lob demo feed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(
        f"lob demo feed: {stats.sent} sent, {stats.acked} acked, {stats.rejected} refused"
        f" {stats.reject_codes}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
