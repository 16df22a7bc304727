"""Attaching the history process and the ITCH multicast feed to a running exchange.

History (``history.duckdb`` in the data directory, or where ``--history``
puts it) is derived from the
journal by a process of its own (``lob.server.history_process``), which
follows the journal file as the server writes it, so no event is handed to
the history inside the server. At start-up that process replaces every row an
earlier ``lob serve`` wrote by one session rebuilt from the whole journal, so
after a crash (when the last batches never reached DuckDB) the history
catches up and never holds a row twice. The server tells it how its engine
was set up (``EngineSetup``: the symbols added before and after the start-up
replay) and asks it the history and analytics questions.

The feed is a new MoldUDP64 session per run (named after the start time).
It opens with the stock directory and one Add Order per resting order, so a
subscriber that follows it from message 1 has the recovered book, and it
publishes each command's ITCH messages, in order, with those of the other
commands of its batch (before their acks). The
retransmission server answers from the publisher's history; ``GET
/feed/snapshot`` serves the order-level snapshot a subscriber falls back on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from lob.engine.events import Event
from lob.engine.replay import NEW_YORK
from lob.engine.types import Side
from lob.server.config import ServerConfig
from lob.server.exchange import Exchange

__all__ = ["FeedRunner", "HistoryRunner", "history_setup", "open_history", "start_feed"]

log = logging.getLogger("lob.server")

HISTORY_SOURCE = "lob serve"


class HistoryRunner:
    """The server's history process, the queries it answers, and a new one if it dies.

    A history process that exits while the server runs (a crash, an operator's
    kill) is started again, after a pause that doubles with each failure in a
    row (up to ``MAX_RESTART_DELAY``): like at start-up it rebuilds the history
    from the whole journal. Queries meanwhile answer 503 ``unavailable``.
    """

    RESTART_DELAY = 0.5
    MAX_RESTART_DELAY = 30.0

    def __init__(
        self,
        process: Any,
        position: Callable[[], int],
        spawn: Callable[[], Awaitable[Any]],
    ) -> None:
        from lob.server.history_api import HistoryQueries

        self.process = process
        self.position = position
        self.session: int | None = None
        self.restarts = 0
        self.queries = HistoryQueries(process, position)
        self._spawn = spawn
        self._setup: Any = None
        self._watch: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self, setup: Any) -> None:
        """Tell the process how the engine was set up; it opens the history and follows."""
        from lob.server.history_channel import HistoryUnavailable

        try:
            self.session = await self.process.setup(setup)
        except HistoryUnavailable as exc:
            raise RuntimeError(f"the history did not start: {exc}") from None
        self._setup = setup
        self._watch = asyncio.get_running_loop().create_task(self._keep_running())

    async def _keep_running(self) -> None:
        delay = self.RESTART_DELAY
        while True:
            await self.process.exited()
            if self._closing:
                return
            self.process.kill()  # reap it
            log.warning(
                "the history process exited (code %s); starting another in %g s",
                self.process.popen.returncode,
                delay,
            )
            await asyncio.sleep(delay)
            try:
                process = await self._spawn()
                try:
                    self.session = await process.setup(self._setup)
                except BaseException:
                    process.kill()
                    raise
            except Exception as exc:
                log.warning("the history process did not start again: %s", exc)
                delay = min(delay * 2, self.MAX_RESTART_DELAY)
                continue
            self.process = self.queries.process = process
            self.restarts += 1
            delay = self.RESTART_DELAY

    async def close(self) -> None:
        """Stop after the history holds everything journaled (call once input has stopped)."""
        self._closing = True
        self.queries.close()
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.wait({self._watch})
        await self.process.stop(self.position())


async def open_history(config: ServerConfig, position: Callable[[], int]) -> HistoryRunner:
    """Start the history process (it imports while the server replays its journal).

    ``position`` gives the journal's written size: what a query must see.
    """
    from lob.server.history_channel import HistoryProcess
    from lob.store.journal import JOURNAL_NAME

    def spawn() -> Awaitable[Any]:
        return HistoryProcess.spawn(
            config.history_path,
            config.data_dir / JOURNAL_NAME,
            HISTORY_SOURCE,
            cpus=config.helper_cpus,
        )

    return HistoryRunner(await spawn(), position, spawn)


def history_setup(before: dict[str, int | None], exchange: Exchange) -> Any:
    """The engine's set-up after ``recover``: ``before`` are the symbols it had before."""
    from lob.server.replica import EngineSetup

    after = tuple((s, p) for s, p in exchange.reference.items() if s not in before)
    return EngineSetup(tuple(before.items()), exchange.journal.size, after)


def midnight_ns(now_ns: int) -> int:
    """Midnight New York time of the day ``now_ns`` falls on, in ns since the epoch."""
    day = dt.datetime.fromtimestamp(now_ns / 1e9, tz=NEW_YORK).date()
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
    return int(midnight.timestamp()) * 1_000_000_000


class FeedRunner:
    """Publisher, retransmission server and mapper of one run's ITCH feed.

    Each input's events are mapped as it is applied (``ItchBatch``, the
    sequencer's listener); the messages of every input applied in one turn of
    the event loop (one group commit) go to the publisher together, since
    publishing costs per call: at the sequencer's ``before_ack`` (so an
    input's ITCH leaves before its ack) or at the end of the turn, whichever
    comes first. The messages and their order are exactly those of publishing
    per input.
    """

    def __init__(self, publisher: Any, retransmit: Any, mapper: Any) -> None:
        from lob.feed.itch_batch import ItchBatch

        self.publisher = publisher
        self.retransmit = retransmit
        self.mapper = mapper
        self.batch = ItchBatch(mapper, self._began)

    def listener(self) -> Callable[[list[Event]], None]:
        """The sequencer listener that maps each input's events."""
        return self.batch.on_events

    def _began(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: nothing to batch with
            self.flush()
        else:
            loop.call_soon(self.flush)

    def flush(self) -> None:
        """Publish the messages waiting since the last flush (a no-op when none are)."""
        if self.batch.pending:
            self.publisher.publish_messages(self.batch.take())

    def info(self) -> dict[str, Any]:
        pub = self.publisher
        host, port = self.retransmit.address
        return {
            "group": pub.address[0],
            "port": pub.address[1],
            "interface": pub.interface,
            "retransmit": f"{host}:{port}",
            "session": pub.session.decode("ascii").strip(),
            **pub.stats(),
        }

    async def close(self) -> None:
        self.flush()
        await self.retransmit.close()
        await self.publisher.close()


async def start_feed(exchange: Exchange, config: ServerConfig) -> FeedRunner:
    """Start the multicast feed from the recovered book (call after ``recover``)."""
    from lob.feed import itch
    from lob.feed.itch_mapper import ItchMapper, feed_snapshot
    from lob.feed.net import Publisher, RetransmitServer

    assert config.multicast is not None
    group, port = config.multicast
    now = time.time_ns()
    session = dt.datetime.fromtimestamp(now / 1e9, tz=NEW_YORK).strftime("%m%d%H%M%S")
    publisher = Publisher(
        group, port, interface="127.0.0.1", session=session, history_size=config.feed_history
    )
    await publisher.start()
    retransmit_port = port + 1 if config.retransmit_port is None else config.retransmit_port
    retransmit = RetransmitServer(publisher, host="127.0.0.1", port=retransmit_port)
    try:
        await retransmit.start()
    except BaseException:
        await publisher.close(end_of_session=False)
        raise
    midnight = midnight_ns(now)
    engine = exchange.engine
    mapper = ItchMapper(midnight, engine.symbols)
    stamp = now - midnight
    opening: list[Any] = mapper.directory(stamp)
    for symbol in engine.symbols:
        locate = mapper.locates[symbol]
        snap = engine.order_snapshot(symbol)
        for order in (*snap.bids, *snap.asks):
            opening.append(
                itch.AddOrder(
                    locate,
                    0,
                    stamp,
                    order.oid,
                    "B" if order.side is Side.BUY else "S",
                    order.qty,
                    symbol,
                    order.price,
                )
            )
    publisher.publish_messages(opening)
    runner = FeedRunner(publisher, retransmit, mapper)

    def feed_state() -> dict[str, Any]:
        runner.flush()  # the snapshot's seq must count every message of the book it shows
        return feed_snapshot(engine, mapper, publisher.last_seq).to_dict()

    exchange.feed_state = feed_state
    exchange.sequencer.before_ack.append(runner.flush)
    exchange.feed_info = runner.info
    return runner
