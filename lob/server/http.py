"""HTTP/1.1 connections on h11: keep-alive, pipelining, limits, WebSocket hand-off.

Why no framework: the server needs exactly three things from HTTP — requests
in order on a kept-alive connection, hard limits on what a client may send,
and a way to hand an ``Upgrade: websocket`` request on the same port to the
WebSocket gateway — and h11's state machine gives all three with nothing
hidden. This module drives h11 over asyncio streams; the routes live in
``rest.py``.

Pipelined requests are answered one by one in arrival order (h11 buffers the
ones behind). A body over ``max_body`` gets 413 and the connection is closed,
since its remaining bytes would otherwise be read as a request. Malformed HTTP
gets 400 and a close. Idle keep-alive connections close after ``idle_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import h11

from lob.server.errors import PAYLOAD_TOO_LARGE, ApiError, error_body

__all__ = ["HttpRequest", "HttpResponse", "json_response", "serve_http"]

log = logging.getLogger("lob.server")

MAX_HEADER_BYTES = 16 * 1024
READ_CHUNK = 64 * 1024


class HttpRequest(NamedTuple):
    method: str
    path: str
    """As sent (still percent-encoded), so that an encoded ``/`` stays inside its segment."""
    query: dict[str, str]
    headers: dict[str, str]
    """Header names lower-cased; for a repeated header the last value."""
    body: bytes
    raw_headers: list[tuple[bytes, bytes]]
    target: str = ""
    """The request target exactly as sent (path and query)."""


class HttpResponse(NamedTuple):
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_response(
    obj: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> HttpResponse:
    return HttpResponse(status, _dumps(obj).encode(), "application/json", headers)


def error_response(exc: ApiError) -> HttpResponse:
    return json_response(exc.body(), exc.status)


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]
UpgradeHandler = Callable[
    [HttpRequest, asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[None]
]


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


class _Closed(Exception):
    """The peer went away or idled out."""


async def serve_http(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    upgrade: UpgradeHandler | None = None,
    *,
    max_body: int = 64 * 1024,
    idle_timeout: float = 60.0,
) -> None:
    """Serve one connection until the client closes it, errs, or upgrades it."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)

    async def next_event() -> Any:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(idle_timeout):
                    data = await reader.read(READ_CHUNK)
            except (TimeoutError, ConnectionError) as exc:
                raise _Closed from exc
            conn.receive_data(data)

    async def send(response: HttpResponse, head_only: bool = False) -> None:
        headers = [
            ("content-type", response.content_type),
            ("content-length", str(len(response.body))),
            ("server", "lob"),
            *response.headers,
        ]
        out = conn.send(
            h11.Response(
                status_code=response.status, headers=headers, reason=_reason(response.status)
            )
        )
        if not head_only and response.body:
            out += conn.send(h11.Data(data=response.body))
        out += conn.send(h11.EndOfMessage())
        writer.write(out)
        await writer.drain()

    try:
        while True:
            try:
                event = await next_event()
                if type(event) is h11.ConnectionClosed or event is h11.PAUSED:
                    return
                if type(event) is not h11.Request:
                    return
                request_event: h11.Request = event
                headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in request_event.headers
                }
                method = request_event.method.decode("ascii", "replace")
                target = request_event.target.decode("latin-1")
                split = urlsplit(target)
                path = split.path
                query = dict(parse_qsl(split.query, keep_blank_values=True))
                length = headers.get("content-length")
                if length is not None and length.isdigit() and int(length) > max_body:
                    await send(
                        error_response(
                            ApiError(PAYLOAD_TOO_LARGE, f"the body is over {max_body} bytes")
                        )
                    )
                    return
                if conn.client_is_waiting_for_100_continue:
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                body = bytearray()
                while True:
                    part = await next_event()
                    if type(part) is h11.Data:
                        body += part.data
                        if len(body) > max_body:
                            await send(
                                error_response(
                                    ApiError(
                                        PAYLOAD_TOO_LARGE, f"the body is over {max_body} bytes"
                                    )
                                )
                            )
                            return
                    elif type(part) is h11.EndOfMessage:
                        break
                    else:
                        return
            except h11.RemoteProtocolError as exc:
                if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    status = exc.error_status_hint
                    body_obj = error_body("malformed", f"bad HTTP request: {exc}")
                    with contextlib.suppress(h11.LocalProtocolError, ConnectionError):
                        await send(json_response(body_obj, status))
                return
            request = HttpRequest(
                method, path, query, headers, bytes(body), list(request_event.headers), target
            )
            if (
                upgrade is not None
                and headers.get("upgrade", "").lower() == "websocket"
                and method == "GET"
            ):
                trailing, _ = conn.trailing_data
                await upgrade(request, reader, writer, bytes(trailing))
                return
            try:
                response = await handler(request)
            except ApiError as exc:
                response = error_response(exc)
            except Exception:
                log.exception("request %s %s failed", method, path)
                response = json_response(error_body("internal", "internal error"), 500)
            await send(response, head_only=method == "HEAD")
            if conn.our_state is h11.MUST_CLOSE:
                return
            try:
                conn.start_next_cycle()
            except h11.LocalProtocolError:
                return
    except (_Closed, ConnectionError, h11.LocalProtocolError):
        return
    finally:
        if not writer.is_closing():
            writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
