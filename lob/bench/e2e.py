"""``lob bench e2e``: orders in, acks out, through a real ``lob serve``.

What runs (docs/benchmarks.md shows figures):

- ``lob serve`` as a subprocess in its own process group, on 127.0.0.1 and a
  port the OS picks (``--port 0``), with its defaults: the journal with
  ``--fsync batch`` (group commit, every ack after its fsync), the DuckDB
  history, and the ITCH multicast feed (a random group on loopback, TTL 0).
  The process group is killed at the end whatever happens.
- 100 market-data subscribers follow the full book of the traded symbol over
  WebSocket from a process of their own (``lob.bench.ws.ClientPool``),
  decode every frame and check that every book message continues the one
  before (``market_data_gaps`` counts any that did not). One that falls too
  far behind is disconnected by the server, as any slow client is, and
  stays gone for the server's later phases: each phase records how many
  were still connected at its end, and a row says ``N subs (M left)`` when
  some were not.
- Order entry over WebSocket (msgpack) from 2 client processes, each with 2
  connections per account (``lob.bench.client_socket``: a lean client that
  reads each answer, and the clock, where its bytes arrive): account
  ``buyer`` rests bids 1-10 ticks under the reference price and sends IOC
  buys that cross, ``seller`` the mirror image;
  a connection cancels its oldest resting order once it has 100 (about 60%
  passive adds, 30% cancels, 10% crossing IOCs). The connections ask for
  compact acknowledgements (``/ws?acks=compact``: status, quantities and the
  order's fills), as a client that sends at these rates would; the ``full.``
  runs repeat the most sustained ones with full acks to show what they cost.
- Fixed offered rates (1,000, 5,000, 10,000 orders/s), open loop, no
  coordinated omission: order ``i`` has an intended send time ``t0 + i /
  rate`` on the system-wide monotonic clock; a sender that is late sends at
  once, and the latency of each order is *ack received - intended send time*.
  The sender sleeps between orders on the event loop's timers, which have
  1 ms resolution, so it sends in bursts of up to 1 ms of orders and up to
  1 ms of its own lateness is charged to the server (``sender_late_*`` says
  how much). The achieved rate is acks over the time from the first intended
  send to the last ack, so the last orders' latency counts against it: the
  phases with batch messages (10,000 and 50,000 orders/s) last 10 s, the
  others 3 s. Errors (a cancel of an order that was filled meanwhile) are
  answers too and count as acks, separately.
- The most the server sustains (``max``): each entry process keeps a fixed
  number of orders in flight for a few seconds (closed loop; latency from the
  actual send). The same runs without market-data subscribers
  (``nosubs.``) and with ``--fsync off`` (``off.``) show what each costs;
  ``off.nosubs.`` repeats the top fixed rate with neither, for the latency
  that is not the disk's. The server's CPU time per order comes from
  ``/proc`` (the server's threads and its journal sync process).
- The server's own view of the same orders: its order-to-ack histogram
  (``GET /metrics``, ``lob.server.latency``) scraped before and after each
  phase gives the latency from reading an order off the socket to writing its
  answer, and the share answered within 2 ms. The gap to the client's figure
  is the client processes and the scheduling of five processes on the cores.
- REST for comparison: one keep-alive HTTP connection posting orders one
  after another (closed loop: each waits for its answer), so its latency is
  service time and its rate what one synchronous REST client gets.

``LOB_E2E_PROFILE=/path/out.prof`` runs the server under cProfile and writes
the profile there when it exits (figures are then slower: it is for finding
where time goes, not for quoting).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import math
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lob.bench.harness import (
    BenchReport,
    NullProgress,
    Progress,
    describe_machine,
    format_ns,
    merge_counts,
    percentile,
)
from lob.bench.ws import SYMBOL, ClientPool
from lob.priority import allowed_cpus, keep_to
from lob.server.latency import ORDER_ACK, parse_buckets, quantile
from lob.store.journal import Journal
from lob.store.syncer import SYNC_PROCESS_NAME

__all__ = [
    "LobServe",
    "OrderEntry",
    "cpu_times",
    "fsync_probe",
    "group_commit_probe",
    "loaded_server",
    "run",
]

KEYS = {"buyer": "bench-buyer-key-0123456789", "seller": "bench-seller-key-0123456789"}
COLUMNS = [
    "measure",
    "offered/s",
    "achieved/s",
    "p50",
    "p99",
    "p99 from send",
    "p99.9",
    "max",
    "errors",
    "cpu/order",
    "server p50",
    "server p99",
    "server <=2ms",
]
ENTRY_PROCESSES = 2
CONNECTIONS = 2  # per account per entry process


@dataclass(frozen=True)
class Sizes:
    rates: tuple[float, ...]
    seconds: float
    window: int  # orders in flight per entry process in the closed-loop phase
    subscribers: int
    rest_orders: int
    batch: int  # most orders in one batch message, in the batched phases
    batch_rates: tuple[float, ...]
    batch_window: int
    batch_seconds: float  # the batched fixed-rate phases: long enough that the last
    # orders' latency is a small part of the time the achieved rate is counted over

    @classmethod
    def full(cls) -> Sizes:
        rates = (1_000.0, 5_000.0, 10_000.0)
        return cls(rates, 3.0, 256, 100, 2_000, 100, (10_000.0, 50_000.0), 2_048, 10.0)

    @classmethod
    def quick(cls) -> Sizes:
        return cls((200.0,), 0.5, 16, 3, 50, 10, (400.0,), 64, 1.0)


# -- the server --------------------------------------------------------------------


def _lob_command() -> list[str]:
    script = Path(sys.executable).parent / "lob"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from lob.cli.app import app; app()"]


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process so far (``/proc/PID/stat``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rpartition(")")[2].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _sync_processes(pid: int) -> list[int]:
    """The journal sync processes among ``pid``'s children (any thread's)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                    if SYNC_PROCESS_NAME.encode() in argv:
                        found.append(int(child))
    return found


class LobServe:
    """``lob serve --port 0`` in its own process group; ``url`` once it says it is ready."""

    def __init__(
        self,
        symbols: str,
        profile: str | None = None,
        fsync: str = "batch",
        options: tuple[str, ...] = (),
    ) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="lob-bench-e2e-")
        rng = random.Random()
        group = f"239.255.{rng.randrange(41, 250)}.{rng.randrange(1, 250)}"
        port = rng.randrange(40_000, 60_000)
        command = _lob_command()
        if profile:  # cProfile.run writes the profile even when the command exits
            code = (
                "import cProfile, sys; from lob.cli.app import app; sys.argv[0] = 'lob'; "
                f"cProfile.run('app()', {profile!r})"
            )
            command = [sys.executable, "-c", code]
        args = [
            *command,
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(Path(self._dir.name) / "data"),
            "--symbols",
            symbols,
            "--fsync",
            fsync,
            "--multicast",
            f"{group}:{port}",
            *options,
        ]
        for account, key in KEYS.items():
            args += ["--api-key", f"{account}:{key}"]
        self.log_path = Path(self._dir.name) / "serve.log"
        self._log = open(self.log_path, "w+b")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=self._log, start_new_session=True
        )
        self.url = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if line.strip().startswith("REST"):
                    self.url = line.split()[1]
            if self.url:
                break
            time.sleep(0.05)
        if not self.url:
            text = self.log_path.read_text(errors="replace")
            self.close()
            raise RuntimeError(f"lob serve did not start: {text[-2000:]}")

    def cpu_seconds(self) -> float:
        """CPU time of the server and of its journal sync process (the group commit's fsync)."""
        seconds = sum(cpu_times(self.proc.pid))
        for child in _sync_processes(self.proc.pid):
            with contextlib.suppress(OSError):
                seconds += sum(cpu_times(child))
        return seconds

    def close(self) -> None:
        """SIGTERM to the process group (a graceful stop), SIGKILL if it lingers."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._log.close()
        self._dir.cleanup()


# -- order entry -------------------------------------------------------------------


def _entry_main(url: str, index: int, processes: int, reference: int, acks: str, conn: Any) -> None:
    import uvloop

    uvloop.run(_entry(url, index, processes, reference, acks, conn))


class _Conn:
    """One order-entry connection: its account, resting ids and in-flight requests."""

    __slots__ = ("account", "live", "n", "prefix", "side", "ws")

    def __init__(self, ws: Any, account: str, prefix: str) -> None:
        self.ws = ws
        self.prefix = prefix
        self.account = account
        self.side = "buy" if account == "buyer" else "sell"
        self.live: list[str] = []
        self.n = 0


async def _entry(
    url: str, index: int, processes: int, reference: int, acks: str, conn: Any
) -> None:
    import msgpack

    from lob.bench.client_socket import open_client_socket
    from lob.engine.prices import format_price

    tick = 100
    prices = {
        side: [format_price(reference + sign * k * tick) for k in range(-10, 11)]
        for side, sign in (("buy", 1), ("sell", -1))
    }  # prices[side][10 + k] is k ticks through the reference (positive k crosses)
    rng = random.Random(1_000 + index)
    pending: dict[int, tuple[Any, int]] = {}  # req -> (intended time(s), actual send)
    state: dict[str, Any] = {
        "latencies": array("q"),
        "from_send": array("q"),
        "errors": 0,
        "last": 0,
        "window": 0,
        "in_flight": 0,
    }
    codes: dict[str, int] = {}
    room = asyncio.Event()
    packb = msgpack.packb
    unpackb = msgpack.unpackb
    clock = time.monotonic_ns

    def answered(body: dict[str, Any]) -> None:
        if body.get("type") == "error":
            state["errors"] += 1
            code = body.get("error", {}).get("code", "?")
            codes[code] = codes.get(code, 0) + 1

    auth_answers: list[asyncio.Future[dict[str, Any]]] = []

    def on_message(frame: bytes) -> None:
        """An answer, read where its bytes arrived (lob.bench.client_socket)."""
        now = clock()
        body = unpackb(frame)
        req = body.get("req")
        entry = pending.pop(req, None) if req is not None else None
        if entry is None:
            if auth_answers and not auth_answers[0].done():
                auth_answers.pop(0).set_result(body)
            return
        intended, sent = entry
        state["last"] = now
        latencies = state["latencies"]
        from_send = state["from_send"]
        if type(intended) is int:
            latencies.append(now - intended)
            from_send.append(now - sent)
            answered(body)
            state["in_flight"] -= 1
        else:  # a batch: one result per order, in the order sent
            for t, result in zip(intended, body["results"], strict=True):
                latencies.append(now - t)
                from_send.append(now - sent)
                answered(result)
            state["in_flight"] -= len(intended)
        if state["in_flight"] < state["window"]:
            room.set()

    loop = asyncio.get_running_loop()
    conns: list[_Conn] = []
    for account, key in KEYS.items():
        for _ in range(CONNECTIONS):
            ws = await open_client_socket(f"{url}/ws?encoding=msgpack&acks={acks}", on_message)
            waiting = loop.create_future()
            auth_answers.append(waiting)
            ws.send(packb({"op": "auth", "key": key}))
            answer = await asyncio.wait_for(waiting, 30)
            if answer.get("type") != "authenticated":
                raise RuntimeError(f"authentication failed: {answer}")
            conns.append(_Conn(ws, account, f"e{index}c{len(conns)}-"))
    conn.send("ready")
    req = index * 100_000_000

    async def send(c: _Conn, orders: list[dict[str, Any]], due: list[int], batched: bool) -> None:
        """One order as its own message, or orders as one batch; ``due`` their start times."""
        nonlocal req
        req += 1
        if not batched:
            intended: Any = due[0]
            message = {**orders[0], "req": req}
        else:
            intended = due
            message = {"op": "batch", "orders": orders, "req": req}
        data = packb(message)
        pending[req] = (intended, clock())
        state["in_flight"] += len(orders)
        c.ws.send(data)
        await c.ws.drain()

    def next_order(c: _Conn) -> dict[str, Any]:
        if len(c.live) > 100:
            return {"op": "cancel", "id": c.live.pop(0)}
        roll = rng.random()
        if roll < 0.10:
            price = prices[c.side][10 + rng.randint(1, 3)]
            return {"op": "new", "symbol": SYMBOL, "side": c.side, "qty": 100, "price": price,
                    "tif": "ioc"}  # fmt: skip
        if roll < 0.40 and c.live:
            return {"op": "cancel", "id": c.live.pop(0)}
        c.n += 1
        id = f"{c.prefix}{c.n}"
        c.live.append(id)
        price = prices[c.side][10 - rng.randint(1, 10)]
        qty = rng.randint(1, 5) * 100
        return {"op": "new", "id": id, "symbol": SYMBOL, "side": c.side, "qty": qty,
                "price": price}  # fmt: skip

    while True:
        request = await loop.run_in_executor(None, conn.recv)
        if request[0] not in ("rate", "window"):
            break
        mode, amount, seconds, t0, batch = request
        state.update(latencies=array("q"), from_send=array("q"), errors=0, last=0, in_flight=0)
        codes.clear()
        lateness = array("q")
        sent = 0
        if mode == "rate":  # open loop: order i is due at t0 + i / rate, whatever happened
            state["window"] = 0
            total = int(amount * seconds)
            interval = 1e9 / amount
            i = index
            frames = 0
            while i < total:
                intended = t0 + int(i * interval)
                now = clock()
                if now < intended:  # the loop's timers have 1 ms resolution
                    await asyncio.sleep(max(intended - now, 1_000_000) / 1e9)
                    continue
                if batch > 1:  # every order now due, up to ``batch``, in one message
                    c = conns[frames % len(conns)]
                    frames += 1
                    orders = []
                    due = []
                    while i < total and len(orders) < batch:
                        intended = t0 + int(i * interval)
                        if intended > now:
                            break
                        lateness.append(now - intended)
                        orders.append(next_order(c))
                        due.append(intended)
                        i += processes
                    await send(c, orders, due, True)
                    sent += len(orders)
                    continue
                lateness.append(now - intended)
                c = conns[(i // processes) % len(conns)]
                await send(c, [next_order(c)], [intended], False)
                sent += 1
                i += processes
        else:  # closed loop: keep ``amount`` orders in flight until ``seconds`` have passed
            state["window"] = int(amount)
            end = t0 + int(seconds * 1e9)
            while clock() < t0:
                await asyncio.sleep(0.001)
            frames = 0
            while clock() < end:
                free = state["window"] - state["in_flight"]
                if free < min(batch, state["window"]) or free <= 0:
                    room.clear()
                    await room.wait()
                    continue
                if batch > 1:
                    c = conns[frames % len(conns)]
                    frames += 1
                    orders = [next_order(c) for _ in range(min(batch, free))]
                    await send(c, orders, [clock()] * len(orders), True)
                    sent += len(orders)
                    continue
                c = conns[sent % len(conns)]
                await send(c, [next_order(c)], [clock()], False)
                sent += 1
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        conn.send(
            {
                "sent": sent,
                "latencies": state["latencies"].tobytes(),
                "errors": state["errors"],
                "error_codes": dict(codes),
                "unanswered": state["in_flight"],
                "first": t0,
                "last": state["last"],
                "sender_late": lateness.tobytes(),
                "from_send": state["from_send"].tobytes(),
            }
        )
        pending.clear()
        state["in_flight"] = 0
    for c in conns:
        c.ws.close()
    await asyncio.gather(*(c.ws.closed for c in conns), return_exceptions=True)
    conn.send("stopped")


class OrderEntry:
    """The order-entry client processes."""

    def __init__(
        self, url: str, reference: int, acks: str = "compact", processes: int = ENTRY_PROCESSES
    ) -> None:
        ctx = mp.get_context("spawn")
        ws_url = url.replace("http://", "ws://", 1)
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        for index in range(processes):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=_entry_main,
                args=(ws_url, index, processes, reference, acks, theirs),
                daemon=True,
            )
            proc.start()
            self.conns.append(ours)
            self.procs.append(proc)
        for c in self.conns:
            if not c.poll(60) or c.recv() != "ready":
                raise RuntimeError("an order-entry process did not connect")

    def run(self, mode: str, amount: float, seconds: float, batch: int = 1) -> dict[str, Any]:
        """``("rate", orders/s, s)``: open loop; ``("window", in flight, s)``: closed loop.

        ``batch`` > 1 sends order messages in ``batch`` messages of up to that many
        orders: at a fixed rate, every order due at a wake-up (up to ``batch``) goes
        in one; in the closed loop, a batch leaves whenever that many have room.
        """
        t0 = time.monotonic_ns() + 200_000_000
        for c in self.conns:
            c.send((mode, amount, seconds, t0, batch))
        answers = [c.recv() if c.poll(seconds + 120) else None for c in self.conns]
        if None in answers:
            raise RuntimeError("an order-entry process did not report")
        latencies = array("q")
        late = array("q")
        from_send = array("q")
        for a in answers:
            latencies.frombytes(a["latencies"])
            late.frombytes(a["sender_late"])
            from_send.frombytes(a["from_send"])
        last = max(a["last"] for a in answers)
        return {
            "mode": mode,
            "batch": batch,
            "sent": sum(a["sent"] for a in answers),
            "acks": len(latencies),
            "errors": sum(a["errors"] for a in answers),
            "error_codes": merge_counts([a["error_codes"] for a in answers]),
            "unanswered": sum(a["unanswered"] for a in answers),
            "achieved": len(latencies) * 1e9 / max(last - t0, 1),
            "sender_late_p50_ns": percentile(late, 50) if late else 0,
            "sender_late_p99_ns": percentile(late, 99) if late else 0,
            "latencies": latencies,
            "from_send": from_send,
        }

    def close(self) -> None:
        for c in self.conns:
            with contextlib.suppress(OSError):
                c.send(("stop",))
        for c, proc in zip(self.conns, self.procs, strict=True):
            with contextlib.suppress(OSError, EOFError):
                if c.poll(10):
                    c.recv()
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()


# -- REST, closed loop -------------------------------------------------------------


def _connection(url: str) -> http.client.HTTPConnection:
    """A keep-alive HTTP connection to the server at ``url`` (``http://HOST:PORT``)."""
    host, _, port = url.removeprefix("http://").partition(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def _rest(url: str, reference: int, orders: int) -> dict[str, Any]:
    from lob.engine.prices import format_price

    client = _connection(url)
    headers = {"Authorization": f"Bearer {KEYS['buyer']}", "Content-Type": "application/json"}
    latencies = array("q")
    errors = 0
    start = time.monotonic_ns()
    for n in range(orders):
        if n % 2:
            client.request("DELETE", f"/orders/r{n - 1}", headers=headers)
        else:
            price = format_price(reference - (1 + n % 10) * 100)
            body = {"symbol": SYMBOL, "side": "buy", "qty": 100, "price": price, "id": f"r{n}"}
            client.request("POST", "/orders", body=json.dumps(body), headers=headers)
        t = time.monotonic_ns()
        response = client.getresponse()
        response.read()
        latencies.append(time.monotonic_ns() - t)
        if response.status >= 300:
            errors += 1
    elapsed = time.monotonic_ns() - start
    client.close()
    return {
        "orders": orders,
        "achieved": orders * 1e9 / elapsed,
        "errors": errors,
        "lat": latencies,
    }


# -- the report --------------------------------------------------------------------


def _stats(latencies: array[int]) -> dict[str, Any]:
    if not latencies:
        return {"p50": None, "p99": None, "p99_9": None, "max": None}
    return {
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "p99_9": percentile(latencies, 99.9),
        "max": max(latencies),
    }


def _row(measure: str, offered: float | None, result: dict[str, Any], cpu: float | None) -> dict:
    stats = result["stats"]
    return {
        "measure": measure,
        "offered/s": offered,
        "achieved/s": result["achieved"],
        "p50": _cell(stats, "p50"),
        "p99": _cell(stats, "p99"),
        "p99 from send": _cell(result.get("from_send"), "p99"),
        "p99.9": _cell(stats, "p99_9"),
        "max": _cell(stats, "max"),
        "errors": result["errors"],
        "cpu/order": None if cpu is None else format_ns(cpu),
        **_server_cells(result.get("server")),
    }


def _cell(stats: dict[str, Any] | None, key: str) -> str | None:
    return None if not stats or stats[key] is None else format_ns(stats[key])


def _server_cells(server: dict[str, Any] | None) -> dict[str, Any]:
    if not server or not server["answers"]:
        return {"server p50": None, "server p99": None, "server <=2ms": None}
    return {
        "server p50": format_ns(server["p50"]),
        "server p99": format_ns(server["p99"]),
        "server <=2ms": f"{server['within_2ms']:.1%}",
    }


def ack_buckets(url: str) -> dict[float, int]:
    """The server's order-to-ack histogram, from ``GET /metrics``."""
    client = _connection(url)
    try:
        client.request("GET", "/metrics")
        text = client.getresponse().read().decode()
    finally:
        client.close()
    return parse_buckets(text, ORDER_ACK)


def server_latency(before: dict[float, int], after: dict[float, int]) -> dict[str, Any]:
    """What the server measured between two scrapes: from reading each order off its
    socket to writing its answer (``lob.server.latency``)."""
    answers = after[math.inf] - before.get(math.inf, 0)
    if not answers:
        return {"answers": 0}
    out: dict[str, Any] = {"answers": answers}
    for key, q in (("p50", 0.5), ("p99", 0.99), ("p99_9", 0.999)):
        value = quantile(before, after, q)
        out[key] = None if value is None else value * 1e9
    out["within_2ms"] = (after[0.002] - before.get(0.002, 0)) / answers
    return out


@contextlib.contextmanager
def _probe_journal() -> Iterator[Journal]:
    """A new journal beside where the server's would be (the temp directory)."""
    with tempfile.TemporaryDirectory(prefix="lob-bench-fsync-") as tmp:
        journal = Journal.open(Path(tmp))
        try:
            yield journal
        finally:
            journal.close()


_SYNC = getattr(os, "fdatasync", os.fsync)
"""What ``Journal.sync`` calls."""


def fsync_probe(count: int = 50) -> dict[str, float]:
    """p50 and p99 of writing 100 bytes to a journal and syncing it.

    ``Journal.sync`` is ``fdatasync``; the group commit cannot acknowledge an
    order sooner than one, so this is the floor under every order-to-ack
    latency with ``--fsync batch``. The bytes go where a record would, over the
    zeros the journal keeps ahead.
    """
    samples = array("q")
    with _probe_journal() as journal:
        for _ in range(count):
            journal.write(b"x" * 100)
            start = time.perf_counter_ns()
            _SYNC(journal.fd)
            samples.append(time.perf_counter_ns() - start)
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99)}


def group_commit_probe(rate: float = 10_000, seconds: float = 3.0) -> dict[str, float]:
    """What group commit on this disk alone allows at ``rate`` records a second.

    One thread writes 100-byte records to a journal at ``rate``; another syncs
    what has been written whenever the previous sync is done, as the journal's
    group commit does. A record's latency runs from its write to the end of the first
    sync that began after it: it may wait for the sync in progress and then its
    own. No server, no network: this is the disk's floor under the p99 of
    order-to-ack at that rate with ``--fsync batch``.
    """
    written = array("q")  # write time of each record, in order
    latencies = array("q")
    state = {"synced": 0, "syncs": 0, "stop": False}
    wake = threading.Condition()

    def syncer(fd: int) -> None:
        while True:
            with wake:
                while not state["stop"] and len(written) == state["synced"]:
                    wake.wait()
                if state["stop"] and len(written) == state["synced"]:
                    return
                upto = len(written)
            _SYNC(fd)
            done = time.perf_counter_ns()
            with wake:
                for i in range(state["synced"], upto):
                    latencies.append(done - written[i])
                state["synced"] = upto
                state["syncs"] += 1

    with _probe_journal() as journal:
        thread = threading.Thread(target=syncer, args=(journal.fd,), daemon=True)
        thread.start()
        try:
            record = b"x" * 99 + b"\n"
            start = time.perf_counter_ns()
            end = start + int(seconds * 1e9)
            sent, total = 0, int(seconds * rate)
            while sent < total:
                now = time.perf_counter_ns()
                due = total if now >= end else int((now - start) * rate / 1e9)
                while sent < due:
                    journal.write(record)
                    with wake:
                        written.append(time.perf_counter_ns())
                        wake.notify()
                    sent += 1
                time.sleep(0.0002)
        finally:
            with wake:
                state["stop"] = True
                wake.notify()
            thread.join()
    return {
        "rate": rate,
        "records": len(latencies),
        "syncs": state["syncs"],
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


NO_MARKET_DATA: dict[str, Any] = {"deltas": 0, "gaps": 0, "open": 0, "closes": {}}
"""What a phase without subscribers received."""

Phase = tuple[str, str, float, float, int]
"""Metric key, "rate" or "window", orders/s or in flight, seconds, orders per message."""


@dataclass(frozen=True)
class ServerRun:
    """One ``lob serve`` of the report: how it runs, and the phases it runs under load."""

    prefix: str  # of its phases' keys in the metrics: "nosubs.", "pinned." ...
    fsync: str
    subscribers: int
    phases: list[Phase]
    rest_orders: int = 0  # then the REST closed-loop measure after the phases
    options: tuple[str, ...] = ()  # more lob serve options
    acks: str = "compact"
    cpu: int | None = None  # lob serve --cpu CPU, the clients on the other CPUs


def _measure_name(run: ServerRun, result: dict[str, Any]) -> str:
    """A phase's row title: how orders came, how many, and how the server ran."""
    load = (
        f"{result['offered']:,.0f}/s"
        if result["mode"] == "rate"
        else f"max ({result['in_flight']:,} in flight)"
    )
    way = f"WS batches of <={result['batch']}" if result["batch"] > 1 else "WS"
    subs = f"{run.subscribers} subs"
    if result["subscribers_open"] < run.subscribers:
        subs = f"{run.subscribers} subs ({result['subscribers_open']} left)"
    name = f"{way} {load}, fsync {run.fsync}, {subs}, {run.acks} acks"
    if run.options:
        name += f", {' '.join(run.options)}"
    if run.cpu is not None:
        name += f", server on CPU {run.cpu}"
    return name


@contextlib.contextmanager
def loaded_server(
    fsync: str,
    subscribers: int,
    reference: int,
    options: tuple[str, ...] = (),
    acks: str = "compact",
    progress: Progress | None = None,
    cpu: int | None = None,
) -> Iterator[tuple[LobServe, ClientPool | None, OrderEntry]]:
    """``lob serve --fsync FSYNC [OPTIONS]`` with ``subscribers`` connected and the
    order-entry processes warmed up; all of it stopped on the way out.

    ``cpu``: the server runs with ``--cpu CPU`` and the client processes keep to
    the other CPUs, as an operator who gives the sequencer a core would run them.
    """
    progress = progress or NullProgress()
    if cpu is not None:
        options = (*options, "--cpu", str(cpu))
    progress(f"starting lob serve (--fsync {fsync} {' '.join(options)}, {subscribers} subs)")
    profile = os.environ.get("LOB_E2E_PROFILE") if fsync == "batch" else None
    server = LobServe(SYMBOL, profile or None, fsync, options)
    pool: ClientPool | None = None
    entry: OrderEntry | None = None
    others = sorted((allowed_cpus() or frozenset()) - {cpu}) if cpu is not None else []
    try:
        if subscribers:
            progress(f"connecting {subscribers} market-data subscribers")
            pool = ClientPool(server.url, subscribers, processes=1)
            if pool.connected < subscribers:
                raise RuntimeError(f"{pool.connected} subscribers connected: {pool.errors[:1]}")
        entry = OrderEntry(server.url, reference, acks)
        if others:
            for proc in [*(pool.procs if pool is not None else ()), *entry.procs]:
                keep_to(others, proc.pid)
        entry.run("rate", 500.0, 0.5)  # warm-up
        yield server, pool, entry
    finally:
        if entry is not None:
            entry.close()
        if pool is not None:
            pool.close()
        server.close()


def _measure(server_run: ServerRun, reference: int, progress: Progress) -> dict[str, Any]:
    """Start the server ``server_run`` describes, run its phases, stop it."""
    out: dict[str, Any] = {}
    fsync, subscribers, phases = server_run.fsync, server_run.subscribers, server_run.phases
    with loaded_server(
        fsync, subscribers, reference, server_run.options, server_run.acks, progress, server_run.cpu
    ) as (server, pool, entry):
        for i, (key, mode, amount, seconds, batch) in enumerate(phases):
            progress(f"order entry, fsync {fsync}, {subscribers} subs: {key}", i, len(phases))
            if pool is not None:
                pool.reset(False)
            buckets = ack_buckets(server.url)
            cpu0 = server.cpu_seconds()
            result = entry.run(mode, amount, seconds, batch)
            md = pool.drained() if pool is not None else NO_MARKET_DATA
            cpu = server.cpu_seconds() - cpu0
            result["server"] = server_latency(buckets, ack_buckets(server.url))
            result["stats"] = _stats(result.pop("latencies"))
            result["from_send"] = _stats(result.pop("from_send"))
            result["server_cpu_ns_per_order"] = cpu * 1e9 / max(result["acks"], 1)
            result["market_data_deltas"] = md["deltas"]
            result["market_data_gaps"] = md["gaps"]  # a wrong book: never expected
            # A subscriber the server dropped as too slow is not there for the phases
            # after: each phase says how many were still connected at its end.
            result["subscribers_open"] = md["open"]
            result["subscriber_closes"] = dict(md["closes"])
            result["offered"] = amount if mode == "rate" else None
            result["in_flight"] = amount * ENTRY_PROCESSES if mode == "window" else None
            out[key] = result
        if server_run.rest_orders:
            progress("REST, one connection, closed loop")
            answer = _rest(server.url, reference, server_run.rest_orders)
            answer["stats"] = _stats(answer.pop("lat"))
            out["rest"] = answer
    return out


def run(quick: bool, progress: Progress) -> BenchReport:
    """Order-to-ack latency at fixed rates and the most sustained, through ``lob serve``."""
    from lob.sim.universe import load_symbols

    sizes = Sizes.quick() if quick else Sizes.full()
    reference = load_symbols(SYMBOL)[0].reference_price
    rows: list[dict[str, Any]] = []
    metrics: dict[str, Any] = {}
    notes: list[str] = []
    progress("timing fdatasync on this disk")
    disk = metrics["disk_fsync_ns"] = fsync_probe(20 if quick else 200)
    notes.append(
        f"fdatasync of the journal's disk here: p50 {format_ns(disk['p50'])}, "
        f"p99 {format_ns(disk['p99'])}: with --fsync batch no ack can come sooner"
    )
    floor_rate = 10_000
    progress(f"timing group commit on this disk alone at {floor_rate:,} records/s")
    floor = metrics["disk_group_commit_ns"] = group_commit_probe(floor_rate, 0.5 if quick else 3.0)
    notes.append(
        f"group commit on this disk alone, {floor_rate:,} records/s (one thread writes, one "
        f"syncs, each record waits for a sync begun after it): p50 {format_ns(floor['p50'])}, "
        f"p99 {format_ns(floor['p99'])}: the disk's floor under the server's p99 at that rate"
    )
    top = sizes.rates[-1]
    most: Phase = ("max", "window", sizes.window, sizes.seconds, 1)
    fastest: Phase = (f"ws.{int(top)}", "rate", top, sizes.seconds, 1)  # the top fixed rate
    batched: list[Phase] = [
        (f"batch.{int(r)}", "rate", r, sizes.batch_seconds, sizes.batch) for r in sizes.batch_rates
    ]
    batched.append(("batch.max", "window", sizes.batch_window, sizes.seconds, sizes.batch))
    subs = sizes.subscribers
    runs = [
        ServerRun(
            "",
            "batch",
            subs,
            [(f"ws.{int(r)}", "rate", r, sizes.seconds, 1) for r in sizes.rates] + [most] + batched,
            rest_orders=sizes.rest_orders,
        ),
        # What full acknowledgements (the whole order and the account's events) cost.
        ServerRun("full.", "batch", subs, [most, batched[-1]], acks="full"),
        # What the market-data subscribers cost, and what waiting for the disk costs.
        ServerRun("nosubs.", "batch", 0, [fastest, most]),
        # Without the disk: the top fixed rate (no subscribers) shows the latency
        # that is the server's own and not the fdatasync's.
        ServerRun("off.", "off", subs, [most]),
        ServerRun("off.nosubs.", "off", 0, [fastest]),
        # Market data at most once a millisecond, acks not waiting for it.
        ServerRun(
            "md1.",
            "batch",
            subs,
            [(f"ws.{int(r)}", "rate", r, sizes.seconds, 1) for r in sizes.rates[-2:]]
            + [most, *batched],
            options=("--md-interval", "1"),
        ),
    ]
    cpus = sorted(allowed_cpus() or ())
    pin = cpus[0] if len(cpus) >= 2 else None
    if pin is not None:
        # The layout an operator gives a dedicated machine: the sequencer (and its
        # journal sync) on a core of its own, the history and every client on the others.
        runs += [
            ServerRun("pinned.", "batch", subs, [fastest, *batched], cpu=pin),
            ServerRun("pinned.nosubs.", "batch", 0, [fastest], cpu=pin),
        ]
    else:
        notes.append("one CPU usable here: no pinned. runs (lob serve --cpu needs two)")
    for server_run in runs:
        results = _measure(server_run, reference, progress)
        for key, result in results.items():
            metrics[server_run.prefix + key] = result
            if key == "rest":
                rows.append(_row("REST, 1 connection, closed loop", None, result, None))
                continue
            rows.append(
                _row(_measure_name(server_run, result), result["offered"], result,
                     result["server_cpu_ns_per_order"])
            )  # fmt: skip
    notes.append(
        "lob serve with DuckDB history and ITCH multicast on; subs = WebSocket subscribers to "
        f"the {SYMBOL} book, in another process at nice 5"
    )
    notes.append(
        f"order entry: {ENTRY_PROCESSES} processes x {2 * CONNECTIONS} WebSocket connections; "
        "at a fixed rate, latency = ack received - intended send time (open loop, no "
        "coordinated omission; the sender's timers have 1 ms resolution); max keeps a fixed "
        "number of orders in flight and its latency is from the actual send"
    )
    notes.append(
        "p99 from send: ack received - the moment the sender handed the message to its "
        "socket, over the same orders (leaves out how late the sender itself was)"
    )
    notes.append(
        "N subs (M left): the server disconnected N - M subscribers as too slow (close code "
        "1008: behind for over 10 s) before the phase ended; later phases of that server ran "
        "with M"
    )
    notes.append("REST: latency is service time (closed loop), not comparable to the open loop")
    if pin is not None:
        notes.append(
            f"server on CPU {pin} (metrics pinned.*): lob serve --cpu {pin}, its "
            "journal sync process on that CPU too, the history process and every client "
            "process on the others"
        )
    notes.append(
        "server p50/p99/<=2ms: the server's own measure (GET /metrics, "
        f"{ORDER_ACK}) from reading an order message off its socket to writing the "
        "answer, over the same orders; p50/p99 interpolated inside histogram buckets, "
        "<=2ms exact; time in the kernel's socket buffers before the read is not in it"
    )
    return BenchReport(
        name="e2e",
        title="Order entry to acknowledgement through lob serve",
        columns=COLUMNS,
        rows=rows,
        machine=describe_machine(),
        quick=quick,
        metrics=metrics,
        notes=notes,
    )
