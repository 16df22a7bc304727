"""ITCH J (LULD auction collar): published when a symbol pauses, from its latest bands."""

from __future__ import annotations

from lob.engine import MatchingEngine, Side, parse_price
from lob.engine.luld import LIMIT_STATE_NS
from lob.feed.itch import LuldAuctionCollar, StockTradingAction, decode, encode
from lob.feed.itch_book import ItchBookBuilder
from lob.feed.itch_mapper import ItchMapper


def test_luld_pause_publishes_trading_action_then_the_reopening_collar() -> None:
    engine = MatchingEngine()
    mapper = ItchMapper(midnight_ns=0)
    builder = ItchBookBuilder()
    messages = []

    def feed(events) -> None:
        for message in mapper.map(events):
            assert decode(encode(message)) == message
            builder.apply(message)
            messages.append(message)

    engine.add_symbol("XYZ")
    feed(engine.enable_luld("XYZ", tier=1, reference=parse_price("100.00"), ts=1))
    feed(engine.new_order("A", "a1", "XYZ", Side.BUY, 100, parse_price("105.00"), ts=2))
    feed(engine.advance(2))
    feed(engine.advance(2 + LIMIT_STATE_NS))
    assert engine.book("XYZ").state == "paused"
    action = [m for m in messages if type(m) is StockTradingAction][-1]
    collar = messages[-1]
    assert (action.trading_state, action.reason.strip()) == ("P", "LUDP")
    assert type(collar) is LuldAuctionCollar
    assert (
        collar.auction_collar_reference_price,
        collar.upper_auction_collar_price,
        collar.lower_auction_collar_price,
    ) == (parse_price("100.00"), parse_price("105.00"), parse_price("95.00"))
    assert builder.state_hash() == engine.state_hash()
