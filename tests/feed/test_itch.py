"""ITCH 5.0 codec: literal bytes worked out field by field from the specification."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lob.feed import itch
from lob.feed.itch import (
    MESSAGE_SIZES,
    AddOrder,
    CrossTrade,
    ItchDecodeError,
    ItchEncodeError,
    LuldAuctionCollar,
    Noii,
    NonCrossTrade,
    OrderCancel,
    OrderDelete,
    OrderExecuted,
    OrderExecutedWithPrice,
    OrderReplace,
    StockDirectory,
    StockTradingAction,
    SystemEvent,
)

TS = 34_200_000_000_123  # 09:30:00.000000123 in ns since midnight
TS_BYTES = bytes.fromhex("1f1a ced9 f07b")  # the same value in 6 big-endian bytes

CASES = [
    (
        SystemEvent(0, 0, TS, "O"),
        b"S" + b"\x00\x00" + b"\x00\x00" + TS_BYTES + b"O",
    ),
    (
        StockDirectory(
            7, 0, TS, "AAPL", "Q", "N", 100, "N", "C", "Z", "T", "N", "N", " ", "N", 0, "N"
        ),
        b"R"
        + b"\x00\x07"  # stock locate
        + b"\x00\x00"  # tracking number
        + TS_BYTES
        + b"AAPL    "  # stock, alpha 8
        + b"Q"  # market category
        + b"N"  # financial status indicator
        + b"\x00\x00\x00\x64"  # round lot size 100
        + b"N"  # round lots only
        + b"C"  # issue classification
        + b"Z "  # issue sub-type, alpha 2
        + b"T"  # authenticity
        + b"N"  # short sale threshold indicator
        + b"N"  # IPO flag
        + b" "  # LULD reference price tier
        + b"N"  # ETP flag
        + b"\x00\x00\x00\x00"  # ETP leverage factor
        + b"N",  # inverse indicator
    ),
    (
        StockTradingAction(7, 0, TS, "AAPL", "T", " ", ""),
        b"H" + b"\x00\x07\x00\x00" + TS_BYTES + b"AAPL    " + b"T" + b" " + b"    ",
    ),
    (
        AddOrder(7, 0, TS, 42, "B", 100, "AAPL", 1_872_500),
        b"A"
        + b"\x00\x07\x00\x00"
        + TS_BYTES
        + b"\x00\x00\x00\x00\x00\x00\x00\x2a"  # order reference number 42
        + b"B"  # buy/sell indicator
        + b"\x00\x00\x00\x64"  # shares 100
        + b"AAPL    "
        + b"\x00\x1c\x92\x74",  # price 187.2500 = 1872500
    ),
    (
        OrderExecuted(7, 0, TS, 42, 60, 9),
        b"E"
        + b"\x00\x07\x00\x00"
        + TS_BYTES
        + b"\x00\x00\x00\x00\x00\x00\x00\x2a"
        + b"\x00\x00\x00\x3c"  # executed shares 60
        + b"\x00\x00\x00\x00\x00\x00\x00\x09",  # match number 9
    ),
    (
        OrderExecutedWithPrice(7, 0, TS, 42, 60, 9, "Y", 1_872_600),
        b"C"
        + b"\x00\x07\x00\x00"
        + TS_BYTES
        + b"\x00\x00\x00\x00\x00\x00\x00\x2a"
        + b"\x00\x00\x00\x3c"
        + b"\x00\x00\x00\x00\x00\x00\x00\x09"
        + b"Y"  # printable
        + b"\x00\x1c\x92\xd8",  # execution price 187.26
    ),
    (
        OrderCancel(7, 0, TS, 42, 25),
        b"X" + b"\x00\x07\x00\x00" + TS_BYTES + b"\x00" * 7 + b"\x2a" + b"\x00\x00\x00\x19",
    ),
    (
        OrderDelete(7, 0, TS, 42),
        b"D" + b"\x00\x07\x00\x00" + TS_BYTES + b"\x00" * 7 + b"\x2a",
    ),
    (
        OrderReplace(7, 0, TS, 42, 43, 200, 1_872_400),
        b"U"
        + b"\x00\x07\x00\x00"
        + TS_BYTES
        + b"\x00" * 7
        + b"\x2a"  # original reference 42
        + b"\x00" * 7
        + b"\x2b"  # new reference 43
        + b"\x00\x00\x00\xc8"  # shares 200
        + b"\x00\x1c\x92\x10",  # price 187.24
    ),
    (
        NonCrossTrade(7, 0, TS, 0, "S", 300, "AAPL", 1_872_500, 10),
        b"P"
        + b"\x00\x07\x00\x00"
        + TS_BYTES
        + b"\x00" * 8  # order reference 0
        + b"S"
        + b"\x00\x00\x01\x2c"  # shares 300
        + b"AAPL    "
        + b"\x00\x1c\x92\x74"
        + b"\x00" * 7
        + b"\x0a",  # match number 10
    ),
    (
        CrossTrade(7, 0, TS, 1_000_000, "AAPL", 1_872_500, 11, "O"),
        b"Q"
        + b"\x00\x07\x00\x00"
        + TS_BYTES
        + b"\x00\x00\x00\x00\x00\x0f\x42\x40"  # shares, 8 bytes: 1,000,000
        + b"AAPL    "
        + b"\x00\x1c\x92\x74"  # cross price
        + b"\x00" * 7
        + b"\x0b"  # match number 11
        + b"O",  # cross type
    ),
    (
        Noii(7, 0, TS, 5000, 1200, "B", "AAPL", 1_872_500, 1_872_400, 1_872_450, "O", "L"),
        b"I"
        + b"\x00\x07\x00\x00"
        + TS_BYTES
        + b"\x00" * 6
        + b"\x13\x88"  # paired shares 5000
        + b"\x00" * 6
        + b"\x04\xb0"  # imbalance shares 1200
        + b"B"  # imbalance direction
        + b"AAPL    "
        + b"\x00\x1c\x92\x74"  # far price
        + b"\x00\x1c\x92\x10"  # near price
        + b"\x00\x1c\x92\x42"  # current reference price 187.245
        + b"O"  # cross type
        + b"L",  # price variation indicator
    ),
    (
        LuldAuctionCollar(7, 0, TS, "AAPL", 1_872_500, 1_966_100, 1_778_900, 1),
        b"J"
        + b"\x00\x07\x00\x00"
        + TS_BYTES
        + b"AAPL    "
        + b"\x00\x1c\x92\x74"  # reference price
        + b"\x00\x1e\x00\x14"  # upper collar 196.61
        + b"\x00\x1b\x24\xd4"  # lower collar 177.89
        + b"\x00\x00\x00\x01",  # extension 1
    ),
]


@pytest.mark.parametrize(("message", "wire"), CASES, ids=[c[0].TYPE for c in CASES])
def test_encode_each_message_matches_specification_bytes(message: itch.Message, wire: bytes):
    assert len(wire) == MESSAGE_SIZES[message.TYPE]
    assert itch.encode(message) == wire


@pytest.mark.parametrize(("message", "wire"), CASES, ids=[c[0].TYPE for c in CASES])
def test_decode_each_message_from_specification_bytes_gives_the_tuple(
    message: itch.Message, wire: bytes
):
    assert itch.decode(wire) == message
    assert itch.decode(memoryview(wire)) == message


def test_message_sizes_match_the_specification():
    assert MESSAGE_SIZES == {
        "S": 12,
        "R": 39,
        "H": 25,
        "A": 36,
        "E": 31,
        "C": 36,
        "X": 23,
        "D": 19,
        "U": 35,
        "P": 44,
        "Q": 40,
        "I": 50,
        "J": 35,
    }


def test_timestamp_largest_six_byte_value_round_trips():
    message = OrderDelete(1, 0, (1 << 48) - 1, 1)
    assert itch.encode(message)[5:11] == b"\xff" * 6
    assert itch.decode(itch.encode(message)) == message


@pytest.mark.parametrize(
    "message",
    [
        OrderDelete(1, 0, 1 << 48, 1),
        OrderDelete(1, 0, -1, 1),
        AddOrder(1, 0, 0, 1, "B", 100, "TOOLONGSYM", 100),
        AddOrder(1, 0, 0, 1, "BUY", 100, "AAPL", 100),
        AddOrder(1, 0, 0, 1, "B", 1 << 32, "AAPL", 100),
        AddOrder(1, 0, 0, 1, "B", 100, "AAPL", -1),
        AddOrder(1 << 16, 0, 0, 1, "B", 100, "AAPL", 100),
        AddOrder(1, 0, 0, 1, "B", 100, "ÄPPL", 100),
        OrderExecuted(1, 0, 0, 1, None, 1),  # type: ignore[arg-type]
        SystemEvent(0, 0, 0, ""),
        StockDirectory(
            1, 0, 0, "A", "Q", "N", 100, "N", "C", "ZZZ", "T", "N", "N", " ", "N", 0, "N"
        ),
    ],
)
def test_encode_field_out_of_range_raises_encode_error(message: itch.Message):
    with pytest.raises(ItchEncodeError) as info:
        itch.encode(message)
    assert info.value.code == "itch_bad_field"


def test_encode_non_message_raises_unknown_message():
    with pytest.raises(ItchEncodeError) as info:
        itch.encode((1, 2, 3))  # type: ignore[arg-type]
    assert info.value.code == "itch_unknown_message"


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (b"", "itch_empty"),
        (b"Z" + b"\x00" * 11, "itch_unknown_type"),
        (CASES[3][1][:-1], "itch_bad_length"),
        (CASES[3][1] + b"\x00", "itch_bad_length"),
        (CASES[3][1][:24] + b"AAP\xc3\x84   " + CASES[3][1][32:], "itch_bad_text"),
    ],
)
def test_decode_malformed_bytes_raises_decode_error_with_code(wire: bytes, code: str):
    with pytest.raises(ItchDecodeError) as info:
        itch.decode(wire)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)


@given(st.binary(max_size=64))
def test_decode_any_bytes_decodes_or_raises_decode_error(data: bytes):
    try:
        message = itch.decode(data)
    except ItchDecodeError:
        return
    assert itch.encode(message) == data


@given(st.sampled_from(list(MESSAGE_SIZES)), st.data())
def test_decode_any_body_of_a_known_type_round_trips_or_raises(kind: str, data: st.DataObject):
    body = data.draw(st.binary(min_size=MESSAGE_SIZES[kind] - 1, max_size=MESSAGE_SIZES[kind] - 1))
    wire = kind.encode() + body
    try:
        message = itch.decode(wire)
    except ItchDecodeError as exc:
        assert exc.code == "itch_bad_text"
        return
    assert kind == message.TYPE
    assert itch.encode(message) == wire


def test_encode_all_equals_encode_of_each_message():
    messages = [case[0] for case in CASES]
    assert itch.encode_all(messages) == [itch.encode(m) for m in messages]
    assert itch.encode_all(iter(messages[3:9])) == [itch.encode(m) for m in messages[3:9]]


def test_encode_all_with_a_bad_field_raises_encode_error():
    good = AddOrder(1, 0, 0, 1, "B", 100, "AAPL", 100)
    with pytest.raises(ItchEncodeError) as info:
        itch.encode_all([good, good._replace(shares=-5)])
    assert info.value.code == "itch_bad_field"
