"""A small quoting strategy against a running ``lob serve`` (docs/tutorial-strategy.md).

It keeps one bid and one ask around the mid price of a symbol's book, skews them
against its inventory, stops quoting a side at its position limit, follows its
fills on the executions channel, and cancels everything when it stops::

    uv run lob serve &                  # prints a demo key
    uv run python examples/quoting_strategy.py --key KEY --symbol AAPL --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal

from lob.client import ExchangeClient, LobApiError
from lob.engine.prices import format_price, tick_size


@dataclass
class Quoter:
    """The strategy's state: where it quotes, what it holds, what it has earned."""

    symbol: str
    size: int = 100
    half_spread_ticks: int = 2
    skew_ticks_per_lot: int = 1
    max_position: int = 500
    position: int = 0
    cash: Decimal = Decimal(0)
    fills: int = 0
    quotes: dict[str, str] = field(default_factory=dict)  # side -> client id
    prices: dict[str, int] = field(default_factory=dict)  # side -> price now quoted

    def targets(self, best_bid: int | None, best_ask: int | None) -> dict[str, int]:
        """Where to quote: around the mid, shifted against the inventory, on tick."""
        if best_bid is None or best_ask is None:
            return {}
        mid = (best_bid + best_ask) // 2
        tick = tick_size(mid)
        skew = -(self.position // self.size) * self.skew_ticks_per_lot * tick
        wanted = {
            "buy": mid - self.half_spread_ticks * tick + skew,
            "sell": mid + self.half_spread_ticks * tick + skew,
        }
        wanted = {side: price - price % tick_size(price) for side, price in wanted.items()}
        if self.position >= self.max_position:
            wanted.pop("buy")
        if self.position <= -self.max_position:
            wanted.pop("sell")
        return wanted

    def on_fill(self, fill: dict[str, object]) -> None:
        qty = int(fill["qty"])  # type: ignore[call-overload]
        price = Decimal(str(fill["price"]))
        signed = qty if fill["side"] == "buy" else -qty
        self.position += signed
        self.cash -= signed * price
        self.fills += 1

    def pnl(self, mark: int | None) -> Decimal:
        """Cash plus the position valued at ``mark``."""
        value = Decimal(format_price(mark)) * self.position if mark is not None else Decimal(0)
        return self.cash + value


async def requote(ex: ExchangeClient, quoter: Quoter, counter: list[int]) -> None:
    """Bring the resting quotes to the current targets: replace, place or cancel."""
    book = ex.books.get(quoter.symbol)
    if book is None:
        return
    bid, ask = book.best_bid(), book.best_ask()
    wanted = quoter.targets(bid.price if bid else None, ask.price if ask else None)
    for side in ("buy", "sell"):
        price = wanted.get(side)
        id = quoter.quotes.get(side)
        try:
            if price is None:
                if id is not None:
                    await ex.cancel(id)
                    del quoter.quotes[side]
                continue
            if id is None:
                counter[0] += 1
                id = f"q{side[0]}{counter[0]}"
                await ex.place(quoter.symbol, side, quoter.size, format_price(price), id=id)
                quoter.quotes[side] = id
            elif quoter.prices.get(side) != price:
                await ex.replace(id, price=format_price(price), qty=quoter.size)
            quoter.prices[side] = price
        except LobApiError as exc:
            # The quote traded away, or the exchange refused the price: forget it and
            # quote afresh on the next book update.
            if exc.code not in ("unknown_order", "post_only_would_take", "price_out_of_collar"):
                raise
            quoter.quotes.pop(side, None)
            quoter.prices.pop(side, None)


async def run(
    url: str, key: str, symbol: str, seconds: float, quoter: Quoter | None = None
) -> Quoter:
    """Quote ``symbol`` for ``seconds``, then cancel what rests; return the final state."""
    quoter = quoter or Quoter(symbol)
    counter = [0]
    async with ExchangeClient(url, key) as ex:
        await ex.subscribe_executions()
        await ex.subscribe_book(symbol)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                kind, _, payload = await asyncio.wait_for(ex.updates.get(), timeout=left)
            except TimeoutError:
                break
            if kind == "executions":
                for event in payload:
                    if event.get("type") == "fill" and event.get("symbol") == symbol:
                        quoter.on_fill(event)
            if kind in ("book", "executions"):
                await requote(ex, quoter, counter)
        for id in list(quoter.quotes.values()):
            with contextlib.suppress(LobApiError):
                await ex.cancel(id)
        quoter.quotes.clear()
    return quoter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("LOB_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--key", default=os.environ.get("LOB_API_KEY") or os.environ.get("LOB_KEY"))
    parser.add_argument("--symbol", default="AAPL")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    if not args.key:
        parser.error("an API key is needed: --key or LOB_API_KEY")
    quoter = asyncio.run(run(args.url, args.key, args.symbol, args.seconds))
    print(f"{args.symbol}: {quoter.fills} fills, position {quoter.position}, cash {quoter.cash}")


if __name__ == "__main__":
    main()
