"""The asyncio client library against a real server: REST connection handling, WS books."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from pathlib import Path

import pytest

from lob.client import ExchangeClient, LobApiError, RestClient, WsClient
from lob.client.http import HttpError
from lob.server.auth import KeyStore
from lob.server.config import Limits
from lob.server.server import ExchangeServer
from tests.server.support import ALICE, BOB, KEYS, config_for, run, running
from tests.server.test_ws import builder_levels, churn, server_levels, until


def test_rest_client_keeps_one_connection_and_reopens_after_idle_close(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path, limits=Limits(idle_timeout=0.3)) as server,
            RestClient(server.url, ALICE) as alice,
        ):
            await alice.place("AAPL", "buy", 10, "227.00", id="k1")
            writer = alice._http._writer
            await alice.order("k1")
            assert alice._http._writer is writer  # kept alive
            await asyncio.sleep(0.6)  # the server closes the idle connection
            assert (await alice.order("k1"))["qty"] == 10
            ack = await alice.place("AAPL", "buy", 10, "227.00", id="k2")
            assert ack["order"]["status"] == "open"

    run(body)


def test_rest_client_raises_api_errors_with_code_and_status(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url, BOB) as bob:
            with pytest.raises(LobApiError) as err:
                await bob.place("AAPL", "buy", 10, "227.00", tif="forever")
            assert (err.value.code, err.value.status) == ("invalid_tif", 400)
            with pytest.raises(LobApiError) as err:
                await bob.replace("ghost", price="227.00")
            assert (err.value.code, err.value.status) == ("unknown_order", 404)

    run(body)


def test_rest_client_reports_an_unreachable_server() -> None:
    async def body() -> None:
        async with RestClient("http://127.0.0.1:9", timeout=2) as client:
            with pytest.raises(HttpError):
                await client.health()

    run(body)


@pytest.mark.parametrize("encoding", ["msgpack", "json"])
def test_ws_client_book_follows_the_server_in_either_encoding(
    tmp_path: Path, encoding: str
) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, WsClient(server.url, encoding=encoding) as ws:
            rng = random.Random(8)
            churn(server, rng, 50)
            await ws.subscribe_book("AAPL")
            for _ in range(30):
                churn(server, rng, 5)
                await asyncio.sleep(0.002)
            want = server_levels(server, "AAPL")
            await until(lambda: builder_levels(ws.books["AAPL"]) == want)
            assert ws.resyncs == 0

    run(body)


def test_ws_client_resumes_its_book_after_a_server_restart(tmp_path: Path) -> None:
    async def body() -> None:
        config = config_for(tmp_path)
        server = ExchangeServer(config, KeyStore(list(KEYS)))
        await server.start()
        rng = random.Random(12)
        ws = WsClient(server.url)
        try:
            await ws.connect()
            await ws.subscribe_book("AAPL")
            churn(server, rng, 40)
            await until(lambda: builder_levels(ws.books["AAPL"]) == server_levels(server, "AAPL"))
            port = server.port
            await server.stop()
            await until(lambda: ws.closed_reason is not None)
            # Same data directory, same port: the journal rebuilds the same per-symbol seqs,
            # so the client's resume_from is answered from the rebuilt ring.
            server = ExchangeServer(dataclasses.replace(config, port=port), KeyStore(list(KEYS)))
            await server.start()
            churn(server, rng, 20)
            await ws.reconnect()
            want = server_levels(server, "AAPL")
            await until(lambda: builder_levels(ws.books["AAPL"]) == want)
        finally:
            await ws.close()
            await server.stop()

    run(body)


def test_ws_client_reconnects_by_itself_and_restores_its_book(tmp_path: Path) -> None:
    async def body() -> None:
        config = config_for(tmp_path)
        server = ExchangeServer(config, KeyStore(list(KEYS)))
        await server.start()
        rng = random.Random(13)
        ws = WsClient(server.url, ALICE, auto_reconnect=True)
        try:
            await ws.connect()
            await ws.subscribe_book("MSFT")
            await ws.subscribe_executions()
            churn(server, rng, 30, "MSFT")
            await until(lambda: builder_levels(ws.books["MSFT"]) == server_levels(server, "MSFT"))
            port = server.port
            await server.stop()
            await until(lambda: ws.closed_reason is not None)
            server = ExchangeServer(dataclasses.replace(config, port=port), KeyStore(list(KEYS)))
            await server.start()
            await until(lambda: ws.reconnects == 1, timeout=15)
            churn(server, rng, 30, "MSFT")
            want = server_levels(server, "MSFT")
            await until(lambda: builder_levels(ws.books["MSFT"]) == want)
            ack = await ws.place("MSFT", "buy", 1, "400.00")  # authenticated again
            assert ack["order"]["status"] == "open"
        finally:
            await ws.close()
            await server.stop()

    run(body)


def test_exchange_client_places_over_ws_and_reads_over_rest(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, ExchangeClient(server.url, ALICE) as ex:
            await ex.subscribe_book("AAPL")
            ack = await ex.place("AAPL", "sell", 100, "227.60", id="e1")
            assert ack["order"]["status"] == "open"
            assert [o["id"] for o in await ex.orders()] == ["e1"]
            assert (await ex.order("e1"))["leaves_qty"] == 100
            await ex.replace("e1", qty=40)
            await until(
                lambda: ex.books["AAPL"].asks() != [] and ex.books["AAPL"].asks()[0].qty == 40
            )
            assert (await ex.book("AAPL"))["asks"][0]["qty"] == 40
            assert "AAPL" in {s["symbol"] for s in await ex.symbols()}
            await ex.cancel("e1")
            assert await ex.orders() == [] and await ex.fills() == []
            assert await ex.trades("AAPL") == []

    run(body)


def test_ws_client_json_frame_splits_messages_only_at_newlines(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            running(tmp_path) as server,
            WsClient(server.url, ALICE, encoding="json") as client,
        ):
            # An order id with characters str.splitlines would also cut at.
            odd = "a\u2028b\x85c"
            ack = await client.place("AAPL", "buy", 1, "200.00", id=odd)
            assert ack["id"] == odd and ack["order"]["id"] == odd

    run(body)
