"""Run lob's market simulator and print what happened.

    uv run python examples/market_simulator_usage.py

Agents (noise traders, market makers, momentum and value traders) trade
AAPL, NVDA and a fictional sub-dollar stock on an in-process matching engine,
on a simulated clock. The same seed gives the same run, byte for byte.
"""

from __future__ import annotations

from collections import Counter

from lob.engine.events import Event, Trade
from lob.engine.prices import format_price
from lob.sim import MarketSimulator


def main() -> None:
    sim = MarketSimulator(seed=42, symbols="AAPL,NVDA,PNNY", rate=3_000)

    # 1. Watch the first commands and their events as they happen.
    print("first commands of the session:")
    for command, events in sim.stream(0.004):
        kinds = ", ".join(e.TYPE for e in events)
        print(f"  {type(command).__name__:<12} {command.account:<8} -> {kinds}")

    # 2. Count what the agents send with a callback, over one simulated minute.
    per_agent: Counter[str] = Counter()
    trades: Counter[str] = Counter()

    def tally(command: object, events: list[Event]) -> None:
        per_agent[command.account.rstrip("0123456789")] += 1  # type: ignore[attr-defined]
        for e in events:
            if type(e) is Trade:
                trades[e.symbol] += 1

    sim.on_events = tally
    summary = sim.run(60.0)
    sim.on_events = None

    print(f"\n{summary.seconds:.0f} simulated seconds, {summary.messages:,} messages:")
    print(
        f"  {summary.orders:,} new orders, {summary.cancels:,} cancels, "
        f"{summary.replaces:,} replaces, {summary.trades:,} trades, {summary.rejects} rejected"
    )
    print("  messages by kind of agent:", dict(per_agent.most_common()))
    for symbol, s in summary.symbols.items():
        last = format_price(s.last) if s.last else "-"
        print(
            f"  {symbol:<5} reference {format_price(s.reference_price):>8}  last {last:>8}  "
            f"low {format_price(s.low)}  high {format_price(s.high)}  "
            f"{trades[symbol]:,} trades, {s.volume:,} shares"
        )

    # 3. The book as it stands, and the realism report.
    snapshot = sim.engine.l2_snapshot("AAPL", depth=3)
    print("\nAAPL, best three levels:")
    for bid, ask in zip(snapshot.bids, snapshot.asks, strict=False):
        print(
            f"  {bid.qty:>6} @ {format_price(bid.price):<8} | {format_price(ask.price)} @ {ask.qty}"
        )
    report = sim.report()
    spread = report["spread"]
    returns = report["returns"]
    signs = report["trade_signs"]["autocorrelation"]
    print("\nrealism report:")
    print(f"  spread: median {spread['median_ticks']:g} ticks, mean {spread['mean_ticks']:.2f}")
    print(f"  cancel-to-order ratio: {report['cancel_to_order']:.2f}")
    print(f"  trade-sign autocorrelation: lag 1 {signs['1']:.2f}, lag 20 {signs['20']:.2f}")
    clustering = returns["abs_autocorrelation"]["1"]
    print(
        f"  {returns['horizon_seconds']}s returns: excess kurtosis "
        f"{returns['excess_kurtosis']:.1f}, |r| autocorrelation {clustering:.2f}"
    )


if __name__ == "__main__":
    main()
