"""The WebSocket gateway over real sockets: order entry, subscriptions, backpressure, resume."""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.frames import Opcode

from lob.client.rest import LobApiError, RestClient
from lob.client.ws import WsClient
from lob.engine.commands import CancelOrder, NewOrder
from lob.engine.types import Side
from lob.feed.conflation import ConflatedBatch
from lob.feed.deltas import BookSnapshot, LevelDelta, TopOfBook, TradeDelta
from lob.feed.l2_builder import L2BookBuilder
from lob.feed.wire import decode_msgpack_all
from lob.server.accounts import Accounts
from lob.server.auth import KeyStore
from lob.server.config import Limits
from lob.server.latency import BOUNDS_NS, parse_buckets, quantile
from lob.server.server import ExchangeServer
from lob.store.journal import Journal
from tests.server.rawws import RawWs
from tests.server.support import ALICE, BOB, KEYS, config_for, run, running


def server_levels(server: ExchangeServer, symbol: str) -> tuple[list[Any], list[Any]]:
    ex = server.exchange
    assert ex is not None
    snap = ex.engine.l2_snapshot(symbol)
    return list(snap.bids), list(snap.asks)


def builder_levels(book: L2BookBuilder) -> tuple[list[Any], list[Any]]:
    return book.bids(), book.asks()


async def until(condition: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def last_seq(ws: RawWs, symbol: str) -> int | None:
    """The per-symbol seq the raw client's book stream has reached."""
    seq = None
    for kind, m in ws.messages():
        if kind == "market" and m.symbol == symbol:
            seq = m.last_seq if type(m) is ConflatedBatch else m.seq
    return seq


async def caught_up(ws: RawWs, server: ExchangeServer, symbol: str) -> None:
    ex = server.exchange
    assert ex is not None
    target = ex.market.seq(symbol)
    await ws.read_until(lambda w: last_seq(w, symbol) == target, timeout=20)


def churn(server: ExchangeServer, rng: random.Random, n: int, symbol: str = "AAPL") -> None:
    """``n`` random orders and cancels straight into the sequencer (fsync off: applied now)."""
    ex = server.exchange
    assert ex is not None
    live: list[tuple[str, str]] = getattr(server, "_churn_live", [])
    server._churn_live = live  # type: ignore[attr-defined]
    for _ in range(n):
        if live and rng.random() < 0.3:
            account, id = live.pop(rng.randrange(len(live)))
            ex.sequencer.enqueue(CancelOrder(account, id))
            continue
        account = rng.choice(["alice", "bob"])
        id = f"c{ex.engine.seq}-{rng.randrange(10**9)}"
        side = rng.choice([Side.BUY, Side.SELL])
        ticks = rng.randint(-30, 30)
        price = 2_275_000 + ticks * 100 + (-1500 if side is Side.BUY else 1500)
        ex.sequencer.enqueue(NewOrder(account, id, symbol, side, rng.randint(1, 9) * 10, price))
        live.append((account, id))


def test_ws_order_entry_acks_and_private_executions(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path) as server,
            WsClient(server.url, ALICE) as alice,
            RestClient(server.url, BOB) as bob,
        ):
            assert alice.account == "alice"
            await alice.subscribe_executions()
            ack = await alice.place("AAPL", "sell", 100, "227.50", id="w1")
            assert ack["type"] == "ack" and ack["order"]["status"] == "open"
            ack = await alice.replace("w1", qty=80)
            assert ack["order"]["leaves_qty"] == 80
            await bob.place("AAPL", "buy", 30, "227.50", id="hit")
            seen: list[dict[str, Any]] = []
            while not any(e["type"] == "fill" for e in seen):
                kind, _, payload = await asyncio.wait_for(alice.updates.get(), 5)
                if kind == "executions":
                    seen.extend(payload)
            fill = next(e for e in seen if e["type"] == "fill")
            assert (fill["id"], fill["qty"], fill["liquidity"]) == ("w1", 30, "maker")
            assert all("account" not in e or e["account"] == "alice" for e in seen)
            ack = await alice.cancel("w1")
            assert ack["order"]["status"] == "cancelled" and ack["order"]["filled_qty"] == 30
            with pytest.raises(LobApiError) as err:
                await alice.cancel("hit")  # bob's order: invisible to alice
            assert err.value.code == "unknown_order"
            with pytest.raises(LobApiError) as err:
                await alice.place("AAPL", "buy", 1, "227.001")
            assert err.value.code == "invalid_price"

    run(body)


def test_ws_batch_answers_each_order_in_place_and_refused_ones_change_nothing(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, WsClient(server.url, ALICE) as alice:
            ex = server.exchange
            assert ex is not None
            results = await alice.batch(
                [
                    {"op": "new", "id": "b1", "symbol": "AAPL", "side": "buy", "qty": 100,
                     "price": "227.00"},
                    {"op": "new", "id": "b2", "symbol": "AAPL", "side": "buy", "qty": -5,
                     "price": "227.00"},
                    {"op": "new", "id": "b3", "symbol": "ZZZZ", "side": "buy", "qty": 1,
                     "price": "1.00"},
                    "not an order",
                    {"op": "jump"},
                    {"op": "new", "id": "b4", "symbol": "AAPL", "side": "sell", "qty": 40,
                     "price": "228.00"},
                    {"op": "replace", "id": "b1", "qty": 50},
                    {"op": "cancel", "id": "nope"},
                    {"op": "cancel", "id": "b1"},
                ]
            )  # fmt: skip
            kinds = [(r["type"], r.get("error", {}).get("code")) for r in results]
            assert kinds == [
                ("ack", None),
                ("error", "invalid_quantity"),
                ("error", "unknown_symbol"),
                ("error", "malformed"),
                ("error", "invalid_op"),
                ("ack", None),
                ("ack", None),
                ("error", "unknown_order"),
                ("ack", None),
            ]
            assert results[0]["order"]["id"] == "b1"
            assert results[5]["order"]["status"] == "open"
            assert results[6]["order"]["leaves_qty"] == 50
            assert results[8]["order"]["status"] == "cancelled"
            seqs = [r["seq"] for r in results if r["type"] == "ack"]
            assert seqs == sorted(seqs) and len(set(seqs)) == 4  # sequenced in the order sent
            assert ex.accounts.order("alice", "b2") is None
            assert ex.accounts.order("alice", "b3") is None
            book = ex.engine.l2_snapshot("AAPL", 50)
            assert all(level.price != 2_270_000 for level in book.bids)  # b1 is gone
            assert any(level.price == 2_280_000 and level.qty >= 40 for level in book.asks)
            ex.engine.check_integrity()

    run(body)


def test_ws_batch_answer_is_told_apart_from_market_data_in_json(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path) as server,
            WsClient(server.url, ALICE, encoding="json") as alice,
        ):
            await alice.subscribe_book("AAPL")
            order = {"op": "new", "symbol": "AAPL", "side": "buy", "qty": 5}
            results = await alice.batch([{**order, "price": "226.00"}, {**order, "qty": 0}])
            assert [r["type"] for r in results] == ["ack", "error"]
            assert results[1]["error"]["code"] == "invalid_quantity"

    run(body)


def test_ws_batch_limits_are_checked_before_anything_is_sequenced(tmp_path: Path) -> None:
    limits = Limits(ws_rate=1.0, ws_burst=5)

    async def body() -> None:
        async with running(tmp_path, limits=limits) as server, WsClient(server.url, ALICE) as c:
            ex = server.exchange
            assert ex is not None
            seq = ex.engine.seq
            order = {"op": "new", "symbol": "AAPL", "side": "buy", "qty": 1, "price": "200.00"}
            for bad in ([], [order] * 1_001, "x"):
                with pytest.raises(LobApiError) as err:
                    await c.request({"op": "batch", "orders": bad})
                assert err.value.code == "invalid_field"
            with pytest.raises(LobApiError) as err:
                await c.batch([order] * 10)  # 10 orders > burst of 5
            assert err.value.code == "rate_limited"
            assert ex.engine.seq == seq

    run(body)


def test_ws_order_entry_needs_a_key(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, WsClient(server.url) as anon:
            with pytest.raises(LobApiError) as err:
                await anon.place("AAPL", "buy", 1, "227.00")
            assert err.value.code == "unauthorized"
            with pytest.raises(LobApiError) as err:
                await anon.request({"op": "auth", "key": "wrong-key-123"})
            assert err.value.code == "unauthorized"
            await anon.subscribe_book("AAPL")  # market data is public
            ex = server.exchange
            assert ex is not None and ex.engine.seq == 0

    run(body)


@pytest.mark.parametrize("encoding", ["msgpack", "json"])
def test_ws_book_subscription_is_snapshot_then_contiguous_deltas(
    tmp_path: Path, encoding: str
) -> None:
    async def body() -> None:
        async with running(tmp_path) as server:
            rng = random.Random(3)
            churn(server, rng, 40)
            ws = await RawWs.connect(server.port, f"encoding={encoding}")
            ws.send({"op": "subscribe", "symbol": "AAPL", "channel": "book", "req": 1})
            await caught_up(ws, server, "AAPL")
            for _ in range(20):
                churn(server, rng, 10)
                await asyncio.sleep(0.005)
            await caught_up(ws, server, "AAPL")
            await ws.close()
            messages = [m for kind, m in ws.messages() if kind == "market"]
            controls = [m for kind, m in ws.messages() if kind == "control"]
            assert controls[0]["type"] == "subscribed" and controls[0]["req"] == 1
            assert type(messages[0]) is BookSnapshot and messages[0].depth is None
            seqs = [m.seq for m in messages[1:]]
            assert seqs == list(range(messages[0].seq + 1, messages[0].seq + 1 + len(seqs)))
            assert {type(m) for m in messages[1:]} <= {LevelDelta, TradeDelta}
            book = L2BookBuilder("AAPL")
            for m in messages:
                book.apply_message(m)
            assert builder_levels(book) == server_levels(server, "AAPL")

    run(body)


def test_ws_depth_top_and_trades_channels(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, WsClient(server.url, encoding="json") as ws:
            await ws.subscribe_book("MSFT", depth=2)
            await ws.subscribe_top("MSFT")
            await ws.subscribe_trades("MSFT")
            async with RestClient(server.url, ALICE) as alice, RestClient(server.url, BOB) as bob:
                for price in ("418.00", "417.90", "417.80"):
                    await alice.place("MSFT", "buy", 100, price)
                await bob.place("MSFT", "sell", 150, "417.90")
            await until(lambda: "MSFT" in ws.tops and ws.tops["MSFT"].bid_qty == 50)
            top = ws.tops["MSFT"]
            assert (top.bid_price, top.bid_qty, top.ask_price) == (4_179_000, 50, None)
            await until(lambda: ws.depth_books["MSFT"].bids[0].qty == 50)
            depth = ws.depth_books["MSFT"]
            assert [(lv.price, lv.qty) for lv in depth.bids] == [(4_179_000, 50), (4_178_000, 100)]
            trades: list[Any] = []
            while not ws.updates.empty():
                kind, _, payload = ws.updates.get_nowait()
                if kind == "trades":
                    trades.extend(payload)
            assert [(t.qty, t.price) for t in trades] == [(100, 4_180_000), (50, 4_179_000)]

    run(body)


def test_ws_slow_client_is_conflated_while_fast_client_is_not(tmp_path: Path) -> None:
    limits = Limits(ws_queue=16, ws_send_buffer=4096, ws_slow_seconds=60, ws_conflate_levels=10_000)

    async def body() -> None:
        async with running(tmp_path, limits=limits) as server:
            rng = random.Random(11)
            churn(server, rng, 50)
            slow = await RawWs.connect(server.port, "encoding=json", rcvbuf=2048)
            slow.send({"op": "subscribe", "symbol": "AAPL", "channel": "book"})
            async with WsClient(server.url) as fast:
                await fast.subscribe_book("AAPL")
                for _ in range(400):
                    churn(server, rng, 8)
                    await asyncio.sleep(0.001)
                ex = server.exchange
                assert ex is not None
                want = server_levels(server, "AAPL")
                await until(lambda: builder_levels(fast.books["AAPL"]) == want)
                assert fast.conflated == 0 and fast.resyncs == 0
                await caught_up(slow, server, "AAPL")
            await slow.close()
            market = [m for kind, m in slow.messages() if kind == "market"]
            assert any(type(m) is ConflatedBatch for m in market)
            book = L2BookBuilder("AAPL")
            for m in market:
                book.apply_message(m)  # raises on any gap: none allowed
            assert builder_levels(book) == want
            assert server.gateway is not None
            assert server.gateway.counters["ws_conflated_total"] >= 1

    run(body)


def _slow_client_is_resynced(tmp_path: Path, limits: Limits, ring_capacity: int, seed: int) -> None:
    """A client that reads slowly while the book churns gets at least one resync snapshot,
    and the messages it got still rebuild the server's book without a gap."""

    async def body() -> None:
        async with running(tmp_path, limits=limits, ring_capacity=ring_capacity) as server:
            rng = random.Random(seed)
            slow = await RawWs.connect(server.port, "encoding=json", rcvbuf=2048)
            slow.send({"op": "subscribe", "symbol": "AAPL", "channel": "book"})
            await caught_up(slow, server, "AAPL")
            for _ in range(300):
                churn(server, rng, 5)
                await asyncio.sleep(0.001)
            want = server_levels(server, "AAPL")
            await caught_up(slow, server, "AAPL")
            await slow.close()
            market = [m for kind, m in slow.messages() if kind == "market"]
            snapshots = [m for m in market if type(m) is BookSnapshot]
            assert len(snapshots) >= 2  # the first one, then at least one resync
            book = L2BookBuilder("AAPL")
            for m in market:
                book.apply_message(m)  # raises on any gap: none allowed
            assert builder_levels(book) == want
            assert server.gateway is not None
            assert server.gateway.counters["ws_resyncs_total"] >= 1

    run(body)


def test_ws_client_far_behind_gets_a_resync_snapshot(tmp_path: Path) -> None:
    limits = Limits(ws_queue=8, ws_send_buffer=4096, ws_slow_seconds=60, ws_conflate_levels=5)
    _slow_client_is_resynced(tmp_path, limits, ring_capacity=4096, seed=5)


def test_ws_client_behind_further_than_the_ring_gets_a_resync_snapshot(tmp_path: Path) -> None:
    limits = Limits(ws_queue=8, ws_send_buffer=4096, ws_slow_seconds=60, ws_conflate_levels=10_000)
    _slow_client_is_resynced(tmp_path, limits, ring_capacity=16, seed=8)


def test_ws_catch_up_of_clients_behind_at_the_same_seq_is_encoded_once(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server:
            market = server.exchange.market  # type: ignore[union-attr]
            since = market.seq("AAPL")
            churn(server, random.Random(3), 20)
            market.flush()
            first = market.catch_up_frame("AAPL", since, "msgpack", 10_000)
            second = market.catch_up_frame("AAPL", since, "msgpack", 10_000)
            assert first is not None and first is second
            frame, seq, resync = first
            assert seq == market.seq("AAPL") and not resync
            (batch,) = decode_msgpack_all(frame)
            assert type(batch) is ConflatedBatch
            assert (batch.first_seq, batch.last_seq) == (since + 1, seq)
            assert market.catch_up_frame("AAPL", seq, "msgpack", 10_000) is None
            churn(server, random.Random(4), 5)
            market.flush()
            third = market.catch_up_frame("AAPL", since, "msgpack", 10_000)
            assert third is not None and third[1] == market.seq("AAPL") > seq
            tiny = market.catch_up_frame("AAPL", since, "msgpack", 1)
            assert tiny is not None and tiny[2]  # more than 1 entry: a snapshot instead

    run(body)


def test_ws_client_that_stays_behind_is_disconnected_with_a_reason(tmp_path: Path) -> None:
    limits = Limits(ws_queue=4, ws_send_buffer=4096, ws_slow_seconds=0.5)

    async def body() -> None:
        async with running(tmp_path, limits=limits) as server, WsClient(server.url) as fast:
            rng = random.Random(9)
            slow = await RawWs.connect(server.port, "encoding=json", rcvbuf=2048)
            slow.send({"op": "subscribe", "symbol": "AAPL", "channel": "book"})
            await fast.subscribe_book("AAPL")
            gateway = server.gateway
            assert gateway is not None
            for _ in range(1200):
                churn(server, rng, 2)
                await asyncio.sleep(0.002)
                if gateway.counters["ws_slow_disconnects_total"]:
                    break
            await until(lambda: gateway.counters["ws_slow_disconnects_total"] == 1, 10)
            await until(lambda: len(gateway.sessions) == 1, 10)
            await slow.read_for(1.0)
            close = slow.close_frame()
            if close is not None:
                assert b"too slow" in close.data
            await slow.close()
            want = server_levels(server, "AAPL")
            await until(lambda: builder_levels(fast.books["AAPL"]) == want)

    run(body)


def test_ws_resume_after_reconnect_from_ring_or_snapshot(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server:
            rng = random.Random(21)
            churn(server, rng, 30)
            ws = WsClient(server.url)
            await ws.connect()
            await ws.subscribe_book("AAPL")
            await until(lambda: builder_levels(ws.books["AAPL"]) == server_levels(server, "AAPL"))
            await ws.close()
            churn(server, rng, 20)  # missed while away: well inside the ring
            ex = server.exchange
            assert ex is not None
            before = ex.market.seq("AAPL")
            raw = await RawWs.connect(server.port)
            raw.send(
                {
                    "op": "subscribe",
                    "symbol": "AAPL",
                    "channel": "book",
                    "resume_from": ws.books["AAPL"].seq,
                }
            )
            await caught_up(raw, server, "AAPL")
            await raw.close()
            market = [m for kind, m in raw.messages() if kind == "market"]
            assert market and all(type(m) is not BookSnapshot for m in market)
            assert market[0].seq == ws.books["AAPL"].seq + 1 and market[-1].seq == before
            await ws.reconnect()
            want = server_levels(server, "AAPL")
            await until(lambda: builder_levels(ws.books["AAPL"]) == want)
            await ws.close()

    run(body)


def test_ws_resume_from_too_old_seq_gets_a_snapshot(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, ring_capacity=64) as server:
            rng = random.Random(2)
            churn(server, rng, 300)  # far more deltas than the ring holds
            ex = server.exchange
            assert ex is not None
            assert ex.market.feed.ring("AAPL").first_seq > 2
            raw = await RawWs.connect(server.port)
            raw.send({"op": "subscribe", "symbol": "AAPL", "channel": "book", "resume_from": 1})
            await caught_up(raw, server, "AAPL")
            await raw.close()
            market = [m for kind, m in raw.messages() if kind == "market"]
            assert type(market[0]) is BookSnapshot and market[0].seq == ex.market.seq("AAPL")

    run(body)


def test_ws_rate_limit_and_frame_size_limit(tmp_path: Path) -> None:
    limits = Limits(ws_rate=1.0, ws_burst=5, max_frame=1024)

    async def body() -> None:
        async with running(tmp_path, limits=limits) as server:
            ws = await RawWs.connect(server.port)
            for i in range(10):
                ws.send({"op": "ping", "req": i})
            await ws.read_until(lambda w: len(w.messages()) >= 10)
            controls = [m for kind, m in ws.messages() if kind == "control"]
            assert sum(c["type"] == "pong" for c in controls) == 5
            assert sum(c.get("error", {}).get("code") == "rate_limited" for c in controls) == 5
            await ws.close()
            big = await RawWs.connect(server.port)
            big.send({"op": "ping", "pad": "x" * 4000})
            await big.read_until(lambda w: w.close_frame() is not None)
            close = big.close_frame()
            assert close is not None and close.data[:2] == (1009).to_bytes(2, "big")
            await big.close()

    run(body)


def test_ws_top_of_book_message_is_current(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as alice:
            await alice.place("PNNY", "buy", 500, "0.4270")
            async with WsClient(server.url) as ws:
                await ws.subscribe_top("PNNY")
                await until(lambda: "PNNY" in ws.tops)
                assert type(ws.tops["PNNY"]) is TopOfBook
                assert (ws.tops["PNNY"].bid_price, ws.tops["PNNY"].bid_qty) == (4270, 500)

    run(body)


def test_ws_shutdown_answers_every_journaled_order(tmp_path: Path) -> None:
    async def body() -> None:
        server = ExchangeServer(config_for(tmp_path, fsync="batch"), KeyStore(list(KEYS)))
        await server.start()
        ws = WsClient(server.url, ALICE)
        try:
            await ws.connect()
            tasks = [
                asyncio.ensure_future(ws.place("AAPL", "buy", 1, "227.00", id=f"s{i}"))
                for i in range(2000)
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            await server.stop()  # while commands are still arriving and committing
            results = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await ws.close()
        journal = Journal.open(tmp_path)
        journaled = {r.command.id for r in journal.recovered}  # type: ignore[union-attr]
        journal.close()
        acked = {r["id"] for r in results if isinstance(r, dict)}
        unanswered = {
            f"s{i}"
            for i, r in enumerate(results)
            if isinstance(r, LobApiError) and r.code == "disconnected"
        }
        assert acked == journaled and journaled
        assert not unanswered & journaled

    run(body)


def test_ws_inputs_of_one_batch_reach_a_subscriber_as_one_frame_that_rebuilds_the_book(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        async with running(tmp_path) as server:
            rng = random.Random(5)
            churn(server, rng, 30)
            ws = await RawWs.connect(server.port, "encoding=msgpack")
            ws.send({"op": "subscribe", "symbol": "AAPL", "channel": "book"})
            await ws.read_for(0.2)
            for _ in range(20):
                churn(server, rng, 12)  # in one turn of the event loop: one batch
                await asyncio.sleep(0.005)
            await caught_up(ws, server, "AAPL")
            await ws.close()
            market = [m for kind, m in ws.messages() if kind == "market"]
            assert type(market[0]) is BookSnapshot
            seqs = [m.seq for m in market[1:]]
            assert len(seqs) > 100
            assert seqs == list(range(market[0].seq + 1, market[0].seq + 1 + len(seqs)))
            frames = [
                decode_msgpack_all(f.data)
                for f in ws.frames
                if f.opcode is Opcode.BINARY and f.data[0] not in (*range(0x80, 0x90), 0xDE, 0xDF)
            ]
            assert len(frames) <= 22  # the snapshot, then one frame per batch of 12 inputs
            assert sum(len(f) > 1 for f in frames) >= 15
            book = L2BookBuilder("AAPL")
            for m in market:
                book.apply_message(m)
            assert builder_levels(book) == server_levels(server, "AAPL")

    run(body)


def test_ws_market_data_of_an_order_arrives_before_its_ack(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, BOB) as bob:
            await bob.place("AAPL", "sell", 100, "228.00")
            ws = await RawWs.connect(server.port, "encoding=json")
            ws.send({"op": "auth", "key": ALICE})
            ws.send({"op": "subscribe", "symbol": "AAPL", "channel": "book"})
            await ws.read_until(lambda w: any(k == "market" for k, _ in w.messages()))
            order = {"op": "new", "symbol": "AAPL", "side": "buy", "qty": 10}
            for i in range(10):
                ws.send({**order, "id": f"a{i}", "price": "227.00", "req": i})
            ws.send({**order, "id": "x", "price": "228.00", "tif": "ioc", "req": 10})

            def reply_at(w: RawWs, req: int) -> int | None:
                for at, (kind, m) in enumerate(w.messages()):
                    if kind == "control" and m.get("req") == req:
                        return at
                return None

            await ws.read_until(lambda w: reply_at(w, 10) is not None)
            await ws.close()
            messages = ws.messages()
            for i in range(10):
                at = reply_at(ws, i)
                assert at is not None and messages[at][1]["type"] == "ack"
                before = [
                    m for kind, m in messages[:at] if type(m) is LevelDelta and m.price == 2_270_000
                ]
                assert len(before) >= i + 1  # its own level change came first
            at = reply_at(ws, 10)
            assert at is not None
            assert any(type(m) is TradeDelta for _, m in messages[:at])

    run(body)


def test_ws_with_a_market_data_interval_acks_go_at_once_and_batches_join(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, md_interval=0.5) as server:
            ws = await RawWs.connect(server.port, "encoding=json")
            ws.send({"op": "auth", "key": ALICE})
            ws.send({"op": "subscribe", "symbol": "AAPL", "channel": "book"})
            await ws.read_until(lambda w: any(k == "market" for k, _ in w.messages()))
            await asyncio.sleep(0.6)  # past the interval since the snapshot's flush
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(5):  # five batches, each acknowledged before the next is sent
                ws.send(
                    {"op": "new", "symbol": "AAPL", "side": "buy", "qty": 10,
                     "price": f"22{i}.00", "id": f"m{i}", "req": i}
                )  # fmt: skip
                await ws.read_until(
                    lambda w, i=i: any(m.get("req") == i for k, m in w.messages() if k == "control")
                )
            acked = loop.time() - start
            frames_before = len(ws.frames)
            await ws.read_until(
                lambda w: sum(type(m) is LevelDelta for _, m in w.messages()) >= 5, timeout=5
            )
            await ws.close()
            assert acked < 0.5  # no ack waited for the market data
            deltas = [m for _, m in ws.messages() if type(m) is LevelDelta]
            assert [d.price for d in deltas] == [2_200_000, 2_210_000, 2_220_000, 2_230_000,
                                                  2_240_000]  # fmt: skip
            seqs = [d.seq for d in deltas]
            assert seqs == list(range(seqs[0], seqs[0] + 5))
            # The first batch went at once (the interval had passed); the other four
            # waited for the interval and left together, as one frame.
            delta_frames = [f for f in ws.frames if bytes(f.data).startswith(b'{"type":"level"')]
            assert len(delta_frames) == 2
            assert delta_frames[1] in ws.frames[frames_before:]  # after the last ack
            assert server.exchange is not None
            assert server.exchange.market.flushes <= 4

    run(body)


def test_ws_market_frames_waiting_for_a_slow_reader_leave_joined_and_contiguous(
    tmp_path: Path,
) -> None:
    limits = Limits(ws_queue=100_000, ws_queue_hard=200_000, ws_send_buffer=4096)

    async def body() -> None:
        async with running(tmp_path, limits=limits) as server:
            rng = random.Random(3)
            churn(server, rng, 30)
            ws = await RawWs.connect(server.port, "encoding=json", rcvbuf=2048)
            ws.send({"op": "subscribe", "symbol": "AAPL", "channel": "book"})
            for _ in range(600):  # the client reads nothing meanwhile
                churn(server, rng, 3)
                await asyncio.sleep(0)
            await caught_up(ws, server, "AAPL")
            await ws.close()
            assert server.gateway is not None
            assert server.gateway.counters["ws_conflated_total"] == 0
            per_frame = [
                len(f.data.splitlines())
                for f in ws.frames
                if f.opcode is Opcode.TEXT and b'"type":"level"' in f.data
            ]
            assert max(per_frame) > 40  # many batches' messages in one frame
            market = [m for kind, m in ws.messages() if kind == "market"]
            seqs = [m.seq for m in market[1:]]
            assert seqs == list(range(market[0].seq + 1, market[0].seq + 1 + len(seqs)))
            book = L2BookBuilder("AAPL")
            for m in market:
                book.apply_message(m)
            assert builder_levels(book) == server_levels(server, "AAPL")

    run(body)


def test_ws_order_ack_latency_is_in_metrics_for_every_sequenced_order(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path) as server,
            WsClient(server.url, ALICE) as alice,
            RestClient(server.url) as public,
        ):
            await alice.place("AAPL", "buy", 100, "227.00", id="l1")  # sequenced: 1
            with pytest.raises(LobApiError):
                await alice.cancel("nope")  # the engine refuses it, after sequencing: 2
            with pytest.raises(LobApiError):
                await alice.place("AAPL", "buy", -5, "227.00")  # refused before: not counted
            order = {"op": "new", "symbol": "AAPL", "side": "sell", "qty": 10}
            results = await alice.batch(
                [{**order, "price": "228.00"}, {**order, "qty": 0}, {**order, "price": "229.00"}]
            )
            assert [r["type"] for r in results] == ["ack", "error", "ack"]  # 4 sequenced
            text = await public.call("GET", "/metrics")
        name = "lob_ws_order_ack_seconds"
        buckets = parse_buckets(text, name)
        assert len(buckets) == len(BOUNDS_NS) + 1
        counts = [buckets[b] for b in sorted(buckets)]
        assert counts == sorted(counts) and counts[-1] == 4
        assert f"{name}_count 4" in text
        p50 = quantile({}, buckets, 0.5)
        assert p50 is not None and 0 < p50 <= quantile({}, buckets, 1.0)  # type: ignore[operator]

    run(body)


class _Transport:
    """A socket's transport that records what each session writes, in order."""

    def __init__(self, name: str, log: list[tuple[str, bytes]]) -> None:
        self.name = name
        self.log = log

    def set_write_buffer_limits(self, high: int) -> None:
        return None

    def get_write_buffer_size(self) -> int:
        return 0

    def writelines(self, chunks: list[bytes]) -> None:
        self.log.append((self.name, b"".join(chunks)))


class _Writer:
    def __init__(self, transport: _Transport) -> None:
        self.transport = transport

    def get_extra_info(self, name: str) -> None:
        return None


def test_ws_answers_are_written_before_market_data_only_sessions() -> None:
    from types import SimpleNamespace

    from websockets.protocol import State
    from websockets.server import ServerProtocol

    from lob.server.marketdata import MarketFrame
    from lob.server.ws import Gateway, Session

    log: list[tuple[str, bytes]] = []
    exchange: Any = SimpleNamespace(reference={}, accounts=Accounts())  # what a Session reads
    gateway = Gateway(exchange, KeyStore([]), Limits())

    def session(name: str) -> Session:
        protocol = ServerProtocol(state=State.OPEN)
        return Session(gateway, protocol, None, _Writer(_Transport(name, log)), "msgpack")  # type: ignore[arg-type]

    subscribers = [session(f"sub{i}") for i in range(3)]
    trader = session("trader")
    update = MarketFrame(b"\x91\x01")  # a batch's market data, as the fan-out queues it

    async def turn() -> None:
        for s in [*subscribers, trader]:  # the fan-out queues market data first...
            s.queue.append(update)
            gateway.kick(s)
        trader.send({"type": "ack", "id": "o1"})  # ...then the batch's ack
        await asyncio.sleep(0)  # the gateway's one send callback for the turn

    run(turn)
    assert [name for name, _ in log] == ["trader", "sub0", "sub1", "sub2"]
    written = log[0][1]  # the trader's own queue still leaves in order: data, then ack
    assert written.index(bytes(update)) < written.index(b"\xa3ack")
    assert all(data.endswith(bytes(update)) for _, data in log[1:])


def _frames(data: bytes) -> list[bytes]:
    """The payloads of unmasked server frames (each shorter than 126 bytes)."""
    payloads = []
    while data:
        assert data[0] == 0x82 and data[1] < 126  # FIN, binary; a 7-bit length
        payloads.append(data[2 : 2 + data[1]])
        data = data[2 + data[1] :]
    return payloads


def test_ws_joins_adjacent_market_data_and_sends_a_snapshot_between_them_alone() -> None:
    """A lagging subscriber's queue mixes market data with a resync snapshot: the market
    data next to each other leave as one frame, the snapshot as its own, in order."""
    from types import SimpleNamespace

    from websockets.protocol import State
    from websockets.server import ServerProtocol

    from lob.server.marketdata import MarketFrame
    from lob.server.ws import Gateway, Session

    log: list[tuple[str, bytes]] = []
    exchange: Any = SimpleNamespace(reference={}, accounts=Accounts())  # what a Session reads
    gateway = Gateway(exchange, KeyStore([]), Limits())
    protocol = ServerProtocol(state=State.OPEN)
    sub = Session(gateway, protocol, None, _Writer(_Transport("sub", log)), "msgpack")  # type: ignore[arg-type]
    a, b, d, e = (MarketFrame(bytes([0x91, i])) for i in range(4))
    snapshot = b"\x81\xa4type\xa8snapshot"  # any answer that is not market data

    async def turn() -> None:
        sub.queue.extend([a, b, snapshot, d, e, snapshot])
        gateway.kick(sub)
        await asyncio.sleep(0)

    run(turn)
    assert [name for name, _ in log] == ["sub"]
    assert _frames(log[0][1]) == [a + b, snapshot, d + e, snapshot]
    assert not sub.queue and not sub.closing


def test_ws_flush_writes_the_queued_answers_now_and_the_turns_callback_finds_nothing() -> None:
    """The sequencer's after_ack hook: a batch's acks leave in the turn that made them."""
    from types import SimpleNamespace

    from websockets.protocol import State
    from websockets.server import ServerProtocol

    from lob.server.ws import Gateway, Session

    log: list[tuple[str, bytes]] = []
    exchange: Any = SimpleNamespace(reference={}, accounts=Accounts())  # what a Session reads
    gateway = Gateway(exchange, KeyStore([]), Limits())
    protocol = ServerProtocol(state=State.OPEN)
    trader = Session(gateway, protocol, None, _Writer(_Transport("trader", log)), "msgpack")  # type: ignore[arg-type]

    async def turn() -> None:
        trader.send({"type": "ack", "id": "o1"})
        gateway.answered(time.monotonic_ns(), 1)
        assert log == []  # queued, and a send callback scheduled for the turn's end
        gateway.flush()
        assert [name for name, _ in log] == ["trader"] and b"\xa3ack" in log[0][1]
        assert gateway.latency.count == 1
        await asyncio.sleep(0)  # the scheduled callback: nothing left to write
        assert len(log) == 1 and gateway.latency.count == 1
        gateway.flush()  # nothing queued: nothing written
        assert len(log) == 1

    run(turn)


def test_ws_compact_acks_carry_status_quantities_and_the_orders_own_fills(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path) as server,
            WsClient(server.url, ALICE, acks="compact") as alice,
            WsClient(server.url, BOB) as bob,
        ):
            await bob.place("AAPL", "sell", 40, "227.00", id="s1")
            ack = await alice.place("AAPL", "buy", 100, "227.00", id="b1")
            assert set(ack) == {
                "type", "op", "id", "seq", "status", "filled_qty", "leaves_qty", "fills", "req",
            }  # fmt: skip
            assert (ack["op"], ack["id"], ack["status"]) == ("new", "b1", "open")
            assert (ack["filled_qty"], ack["leaves_qty"]) == (40, 60)
            (fill,) = ack["fills"]
            assert (fill["id"], fill["side"], fill["qty"]) == ("b1", "buy", 40)
            assert fill["price"] == "227.00"
            assert fill["liquidity"] == "taker"
            ack = await alice.replace("b1", qty=80)  # 80 shares left to buy
            assert (ack["op"], ack["status"], ack["leaves_qty"], ack["fills"]) == (
                "replace",
                "open",
                80,
                [],
            )
            ack = await alice.cancel("b1")
            assert (ack["status"], ack["filled_qty"], ack["leaves_qty"]) == ("cancelled", 40, 0)
            with pytest.raises(LobApiError) as err:  # errors are the same in both forms
                await alice.cancel("b1")
            assert err.value.code == "unknown_order"
            results = await alice.batch(
                [{"op": "new", "id": "b2", "symbol": "AAPL", "side": "buy", "qty": 5,
                  "price": "226.00"}, {"op": "cancel", "id": "nope"}]
            )  # fmt: skip
            assert results[0]["status"] == "open" and "order" not in results[0]
            assert results[1]["error"]["code"] == "unknown_order"
            full = await bob.place("AAPL", "sell", 1, "230.00", id="s2")  # bob asked for nothing
            assert full["order"]["id"] == "s2" and "events" in full

    run(body)


def test_ws_hello_switches_the_ack_form_and_refuses_unknown_ones(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, WsClient(server.url, ALICE) as alice:
            answer = await alice.request({"op": "hello", "acks": "compact"})
            assert (answer["type"], answer["encoding"], answer["acks"]) == (
                "hello",
                "msgpack",
                "compact",
            )
            ack = await alice.place("AAPL", "buy", 1, "220.00", id="h1")
            assert ack["status"] == "open" and "order" not in ack
            for bad in ({"op": "hello", "acks": "tiny"}, {"op": "hello"},
                        {"op": "hello", "acks": "full", "colour": "red"}):  # fmt: skip
                with pytest.raises(LobApiError) as err:
                    await alice.request(bad)
                assert err.value.code == "invalid_field"
            answer = await alice.request({"op": "hello", "acks": "full"})
            assert answer["acks"] == "full"
            ack = await alice.place("AAPL", "buy", 1, "220.00", id="h2")
            assert ack["order"]["id"] == "h2"

    run(body)


def test_ws_pings_fragments_and_many_messages_in_one_write(tmp_path: Path) -> None:
    """Plain frames (lob.server.wsread), a ping among them, then a fragmented message
    (the protocol object reads from there on): every message answered, in order."""

    async def body() -> None:
        async with running(tmp_path) as server:
            assert server.port is not None
            ws = await RawWs.connect(server.port, "encoding=json")
            proto = ws.proto
            for i in range(20):  # twenty requests and a ping, in one write
                proto.send_text(json.dumps({"op": "ping", "req": i}).encode())
                if i == 10:
                    proto.send_ping(b"are you there")
            ws._flush()
            await ws.read_until(lambda w: len(w.messages()) >= 20)
            pongs = [f for f in ws.frames if f.opcode is Opcode.PONG]
            assert [f.data for f in pongs] == [b"are you there"]
            assert [m["req"] for _, m in ws.messages()] == list(range(20))
            text = json.dumps({"op": "ping", "req": "split"}).encode()
            proto.send_text(text[:5], fin=False)  # a message in two fragments
            proto.send_continuation(text[5:], fin=True)
            proto.send_text(json.dumps({"op": "ping", "req": "after"}).encode())
            ws._flush()
            await ws.read_until(lambda w: len(w.messages()) >= 22)
            assert [m["req"] for _, m in ws.messages()[20:]] == ["split", "after"]
            await ws.close()

    run(body)


def test_ws_messages_sent_with_the_handshake_past_one_read_are_all_answered(
    tmp_path: Path,
) -> None:
    """A client that writes its handshake and 160 kB of messages at once: the HTTP driver
    reads 64 kB, and the rest (in its stream reader, and still on the socket) must reach
    the session when the transport starts handing bytes to it directly."""
    from websockets.client import ClientProtocol
    from websockets.frames import Frame
    from websockets.uri import parse_uri

    count = 40

    async def body() -> None:
        async with running(tmp_path) as server:
            assert server.port is not None
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{server.port}/ws?encoding=json"))
            proto.send_request(proto.connect())
            wire = b"".join(proto.data_to_send())
            for i in range(count):
                text = json.dumps({"op": "ping", "req": i, "pad": "x" * 4_000}).encode()
                wire += Frame(Opcode.TEXT, text).serialize(mask=True, extensions=[])
            assert len(wire) > 2 * 64 * 1024
            writer.write(wire)
            answered: list[Any] = []
            while len(answered) < count:
                data = await asyncio.wait_for(reader.read(65536), 10)
                assert data, f"the server closed after {len(answered)} answers"
                proto.receive_data(data)
                for event in proto.events_received():
                    if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                        answered.append(json.loads(event.data)["req"])
            assert answered == list(range(count))
            writer.close()

    run(body)
