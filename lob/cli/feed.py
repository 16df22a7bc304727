"""``lob feed``: read lob's ITCH 5.0 market data, from a file or from the multicast feed.

- ``lob feed dump PATH [--json]`` decodes a length-prefixed ITCH file.
- ``lob feed listen [--group G:P] [--json]`` joins the MoldUDP64 multicast feed
  and prints decoded messages and feed health.
- ``lob feed record PATH`` writes what it receives in the file form.

docs/protocol-itch.md describes the messages, the framing and the recovery.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~0.2 s per --help
    name="feed",
    help="Read the ITCH 5.0 market data feed (files and UDP multicast).",
    no_args_is_help=True,
)

_PRICE_FIELDS = {
    "price",
    "execution_price",
    "cross_price",
    "far_price",
    "near_price",
    "current_reference_price",
    "auction_collar_reference_price",
    "upper_auction_collar_price",
    "lower_auction_collar_price",
}


def message_to_dict(message: Any) -> dict[str, Any]:
    """A decoded ITCH message as JSON: its type letter first, prices as decimal text."""
    from lob.engine.prices import format_price

    out: dict[str, Any] = {"type": message.TYPE}
    for name, value in zip(message._fields, message, strict=True):
        out[name] = format_price(value) if name in _PRICE_FIELDS else value
    return out


def message_to_row(message: Any) -> str:
    """One readable line: type, timestamp, locate, then the message's own fields."""
    d = message_to_dict(message)
    ts = d.pop("timestamp")
    secs, ns = divmod(ts, 1_000_000_000)
    clock = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}.{ns:09d}"
    kind = d.pop("type")
    locate = d.pop("stock_locate")
    d.pop("tracking_number")
    fields = " ".join(f"{k}={v}" for k, v in d.items())
    return f"{kind} {clock} {locate:>5} {fields}"


def _error(code: str, message: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": {"code": code, "message": message}}))
    else:
        print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(1)


@app.command("dump")
def dump(
    path: Annotated[str, typer.Argument(help="A length-prefixed ITCH 5.0 file.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON lines, prices as decimal strings.")
    ] = False,
) -> None:
    """Decode an ITCH 5.0 file to JSON lines or a readable table."""
    from lob.feed.itch import ItchDecodeError
    from lob.feed.itch_file import read_messages

    file = Path(path)
    if not file.is_file():
        _error("not_found", f"no such file: {path}", as_json)
    write = sys.stdout.write
    with file.open("rb") as stream:
        try:
            for message in read_messages(stream):
                if as_json:
                    write(json.dumps(message_to_dict(message), separators=(",", ":")))
                else:
                    write(message_to_row(message))
                write("\n")
        except ItchDecodeError as exc:
            sys.stdout.flush()
            _error(exc.code, str(exc), as_json)
    sys.stdout.flush()


@contextmanager
def itch_recording(
    path: str, midnight_ns: int, open_ns: int, market_hours: bool = True
) -> Iterator[Callable[[list], None]]:
    """Open ``path`` and yield an ``on_events`` callback that writes the ITCH file form.

    The file gets the start-of-day system events at ``open_ns``, each command's
    messages as they come, and the end-of-day events when the block exits.
    """
    from lob.feed.itch_file import ItchFileWriter
    from lob.feed.itch_mapper import ItchMapper

    with open(path, "wb") as stream:
        writer = ItchFileWriter(stream, ItchMapper(midnight_ns))
        writer.begin(open_ns - midnight_ns, market_hours)
        yield writer.write_events
        writer.end()


_GROUP_HELP = "Multicast group and port to join."
_IFACE_HELP = "Interface to join on (an IPv4 address; never 0.0.0.0)."
_RETRANSMIT_HELP = "Retransmission server HOST:PORT, or 'off'."


def _endpoints(group: str, retransmit: str, as_json: bool) -> tuple[tuple[str, int], Any]:
    from lob.feed.net import DEFAULT_PORT, DEFAULT_RETRANSMIT_PORT, parse_address

    try:
        where = parse_address(group, DEFAULT_PORT)
        back = None if retransmit == "off" else parse_address(retransmit, DEFAULT_RETRANSMIT_PORT)
    except ValueError as exc:
        _error("invalid_address", str(exc), as_json)
        raise  # unreachable: _error exits
    return where, back


def _http_snapshot(url: str) -> Callable[[], Any]:
    """A snapshot source that GETs ``url`` (e.g. lob serve's /feed/snapshot) off the loop."""

    async def fetch() -> Any:
        import asyncio
        import urllib.request

        from lob.feed.itch_book import FeedSnapshot

        def get() -> Any:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())

        return FeedSnapshot.from_dict(await asyncio.to_thread(get))

    return fetch


async def _subscribe(
    where: tuple[str, int],
    interface: str,
    retransmit: tuple[str, int] | None,
    on_message: Callable[[int, Any], None],
    on_health: Callable[[dict[str, object]], None] | None,
    count: int | None,
    duration: float | None,
    health_interval: float,
    snapshot_url: str | None = None,
) -> dict[str, object]:
    """Run a subscriber until ``count`` messages, ``duration`` seconds or the end of session."""
    import asyncio
    import time

    from lob.feed.net import Subscriber

    sub = Subscriber(
        where[0],
        where[1],
        interface=interface,
        retransmit=retransmit,
        on_message=on_message,
        snapshot_source=None if snapshot_url is None else _http_snapshot(snapshot_url),
    )
    await sub.start()
    deadline = None if duration is None else time.monotonic() + duration
    next_health = time.monotonic() + health_interval
    try:
        while True:
            await asyncio.sleep(0.02)
            health = sub.receiver.health
            now = time.monotonic()
            if on_health is not None and now >= next_health:
                on_health(sub.health)
                next_health = now + health_interval
            if count is not None and health.messages >= count:
                break
            if health.ended and sub.receiver.gap is None:
                break
            if deadline is not None and now >= deadline:
                break
    finally:
        await sub.close()
    return sub.health


@app.command("listen")
def listen(
    group: Annotated[str, typer.Option(help=_GROUP_HELP)] = "239.255.40.1:30001",
    interface: Annotated[str, typer.Option(help=_IFACE_HELP)] = "127.0.0.1",
    retransmit: Annotated[str, typer.Option(help=_RETRANSMIT_HELP)] = "127.0.0.1:30002",
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON lines: messages, then health objects.")
    ] = False,
    count: Annotated[int | None, typer.Option(help="Stop after this many messages.")] = None,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    health_interval: Annotated[float, typer.Option(help="Seconds between health lines.")] = 1.0,
    snapshot_url: Annotated[
        str | None,
        typer.Option(
            help="Where to GET a snapshot when a gap is past the retransmission window,"
            " e.g. http://127.0.0.1:8000/feed/snapshot (lob serve)."
        ),
    ] = None,
) -> None:
    """Join the multicast feed; print each decoded message and the feed's health."""
    import asyncio

    where, back = _endpoints(group, retransmit, as_json)
    write = sys.stdout.write
    printed = 0

    def on_message(seq: int, message: Any) -> None:
        nonlocal printed
        if count is not None and printed >= count:
            return
        printed += 1
        if as_json:
            row = message_to_dict(message)
            row["seq"] = seq
            write(json.dumps(row, separators=(",", ":")) + "\n")
        else:
            write(f"{seq:>10} {message_to_row(message)}\n")

    def on_health(health: dict[str, object]) -> None:
        if as_json:
            write(json.dumps({"type": "health", **health}, separators=(",", ":")) + "\n")
        else:
            write("# " + " ".join(f"{k}={v}" for k, v in health.items()) + "\n")
        sys.stdout.flush()

    try:
        health = asyncio.run(
            _subscribe(
                where,
                interface,
                back,
                on_message,
                on_health,
                count,
                duration,
                health_interval,
                snapshot_url,
            )
        )
    except OSError as exc:
        _error("feed_unavailable", f"cannot join {group} on {interface}: {exc}", as_json)
    except KeyboardInterrupt:
        return
    on_health(health)


@app.command("record")
def record(
    path: Annotated[str, typer.Argument(help="File to write (length-prefixed ITCH 5.0).")],
    group: Annotated[str, typer.Option(help=_GROUP_HELP)] = "239.255.40.1:30001",
    interface: Annotated[str, typer.Option(help=_IFACE_HELP)] = "127.0.0.1",
    retransmit: Annotated[str, typer.Option(help=_RETRANSMIT_HELP)] = "127.0.0.1:30002",
    count: Annotated[int | None, typer.Option(help="Stop after this many messages.")] = None,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
) -> None:
    """Write the messages received from the multicast feed to PATH, in sequence order."""
    import asyncio

    from lob.feed.itch_file import frame

    where, back = _endpoints(group, retransmit, False)
    written = 0
    with open(path, "wb") as stream:

        def on_message(seq: int, message: Any) -> None:
            nonlocal written
            if count is None or written < count:
                stream.write(frame(message))
                written += 1

        try:
            health = asyncio.run(
                _subscribe(where, interface, back, on_message, None, count, duration, 1.0)
            )
        except OSError as exc:
            _error("feed_unavailable", f"cannot join {group} on {interface}: {exc}", False)
        except KeyboardInterrupt:
            health = {}
    print(json.dumps({"written": written, **health}), file=sys.stderr)
