"""``lob bench deltas``: bytes per L2 update, deltas against full JSON snapshots, and rates.

Payload (bytes, exact counts, no timing)
    A seeded order flow (passive orders 1-15 ticks from a $187.25 mid, cancels,
    replaces, some marketable orders that take a level or two) keeps one book
    at about 10-20 levels a side; the report gives the measured level count.
    Every command goes through the engine and the ``DeltaSequencer``.

    - *full JSON snapshot per update*: the baseline, a design that sends the
      whole book (full depth, JSON, prices as decimal strings) after every
      change: the size of ``engine.l2_snapshot`` as a JSON snapshot message,
      taken after each command that changed anything, averaged;
    - *delta*: the average size of one delta message (level or trade) in each
      encoding, one message per delta, symbol included;
    - *per command*: all the deltas of one command against one snapshot, for
      a server that sends a command's deltas in one frame;
    - *conflated*: a msgpack batch every 100 deltas, per delta it covers.

    The reduction is ``1 - delta bytes / snapshot bytes``, as the older
    design measured its 86.1% (269 bytes per delta against 1,938 per snapshot).

Rates (median of several runs after a warm-up, with the spread)
    events -> deltas (``DeltaSequencer``, then ``L2Feed`` with rings and top
    of book), encode and decode per encoding, and ``L2BookBuilder.apply``;
    each encode, decode and apply run goes over all the deltas four times, so
    that a run lasts long enough to measure on a shared machine.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lob.bench.harness import BenchReport, Progress, Summary, describe_machine, repeat_throughput
from lob.engine import MatchingEngine, Side
from lob.engine.events import Event
from lob.feed.conflation import conflate
from lob.feed.deltas import BookSnapshot, Delta, DeltaSequencer
from lob.feed.l2 import L2Feed
from lob.feed.l2_builder import L2BookBuilder
from lob.feed.wire import (
    BinaryCodec,
    decode_json,
    decode_msgpack,
    encode_json,
    encode_msgpack,
    message_to_dict,
)

__all__ = ["PayloadStats", "Sizes", "order_flow", "payload_stats", "run"]

SYMBOL = "AAPL"
MID = 1_872_500  # $187.25
TICK = 100  # $0.01
TS0 = 1_767_364_200_000_000_000  # 2026-01-02 09:30 New York, in ns
TARGET_LIVE = 70  # live orders the flow aims at: ~15 levels a side, ~2 orders each
CONFLATION_WINDOW = 100

COLUMNS = ["measure", "bytes", "vs JSON snapshot", "rate/s", "spread"]


@dataclass(frozen=True)
class Sizes:
    commands: int
    runs: int
    passes: int  # times each encode/decode/apply run goes over the deltas (longer runs, less noise)

    @classmethod
    def full(cls) -> Sizes:
        return cls(commands=100_000, runs=5, passes=4)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(commands=1_500, runs=1, passes=1)


def order_flow(commands: int, seed: int = 7) -> tuple[list[list[Event]], MatchingEngine]:
    """Run a seeded flow through a fresh engine; the events of each command, and the engine."""
    rng = random.Random(seed)
    engine = MatchingEngine()
    live: list[tuple[str, str]] = []
    out: list[list[Event]] = []
    n = 0
    while len(out) < commands:
        ts = TS0 + len(out) * 1_000
        account = f"M{rng.randrange(8)}"
        roll = rng.random()
        if live and (roll < 0.30 or len(live) > TARGET_LIVE * 1.2):
            i = rng.randrange(len(live))
            owner, oid = live[i]
            live[i] = live[-1]
            live.pop()
            order = engine.order(owner, oid)
            if order is None:
                continue
            if rng.random() < 0.25:
                smaller = max(1, order.qty - rng.randint(1, order.qty))
                out.append(engine.replace(owner, oid, ts, qty=smaller))
                live.append((owner, oid))
            else:
                out.append(engine.cancel(owner, oid, ts))
            continue
        n += 1
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        sign = -1 if side is Side.BUY else 1
        qty = rng.choice((100, 100, 100, 200, 300, 500)) + rng.choice((0, 0, 50))
        if roll > 0.93:
            price = MID - sign * TICK * rng.randint(1, 2)  # marketable: takes a level or two
        else:
            price = MID + sign * TICK * rng.randint(1, 15)
        events = engine.new_order(account, f"o{n}", SYMBOL, side, qty, price, ts)
        out.append(events)
        if events[-1].TYPE == "added":
            live.append((account, f"o{n}"))
    return out, engine


@dataclass(frozen=True)
class PayloadStats:
    """Average message sizes over one flow (bytes), and the book it kept."""

    deltas: int
    commands_with_deltas: int
    snapshot_json: float
    delta_json: float
    delta_msgpack: float
    delta_binary: float
    command_msgpack: float
    command_binary: float
    conflated_msgpack: float
    levels_per_side: float
    trade_share: float


def _snapshot_json(snapshot: BookSnapshot) -> int:
    return len(json.dumps(message_to_dict(snapshot), separators=(",", ":")))


def payload_stats(batches: list[list[Event]]) -> tuple[PayloadStats, list[Delta]]:
    """Replay the flow's events through a sequencer and a mirror book; measure every message."""
    sequencer = DeltaSequencer()
    mirror = L2BookBuilder(SYMBOL, seq=0)
    codec = BinaryCodec([SYMBOL])
    all_deltas: list[Delta] = []
    snap_bytes = sizes_json = sizes_mp = sizes_bin = 0
    commands = levels = trades = 0
    for events in batches:
        deltas = sequencer.on_events(events)
        if not deltas:
            continue
        commands += 1
        for delta in deltas:
            mirror.apply(delta)
            sizes_json += len(encode_json(delta))
            sizes_mp += len(encode_msgpack(delta))
            sizes_bin += len(codec.encode(delta))
            trades += delta.TYPE == "trade"
        all_deltas.extend(deltas)
        snap = mirror.snapshot()
        snap_bytes += _snapshot_json(snap)
        levels += len(snap.bids) + len(snap.asks)
    n = len(all_deltas)
    conflated = 0
    for start in range(0, n, CONFLATION_WINDOW):
        batch = conflate(SYMBOL, all_deltas[start : start + CONFLATION_WINDOW])
        assert batch is not None
        conflated += len(encode_msgpack(batch))
    stats = PayloadStats(
        deltas=n,
        commands_with_deltas=commands,
        snapshot_json=snap_bytes / commands,
        delta_json=sizes_json / n,
        delta_msgpack=sizes_mp / n,
        delta_binary=sizes_bin / n,
        command_msgpack=sizes_mp / commands,
        command_binary=sizes_bin / commands,
        conflated_msgpack=conflated / n,
        levels_per_side=levels / commands / 2,
        trade_share=trades / n,
    )
    return stats, all_deltas


def _rate(trial: Callable[[], int], runs: int) -> Summary:
    return repeat_throughput(lambda: trial, runs)


def run(quick: bool, progress: Progress) -> BenchReport:
    """Payload sizes of deltas against full JSON snapshots, then encode/decode/apply rates."""
    sizes = Sizes.quick() if quick else Sizes.full()
    progress(f"order flow: {sizes.commands:,} commands through the engine (not timed)")
    batches, _ = order_flow(sizes.commands)
    progress("payload sizes (exact byte counts)")
    stats, deltas = payload_stats(batches)
    base = stats.snapshot_json
    rows: list[dict[str, Any]] = []
    metrics: dict[str, Any] = {"payload": stats.__dict__.copy()}

    def size_row(measure: str, value: float) -> None:
        reduction = 1 - value / base
        rows.append(
            {
                "measure": measure,
                "bytes": round(value, 1),
                "vs JSON snapshot": f"-{reduction * 100:.1f}%",
            }
        )
        metrics["payload"][f"reduction.{measure}"] = reduction

    rows.append({"measure": "full JSON snapshot per update", "bytes": round(base, 1)})
    size_row("JSON delta", stats.delta_json)
    size_row("msgpack delta", stats.delta_msgpack)
    size_row("binary delta", stats.delta_binary)
    size_row("msgpack deltas per command", stats.command_msgpack)
    size_row("binary deltas per command", stats.command_binary)
    size_row(f"msgpack conflated, per delta ({CONFLATION_WINDOW}/batch)", stats.conflated_msgpack)

    def rate_row(measure: str, summary: Summary, key: str) -> None:
        rows.append(
            {"measure": measure, "rate/s": summary.median, "spread": f"{summary.spread * 100:.0f}%"}
        )
        metrics[key] = summary.to_json()

    runs, passes = sizes.runs, sizes.passes
    progress("events -> deltas")
    n = len(deltas)

    def sequence() -> int:
        seq = DeltaSequencer()
        on_events = seq.on_events
        for events in batches:
            on_events(events)
        return n

    rate_row(
        "events -> deltas (sequencer), deltas", _rate(sequence, runs), "sequencer.deltas_per_s"
    )

    def feed() -> int:
        f = L2Feed(ring_capacity=4096)
        on_events = f.on_events
        for events in batches:
            on_events(events)
        return n

    rate_row("events -> deltas + rings + top (L2Feed)", _rate(feed, runs), "feed.deltas_per_s")

    codec = BinaryCodec([SYMBOL])
    encoded_mp = [encode_msgpack(d) for d in deltas]
    encoded_bin = [codec.encode(d) for d in deltas]
    encoded_json = [encode_json(d) for d in deltas]
    for name, encode, decode, data in (
        ("msgpack", encode_msgpack, decode_msgpack, encoded_mp),
        ("binary", codec.encode, codec.decode, encoded_bin),
        ("JSON", encode_json, decode_json, encoded_json),
    ):
        progress(f"{name} encode / decode")

        def enc(encode: Callable[[Any], Any] = encode) -> int:
            for _ in range(passes):
                for d in deltas:
                    encode(d)
            return n * passes

        def dec(decode: Callable[[Any], Any] = decode, data: list[Any] = data) -> int:
            for _ in range(passes):
                for item in data:
                    decode(item)
            return n * passes

        rate_row(f"{name} encode, deltas", _rate(enc, runs), f"encode.{name.lower()}_per_s")
        rate_row(f"{name} decode, deltas", _rate(dec, runs), f"decode.{name.lower()}_per_s")

    progress("book builder apply")

    def apply() -> int:
        for _ in range(passes):
            builder = L2BookBuilder(SYMBOL, seq=0)
            do = builder.apply
            for d in deltas:
                do(d)
        return n * passes

    rate_row("L2BookBuilder.apply, deltas", _rate(apply, runs), "builder.apply_per_s")

    notes = [
        f"{sizes.commands:,} commands, {stats.commands_with_deltas:,} changed the book, "
        f"{stats.deltas:,} deltas ({stats.trade_share * 100:.0f}% trades); the book held "
        f"{stats.levels_per_side:.1f} levels a side on average",
        "bytes: exact sizes, one message per delta (symbol, both sequence numbers and the "
        "timestamp included); 'vs JSON snapshot' = 1 - bytes / full-depth JSON snapshot "
        "sent per update",
        "rates: deltas per second, median of runs after a warm-up, one core, GC on",
    ]
    return BenchReport(
        name="deltas",
        title="L2 deltas: payload against full JSON snapshots, encode/decode/apply rates",
        columns=COLUMNS,
        rows=rows,
        machine=describe_machine(),
        quick=quick,
        metrics=metrics,
        notes=notes,
    )
