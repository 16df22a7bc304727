"""The workstation's command line: ``buy 100 AAPL 187.25 ioc`` and friends.

Grammar (words in any case; the symbol is upper-cased)::

    buy|sell QTY SYMBOL [PRICE | mkt] [day|gtc|ioc|fok] [post]
    cancel ID
    replace ID PRICE|- [QTY]

Without a price (or with ``mkt``/``market``) the order is a market order. A
line that cannot be understood raises ``CommandLineError`` with the same stable
codes the exchange uses (``invalid_quantity``, ``invalid_price``, ...). Whether
a price is on tick is the exchange's call, so the engine's own rejection is
what the user sees for an off-tick price.
"""

from __future__ import annotations

from typing import NamedTuple

from lob.engine.prices import PriceError, parse_price
from lob.engine.types import OrderType, Side, TimeInForce
from lob.tui.source import OrderRequest

__all__ = ["CancelLine", "CommandLineError", "ReplaceLine", "parse_line"]

_MARKET_WORDS = frozenset({"mkt", "market"})
_TIFS = {tif.value: tif for tif in TimeInForce}


class CommandLineError(ValueError):
    """A command line that cannot be turned into a request; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CancelLine(NamedTuple):
    id: str


class ReplaceLine(NamedTuple):
    id: str
    price: int | None
    qty: int | None


def _qty(word: str) -> int:
    if not word.isdigit() or int(word) <= 0:
        raise CommandLineError("invalid_quantity", f"quantity must be a positive integer: {word}")
    return int(word)


def _price(word: str) -> int:
    try:
        price = parse_price(word.lstrip("$"))
    except PriceError as exc:
        raise CommandLineError("invalid_price", str(exc)) from None
    if price <= 0:
        raise CommandLineError("invalid_price", f"price must be positive: {word}")
    return price


def parse_line(line: str) -> OrderRequest | CancelLine | ReplaceLine:
    """Parse one command line (a leading ``:``, typed out of vi habit, is ignored)."""
    words = line.strip().lstrip(":").split()
    if not words:
        raise CommandLineError("missing_field", "type a command: buy, sell, cancel or replace")
    verb = words[0].lower()
    if verb == "cancel":
        if len(words) != 2:
            raise CommandLineError("missing_field", "usage: cancel ID")
        return CancelLine(words[1])
    if verb == "replace":
        if len(words) not in (3, 4):
            raise CommandLineError("missing_field", "usage: replace ID PRICE|- [QTY]")
        price = None if words[2] == "-" else _price(words[2])
        qty = _qty(words[3]) if len(words) == 4 else None
        if price is None and qty is None:
            raise CommandLineError("missing_field", "a replace needs a price or a quantity")
        return ReplaceLine(words[1], price, qty)
    if verb not in ("buy", "sell"):
        raise CommandLineError("invalid_op", f"unknown command {words[0]!r}: buy, sell, cancel")
    if len(words) < 3:
        raise CommandLineError("missing_field", f"usage: {verb} QTY SYMBOL [PRICE|mkt] [TIF]")
    side = Side(verb)
    qty = _qty(words[1])
    symbol = words[2].upper()
    if not symbol.isalpha() or not symbol.isascii() or len(symbol) > 8:
        raise CommandLineError("invalid_symbol", f"not a symbol: {words[2]}")
    price: int | None = None
    order_type = OrderType.MARKET
    tif = TimeInForce.DAY
    post_only = False
    for word in words[3:]:
        low = word.lower()
        if low in _MARKET_WORDS:
            order_type, price = OrderType.MARKET, None
        elif low in _TIFS:
            tif = _TIFS[low]
        elif low in ("post", "post_only", "postonly"):
            post_only = True
        elif price is None and order_type is OrderType.MARKET and low[:1] in "$0123456789.":
            price, order_type = _price(word), OrderType.LIMIT
        else:
            raise CommandLineError("invalid_field", f"did not understand {word!r}")
    return OrderRequest(symbol, side, qty, price, order_type, tif, post_only)
