"""The trading day on a live server: calendar, crosses, halts, imbalance, LULD, replay.

Servers run on 127.0.0.1 with a clock the test moves by hand, so a whole
compressed day passes in a fraction of a second of real time while every
request still goes over real sockets.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from lob.client.rest import LobApiError, RestClient
from lob.client.ws import WsClient
from lob.server.exchange import Exchange
from lob.server.server import ExchangeServer
from lob.store.journal import JOURNAL_NAME, read_records
from tests.server.rawws import RawWs
from tests.server.support import ALICE, BOB, ManualClock, config_for, run, running
from tests.server.test_ws import builder_levels, server_levels, until

SECOND = 1_000_000_000
LENGTH = 60 * SECOND
DAY = 1_800_000_000 * SECOND
"""A day start: a whole multiple of the compressed day's length."""
ADMIN = "operator-key-01"
COMPRESSED: dict[str, Any] = {"calendar": "compressed", "day_length": LENGTH, "day_tick": 3600.0}


def t(seconds: float) -> int:
    return DAY + int(seconds * SECOND)


def at(server: ExchangeServer, clock: ManualClock, seconds: float) -> None:
    """Move the clock and let the day timer act (fsync off: applied before it returns)."""
    clock.set(t(seconds))
    assert server.exchange is not None
    server.exchange.day.step()


async def refused(call: Any, code: str, status: int) -> None:
    with pytest.raises(LobApiError) as err:
        await call
    assert (err.value.code, err.value.status) == (code, status)


def controls(ws: RawWs, channel: str) -> list[dict[str, Any]]:
    """The messages of a ``state`` or ``imbalance`` channel (not the subscription's answer)."""
    return [
        m
        for kind, m in ws.messages()
        if kind == "control" and m.get("channel") == channel and m["type"] != "subscribed"
    ]


async def same_book(server: ExchangeServer, ws: WsClient, symbol: str) -> None:
    await until(lambda: builder_levels(ws.books[symbol]) == server_levels(server, symbol))


def test_compressed_day_crosses_open_and_close_expires_day_orders_and_replays(
    tmp_path: Path,
) -> None:
    clock = ManualClock(t(1))
    seen: dict[str, Any] = {}

    async def body() -> None:
        async with running(tmp_path, clock, **COMPRESSED) as server:
            ex = server.exchange
            assert ex is not None
            async with (
                RestClient(server.url, ALICE) as alice,
                RestClient(server.url, BOB) as bob,
                RestClient(server.url) as public,
                WsClient(server.url, ALICE) as ws,
            ):
                raw = await RawWs.connect(server.port)
                raw.send({"op": "subscribe", "symbol": "AAPL", "channel": "state"})
                raw.send({"op": "subscribe", "symbol": "AAPL", "channel": "imbalance"})
                await ws.subscribe_book("AAPL")
                assert (await public.state("AAPL"))["state"] == "closed"
                await refused(alice.place("AAPL", "buy", 100, "227.00"), "market_closed", 409)

                at(server, clock, 4)
                assert (await public.state("AAPL"))["state"] == "pre_open"
                await alice.place("AAPL", "buy", 300, "228.00", id="b-day")
                await bob.place("AAPL", "sell", 200, "227.00", id="s-gtc", tif="gtc")
                await bob.place("AAPL", "sell", 100, "227.20", id="s-day")
                await bob.place("AAPL", "sell", 50, id="moo", type="moo")
                await refused(alice.place("AAPL", "buy", 10, type="market"), "not_continuous", 409)

                at(server, clock, 13)
                imbalance = await public.imbalance("AAPL")
                assert imbalance["cross_type"] == "opening"
                assert (imbalance["paired"], imbalance["imbalance"]) == (300, 50)
                assert (imbalance["imbalance_side"], imbalance["near"]) == ("sell", "227.50")
                at(server, clock, 16)
                await refused(bob.place("AAPL", "sell", 10, type="moo"), "auction_closed", 409)
                await refused(bob.cancel("moo"), "auction_closed", 409)

                at(server, clock, 18.5)
                state = await public.state("AAPL")
                assert state["state"] == "continuous"
                cross = state["last_cross"]
                assert (cross["cross_type"], cross["price"], cross["qty"]) == (
                    "opening",
                    "227.50",
                    300,
                )
                prints = await public.trades("AAPL")
                assert {p["aggressor"] for p in prints} == {None}
                assert sum(p["qty"] for p in prints) == 300
                await refused(public.imbalance("AAPL"), "no_auction", 404)
                assert (await alice.order("b-day"))["status"] == "filled"
                assert (await bob.order("s-day"))["leaves_qty"] == 50
                await same_book(server, ws, "AAPL")

                await alice.place("AAPL", "buy", 100, "227.00", id="b2")
                await bob.place("AAPL", "sell", 100, "230.00", id="s2", tif="gtc")
                await alice.place("AAPL", "buy", 30, id="moc", type="moc")
                at(server, clock, 49)
                assert (await public.imbalance("AAPL"))["cross_type"] == "closing"
                at(server, clock, 52)
                await refused(alice.place("AAPL", "buy", 5, type="moc"), "auction_closed", 409)

                at(server, clock, 55)
                state = await public.state("AAPL")
                assert state["state"] == "closed"
                cross = state["last_cross"]
                assert (cross["cross_type"], cross["price"], cross["qty"]) == (
                    "closing",
                    "227.50",
                    30,
                )
                b2 = await alice.order("b2")
                assert (b2["status"], b2["reason"]) == ("cancelled", "expired")
                s_day = await bob.order("s-day")
                assert (s_day["status"], s_day["reason"], s_day["filled_qty"]) == (
                    "cancelled",
                    "expired",
                    80,
                )
                assert (await alice.order("moc"))["filled_qty"] == 30
                assert [o["id"] for o in await bob.orders()] == ["s2"]
                await same_book(server, ws, "AAPL")

                at(server, clock, 64)  # the next day's pre-open: the GTC order is still there
                assert (await public.state("AAPL"))["state"] == "pre_open"
                assert (await bob.order("s2"))["status"] == "open"

                await raw.read_until(lambda w: len(controls(w, "imbalance")) >= 3)
                states = controls(raw, "state")
                assert states[0]["type"] == "trading_state"
                crosses = [m["cross_type"] for m in states if m["type"] == "crossed"]
                assert crosses == ["opening", "closing"]
                moves = [m["state"] for m in states if m["type"] == "state"]
                assert moves[:4] == ["pre_open", "opening_auction", "continuous", "closing_auction"]
                assert moves[4:] == ["closed", "pre_open"]
                kinds = {m["cross_type"] for m in controls(raw, "imbalance")}
                assert kinds == {"opening", "closing"}
                await raw.close()
            seen["hash"] = ex.engine.state_hash(include_owners=True)
            seen["seq"] = ex.engine.seq
            seen["states"] = {s: ex.engine.book(s).state for s in ex.engine.symbols}
            seen["records"] = ex.journal.records

    run(body)
    replayed = Exchange(config_for(tmp_path, **COMPRESSED), clock)
    try:
        assert replayed.recover() == seen["records"]
        assert replayed.engine.state_hash(include_owners=True) == seen["hash"]
        assert replayed.engine.seq == seen["seq"]
        assert {s: replayed.engine.book(s).state for s in replayed.engine.symbols} == seen["states"]
        assert replayed.trading.status("AAPL")["last_cross"]["cross_type"] == "closing"
        replayed.engine.check_integrity()
    finally:
        replayed.journal.close()


def test_admin_halt_quotation_and_resume_runs_a_halt_cross_that_l2_clients_follow(
    tmp_path: Path,
) -> None:
    clock = ManualClock(t(0))

    async def body() -> None:
        async with running(tmp_path, clock, admin_key=ADMIN, day_tick=3600.0) as server:
            ex = server.exchange
            assert ex is not None
            async with (
                RestClient(server.url, ALICE) as alice,
                RestClient(server.url, BOB) as bob,
                RestClient(server.url, ADMIN) as admin,
                RestClient(server.url) as public,
                WsClient(server.url, ALICE) as ws,
            ):
                raw = await RawWs.connect(server.port)
                raw.send({"op": "subscribe", "symbol": "AAPL", "channel": "imbalance"})
                raw.send({"op": "subscribe", "symbol": "AAPL", "channel": "state"})
                await ws.subscribe_book("AAPL")
                await alice.place("AAPL", "buy", 100, "227.00", id="b1", tif="gtc")
                await alice.place("AAPL", "buy", 100, "226.00", id="b0")
                await bob.place("AAPL", "sell", 100, "227.10", id="s1")

                moved = await admin.set_state("AAPL", "halted")
                assert (moved["state"], moved["previous"], moved["cross"]) == (
                    "halted",
                    "continuous",
                    None,
                )
                await refused(alice.place("AAPL", "buy", 1, "227.00"), "symbol_halted", 409)
                assert (await alice.cancel("b0"))["order"]["status"] == "cancelled"
                await refused(public.imbalance("AAPL"), "no_auction", 404)

                await admin.set_state("AAPL", "quote_only")
                await alice.place("AAPL", "buy", 100, "227.20", id="b2")  # rests, crossed
                clock.set(clock.now + 2 * SECOND)
                assert ex.day.step()
                imbalance = await public.imbalance("AAPL")
                assert (imbalance["cross_type"], imbalance["paired"]) == ("halt", 100)

                moved = await admin.set_state("AAPL", "continuous")
                assert moved["cross"]["cross_type"] == "halt"
                assert (moved["cross"]["price"], moved["cross"]["qty"]) == ("227.20", 100)
                assert (await bob.order("s1"))["status"] == "filled"
                assert (await alice.order("b2"))["status"] == "filled"
                await same_book(server, ws, "AAPL")
                assert (await public.state("AAPL"))["last_cross"]["cross_type"] == "halt"
                listed = {s["symbol"]: s for s in await public.symbols()}
                assert listed["AAPL"]["state"] == "continuous" and listed["AAPL"]["bands"] is None

                await raw.read_until(
                    lambda w: any(m["type"] == "crossed" for m in controls(w, "state"))
                )
                assert [m["cross_type"] for m in controls(raw, "imbalance")] == ["halt"]
                moves = [m["state"] for m in controls(raw, "state") if m["type"] == "state"]
                assert moves == ["halted", "quote_only", "continuous"]
                await raw.close()

    run(body)


def test_admin_endpoint_refuses_missing_and_trading_keys_and_bad_input_without_journaling(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        async with running(tmp_path, admin_key=ADMIN) as server:
            ex = server.exchange
            assert ex is not None
            path = "/admin/symbols/AAPL/state"
            before = ex.journal.records
            async with (
                RestClient(server.url) as anonymous,
                RestClient(server.url, "not-a-key-at-all") as stranger,
                RestClient(server.url, ALICE) as alice,
                RestClient(server.url, ADMIN) as admin,
            ):
                await refused(anonymous.set_state("AAPL", "halted"), "unauthorized", 401)
                await refused(stranger.set_state("AAPL", "halted"), "unauthorized", 401)
                await refused(alice.set_state("AAPL", "halted"), "forbidden", 403)
                await refused(admin.set_state("AAPL", "asleep"), "invalid_field", 400)
                await refused(admin.set_state("ZZZZ", "halted"), "unknown_symbol", 404)
                await refused(admin.set_state("AAPL", "quote_only"), "illegal_transition", 409)
                await refused(admin.call("POST", path, {}), "missing_field", 400)
                await refused(admin.call("POST", path, [1]), "malformed", 400)
                await refused(
                    admin.call("POST", path, {"state": "halted", "why": 1}), "invalid_field", 400
                )
                await refused(admin.call("GET", path), "method_not_allowed", 405)
                assert ex.journal.records == before
                assert (await admin.state("AAPL"))["state"] == "continuous"
        async with running(tmp_path) as server, RestClient(server.url, ALICE) as alice:
            await refused(alice.set_state("AAPL", "halted"), "forbidden", 403)

    run(body)


def test_auction_orders_over_websocket_meet_their_cut_offs(tmp_path: Path) -> None:
    clock = ManualClock(t(14))

    async def body() -> None:
        async with (
            running(tmp_path, clock, **COMPRESSED) as server,
            WsClient(server.url, ALICE) as ws,
        ):
            ack = await ws.place("AAPL", "buy", 100, id="moo", type="moo")
            assert ack["order"]["type"] == "moo" and ack["order"]["status"] == "open"
            ack = await ws.place("AAPL", "buy", 100, "227.00", id="loo", type="loo")
            assert ack["order"]["status"] == "open"
            at(server, clock, 16)  # past the market-on-open cut-off
            with pytest.raises(LobApiError) as err:
                await ws.place("AAPL", "buy", 100, id="late", type="moo")
            assert err.value.code == "auction_closed"
            with pytest.raises(LobApiError) as err:
                await ws.place("AAPL", "buy", 100, type="market")
            assert err.value.code == "not_continuous"
            at(server, clock, 18.5)  # the cross: nothing to pair, the auction orders go
            with pytest.raises(LobApiError) as err:
                await ws.place("AAPL", "buy", 100, "227.00", type="loo")
            assert err.value.code == "auction_closed"
            with pytest.raises(LobApiError) as err:
                await ws.cancel("moo")
            assert err.value.code == "unknown_order"  # the cross left it unfilled
            async with RestClient(server.url, ALICE) as alice:
                moo = await alice.order("moo")
                assert (moo["status"], moo["reason"], moo["filled_qty"]) == (
                    "cancelled",
                    "auction",
                    0,
                )

    run(body)


def test_luld_bands_are_journaled_listed_and_refuse_orders_through_them(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, luld=True) as server:
            ex = server.exchange
            assert ex is not None
            async with RestClient(server.url, ALICE) as alice:
                listed = {s["symbol"]: s for s in await alice.symbols()}
                aapl, penny = listed["AAPL"]["bands"], listed["PNNY"]["bands"]
                assert (aapl["tier"], aapl["reference"]) == (1, "227.50")
                assert (aapl["lower"], aapl["upper"]) == ("216.13", "238.88")
                assert penny["tier"] == 2
                await refused(alice.place("AAPL", "buy", 100, "239.00"), "outside_price_band", 422)
                state = await alice.state("AAPL")
                assert state["bands"] == aapl and state["calendar"] == "continuous"
        async with running(tmp_path, luld=True) as server:
            ex = server.exchange
            assert ex is not None
            assert ex.trading.bands("AAPL") == aapl  # the bands came back from the journal

    run(body)
    kinds = [type(r.command).__name__ for r in read_records(tmp_path / JOURNAL_NAME)]
    assert kinds.count("EnableLuld") == 3  # once per symbol, not once per start


def test_day_timer_on_the_wall_clock_moves_a_ten_second_day_by_itself(tmp_path: Path) -> None:
    async def body() -> None:
        options = {"calendar": "compressed", "day_length": 10 * SECOND, "day_tick": 0.05}
        async with running(tmp_path, **options) as server:
            raw = await RawWs.connect(server.port)
            raw.send({"op": "subscribe", "symbol": "AAPL", "channel": "state"})

            def crossed(w: RawWs) -> bool:
                return any(m["type"] == "crossed" for m in controls(w, "state"))

            await raw.read_until(crossed, timeout=15)
            moves = [m for m in controls(raw, "state") if m["type"] in ("state", "crossed")]
            assert moves and all(m["reason"] == "schedule" for m in moves if m["type"] == "state")
            assert any(m["type"] == "crossed" for m in moves)
            await raw.close()

    run(body)


def test_ws_client_follows_state_and_imbalance_channels_through_a_halt(tmp_path: Path) -> None:
    clock = ManualClock(t(0))

    async def body() -> None:
        async with (
            running(tmp_path, clock, admin_key=ADMIN, day_tick=3600.0) as server,
            RestClient(server.url, ADMIN) as admin,
            WsClient(server.url, encoding="json") as ws,
        ):
            assert server.exchange is not None
            await ws.subscribe_state("MSFT")
            await ws.subscribe_imbalance("MSFT")
            await admin.set_state("MSFT", "halted")
            await admin.set_state("MSFT", "quote_only")
            clock.set(clock.now + 2 * SECOND)
            assert server.exchange.day.step()
            got: list[tuple[str, str]] = []
            while len(got) < 4:
                channel, symbol, message = await asyncio.wait_for(ws.updates.get(), 10)
                assert (symbol, message["channel"]) == ("MSFT", channel)
                got.append((channel, message["type"]))
            assert got == [
                ("state", "trading_state"),
                ("state", "state"),
                ("state", "state"),
                ("imbalance", "imbalance"),
            ]

    run(body)
