"""Per-account order status and fills, and per-symbol recent trades, from events.

Why: the engine forgets an order once it is done, but a trader asks "what
happened to my order?" afterwards. These views are folded from the event
stream (and so rebuilt exactly by a journal replay); they never read the book.

Order status values: ``open`` (resting, possibly partly filled), ``filled``,
``cancelled`` (see ``reason``). Each account keeps its most recent
``MAX_DONE_ORDERS`` finished orders and ``MAX_FILLS`` fills; symbols keep their
last ``MAX_TRADES`` trades.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from itertools import islice
from typing import Any, Final

from lob.engine.events import Accepted, Added, Cancelled, Event, Executed, Replaced, Trade
from lob.server.price_text import price_text

__all__ = ["MAX_DONE_ORDERS", "MAX_FILLS", "MAX_TRADES", "Accounts", "OrderStatus", "Tape"]

MAX_DONE_ORDERS: Final = 100_000
MAX_FILLS: Final = 100_000
MAX_TRADES: Final = 1_000

# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
_TRADE: Final = Trade
_EXECUTED: Final = Executed
_ACCEPTED: Final = Accepted
_ADDED: Final = Added
_CANCELLED: Final = Cancelled
_REPLACED: Final = Replaced


class OrderStatus:
    """Everything a client may ask about one of its orders."""

    __slots__ = (
        "account",
        "filled",
        "id",
        "leaves",
        "oid",
        "order_type",
        "post_only",
        "price",
        "qty",
        "reason",
        "side",
        "status",
        "symbol",
        "tif",
        "ts",
        "updated",
    )

    def __init__(self, event: Accepted) -> None:
        self.account = event.account
        self.id = event.id
        self.oid = event.oid
        self.symbol = event.symbol
        self.side = event.side
        self.order_type = event.order_type
        self.price = event.price
        self.qty = event.qty
        self.tif = event.tif
        self.post_only = event.post_only
        self.filled = 0
        self.leaves = event.qty
        self.status = "open"
        self.reason: str | None = None
        self.ts = event.ts
        self.updated = event.ts

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "oid": self.oid,
            "symbol": self.symbol,
            "side": str(self.side),
            "type": str(self.order_type),
            "price": None if self.price is None else price_text(self.price),
            "qty": self.qty,
            "filled_qty": self.filled,
            "leaves_qty": self.leaves,
            "tif": str(self.tif),
            "post_only": self.post_only,
            "status": self.status,
            "reason": self.reason,
            "ts": self.ts,
            "updated_ts": self.updated,
        }


_Fill = tuple[Trade | Executed, str, str]
"""One fill of an account: the event, the account's side of a trade (``""`` for a
cross's execution, whose event has its side) and the liquidity it took or made.

Why not the answer's dict: an account keeps ``MAX_FILLS`` of them, so each is
freed long after it was made, when its memory has left the CPU's caches; the
event is kept anyway for a while, and a tuple that refers to it is one small
object to free instead of a dict, its keys and a price string. ``GET /fills``
builds the dicts when it is asked."""


def _fill_dict(fill: _Fill) -> dict[str, Any]:
    """A fill as ``GET /fills`` answers it."""
    event, side, liquidity = fill
    if side:
        t: Trade = event  # type: ignore[assignment]
        return {
            "trade_id": t.trade_id,
            "symbol": t.symbol,
            "id": t.buy_id if side == "buy" else t.sell_id,
            "side": side,
            "price": price_text(t.price),
            "qty": t.qty,
            "liquidity": liquidity,
            "ts": t.ts,
            "seq": t.seq,
        }
    e: Executed = event  # type: ignore[assignment]
    return {
        "trade_id": e.trade_id,
        "symbol": e.symbol,
        "id": e.id,
        "side": str(e.side),
        "price": price_text(e.cross_price),
        "qty": e.qty,
        "liquidity": liquidity,
        "ts": e.ts,
        "seq": e.seq,
    }


class _Account:
    __slots__ = ("done", "fills", "live")

    def __init__(self) -> None:
        self.live: dict[str, OrderStatus] = {}
        self.done: OrderedDict[str, OrderStatus] = OrderedDict()
        self.fills: deque[_Fill] = deque(maxlen=MAX_FILLS)


class Accounts:
    """Order status and fills of every account, folded from events."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}

    def _get(self, account: str) -> _Account:
        acct = self._accounts.get(account)
        if acct is None:
            acct = self._accounts[account] = _Account()
        return acct

    def order(self, account: str, id: str) -> OrderStatus | None:
        acct = self._accounts.get(account)
        if acct is None:
            return None
        return acct.live.get(id) or acct.done.get(id)

    def open_orders(self, account: str) -> list[OrderStatus]:
        acct = self._accounts.get(account)
        return sorted(acct.live.values(), key=lambda o: o.oid) if acct else []

    def open_count(self, account: str) -> int:
        acct = self._accounts.get(account)
        return len(acct.live) if acct else 0

    def fills(self, account: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The account's fills, newest first."""
        acct = self._accounts.get(account)
        if acct is None:
            return []
        return [_fill_dict(fill) for fill in islice(reversed(acct.fills), limit)]

    def _finish(self, acct: _Account, status: OrderStatus) -> None:
        """Move a live order to the finished ones (it is always live when called)."""
        id = status.id
        done = acct.done
        del acct.live[id]
        # It goes in last, the newest: an id leaves ``done`` when it is accepted
        # again (``apply``), so it is never there while its order is live.
        done[id] = status
        if len(done) > MAX_DONE_ORDERS:
            done.popitem(False)  # the oldest

    def apply(self, events: list[Event]) -> None:
        """Fold one command's events in."""
        for event in events:
            kind = type(event)
            if kind is _TRADE:
                t: Trade = event  # type: ignore[assignment]
                if t.aggressor is not None:
                    self._trade(t)
            elif kind is _EXECUTED:
                self._executed(event)  # type: ignore[arg-type]
            elif kind is _ACCEPTED:
                accepted: Accepted = event  # type: ignore[assignment]
                acct = self._get(accepted.account)
                if accepted.id in acct.done:  # an id used again once its order finished
                    del acct.done[accepted.id]
                acct.live[accepted.id] = OrderStatus(accepted)
            elif kind is _ADDED:
                # Each kind through a typed local: compiled, its fields are then read
                # by position rather than looked up by name.
                a: Added = event  # type: ignore[assignment]
                status = self._get(a.account).live.get(a.id)
                if status is not None:
                    status.leaves = a.qty
                    status.updated = a.ts
            elif kind is _CANCELLED:
                c: Cancelled = event  # type: ignore[assignment]
                acct = self._get(c.account)
                status = acct.live.get(c.id)
                if status is not None:
                    status.leaves = 0
                    status.status = "cancelled"
                    status.reason = str(c.reason)
                    status.updated = c.ts
                    self._finish(acct, status)
            elif kind is _REPLACED:
                r: Replaced = event  # type: ignore[assignment]
                status = self._get(r.account).live.get(r.id)
                if status is not None:
                    status.oid = r.oid
                    status.price = r.price
                    status.qty = status.filled + r.qty
                    status.leaves = r.qty
                    status.updated = r.ts

    def _executed(self, e: Executed) -> None:
        """An order's share of a cross (the cross's Trade events name no aggressor)."""
        acct = self._get(e.account)
        status = acct.live.get(e.id)
        if status is not None:
            status.filled += e.qty
            status.leaves = e.left
            status.updated = e.ts
            if e.left <= 0:
                status.status = "filled"
                self._finish(acct, status)
        acct.fills.append((e, "", "cross"))

    def _trade(self, t: Trade) -> None:
        self._fill(t, t.buy_account, t.buy_id, "buy")
        self._fill(t, t.sell_account, t.sell_id, "sell")

    def _fill(self, t: Trade, account: str, id: str, side: str) -> None:
        """One side's share of trade ``t``."""
        acct = self._get(account)
        status = acct.live.get(id)
        if status is not None:
            status.filled += t.qty
            status.leaves -= t.qty
            status.updated = t.ts
            if status.leaves <= 0:
                # Exhausted: no Added or Cancelled will follow for this order.
                status.leaves = 0
                status.status = "filled"
                self._finish(acct, status)
        acct.fills.append((t, side, "taker" if side == t.aggressor else "maker"))


class Tape:
    """The last trades of every symbol, for ``GET /trades/{symbol}``."""

    def __init__(self, maxlen: int = MAX_TRADES) -> None:
        self.maxlen = maxlen
        self._trades: dict[str, deque[Trade]] = {}
        self.count = 0

    def apply(self, events: list[Event]) -> None:
        for event in events:
            if type(event) is _TRADE:
                tape = self._trades.get(event.symbol)
                if tape is None:
                    tape = self._trades[event.symbol] = deque(maxlen=self.maxlen)
                tape.append(event)
                self.count += 1

    def recent(self, symbol: str, limit: int) -> list[dict[str, Any]]:
        """Newest first."""
        tape = self._trades.get(symbol)
        if not tape:
            return []
        out = []
        for t in reversed(tape):
            out.append(
                {
                    "price": price_text(t.price),
                    "qty": t.qty,
                    "aggressor": None if t.aggressor is None else str(t.aggressor),
                    "ts": t.ts,
                    "trade_id": t.trade_id,
                    "seq": t.seq,
                }
            )
            if len(out) >= limit:
                break
        return out

    def last(self, symbol: str) -> Trade | None:
        tape = self._trades.get(symbol)
        return tape[-1] if tape else None
