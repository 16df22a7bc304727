"""The history writer: a real engine's events in, rows that plain duckdb and polars can read."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from lob.engine import MatchingEngine, Side, Trade
from lob.engine.events import Event
from lob.engine.replay import replay_events, session_open_ns
from lob.store.history import BackgroundHistoryWriter, HistoryWriter

OPEN = session_open_ns("2026-01-02")
SYMBOLS = ("AAPL", "MSFT")


def random_commands(seed: int, count: int) -> list[str]:
    """A seeded stream of new, cancel and replace commands around $100, as JSON lines."""
    rng = random.Random(seed)
    live: list[tuple[str, str]] = []
    lines = []
    for i in range(count):
        roll = rng.random()
        if live and roll < 0.15:
            account, id = live.pop(rng.randrange(len(live)))
            lines.append({"op": "cancel", "account": account, "id": id})
        elif live and roll < 0.3:
            account, id = rng.choice(live)
            if rng.random() < 0.5:
                change: dict[str, Any] = {"price": f"{100 + rng.randint(-5, 5) / 100:.2f}"}
            else:
                change = {"qty": rng.randint(1, 8) * 100}
            lines.append({"op": "replace", "account": account, "id": id, **change})
        else:
            account, id = f"T{rng.randint(1, 4)}", f"o{i}"
            order: dict[str, Any] = {
                "op": "new",
                "account": account,
                "id": id,
                "symbol": rng.choice(SYMBOLS),
                "side": rng.choice(["buy", "sell"]),
                "qty": rng.randint(1, 10) * 100,
                "tif": rng.choice(["day", "day", "gtc", "ioc"]),
            }
            if rng.random() < 0.05:
                order["type"] = "market"
                order["tif"] = "ioc"
            else:
                order["price"] = f"{100 + rng.randint(-6, 6) / 100:.2f}"
            if order["tif"] != "ioc":
                live.append((account, id))
            lines.append(order)
    return [json.dumps(line) for line in lines]


def record(path: Path, seed: int = 1, count: int = 1500, batch_rows: int = 500) -> list[Event]:
    """Replay a random session into ``path``; return every event the engine emitted."""
    events: list[Event] = []
    with HistoryWriter(path, source="test", batch_rows=batch_rows) as writer:

        def on_events(batch: list[Event]) -> None:
            events.extend(batch)
            writer.write_events(batch)

        for _ in replay_events(random_commands(seed, count), OPEN, MatchingEngine(), on_events):
            pass
    return events


def test_writer_replayed_session_trades_equal_engine_trades(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    events = record(path)
    expected = [tuple(e[:13]) for e in events if type(e) is Trade]
    assert len(expected) > 100
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute(
        "SELECT seq, ts, symbol, trade_id, price, qty, aggressor, buy_account, buy_id, buy_oid,"
        " sell_account, sell_id, sell_oid FROM trades ORDER BY seq"
    ).fetchall()
    assert rows == [tuple(str(v) if isinstance(v, Side) else v for v in t) for t in expected]
    assert con.execute("SELECT DISTINCT session FROM trades").fetchall() == [(1,)]


def test_writer_file_is_readable_by_polars_with_decimal_prices(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    events = record(path, seed=2, count=400)
    trades = [e for e in events if type(e) is Trade]
    con = duckdb.connect(str(path), read_only=True)
    frame = pl.read_database("SELECT * FROM trades_dec ORDER BY seq", connection=con)
    assert frame.height == len(trades)
    assert frame.schema["price"] == pl.Decimal(18, 4)
    first = trades[0]
    assert str(frame["price"][0]) == f"{first.price / 10_000:.4f}"
    assert frame["notional"][0] * 10_000 == first.price * first.qty


def test_writer_orders_table_holds_every_accepted_order(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    events = record(path, seed=3)
    accepted = [e for e in events if e.TYPE == "accepted"]
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("SELECT oid, account, id, symbol, side, qty FROM orders ORDER BY oid")
    assert rows.fetchall() == [
        (e.oid, e.account, e.id, e.symbol, str(e.side), e.qty) for e in accepted
    ]


def test_writer_order_status_matches_engine_open_orders(tmp_path: Path) -> None:
    """Every order the engine still holds is open/partially filled with the same open quantity."""
    path = tmp_path / "h.duckdb"
    engine = MatchingEngine()
    with HistoryWriter(path) as writer:
        for _ in replay_events(random_commands(4, 1500), OPEN, engine, writer.write_events):
            pass
    con = duckdb.connect(str(path), read_only=True)
    live = {
        (o.account, o.id): o.qty
        for account in ("T1", "T2", "T3", "T4")
        for o in engine.open_orders(account)
    }
    rows = con.execute(
        "SELECT account, id, leaves, status FROM order_status"
        " WHERE status IN ('open', 'partially_filled')"
    ).fetchall()
    assert {(a, i): leaves for a, i, leaves, _ in rows} == live
    done = con.execute(
        "SELECT count(*) FROM order_status WHERE status IN ('filled', 'cancelled') AND leaves <> 0"
    ).fetchone()
    assert done == (0,)


def test_writer_replace_that_loses_priority_keeps_the_order_key(tmp_path: Path) -> None:
    engine = MatchingEngine()
    events: list[Event] = []
    events += engine.new_order("A", "a1", "XYZ", Side.SELL, 100, 1_000_000, ts=1)
    events += engine.replace("A", "a1", ts=2, price=1_010_000)
    events += engine.new_order("B", "b1", "XYZ", Side.BUY, 40, 1_010_000, ts=3)
    with HistoryWriter(tmp_path / "h.duckdb") as writer:
        writer.write_events(events)
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT order_oid, oid, event, price, qty, leaves, reason FROM order_events"
        " WHERE order_oid IN (SELECT oid FROM orders WHERE account = 'A') ORDER BY seq"
    ).fetchall()
    assert rows == [
        (1, 1, "accepted", 1_000_000, 100, 100, None),
        (1, 1, "added", 1_000_000, 100, 100, None),
        (1, 2, "replaced", 1_010_000, 100, 100, "lost"),
        (1, 2, "added", 1_010_000, 100, 100, None),
        (1, 2, "fill", 1_010_000, 40, 60, "maker"),
    ]
    status = con.execute(
        "SELECT oid, current_oid, price, filled_qty, leaves, status FROM order_status"
        " WHERE account = 'A'"
    ).fetchall()
    assert status == [(1, 2, 1_010_000, 40, 60, "partially_filled")]


def test_writer_expired_and_cancelled_orders_get_their_status(tmp_path: Path) -> None:
    engine = MatchingEngine()
    events: list[Event] = []
    events += engine.new_order("A", "a1", "XYZ", Side.BUY, 100, 1_000_000, ts=1)
    events += engine.new_order("A", "a2", "XYZ", Side.BUY, 100, 990_000, ts=2)
    events += engine.cancel("A", "a2", ts=3)
    events += engine.new_order("B", "b1", "XYZ", Side.SELL, 100, 1_000_000, ts=4)
    events += engine.new_order("A", "a3", "XYZ", Side.BUY, 50, 980_000, ts=5)
    events += engine.expire(ts=6)
    with HistoryWriter(tmp_path / "h.duckdb") as writer:
        writer.write_events(events)
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    status = dict(con.execute("SELECT id, status FROM order_status").fetchall())
    assert status == {"a1": "filled", "a2": "cancelled", "b1": "filled", "a3": "expired"}


def top_of_book(engine: MatchingEngine, symbol: str) -> tuple[Any, ...]:
    snap = engine.l2_snapshot(symbol, 1)
    bid = (snap.bids[0].price, snap.bids[0].qty) if snap.bids else (None, 0)
    ask = (snap.asks[0].price, snap.asks[0].qty) if snap.asks else (None, 0)
    return (*bid, *ask)


def test_writer_quotes_track_the_engine_top_of_book_after_every_command(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    engine = MatchingEngine()
    tops: dict[int, tuple[str, tuple[Any, ...]]] = {}
    with HistoryWriter(path, batch_rows=300) as writer:
        for events in replay_events(random_commands(5, 2000), OPEN, engine, writer.write_events):
            changed = {e.symbol for e in events if e.TYPE != "rejected"}
            for symbol in changed:
                tops[max(e.seq for e in events)] = (symbol, top_of_book(engine, symbol))
    con = duckdb.connect(str(path), read_only=True)
    quotes = con.execute(
        "SELECT seq, symbol, bid_price, bid_qty, ask_price, ask_qty FROM quotes ORDER BY seq"
    ).fetchall()
    assert len(quotes) > 500
    # The last quote row at or before each command's last event is the engine's top then.
    checked = 0
    index = 0
    last: dict[str, tuple[Any, ...]] = {}
    for seq in sorted(tops):
        while index < len(quotes) and quotes[index][0] <= seq:
            last[quotes[index][1]] = tuple(quotes[index][2:])
            index += 1
        symbol, top = tops[seq]
        assert last.get(symbol, (None, 0, None, 0)) == top
        checked += 1
    assert checked > 1000


def test_writer_quotes_follow_a_sweep_through_several_levels() -> None:
    engine = MatchingEngine()
    events: list[Event] = []
    for i, price in enumerate((1_000_000, 1_000_100, 1_000_200)):
        events += engine.new_order("S", f"s{i}", "XYZ", Side.SELL, 100, price, ts=i)
    events += engine.new_order("B", "b", "XYZ", Side.BUY, 250, 1_000_200, ts=9)
    writer = HistoryWriter(":memory:")
    writer.write_events(events)
    writer.flush()
    rows = (
        writer.reader()
        .execute("SELECT ts, bid_price, bid_qty, ask_price, ask_qty FROM quotes ORDER BY seq")
        .fetchall()
    )
    assert rows == [
        (0, None, 0, 1_000_000, 100),
        (9, None, 0, 1_000_100, 100),
        (9, None, 0, 1_000_200, 100),
        (9, None, 0, 1_000_200, 50),
    ]


def test_writer_seeded_book_starts_quotes_from_the_snapshot() -> None:
    writer = HistoryWriter(":memory:")
    writer.seed_book("XYZ", bids=[(990_000, 300)], asks=[(1_010_000, 200)])
    engine = MatchingEngine()
    engine.new_order("S", "s0", "XYZ", Side.SELL, 200, 1_010_000, ts=0)
    engine.new_order("B", "b0", "XYZ", Side.BUY, 300, 990_000, ts=0)
    writer.write_events(engine.new_order("B", "b1", "XYZ", Side.BUY, 50, 1_000_000, ts=1))
    writer.flush()
    rows = writer.reader().execute("SELECT bid_price, bid_qty, ask_price, ask_qty FROM quotes")
    assert rows.fetchall() == [(1_000_000, 50, 1_010_000, 200)]


def test_writer_flushes_by_itself_when_a_batch_is_full(tmp_path: Path) -> None:
    engine = MatchingEngine()
    # Each resting order is 2 events (accepted, added): 4 wait, the 5th fills the batch.
    writer = HistoryWriter(tmp_path / "h.duckdb", batch_rows=10)
    for i in range(4):
        writer.write_events(engine.new_order("A", f"a{i}", "XYZ", Side.SELL, 10, 1_000_000, ts=i))
    assert writer.rows_written == 0
    writer.write_events(engine.new_order("A", "a9", "XYZ", Side.SELL, 10, 1_000_000, ts=9))
    assert writer.rows_written > 0
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write_events([])


def test_writer_second_run_on_a_file_is_a_new_session(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    record(path, seed=6, count=200)
    record(path, seed=6, count=200)
    con = duckdb.connect(str(path), read_only=True)
    sessions = con.execute("SELECT session, source FROM sessions ORDER BY session").fetchall()
    assert sessions == [(1, "test"), (2, "test")]
    counts = con.execute("SELECT session, count(*) FROM trades GROUP BY 1 ORDER BY 1").fetchall()
    assert counts[0][1] == counts[1][1] > 0


def test_writer_insert_trades_appends_an_arrow_table(tmp_path: Path) -> None:
    table = pa.table(
        {
            "session": [7, 7],
            "seq": [1, 2],
            "ts": [10, 20],
            "symbol": ["XYZ", "XYZ"],
            "trade_id": [1, 2],
            "price": [1_000_000, 1_000_100],
            "qty": [100, 5],
            "aggressor": ["buy", "sell"],
            "buy_account": ["B", "B"],
            "buy_id": ["b", "b"],
            "buy_oid": [2, 2],
            "sell_account": ["S", "S2"],
            "sell_id": ["s", "s2"],
            "sell_oid": [1, 3],
        }
    )
    with HistoryWriter(tmp_path / "h.duckdb") as writer:
        assert writer.insert_trades(table) == 2
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    notional = con.execute("SELECT sum(price * qty) FROM trades").fetchone()
    assert notional == (1_000_000 * 100 + 1_000_100 * 5,)


def test_background_writer_writes_everything_by_close(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    engine = MatchingEngine()
    trades = 0
    with BackgroundHistoryWriter(HistoryWriter(path), max_pending=4) as background:
        for events in replay_events(random_commands(7, 800), OPEN, engine):
            trades += sum(1 for e in events if type(e) is Trade)
            background.submit(events)
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM trades").fetchone() == (trades,)


def test_background_writer_reports_a_failure_to_the_producer(tmp_path: Path) -> None:
    background = BackgroundHistoryWriter(HistoryWriter(tmp_path / "h.duckdb"))
    background.submit([object()])  # type: ignore[list-item]
    with pytest.raises(RuntimeError, match="history writer failed"):
        background.close()


def test_background_writer_makes_the_file_current_when_the_load_is_light(tmp_path: Path) -> None:
    engine = MatchingEngine()
    writer = HistoryWriter(tmp_path / "h.duckdb")
    reader = writer.reader()
    with BackgroundHistoryWriter(writer, interval=0.02) as background:
        background.submit(engine.new_order("A", "a1", "XYZ", Side.SELL, 100, 1_000_000, ts=1))
        background.submit(engine.new_order("B", "b1", "XYZ", Side.BUY, 100, 1_000_000, ts=2))
        for _ in range(250):  # up to 5 s on a busy machine; usually one interval
            if reader.execute("SELECT count(*) FROM trades").fetchall() == [(1,)]:
                break
            threading.Event().wait(0.02)
        else:
            pytest.fail("the trade never reached the file while the writer ran")


def test_background_writer_flushes_under_steady_load_within_max_lag(tmp_path: Path) -> None:
    engine = MatchingEngine()
    writer = HistoryWriter(tmp_path / "h.duckdb")
    reader = writer.reader()
    # Every submit wakes the thread, so it never sees a quiet spell: only max_lag flushes.
    with BackgroundHistoryWriter(writer, wake_at=1, interval=60.0, max_lag=0.05) as background:
        background.submit(engine.new_order("A", "a1", "XYZ", Side.SELL, 100, 1_000_000, ts=1))
        background.submit(engine.new_order("B", "b1", "XYZ", Side.BUY, 100, 1_000_000, ts=2))
        for i in range(250):
            background.submit(engine.new_order("C", f"c{i}", "XYZ", Side.BUY, 1, 990_000, ts=3))
            if reader.execute("SELECT count(*) FROM trades").fetchall() == [(1,)]:
                break
            threading.Event().wait(0.02)
        else:
            pytest.fail("no flush while the load went on")
