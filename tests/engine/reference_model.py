"""A deliberately naive exchange: the engine's rules applied literally, for differential tests.

Every symbol's resting orders live in one plain list in arrival order. To
match, the model sorts the opposite side's orders by price (best first) and
then by arrival, and takes the first; it never keeps levels, totals, links or
indexes, so there is little in it that can be wrong. It is slow on purpose.

It answers each command with a ``Result``: the trades, the rejection codes
and the cancellations the rules require, which the tests compare with the
events of ``lob.engine.MatchingEngine``. Validation follows the engine's
documented precedence (field checks, then symbol, then duplicate id, then the
limit price: positive, on tick, inside the collar, post-only not marketable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

MAX_QTY = 1_000_000_000
MAX_ID_LENGTH = 64
DOLLAR = 10_000
SIDES = ("buy", "sell")
TYPES = ("limit", "market")
TIFS = ("day", "gtc", "ioc", "fok")
SMP_MODES = ("cancel_newest", "cancel_oldest", "cancel_both")


def tick(price: int) -> int:
    """Rule 612: one cent at or above one dollar, a hundredth of a cent below."""
    return 100 if price >= DOLLAR else 1


@dataclass
class Order:
    account: str
    id: str
    oid: int
    symbol: str
    side: str
    price: int
    qty: int
    tif: str
    smp: str
    post_only: bool
    arrival: int


@dataclass
class Result:
    """What one command must produce."""

    trades: list[tuple] = field(default_factory=list)
    """(symbol, price, qty, buy account, buy id, sell account, sell id, aggressor)"""
    rejected: list[str] = field(default_factory=list)
    cancelled: list[tuple] = field(default_factory=list)
    """(account, id, qty, reason, resting)"""


@dataclass
class Symbol:
    name: str
    collar_low: int | None = None
    collar_high: int | None = None
    orders: list[Order] = field(default_factory=list)


class ReferenceExchange:
    def __init__(self, auto_create_symbols: bool = True) -> None:
        self.auto_create_symbols = auto_create_symbols
        self.symbols: dict[str, Symbol] = {}
        self.next_oid = 1
        self.arrivals = 0

    # -- set-up ----------------------------------------------------------------

    def add_symbol(self, name: str, reference: int | None = None, collar: float = 0.10) -> None:
        sym = self.symbols.setdefault(name, Symbol(name))
        if reference is None:
            sym.collar_low = sym.collar_high = None
            return
        width = Fraction(str(collar))
        high = int(reference * (1 + width))  # rounded down
        low = -int(-reference * (1 - width) // 1)  # rounded up
        sym.collar_high = high - high % tick(high)
        sym.collar_low = low + (-low % tick(low))

    # -- reading ---------------------------------------------------------------

    def live(self, account: object, id: object) -> Order | None:
        for sym in self.symbols.values():
            for o in sym.orders:
                if o.account == account and o.id == id:
                    return o
        return None

    def queue(self, symbol: str, side: str) -> list[Order]:
        """Resting orders of one side, best price first, then oldest first."""
        return _by_priority(self.symbols[symbol], side)

    def l2(self, symbol: str, side: str) -> list[tuple[int, int, int]]:
        levels: dict[int, list[int]] = {}
        for o in self.queue(symbol, side):
            levels.setdefault(o.price, []).append(o.qty)
        return [(price, sum(qs), len(qs)) for price, qs in levels.items()]

    # -- commands --------------------------------------------------------------

    def new_order(
        self,
        account: object,
        id: object,
        symbol: object,
        side: object,
        qty: object,
        price: object = None,
        order_type: object = "limit",
        tif: object = "day",
        post_only: object = False,
        smp: object = "cancel_newest",
    ) -> Result:
        code = self._check_new(
            account, id, symbol, side, qty, price, order_type, tif, post_only, smp
        )
        if code:
            return Result(rejected=[code])
        assert isinstance(symbol, str) and isinstance(account, str) and isinstance(id, str)
        assert isinstance(qty, int) and isinstance(side, str)
        if symbol not in self.symbols:
            # Created on first accepted use: a rejected order leaves no symbol behind.
            self.symbols[symbol] = Symbol(symbol)
        sym = self.symbols[symbol]
        if order_type == "market":
            limit = sym.collar_high if side == "buy" else sym.collar_low
        else:
            limit = price
        oid = self.next_oid
        self.next_oid += 1
        result = Result()
        self._enter(
            sym,
            account,
            id,
            oid,
            side,
            limit,
            qty,
            str(order_type),
            str(tif),
            str(smp),
            bool(post_only),
            result,
        )
        return result

    def cancel(self, account: object, id: object) -> Result:
        order = self.live(account, id)
        if order is None:
            return Result(rejected=["unknown_order"])
        self.symbols[order.symbol].orders.remove(order)
        return Result(cancelled=[(order.account, order.id, order.qty, "user", True)])

    def replace(
        self, account: object, id: object, price: object = None, qty: object = None
    ) -> Result:
        order = self.live(account, id)
        if order is None:
            return Result(rejected=["unknown_order"])
        sym = self.symbols[order.symbol]
        if price is None and qty is None:
            return Result(rejected=["missing_field"])
        if qty is not None and not _is_qty(qty):
            return Result(rejected=["invalid_quantity"])
        if price is not None:
            code = self._check_price(sym, order.side, price, order.post_only)
            if code:
                return Result(rejected=[code])
        new_price = order.price if price is None else price
        new_qty = order.qty if qty is None else qty
        assert isinstance(new_price, int) and isinstance(new_qty, int)
        if new_price == order.price and new_qty <= order.qty:
            order.qty = new_qty  # keeps its place in the queue
            return Result()
        sym.orders.remove(order)
        oid = self.next_oid
        self.next_oid += 1
        result = Result()
        self._enter(
            sym,
            order.account,
            order.id,
            oid,
            order.side,
            new_price,
            new_qty,
            "limit",
            order.tif,
            order.smp,
            order.post_only,
            result,
        )
        return result

    def expire(self, tif: str = "day") -> Result:
        result = Result()
        for sym in self.symbols.values():
            for o in [o for o in sym.orders if o.tif == tif]:
                sym.orders.remove(o)
                result.cancelled.append((o.account, o.id, o.qty, "expired", True))
        return result

    # -- the rules -------------------------------------------------------------

    def _enter(
        self,
        sym: Symbol,
        account: str,
        id: str,
        oid: int,
        side: str,
        limit: int | None,
        qty: int,
        order_type: str,
        tif: str,
        smp: str,
        post_only: bool,
        result: Result,
    ) -> None:
        other = "sell" if side == "buy" else "buy"

        def reachable() -> list[Order]:
            return [
                o
                for o in self.queue(sym.name, other)
                if limit is None or (o.price <= limit if side == "buy" else o.price >= limit)
            ]

        if tif == "fok":
            fillable = 0
            for o in reachable():
                if o.account == account:
                    if smp != "cancel_oldest":
                        break  # matching would stop here
                    continue  # would be cancelled, and does not count
                fillable += o.qty
            if fillable < qty:
                result.cancelled.append((account, id, qty, "fok", False))
                return
        stopped = False
        while qty > 0:
            candidates = reachable()
            if not candidates:
                break
            best = candidates[0]
            if best.account == account:
                if smp in ("cancel_oldest", "cancel_both"):
                    sym.orders.remove(best)
                    result.cancelled.append((best.account, best.id, best.qty, "self_match", True))
                if smp != "cancel_oldest":
                    stopped = True
                    break
                continue
            fill = min(qty, best.qty)
            qty -= fill
            best.qty -= fill
            if best.qty == 0:
                sym.orders.remove(best)
            if side == "buy":
                buyer, seller = (account, id), (best.account, best.id)
            else:
                buyer, seller = (best.account, best.id), (account, id)
            result.trades.append((sym.name, best.price, fill, *buyer, *seller, side))
        if qty == 0:
            return
        if stopped:
            result.cancelled.append((account, id, qty, "self_match", False))
        elif order_type == "market":
            result.cancelled.append((account, id, qty, "market", False))
        elif tif == "ioc":
            result.cancelled.append((account, id, qty, "ioc", False))
        else:
            assert limit is not None
            self.arrivals += 1
            order = Order(account, id, oid, sym.name, side, limit, qty, tif, smp, post_only, 0)
            order.arrival = self.arrivals
            sym.orders.append(order)

    def _check_new(
        self,
        account: object,
        id: object,
        symbol: object,
        side: object,
        qty: object,
        price: object,
        order_type: object,
        tif: object,
        post_only: object,
        smp: object,
    ) -> str | None:
        if not isinstance(account, str) or not 1 <= len(account) <= MAX_ID_LENGTH:
            return "invalid_account"
        if not isinstance(id, str) or not 1 <= len(id) <= MAX_ID_LENGTH:
            return "invalid_id"
        if not isinstance(symbol, str) or not re.fullmatch(r"[A-Z]{1,8}", symbol):
            return "invalid_symbol"
        if side not in SIDES:
            return "invalid_side"
        if order_type not in TYPES:
            return "invalid_type"
        if tif not in TIFS:
            return "invalid_tif"
        if smp not in SMP_MODES:
            return "invalid_field"
        if not _is_qty(qty):
            return "invalid_quantity"
        if type(post_only) is not bool:
            return "invalid_field"
        if order_type == "market":
            if price is not None or post_only:
                return "invalid_field"
        elif price is None:
            return "invalid_price"
        elif post_only and tif in ("ioc", "fok"):
            return "invalid_field"
        if symbol not in self.symbols and not self.auto_create_symbols:
            return "unknown_symbol"
        if self.live(account, id) is not None:
            return "duplicate_id"
        if order_type == "limit":
            sym = self.symbols.get(symbol, Symbol(symbol))
            return self._check_price(sym, str(side), price, bool(post_only))
        return None

    def _check_price(self, sym: Symbol, side: str, price: object, post_only: bool) -> str | None:
        if type(price) is not int or price <= 0:
            return "invalid_price"
        if price % tick(price):
            return "invalid_price"
        if side == "buy" and sym.collar_high is not None and price > sym.collar_high:
            return "price_out_of_collar"
        if side == "sell" and sym.collar_low is not None and price < sym.collar_low:
            return "price_out_of_collar"
        if post_only:
            other = _by_priority(sym, "sell" if side == "buy" else "buy")
            if other and (price >= other[0].price if side == "buy" else price <= other[0].price):
                return "post_only_would_take"
        return None


def _by_priority(sym: Symbol, side: str) -> list[Order]:
    orders = [o for o in sym.orders if o.side == side]
    if side == "buy":
        return sorted(orders, key=lambda o: (-o.price, o.arrival))
    return sorted(orders, key=lambda o: (o.price, o.arrival))


def _is_qty(qty: object) -> bool:
    return type(qty) is int and 0 < qty <= MAX_QTY
