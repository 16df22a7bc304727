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
def itch_recording(path: str, midnight_ns: int, open_ns: int) -> Iterator[Callable[[list], None]]:
    """Open ``path`` and yield an ``on_events`` callback that writes the ITCH file form.

    The file gets the start-of-day system events at ``open_ns``, each command's
    messages as they come, and the end-of-day events when the block exits.
    """
    from lob.feed.itch_file import ItchFileWriter
    from lob.feed.itch_mapper import ItchMapper

    with open(path, "wb") as stream:
        writer = ItchFileWriter(stream, ItchMapper(midnight_ns))
        writer.begin(open_ns - midnight_ns)
        yield writer.write_events
        writer.end()
