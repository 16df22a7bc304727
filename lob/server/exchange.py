"""The exchange without sockets: engine, journal, sequencer and every view of them.

Why separate from the network: start-up (recover the journal, rebuild the
books, bring the views up to date) and the fan-out of each command's events
are the same whoever talks to the exchange, and tests can check a restart by
building two of these on one data directory.

Start-up order matters: the symbols the journal was written with are added
first (``symbols.json`` in the data directory keeps their reference prices,
since collars decide which orders were accepted), then the journal is replayed
through the engine and every view, and only then are symbols that are new in
this run added and the listeners that talk to the outside attached.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lob.engine.events import Event
from lob.engine.replay import NEW_YORK
from lob.engine.types import TimeInForce
from lob.server.accounts import Accounts, Tape
from lob.server.config import ServerConfig
from lob.server.counters import EventCounters
from lob.server.day import DayClock, DayPlan
from lob.server.marketdata import MarketData
from lob.server.private import PrivateStreams
from lob.server.replica import new_engine
from lob.server.sequencer import Sequencer
from lob.server.trading import TradingView
from lob.sim.universe import Security, load_universe
from lob.store.journal import EnableLuld, ExpireOrders, Journal

__all__ = ["SYMBOLS_FILE", "Exchange", "luld_tier", "session_date"]

log = logging.getLogger("lob.server")

SYMBOLS_FILE = "symbols.json"


_SMALL_CAPS = frozenset({"SNDL", "PNNY"})
"""Shipped symbols that are not large caps (LULD tier 2)."""


def luld_tier(symbol: str, shipped: frozenset[str]) -> int:
    """LULD tier 1 for the shipped universe's large caps, tier 2 for everything else."""
    return 1 if symbol in shipped and symbol not in _SMALL_CAPS else 2


def session_date(ts_ns: int) -> dt.date:
    """The New York trading date of an epoch-ns time."""
    return dt.datetime.fromtimestamp(ts_ns / 1e9, tz=NEW_YORK).date()


class Exchange:
    """One exchange's state; ``start`` (on the event loop) begins taking input."""

    def __init__(self, config: ServerConfig, clock: Callable[[], int] = time.time_ns) -> None:
        self.config = config
        self.clock = clock
        self.started_ns = clock()
        self.engine = new_engine()  # the history process's replica is made the same way
        self.securities: dict[str, Security] = {}
        self.reference: dict[str, int | None] = {}
        self.journal = Journal.open(config.data_dir)
        self.sequencer = Sequencer(self.engine, self.journal, config.fsync, clock)
        self.accounts = Accounts()
        self.tape = Tape()
        self.market = MarketData(self.engine, config.ring_capacity)
        self.trading = TradingView(self.engine)
        self.plan = DayPlan(config.calendar, config.day_length)
        self.day = DayClock(self.plan, self.engine, self.sequencer, clock, config.day_tick)
        self.private = PrivateStreams()
        """Per-account listeners (WebSocket execution streams)."""
        self.counters: dict[str, int] = {}
        """Running totals for ``GET /metrics``."""

        self.replayed = 0
        self.torn_bytes = self.journal.torn_bytes
        self.feed_state: Callable[[], dict[str, Any]] | None = None
        """The order-level feed snapshot, when the ITCH feed runs."""
        self.feed_info: Callable[[], dict[str, Any]] | None = None
        """Where the ITCH feed is published, when it runs."""
        for security in config.securities:
            self.securities[security.symbol] = security
        for symbol, price in self._stored_symbols().items():
            self.engine.add_symbol(symbol, price)
            self.reference[symbol] = price
        self._views: list[Callable[[list[Event]], None]] = [
            self.accounts.apply,
            self.tape.apply,
            self.market.on_events,
            self.trading.on_events,
            EventCounters(self.counters).on_events,
        ]

    def recover(self, listeners: Sequence[Callable[[list[Event]], None]] = ()) -> int:
        """Replay the journal through the engine, the views and ``listeners``; add new symbols.

        Returns the number of inputs replayed. ``listeners`` (e.g. the history
        writer) also stay attached for the live events that follow.
        """
        self.replayed = self.sequencer.replay([*self._views, *listeners])
        for security in self.config.securities:
            if security.symbol not in self.reference:
                self.engine.add_symbol(security.symbol, security.reference_price)
                self.reference[security.symbol] = security.reference_price
        self._save_symbols()
        self.sequencer.listeners = [*self._views, *listeners, self.private.on_events]
        return self.replayed

    # -- symbols -------------------------------------------------------------

    def _stored_symbols(self) -> dict[str, int | None]:
        path = self.config.data_dir / SYMBOLS_FILE
        if not path.exists():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return {row["symbol"]: row["reference_price"] for row in data["symbols"]}

    def _save_symbols(self) -> None:
        path = self.config.data_dir / SYMBOLS_FILE
        rows = [{"symbol": s, "reference_price": p} for s, p in sorted(self.reference.items())]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"symbols": rows}, indent=1) + "\n", encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(self.reference)

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        from lob.engine.prices import format_price

        book = self.engine.book(symbol)
        security = self.securities.get(symbol)
        last = self.tape.last(symbol)
        ref = self.reference.get(symbol)

        def price(value: int | None) -> str | None:
            return None if value is None else format_price(value)

        return {
            "symbol": symbol,
            "name": security.name if security else symbol,
            "reference_price": price(ref),
            "collar_low": price(book.collar_low),
            "collar_high": price(book.collar_high),
            "best_bid": price(book.best_bid),
            "best_ask": price(-book.ask_keys[-1] if book.ask_keys else None),
            "last": price(last.price) if last else None,
            "seq": self.market.seq(symbol),
            "state": str(book.state),
            "bands": self.trading.bands(symbol),
        }

    # -- running -------------------------------------------------------------

    def start(self, listeners: Sequence[Callable[[list[Event]], None]] = ()) -> None:
        """Begin taking input (after ``recover``); expire DAY orders of an earlier session.

        ``listeners`` see live events only (e.g. the multicast feed, which
        starts from the recovered book).
        """
        self.sequencer.listeners.extend(listeners)
        if self.config.md_batch:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # started outside an event loop: publish at once
                loop = None
            if loop is not None:
                interval = self.config.md_interval
                self.market.batch_on(loop, interval)
                if not interval:  # an input's market data leaves before its ack
                    self.sequencer.before_ack.append(self.market.flush)
        self.sequencer.start()
        last = self.sequencer.last_ts
        continuous = self.plan.calendar == "continuous"
        if continuous and last and session_date(last) < session_date(self.clock()):
            self.sequencer.enqueue(ExpireOrders(TimeInForce.DAY))
        self.day.step()  # a calendar takes over at once (and a replaced one lets go)
        if self.config.luld:
            shipped = frozenset(s.symbol for s in load_universe())
            for symbol in sorted(self.reference):
                price = self.reference[symbol]
                if price is not None and self.engine.book(symbol).luld is None:
                    tier = luld_tier(symbol, shipped)
                    self.sequencer.enqueue(EnableLuld(symbol, tier, price))
        self.day.start()

    async def close(self) -> None:
        await self.day.close()
        await self.sequencer.close()


def data_dir_lock(data_dir: Path) -> int:
    """Hold an exclusive lock on the data directory so two servers never share a journal."""
    import fcntl

    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RuntimeError(f"another lob serve is using {data_dir}") from None
    return fd
