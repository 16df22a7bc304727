"""``lob bench ws --quick --json``: real sockets, the enqueue-only method, publisher cost."""

from __future__ import annotations

import json
import time

from typer.testing import CliRunner

from lob.bench.ws import BookReader, _Tally, order_flow, publisher_cost
from lob.cli.app import app
from lob.engine import LevelView, MatchingEngine, Side
from lob.feed.conflation import ConflatedBatch
from lob.feed.deltas import BookSnapshot, LevelDelta, TradeDelta
from lob.feed.wire import decode_msgpack_all, encode_msgpack


def test_bench_ws_quick_json_reports_real_mock_publisher_and_polling() -> None:
    result = CliRunner().invoke(app, ["bench", "ws", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["name"] == "ws" and report["quick"] is True
    for row in report["rows"]:
        assert set(row) <= set(report["columns"])
    metrics = report["metrics"]
    for count in (1, 4):
        real = metrics[f"real.{count}"]
        assert real["delivered"] > 0 and real["deltas_per_s"] > 0
        # every published delta reaches every subscriber (a batch counts what it carries)
        assert real["delivered"] <= real["published"] * count
        assert real["paced_delivered"] == real["paced_expected"]
        assert real["gaps"] == 0  # every subscriber's book continued message to message
        assert 0 < real["p50_ns"] <= real["p99_ns"] <= real["max_ns"]
        assert real["server_cpu_ns_per_delta"] > 0
        mock = metrics[f"enqueue_only.{count}"]
        assert mock["msgs_per_s"] > 0 and 0 < mock["p50_ns"] <= mock["p99_ns"]
    assert metrics["publisher.10"]["p50_ns"] > 0
    assert set(metrics["polling"]) == {"1ms", "10ms", "100ms", "1000ms"}


def test_order_flow_every_command_is_accepted_by_the_engine() -> None:
    engine = MatchingEngine(auto_create_symbols=False)
    engine.add_symbol("AAPL", 2_275_000)
    flow = order_flow(3_000, 2_275_000)
    for i, command in enumerate(flow):
        events = engine.submit(command, 1_000 + i)
        # cancels of orders an IOC filled meanwhile are the only rejections
        rejected = [e for e in events if e.TYPE == "rejected"]
        assert not rejected or type(command).__name__ == "CancelOrder"
    engine.check_integrity()


def test_publisher_cost_counts_only_broadcasts_that_carried_deltas() -> None:
    result = publisher_cost(3, 300)
    assert 0 < result["broadcasts"] <= 300
    assert result["p50_ns"] > 0
    assert result["per_subscriber_ns"] == result["p50_ns"] / 3


def test_client_pool_counts_subscribers_the_server_disconnected() -> None:
    """A subscriber the server drops is counted as closed, with its close code: a
    benchmark phase can say how many subscribers were still there at its end."""
    from lob.bench.e2e import LobServe
    from lob.bench.ws import SYMBOL, ClientPool

    server = LobServe(SYMBOL)
    pool: ClientPool | None = None
    try:
        pool = ClientPool(server.url, 3, processes=1)
        assert pool.connected == 3
        before = pool.report()
        assert before["open"] == 3 and before["closes"] == {}
        server.close()  # a graceful stop closes every session with 1001 (going away)
        deadline = time.monotonic() + 30
        after = pool.report()
        while after["open"] and time.monotonic() < deadline:
            time.sleep(0.1)
            after = pool.report()
        assert after["open"] == 0
        assert sum(after["closes"].values()) == 3
        assert all(how.split()[0] == "1001" for how in after["closes"]), after["closes"]
    finally:
        if pool is not None:
            pool.close()
        server.close()


def _level(seq: int, ts: int = 1_000) -> LevelDelta:
    return LevelDelta("AAPL", seq, seq, ts, Side.BUY, 2_275_000, 100, 1)


def _trade(seq: int) -> TradeDelta:
    return TradeDelta("AAPL", seq, seq, 1_000, 2_275_000, 100, Side.SELL, seq)


def test_book_reader_counts_every_delta_and_finds_no_gap_in_a_whole_stream() -> None:
    tally = _Tally()
    tally.reset(record=True)
    reader = BookReader(tally)
    snapshot = BookSnapshot("AAPL", 10, 10, (LevelView(2_275_000, 300, 2),), ())
    batch = ConflatedBatch("AAPL", 13, 16, (_level(14), _level(16)), (_trade(15),), 0)
    frames = [
        encode_msgpack(snapshot),
        encode_msgpack(_level(11)) + encode_msgpack(_trade(12)),  # joined in one frame
        encode_msgpack(batch),
        encode_msgpack(_level(17)),
    ]
    for frame in frames:
        reader.read(frame, 5_000)
    assert (tally.frames, tally.deltas, tally.batches, tally.gaps) == (4, 6, 1, 0)
    assert reader.seq == 17
    assert list(tally.samples) == [4_000] * 6  # now - each delta's ts
    # every delta lob.feed.wire finds, this reader counts
    assert (
        sum(
            len(m.levels) + len(m.trades) if m.TYPE == "batch" else m.TYPE != "snapshot"
            for frame in frames
            for m in decode_msgpack_all(frame)
        )
        == tally.deltas
    )


def test_book_reader_counts_a_message_that_does_not_continue_the_book_as_a_gap() -> None:
    tally = _Tally()
    reader = BookReader(tally)
    reader.read(encode_msgpack(BookSnapshot("AAPL", 10, 10, (), ())), 0)
    reader.read(encode_msgpack(_level(12)), 0)  # 11 is missing
    assert tally.gaps == 1
    reader.read(encode_msgpack(ConflatedBatch("AAPL", 14, 15, (_level(15),), (), 0)), 0)
    assert tally.gaps == 2  # 13 is missing
    reader.read(encode_msgpack(BookSnapshot("AAPL", 40, 40, (), ())), 0)  # a resync
    reader.read(encode_msgpack(_level(41)), 0)
    assert tally.gaps == 2 and reader.seq == 41
