"""The symbol universe shipped with lob, and symbol lists given by the user.

``lob/data/universe.csv`` lists a few dozen well-known US stocks and ETFs with a
reference price (decimal dollars) and a typical daily volatility (the standard
deviation of daily returns, as a fraction). The prices are approximate recent
levels, good enough to make books look familiar; they are not market data.
One row, ``PNNY``, is a fictional sub-dollar issue that exercises the $0.0001
tick of Rule 612; ``SNDL`` sits near the $1 boundary.

Columns: ``symbol,name,sector,reference_price,daily_volatility,note``. Only
``symbol`` and ``reference_price`` are required in a user's own file; a file
with just a ``symbol`` column picks rows out of the shipped universe.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lob.engine.prices import PriceError, is_on_tick, parse_price

__all__ = [
    "DEFAULT_VOLATILITY",
    "Security",
    "UniverseError",
    "load_symbols",
    "load_universe",
]

DEFAULT_VOLATILITY = 0.02
"""Daily volatility assumed when a row gives none (a typical large-cap stock)."""

_SYMBOL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class UniverseError(ValueError):
    """A symbol list or universe file that cannot be used.

    ``code`` is a stable error code: ``unknown_symbol`` for a ticker that is not
    in the universe, ``invalid_symbol`` for a malformed ticker, ``invalid_field``
    for a bad row in a CSV file, ``malformed`` for a file that cannot be read.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Security:
    """One tradable symbol: ``reference_price`` in 1/10,000 dollars, on tick."""

    symbol: str
    name: str
    sector: str
    reference_price: int
    volatility: float
    """Standard deviation of daily returns, as a fraction (0.02 is 2%)."""


def _check_symbol(symbol: str) -> str:
    if not 1 <= len(symbol) <= 8 or not set(symbol) <= _SYMBOL_CHARS:
        raise UniverseError("invalid_symbol", f"symbol must be 1-8 capital letters: {symbol!r}")
    return symbol


def _parse_rows(text: str, origin: str) -> list[Security]:
    reader = csv.DictReader(io.StringIO(text))
    fields = reader.fieldnames or []
    if "symbol" not in fields or "reference_price" not in fields:
        raise UniverseError("malformed", f"{origin}: needs symbol and reference_price columns")
    out: list[Security] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        symbol = _check_symbol((row.get("symbol") or "").strip().upper())
        if symbol in seen:
            raise UniverseError("invalid_field", f"{origin}:{line}: {symbol} listed twice")
        seen.add(symbol)
        try:
            price = parse_price((row.get("reference_price") or "").strip())
        except PriceError as exc:
            raise UniverseError("invalid_field", f"{origin}:{line}: {exc}") from None
        if price <= 0 or not is_on_tick(price):
            raise UniverseError(
                "invalid_field", f"{origin}:{line}: reference price must be positive and on tick"
            )
        vol_text = (row.get("daily_volatility") or "").strip()
        try:
            volatility = float(vol_text) if vol_text else DEFAULT_VOLATILITY
        except ValueError:
            raise UniverseError(
                "invalid_field", f"{origin}:{line}: daily_volatility is not a number"
            ) from None
        if not 0.0 < volatility < 1.0:
            raise UniverseError(
                "invalid_field", f"{origin}:{line}: daily_volatility must be between 0 and 1"
            )
        out.append(
            Security(
                symbol=symbol,
                name=(row.get("name") or symbol).strip(),
                sector=(row.get("sector") or "").strip(),
                reference_price=price,
                volatility=volatility,
            )
        )
    return out


def load_universe() -> list[Security]:
    """The universe shipped with lob, in file order."""
    text = resources.files("lob.data").joinpath("universe.csv").read_text(encoding="utf-8")
    return _parse_rows(text, "universe.csv")


def load_symbols(spec: str) -> list[Security]:
    """Securities from ``"AAPL,MSFT"`` (looked up in the universe) or a CSV file path.

    A CSV file with a ``reference_price`` column defines its own securities; one
    with only a ``symbol`` column selects rows of the shipped universe. Raises
    ``UniverseError`` with a stable ``code`` for anything unusable.
    """
    spec = spec.strip()
    if not spec:
        raise UniverseError("missing_field", "no symbols given")
    path = Path(spec)
    if spec.lower().endswith(".csv") or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UniverseError("malformed", f"cannot read {spec}: {exc.strerror}") from None
        header = next(csv.reader(io.StringIO(text)), [])
        if "reference_price" in header:
            return _parse_rows(text, path.name)
        if "symbol" not in header:
            raise UniverseError("malformed", f"{path.name}: needs a symbol column")
        names = [row["symbol"] for row in csv.DictReader(io.StringIO(text))]
    else:
        names = spec.split(",")
    by_symbol = {s.symbol: s for s in load_universe()}
    out: list[Security] = []
    seen: set[str] = set()
    for raw in names:
        symbol = _check_symbol(raw.strip().upper())
        if symbol in seen:
            continue
        seen.add(symbol)
        security = by_symbol.get(symbol)
        if security is None:
            raise UniverseError("unknown_symbol", f"{symbol} is not in lob's universe")
        out.append(security)
    return out
