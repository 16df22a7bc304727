"""``ExchangeServer``: one listening socket for REST and WebSocket, plus the feeds.

Why one port: HTTP requests and ``Upgrade: websocket`` on ``/ws`` arrive on the
same socket; the HTTP driver hands an upgrade to the gateway. Start-up
recovers the exchange from the journal before the socket opens, so nobody can
see a half-rebuilt book. Shutdown runs in the opposite order: stop taking
input, let every queued input commit and reach its sender, close the
WebSocket sessions (1001 going away) and the HTTP connections, then let the
history process catch up with the journal, flush and exit, and close the journal.
The history process is a child of the server (``lob.server.history_process``):
it follows the journal file, so matching never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from lob.server.auth import KeyStore
from lob.server.config import ServerConfig
from lob.server.exchange import Exchange, data_dir_lock
from lob.server.http import serve_http
from lob.server.rest import RestApi
from lob.server.ws import Gateway

__all__ = ["ExchangeServer"]

log = logging.getLogger("lob.server")


class ExchangeServer:
    """Run one exchange: ``await start()``, ``await stop()``; or ``async with``."""

    def __init__(
        self, config: ServerConfig, keys: KeyStore, clock: Callable[[], int] = time.time_ns
    ) -> None:
        self.config = config
        self.keys = keys
        self.clock = clock
        """Where the exchange's time comes from (a test may drive it by hand)."""
        self.exchange: Exchange | None = None
        self.gateway: Gateway | None = None
        self.rest: RestApi | None = None
        self.port: int = config.port
        self.addresses: list[str] = []
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._lock_fd: int | None = None
        self._closers: list[Any] = []
        self.history: Any = None
        self.collector: Any = None
        self.feed: Any = None

    async def __aenter__(self) -> ExchangeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        config = self.config
        self._lock_fd = data_dir_lock(config.data_dir)
        try:
            exchange = self.exchange = Exchange(config, self.clock)
            self.gateway = Gateway(exchange, self.keys, config.limits)
            exchange.sequencer.after_ack.append(self.gateway.flush)
            self.rest = RestApi(exchange, self.keys, self.gateway.stats, self.gateway.latency)
            if config.history:
                from lob.server.wiring import history_setup, open_history

                # The history process starts now and imports while the journal replays;
                # it learns the symbols the journal was written with, and those added after.
                before = dict(exchange.reference)
                journal = exchange.journal
                self.history = await open_history(config, lambda: journal.size)
            exchange.recover()
            if self.history is not None:
                await self.history.start(history_setup(before, exchange))
                self.rest.history = self.history.queries
            live_listeners = []
            if config.multicast is not None:
                from lob.server.wiring import start_feed

                self.feed = await start_feed(exchange, config)
                live_listeners.append(self.feed.listener())
            exchange.start(live_listeners)
            if config.gc_tuning:
                from lob.server.collector import CollectorPolicy

                sequencer = exchange.sequencer
                self.collector = CollectorPolicy(lambda: sequencer.inputs)
                self.collector.start()
            self._server = await asyncio.start_server(
                self._on_connection, config.host, config.port, limit=256 * 1024
            )
        except BaseException:
            await self._release()
            raise
        sockets = self._server.sockets or ()
        self.addresses = []
        for sock in sockets:
            host, port = sock.getsockname()[:2]
            self.port = port
            self.addresses.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")

    @property
    def url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None and self.rest is not None and self.gateway is not None
        self._connections.add(task)
        try:
            await serve_http(
                reader,
                writer,
                self.rest.handle,
                self.gateway.upgrade,
                max_body=self.config.limits.max_body,
                idle_timeout=self.config.limits.idle_timeout,
            )
        except asyncio.CancelledError:
            writer.transport.abort()
        except Exception:
            log.exception("connection failed")
        finally:
            self._connections.discard(task)

    async def stop(self) -> None:
        """Stop intake, commit what was accepted, close every connection and file."""
        exchange = self.exchange
        if self._server is not None:
            self._server.close()
        if exchange is not None:
            await exchange.day.close()
            exchange.sequencer._accepting = False  # new orders now get 503 unavailable
            await exchange.sequencer.close()  # waits for queued inputs to commit and answer
        if self.gateway is not None:
            await self.gateway.close_all()
        if self._connections:
            await asyncio.sleep(0.05)  # let answers already written leave
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        await self._release()

    async def _release(self) -> None:
        if self.collector is not None:
            await self.collector.stop()
            self.collector = None
        if self.feed is not None:
            with contextlib.suppress(Exception):
                await self.feed.close()
            self.feed = None
        if self.history is not None:
            with contextlib.suppress(Exception):
                await self.history.close()
            self.history = None
        if self.exchange is not None:
            await self.exchange.day.close()
        if self.exchange is not None and self.exchange.journal.fd >= 0:
            self.exchange.journal.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
