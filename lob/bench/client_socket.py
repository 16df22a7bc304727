"""A lean WebSocket client connection for the benchmarks' clients.

Why: ``lob bench e2e`` times each order on its clients' clock, so whatever the
client spends between an answer reaching its socket and the moment it reads the
clock is counted as the server's, and the clients share the machine's cores
with the server. With the ``websockets`` library's client, a message went from
the protocol's parser through a queue to a reading task a turn of the loop
later, in Python generators. Here a connection is an ``asyncio.Protocol``: each
frame the server sends is parsed where its bytes arrive and handed to a
callback in the same turn, and a message is sent as one masked frame written
straight to the transport. The order-entry processes use it (at 10,000
orders/s: a quarter less client CPU, and the harness's floor about 0.2 ms
lower), and so do the market-data subscribers of ``lob bench ws`` and ``lob
bench e2e``, a hundred to a process, which then keep up with more of the
stream (docs/benchmarks.md). It speaks only what the benchmarks need (RFC
6455: the opening handshake, final data frames, ping/pong, close); anything
else from the server aborts the connection, and the next send raises
``WebSocketClosed``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import socket
from collections.abc import Callable
from typing import Final, cast
from urllib.parse import urlsplit

try:  # websockets' C helper; its pure-Python twin where the wheel has none
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - depends on how websockets was installed
    from websockets.utils import apply_mask

from lob.server.wsframe import header, payload_length

__all__ = ["ClientSocket", "WebSocketClosed", "open_client_socket"]

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT: Final = 0x81
_BINARY: Final = 0x82
_CLOSE: Final = 0x88
_PING: Final = 0x89
_PONG: Final = 0x8A
_MASKED: Final = 0x80
_MAX_HANDSHAKE: Final = 16_384


class WebSocketClosed(ConnectionError):
    """The connection closed, or the server sent something this client does not read."""


def _masked_frame(first: int, payload: bytes) -> bytes:
    """A client frame: header, a fresh masking key, the masked payload (RFC 6455, 5.3)."""
    head = bytearray(header(first, len(payload)))
    head[1] |= _MASKED  # the server's length forms, with the mask bit set
    key = os.urandom(4)
    return bytes(head) + key + apply_mask(payload, key)


class ClientSocket(asyncio.Protocol):
    """One client connection; ``on_message(payload)`` runs for each data frame."""

    def __init__(self, on_message: Callable[[bytes], None], max_size: int) -> None:
        self.on_message = on_message
        self.max_size = max_size
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._accept = b""
        self._handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Bytes that make no whole handshake answer or frame yet gather here until
        # ``_need`` bytes are held, then are joined once: a long frame's parts are
        # not copied again at every read.
        self._parts: list[bytes] = []
        self._held = 0
        self._need = 0
        self._open = False
        self._writable: asyncio.Future[None] | None = None
        self.close_code: int | None = None
        """The code of the server's close frame (1005 if it had none); 1006 when the
        connection ended without one; None while open."""
        self.close_reason = ""

    # -- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        if self._parts:
            self._parts.append(data)
            self._held += len(data)
            if self._held < self._need:
                return
            buf = b"".join(self._parts)
            self._parts = []
        else:
            buf = data
        if not self._open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > _MAX_HANDSHAKE:
                    self._fail("the handshake's answer is too long")
                self._hold(buf, len(buf) + 1)
                return
            self._check_handshake(buf[:end].decode("latin-1"))
            if self._handshake.done() and self._handshake.exception() is not None:
                return
            buf = buf[end + 4 :]
            self._open = True
        rest = self._read_frames(buf)
        if rest:
            length, start = payload_length(rest, 0)
            # The whole frame; or, while its header is incomplete, any byte more.
            self._hold(rest, start + length if start >= 0 else len(rest) + 1)

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None:
            if not self._writable.done():
                self._writable.set_result(None)
            self._writable = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._open = False
        if self.close_code is None:
            self.close_code = 1006  # closed without a close frame (RFC 6455, 7.1.5)
        self.resume_writing()
        error = WebSocketClosed(f"connection lost: {exc}" if exc else "connection closed")
        if not self._handshake.done():
            self._handshake.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(None)

    # -- sending -------------------------------------------------------------

    def send(self, payload: bytes) -> None:
        """Send ``payload`` as one binary message."""
        if not self._open or self.transport is None or self.transport.is_closing():
            raise WebSocketClosed("the connection is not open")
        self.transport.write(_masked_frame(_BINARY, payload))

    async def drain(self) -> None:
        """Wait while the transport's buffer is full; else give the loop one turn,
        so that answers are read between sends even when a sender is behind."""
        if self._writable is not None:
            await self._writable
        else:
            await asyncio.sleep(0)

    def close(self) -> None:
        """Send a close frame (1000) and shut the connection."""
        if self.transport is not None and not self.transport.is_closing():
            if self._open:
                self.transport.write(_masked_frame(_CLOSE, (1000).to_bytes(2, "big")))
            self._open = False
            self.transport.close()

    # -- internals -----------------------------------------------------------

    def _start(self, host: str, port: int, target: str) -> None:
        key = base64.b64encode(os.urandom(16))
        self._accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        assert self.transport is not None
        self.transport.write(
            f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def _check_handshake(self, head: str) -> None:
        status, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if not status.startswith("HTTP/1.1 101"):
            self._fail(f"the server refused the upgrade: {status}")
        elif headers.get("sec-websocket-accept", "").encode() != self._accept:
            self._fail("the server's Sec-WebSocket-Accept does not match the key")
        else:
            self._handshake.set_result(None)

    def _hold(self, buf: bytes, need: int) -> None:
        """Keep ``buf`` until ``need`` bytes have arrived in all."""
        self._parts, self._held, self._need = [buf], len(buf), need

    def _read_frames(self, buf: bytes) -> bytes:
        """Hand over each complete frame in ``buf``; return the incomplete rest."""
        size = len(buf)
        pos = 0
        while size - pos >= 2:
            first = buf[pos]
            if buf[pos + 1] & _MASKED:
                self._fail("the server sent a masked frame")
                return b""
            length, start = payload_length(buf, pos)
            if start < 0:
                break
            if length > self.max_size:
                self._fail(f"a frame of {length} bytes is over the limit of {self.max_size}")
                return b""
            end = start + length
            if end > size:
                break
            payload = buf[start:end]
            pos = end
            if first in (_BINARY, _TEXT):
                self.on_message(payload)
            elif first == _PING:
                assert self.transport is not None
                self.transport.write(_masked_frame(_PONG, payload))
            elif first == _CLOSE:
                if len(payload) >= 2:
                    self.close_code = int.from_bytes(payload[:2], "big")
                    self.close_reason = payload[2:].decode("utf-8", "replace")
                else:
                    self.close_code = 1005  # no status code (RFC 6455, 7.1.5)
                self.close()
                return b""
            elif first != _PONG:
                self._fail(f"unexpected frame, first byte {first:#04x}")
                return b""
        return buf[pos:]

    def _fail(self, reason: str) -> None:
        error = WebSocketClosed(reason)
        if not self._handshake.done():
            self._handshake.set_exception(error)
        if self.transport is not None:
            self.transport.abort()


async def open_client_socket(
    url: str, on_message: Callable[[bytes], None], max_size: int = 2**24
) -> ClientSocket:
    """Connect to ``url`` (``ws://host:port/path?query``) and complete the handshake."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname is None or parts.port is None:
        raise ValueError(f"expected ws://host:port/path, got {url!r}")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(
        lambda: ClientSocket(on_message, max_size), parts.hostname, parts.port
    )
    conn._start(parts.hostname, parts.port, target)
    await conn._handshake
    return conn
