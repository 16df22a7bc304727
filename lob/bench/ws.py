"""``lob bench ws``: WebSocket market-data fan-out over real sockets, and what it costs.

Four measurements (docs/benchmarks.md shows figures and the older design's):

- **real fan-out**: lob's ``ExchangeServer`` (the code ``lob serve`` runs, on
  uvloop, journal write-through with ``fsync=off``, no history, no multicast)
  runs in a process of its own with a feeder task on its event loop that
  sequences a seeded order flow (passive adds 1-10 ticks from the mid, cancels,
  a few marketable IOCs) straight into the sequencer, so no order-entry cost
  is mixed in. N subscribers follow the full book of the symbol over real
  WebSocket connections on 127.0.0.1, held by 1-3 client processes (uvloop and
  lob's lean client connection, ``lob.bench.client_socket``, many connections
  each, at nice 5 so they do not starve the server on a shared 2-core host)
  that decode every frame with msgpack where its bytes arrive and check that
  each book message continues the one before (``BookReader``).
  Batching is the server's own: a client that keeps up gets each batch of
  inputs' deltas as one frame (frames waiting for a slow reader are joined),
  one that falls further behind gets conflated batches.
  Two phases per N:

  * *burst*: the feeder sequences commands as fast as its loop turns (8 a
    turn, each turn one batch; with 100 subscribers or more a second burst
    sequences 64 a turn, to show what bigger batches are worth); figures are
    deltas decoded per second summed over all subscribers (a conflated batch
    counts the levels and trades it carries), and the server process's CPU
    time (user + system) per delivered delta;
  * *paced*: commands on a fixed schedule at a tenth of the burst capacity
    (at most 1,000 commands/s); push latency is the client's ``time.time_ns()``
    just after decoding minus the delta's ``ts``, the moment the sequencer
    stamped the command and applied it. Both processes read the same
    system-wide clock (CLOCK_REALTIME; same host).

- **enqueue-only (the older design's method)**: N ``asyncio.Queue``s, one per
  mock connection; every broadcast is N ``put_nowait`` of the same
  pre-encoded frame. Fan-out is ``put_nowait`` calls per second of the enqueue
  loop alone (the middle of three runs); push latency comes from a second run
  in which a consumer task drains each queue, from just before the first
  ``put_nowait`` of a broadcast to the consumer's ``get``. No socket is written.
- **publisher cost per broadcast, 1 to 10,000 subscribers**: lob's own
  server path in-process with mock sinks (the same method): the engine's
  events go to ``MarketData.on_events`` (L2 deltas, one encoding, one
  ``Session.offer`` per subscriber, which appends the frame to the session's
  queue and wakes its writer). Only ``on_events`` is timed; queues are
  emptied between broadcasts, untimed. ``lob bench multicast`` gives the
  multicast publisher's cost per packet for the same subscriber counts.
- **polling**: the average latency of polling every ``interval`` is
  ``interval / 2``, against the push p50 measured above with one subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing as mp
import random
import resource
import tempfile
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from lob.bench.harness import (
    BenchReport,
    Progress,
    describe_machine,
    format_ns,
    merge_counts,
    percentile,
)
from lob.priority import give_way

__all__ = [
    "SYMBOL",
    "ClientPool",
    "order_flow",
    "publisher_cost",
    "run",
    "server_cpu_ns",
]

SYMBOL = "AAPL"
COLUMNS = [
    "measure",
    "subscribers",
    "deltas/s",
    "p50",
    "p99",
    "cpu/delta",
    "deltas/cpu-s",
    "us/broadcast",
    "note",
]
OLDER = {  # the older design's published figures: msg/s, push p50 us, push p99 us
    1: (2_103_421, 10.1, 31.5),
    10: (2_689_678, 13.2, 26.5),
    50: (2_775_645, 27.9, 52.3),
    100: (2_753_206, 45.9, 61.6),
    500: (2_694_437, 191.3, 246.1),
    1_000: (2_714_265, 374.0, 516.0),
}
OLDER_PUBLISHER_US = {  # the older design's WebSocket publisher cost per broadcast, us
    1: 0.5,
    10: 3.8,
    50: 18.3,
    100: 37.6,
    500: 190.9,
    1_000: 414.5,
    5_000: 2_396.9,
    10_000: 5_447.5,
}
POLL_INTERVALS_MS = (1, 10, 100, 1_000)
CLIENT_NICE = 5
"""Subscriber processes stand for machines elsewhere: on a shared 2-core host they run at
a lower priority, in a session (an autogroup) of their own, so that they do not starve the
server; what they cannot read in time the server conflates, as it would for a slow remote
client."""
PACED_SHARE = 0.1
"""The paced phase offers this share of the burst capacity, so latency is measured below it."""


BURST_PER_TURN = 8
"""Commands the feeder sequences per turn of the loop in the burst phase (one batch)."""
BIG_TURN = 64
"""The bigger batch of the extra burst at 100 subscribers and more."""


@dataclass(frozen=True)
class Sizes:
    real: tuple[int, ...]  # subscriber counts over real sockets
    burst_s: float
    paced_s: float
    commands: int  # order flow generated for the server (it cycles)
    mock: tuple[int, ...]  # subscriber counts for the enqueue-only method
    mock_messages: int  # deliveries per enqueue-only run
    publisher: tuple[int, ...]
    broadcasts: int  # broadcasts per publisher-cost count (fewer for large counts)

    @classmethod
    def full(cls) -> Sizes:
        return cls(
            (1, 10, 100, 1_000),
            3.0,
            3.0,
            300_000,
            (1, 10, 50, 100, 500, 1_000),
            300_000,
            (1, 10, 50, 100, 500, 1_000, 5_000, 10_000),
            20_000,
        )

    @classmethod
    def quick(cls) -> Sizes:
        return cls((1, 4), 0.4, 0.4, 20_000, (1, 4), 4_000, (1, 10), 500)


# -- the order flow -----------------------------------------------------------------


def order_flow(count: int, reference: int, seed: int = 11) -> list[Any]:
    """``count`` commands for ``SYMBOL`` whose every add or cancel changes a level.

    Account ``mm`` rests orders 1-10 ticks ($0.01) from ``reference`` and cancels
    its oldest once 200 rest; about 5% of commands are IOC orders of account
    ``taker`` that cross 1-3 levels. Generated before anything is timed.
    """
    from lob.engine.commands import CancelOrder, NewOrder
    from lob.engine.types import Side, TimeInForce

    rng = random.Random(seed)
    live: list[str] = []
    out: list[Any] = []
    tick = 100
    for n in range(count):
        roll = rng.random()
        if roll < 0.05:
            side = rng.choice((Side.BUY, Side.SELL))
            price = reference + (1 if side is Side.BUY else -1) * rng.randint(1, 3) * tick
            out.append(NewOrder("taker", f"t{n}", SYMBOL, side, 100, price, tif=TimeInForce.IOC))
        elif len(live) > 200 or (roll < 0.45 and live):
            out.append(CancelOrder("mm", live.pop(0)))
        else:
            side = rng.choice((Side.BUY, Side.SELL))
            offset = rng.randint(1, 10) * tick
            price = reference - offset if side is Side.BUY else reference + offset
            id = f"m{n}"
            out.append(NewOrder("mm", id, SYMBOL, side, rng.randint(1, 5) * 100, price))
            live.append(id)
    return out


def server_cpu_ns() -> int:
    """User + system CPU time of this process so far, in nanoseconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e9)


# -- the server process ------------------------------------------------------------


def _server_main(data_dir: str, commands: int, conn: Any) -> None:
    import uvloop

    uvloop.run(_serve(Path(data_dir), commands, conn))


async def _serve(data_dir: Path, commands: int, conn: Any) -> None:
    from lob.server.auth import KeyStore
    from lob.server.config import ServerConfig
    from lob.server.server import ExchangeServer
    from lob.sim.universe import load_symbols

    securities = tuple(load_symbols(SYMBOL))
    config = ServerConfig(
        data_dir=data_dir,
        securities=securities,
        port=0,
        multicast=None,
        fsync="off",
        history=False,
        gc_tuning=True,  # as lob serve runs
    )
    server = ExchangeServer(config, KeyStore([("bench", "bench-key-0123456789")]))
    await server.start()
    exchange = server.exchange
    assert exchange is not None
    flow = order_flow(commands, securities[0].reference_price)
    cursor = 0
    loop = asyncio.get_running_loop()
    conn.send(server.url)
    enqueue = exchange.sequencer.enqueue
    market = exchange.market
    while True:
        request = await loop.run_in_executor(None, conn.recv)
        kind = request[0]
        if kind == "stop":
            break
        if kind == "cpu":
            conn.send(server_cpu_ns())
            continue
        if kind == "sessions":
            conn.send(len(server.gateway.sessions) if server.gateway else 0)
            continue
        gc.collect()
        deltas0 = market.deltas
        cpu0 = server_cpu_ns()
        start = time.time_ns()
        sent = 0
        lateness: list[int] = []
        if kind == "burst":  # ("burst", seconds, commands per turn of the loop)
            end = time.perf_counter() + request[1]
            per_turn = request[2] if len(request) > 2 else BURST_PER_TURN
            while time.perf_counter() < end:
                for _ in range(per_turn):
                    enqueue(flow[cursor])
                    cursor = (cursor + 1) % len(flow)
                sent += per_turn
                await asyncio.sleep(0)
        else:  # ("paced", rate, seconds): open loop, on a fixed schedule
            rate, seconds = request[1], request[2]
            total = max(1, int(rate * seconds))
            t0 = time.perf_counter_ns()
            interval = 1e9 / rate
            while sent < total:
                intended = t0 + int(sent * interval)
                now = time.perf_counter_ns()
                if now < intended:
                    await asyncio.sleep((intended - now) / 1e9)
                    continue
                lateness.append(now - intended)
                enqueue(flow[cursor])
                cursor = (cursor + 1) % len(flow)
                sent += 1
                await asyncio.sleep(0)
        conn.send(
            {
                "start_ns": start,
                "end_ns": time.time_ns(),
                "commands": sent,
                "deltas": market.deltas - deltas0,
                "cpu0": cpu0,
                "late_p99": percentile(lateness, 99) if lateness else 0,
            }
        )
    await server.stop()
    conn.send("stopped")


class ServerProcess:
    """lob's ``ExchangeServer`` in a process of its own, driven over a pipe."""

    def __init__(self, commands: int) -> None:
        ctx = mp.get_context("spawn")
        self._dir = tempfile.TemporaryDirectory(prefix="lob-bench-ws-")
        self.conn, theirs = ctx.Pipe()
        self.proc = ctx.Process(
            target=_server_main, args=(self._dir.name, commands, theirs), daemon=True
        )
        self.proc.start()
        if not self.conn.poll(120):
            self.close()
            raise RuntimeError("the benchmark server did not start")
        self.url: str = self.conn.recv()

    def ask(self, *request: Any, timeout: float = 300) -> Any:
        self.conn.send(request)
        if not self.conn.poll(timeout):
            raise RuntimeError(f"the benchmark server did not answer {request[0]!r}")
        return self.conn.recv()

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError, RuntimeError):
            self.ask("stop", timeout=30)
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=5)
        self._dir.cleanup()


# -- the subscriber processes ------------------------------------------------------


LEVEL, TRADE, SNAPSHOT, BATCH = 0, 1, 2, 3
"""The msgpack kind codes of ``lob.feed.wire`` (its module docstring has the table)."""


class _Tally:
    __slots__ = (
        "batches",
        "closes",
        "deltas",
        "first",
        "frames",
        "gaps",
        "last",
        "record",
        "samples",
    )

    def __init__(self) -> None:
        self.closes: dict[str, int] = {}
        """How the connections that ended did (close code and reason): never reset."""
        self.reset(False)

    def reset(self, record: bool) -> None:
        self.deltas = 0
        self.frames = 0
        self.batches = 0
        self.gaps = 0
        self.first = 0
        self.last = 0
        self.record = record
        self.samples = array("q")


class BookReader:
    """One subscriber's reading of a full-book stream, as a subscriber built for speed
    would: each frame decoded by msgpack into plain values (no ``lob.feed.wire``
    message objects, which cost several times the decoding itself), its deltas
    counted, and every book message checked to continue the one before it.

    ``seq`` is where the subscriber's book stands: a snapshot sets it, a level or
    trade must be ``seq + 1``, a conflated batch must start there. Anything else is
    a gap (a wrong book) and is counted in the tally.
    """

    __slots__ = ("_unpacker", "seq", "tally")

    def __init__(self, tally: _Tally) -> None:
        import msgpack

        self.tally = tally
        self.seq: int | None = None
        self._unpacker = msgpack.Unpacker

    def read(self, frame: bytes, now: int) -> None:
        t = self.tally
        if t.first == 0:
            t.first = now
        t.last = now
        t.frames += 1
        record = t.record
        samples = t.samples  # a new array after each reset
        unpacker = self._unpacker(raw=False, use_list=False)
        unpacker.feed(frame)
        for m in unpacker:
            kind = m[0]
            if kind == BATCH:
                t.batches += 1
                levels, trades = m[5], m[6]
                t.deltas += len(levels) + len(trades)
                if self.seq is not None and m[2] != self.seq + 1:
                    t.gaps += 1
                self.seq = m[3]
                if record:
                    for d in levels:
                        samples.append(now - d[2])
                    for d in trades:
                        samples.append(now - d[2])
            elif kind in (LEVEL, TRADE):
                t.deltas += 1
                if self.seq is not None and m[2] != self.seq + 1:
                    t.gaps += 1
                self.seq = m[2]
                if record:
                    samples.append(now - m[4])
            elif kind == SNAPSHOT:
                self.seq = m[2]


def _client_main(url: str, count: int, symbol: str, conn: Any) -> None:
    import uvloop

    uvloop.run(_clients(url, count, symbol, conn))


async def _clients(url: str, count: int, symbol: str, conn: Any) -> None:
    import msgpack

    from lob.bench.client_socket import ClientSocket, open_client_socket

    give_way(CLIENT_NICE, own_session=True)
    tally = _Tally()
    map_bytes = frozenset([*range(0x80, 0x90), 0xDE, 0xDF])
    subscribe = msgpack.packb({"op": "subscribe", "symbol": symbol, "channel": "book"})
    stopping = False

    def reader_for() -> Callable[[bytes], None]:
        reader = BookReader(tally)
        read = reader.read
        clock = time.time_ns

        def on_message(frame: bytes) -> None:
            if frame[0] not in map_bytes:  # an answer (subscribed) is a map, market data not
                read(frame, clock())

        return on_message

    def ended(ws: ClientSocket, _: object) -> None:
        # Ended by the server or the network; the pool's own closing is not counted.
        if not stopping:
            how = f"{ws.close_code} {ws.close_reason}".strip()
            tally.closes[how] = tally.closes.get(how, 0) + 1

    sockets: list[ClientSocket] = []
    error = ""
    try:
        for start in range(0, count, 50):
            batch = await asyncio.gather(
                *(
                    open_client_socket(f"{url}/ws?encoding=msgpack", reader_for())
                    for _ in range(min(50, count - start))
                )
            )
            for ws in batch:
                ws.send(subscribe)
                ws.closed.add_done_callback(partial(ended, ws))
            sockets.extend(batch)
    except OSError as exc:
        error = str(exc)
    loop = asyncio.get_running_loop()
    conn.send(("ready", len(sockets), error))
    while True:
        request = await loop.run_in_executor(None, conn.recv)
        if request[0] == "reset":
            tally.reset(request[1])
            conn.send("ok")
        elif request[0] == "report":
            conn.send(
                {
                    "deltas": tally.deltas,
                    "frames": tally.frames,
                    "batches": tally.batches,
                    "first": tally.first,
                    "last": tally.last,
                    "samples": tally.samples.tobytes(),
                    "gaps": tally.gaps,
                    "open": len(sockets) - sum(tally.closes.values()),
                    "closes": dict(tally.closes),
                }
            )
        else:
            break
    stopping = True
    for ws in sockets:
        ws.close()
    if sockets:
        await asyncio.wait([ws.closed for ws in sockets], timeout=10)
    conn.send("stopped")


class ClientPool:
    """``total`` WebSocket subscribers to the full book of ``SYMBOL``, over ``processes``."""

    def __init__(self, url: str, total: int, processes: int = 3) -> None:
        ctx = mp.get_context("spawn")
        ws_url = url.replace("http://", "ws://", 1)
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        self.connected = 0
        self.errors: list[str] = []
        n = max(1, min(processes, total))
        shares = [total // n + (1 if i < total % n else 0) for i in range(n)]
        for share in shares:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=_client_main, args=(ws_url, share, SYMBOL, theirs), daemon=True
            )
            proc.start()
            self.procs.append(proc)
            self.conns.append(ours)
        for conn in self.conns:
            if not conn.poll(180):
                self.errors.append("a subscriber process did not connect in time")
                continue
            _, connected, error = conn.recv()
            self.connected += connected
            if error:
                self.errors.append(error)

    def _all(self, request: tuple[Any, ...]) -> list[Any]:
        for conn in self.conns:
            conn.send(request)
        return [conn.recv() if conn.poll(120) else None for conn in self.conns]

    def reset(self, record: bool) -> None:
        self._all(("reset", record))

    def report(self) -> dict[str, Any]:
        answers = [a for a in self._all(("report",)) if a]
        samples = array("q")
        for a in answers:
            samples.frombytes(a["samples"])
        return {
            "deltas": sum(a["deltas"] for a in answers),
            "frames": sum(a["frames"] for a in answers),
            "batches": sum(a["batches"] for a in answers),
            "last": max((a["last"] for a in answers), default=0),
            "samples": samples,
            "gaps": sum(a["gaps"] for a in answers),
            "open": sum(a["open"] for a in answers),
            "closes": merge_counts([a["closes"] for a in answers]),
        }

    def drained(self, settle: float = 0.3, timeout: float = 60) -> dict[str, Any]:
        """The report once no subscriber has received anything for ``settle`` seconds."""
        deadline = time.monotonic() + timeout
        report = self.report()
        while time.monotonic() < deadline:
            time.sleep(settle)
            again = self.report()
            if again["deltas"] == report["deltas"]:
                return again
            report = again
        return report

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("stop",))
        for conn, proc in zip(self.conns, self.procs, strict=True):
            with contextlib.suppress(OSError, EOFError):
                if conn.poll(30):
                    conn.recv()
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()


def _real_fanout(
    server: ServerProcess, subscribers: int, sizes: Sizes, cpu_cores: int
) -> dict[str, Any]:
    pool = ClientPool(server.url, subscribers, processes=max(2, min(3, cpu_cores)))
    try:
        if pool.errors or pool.connected < subscribers:
            raise RuntimeError(
                f"{pool.connected} of {subscribers} subscribers connected: {pool.errors[:1]}"
            )
        # Every session is subscribed before the clock starts.
        deadline = time.monotonic() + 30
        while server.ask("sessions") < subscribers and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        pool.reset(False)
        server.ask("paced", 200.0, 0.25)  # warm-up
        pool.drained()

        pool.reset(False)
        burst = server.ask("burst", sizes.burst_s)
        got = pool.drained()
        cpu = server.ask("cpu") - burst["cpu0"]
        span = max(got["last"] - burst["start_ns"], 1)
        capacity = got["deltas"] * 1e9 / span
        per_command = burst["deltas"] / max(burst["commands"], 1)
        per_broadcast = max(per_command * subscribers, 1e-9)
        rate = min(1_000.0, max(20.0, capacity * PACED_SHARE / per_broadcast))

        big: dict[str, float] = {}
        if subscribers >= 100:  # the same burst with bigger batches: 64 commands a turn
            pool.reset(False)
            burst64 = server.ask("burst", sizes.burst_s, BIG_TURN)
            got64 = pool.drained()
            cpu64 = server.ask("cpu") - burst64["cpu0"]
            span64 = max(got64["last"] - burst64["start_ns"], 1)
            big = {
                "deltas_per_s": got64["deltas"] * 1e9 / span64,
                "server_cpu_ns_per_delta": cpu64 / max(got64["deltas"], 1),
                "server_bound_deltas_per_cpu_s": got64["deltas"] * 1e9 / max(cpu64, 1),
                "frames": got64["frames"],
                "delivered": got64["deltas"],
                "conflated_batches": got64["batches"],
                "gaps": got64["gaps"],
            }

        pool.reset(True)
        paced = server.ask("paced", rate, sizes.paced_s)
        lat = pool.drained()
        samples = lat["samples"]
        expected = paced["deltas"] * subscribers
        return {
            "subscribers": subscribers,
            "deltas_per_s": capacity,
            "delivered": got["deltas"],
            "published": burst["deltas"],
            "frames": got["frames"],
            "conflated_batches": got["batches"],
            "gaps": got["gaps"] + lat["gaps"],  # book messages that did not continue the book
            "commands_per_s": burst["commands"] * 1e9 / max(burst["end_ns"] - burst["start_ns"], 1),
            "server_cpu_ns_per_delta": cpu / max(got["deltas"], 1),
            "server_bound_deltas_per_cpu_s": got["deltas"] * 1e9 / max(cpu, 1),
            "server_cpu_share": cpu / span,
            "paced_rate": rate,
            "paced_deltas_per_s": lat["deltas"] * 1e9 / max(lat["last"] - paced["start_ns"], 1),
            "paced_expected": expected,
            "paced_delivered": lat["deltas"],
            "paced_conflated_batches": lat["batches"],
            "feeder_late_p99_ns": paced["late_p99"],
            "p50_ns": percentile(samples, 50) if samples else None,
            "p99_ns": percentile(samples, 99) if samples else None,
            "max_ns": max(samples) if samples else None,
            "samples": len(samples),
            "big_batches": big,
        }
    finally:
        pool.close()


# -- the older design's method: enqueue-only into asyncio queues -------------------


async def _enqueue_only(subscribers: int, messages: int) -> dict[str, Any]:
    """Fan-out rate of the enqueue loop alone, then push latency with consumers draining."""
    frame = b"\x91" * 36  # a level delta's size; never decoded
    queues: list[asyncio.Queue[tuple[int, bytes]]] = [asyncio.Queue() for _ in range(subscribers)]
    clock = time.perf_counter_ns
    broadcasts = max(50, messages // subscribers)
    rates = []
    for _ in range(3):
        gc.collect()
        start = clock()
        for _ in range(broadcasts):
            ts = clock()
            for q in queues:
                q.put_nowait((ts, frame))
        rates.append(broadcasts * subscribers * 1e9 / (clock() - start))
        queues = [asyncio.Queue() for _ in range(subscribers)]

    latency_broadcasts = max(200, min(2_000, messages // 10 // subscribers))
    latencies = array("q")
    done = asyncio.Event()
    left = [latency_broadcasts * subscribers]

    async def consume(queue: asyncio.Queue[tuple[int, bytes]]) -> None:
        get = queue.get
        while True:
            ts, _ = await get()
            latencies.append(clock() - ts)
            left[0] -= 1
            if not left[0]:
                done.set()

    tasks = [asyncio.create_task(consume(q)) for q in queues]
    await asyncio.sleep(0)
    gc.collect()
    for _ in range(latency_broadcasts):
        ts = clock()
        for q in queues:
            q.put_nowait((ts, frame))
        await asyncio.sleep(0)
    await done.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "subscribers": subscribers,
        "msgs_per_s": sorted(rates)[1],
        "p50_ns": percentile(latencies, 50),
        "p99_ns": percentile(latencies, 99),
        "broadcasts": broadcasts,
        "latency_broadcasts": latency_broadcasts,
    }


# -- publisher cost: lob's server path with mock sinks ------------------------------


class _MockTransport:
    def set_write_buffer_limits(self, high: int) -> None:
        return None


class _MockWriter:
    """Stands for a connection's stream writer: the offer path never writes to it."""

    transport = _MockTransport()

    def get_extra_info(self, name: str) -> None:
        return None


def publisher_cost(subscribers: int, broadcasts: int, seed: int = 5) -> dict[str, Any]:
    """Nanoseconds of ``MarketData.on_events`` per broadcast with ``subscribers`` sessions.

    Real ``Session``s and ``Subscription``s of ``lob.server.ws`` on mock writers;
    the engine's events of each command are made untimed, then handed to
    ``on_events``, which derives the deltas, encodes them once and offers the
    frame to every session. Sessions' queues are emptied (untimed) after each.
    """
    from types import SimpleNamespace

    from lob.engine import MatchingEngine
    from lob.server.accounts import Accounts
    from lob.server.config import Limits
    from lob.server.marketdata import MarketData
    from lob.server.ws import Gateway, Session, Subscription
    from lob.sim.universe import load_symbols

    reference = load_symbols(SYMBOL)[0].reference_price
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol(SYMBOL, reference)
    market = MarketData(engine)
    # What a Session reads of its exchange (the market data, and what order entry needs).
    exchange: Any = SimpleNamespace(
        market=market, reference={SYMBOL: reference}, accounts=Accounts()
    )
    gateway = Gateway(exchange, None, Limits())  # type: ignore[arg-type]
    # The bench empties the queues itself: marked as pumping, the gateway only lists
    # the sessions it would send for (as Gateway.kick does) and schedules no send.
    gateway._pumping = True
    kicked = gateway.dirty
    sessions = []
    for _ in range(subscribers):
        session = Session(gateway, None, None, _MockWriter(), "msgpack")  # type: ignore[arg-type]
        sub = Subscription(session, SYMBOL, "book", None)
        market.subscribe(sub)
        session.subs[(SYMBOL, "book")] = sub
        sessions.append(session)
    flow = order_flow(broadcasts + 2_000, reference, seed)
    ts = 1_767_364_200_000_000_000
    for command in flow[:2_000]:  # build a book first, untimed
        ts += 1_000
        market.on_events(engine.submit(command, ts))
        for session in sessions:
            session.queue.clear()
    on_events = market.on_events
    clock = time.perf_counter_ns
    timings = array("q")
    for command in flow[2_000:]:
        ts += 1_000
        events = engine.submit(command, ts)
        before = market.deltas
        start = clock()
        on_events(events)
        elapsed = clock() - start
        if market.deltas != before:
            timings.append(elapsed)
        for session in sessions:
            session.queue.clear()
            session.kicked = False
        kicked.clear()
    return {
        "subscribers": subscribers,
        "broadcasts": len(timings),
        "p50_ns": percentile(timings, 50),
        "mean_ns": sum(timings) / len(timings),
        "per_subscriber_ns": percentile(timings, 50) / max(subscribers, 1),
    }


# -- the report --------------------------------------------------------------------


def run(quick: bool, progress: Progress) -> BenchReport:
    """Measure real-socket fan-out, the enqueue-only method, publisher cost, polling."""
    sizes = Sizes.quick() if quick else Sizes.full()
    machine = describe_machine()
    rows: list[dict[str, Any]] = []
    metrics: dict[str, Any] = {}
    notes: list[str] = []

    progress("starting lob's server in its own process")
    server = ServerProcess(sizes.commands)
    real: list[dict[str, Any]] = []
    try:
        for i, count in enumerate(sizes.real):
            progress(f"real sockets: {count:,} subscribers", i, len(sizes.real))
            result = _real_fanout(server, count, sizes, machine.cores)
            real.append(result)
            metrics[f"real.{count}"] = result
    finally:
        server.close()
    for r in real:
        rows.append(
            _row(
                "lob, real WebSocket",
                r["subscribers"],
                r["deltas_per_s"],
                r["p50_ns"],
                r["p99_ns"],
                cpu=r["server_cpu_ns_per_delta"],
                note=f"{r['conflated_batches']:,} batches",
            )
        )
        big = r["big_batches"]
        if big:
            rows.append(
                _row(
                    f"lob, real WebSocket, {BIG_TURN} commands a batch",
                    r["subscribers"],
                    big["deltas_per_s"],
                    None,
                    None,
                    cpu=big["server_cpu_ns_per_delta"],
                    note=f"{big['conflated_batches']:,} batches",
                )
            )

    for count in sizes.mock:
        progress(f"enqueue-only method: {count:,} subscribers")
        result = asyncio.run(_enqueue_only(count, sizes.mock_messages))
        metrics[f"enqueue_only.{count}"] = result
        rows.append(
            _row(
                "enqueue-only, mock",
                count,
                result["msgs_per_s"],
                result["p50_ns"],
                result["p99_ns"],
                note="older method",
            )
        )

    for count in sizes.publisher:
        progress(f"publisher cost: {count:,} subscribers")
        broadcasts = max(200, min(sizes.broadcasts, 4_000_000 // count))
        result = publisher_cost(count, broadcasts)
        metrics[f"publisher.{count}"] = result
        rows.append(
            _row(
                "lob publisher, mock sinks",
                count,
                None,
                None,
                None,
                broadcast=result["p50_ns"] / 1e3,
                note=f"older {OLDER_PUBLISHER_US.get(count, '-')} us",
            )
        )

    one = next((r for r in real if r["subscribers"] == 1 and r["p50_ns"]), None)
    if one is not None:
        push = one["p50_ns"]
        metrics["polling"] = {
            f"{ms}ms": {"poll_avg_ns": ms * 500_000, "speedup": ms * 500_000 / push}
            for ms in POLL_INTERVALS_MS
        }
        for ms in POLL_INTERVALS_MS:
            rows.append(
                _row(
                    f"polling every {ms} ms",
                    1,
                    None,
                    ms * 500_000,
                    None,
                    note=f"push {ms * 500_000 / push:,.0f}x sooner",
                )
            )
    notes.append(
        "real WebSocket: lob's ExchangeServer (fsync off, no history, no multicast) with a "
        "feeder task; subscribers follow the full book over 127.0.0.1 from separate processes "
        "on the same cores; deltas/s from the burst phase, p50/p99 push latency from a paced "
        "phase at a tenth of that capacity; cpu/delta is the server process's CPU time "
        "(user + system) per delivered delta, deltas/cpu-s its inverse: the rate one core "
        "given wholly to the server would sustain"
    )
    notes.append(
        "enqueue-only: the older design's method (N put_nowait into asyncio.Queue per "
        "broadcast, mock connections) run here; it writes no socket"
    )
    notes.append(
        "publisher: lob's MarketData.on_events -> Session.offer with mock writers, p50 per "
        "broadcast; see `lob bench multicast` for the multicast publisher's cost"
    )
    return BenchReport(
        name="ws",
        title="WebSocket market-data fan-out",
        columns=COLUMNS,
        rows=rows,
        machine=machine,
        quick=quick,
        metrics=metrics,
        notes=notes,
    )


def _row(
    measure: str,
    subscribers: int,
    rate: float | None,
    p50: float | None,
    p99: float | None,
    cpu: float | None = None,
    broadcast: float | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "measure": measure,
        "subscribers": subscribers,
        "deltas/s": rate,
        "p50": None if p50 is None else format_ns(p50),
        "p99": None if p99 is None else format_ns(p99),
        "cpu/delta": None if cpu is None else format_ns(cpu),
        "deltas/cpu-s": None if cpu is None else 1e9 / cpu,
        "us/broadcast": None if broadcast is None else round(broadcast, 1),
        "note": note,
    }
