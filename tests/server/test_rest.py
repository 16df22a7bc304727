"""The REST API over real sockets: order flows, ownership, errors, keep-alive and pipelining."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from lob.client.rest import LobApiError, RestClient
from lob.server.config import Limits
from tests.server.support import ALICE, BOB, run, running


def levels(book: dict[str, Any]) -> tuple[Any, ...]:
    """What a book shows (the engine-wide seq moves on with every rejection too)."""
    return book["seq"], book["bids"], book["asks"]


def test_rest_resting_order_then_cross_reports_fills_and_status(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path) as server,
            RestClient(server.url, ALICE) as alice,
            RestClient(server.url, BOB) as bob,
        ):
            ack = await alice.place("AAPL", "sell", 300, "227.50", id="a1")
            assert ack["type"] == "ack" and ack["order"]["status"] == "open"
            assert ack["order"]["leaves_qty"] == 300 and ack["fills"] == []
            ack = await bob.place("AAPL", "buy", 100, "227.60", id="b1")
            assert ack["order"]["status"] == "filled"
            assert [(f["price"], f["qty"], f["liquidity"]) for f in ack["fills"]] == [
                ("227.50", 100, "taker")
            ]
            assert all("account" not in f for f in ack["fills"])
            status = await alice.order("a1")
            assert (status["filled_qty"], status["leaves_qty"], status["status"]) == (
                100,
                200,
                "open",
            )
            done = await bob.order("b1")
            assert done["status"] == "filled" and done["filled_qty"] == 100
            fills = await alice.fills()
            assert [(f["id"], f["side"], f["liquidity"]) for f in fills] == [
                ("a1", "sell", "maker")
            ]
            book = await alice.book("AAPL")
            assert book["asks"] == [{"price": "227.50", "qty": 200, "orders": 1}]
            assert book["bids"] == [] and book["symbol"] == "AAPL"
            trades = await alice.trades("AAPL")
            assert trades[0]["price"] == "227.50" and trades[0]["aggressor"] == "buy"

    run(body)


def test_rest_book_levels_best_first_with_depth(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as alice:
            for i, price in enumerate(["227.00", "227.20", "227.10"]):
                await alice.place("AAPL", "buy", 100, price, id=f"b{i}")
            for i, price in enumerate(["228.00", "227.80", "227.90"]):
                await alice.place("AAPL", "sell", 100, price, id=f"s{i}")
            book = await alice.book("AAPL", depth=2)
            assert [lv["price"] for lv in book["bids"]] == ["227.20", "227.10"]
            assert [lv["price"] for lv in book["asks"]] == ["227.80", "227.90"]
            trades = await alice.trades("AAPL", limit=5)
            assert trades == []

    run(body)


def test_rest_trades_newest_first(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path) as server,
            RestClient(server.url, ALICE) as alice,
            RestClient(server.url, BOB) as bob,
        ):
            await alice.place("AAPL", "sell", 100, "227.50")
            await alice.place("AAPL", "sell", 100, "227.60")
            await bob.place("AAPL", "buy", 200, "227.60")
            trades = await bob.trades("AAPL")
            assert [t["price"] for t in trades] == ["227.60", "227.50"]
            assert trades[0]["trade_id"] > trades[1]["trade_id"]
            assert len(await bob.trades("AAPL", limit=1)) == 1

    run(body)


def test_rest_order_endpoints_without_valid_key_answer_401(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server:
            for key in (None, "not-a-key-at-all"):
                async with RestClient(server.url, key) as client:
                    with pytest.raises(LobApiError) as err:
                        await client.place("AAPL", "buy", 1, "227.00")
                    assert (err.value.status, err.value.code) == (401, "unauthorized")
                    with pytest.raises(LobApiError) as err:
                        await client.orders()
                    assert err.value.status == 401
                    assert (await client.book("AAPL"))["symbol"] == "AAPL"  # public

    run(body)


def test_rest_other_accounts_orders_are_invisible_and_untouchable(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path) as server,
            RestClient(server.url, ALICE) as alice,
            RestClient(server.url, BOB) as bob,
        ):
            await alice.place("AAPL", "buy", 100, "227.00", id="mine")
            before = levels(await alice.book("AAPL"))
            for call in (bob.order("mine"), bob.cancel("mine"), bob.replace("mine", qty=50)):
                with pytest.raises(LobApiError) as err:
                    await call
                assert (err.value.status, err.value.code) == (404, "unknown_order")
            assert await bob.orders() == []
            assert levels(await alice.book("AAPL")) == before
            assert (await alice.order("mine"))["leaves_qty"] == 100

    run(body)


def test_rest_cancel_and_replace_report_the_order(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as alice:
            await alice.place("MSFT", "buy", 100, "418.00", id="x")
            await alice.place("MSFT", "buy", 100, "418.00", id="y")
            ack = await alice.replace("x", qty=60)
            assert ack["events"][0]["priority"] == "kept"
            assert ack["order"]["leaves_qty"] == 60
            ack = await alice.replace("x", price="418.10")
            assert ack["events"][0]["priority"] == "lost" and ack["order"]["price"] == "418.10"
            ack = await alice.cancel("y")
            assert ack["order"]["status"] == "cancelled" and ack["order"]["reason"] == "user"
            assert [o["id"] for o in await alice.orders()] == ["x"]
            assert (await alice.order("y"))["status"] == "cancelled"
            with pytest.raises(LobApiError) as err:
                await alice.cancel("y")
            assert err.value.code == "unknown_order"

    run(body)


def test_rest_generated_id_when_none_given(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as alice:
            ack = await alice.place("AAPL", "buy", 10, "227.00")
            assert ack["id"] and (await alice.order(ack["id"]))["qty"] == 10

    run(body)


BAD_BODIES = [
    (b"{not json", 400, "malformed"),
    (b"[1, 2]", 400, "malformed"),
    (b'{"symbol":"ZZZZ","side":"buy","qty":1,"price":"1.00"}', 404, "unknown_symbol"),
    (b'{"symbol":"AAPL","side":"buy","qty":1,"price":"227.005"}', 400, "invalid_price"),
    (b'{"symbol":"AAPL","side":"buy","qty":-5,"price":"227.00"}', 400, "invalid_quantity"),
    (b'{"symbol":"AAPL","side":"buy","qty":1.5,"price":"227.00"}', 400, "invalid_quantity"),
    (b'{"symbol":"AAPL","side":"buy","qty":1e30,"price":"227.00"}', 400, "invalid_quantity"),
    (
        b'{"symbol":"AAPL","side":"buy","qty":99999999999999999999999,"price":"227"}',
        400,
        "invalid_quantity",
    ),
    (b'{"symbol":"AAPL","side":"up","qty":1,"price":"227.00"}', 400, "invalid_side"),
    (b'{"symbol":"AAPL","side":"buy","qty":1,"price":NaN}', 400, "malformed"),
    (b'{"symbol":"AAPL","side":"buy","qty":1,"price":"227","account":"bob"}', 400, "invalid_field"),
    (b'{"symbol":"AAPL","side":"sell","qty":1,"price":"1.00"}', 422, "price_out_of_collar"),
]


@pytest.mark.parametrize(("raw", "status", "code"), BAD_BODIES)
def test_rest_bad_order_gets_clear_error_and_changes_nothing(
    tmp_path: Path, raw: bytes, status: int, code: str
) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as alice:
            await alice.place("AAPL", "sell", 100, "228.00", id="rest")
            ex = server.exchange
            assert ex is not None
            hash_before = ex.engine.state_hash(include_owners=True)
            book_before = levels(await alice.book("AAPL"))
            got = await alice._http.request(
                "POST", "/orders", raw=raw, headers={"authorization": f"Bearer {ALICE}"}
            )
            assert got[0] == status
            assert json.loads(got[1])["error"]["code"] == code
            assert ex.engine.state_hash(include_owners=True) == hash_before
            assert levels(await alice.book("AAPL")) == book_before
            assert [o["id"] for o in await alice.orders()] == ["rest"]

    run(body)


def test_rest_bad_input_before_the_engine_is_not_journaled(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as alice:
            ex = server.exchange
            assert ex is not None
            records, seq = ex.journal.records, ex.engine.seq
            for raw in (b"{", b'{"symbol":"AAPL","side":"buy","qty":0,"price":"227"}'):
                await alice._http.request(
                    "POST", "/orders", raw=raw, headers={"authorization": f"Bearer {ALICE}"}
                )
            assert (ex.journal.records, ex.engine.seq) == (records, seq)

    run(body)


def test_rest_oversized_body_gets_413_and_changes_nothing(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, limits=Limits(max_body=1024)) as server:
            ex = server.exchange
            assert ex is not None
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            payload = b'{"symbol":"AAPL","pad":"' + b"x" * 5000 + b'"}'
            writer.write(
                b"POST /orders HTTP/1.1\r\nhost: x\r\nauthorization: Bearer "
                + ALICE.encode()
                + b"\r\ncontent-length: "
                + str(len(payload)).encode()
                + b"\r\n\r\n"
                + payload
            )
            await writer.drain()
            answer = await reader.read()
            writer.close()
            assert answer.startswith(b"HTTP/1.1 413")
            assert b"payload_too_large" in answer
            assert ex.engine.seq == 0 and ex.journal.records == 0

    run(body)


def test_rest_pipelined_requests_answered_in_order_on_one_connection(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            order = b'{"symbol":"AAPL","side":"buy","qty":5,"price":"227.00","id":"p1"}'
            writer.write(
                b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n"
                b"POST /orders HTTP/1.1\r\nhost: x\r\nauthorization: Bearer "
                + ALICE.encode()
                + b"\r\ncontent-length: "
                + str(len(order)).encode()
                + b"\r\n\r\n"
                + order
                + b"GET /orders/p1 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer "
                + ALICE.encode()
                + b"\r\n\r\n"
                b"GET /nowhere HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
            )
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            statuses = re.findall(rb"HTTP/1.1 (\d{3}) ", data)
            assert statuses == [b"200", b"201", b"200", b"404"]
            assert data.index(b'"status":"ok"') < data.index(b'"type":"ack"')
            assert data.index(b'"type":"ack"') < data.index(b'"leaves_qty":5,"tif"')

    run(body)


def test_rest_malformed_http_gets_400_and_server_carries_on(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"THIS IS NOT HTTP\r\n\r\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            assert answer.startswith(b"HTTP/1.1 400")
            async with RestClient(server.url) as client:
                assert (await client.health())["status"] == "ok"

    run(body)


def test_rest_unknown_route_404_and_wrong_method_405(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as client:
            with pytest.raises(LobApiError) as err:
                await client.call("GET", "/nope")
            assert (err.value.status, err.value.code) == (404, "not_found")
            with pytest.raises(LobApiError) as err:
                await client.call("PUT", "/orders")
            assert (err.value.status, err.value.code) == (405, "method_not_allowed")
            with pytest.raises(LobApiError) as err:
                await client.book("NOPE")
            assert (err.value.status, err.value.code) == (404, "unknown_symbol")
            with pytest.raises(LobApiError) as err:
                await client.book("AAPL", depth=0)
            assert err.value.code == "invalid_field"

    run(body)


def test_rest_open_order_limit_per_account(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path, limits=Limits(max_open_orders=2)) as server,
            RestClient(server.url, ALICE) as alice,
            RestClient(server.url, BOB) as bob,
        ):
            await alice.place("AAPL", "buy", 1, "227.00")
            await alice.place("AAPL", "buy", 1, "227.01")
            with pytest.raises(LobApiError) as err:
                await alice.place("AAPL", "buy", 1, "227.02")
            assert (err.value.status, err.value.code) == (429, "too_many_orders")
            await bob.place("AAPL", "buy", 1, "227.00")  # another account is not limited

    run(body)


def test_rest_deltas_catch_up_or_snapshot(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as alice:
            await alice.place("AAPL", "buy", 100, "227.00", id="d1")
            await alice.place("AAPL", "buy", 50, "227.00", id="d2")
            answer = await alice.deltas("AAPL", since=1)
            assert answer["reason"] == "deltas" and answer["snapshot"] is None
            assert [(d["type"], d["seq"], d["qty"]) for d in answer["deltas"]] == [
                ("level", 2, 150)
            ]
            answer = await alice.deltas("AAPL")
            assert answer["reason"] == "requested" and answer["snapshot"]["seq"] == 2
            assert answer["snapshot"]["bids"] == [{"price": "227.00", "qty": 150, "orders": 2}]

    run(body)


def test_rest_symbols_health_metrics_and_sub_dollar_ticks(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as client:
            symbols = {s["symbol"]: s for s in await client.symbols()}
            assert set(symbols) == {"AAPL", "MSFT", "PNNY"}
            assert symbols["AAPL"]["reference_price"] == "227.50"
            ack = await client.place("PNNY", "buy", 1000, "0.4271")
            assert ack["order"]["price"] == "0.4271"
            health = await client.health()
            assert health["status"] == "ok" and health["seq"] == 2
            metrics = await client.call("GET", "/metrics")
            assert "lob_commands_total 1" in metrics
            assert "lob_journal_records 1" in metrics

    run(body)


def test_readme_run_the_exchange_examples_work(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run the exchange", 1)[1].split("\n## ", 1)[0]
    order = json.loads(re.search(r"-d '(\{.*?\})'", section).group(1))  # type: ignore[union-attr]
    query = re.search(r"'http://127\.0\.0\.1:8000(/book/\S+)'", section).group(1)  # type: ignore[union-attr]

    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as alice:
            ack = await alice.call("POST", "/orders", order)
            assert ack["order"]["status"] == "open"
            book = await alice.call("GET", query)
            assert book["bids"] == [{"price": "227.50", "qty": 100, "orders": 1}]

    run(body)
