"""The history writer: engine events in, DuckDB tables out, in Arrow batches.

Every view of a trading day that outlives the process is derived from the
engine's event stream (docs/history.md has the schema and examples). The
writer turns events into rows of five tables:

- ``trades``: one row per ``Trade`` (price, quantity, aggressor, both sides'
  accounts, client ids and engine order ids, ``ts``, ``seq``, ``trade_id``).
- ``orders``: one row per ``Accepted`` order, keyed by ``(session, oid)``.
- ``order_events``: the lifecycle of each order (``accepted``, ``fill``,
  ``added``, ``replaced``, ``cancelled``), keyed by the oid the order was
  accepted under (``order_oid``, the key into ``orders``, which holds its
  symbol, account, client id and side) even after a replace gave it a new
  engine oid, with the open quantity left after each event (``leaves``).
- ``quotes``: the top of the book (best bid and ask, price and size) after
  every event that changed it. The writer keeps, per symbol and side, the
  quantity of every price level from the level fields the engine puts on
  book-changing events, and a lazy heap of prices for the best one: O(log n)
  per book change, no look at the engine's book.
- ``sessions``: one row per writer run; every other row carries its
  ``session``, because a fresh engine numbers ``seq``, ``oid`` and
  ``trade_id`` from 1 again.

Prices are stored as ``BIGINT`` units of 1/10,000 dollar (``lob.engine.prices``);
the ``*_dec`` views show them as ``DECIMAL(18,4)`` dollars. Timestamps are
``BIGINT`` nanoseconds since the epoch; the views add a ``time`` column.

Rows are buffered in column lists and written as one pyarrow table per table
and batch (DuckDB's ``executemany`` manages only about a thousand rows a
second; an Arrow scan inserts millions). ``HistoryWriter`` is safe to call from
any thread (one lock guards the buffers and the connection);
``BackgroundHistoryWriter`` moves all of the work off the caller's thread
behind a bounded queue (still in the caller's process: ``lob serve`` builds
its history in a process of its own from the journal instead,
``lob.server.history_process``, because this thread slowed its matching loop).

The writer's order state (open quantity, the first oid of a replaced order)
and book state start empty: it must see a session's events from the start,
or be given the books with ``seed_book`` before the first event.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lob.engine.events import Accepted, Added, Cancelled, Event, Replaced, Trade
from lob.engine.types import Priority, Side

__all__ = [
    "SCHEMA_SQL",
    "TABLES",
    "BackgroundHistoryWriter",
    "HistoryWriter",
    "create_schema",
]

_BUY = Side.BUY
_LOST = Priority.LOST

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "trades": (
        ("session", "INTEGER NOT NULL"),
        ("seq", "BIGINT NOT NULL"),
        ("ts", "BIGINT NOT NULL"),
        ("symbol", "VARCHAR NOT NULL"),
        ("trade_id", "BIGINT NOT NULL"),
        ("price", "BIGINT NOT NULL"),
        ("qty", "BIGINT NOT NULL"),
        ("aggressor", "VARCHAR"),
        ("buy_account", "VARCHAR NOT NULL"),
        ("buy_id", "VARCHAR NOT NULL"),
        ("buy_oid", "BIGINT NOT NULL"),
        ("sell_account", "VARCHAR NOT NULL"),
        ("sell_id", "VARCHAR NOT NULL"),
        ("sell_oid", "BIGINT NOT NULL"),
    ),
    "orders": (
        ("session", "INTEGER NOT NULL"),
        ("seq", "BIGINT NOT NULL"),
        ("ts", "BIGINT NOT NULL"),
        ("symbol", "VARCHAR NOT NULL"),
        ("account", "VARCHAR NOT NULL"),
        ("id", "VARCHAR NOT NULL"),
        ("oid", "BIGINT NOT NULL"),
        ("side", "VARCHAR NOT NULL"),
        ("order_type", "VARCHAR NOT NULL"),
        ("price", "BIGINT"),
        ("qty", "BIGINT NOT NULL"),
        ("tif", "VARCHAR NOT NULL"),
        ("post_only", "BOOLEAN NOT NULL"),
        ("smp", "VARCHAR NOT NULL"),
    ),
    "order_events": (
        ("session", "INTEGER NOT NULL"),
        ("seq", "BIGINT NOT NULL"),
        ("ts", "BIGINT NOT NULL"),
        ("order_oid", "BIGINT NOT NULL"),
        ("oid", "BIGINT NOT NULL"),
        ("event", "VARCHAR NOT NULL"),
        ("price", "BIGINT"),
        ("qty", "BIGINT NOT NULL"),
        ("leaves", "BIGINT"),
        ("reason", "VARCHAR"),
        ("trade_id", "BIGINT"),
        ("old_price", "BIGINT"),
        ("old_qty", "BIGINT"),
    ),
    "quotes": (
        ("session", "INTEGER NOT NULL"),
        ("seq", "BIGINT NOT NULL"),
        ("ts", "BIGINT NOT NULL"),
        ("symbol", "VARCHAR NOT NULL"),
        ("bid_price", "BIGINT"),
        ("bid_qty", "BIGINT NOT NULL"),
        ("ask_price", "BIGINT"),
        ("ask_qty", "BIGINT NOT NULL"),
    ),
}
"""Every event table's columns, in order, with their DuckDB types."""

_ARROW = {
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
}


def _arrow_schema(table: str) -> pa.Schema:
    return pa.schema(
        [
            pa.field(name, _ARROW[sql.split()[0]], nullable="NOT NULL" not in sql)
            for name, sql in TABLES[table]
        ]
    )


_SCHEMAS = {name: _arrow_schema(name) for name in TABLES}

_DEC = "CAST({0} AS DECIMAL(18, 0)) * 0.0001"
_DEC_WIDE = "CAST({0} AS DECIMAL(38, 0)) * 0.0001"
_TIME = "make_timestamp(ts // 1000) AS time"

SCHEMA_SQL = "\n".join(
    [
        "CREATE TABLE IF NOT EXISTS sessions (session INTEGER PRIMARY KEY, source VARCHAR,"
        " created TIMESTAMPTZ DEFAULT current_timestamp);",
        *(
            f"CREATE TABLE IF NOT EXISTS {name} ("
            + ", ".join(f"{col} {sql}" for col, sql in cols)
            + ");"
            for name, cols in TABLES.items()
        ),
        "CREATE OR REPLACE VIEW trades_dec AS SELECT * REPLACE ("
        + _DEC.format("price")
        + " AS price), "
        + _DEC_WIDE.format("price::HUGEINT * qty")
        + " AS notional, "
        + _TIME
        + " FROM trades;",
        "CREATE OR REPLACE VIEW quotes_dec AS SELECT * REPLACE ("
        + _DEC.format("bid_price")
        + " AS bid_price, "
        + _DEC.format("ask_price")
        + " AS ask_price), "
        + _DEC.format("ask_price - bid_price")
        + " AS spread, "
        + _TIME
        + " FROM quotes;",
        "CREATE OR REPLACE VIEW orders_dec AS SELECT * REPLACE ("
        + _DEC.format("price")
        + " AS price), "
        + _TIME
        + " FROM orders;",
        """CREATE OR REPLACE VIEW order_status AS
WITH last AS (
    SELECT session, order_oid,
           arg_max(event, seq) AS last_event,
           arg_max(reason, seq) AS last_reason,
           arg_max(leaves, seq) AS leaves,
           arg_max(oid, seq) AS current_oid,
           arg_max(price, seq) FILTER (WHERE event IN ('accepted', 'replaced')) AS current_price,
           sum(qty) FILTER (WHERE event = 'fill') AS filled_qty,
           sum(price * qty) FILTER (WHERE event = 'fill') AS filled_notional,
           max(ts) AS last_ts
    FROM order_events GROUP BY session, order_oid
)
SELECT o.session, o.oid, o.seq, o.ts, o.symbol, o.account, o.id, o.side, o.order_type,
       o.tif, o.qty, o.price AS accepted_price, l.current_price AS price, l.current_oid,
       coalesce(l.filled_qty, 0) AS filled_qty, l.filled_notional, l.leaves,
       CASE WHEN l.last_event = 'cancelled' AND l.last_reason = 'expired' THEN 'expired'
            WHEN l.last_event = 'cancelled' THEN 'cancelled'
            WHEN l.leaves = 0 THEN 'filled'
            WHEN coalesce(l.filled_qty, 0) > 0 THEN 'partially_filled'
            ELSE 'open' END AS status,
       l.last_ts
FROM orders o LEFT JOIN last l ON l.session = o.session AND l.order_oid = o.oid;""",
    ]
)
"""The whole schema: tables, then views. Running it again changes nothing."""


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create lob's history tables and views in ``con`` if they are not there yet."""
    con.execute(SCHEMA_SQL)


class _Book:
    """One symbol's price levels, enough to know the top of the book after each change."""

    __slots__ = ("ask_heap", "asks", "bid_heap", "bids", "top")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        # Min-heaps of level prices (bids negated). An emptied level stays in its
        # heap until it reaches the top (then it is dropped) or the heap is rebuilt.
        self.bid_heap: list[int] = []
        self.ask_heap: list[int] = []
        self.top: tuple[int | None, int, int | None, int] = (None, 0, None, 0)

    def set_level(self, side: Side, price: int, qty: int) -> None:
        if side is _BUY:
            if qty:
                if price not in self.bids:
                    heapq.heappush(self.bid_heap, -price)
                self.bids[price] = qty
            else:
                self.bids.pop(price, None)
        elif qty:
            if price not in self.asks:
                heapq.heappush(self.ask_heap, price)
            self.asks[price] = qty
        else:
            self.asks.pop(price, None)

    def apply(
        self, side: Side, price: int, qty: int
    ) -> tuple[int | None, int, int | None, int] | None:
        """Set a level's quantity; return the new top of the book if it changed, else None."""
        self.set_level(side, price, qty)
        top = self.top
        if side is _BUY:
            if top[0] is not None and price < top[0]:
                return None  # below the best bid: the top cannot have moved
        elif top[2] is not None and price > top[2]:
            return None  # above the best ask
        new = self.best()
        if new == top:
            return None
        self.top = new
        return new

    def best(self) -> tuple[int | None, int, int | None, int]:
        bids, asks = self.bids, self.asks
        bid_heap, ask_heap = self.bid_heap, self.ask_heap
        if len(bid_heap) > 2 * len(bids) + 64:
            bid_heap = self.bid_heap = [-p for p in bids]
            heapq.heapify(bid_heap)
        if len(ask_heap) > 2 * len(asks) + 64:
            ask_heap = self.ask_heap = list(asks)
            heapq.heapify(ask_heap)
        while bid_heap and -bid_heap[0] not in bids:
            heapq.heappop(bid_heap)
        while ask_heap and ask_heap[0] not in asks:
            heapq.heappop(ask_heap)
        if bid_heap:
            bid: int | None = -bid_heap[0]
            bid_qty = bids[-bid_heap[0]]
        else:
            bid, bid_qty = None, 0
        if ask_heap:
            ask: int | None = ask_heap[0]
            ask_qty = asks[ask_heap[0]]
        else:
            ask, ask_qty = None, 0
        return bid, bid_qty, ask, ask_qty


class HistoryWriter:
    """Write engine events to a DuckDB history file, in batches.

    >>> writer = HistoryWriter(":memory:")
    >>> writer.write_events(engine_events)  # doctest: +SKIP
    >>> writer.flush()  # doctest: +SKIP

    ``write_events`` buffers events, turns them into Arrow tables every
    ``stage_rows`` events and writes to DuckDB once ``batch_rows`` events
    (fills counted once per side) are waiting; ``flush`` writes what is buffered
    now; ``close`` flushes and closes. All three take one lock, so any thread
    may call them. ``reader()``
    gives a cursor on the same database for analytics in the same process
    (DuckDB lets one process at a time open a file for writing).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        source: str = "",
        batch_rows: int = 262_144,
        stage_rows: int = 2_048,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.path = str(path)
        self.batch_rows = batch_rows
        self.stage_rows = min(stage_rows, batch_rows)
        self._con = connection if connection is not None else duckdb.connect(self.path)
        self._lock = threading.RLock()
        create_schema(self._con)
        rows = self._con.execute("SELECT coalesce(max(session), 0) + 1 FROM sessions").fetchall()
        self.session: int = int(rows[0][0])
        self._con.execute(
            "INSERT INTO sessions (session, source) VALUES (?, ?)", [self.session, source]
        )
        # Raw events, converted to Arrow as they are; the order_events rows of
        # added, cancelled and replaced orders are derived from them in DuckDB.
        self._trades: list[Trade] = []
        self._orders: list[Accepted] = []
        self._added: list[Added] = []
        self._cancelled: list[Cancelled] = []
        self._replaced: list[Replaced] = []
        self._roots: dict[type, list[int]] = {Added: [], Cancelled: [], Replaced: []}
        self._fills: list[tuple[Any, ...]] = []
        self._quotes: list[tuple[Any, ...]] = []
        self._staged: list[tuple[str, pa.Table]] = []
        self._staged_rows = 0
        self._books: dict[str, _Book] = {}
        # Orders the writer has seen accepted and not yet finished:
        # engine oid -> [oid it was accepted under, open quantity].
        self._live: dict[int, list[int]] = {}
        self.rows_written = 0
        self._closed = False

    # -- input ---------------------------------------------------------------

    def seed_book(
        self, symbol: str, bids: Sequence[tuple[int, int]], asks: Sequence[tuple[int, int]]
    ) -> None:
        """Start ``symbol``'s book from ``(price, qty)`` levels (e.g. an L2 snapshot)."""
        with self._lock:
            book = self._books[symbol] = _Book()
            for price, qty in bids:
                book.set_level(_BUY, price, qty)
            for price, qty in asks:
                book.set_level(Side.SELL, price, qty)
            book.top = book.best()

    def write_events(self, events: Iterable[Event]) -> None:
        """Buffer the rows of ``events`` (in engine order); write a batch when enough wait."""
        with self._lock:
            if self._closed:
                raise ValueError("the history writer is closed")
            self._add(events)
            buffered = (
                len(self._trades)
                + len(self._orders)
                + len(self._added)
                + len(self._cancelled)
                + len(self._replaced)
                + len(self._fills)
            )
            if buffered >= self.stage_rows:
                self._stage()
                if self._staged_rows >= self.batch_rows:
                    self._write_staged()

    def _add(self, events: Iterable[Event]) -> None:
        trades = self._trades
        add_fill = self._fills.append
        added, cancelled, replaced = self._added, self._cancelled, self._replaced
        added_roots = self._roots[Added].append
        cancelled_roots = self._roots[Cancelled].append
        replaced_roots = self._roots[Replaced].append
        live = self._live
        books = self._books
        quotes = self._quotes.append
        for event in events:
            kind = type(event)
            if kind is Replaced:
                replaced.append(event)  # type: ignore[arg-type]
                (seq, ts, symbol, _, _, oid, old_oid, side, old_price, _, price, qty, priority,
                 old_lq, _, lq, _) = event  # fmt: skip
                state = live.pop(old_oid, None)
                root = state[0] if state is not None else old_oid
                live[oid] = [root, qty]
                replaced_roots(root)
                if priority is _LOST:
                    change = (symbol, side, old_price, old_lq)
                else:
                    change = (symbol, side, price, lq)
            elif kind is Added:
                added.append(event)  # type: ignore[arg-type]
                (seq, ts, symbol, _, _, oid, side, price, _, level_qty, _) = event
                state = live.get(oid)
                added_roots(state[0] if state is not None else oid)
                change = (symbol, side, price, level_qty)
            elif kind is Accepted:
                self._orders.append(event)  # type: ignore[arg-type]
                live[event[5]] = [event[5], event[9]]  # oid -> [oid, qty]
                continue
            elif kind is Cancelled:
                cancelled.append(event)  # type: ignore[arg-type]
                (seq, ts, symbol, _, _, oid, side, price, _, _, resting, lq, _) = event
                state = live.pop(oid, None)
                cancelled_roots(state[0] if state is not None else oid)
                if not resting:
                    continue
                change = (symbol, side, price, lq)
            elif kind is Trade:
                trades.append(event)  # type: ignore[arg-type]
                (seq, ts, symbol, trade_id, price, qty, aggressor, _, _, boid, _, _, soid) = event[
                    :13
                ]
                if aggressor is None:
                    continue  # a cross: an ``executed`` event follows for each side
                resting_oid, resting_left, level_qty = event[13], event[14], event[15]
                for oid in (boid, soid):
                    state = live.get(oid)
                    if state is None:
                        root, leaves = oid, None
                    else:
                        root = state[0]
                        leaves = resting_left if oid == resting_oid else state[1] - qty
                        if leaves:
                            state[1] = leaves
                        else:
                            del live[oid]
                    liquidity = "maker" if oid == resting_oid else "taker"
                    add_fill((seq, ts, root, oid, price, qty, leaves, liquidity, trade_id))
                book_side = Side.SELL if aggressor is _BUY else _BUY
                change = (symbol, book_side, price, level_qty)
            elif event.TYPE == "executed":
                (seq, ts, symbol, _, _, oid, side, price, qty, left, trade_id, cross_price,
                 in_book, level_qty, _) = event  # fmt: skip
                state = live.get(oid)
                if state is None:
                    root = oid
                else:
                    root = state[0]
                    if left:
                        state[1] = left
                    else:
                        del live[oid]
                add_fill((seq, ts, root, oid, cross_price, qty, left, "cross", trade_id))
                if not in_book:
                    continue
                change = (symbol, side, price, level_qty)
            else:
                continue  # rejected, or a state, imbalance or band change: no order moved
            symbol, side, price, level_qty = change
            book = books.get(symbol)
            if book is None:
                book = books[symbol] = _Book()
            top = book.apply(side, price, level_qty)
            if top is not None:
                quotes((seq, ts, symbol, *top))

    # -- output --------------------------------------------------------------

    def flush(self) -> int:
        """Write every buffered row now; return how many rows were written."""
        with self._lock:
            return self._flush()

    def _flush(self) -> int:
        self._stage()
        return self._write_staged()

    def _stage(self) -> None:
        """Turn the buffered events into Arrow tables and let go of the Python objects.

        Done every ``stage_rows`` events, so that events die young: events kept
        alive longer reach CPython's oldest GC generation, whose collections walk
        every object in the process and would slow the matching thread too.
        Arrow conversion holds the GIL; the SQL that inserts (and derives the
        lifecycle rows) runs later in DuckDB, without it.
        """
        session = self.session
        staged = self._staged
        if self._trades:
            table = _table("trades", session, self._trades, _TRADE_EXTRA)
            staged.append(("INSERT INTO trades SELECT * FROM _lob_batch", table))
        if self._orders:
            table = _table("orders", session, self._orders)
            staged.append(("INSERT INTO orders SELECT * FROM _lob_batch", table))
            staged.append((_ORDER_EVENTS_FROM["accepted"], table))
        for kind, events in (
            (Added, self._added),
            (Cancelled, self._cancelled),
            (Replaced, self._replaced),
        ):
            if events:
                table = _raw_table(kind, events, self._roots[kind], session)
                staged.append((_ORDER_EVENTS_FROM[kind.TYPE], table))
        if self._fills:
            table = _raw_rows(_FILL_FIELDS, self._fills, session)
            staged.append((_ORDER_EVENTS_FROM["fill"], table))
        if self._quotes:
            table = _table("quotes", session, self._quotes)
            staged.append(("INSERT INTO quotes SELECT * FROM _lob_batch", table))
        self._staged_rows += (
            len(self._trades)
            + len(self._orders)
            + len(self._added)
            + len(self._cancelled)
            + len(self._replaced)
            + len(self._fills)
        )
        self._trades = []
        self._orders = []
        self._added = []
        self._cancelled = []
        self._replaced = []
        self._roots = {Added: [], Cancelled: [], Replaced: []}
        self._fills = []
        self._quotes = []

    def _write_staged(self) -> int:
        """Insert every staged Arrow table in one transaction; return the rows inserted."""
        if not self._staged:
            return 0
        by_sql: dict[str, list[pa.Table]] = {}
        for sql, table in self._staged:
            by_sql.setdefault(sql, []).append(table)
        con = self._con
        rows = 0
        con.execute("BEGIN TRANSACTION")
        try:
            for sql, tables in by_sql.items():
                table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
                con.register("_lob_batch", table)
                try:
                    con.execute(sql)
                finally:
                    con.unregister("_lob_batch")
                rows += table.num_rows
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self._staged = []
        self._staged_rows = 0
        self.rows_written += rows
        return rows

    def insert_trades(self, table: pa.Table) -> int:
        """Append a ready Arrow table of trade rows (the ``trades`` columns, any session).

        The bulk path for tools that already hold trades in columns (imports,
        benchmarks, the simulator's fast mode); nothing else is derived.
        """
        with self._lock:
            table = table.select([name for name, _ in TABLES["trades"]]).cast(_SCHEMAS["trades"])
            self._con.register("_lob_batch", table)
            try:
                self._con.execute("INSERT INTO trades SELECT * FROM _lob_batch")
            finally:
                self._con.unregister("_lob_batch")
            self.rows_written += table.num_rows
            return table.num_rows

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the same database, for queries from another thread."""
        with self._lock:
            return self._con.cursor()

    def close(self) -> None:
        """Flush and close the database (idempotent)."""
        with self._lock:
            if self._closed:
                return
            try:
                self._flush()
            finally:
                self._closed = True
                self._con.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_TRADE_EXTRA = (
    pa.field("resting_oid", pa.int64()),
    pa.field("resting_left", pa.int64()),
    pa.field("level_qty", pa.int64()),
    pa.field("level_orders", pa.int64()),
)
"""The fields of a ``Trade`` event after those the ``trades`` table keeps."""


def _table(
    name: str, session: int, rows: Sequence[tuple[Any, ...]], extra: Sequence[pa.Field] = ()
) -> pa.Table:
    """Row tuples -> an Arrow table of ``name``, with ``session`` as its first column.

    pyarrow converts the tuples straight into a struct array (one pass in C,
    about half the time of transposing in Python first). Enum members (Side,
    TimeInForce, ...) are str subclasses: Arrow stores their text.
    """
    schema = _SCHEMAS[name]
    fields = list(schema)[1:]
    struct = pa.array(rows, type=pa.struct([*fields, *extra]))
    arrays = [pa.repeat(pa.scalar(session, pa.int32()), len(rows))]
    arrays += [struct.field(i) for i in range(len(fields))]
    return pa.Table.from_arrays(arrays, schema=schema)


_STRINGS = frozenset(
    {"symbol", "account", "id", "side", "reason", "priority", "order_type", "tif", "smp"}
)
_BOOLS = frozenset({"resting", "post_only", "in_book"})


def _struct(fields: Sequence[str]) -> pa.StructType:
    return pa.struct(
        [
            pa.field(
                name,
                pa.string() if name in _STRINGS else pa.bool_() if name in _BOOLS else pa.int64(),
            )
            for name in fields
        ]
    )


_RAW_TYPES = {kind: _struct(kind._fields) for kind in (Added, Cancelled, Replaced)}

_FILL_FIELDS = ("seq", "ts", "root", "oid", "price", "qty", "leaves", "reason", "trade_id")
_FILL_TYPE = _struct(_FILL_FIELDS)


def _raw_table(kind: type, events: list[Any], roots: list[int], session: int) -> pa.Table:
    """Events of one kind as they are, plus the oid each order was accepted under."""
    table = pa.Table.from_struct_array(pa.array(events, type=_RAW_TYPES[kind]))
    table = table.append_column("root", pa.array(roots, pa.int64()))
    return table.append_column("session", pa.repeat(pa.scalar(session, pa.int32()), len(roots)))


def _raw_rows(fields: Sequence[str], rows: list[tuple[Any, ...]], session: int) -> pa.Table:
    table = pa.Table.from_struct_array(pa.array(rows, type=_FILL_TYPE))
    return table.append_column("session", pa.repeat(pa.scalar(session, pa.int32()), len(rows)))


_EVENT_ROW = (
    "INSERT INTO order_events SELECT session, seq, ts, {order_oid}, oid, '{event}', price, qty,"
    " {leaves}, {reason}, {trade_id}, {old_price}, {old_qty} FROM _lob_batch"
)
_ORDER_EVENTS_FROM = {
    "accepted": _EVENT_ROW.format(
        order_oid="oid", event="accepted", leaves="qty", reason="NULL", trade_id="NULL",
        old_price="NULL", old_qty="NULL",
    ),
    "added": _EVENT_ROW.format(
        order_oid="root", event="added", leaves="qty", reason="NULL", trade_id="NULL",
        old_price="NULL", old_qty="NULL",
    ),
    "cancelled": _EVENT_ROW.format(
        order_oid="root", event="cancelled", leaves="0", reason="reason", trade_id="NULL",
        old_price="NULL", old_qty="NULL",
    ),
    "replaced": _EVENT_ROW.format(
        order_oid="root", event="replaced", leaves="qty", reason="priority", trade_id="NULL",
        old_price="old_price", old_qty="old_qty",
    ),
    "fill": _EVENT_ROW.format(
        order_oid="root", event="fill", leaves="leaves", reason="reason", trade_id="trade_id",
        old_price="NULL", old_qty="NULL",
    ),
}  # fmt: skip
"""How each kind of buffered input becomes ``order_events`` rows."""


class BackgroundHistoryWriter:
    """A ``HistoryWriter`` on its own thread, fed without locks from the matching thread.

    ``submit(events)`` is one ``deque.append`` (atomic, no lock), and a wake-up
    of the writer thread when ``wake_at`` lists wait: the thread takes events
    while they are young (see ``HistoryWriter._stage`` for why that matters),
    and it flushes when ``interval`` seconds pass without a wake-up or
    ``max_lag`` seconds after its last flush, so the file trails by about
    ``interval`` when the load is light and ``max_lag`` when it is not. When
    ``max_pending`` lists wait, ``submit`` blocks until the thread has caught
    up: history is never dropped, and a writer that falls behind slows its
    producer instead of growing without bound. An error in the thread is
    raised again by a later ``submit`` or by ``close``.

    In CPython the writer's own work (Python objects into Arrow columns,
    top-of-book tracking) holds the GIL, so on a saturated matching thread it
    still takes CPU time from matching; docs/benchmarks.md has the figures.
    """

    def __init__(
        self,
        writer: HistoryWriter,
        *,
        max_pending: int = 200_000,
        wake_at: int = 256,
        interval: float = 0.05,
        max_lag: float = 1.0,
    ) -> None:
        self.writer = writer
        self._pending: deque[list[Event]] = deque()
        self._max = max_pending
        self._wake_at = wake_at
        self._interval = interval
        self._max_lag = max_lag
        self._wake = threading.Event()
        self._drained = threading.Event()
        self._stop = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lob-history", daemon=True)
        self._thread.start()

    def submit(self, events: list[Event]) -> None:
        """Hand one list of events to the history (blocks only when ``max_pending`` wait)."""
        pending = self._pending
        pending.append(events)
        if len(pending) >= self._wake_at:
            if self._error is not None:
                raise RuntimeError("the history writer failed") from self._error
            wake = self._wake
            if not wake.is_set():
                wake.set()
            while len(pending) >= self._max and self._error is None and self._thread.is_alive():
                self._drained.clear()
                wake.set()
                self._drained.wait(self._interval)

    def _run(self) -> None:
        pending = self._pending
        popleft = pending.popleft
        writer = self.writer
        wake = self._wake
        last_flush = time.monotonic()
        try:
            while True:
                woken = wake.wait(self._interval)
                wake.clear()
                stop = self._stop
                for _ in range(len(pending)):
                    writer.write_events(popleft())
                self._drained.set()
                if stop:
                    writer.flush()
                    return
                now = time.monotonic()
                if not woken or now - last_flush >= self._max_lag:
                    writer.flush()  # a quiet spell, or the file is max_lag behind
                    last_flush = now
        except BaseException as exc:  # handed to the producer
            self._error = exc
            self._drained.set()

    def close(self) -> None:
        """Write everything submitted, stop the thread and close the writer."""
        self._stop = True
        self._wake.set()
        self._thread.join()
        self.writer.close()
        if self._error is not None:
            raise RuntimeError("the history writer failed") from self._error

    def __enter__(self) -> BackgroundHistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
