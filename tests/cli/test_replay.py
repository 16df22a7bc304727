"""``lob replay`` as a user runs it: a file or standard input, --final-book, --date, bad lines."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from lob.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
LOB = Path(sys.executable).with_name("lob")
SELL = (
    '{"op":"new","account":"A","id":"a1","symbol":"AAPL","side":"sell","qty":100,"price":"187.25"}'
)
BUY = '{"op":"new","account":"B","id":"b1","symbol":"AAPL","side":"buy","qty":60,"price":"187.30"}'


def run(*args: str, input: str | None = None) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(app, ["replay", *args], input=input)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines, result.output


def test_replay_file_prints_one_json_event_per_line(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    path.write_text(f"{SELL}\n{BUY}\n")
    code, out, _ = run(str(path))
    assert code == 0
    assert [e["type"] for e in out] == ["accepted", "added", "accepted", "trade"]
    trade = out[3]
    assert (trade["price"], trade["qty"], trade["buy_id"], trade["sell_id"]) == (
        "187.25",
        60,
        "b1",
        "a1",
    )


def test_replay_dash_reads_standard_input() -> None:
    code, out, _ = run("-", input=f"{SELL}\n")
    assert code == 0 and [e["type"] for e in out] == ["accepted", "added"]


def test_replay_without_file_reads_standard_input() -> None:
    code, out, _ = run(input=f"{SELL}\n")
    assert code == 0 and [e["type"] for e in out] == ["accepted", "added"]


def test_replay_final_book_ends_with_one_book_per_symbol() -> None:
    code, out, _ = run("--final-book", input=f"{SELL}\n{BUY}\n")
    assert code == 0
    assert out[-1] == {
        "type": "book",
        "symbol": "AAPL",
        "seq": 4,
        "bids": [],
        "asks": [{"price": "187.25", "qty": 40, "orders": 1}],
    }


def test_replay_date_sets_the_session_day() -> None:
    _, out, _ = run("--date", "2026-07-01", input=f"{SELL}\n")
    assert out[0]["ts"] == 1_782_912_600_000_000_000  # 2026-07-01 13:30:00 UTC = 09:30 EDT


def test_replay_bad_date_is_a_usage_error() -> None:
    code, out, output = run("--date", "2026-13-45", input=f"{SELL}\n")
    assert code == 2 and out == []
    assert "--date" in output


def test_replay_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, out, output = run(str(tmp_path / "nope.jsonl"))
    assert code == 2 and out == []
    assert "no such file" in output


def test_replay_malformed_lines_become_rejections_and_the_replay_goes_on() -> None:
    stdin = "\n".join(["not json", SELL, "[]", '{"op":"new"}', BUY, ""]) + "\n"
    code, out, _ = run("--final-book", input=stdin)
    assert code == 0
    assert [e["type"] for e in out].count("trade") == 1
    assert [e.get("code") for e in out if e["type"] == "rejected"] == [
        "malformed",
        "malformed",
        "missing_field",
    ]
    assert out[-1]["asks"] == [{"price": "187.25", "qty": 40, "orders": 1}]


def test_replay_ts_field_sets_event_time() -> None:
    line = SELL[:-1] + ',"ts":36000000000000}'  # 10:00:00
    _, out, _ = run(input=line + "\n")
    assert out[0]["ts"] == 1_767_366_000_000_000_000  # 2026-01-02 15:00:00 UTC


def test_replay_console_script_reads_standard_input() -> None:
    done = subprocess.run(
        [str(LOB), "replay", "-", "--final-book"],
        input=f"{SELL}\n{BUY}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["type"] for e in out][-2:] == ["trade", "book"]


def test_readme_replay_example_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    block = next(
        b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if "lob replay --final-book" in b
    )
    command = block.replace("uv run lob", str(LOB))
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=60, check=True
    )
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["type"] for e in out] == [
        "accepted",
        "added",
        "accepted",
        "trade",
        "book",
    ]
