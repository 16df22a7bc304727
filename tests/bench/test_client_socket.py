"""The benchmarks' lean WebSocket client, against lob's server and against peers that misbehave."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from pathlib import Path

import msgpack
import pytest

from lob.bench.client_socket import WebSocketClosed, _masked_frame, open_client_socket
from lob.server.config import Limits
from lob.server.wsread import FrameReader
from tests.server.support import ALICE, running
from tests.server.support import run as run_async

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _url(server_url: str) -> str:
    return server_url.replace("http://", "ws://", 1) + "/ws?encoding=msgpack&acks=compact"


def test_orders_are_acknowledged_and_pings_answered(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path, limits=Limits(ws_ping_interval=0.2)) as server:
            answers: asyncio.Queue[dict] = asyncio.Queue()
            ws = await open_client_socket(
                _url(server.url), lambda frame: answers.put_nowait(msgpack.unpackb(frame))
            )
            ws.send(msgpack.packb({"op": "auth", "key": ALICE}))
            assert (await answers.get())["type"] == "authenticated"
            # a batch of 20 orders is a frame over 125 bytes: the 16-bit length form
            order = {"op": "new", "symbol": "AAPL", "side": "buy", "qty": 100}
            orders = [{**order, "id": f"o{i}", "price": f"{150 + i / 100:.2f}"} for i in range(20)]
            ws.send(msgpack.packb({"op": "batch", "orders": orders, "req": 1}))
            await ws.drain()
            batch = await asyncio.wait_for(answers.get(), 10)
            assert batch["req"] == 1
            assert [r["type"] for r in batch["results"]] == ["ack"] * 20
            # the server pings every 0.2 s and closes a client that does not answer
            await asyncio.sleep(1.0)
            assert not ws.closed.done()
            ws.send(msgpack.packb({"op": "cancel", "id": "o3", "req": 2}))
            cancelled = await asyncio.wait_for(answers.get(), 10)
            assert (cancelled["req"], cancelled["type"]) == (2, "ack")
            ws.close()
            await asyncio.wait_for(ws.closed, 10)
            with pytest.raises(WebSocketClosed):
                ws.send(b"after close")
            # the server kept the other 19 orders resting, one a price level
            assert server.exchange is not None
            bids = server.exchange.engine.l2_snapshot("AAPL").bids
            assert (len(bids), sum(level.qty for level in bids)) == (19, 1900)

    run_async(body)


def _accept(request: bytes) -> bytes:
    """The Sec-WebSocket-Accept that answers the upgrade ``request``."""
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


async def _peer(answer: bytes, frames: bytes = b"", chunk: int = 0) -> asyncio.Server:
    """A server that reads the upgrade request, answers it with ``answer`` (``{accept}``
    filled in) and then sends ``frames``, ``chunk`` bytes a write if set."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accept = _accept(await reader.readuntil(b"\r\n\r\n"))
        writer.write(answer.replace(b"{accept}", accept))
        step = chunk or len(frames) or 1
        for i in range(0, len(frames), step):
            writer.write(frames[i : i + step])
            await writer.drain()
            await asyncio.sleep(0.001)
        with contextlib.suppress(ConnectionError):
            await reader.read()  # until the client closes
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


UPGRADE = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: {accept}\r\n\r\n"
)


def _port(server: asyncio.Server) -> int:
    return server.sockets[0].getsockname()[1]


async def _received(frames: bytes, chunk: int, count: int) -> list[bytes]:
    """The messages a client hands over when a peer sends ``frames`` ``chunk`` bytes a
    write: once ``count`` have come (or 5 s passed), checked still open, then closed."""
    got: list[bytes] = []
    async with await _peer(UPGRADE, frames, chunk=chunk) as peer:
        ws = await open_client_socket(f"ws://127.0.0.1:{_port(peer)}/ws", got.append)
        for _ in range(500):
            if len(got) == count:
                break
            await asyncio.sleep(0.01)
        assert not ws.closed.done()
        ws.close()
        await asyncio.wait_for(ws.closed, 5)
    return got


def test_frames_split_across_reads_arrive_whole_and_a_ping_gets_its_pong() -> None:
    async def body() -> None:
        long = bytes(range(256)) * 2  # 512 bytes: the 16-bit length form
        frames = (
            bytes((0x82, 5)) + b"hello"
            + bytes((0x89, 4)) + b"ping"
            + bytes((0x82, 126)) + len(long).to_bytes(2, "big") + long
            + bytes((0x81, 2)) + b"{}"
        )  # fmt: skip
        assert await _received(frames, chunk=3, count=3) == [b"hello", long, b"{}"]

    run_async(body)


def test_pong_is_a_masked_echo_of_the_ping() -> None:
    async def body() -> None:
        received = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accept = _accept(await reader.readuntil(b"\r\n\r\n"))
            writer.write(UPGRADE.replace(b"{accept}", accept) + bytes((0x89, 4)) + b"abcd")
            head = await reader.readexactly(2)
            mask = await reader.readexactly(4)
            payload = await reader.readexactly(head[1] & 0x7F)
            received.set_result(
                (head[0], head[1] & 0x80, bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            )
            writer.close()

        async with await asyncio.start_server(handle, "127.0.0.1", 0) as peer:
            await open_client_socket(f"ws://127.0.0.1:{_port(peer)}/", lambda frame: None)
            assert await asyncio.wait_for(received, 5) == (0x8A, 0x80, b"abcd")

    run_async(body)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "refused the upgrade"),
        (UPGRADE.replace(b"{accept}", b"bm90IHRoZSBrZXk="), "does not match"),
    ],
)
def test_a_refused_or_forged_handshake_is_an_error(answer: bytes, message: str) -> None:
    async def body() -> None:
        async with await _peer(answer) as peer:
            with pytest.raises(WebSocketClosed, match=message):
                await open_client_socket(f"ws://127.0.0.1:{_port(peer)}/ws", lambda frame: None)

    run_async(body)


def test_a_masked_or_unknown_frame_from_the_server_closes_the_connection() -> None:
    async def body() -> None:
        for frames in (bytes((0x82, 0x85)) + b"mask" + b"hello", bytes((0x83, 0))):
            got: list[bytes] = []
            async with await _peer(UPGRADE, bytes((0x82, 2)) + b"ok" + frames) as peer:
                ws = await open_client_socket(f"ws://127.0.0.1:{_port(peer)}/ws", got.append)
                await asyncio.wait_for(ws.closed, 5)
                assert got == [b"ok"]

    run_async(body)


def test_only_ws_urls_with_a_port() -> None:
    async def body() -> None:
        for url in ("http://127.0.0.1:80/ws", "ws://127.0.0.1/ws"):
            with pytest.raises(ValueError, match="expected ws://host:port/path"):
                await open_client_socket(url, lambda frame: None)

    run_async(body)


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 70_000])
def test_each_length_form_the_client_sends_is_read_by_the_servers_frame_reader(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frames, rest = FrameReader(1 << 20).feed(_masked_frame(0x82, payload))
    assert (frames, rest) == ([(0x82, payload)], None)


def test_a_long_frame_over_many_reads_arrives_whole_with_the_frames_around_it() -> None:
    async def body() -> None:
        long = bytes(range(256)) * 1_000  # 256,000 bytes: the 64-bit length form
        frames = (
            bytes((0x82, 2)) + b"a1"
            + bytes((0x82, 127)) + len(long).to_bytes(8, "big") + long
            + bytes((0x82, 2)) + b"b2"
        )  # fmt: skip
        assert await _received(frames, chunk=4_096, count=3) == [b"a1", long, b"b2"]

    run_async(body)


@pytest.mark.parametrize(
    ("close", "how"),
    [
        (bytes((0x88, 13)) + (1008).to_bytes(2, "big") + b"too slow: 1", (1008, "too slow: 1")),
        (bytes((0x88, 0)), (1005, "")),  # a close frame with no status
        (b"", (1006, "")),  # the connection ends with no close frame
    ],
)
def test_how_the_server_closed_is_kept(close: bytes, how: tuple[int, str]) -> None:
    async def body() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accept = _accept(await reader.readuntil(b"\r\n\r\n"))
            writer.write(UPGRADE.replace(b"{accept}", accept) + bytes((0x82, 2)) + b"ok" + close)
            await writer.drain()
            writer.close()

        async with await asyncio.start_server(handle, "127.0.0.1", 0) as peer:
            got: list[bytes] = []
            ws = await open_client_socket(f"ws://127.0.0.1:{_port(peer)}/ws", got.append)
            await asyncio.wait_for(ws.closed, 5)
            assert got == [b"ok"]
            assert (ws.close_code, ws.close_reason) == how

    run_async(body)
