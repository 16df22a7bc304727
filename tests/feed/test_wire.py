"""Wire encodings of L2 messages: msgpack, JSON and binary round trips, literal bytes, bad input."""

from __future__ import annotations

import json

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lob.engine import LevelView, Side
from lob.engine.types import RejectCode
from lob.feed.conflation import ConflatedBatch
from lob.feed.deltas import BookSnapshot, LevelDelta, TopOfBook, TradeDelta
from lob.feed.wire import (
    BinaryCodec,
    Message,
    SymbolLocate,
    WireError,
    decode_json,
    decode_msgpack,
    decode_msgpack_all,
    encode_json,
    encode_msgpack,
    message_to_dict,
)

BUY, SELL = Side.BUY, Side.SELL
U32 = 2**32 - 1
U64 = 2**64 - 1
MAX_PRICE = 1_999_999_999  # lob.engine.prices: the ITCH Price(4) range

symbols = st.from_regex(r"[A-Z]{1,8}", fullmatch=True)
seqs = st.integers(0, U32)
big = st.integers(0, U64)
prices = st.integers(1, MAX_PRICE)
sides = st.sampled_from((BUY, SELL))


def levels(symbol: str) -> st.SearchStrategy[LevelDelta]:
    return st.builds(
        LevelDelta, st.just(symbol), seqs, big, big, sides, prices, big, st.integers(0, U32)
    )


def trades(symbol: str) -> st.SearchStrategy[TradeDelta]:
    return st.builds(
        TradeDelta,
        st.just(symbol),
        seqs,
        big,
        big,
        prices,
        st.integers(1, U32),
        st.sampled_from((BUY, SELL, None)),
        big,
    )


level_views = st.builds(LevelView, prices, big, st.integers(0, U32))
snapshots = st.builds(
    BookSnapshot,
    symbols,
    seqs,
    big,
    st.lists(level_views, max_size=30).map(tuple),
    st.lists(level_views, max_size=30).map(tuple),
    st.none() | st.integers(0, U32 - 1),
)
batches = symbols.flatmap(
    lambda s: st.builds(
        ConflatedBatch,
        st.just(s),
        seqs,
        seqs,
        st.lists(levels(s), max_size=10).map(tuple),
        st.lists(trades(s), max_size=10).map(tuple),
        seqs,
    )
)
tops = st.builds(
    TopOfBook, symbols, seqs, big, big, st.none() | prices, big, st.none() | prices, big
)
messages: st.SearchStrategy[Message] = st.one_of(
    symbols.flatmap(levels), symbols.flatmap(trades), snapshots, batches, tops
)


@given(messages)
def test_msgpack_round_trip_gives_the_same_message(message: Message) -> None:
    assert decode_msgpack(encode_msgpack(message)) == message


@given(messages)
def test_json_round_trip_gives_the_same_message(message: Message) -> None:
    assert decode_json(encode_json(message)) == message


@given(messages)
def test_binary_round_trip_gives_the_same_message(message: Message) -> None:
    encoder = BinaryCodec()
    data = encoder.encode(message)
    decoder = BinaryCodec()
    assert decoder.decode(encoder.directory(message.symbol)) == SymbolLocate(1, message.symbol)
    assert decoder.decode(data) == message


@given(st.lists(messages, min_size=1, max_size=5))
def test_concatenated_frames_decode_to_every_message(batch: list[Message]) -> None:
    assert decode_msgpack_all(b"".join(encode_msgpack(m) for m in batch)) == batch
    encoder = BinaryCodec()
    frame = b"".join(encoder.directory(m.symbol) + encoder.encode(m) for m in batch)
    decoded = [m for m in BinaryCodec().decode_all(frame) if type(m) is not SymbolLocate]
    assert decoded == batch


LEVEL = LevelDelta("AAPL", 7, 42, 1000, BUY, 1_872_500, 300, 2)


def test_a_decoded_batch_holds_level_and_trade_deltas_field_by_field() -> None:
    frame = msgpack.packb(
        [
            3,
            "MSFT",
            7,
            9,
            1,
            [[7, 70, 700, 1, 4_100_000, 300, 2]],
            [[8, 80, 800, 4_100_000, 50, None, 5]],
        ]
    )
    batch = decode_msgpack(frame)
    assert isinstance(batch, ConflatedBatch)
    (level,) = batch.levels
    (trade,) = batch.trades
    assert type(level) is LevelDelta and type(trade) is TradeDelta
    assert (level.symbol, level.seq, level.engine_seq, level.ts) == ("MSFT", 7, 70, 700)
    assert (level.side, level.price, level.qty, level.orders) == (Side.SELL, 4_100_000, 300, 2)
    assert (trade.symbol, trade.seq, trade.price, trade.qty) == ("MSFT", 8, 4_100_000, 50)
    assert trade.aggressor is None and trade.trade_id == 5
    assert (batch.first_seq, batch.last_seq, batch.dropped_trades) == (7, 9, 1)


def test_msgpack_level_delta_literal_bytes() -> None:
    assert encode_msgpack(LEVEL) == bytes.fromhex(
        "99 00 a4 41 41 50 4c 07 2a cd 03 e8 00 ce 00 1c 92 74 cd 01 2c 02"
    )


def test_binary_level_delta_literal_bytes() -> None:
    assert BinaryCodec(["AAPL"]).encode(LEVEL) == bytes.fromhex(
        "42 0001 00000007 000000000000002a 00000000000003e8 001c9274 000000000000012c 00000002"
    )


def test_binary_directory_and_snapshot_carry_the_symbol_text() -> None:
    codec = BinaryCodec(["MSFT", "AAPL"])
    assert codec.directory("AAPL") == b"R\x00\x02AAPL    "
    snap = BookSnapshot("AAPL", 3, 9, (LevelView(100, 5, 1),), (), None)
    learner = BinaryCodec()
    assert learner.decode(codec.encode(snap)) == snap
    assert learner.decode(codec.encode(LEVEL)) == LEVEL


def test_json_shapes_use_decimal_string_prices_and_side_words() -> None:
    assert json.loads(encode_json(LEVEL)) == {
        "type": "level",
        "symbol": "AAPL",
        "seq": 7,
        "engine_seq": 42,
        "ts": 1000,
        "side": "buy",
        "price": "187.25",
        "qty": 300,
        "orders": 2,
    }
    top = TopOfBook("AAPL", 7, 42, 1000, 1_872_500, 300, None, 0)
    assert message_to_dict(top)["bid_price"] == "187.25"
    assert message_to_dict(top)["ask_price"] is None
    cross = TradeDelta("AAPL", 8, 43, 1000, 1_872_500, 300, None, 5)
    assert message_to_dict(cross)["aggressor"] is None


def test_delta_sizes_stay_within_forty_bytes() -> None:
    trade = TradeDelta(
        "AAPL", 1_000_000, 50_000_000, 1_767_364_200_000_000_000, 1_872_500, 300, SELL, 9_000_000
    )
    level = LEVEL._replace(seq=1_000_000, engine_seq=50_000_000, ts=trade.ts)
    codec = BinaryCodec(["AAPL"])
    for delta in (level, trade):
        assert len(encode_msgpack(delta)) <= 40
        assert len(codec.encode(delta)) <= 40


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",
        msgpack.packb([9, "AAPL", 1, 1, 1, 0, 1, 1, 1]),
        msgpack.packb([0, "AAPL", 1, 1, 1, 0, 1, 1]),
        msgpack.packb([0, "AAPL", -1, 1, 1, 0, 1, 1, 1]),
        msgpack.packb([0, "AAPL", True, 1, 1, 0, 1, 1, 1]),
        msgpack.packb([0, "AAPL", 1, 1, 1, 2, 1, 1, 1]),
        msgpack.packb([0, "AAPL", 1, 1, 1, True, 1, 1, 1]),
        msgpack.packb([0, "AAPL", 1, 1, 1, 0, 1, 1, False]),
        msgpack.packb([1, "AAPL", 1, 1, 1, 1, 1, True, 1]),
        msgpack.packb([0, b"AAPL", 1, 1, 1, 0, 1, 1, 1]),
        msgpack.packb([0, "TOOLONGSYM", 1, 1, 1, 0, 1, 1, 1]),
        msgpack.packb([2, "AAPL", 1, 1, None, [1, 2], []]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [[1, 2, 3]], []]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [[1, 2, 3, 0, 1, 1, -1]], []]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [[1, 2, 3, 2, 1, 1, 1]], []]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [[1, 2, 3, True, 1, 1, 1]], []]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [[1, 2, 3, 0, 1.5, 1, 1]], []]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [(1, 2, 3, 0, 1, 1, 1)], ["x"]]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [], [[1, 2, 3, 4, -5, 0, 7]]]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [], [[1, 2, 3, 4, 5, 2, 7]]]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [], [[1, 2, 3, 4, 5, None, True]]]),
        msgpack.packb([3, "AAPL", 1, 2, 0, [], [[1, 2, 3, 4, 5]]]),
        msgpack.packb({"type": "level"}),
        encode_msgpack(LEVEL) + b"\x00",
    ],
)
def test_msgpack_malformed_input_raises_malformed(data: bytes) -> None:
    with pytest.raises(WireError) as info:
        decode_msgpack(data)
    assert info.value.code == RejectCode.MALFORMED


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[1,2]",
        '{"type":"level"}',
        '{"type":"nope","symbol":"AAPL"}',
        encode_json(LEVEL).replace('"187.25"', "187.25"),
        encode_json(LEVEL).replace('"187.25"', '"187.25501"'),
        encode_json(LEVEL).replace('"buy"', '"long"'),
        encode_json(LEVEL).replace('"qty":300', '"qty":-3'),
        encode_json(LEVEL).replace('"qty":300', '"qty":3.5'),
    ],
)
def test_json_malformed_input_raises_malformed(text: str) -> None:
    with pytest.raises(WireError) as info:
        decode_json(text)
    assert info.value.code == RejectCode.MALFORMED


def test_binary_malformed_input_raises_malformed() -> None:
    codec = BinaryCodec(["AAPL"])
    data = codec.encode(LEVEL)
    for bad in (data[:-1], b"Z" + data[1:], data + b"\x00", b"X"):
        with pytest.raises(WireError) as info:
            BinaryCodec(["AAPL"]).decode(bad)
        assert info.value.code == RejectCode.MALFORMED
    with pytest.raises(WireError, match="unknown locate"):
        BinaryCodec().decode(data)
    with pytest.raises(WireError, match="locate 1 is AAPL"):
        BinaryCodec(["AAPL"]).decode(BinaryCodec(["MSFT"]).directory("MSFT"))


def test_binary_value_beyond_its_width_is_refused_with_invalid_field() -> None:
    codec = BinaryCodec()
    for bad in (LEVEL._replace(seq=2**32), LEVEL._replace(price=2**32), LEVEL._replace(qty=-1)):
        with pytest.raises(WireError) as info:
            codec.encode(bad)
        assert info.value.code == RejectCode.INVALID_FIELD


def test_msgpack_value_beyond_64_bits_is_refused_with_invalid_field() -> None:
    with pytest.raises(WireError) as info:
        encode_msgpack(LEVEL._replace(qty=2**64))
    assert info.value.code == RejectCode.INVALID_FIELD


def test_encoders_refuse_what_is_not_an_l2_message() -> None:
    for encode in (encode_msgpack, encode_json, BinaryCodec().encode):
        with pytest.raises(TypeError):
            encode(("level", 1))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("key", "value"),
    [("side", ["buy"]), ("side", None), ("price", 187), ("symbol", ""), ("orders", True)],
)
def test_json_level_with_a_bad_field_raises_malformed(key: str, value: object) -> None:
    obj = json.loads(encode_json(LEVEL))
    obj[key] = value
    with pytest.raises(WireError) as info:
        decode_json(json.dumps(obj))
    assert info.value.code == RejectCode.MALFORMED
