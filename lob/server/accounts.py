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
from typing import Any

from lob.engine.events import Accepted, Added, Cancelled, Event, Executed, Replaced, Trade
from lob.server.price_text import price_text

__all__ = ["MAX_DONE_ORDERS", "MAX_FILLS", "MAX_TRADES", "Accounts", "OrderStatus", "Tape"]

MAX_DONE_ORDERS = 100_000
MAX_FILLS = 100_000
MAX_TRADES = 1_000


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


class _Account:
    __slots__ = ("done", "fills", "live")

    def __init__(self) -> None:
        self.live: dict[str, OrderStatus] = {}
        self.done: OrderedDict[str, OrderStatus] = OrderedDict()
        self.fills: deque[dict[str, Any]] = deque(maxlen=MAX_FILLS)


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
        out = list(reversed(acct.fills))
        return out if limit is None else out[:limit]

    def _finish(self, acct: _Account, status: OrderStatus) -> None:
        acct.live.pop(status.id, None)
        acct.done[status.id] = status
        acct.done.move_to_end(status.id)
        while len(acct.done) > MAX_DONE_ORDERS:
            acct.done.popitem(last=False)

    def apply(self, events: list[Event]) -> None:
        """Fold one command's events in."""
        for event in events:
            kind = type(event)
            if kind is Trade:
                if event.aggressor is not None:  # type: ignore[union-attr]
                    self._trade(event)  # type: ignore[arg-type]
            elif kind is Executed:
                self._executed(event)  # type: ignore[arg-type]
            elif kind is Accepted:
                accepted: Accepted = event  # type: ignore[assignment]
                acct = self._get(accepted.account)
                if accepted.id in acct.done:  # an id used again once its order finished
                    del acct.done[accepted.id]
                acct.live[accepted.id] = OrderStatus(accepted)
            elif kind is Added:
                acct = self._get(event.account)  # type: ignore[arg-type,union-attr]
                status = acct.live.get(event.id)  # type: ignore[arg-type,union-attr]
                if status is not None:
                    status.leaves = event.qty  # type: ignore[union-attr]
                    status.updated = event.ts
            elif kind is Cancelled:
                acct = self._get(event.account)  # type: ignore[arg-type,union-attr]
                status = acct.live.get(event.id)  # type: ignore[arg-type,union-attr]
                if status is not None:
                    status.leaves = 0
                    status.status = "cancelled"
                    status.reason = str(event.reason)  # type: ignore[union-attr]
                    status.updated = event.ts
                    self._finish(acct, status)
            elif kind is Replaced:
                acct = self._get(event.account)  # type: ignore[arg-type,union-attr]
                status = acct.live.get(event.id)  # type: ignore[arg-type,union-attr]
                if status is not None:
                    e: Replaced = event  # type: ignore[assignment]
                    status.oid = e.oid
                    status.price = e.price
                    status.qty = status.filled + e.qty
                    status.leaves = e.qty
                    status.updated = e.ts

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
        acct.fills.append(
            {
                "trade_id": e.trade_id,
                "symbol": e.symbol,
                "id": e.id,
                "side": str(e.side),
                "price": price_text(e.cross_price),
                "qty": e.qty,
                "liquidity": "cross",
                "ts": e.ts,
                "seq": e.seq,
            }
        )

    def _trade(self, t: Trade) -> None:
        for account, id, side in (
            (t.buy_account, t.buy_id, "buy"),
            (t.sell_account, t.sell_id, "sell"),
        ):
            acct = self._get(account)
            status = acct.live.get(id)
            taker = side == t.aggressor
            if status is not None:
                status.filled += t.qty
                status.leaves -= t.qty
                status.updated = t.ts
                if status.leaves <= 0:
                    # Exhausted: no Added or Cancelled will follow for this order.
                    status.leaves = 0
                    status.status = "filled"
                    self._finish(acct, status)
            acct.fills.append(
                {
                    "trade_id": t.trade_id,
                    "symbol": t.symbol,
                    "id": id,
                    "side": side,
                    "price": price_text(t.price),
                    "qty": t.qty,
                    "liquidity": "taker" if taker else "maker",
                    "ts": t.ts,
                    "seq": t.seq,
                }
            )


class Tape:
    """The last trades of every symbol, for ``GET /trades/{symbol}``."""

    def __init__(self, maxlen: int = MAX_TRADES) -> None:
        self.maxlen = maxlen
        self._trades: dict[str, deque[Trade]] = {}
        self.count = 0

    def apply(self, events: list[Event]) -> None:
        for event in events:
            if type(event) is Trade:
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
