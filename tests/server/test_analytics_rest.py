"""History and analytics over REST, against a real ``lob serve`` on loopback.

One server with history (port 0, a temporary data directory) takes orders
over REST; the trades must then appear in ``/history/trades`` and in the
analytics, with values equal to a computation from the trades themselves.
A second server runs with ``--no-history``. Both are stopped by SIGTERM.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lob.cli.app import app
from tests.server.support import ALICE, BOB
from tests.server.test_durability import _start, _stop

runner = CliRunner()
Answer = tuple[int, Any]


def call(url: str, method: str, path: str, body: Any = None, key: str | None = None) -> Answer:
    """One blocking request: (status, decoded JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str, path: str, key: str | None = None) -> Any:
    status, body = call(url, "GET", path, key=key)
    assert status == 200, body
    return body


def order(url: str, key: str, **fields: Any) -> None:
    status, body = call(url, "POST", "/orders", fields, key)
    assert status == 201, body


def settled(url: str, path: str, count: int) -> list[dict[str, Any]]:
    """The trades at ``path`` once ``count`` have reached the history (it trails by ~50 ms)."""
    deadline = time.monotonic() + 10
    while True:
        status, body = call(url, "GET", path)  # 404 empty_history until the first rows land
        trades: list[dict[str, Any]] = body.get("trades", []) if status == 200 else []
        if len(trades) >= count or time.monotonic() > deadline:
            assert status == 200, body
            return trades
        time.sleep(0.02)


def tick_up(price: str, ticks: int) -> str:
    return str(Decimal(price) + Decimal("0.01") * ticks)


class Live:
    def __init__(self, url: str, reference: str) -> None:
        self.url = url
        self.reference = reference
        self.aapl: list[dict[str, Any]] = []


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A server with history on which alice sold and bob bought: 7 AAPL trades, 1 MSFT."""
    proc, url = _start(tmp_path_factory.mktemp("history"), history=True)
    try:
        symbols = {s["symbol"]: s for s in get(url, "/symbols")["symbols"]}
        ref = symbols["AAPL"]["reference_price"]
        state = Live(url, ref)
        order(url, ALICE, id="s1", symbol="AAPL", side="sell", qty=100, price=ref)
        order(url, ALICE, id="s2", symbol="AAPL", side="sell", qty=150, price=tick_up(ref, 1))
        order(url, BOB, id="b1", symbol="AAPL", side="buy", qty=250, price=tick_up(ref, 1))
        for i in range(5):
            price = tick_up(ref, 2 + i)
            order(url, ALICE, id=f"s{3 + i}", symbol="AAPL", side="sell", qty=10 + i, price=price)
            order(url, BOB, id=f"b{2 + i}", symbol="AAPL", side="buy", qty=10 + i, price=price)
        msft = symbols["MSFT"]["reference_price"]
        order(url, BOB, id="m1", symbol="MSFT", side="sell", qty=40, price=msft)
        order(url, ALICE, id="m2", symbol="MSFT", side="buy", qty=40, price=msft)
        state.aapl = settled(url, "/history/trades?symbol=AAPL", 7)
        settled(url, "/history/trades?symbol=MSFT", 1)
        yield state
    finally:
        _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0


def test_history_trades_hold_every_trade_placed_over_rest(live: Live) -> None:
    ref = live.reference
    placed = [(ref, 100), (tick_up(ref, 1), 150)] + [
        (tick_up(ref, 2 + i), 10 + i) for i in range(5)
    ]
    got = [(Decimal(t["price"]), t["qty"]) for t in live.aapl]
    assert got == [(Decimal(p), q) for p, q in placed]
    assert all(t["buy_account"] == "bob" and t["sell_account"] == "alice" for t in live.aapl)
    everything = get(live.url, "/history/trades")["trades"]
    assert sorted(t["symbol"] for t in everything) == ["AAPL"] * 7 + ["MSFT"]


def test_vwap_equals_a_computation_from_the_trades(live: Live) -> None:
    volume = sum(t["qty"] for t in live.aapl)
    notional = sum(Decimal(t["price"]) * t["qty"] for t in live.aapl)
    expected = (notional / volume).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    body = get(live.url, "/analytics/AAPL/vwap")
    assert Decimal(body["vwap"]) == expected
    assert body["volume"] == volume and body["trades"] == 7
    assert Decimal(body["notional"]) == notional
    rolling = get(live.url, "/analytics/AAPL/vwap?window=5m&step=1m")
    assert rolling["series"][-1]["volume"] == volume
    anchored = get(live.url, "/analytics/AAPL/vwap?every=1m")
    assert Decimal(anchored["series"][-1]["vwap"]) == expected


def test_bars_add_up_to_the_trades(live: Live) -> None:
    body = get(live.url, "/analytics/AAPL/bars?interval=1m")
    bars = body["bars"]
    assert body["interval"] == 60_000_000_000 and bars
    prices = [Decimal(t["price"]) for t in live.aapl]
    assert sum(b["volume"] for b in bars) == sum(t["qty"] for t in live.aapl)
    assert sum(b["trades"] for b in bars) == 7
    assert Decimal(bars[0]["open"]) == prices[0] and Decimal(bars[-1]["close"]) == prices[-1]
    assert max(Decimal(b["high"]) for b in bars) == max(prices)
    assert min(Decimal(b["low"]) for b in bars) == min(prices)


def test_metrics_spread_volatility_and_imbalance_answer(live: Live) -> None:
    metrics = get(live.url, "/analytics/AAPL/metrics")
    assert metrics["buy_volume"] == sum(t["qty"] for t in live.aapl)
    assert metrics["sell_volume"] == 0
    assert get(live.url, "/analytics/AAPL/spread")["quotes"] > 0
    assert get(live.url, "/analytics/AAPL/volatility?interval=1s")["interval"] == 1_000_000_000
    flows = get(live.url, "/analytics/AAPL/imbalance")["intervals"]
    assert sum(f["buy_volume"] for f in flows) == metrics["volume"]


def test_activity_ranks_both_symbols(live: Live) -> None:
    body = get(live.url, "/analytics/activity")
    by_symbol = {s["symbol"]: s for s in body["symbols"]}
    assert by_symbol["AAPL"]["trades"] == 7 and by_symbol["MSFT"]["volume"] == 40
    assert body["trades"] == 8
    assert body["most_active_by_trades"][0] == "AAPL"
    assert get(live.url, "/analytics/activity?top=1")["most_active_by_volume"] == ["AAPL"]


def test_history_trades_pages_with_the_cursor_cover_every_trade_once(live: Live) -> None:
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        query = "/history/trades?symbol=AAPL&limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = get(live.url, query)
        pages.append(body["trades"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [t for page in pages for t in page] == live.aapl


def test_history_trades_from_and_to_bound_the_range(live: Live) -> None:
    second = live.aapl[1]["ts"]
    last = live.aapl[-1]["ts"]
    body = get(live.url, f"/history/trades?symbol=AAPL&from={second}&to={last}")
    assert body["trades"] == [t for t in live.aapl if second <= t["ts"] < last]


def test_history_orders_shows_only_the_keys_own_account(live: Live) -> None:
    alice = get(live.url, "/history/orders", ALICE)["orders"]
    bob = get(live.url, "/history/orders?symbol=AAPL", BOB)["orders"]
    assert {o["account"] for o in alice} == {"alice"} and len(alice) == 8
    assert {o["account"] for o in bob} == {"bob"} and {o["symbol"] for o in bob} == {"AAPL"}
    assert get(live.url, "/history/orders?account=alice", ALICE)["orders"] == alice
    status, body = call(live.url, "GET", "/history/orders?account=bob", key=ALICE)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = call(live.url, "GET", "/history/orders")
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = call(live.url, "GET", "/history/orders", key="not-a-key-at-all")
    assert (status, body["error"]["code"]) == (401, "unauthorized")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/analytics/ZZZZ/vwap", 404, "unknown_symbol"),
        ("/history/trades?symbol=ZZZZ", 404, "unknown_symbol"),
        ("/analytics/AAPL/bars?interval=3d", 400, "invalid_interval"),
        ("/analytics/AAPL/vwap?window=90s&step=1m", 400, "invalid_interval"),
        ("/analytics/AAPL/bars?fill=maybe", 400, "invalid_field"),
        ("/analytics/AAPL/metrics?since=noon", 400, "invalid_time"),
        ("/history/trades?cursor=x", 400, "invalid_cursor"),
        ("/history/trades?limit=0", 400, "invalid_limit"),
        ("/history/trades?from=1&since=1", 400, "invalid_field"),
        ("/analytics/activity?top=-1", 400, "invalid_field"),
        ("/analytics/AAPL/nothing", 404, "not_found"),
        ("/history/nothing", 404, "not_found"),
    ],
)
def test_bad_questions_get_their_stable_codes(
    live: Live, path: str, status: int, code: str
) -> None:
    got, body = call(live.url, "GET", path)
    assert (got, body["error"]["code"]) == (status, code)
    assert body["error"]["message"]


def test_analytics_post_is_method_not_allowed(live: Live) -> None:
    status, body = call(live.url, "POST", "/analytics/AAPL/vwap", {})
    assert (status, body["error"]["code"]) == (405, "method_not_allowed")


def test_cli_vwap_with_url_prints_the_rest_answer(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOB_HISTORY", raising=False)
    monkeypatch.delenv("LOB_URL", raising=False)
    for args, path in (
        ([], "/analytics/AAPL/vwap"),
        (["--window", "5m", "--step", "1m"], "/analytics/AAPL/vwap?window=5m&step=1m"),
    ):
        result = runner.invoke(
            app, ["analytics", "vwap", "AAPL", *args, "--url", live.url, "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == get(live.url, path)


def test_cli_history_orders_with_url_sends_the_key(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOB_HISTORY", raising=False)
    monkeypatch.setenv("LOB_KEY", BOB)
    result = runner.invoke(app, ["history", "orders", "bob", "--url", live.url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == get(live.url, "/history/orders", BOB)
    refused = runner.invoke(app, ["history", "orders", "alice", "--url", live.url, "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["code"] == "forbidden"


def test_a_fresh_history_is_empty_then_shows_a_new_trade(tmp_path: Path) -> None:
    proc, url = _start(tmp_path, history=True)
    try:
        status, body = call(url, "GET", "/analytics/activity")
        assert (status, body["error"]["code"]) == (404, "empty_history")
        ref = next(s for s in get(url, "/symbols")["symbols"] if s["symbol"] == "MSFT")[
            "reference_price"
        ]
        order(url, ALICE, id="a", symbol="MSFT", side="sell", qty=5, price=ref)
        order(url, BOB, id="b", symbol="MSFT", side="buy", qty=5, price=ref)
        assert [t["qty"] for t in settled(url, "/history/trades", 1)] == [5]
        assert get(url, "/analytics/MSFT/vwap")["volume"] == 5
    finally:
        _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0


def test_without_history_every_endpoint_answers_503_unavailable(tmp_path: Path) -> None:
    proc, url = _start(tmp_path, history=False)
    try:
        for path in (
            "/analytics/AAPL/vwap",
            "/analytics/AAPL/bars?interval=1m",
            "/analytics/AAPL/metrics",
            "/analytics/AAPL/spread",
            "/analytics/AAPL/volatility",
            "/analytics/AAPL/imbalance",
            "/analytics/activity",
            "/history/trades",
            "/history/orders",
        ):
            status, body = call(url, "GET", path, key=ALICE)
            assert (status, body["error"]["code"]) == (503, "unavailable"), path
            assert "--no-history" in body["error"]["message"]
        assert call(url, "GET", "/history/orders")[0] == 401
        assert get(url, "/health")["status"] == "ok"
    finally:
        _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
