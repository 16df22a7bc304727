"""Running a real ``ExchangeServer`` on 127.0.0.1, port 0, inside a test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from lob.server.auth import KeyStore
from lob.server.config import Limits, ServerConfig
from lob.server.server import ExchangeServer
from lob.sim.universe import load_symbols

T = TypeVar("T")

KEYS = (("alice", "alice-key-0001"), ("bob", "bob-key-000002"))
ALICE = KEYS[0][1]
BOB = KEYS[1][1]


def config_for(
    data_dir: Path,
    *,
    fsync: str = "off",
    limits: Limits | None = None,
    symbols: str = "AAPL,MSFT,PNNY",
    multicast: tuple[str, int] | None = None,
    history: bool = False,
    ring_capacity: int = 4096,
    feed_history: int = 100_000,
    **day: Any,
) -> ServerConfig:
    """A test server's configuration; ``day`` takes calendar, day_length, day_tick, luld and
    admin_key."""
    return ServerConfig(
        data_dir=data_dir,
        securities=tuple(load_symbols(symbols)),
        host="127.0.0.1",
        port=0,
        multicast=multicast,
        retransmit_port=0,
        fsync=fsync,
        history=history,
        limits=limits or Limits(),
        ring_capacity=ring_capacity,
        feed_history=feed_history,
        **day,
    )


@contextlib.asynccontextmanager
async def running(
    data_dir: Path, clock: Callable[[], int] | None = None, **options: Any
) -> AsyncIterator[ExchangeServer]:
    """A started server that is always stopped afterwards (on ``clock`` if given)."""
    config = config_for(data_dir, **options)
    keys = KeyStore(list(KEYS))
    server = ExchangeServer(config, keys) if clock is None else ExchangeServer(config, keys, clock)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class ManualClock:
    """A clock a test moves by hand; each reading is 1 µs after the last, so time never
    stands still for the sequencer."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1_000
        return self.now

    def set(self, ts: int) -> None:
        self.now = max(self.now, ts)


def run(test: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
    """Run an async test body with a hard time limit."""

    async def bounded() -> T:
        return await asyncio.wait_for(test(), timeout)

    return asyncio.run(bounded())


class ServerThread:
    """A server on its own event loop thread, for synchronous (hypothesis) tests."""

    def __init__(self, data_dir: Path, **options: Any) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self.server = ExchangeServer(config_for(data_dir, **options), KeyStore(list(KEYS)))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        self.call(self.server.start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self.server.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    def call(self, coro: Awaitable[T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def state(self) -> tuple[str, int]:
        """The books with owners, and the journal length, read on the server's thread."""

        async def read() -> tuple[str, int]:
            ex = self.server.exchange
            assert ex is not None
            ex.engine.check_integrity()
            return ex.engine.state_hash(include_owners=True), ex.journal.records

        return self.call(read())
