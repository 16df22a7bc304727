"""``lob simulate --day``: one simulated trading day, pre-open to closing cross.

Runs ``lob.sim.day.DaySimulator`` and prints the opening and closing crosses,
the imbalance information published before each, the day's totals and the
realism report; ``--itch-out`` writes the whole day as an ITCH 5.0 file (the
crosses as Q messages). Same seed, same bytes.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from lob.engine.prices import format_price

SHOWN_SAMPLES = 5
"""Imbalance samples printed per symbol and cross (the last ones before it)."""


class DayItchRecorder:
    """Writes a simulated day's feed in Nasdaq's length-prefixed file form."""

    def __init__(self, path: str, day: Any) -> None:
        from lob.feed.itch_file import ItchFileWriter
        from lob.feed.itch_mapper import ItchMapper

        self.midnight = day.midnight
        self.stream = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.writer = ItchFileWriter(self.stream, ItchMapper(day.midnight, day.symbols))
        self.writer.begin(day.start_ns - day.midnight, market_hours=False)

    @property
    def messages(self) -> int:
        return self.writer.count

    def on_events(self, command: object, events: list) -> None:  # type: ignore[type-arg]
        self.writer.write_events(events)

    def close(self, end_ns: int) -> None:
        self.writer.end(end_ns - self.midnight)
        self.stream.close()


def run_day(
    seed: int,
    symbols: str,
    rate: float,
    day_length: float,
    itch_out: str | None,
    json_out: bool,
    report: bool,
    fail: Any,
) -> None:
    """The body of ``lob simulate --day`` (``fail(code, message)`` exits with an error)."""
    from lob.sim.day import DaySimulator
    from lob.sim.universe import UniverseError

    try:
        day = DaySimulator(seed=seed, symbols=symbols, rate=rate, day_length=day_length)
    except UniverseError as exc:
        fail(exc.code, exc.message)
        return
    except ValueError as exc:
        fail("invalid_field", str(exc))
        return
    recorder = None
    if itch_out is not None:
        try:
            recorder = DayItchRecorder(itch_out, day)
        except OSError as exc:
            fail("io_error", f"cannot write {itch_out}: {exc.strerror}")
            return
        day.on_events = recorder.on_events
    try:
        summary = day.run()
    finally:
        if recorder is not None:
            recorder.close(day.now_ns)
    facts = day.report()
    if json_out:
        from lob.engine.json_codec import event_to_dict

        out = summary.to_dict()
        out["imbalances"] = [event_to_dict(e) for e in summary.imbalances]
        out["report"] = facts
        out["state_hash"] = day.engine.state_hash()
        if recorder is not None:
            out["itch_messages"] = recorder.messages
        sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
        return
    _print_day(day, summary, facts if report else None, recorder)


def _clock(ts: int, midnight: int) -> str:
    ns = ts - midnight
    seconds, fraction = divmod(ns, 1_000_000_000)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{text}.{fraction // 1_000_000:03d}" if fraction else text


def _print_day(day: Any, summary: Any, facts: dict[str, Any] | None, recorder: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from lob.cli.simulate import _print_summary

    console = Console()
    s = summary.schedule
    console.print(
        f"simulated day: 04:00-16:00 in {summary.day_length:g} s; opening cross at"
        f" {_clock(day.midnight + s.open, day.midnight)}, closing cross at"
        f" {_clock(day.midnight + s.close, day.midnight)} (simulated clock)"
    )
    crosses = Table(title="crosses")
    for column in ("symbol", "open", "open shares", "close", "close shares"):
        crosses.add_column(column, justify="left" if column == "symbol" else "right")
    for symbol in day.symbols:
        row = [symbol]
        for cross in (summary.opening.get(symbol), summary.closing.get(symbol)):
            if cross is None or cross.price is None:
                row += ["-", "0"]
            else:
                row += [format_price(cross.price), f"{cross.qty:,}"]
        crosses.add_row(*row)
    console.print(crosses)

    samples = Table(title=f"imbalance information (last {SHOWN_SAMPLES} per cross)")
    for column in ("time", "symbol", "cross", "paired", "imbalance", "side", "near", "far"):
        samples.add_column(column, justify="right" if column in ("paired", "imbalance") else "left")
    shown: dict[tuple[str, str], list[Any]] = {}
    for e in summary.imbalances:
        shown.setdefault((e.symbol, str(e.cross_type)), []).append(e)
    for events in sorted(shown.values(), key=lambda es: (es[0].symbol, es[0].ts)):
        for e in events[-SHOWN_SAMPLES:]:
            samples.add_row(
                _clock(e.ts, day.midnight),
                e.symbol,
                str(e.cross_type),
                f"{e.paired:,}",
                f"{e.imbalance:,}",
                str(e.imbalance_side or "-"),
                format_price(e.near) if e.near is not None else "-",
                format_price(e.far) if e.far is not None else "-",
            )
    console.print(samples)
    orders = ", ".join(f"{k} {v}" for k, v in sorted(summary.auction_orders.items()))
    console.print(
        f"auction orders: {orders or 'none'}; {summary.cross_trades:,} cross trades;"
        f" {summary.expired:,} DAY orders expired at the close;"
        f" {len(summary.imbalances):,} imbalance samples"
    )
    _print_summary(summary.run, facts, recorder)
