"""A small HTTP/1.1 client on h11 and asyncio streams, with one kept-alive connection.

Why not an HTTP library: lob needs JSON requests to one server, in order, on a
kept-alive connection, and h11 is already a dependency. Requests on one
``HttpConnection`` are serialised by a lock; a connection the server closed is
reopened once, transparently, for requests that are safe to repeat (GET,
DELETE, PATCH of a known order): a POST is never sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

import h11

__all__ = ["HttpConnection", "HttpError"]

MAX_IDLE = 30.0
"""Seconds after which a kept-alive connection is replaced rather than reused."""

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class HttpError(OSError):
    """The server could not be reached or broke the protocol."""


class HttpConnection:
    """One keep-alive connection to ``base_url`` (``http://host:port``)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"expected http://HOST:PORT, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._conn: h11.Connection | None = None
        self._lock = asyncio.Lock()
        self._last_used = 0.0

    async def _open(self) -> None:
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise HttpError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self._conn = h11.Connection(h11.CLIENT)

    async def close(self) -> None:
        writer = self._writer
        self._reader = self._writer = self._conn = None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        """Send one request; return (status, body bytes, lower-cased headers)."""
        data = raw if raw is not None else (None if body is None else _dumps(body).encode())
        async with self._lock:
            retry = method != "POST"
            loop = asyncio.get_running_loop()
            if self._conn is not None and loop.time() - self._last_used > MAX_IDLE:
                await self.close()  # the server may be closing it as idle right now
            self._last_used = loop.time()
            for attempt in (0, 1):
                fresh = self._conn is None
                if fresh:
                    await self._open()
                try:
                    return await asyncio.wait_for(
                        self._exchange(method, path, data, headers or {}), self.timeout
                    )
                except (ConnectionError, h11.RemoteProtocolError, _Dropped) as exc:
                    await self.close()
                    if fresh or not retry or attempt:
                        raise HttpError(f"{method} {path}: connection lost ({exc})") from None
                except TimeoutError:
                    await self.close()
                    raise HttpError(f"{method} {path}: no answer in {self.timeout} s") from None
        raise AssertionError("unreachable")

    async def _exchange(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        conn, reader, writer = self._conn, self._reader, self._writer
        assert conn is not None and reader is not None and writer is not None
        head = [("host", f"{self.host}:{self.port}"), ("user-agent", "lob-client")]
        head += list(headers.items())
        if data is not None:
            head += [("content-type", "application/json"), ("content-length", str(len(data)))]
        out = conn.send(h11.Request(method=method, target=self.prefix + path, headers=head))
        if data:
            out += conn.send(h11.Data(data=data))
        out += conn.send(h11.EndOfMessage())
        writer.write(out)
        await writer.drain()
        status = 0
        response_headers: dict[str, str] = {}
        chunks = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                received = await reader.read(65536)
                if not received and conn.their_state is h11.SEND_RESPONSE and not status:
                    raise _Dropped("closed before answering")
                conn.receive_data(received)
                continue
            kind = type(event)
            if kind is h11.Response:
                status = event.status_code
                response_headers = {
                    k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers
                }
            elif kind is h11.Data:
                chunks += event.data
            elif kind is h11.EndOfMessage:
                break
            elif kind is h11.ConnectionClosed:
                raise _Dropped("connection closed")
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
            await self.close()
        else:
            conn.start_next_cycle()
        return status, bytes(chunks), response_headers


class _Dropped(ConnectionError):
    """The server closed a kept-alive connection before answering."""
