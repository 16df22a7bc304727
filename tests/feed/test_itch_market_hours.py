"""ITCH system events follow the trading day: S 'Q' at the opening cross, S 'M' at the close."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lob.cli.app import app
from lob.engine.calendar import hms
from lob.feed.itch import SystemEvent
from lob.feed.itch_book import ItchBookBuilder
from lob.feed.itch_file import read_messages

DAY = [
    {
        "op": "new",
        "account": "A",
        "id": "a1",
        "symbol": "XYZ",
        "side": "buy",
        "qty": 300,
        "price": "10.10",
        "tif": "gtc",
    },
    {
        "op": "new",
        "account": "B",
        "id": "b1",
        "symbol": "XYZ",
        "side": "sell",
        "qty": 200,
        "price": "10.00",
    },
    {"op": "advance", "time": "09:30"},
    {
        "op": "new",
        "account": "C",
        "id": "c1",
        "symbol": "XYZ",
        "side": "sell",
        "qty": 50,
        "type": "moc",
    },
    {"op": "advance", "time": "16:00"},
]


def system_codes(path: Path) -> list[tuple[str, int]]:
    return [
        (m.event_code, m.timestamp)
        for m in read_messages(path.open("rb"))
        if type(m) is SystemEvent
    ]


def test_calendar_replay_marks_market_hours_at_the_crosses(tmp_path: Path) -> None:
    commands = tmp_path / "day.jsonl"
    commands.write_text("\n".join(json.dumps(c) for c in DAY) + "\n")
    out = tmp_path / "day.itch"
    result = CliRunner().invoke(
        app, ["replay", str(commands), "--calendar", "--itch-out", str(out)]
    )
    assert result.exit_code == 0, result.output
    codes = system_codes(out)
    assert [c for c, _ in codes] == ["O", "S", "Q", "M", "E", "C"]
    times = dict(codes)
    assert times["O"] == hms("04:00")
    assert times["Q"] == hms("09:30")
    assert times["M"] == hms("16:00")
    builder = ItchBookBuilder()
    for message in read_messages(out.open("rb")):
        builder.apply(message)


def test_continuous_replay_keeps_market_hours_around_the_whole_file(tmp_path: Path) -> None:
    commands = tmp_path / "c.jsonl"
    commands.write_text(json.dumps(DAY[0]) + "\n" + json.dumps(DAY[1]) + "\n")
    out = tmp_path / "c.itch"
    result = CliRunner().invoke(app, ["replay", str(commands), "--itch-out", str(out)])
    assert result.exit_code == 0, result.output
    assert [c for c, _ in system_codes(out)] == ["O", "S", "Q", "M", "E", "C"]
