"""Remote mode against a real ``lob serve`` on loopback: orders reach it, the counts add up."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lob.client.ws import WsClient
from lob.engine.commands import CancelOrder, NewOrder, ReplaceOrder
from lob.engine.types import OrderType, Side, TimeInForce
from lob.sim.remote import RemoteError, command_message, parse_keys, run_remote
from lob.sim.simulator import agent_accounts

LOB = [sys.executable, "-c", "from lob.cli.app import main; main()"]
PERSON = ("person", "person-key-0123456789")


def _keys() -> dict[str, str]:
    return {account: f"key-{account}-0123456789" for account in agent_accounts()}


def _pairs(keys: dict[str, str]) -> str:
    return ",".join(f"{account}:{key}" for account, key in keys.items())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``lob serve`` with AAPL and MSFT, keys for every agent account and a person."""
    data = tmp_path_factory.mktemp("serve")
    keys = {**_keys(), PERSON[0]: PERSON[1]}
    log_path = data / "server.log"
    env = {**os.environ, "LOB_API_KEYS": _pairs(keys)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*LOB, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data / "d"),
             "--symbols", "AAPL,MSFT", "--fsync", "off", "--no-multicast"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            match = re.search(r"REST\s+(http://\S+)", log_path.read_text(errors="replace"))
            if match:
                url = match.group(1)
            elif proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"lob serve did not start: {log_path.read_text()}")
            else:
                time.sleep(0.05)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def _simulate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOB, "simulate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_remote_run_trades_on_the_server_and_its_counts_add_up(server: str) -> None:
    before = len(_get(f"{server}/trades/AAPL?limit=1000")["trades"])
    result = _simulate(
        "--url", server, "--symbols", "AAPL,MSFT", "--rate", "400", "--duration", "3",
        "--seed", "5", "--json", env={"LOB_SIM_KEYS": _pairs(_keys())},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["sent"] > 300
    assert out["sent"] == out["acked"] + out["rejected"] + out["in_flight"]
    assert out["in_flight"] == 0
    assert out["rejected"] == sum(out["reject_codes"].values())
    assert 0 < out["latency_ms"]["p50"] <= out["latency_ms"]["p99"]
    assert out["rate"] > 0 and out["seconds"] >= 3
    traded = {symbol: row["trades"] for symbol, row in out["symbols"].items()}
    assert sum(traded.values()) > 0
    after = _get(f"{server}/trades/AAPL?limit=1000")["trades"]
    assert len(after) - before == traded.get("AAPL", 0)


def test_remote_worker_sends_what_queued_meanwhile_as_one_batch() -> None:
    from types import SimpleNamespace

    from lob.sim.remote import RemoteStats, _Account, _Driver

    class FakeClient:
        def __init__(self) -> None:
            self.sent: list[list[dict[str, Any]]] = []

        async def request(self, message: dict[str, Any]) -> dict[str, Any]:
            self.sent.append([message])
            return {"type": "ack", "order": {"status": "open", "leaves_qty": 1}, "fills": []}

        async def batch(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
            self.sent.append(orders)
            error = {"type": "error", "error": {"code": "unknown_order", "message": "gone"}}
            ack = {"type": "ack", "order": {"status": "open", "leaves_qty": 1}, "fills": []}
            return [error if m["op"] == "cancel" else ack for m in orders]

    async def body() -> tuple[FakeClient, RemoteStats]:
        client = FakeClient()
        stats = RemoteStats(url="x", rate=1.0, seed=1)
        account = _Account(client)
        driver = _Driver(SimpleNamespace(now=0.0), {"a": account}, stats, "")  # type: ignore[arg-type]
        for n in range(5):
            op = "cancel" if n == 3 else "new"
            account.queue.put_nowait(({"op": op, "id": f"o{n}"}, time.monotonic()))
        stats.sent = driver.outstanding = 5
        task = asyncio.create_task(driver.worker("a"))
        await asyncio.wait_for(driver.drained.wait(), 5)
        driver.drained.clear()
        account.queue.put_nowait(({"op": "new", "id": "o5"}, time.monotonic()))
        stats.sent, driver.outstanding = 6, 1
        await asyncio.wait_for(driver.drained.wait(), 5)
        task.cancel()
        return client, stats

    client, stats = asyncio.run(body())
    assert [len(m) for m in client.sent] == [5, 1]  # the queued five together, then one alone
    assert stats.messages == 2
    assert (stats.acked, stats.rejected, stats.reject_codes) == (5, 1, {"unknown_order": 1})
    assert len(stats.latencies) == 6


def test_remote_agents_learn_of_fills_by_someone_else(server: str) -> None:
    async def body() -> Any:
        run = asyncio.create_task(run_remote(server, _keys(), "AAPL", 300.0, 9, duration=3.0))
        await asyncio.sleep(1.5)
        async with WsClient(server, PERSON[1]) as person:
            ack = await person.place("AAPL", "buy", 300, type="market")
        return ack, await run

    ack, stats = asyncio.run(body())
    assert ack["fills"], "the market order found agents' asks to take"
    assert stats.outside_fills >= 1
    assert stats.in_flight == 0 and stats.sent == stats.acked + stats.rejected


def test_remote_window_holds_the_simulator_back_when_the_server_lags(server: str) -> None:
    in_flight: list[int] = []

    async def body() -> Any:
        return await run_remote(
            server, _keys(), "MSFT", 20_000.0, 3, duration=1.5, window=20,
            on_tick=lambda stats: in_flight.append(stats.in_flight),
        )  # fmt: skip

    stats = asyncio.run(body())
    assert stats.sent > 20 and in_flight
    assert max(in_flight) <= 60  # the window, plus at most one slice's overshoot
    assert stats.achieved_rate < 20_000 and stats.in_flight == 0


def test_remote_refuses_a_symbol_the_server_does_not_list(server: str) -> None:
    result = _simulate(
        "--url", server, "--symbols", "AAPL,TSLA", "--duration", "1", "--json",
        env={"LOB_SIM_KEYS": _pairs(_keys())},
    )  # fmt: skip
    assert result.returncode == 1
    error = json.loads(result.stdout.strip().splitlines()[-1])["error"]
    assert error["code"] == "unknown_symbol" and "TSLA" in error["message"]


def test_remote_without_every_key_names_the_missing_accounts(server: str, tmp_path: Path) -> None:
    keys = _keys()
    del keys["MM2"], keys["VALUE"]
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("\n".join(f"{a}:{k}" for a, k in keys.items()) + "\n")
    result = _simulate(
        "--url", server, "--keys-file", str(keys_file), "--json", env={"LOB_SIM_KEYS": ""}
    )  # fmt: skip
    assert result.returncode == 1
    error = json.loads(result.stdout.strip().splitlines()[-1])["error"]
    assert error["code"] == "missing_keys"
    assert "MM2" in error["message"] and "VALUE" in error["message"]
    assert "NOISE00" not in error["message"]


def test_remote_with_wrong_keys_fails_before_sending(server: str) -> None:
    keys = {account: "not-a-key-0123456789" for account in agent_accounts()}
    with pytest.raises(RemoteError) as caught:
        asyncio.run(run_remote(server, keys, "AAPL", 100.0, 1, duration=1.0))
    assert caught.value.code == "unauthorized"


def test_print_accounts_lists_every_agent_account() -> None:
    result = _simulate("--print-accounts")
    assert result.returncode == 0
    assert result.stdout.split() == agent_accounts()


def test_command_message_prefixes_ids_and_formats_prices() -> None:
    new = NewOrder(
        "NOISE01", "n7", "AAPL", Side.BUY, 100, 2_275_000, OrderType.LIMIT, TimeInForce.DAY
    )
    message = command_message(new, "ab12-")
    assert message["id"] == "ab12-n7" and message["price"] == "227.50"
    assert message["op"] == "new" and message["side"] == "buy" and message["qty"] == 100
    assert command_message(CancelOrder("MM1", "q1"), "x-") == {"op": "cancel", "id": "x-q1"}
    assert command_message(ReplaceOrder("MM1", "q1", qty=50)) == {
        "op": "replace",
        "id": "q1",
        "qty": 50,
    }


def test_parse_keys_reads_pairs_by_commas_spaces_or_lines() -> None:
    assert parse_keys("a:k1,b:k2 c:k3\nd:k4,broken") == {"a": "k1", "b": "k2", "c": "k3", "d": "k4"}
