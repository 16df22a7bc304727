"""A WebSocket client with its hands on the socket, for tests that need a slow or rude peer.

It uses websockets' sans-I/O ``ClientProtocol`` over a socket whose receive
buffer the test chooses, and reads only when told to: a client that stops
reading, sends garbage frames, or reads everything at the end.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import msgpack
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from lob.feed.wire import decode_msgpack_all, message_from_dict

WIRE_TYPES = frozenset({"level", "trade", "snapshot", "batch", "top"})


class RawWs:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, proto: Any):
        self.reader = reader
        self.writer = writer
        self.proto = proto
        self.frames: list[Frame] = []
        self.closed = False

    @classmethod
    async def connect(
        cls, port: int, query: str = "encoding=json", rcvbuf: int | None = None
    ) -> RawWs:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws?{query}"), max_size=2**24)
        proto.send_request(proto.connect())
        ws = cls(reader, writer, proto)
        ws._flush()
        while proto.handshake_exc is None and proto.state.name == "CONNECTING":
            data = await asyncio.wait_for(reader.read(65536), 10)
            if not data:
                break
            proto.receive_data(data)
            ws.frames.extend(e for e in proto.events_received() if isinstance(e, Frame))
        if proto.handshake_exc is not None:
            raise proto.handshake_exc
        return ws

    def _flush(self) -> None:
        for chunk in self.proto.data_to_send():
            if chunk:
                self.writer.write(chunk)

    def send(self, obj: Any) -> None:
        self.proto.send_text(json.dumps(obj).encode())
        self._flush()

    def send_raw(self, opcode: Opcode, data: bytes) -> None:
        if opcode is Opcode.TEXT:
            self.proto.send_text(data)
        else:
            self.proto.send_binary(data)
        self._flush()

    async def read_for(self, seconds: float) -> None:
        """Read whatever arrives for ``seconds`` (or until the connection ends)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.closed:
            left = deadline - loop.time()
            if left <= 0:
                return
            try:
                data = await asyncio.wait_for(self.reader.read(65536), left)
            except TimeoutError:
                return
            except ConnectionError:
                self.closed = True
                return
            if not data:
                self.proto.receive_eof()
                self.closed = True
            else:
                self.proto.receive_data(data)
            for event in self.proto.events_received():
                if isinstance(event, Frame):
                    self.frames.append(event)
            self._flush()

    async def read_until(self, done: Any, timeout: float = 10.0) -> None:
        """Read until ``done(self)`` is true, the connection ends, or ``timeout`` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.closed and not done(self) and loop.time() < deadline:
            await self.read_for(0.05)

    def messages(self) -> list[tuple[str, Any]]:
        """Every received message: ("control", dict) or ("market", wire message)."""
        out: list[tuple[str, Any]] = []
        for frame in self.frames:
            if frame.opcode is Opcode.TEXT:
                for line in frame.data.decode().split("\n"):  # not splitlines: see WsClient
                    obj = json.loads(line)
                    if obj.get("type") in WIRE_TYPES:
                        out.append(("market", message_from_dict(obj)))
                    else:
                        out.append(("control", obj))
            elif frame.opcode is Opcode.BINARY:
                if frame.data[0] in (*range(0x80, 0x90), 0xDE, 0xDF):
                    out.append(("control", msgpack.unpackb(frame.data)))
                else:
                    out.extend(("market", m) for m in decode_msgpack_all(frame.data))
        return out

    def close_frame(self) -> Frame | None:
        return next((f for f in self.frames if f.opcode is Opcode.CLOSE), None)

    async def close(self) -> None:
        self.writer.transport.abort()
