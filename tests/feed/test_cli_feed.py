"""``lob feed listen`` and ``lob feed record`` against a live publisher on loopback."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from lob.feed.itch import AddOrder
from lob.feed.itch_file import read_messages
from lob.feed.itch_mapper import ItchMapper
from lob.feed.net import Publisher, RetransmitServer
from tests.feed.test_net import fresh_group

LOB = [sys.executable, "-c", "from lob.cli.app import main; main()"]


async def serve_then_run(args: list[str], messages: int) -> tuple[int, str, str]:
    """Publish ``messages`` adds, then run the CLI: it joins late and recovers them."""
    group, port = fresh_group()
    publisher = Publisher(group, port, session="CLI", heartbeat_interval=0.05)
    await publisher.start()
    server = RetransmitServer(publisher, port=0)
    await server.start()
    try:
        publisher.publish_messages(ItchMapper(0).register("AAA", 999))
        publisher.publish_messages(
            AddOrder(1, 0, 1000 + i, i + 1, "B", 100, "AAA", 100_000 + i * 100)
            for i in range(messages)
        )
        host, rport = server.address
        proc = await asyncio.create_subprocess_exec(
            *LOB,
            "feed",
            *args,
            "--group",
            f"{group}:{port}",
            "--retransmit",
            f"{host}:{rport}",
            "--count",
            str(messages),
            "--duration",
            "20",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        return proc.returncode or 0, out.decode(), err.decode()
    finally:
        await server.close()
        await publisher.close()


def test_feed_listen_json_prints_recovered_messages_and_health():
    code, out, err = asyncio.run(serve_then_run(["listen", "--json"], 20))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    adds = [r for r in rows if r["type"] == "A"]
    assert [r["seq"] for r in adds] == list(range(3, 21))  # after R and H
    assert adds[0]["price"] == "10.00" and adds[0]["order_ref"] == 1
    health = rows[-1]
    assert health["type"] == "health" and health["seq"] >= 20 and health["recoveries"] >= 1


def test_feed_record_writes_file_form(tmp_path: Path):
    out_file = tmp_path / "rec.itch"
    code, _, err = asyncio.run(serve_then_run(["record", str(out_file)], 15))
    assert code == 0, err
    with out_file.open("rb") as stream:
        messages = list(read_messages(stream))
    assert [m.TYPE for m in messages[:2]] == ["R", "H"]
    assert [m.order_ref for m in messages[2:]] == list(range(1, 14))  # type: ignore[union-attr]
    assert json.loads(err.splitlines()[-1])["written"] == 15


def test_feed_listen_rejects_bad_group():
    async def run() -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            *LOB, "feed", "listen", "--group", "nope:1", "--json", stdout=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    code, out = asyncio.run(run())
    assert code == 1
    assert json.loads(out)["error"]["code"] == "invalid_address"


def test_feed_listen_recovers_from_http_snapshot_past_the_window():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from lob.feed.itch_book import ItchBookBuilder

    async def run() -> tuple[int, str, str]:
        group, port = fresh_group()
        publisher = Publisher(group, port, session="SNAP", heartbeat_interval=0.05, history_size=3)
        await publisher.start()
        server = RetransmitServer(publisher, port=0)
        await server.start()
        messages = ItchMapper(0).register("AAA", 999) + [
            AddOrder(1, 0, 1000 + i, i + 1, "B", 100, "AAA", 100_000) for i in range(10)
        ]
        publisher.publish_messages(messages)
        builder = ItchBookBuilder()
        builder.apply_all(messages)
        body = json.dumps(builder.snapshot(publisher.last_seq).to_dict()).encode()

        class Snapshot(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        http = ThreadingHTTPServer(("127.0.0.1", 0), Snapshot)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        try:
            host, rport = server.address
            proc = await asyncio.create_subprocess_exec(
                *LOB,
                "feed",
                "listen",
                "--json",
                "--group",
                f"{group}:{port}",
                "--retransmit",
                f"{host}:{rport}",
                "--snapshot-url",
                f"http://127.0.0.1:{http.server_address[1]}/feed/snapshot",
                "--duration",
                "3",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await proc.communicate()
            return proc.returncode or 0, out.decode(), err.decode()
        finally:
            http.shutdown()
            await server.close()
            await publisher.close()

    code, out, err = asyncio.run(run())
    assert code == 0, err
    health = json.loads(out.splitlines()[-1])
    assert health["type"] == "health" and health["snapshots"] == 1 and health["seq"] == 12
