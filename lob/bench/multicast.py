"""``lob bench multicast``: the ITCH feed's cost, from encoding to a subscriber's decode.

Three measurements, in one process plus helpers (docs/benchmarks.md shows figures):

- encode + frame: a realistic message mix (A/E/X/D/U from a random engine
  stream through ``ItchMapper``, built first and never timed) is encoded and
  packed into 1,400-byte MoldUDP64 packets on one core, each command's
  messages together (``itch.encode_all`` + ``Packer.add_all``, the publisher's
  path) and one message at a time (``itch.encode`` + ``Packer.add``). The
  mapper's own cost (engine events -> messages) is another row. Median of
  several runs, with their spread.
- publisher cost with 0 to 10,000 subscribers: ``Publisher.publish`` (history,
  packing, ``sendto``) of pre-encoded messages, as full packets and as one
  message per packet, while N real UDP sockets are joined to the group on
  127.0.0.1. The sockets are held by helper processes (at most 2,500 each)
  that do not read them, with small receive buffers; the kernel still delivers
  (copies) every packet to every socket, so this measures what the sender
  pays on loopback, where delivery runs in the sender's own system call. It
  says nothing about subscribers on other hosts, where a switch copies.
- publish-to-decode latency: one message per packet on a fixed schedule
  (open loop: each message carries its intended send time, so a stalled
  sender is charged), received by lob's asyncio ``Subscriber`` in another
  process, timed when its ``on_message`` sees the decoded message. Both
  processes read the same system-wide monotonic clock.
- the same latency while N other sockets (0 to 10,000) are joined to the group
  and left unread in helper processes, a few hundred messages each: on
  loopback the sender's system call copies every packet to every socket, so
  the measured subscriber waits behind the copies to the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lob.bench.harness import (
    BenchReport,
    Progress,
    describe_machine,
    format_ns,
    percentile,
    repeat_throughput,
    summarize,
)

__all__ = ["run"]

PER_PROCESS = 2_500
COLUMNS = ["measure", "subscribers", "msgs/s", "spread", "ns/msg", "ns/packet", "p50", "p99"]


@dataclass(frozen=True)
class Sizes:
    messages: int  # messages per timed encode run
    publish: int  # messages per publisher-cost run
    single: int  # messages sent one per packet
    latency: int  # messages in the latency run
    latency_rate: float  # messages per second offered in the latency run
    runs: int
    subscribers: tuple[int, ...]
    fanout: tuple[int, ...] = (0, 10, 100, 1_000, 10_000)  # other subscribers, latency
    fanout_latency: int = 500  # messages per latency-with-fan-out run

    @classmethod
    def full(cls) -> Sizes:
        return cls(400_000, 200_000, 20_000, 20_000, 2_000.0, 5, (0, 1, 10, 100, 1_000, 10_000))

    @classmethod
    def quick(cls) -> Sizes:
        return cls(5_000, 5_000, 500, 300, 2_000.0, 2, (0, 1, 10), (0, 10), 200)


def _message_mix(count: int, seed: int = 1) -> tuple[list[list[Any]], list[list[Any]]]:
    """At least ``count`` ITCH messages from a random engine stream, grouped by command,
    and the engine events of every command."""
    from lob.engine import MatchingEngine, Side
    from lob.feed.itch_mapper import ItchMapper

    rng = random.Random(seed)
    engine = MatchingEngine()
    mapper = ItchMapper(0)
    groups: list[list[Any]] = []
    messages = 0
    batches: list[list[Any]] = []
    symbols = ["AAPL", "MSFT", "NVDA", "AMZN"]
    live: list[tuple[str, str]] = []
    n = 0
    ts = 34_200_000_000_000
    while messages < count:
        n += 1
        ts += 1_000
        roll = rng.random()
        if roll < 0.55 or not live:
            account = rng.choice("ABCD")
            events = engine.new_order(
                account,
                f"o{n}",
                rng.choice(symbols),
                rng.choice([Side.BUY, Side.SELL]),
                rng.randint(1, 5) * 100,
                rng.randrange(1_000_000, 1_010_000, 100),
                ts,
            )
            if engine.order(account, f"o{n}") is not None:
                live.append((account, f"o{n}"))
        elif roll < 0.85:
            events = engine.cancel(*live.pop(rng.randrange(len(live))), ts)
        else:
            account, id = live[rng.randrange(len(live))]
            view = engine.order(account, id)
            if view is None:  # filled meanwhile
                live.remove((account, id))
                continue
            if rng.random() < 0.4:  # smaller at the same price: keeps priority (X)
                events = engine.replace(account, id, ts, qty=max(1, view.qty - 100))
            else:
                price = rng.randrange(1_000_000, 1_010_000, 100)
                events = engine.replace(account, id, ts, price=price)
            if engine.order(account, id) is None:
                live.remove((account, id))
        batches.append(events)
        group = mapper.map(events)
        if group:
            groups.append(group)
            messages += len(group)
    return groups, batches


def _encode_rate(groups: list[list[Any]], runs: int, per_command: bool) -> Any:
    """Encode + frame: each command's messages together (``encode_all`` +
    ``Packer.add_all``, what ``Publisher.publish_messages`` does), or one at a time."""
    from lob.feed.itch import encode, encode_all
    from lob.feed.moldudp64 import Packer

    count = sum(len(g) for g in groups)

    def prepare() -> Callable[[], int]:
        packer = Packer("BENCH")

        def by_command() -> int:
            add_all = packer.add_all
            for group in groups:
                add_all(encode_all(group))
            packer.flush()
            return count

        def one_by_one() -> int:
            add = packer.add
            for group in groups:
                for message in group:
                    add(encode(message))
            packer.flush()
            return count

        return by_command if per_command else one_by_one

    return repeat_throughput(prepare, runs=runs, warmup=1)


def _mapper_rate(batches: list[list[Any]], runs: int) -> Any:
    from lob.feed.itch_mapper import ItchMapper

    def prepare() -> Callable[[], int]:
        mapper = ItchMapper(0)

        def trial() -> int:
            count = 0
            for events in batches:
                count += len(mapper.map(events))
            return count

        return trial

    return repeat_throughput(prepare, runs=runs, warmup=1)


# -- subscribers held by helper processes ------------------------------------------


def _hold(group: str, port: int, count: int, conn: Any) -> None:
    from lob.feed.net import receiver_socket

    socks = []
    try:
        for _ in range(count):
            socks.append(receiver_socket(group, port, rcvbuf=4096))
    except OSError as exc:
        conn.send(("error", len(socks), str(exc)))
    else:
        conn.send(("ready", len(socks), ""))
    conn.recv()  # wait until told to stop
    for sock in socks:
        sock.close()


class _Holders:
    """Helper processes holding ``total`` sockets joined to the group."""

    def __init__(self, group: str, port: int, total: int) -> None:
        ctx = mp.get_context("spawn")
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        self.joined = 0
        self.errors: list[str] = []
        left = total
        while left > 0:
            n = min(left, PER_PROCESS)
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_hold, args=(group, port, n, theirs), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.conns.append(ours)
            left -= n
        for conn in self.conns:
            try:
                status, joined, error = conn.recv()
            except EOFError:
                status, joined, error = "error", 0, "a helper process died before joining"
            self.joined += joined
            if status != "ready":
                self.errors.append(error)

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send("stop")
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()


def _publisher_cost(
    group: str, port: int, encoded: list[bytes], single: int, runs: int
) -> tuple[list[float], list[float], list[float], int, int]:
    """(ns per message full packets, ns per packet full, ns per packet single), packets."""
    from lob.feed.net import Publisher

    full_msg: list[float] = []
    full_pkt: list[float] = []
    single_pkt: list[float] = []
    errors = 0
    packets = 0
    for i in range(runs + 1):
        pub = Publisher(group, port, session="BENCH", heartbeat_interval=0)
        pub.open()
        start = time.perf_counter_ns()
        pub.publish(encoded)  # no event loop runs: the last packet is flushed at once
        elapsed = time.perf_counter_ns() - start
        packets = pub.packets_sent + pub.send_errors
        publish = pub.publish
        ones = [[m] for m in encoded[:single]]
        start = time.perf_counter_ns()
        for one in ones:
            publish(one)
        elapsed_single = time.perf_counter_ns() - start
        errors += pub.send_errors
        pub._sock.close()  # type: ignore[union-attr]
        if i:  # the first run warms up
            full_msg.append(elapsed / len(encoded))
            full_pkt.append(elapsed / packets)
            single_pkt.append(elapsed_single / single)
    return full_msg, full_pkt, single_pkt, packets, errors


# -- latency ------------------------------------------------------------------------


def _latency_listener(group: str, port: int, count: int, base: int, conn: Any) -> None:
    from lob.feed.net import Subscriber

    samples: list[int] = []

    def on_message(seq: int, message: Any) -> None:
        if message.TYPE == "A":
            samples.append(time.perf_counter_ns() - base - message.timestamp)

    async def main() -> None:
        sub = Subscriber(group, port, on_message=on_message, poll_interval=0.2)
        await sub.start()
        conn.send("ready")
        deadline = time.monotonic() + 120
        while len(samples) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await sub.close()

    asyncio.run(main())
    conn.send(samples)


def _latency(group: str, port: int, count: int, rate: float) -> list[int]:
    from lob.feed.itch import AddOrder, encode
    from lob.feed.itch_mapper import stock_directory
    from lob.feed.net import Publisher

    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    base = time.perf_counter_ns() - 1_000_000_000  # message timestamps stay positive
    proc = ctx.Process(
        target=_latency_listener, args=(group, port, count, base, theirs), daemon=True
    )
    proc.start()
    ours.recv()
    time.sleep(0.2)
    pub = Publisher(group, port, session="LAT", heartbeat_interval=0)
    pub.open()
    # Every message is one the listener's book accepts: a directory, then adds.
    pub.publish([encode(stock_directory(1, "LAT", time.perf_counter_ns() - base))])
    interval = 1e9 / rate
    t0 = time.perf_counter_ns() + 1_000_000
    for i in range(count):
        intended = t0 + int(i * interval)
        while time.perf_counter_ns() < intended:
            pass
        pub.publish([encode(AddOrder(1, 0, intended - base, i + 1, "B", 100, "LAT", 100_00))])
    samples: list[int] = ours.recv() if ours.poll(150) else []
    proc.join(timeout=10)
    pub._sock.close()  # type: ignore[union-attr]
    return samples


def latency_with_fanout(
    group: str, port: int, others: int, count: int, rate: float
) -> tuple[int, list[int], str]:
    """Publish-to-decode samples for one measured ``Subscriber`` while ``others`` more
    sockets are joined to the group and never read: (others joined, samples, error)."""
    holders = _Holders(group, port, others) if others else None
    try:
        samples = _latency(group, port, count, rate)
    finally:
        if holders:
            holders.close()
    joined = holders.joined if holders else 0
    error = holders.errors[0] if holders and holders.errors else ""
    return joined, samples, error


def run(quick: bool, progress: Progress) -> BenchReport:
    """Measure encode + frame rate, publisher cost per subscriber count, and latency."""
    from lob.feed.itch import encode

    sizes = Sizes.quick() if quick else Sizes.full()
    rng = random.Random()
    group = f"239.255.{rng.randrange(41, 250)}.{rng.randrange(1, 250)}"
    port = rng.randrange(40_000, 60_000)
    rows: list[dict[str, Any]] = []
    metrics: dict[str, Any] = {}
    notes: list[str] = []

    progress("building the message mix (not timed)")
    groups, batches = _message_mix(max(sizes.messages, sizes.publish))
    messages = [m for group in groups for m in group]
    mix = Counter(m.TYPE for m in messages)
    notes.append(
        "message mix: " + ", ".join(f"{t} {mix[t] * 100 / len(messages):.0f}%" for t in "AEXDU")
    )

    progress("encode + frame")
    enc = _encode_rate(groups, sizes.runs, per_command=True)
    rows.append(_row("encode + frame, per command", None, enc.median, enc.spread, 1e9 / enc.median))
    metrics["encode_frame.msgs_per_s"] = enc.to_json()
    one = _encode_rate(groups, sizes.runs, per_command=False)
    rows.append(_row("encode + frame, 1 by 1", None, one.median, one.spread, 1e9 / one.median))
    metrics["encode_frame_one.msgs_per_s"] = one.to_json()

    progress("engine events -> ITCH messages")
    mapped = _mapper_rate(batches, sizes.runs)
    rows.append(_row("map events", None, mapped.median, mapped.spread, 1e9 / mapped.median))
    metrics["map.msgs_per_s"] = mapped.to_json()

    encoded = [encode(m) for m in messages[: sizes.publish]]
    for count in sizes.subscribers:
        progress(f"publisher with {count:,} subscribers")
        holders = _Holders(group, port, count) if count else None
        try:
            joined = holders.joined if holders else 0
            if holders and holders.errors:
                notes.append(f"{count:,} subscribers asked, {joined:,} joined: {holders.errors[0]}")
            # Fewer messages when every packet is copied to thousands of sockets: at most
            # about 10 million deliveries per run.
            n_full = min(len(encoded), max(4_000, 400_000_000 // max(joined, 1)))
            n_single = min(sizes.single, max(500, 10_000_000 // max(joined, 1)))
            full_msg, full_pkt, single_pkt, packets, errors = _publisher_cost(
                group, port, encoded[:n_full], n_single, sizes.runs
            )
        finally:
            if holders:
                holders.close()
        per_msg = summarize(full_msg)
        rows.append(
            _row(
                "publish full packets",
                joined,
                1e9 / per_msg.median,
                per_msg.spread,
                per_msg.median,
                summarize(full_pkt).median,
            )
        )
        one = summarize(single_pkt)
        rows.append(
            _row(
                "publish 1 msg/packet", joined, 1e9 / one.median, one.spread, one.median, one.median
            )
        )
        metrics[f"publish.{joined}"] = {
            "ns_per_msg": per_msg.to_json(),
            "ns_per_packet": summarize(full_pkt).to_json(),
            "ns_per_packet_single": one.to_json(),
            "messages_per_run": n_full,
            "packets_per_run": packets,
            "single_packets_per_run": n_single,
            "send_errors": errors,
        }

    progress("publish-to-decode latency")
    samples = _latency(group, port, sizes.latency, sizes.latency_rate)
    if samples:
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        rows.append(
            {
                **_row("publish -> decode", 1, sizes.latency_rate, None, None, None),
                "p50": format_ns(p50),
                "p99": format_ns(p99),
            }
        )
        metrics["latency_ns"] = {
            "p50": p50,
            "p99": p99,
            "max": max(samples),
            "samples": len(samples),
            "sent": sizes.latency,
            "offered_rate": sizes.latency_rate,
        }
    else:
        notes.append("latency: the listener received nothing (is multicast on 127.0.0.1 blocked?)")
    for others in sizes.fanout:
        progress(f"publish-to-decode latency with {others:,} other subscribers")
        joined, samples, error = latency_with_fanout(
            group, port, others, sizes.fanout_latency, sizes.latency_rate
        )
        if error:
            notes.append(f"latency: {others:,} other subscribers asked, {joined:,} joined: {error}")
        if not samples:
            notes.append(f"latency with {others:,} other subscribers: nothing received")
            continue
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        rows.append(
            {
                **_row("publish -> decode", 1 + joined, sizes.latency_rate, None, None, None),
                "p50": format_ns(p50),
                "p99": format_ns(p99),
            }
        )
        metrics[f"latency_fanout.{joined}"] = {
            "subscribers": 1 + joined,
            "p50": p50,
            "p99": p99,
            "max": max(samples),
            "samples": len(samples),
            "sent": sizes.fanout_latency,
            "offered_rate": sizes.latency_rate,
        }
    notes.append(
        "subscribers are real UDP sockets joined to the group on 127.0.0.1, held without being "
        f"read by helper processes ({PER_PROCESS:,} each) with small receive buffers"
    )
    return BenchReport(
        name="multicast",
        title="ITCH 5.0 over MoldUDP64 multicast",
        columns=COLUMNS,
        rows=rows,
        machine=describe_machine(),
        quick=quick,
        metrics=metrics,
        notes=notes,
    )


def _row(
    measure: str,
    subscribers: int | None,
    rate: float,
    spread: float | None,
    ns_msg: float | None,
    ns_packet: float | None = None,
) -> dict[str, Any]:
    """One table row of raw numbers (the renderer formats them; None shows as -)."""
    return {
        "measure": measure,
        "subscribers": subscribers,
        "msgs/s": rate,
        "spread": None if spread is None else f"{spread * 100:.0f}%",
        "ns/msg": None if ns_msg is None else round(ns_msg),
        "ns/packet": None if ns_packet is None else round(ns_packet),
        "p50": None,
        "p99": None,
    }
