"""Garbage over HTTP and WebSocket never crashes the server or changes the book."""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.frames import Opcode

from lob.client.rest import RestClient
from tests.server.rawws import RawWs
from tests.server.support import ALICE, ServerThread

FIELDS = ["symbol", "side", "qty", "price", "type", "tif", "post_only", "smp", "id", "op",
          "account", "key", "channel", "depth", "resume_from", "req", "encoding"]  # fmt: skip
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["AAPL", "buy", "sell", "limit", "market", "gtc", "ioc", "book", "new",
                     "cancel", "replace", "subscribe", "227.50", "-1", "1e9", "0.00001"]),
    st.lists(st.integers(), max_size=3),
)  # fmt: skip
OBJECTS = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), VALUES, max_size=8)
PACKABLE_VALUES = VALUES.filter(
    lambda v: (
        not isinstance(v, int | list)
        or all(-(2**63) <= i < 2**64 for i in (v if isinstance(v, list) else [v]))
    )
)
PACKABLE = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=8), PACKABLE_VALUES, max_size=8
)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with tempfile.TemporaryDirectory() as tmp, ServerThread(Path(tmp)) as running:
        yield running


def _exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionError):
            pass
    return b"".join(chunks)


def _alive(server: ServerThread) -> None:
    async def health() -> dict[str, object]:
        async with RestClient(server.server.url) as client:
            return await client.health()  # type: ignore[no-any-return]

    assert server.call(health())["status"] == "ok"


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(garbage=st.binary(max_size=2000))
def test_fuzz_http_garbage_bytes_change_nothing(server: ServerThread, garbage: bytes) -> None:
    before = server.state()
    answer = _exchange(server.server.port, garbage)
    assert b" 500 " not in answer
    assert server.state() == before
    _alive(server)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"]),
    path=st.sampled_from(["/orders", "/orders/x", "/book/AAPL", "/book/%2F", "/fills",
                          "/trades/AAPL?limit=-1", "/book/AAPL?depth=abc", "/ws", "/"])
    | st.text(max_size=30).map(lambda t: "/" + t.replace(" ", "%20").replace("\r", "")
                                .replace("\n", "")),
    body=st.binary(max_size=300),
)  # fmt: skip
def test_fuzz_http_requests_without_a_key_change_nothing(
    server: ServerThread, method: str, path: str, body: bytes
) -> None:
    before = server.state()
    request = (
        f"{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode("utf-8", "replace") + body
    answer = _exchange(server.server.port, request)
    assert b" 500 " not in answer
    assert server.state() == before


@FUZZ
@given(obj=OBJECTS)
def test_fuzz_order_bodies_with_a_key_never_break_the_engine(
    server: ServerThread, obj: dict[str, object]
) -> None:
    body = json.dumps(obj, allow_nan=True).encode()
    request = (
        f"POST /orders HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer {ALICE}"
        f"\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body
    answer = _exchange(server.server.port, request)
    status = int(answer.split(b" ", 2)[1])
    assert status in (201, 400, 404, 409, 422, 429), answer
    hash_, records = server.state()  # check_integrity runs here
    assert hash_ and records >= 0


@FUZZ
@given(
    frames=st.lists(
        st.one_of(
            st.binary(max_size=200).map(lambda b: (Opcode.BINARY, b)),
            st.text(max_size=200).map(lambda t: (Opcode.TEXT, t.encode())),
            OBJECTS.map(lambda o: (Opcode.TEXT, json.dumps(o, allow_nan=True).encode())),
            PACKABLE.map(lambda o: (Opcode.BINARY, msgpack.packb(o, use_bin_type=True))),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_fuzz_websocket_frames_change_nothing(
    server: ServerThread, frames: list[tuple[Opcode, bytes]]
) -> None:
    before = server.state()

    async def talk() -> None:
        ws = await RawWs.connect(server.server.port)
        for opcode, data in frames:
            ws.send_raw(opcode, data)
        ws.send({"op": "ping", "req": "last"})
        await ws.read_until(
            lambda w: any(m.get("req") == "last" for k, m in w.messages() if k == "control")
        )
        await ws.close()
        controls = [m for kind, m in ws.messages() if kind == "control"]
        assert any(c.get("req") == "last" for c in controls) or ws.close_frame() is not None
        assert not any(
            c.get("error", {}).get("code") == "internal" for c in controls if isinstance(c, dict)
        )

    server.call(talk())
    assert server.state() == before
    _alive(server)


@FUZZ
@given(
    before=st.lists(st.binary(max_size=60), max_size=3),
    garbage=st.binary(min_size=1, max_size=300),
)
def test_fuzz_websocket_garbage_bytes_after_the_handshake_change_nothing(
    server: ServerThread, before: list[bytes], garbage: bytes
) -> None:
    """Raw bytes where frames belong (after well-formed frames or not): the server
    answers or closes that connection, nothing else."""
    state = server.state()

    async def talk() -> None:
        ws = await RawWs.connect(server.server.port)
        for data in before:
            ws.send_raw(Opcode.BINARY, data)
        ws.writer.write(garbage)
        await ws.read_for(0.2)
        await ws.close()
        controls = [m for kind, m in ws.messages() if kind == "control"]
        assert not any(
            c.get("error", {}).get("code") == "internal" for c in controls if isinstance(c, dict)
        )

    server.call(talk())
    assert server.state() == state
    _alive(server)


def test_fuzz_server_still_serves_orders_after_all_that(server: ServerThread) -> None:
    async def place() -> str:
        async with RestClient(server.server.url, ALICE) as alice:
            ack = await alice.place("MSFT", "buy", 1, "418.00")
            return str(ack["order"]["status"])

    assert server.call(place()) == "open"


@FUZZ
@given(
    entries=st.lists(
        st.one_of(
            PACKABLE,
            PACKABLE.map(lambda o: {**o, "op": "new", "symbol": "AAPL"}),
            PACKABLE.map(lambda o: {**o, "op": "cancel"}),
            PACKABLE_VALUES,
        ),
        min_size=1,
        max_size=12,
    )
)
def test_fuzz_batch_entries_each_get_an_answer_and_never_break_the_engine(
    server: ServerThread, entries: list[object]
) -> None:
    async def talk() -> list[object]:
        ws = await RawWs.connect(server.server.port, "encoding=msgpack")
        ws.send({"op": "auth", "key": ALICE})
        batch = {"op": "batch", "orders": entries, "req": "b"}
        ws.send_raw(Opcode.BINARY, msgpack.packb(batch, use_bin_type=True))
        await ws.read_until(
            lambda w: any(m.get("req") == "b" for k, m in w.messages() if k == "control")
        )
        await ws.close()
        answer = next(m for k, m in ws.messages() if k == "control" and m.get("req") == "b")
        return answer["results"] if answer["type"] == "batch_ack" else [answer]

    results = server.call(talk())
    assert results and all(isinstance(r, dict) and r["type"] in ("ack", "error") for r in results)
    if len(results) > 1 or results[0]["type"] == "ack":  # type: ignore[index]
        assert len(results) == len(entries)  # one answer per entry, none skipped
    codes = [r.get("error", {}).get("code") for r in results]  # type: ignore[union-attr]
    assert "internal" not in codes
    hash_, records = server.state()  # check_integrity runs here
    assert hash_ and records >= 0
