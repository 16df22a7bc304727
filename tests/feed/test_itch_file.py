"""The ITCH file form: length-prefixed messages framed by the day's system events."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from lob.cli.app import app
from lob.engine import MatchingEngine, Side
from lob.feed.itch import ItchDecodeError, OrderDelete, SystemEvent
from lob.feed.itch_book import ItchBookBuilder
from lob.feed.itch_file import ItchFileWriter, frame, iter_frames, read_messages
from lob.feed.itch_mapper import ItchMapper

MIDNIGHT = 1_767_330_000_000_000_000
OPEN = 34_200_000_000_000


def write_day(stream: io.BytesIO) -> MatchingEngine:
    engine = MatchingEngine()
    engine.add_symbol("AAA")
    writer = ItchFileWriter(stream, ItchMapper(MIDNIGHT, ["AAA"]))
    writer.begin(OPEN)
    ts = MIDNIGHT + OPEN
    writer.write_events(engine.new_order("A", "a1", "AAA", Side.SELL, 100, 100_000, ts + 1))
    writer.write_events(engine.new_order("B", "b1", "BBB", Side.BUY, 50, 90_000, ts + 2))
    writer.write_events(engine.new_order("B", "b2", "AAA", Side.BUY, 30, 100_000, ts + 3))
    writer.end()
    return engine


def test_frame_prefixes_message_with_big_endian_length():
    assert frame(OrderDelete(1, 0, 0, 42)) == b"\x00\x13" + b"D" + b"\x00\x01" + b"\x00" * 15 + b"*"


def test_file_starts_and_ends_with_system_events_in_order():
    stream = io.BytesIO()
    write_day(stream)
    messages = list(read_messages(io.BytesIO(stream.getvalue())))
    kinds = [m.TYPE + getattr(m, "event_code", "") for m in messages]
    assert kinds[:5] == ["SO", "R", "H", "SS", "SQ"]
    assert kinds[-3:] == ["SM", "SE", "SC"]
    assert kinds[5:-3] == ["A", "R", "H", "A", "E"]  # BBB's directory where it first appears
    assert messages[-1] == SystemEvent(0, 0, OPEN + 3, "C")


def test_file_read_back_rebuilds_the_engine_book():
    stream = io.BytesIO()
    engine = write_day(stream)
    builder = ItchBookBuilder()
    builder.apply_all(read_messages(io.BytesIO(stream.getvalue())))
    assert builder.state_hash() == engine.state_hash()


@pytest.mark.parametrize("cut", [1, 5])
def test_truncated_file_raises_truncated(cut: int):
    stream = io.BytesIO()
    write_day(stream)
    data = stream.getvalue()[:-cut] if cut > 1 else stream.getvalue() + b"\x00"
    with pytest.raises(ItchDecodeError) as info:
        list(iter_frames(io.BytesIO(data)))
    assert info.value.code == "itch_truncated"


COMMANDS = "\n".join(
    [
        '{"op":"new","account":"A","id":"a1","symbol":"AAPL","side":"sell","qty":100,"price":"187.25"}',
        '{"op":"new","account":"B","id":"b1","symbol":"AAPL","side":"buy","qty":60,"price":"187.30"}',
    ]
)


def test_replay_itch_out_then_feed_dump_json_prints_messages(tmp_path: Path):
    out = tmp_path / "day.itch"
    runner = CliRunner()
    result = runner.invoke(app, ["replay", "--itch-out", str(out)], input=COMMANDS)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["feed", "dump", str(out), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["type"] for r in rows] == ["S", "S", "S", "R", "H", "A", "E", "S", "S", "S"]
    add = rows[5]
    assert add["price"] == "187.25" and add["shares"] == 100 and add["side"] == "S"
    assert add["timestamp"] == OPEN  # 09:30:00 New York time
    assert rows[6]["executed_shares"] == 60 and rows[6]["match_number"] == 1


def test_feed_dump_table_prints_one_readable_row_per_message(tmp_path: Path):
    out = tmp_path / "day.itch"
    CliRunner().invoke(app, ["replay", "--itch-out", str(out)], input=COMMANDS)
    result = CliRunner().invoke(app, ["feed", "dump", str(out)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 10
    assert lines[5].startswith("A 09:30:00.000000000     1 order_ref=1 side=S shares=100")


def test_feed_dump_of_corrupt_file_prints_error_object_and_fails(tmp_path: Path):
    bad = tmp_path / "bad.itch"
    bad.write_bytes(b"\x00\x05Zabcd")
    result = CliRunner().invoke(app, ["feed", "dump", str(bad), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output.splitlines()[-1])["error"]["code"] == "itch_unknown_type"


@given(st.binary(max_size=120))
def test_read_messages_any_bytes_decodes_or_raises_decode_error(data: bytes):
    try:
        messages = list(read_messages(io.BytesIO(data)))
    except ItchDecodeError:
        return
    assert b"".join(frame(m) for m in messages) == data
