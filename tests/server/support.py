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
) -> ServerConfig:
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
    )


@contextlib.asynccontextmanager
async def running(data_dir: Path, **options: Any) -> AsyncIterator[ExchangeServer]:
    """A started server that is always stopped afterwards."""
    server = ExchangeServer(config_for(data_dir, **options), KeyStore(list(KEYS)))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def run(test: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
    """Run an async test body with a hard time limit."""

    async def bounded() -> T:
        return await asyncio.wait_for(test(), timeout)

    return asyncio.run(bounded())
