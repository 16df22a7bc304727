"""The order-level book builder: ITCH rules, snapshots and their JSON form."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lob.engine.book import LevelView
from lob.feed.itch import (
    AddOrder,
    OrderCancel,
    OrderDelete,
    OrderExecuted,
    OrderExecutedWithPrice,
    OrderReplace,
)
from lob.feed.itch_book import BookBuildError, BookOrder, FeedSnapshot, ItchBookBuilder
from lob.feed.itch_mapper import stock_directory


def built() -> ItchBookBuilder:
    builder = ItchBookBuilder()
    builder.apply_all(
        [
            stock_directory(1, "AAA", 0),
            AddOrder(1, 0, 1, 10, "B", 100, "AAA", 99_00),
            AddOrder(1, 0, 2, 11, "B", 200, "AAA", 99_00),
            AddOrder(1, 0, 3, 12, "S", 50, "AAA", 101_00),
        ]
    )
    return builder


def test_builder_executions_cancels_and_replace_follow_itch_rules():
    builder = built()
    builder.apply(OrderExecuted(1, 0, 4, 10, 40, 1))
    builder.apply(OrderExecutedWithPrice(1, 0, 5, 12, 50, 2, "Y", 101_00))
    builder.apply(OrderCancel(1, 0, 6, 11, 150))
    builder.apply(OrderReplace(1, 0, 7, 10, 13, 70, 99_00))  # back of the queue
    assert builder.book_orders(1) == [
        BookOrder(1, 11, "B", 99_00, 50),
        BookOrder(1, 13, "B", 99_00, 70),
    ]
    assert builder.l2("AAA") == ("AAA", [LevelView(99_00, 120, 2)], [])
    builder.apply(OrderDelete(1, 0, 8, 11))
    assert [o.order_ref for o in builder.book_orders(1)] == [13]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (OrderDelete(1, 0, 9, 99), "itch_unknown_order"),
        (OrderExecuted(1, 0, 9, 12, 51, 1), "itch_bad_shares"),
        (AddOrder(1, 0, 9, 10, "B", 1, "AAA", 1), "itch_duplicate_order"),
        (AddOrder(2, 0, 9, 20, "B", 1, "BBB", 1), "itch_unknown_locate"),
        (OrderReplace(1, 0, 9, 10, 11, 5, 99_00), "itch_duplicate_order"),
        (OrderReplace(1, 0, 9, 10, 30, 0, 99_00), "itch_bad_shares"),
    ],
)
def test_builder_contradicting_message_raises_and_changes_nothing(message, code: str):
    builder = built()
    before = builder.snapshot(0)
    with pytest.raises(BookBuildError) as info:
        builder.apply(message)
    assert info.value.code == code
    assert builder.snapshot(0) == before


def test_snapshot_json_round_trip_loads_the_same_books():
    builder = built()
    snap = builder.snapshot(42)
    again = FeedSnapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert again == snap
    other = ItchBookBuilder()
    other.load_snapshot(again)
    assert other.state_hash() == builder.state_hash()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=7), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["seq", "symbols", "orders", "x"]), json_values))
def test_snapshot_from_any_json_parses_or_raises_value_error(obj: dict):
    try:
        snap = FeedSnapshot.from_dict(obj)
    except ValueError:
        return
    assert isinstance(snap.seq, int)


def test_load_snapshot_that_contradicts_itself_raises_and_changes_nothing():
    builder = built()
    before = builder.state_hash()
    bad = FeedSnapshot(
        5, [(1, "AAA")], [BookOrder(1, 1, "B", 100, 5), BookOrder(2, 2, "B", 100, 5)]
    )
    with pytest.raises(BookBuildError):
        builder.load_snapshot(bad)
    assert builder.state_hash() == before
