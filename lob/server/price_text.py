"""Decimal price text for the server's answers, remembered per price.

Why: an ack, an execution and an order status each write two or three prices
as decimal text, and ``format_price`` (divmod and two f-strings) was a tenth of
the server's time per order. A book trades at a few hundred distinct prices, so
the text of each is made once and looked up after that. The memory is bounded:
it starts over when it holds ``LIMIT`` prices.
"""

from __future__ import annotations

from lob.engine.prices import format_price

__all__ = ["LIMIT", "price_text"]

LIMIT = 65_536

_texts: dict[int, str] = {}


def price_text(units: int) -> str:
    """``format_price(units)``, from memory when this price was written before."""
    text = _texts.get(units)
    if text is None:
        if len(_texts) >= LIMIT:
            _texts.clear()
        text = _texts[units] = format_price(units)
    return text
