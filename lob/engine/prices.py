"""Prices as integers: 1/10,000 of a dollar, the scale of ITCH ``Price(4)``.

Decimal text exists only at the edges (JSON, TUI, CLI); everything inside lob
carries ``int`` prices. This module is the one place that converts between the
two and that knows the tick table of Reg NMS Rule 612.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

__all__ = [
    "ONE_DOLLAR",
    "PRICE_SCALE",
    "PriceError",
    "format_price",
    "is_on_tick",
    "parse_price",
    "round_lot",
    "tick_size",
]

PRICE_SCALE: Final = 10_000
"""Integer units per dollar."""

ONE_DOLLAR: Final = PRICE_SCALE

_SUB_DOLLAR_TICK: Final = 1  # $0.0001
_DOLLAR_TICK: Final = 100  # $0.01
_MAX_DECIMALS: Final = 4
_MAX_PRICE: Final = 200_000 * PRICE_SCALE - 1  # ITCH Price(4) is a 4-byte unsigned field


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class PriceError(ValueError):
    """Text or a number that is not a valid price."""


def tick_size(price: int) -> int:
    """The minimum price variation at ``price`` (Rule 612: $0.01 at or above $1.00)."""
    return _DOLLAR_TICK if price >= ONE_DOLLAR else _SUB_DOLLAR_TICK


def round_lot(price: int) -> int:
    """Shares in a round lot at ``price`` (the tiers of Reg NMS as amended in 2024).

    $250.00 or less: 100; up to $1,000.00: 40; up to $10,000.00: 10; above: 1.
    """
    if price <= 250 * PRICE_SCALE:
        return 100
    if price <= 1_000 * PRICE_SCALE:
        return 40
    if price <= 10_000 * PRICE_SCALE:
        return 10
    return 1


def is_on_tick(price: int) -> bool:
    """Whether ``price`` is a multiple of the tick that applies at it."""
    return price % (_DOLLAR_TICK if price >= ONE_DOLLAR else _SUB_DOLLAR_TICK) == 0


_PARSED: Final[dict[str, int]] = {}
"""Prices already parsed from text, by their text: orders name the same few prices
again and again, and one dict lookup is a small part of a dozen string operations."""
_PARSED_MAX: Final = 4096
"""Texts kept in ``_PARSED``; it starts afresh when full (text from clients is
unbounded in variety)."""


def parse_price(value: object) -> int:
    """Convert a decimal string or a JSON number to integer price units.

    Accepts ``"187.25"``, ``187.25``, ``187`` and ``"0.5001"``. Rejects more than
    four decimals, signs, exponents, booleans, NaN and anything that is not a
    number; the caller decides whether zero or an off-tick price is acceptable.
    """
    if type(value) is str:
        known = _PARSED.get(value)
        if known is not None:
            return known
        units = _parse_price(value)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[value] = units
        return units
    return _parse_price(value)


def _parse_price(value: object) -> int:
    if isinstance(value, bool):
        raise PriceError("price must be a decimal string or a number")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PriceError("price must be finite")
        text = repr(value)
        if "e" in text or "E" in text:
            text = f"{value:.10f}".rstrip("0")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise PriceError("price must be a decimal string or a number")
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    whole, dot, frac = text.partition(".")
    if not whole and not frac:
        raise PriceError(f"not a price: {value!r}")
    if not (whole or "0").isdigit() or (dot and frac and not frac.isdigit()):
        raise PriceError(f"not a price: {value!r}")
    if not whole.isascii() or not frac.isascii():
        raise PriceError(f"not a price: {value!r}")
    frac = frac.rstrip("0")
    if len(frac) > _MAX_DECIMALS:
        raise PriceError(f"price has more than {_MAX_DECIMALS} decimals: {value!r}")
    units = int(whole or "0") * PRICE_SCALE + int(frac.ljust(_MAX_DECIMALS, "0") or "0")
    if negative and units:
        raise PriceError(f"price must be positive: {value!r}")
    if units > _MAX_PRICE:
        raise PriceError(f"price is too large: {value!r}")
    return units


def format_price(price: int) -> str:
    """Integer units to decimal text: two decimals at least, four at most (``"187.25"``)."""
    whole, frac = divmod(price, PRICE_SCALE)
    digits = f"{frac:04d}".rstrip("0").ljust(2, "0")
    return f"{whole}.{digits}"
