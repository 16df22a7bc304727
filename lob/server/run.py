"""Running ``lob serve`` in the foreground: event loop, signals, what the user is told.

uvloop drives the event loop when it is installed (it is a dependency on every
platform but Windows). SIGINT and SIGTERM start a graceful shutdown: intake
stops, every accepted input commits and is answered, sessions close, the
history process catches up with the journal, flushes and exits, and the
journal is closed. A second signal exits at once; the journal makes that safe
for everything acknowledged, and the history process, which exits when the
server is gone, rebuilds its history from the journal at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import sys

from lob.priority import ask_short_slices, keep_to
from lob.server.auth import KEYS_FILE, KeyStore
from lob.server.config import ServerConfig
from lob.server.server import ExchangeServer
from lob.store.journal import JournalError

__all__ = ["is_loopback", "run_server"]

log = logging.getLogger("lob.server")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _say(text: str) -> None:
    """A line for the operator on stderr.

    A reader that is gone (``lob serve 2>&1 | tee log`` after a Ctrl-C, which
    stops ``tee`` too) must not cut a graceful shutdown short: from then on
    stderr goes to the null device.
    """
    try:
        print(text, file=sys.stderr, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stderr.fileno())
        os.close(devnull)


async def _main(config: ServerConfig, keys: KeyStore, created: list[tuple[str, str]] | None) -> int:
    server = ExchangeServer(config, keys)
    try:
        await server.start()
    except (OSError, RuntimeError, JournalError) as exc:
        _say(f"lob serve: cannot start: {exc}")
        return 1
    ex = server.exchange
    assert ex is not None
    # Signals are handled before the addresses are printed: printed means ready.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals > 1:
            _say("lob serve: second signal, exiting now")
            raise SystemExit(130)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal)
    url = server.url
    _say(f"lob exchange: {len(ex.symbols)} symbols, data in {config.data_dir}")
    if ex.replayed:
        _say(f"  recovered {ex.replayed} journal records (engine seq {ex.engine.seq})")
    if ex.torn_bytes:
        _say(f"  cut a torn journal tail of {ex.torn_bytes} bytes (never acknowledged)")
    _say(f"  REST       {url}   (docs: {url}/docs)")
    ws = url.replace("http://", "ws://", 1)
    _say(f"  WebSocket  {ws}/ws")
    if server.feed is not None:
        info = server.feed.info()
        _say(
            f"  ITCH feed  udp://{info['group']}:{info['port']} on {info['interface']}"
            f" (retransmit {info['retransmit']}, session {info['session']})"
        )
    _say(f"  journal    fsync={config.fsync}")
    if config.cpu is not None:
        helpers = ",".join(map(str, config.helper_cpus)) or "any"
        _say(f"  CPUs       sequencer on {config.cpu}, history on {helpers}")
    if server.history is not None:
        _say(
            f"  history    {config.history_path}"
            f" (built from the journal by process {server.history.process.pid})"
        )
    day = config.calendar
    if day == "compressed":
        day += f" ({config.day_length / 60e9:g} minutes a day)"
    _say(f"  calendar   {day}" + (", LULD bands on" if config.luld else ""))
    if config.admin_key is not None:
        _say("  admin      POST /admin/symbols/SYMBOL/state with the admin key")
    if not is_loopback(config.host):
        _say(f"  WARNING: listening on {config.host}, not loopback: others can reach it")
    if created:
        account, key = created[0]
        symbol = "AAPL" if "AAPL" in ex.symbols else sorted(ex.symbols)[0]
        reference = ex.symbol_info(symbol)["reference_price"] or "1.00"
        order = f'{{"symbol":"{symbol}","side":"buy","qty":100,"price":"{reference}"}}'
        _say(f"  created an API key for account {account!r} in {config.data_dir / KEYS_FILE}:")
        _say(f"    export LOB_KEY={key}")
        _say(f"    curl -s -H \"Authorization: Bearer $LOB_KEY\" -d '{order}' {url}/orders")
    else:
        _say(f"  accounts   {', '.join(keys.accounts)}")
    await stop.wait()
    _say("lob serve: shutting down")
    await server.stop()
    _say("lob serve: stopped")
    return 0


def run_server(
    config: ServerConfig, keys: KeyStore, created: list[tuple[str, str]] | None = None
) -> int:
    """Serve until SIGINT/SIGTERM; return the process exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    # Short time slices for the loop's thread, so that it takes a core at once
    # when an order or a sync's answer wakes it (lob.priority). Asked before the
    # journal's sync process starts, which inherits them; the history process
    # gives way and drops them.
    ask_short_slices()
    if config.cpu is not None:
        # Before anything starts a thread or a process: they inherit the set.
        keep_to((config.cpu,))
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(_main(config, keys, created))
    return uvloop.run(_main(config, keys, created))
