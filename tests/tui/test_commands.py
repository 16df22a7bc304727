"""The workstation's command line grammar."""

from __future__ import annotations

import pytest

from lob.engine.prices import parse_price
from lob.engine.types import OrderType, Side, TimeInForce
from lob.tui.commands import CancelLine, CommandLineError, ReplaceLine, parse_line
from lob.tui.source import OrderRequest


def test_parse_limit_buy_with_tif_gives_limit_request() -> None:
    assert parse_line("buy 100 AAPL 187.25 ioc") == OrderRequest(
        "AAPL", Side.BUY, 100, parse_price("187.25"), OrderType.LIMIT, TimeInForce.IOC
    )


def test_parse_sell_mkt_gives_market_request_without_price() -> None:
    request = parse_line("sell 50 msft mkt")
    assert isinstance(request, OrderRequest)
    assert (request.symbol, request.side, request.qty) == ("MSFT", Side.SELL, 50)
    assert (request.order_type, request.price) == (OrderType.MARKET, None)


def test_parse_post_only_flag_sets_post_only() -> None:
    request = parse_line("BUY 10 AAPL $187.20 gtc post")
    assert isinstance(request, OrderRequest)
    assert request.post_only and request.tif is TimeInForce.GTC
    assert request.price == parse_price("187.20")


def test_parse_cancel_and_replace_give_their_lines() -> None:
    assert parse_line("cancel T7") == CancelLine("T7")
    assert parse_line("replace T7 187.30 200") == ReplaceLine("T7", parse_price("187.30"), 200)
    assert parse_line("replace T7 - 50") == ReplaceLine("T7", None, 50)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("", "missing_field"),
        ("hold 100 AAPL", "invalid_op"),
        ("buy", "missing_field"),
        ("buy -5 AAPL 1", "invalid_quantity"),
        ("buy 0 AAPL 1", "invalid_quantity"),
        ("buy 5 AA1 1", "invalid_symbol"),
        ("buy 5 AAPL 1.23456", "invalid_price"),
        ("buy 5 AAPL 1 soon", "invalid_field"),
        ("cancel", "missing_field"),
        ("replace T1 - ", "missing_field"),
        ("replace T1 abc", "invalid_price"),
    ],
)
def test_parse_bad_line_raises_stable_code(line: str, code: str) -> None:
    with pytest.raises(CommandLineError) as info:
        parse_line(line)
    assert info.value.code == code


def test_parse_line_with_leading_colon_reads_the_command_after_it() -> None:
    request = parse_line(":buy 500 AAPL 230.00")
    assert isinstance(request, OrderRequest)
    assert (request.side, request.qty, request.symbol) == (Side.BUY, 500, "AAPL")
