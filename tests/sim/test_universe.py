"""The shipped symbol universe and user symbol lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from lob.engine.prices import PRICE_SCALE, is_on_tick
from lob.sim.universe import Security, UniverseError, load_symbols, load_universe


def test_universe_shipped_rows_are_well_formed_and_on_tick() -> None:
    universe = load_universe()
    assert len(universe) >= 30
    symbols = [s.symbol for s in universe]
    assert len(set(symbols)) == len(symbols)
    for security in universe:
        assert isinstance(security.reference_price, int)
        assert security.reference_price > 0
        assert is_on_tick(security.reference_price)
        assert 0.0 < security.volatility < 0.2
        assert security.name and security.sector


def test_universe_includes_large_caps_and_a_sub_dollar_issue() -> None:
    by_symbol = {s.symbol: s for s in load_universe()}
    for symbol in ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "JPM", "V"):
        assert symbol in by_symbol
    sub_dollar = [s for s in by_symbol.values() if s.reference_price < PRICE_SCALE]
    assert sub_dollar, "the $0.0001 tick needs a sub-dollar security"
    assert by_symbol["PNNY"].reference_price == 4275  # $0.4275: four decimals on tick


def test_load_symbols_comma_list_keeps_order_and_drops_duplicates() -> None:
    securities = load_symbols(" msft,AAPL ,MSFT")
    assert [s.symbol for s in securities] == ["MSFT", "AAPL"]
    assert all(isinstance(s, Security) for s in securities)


def test_load_symbols_unknown_ticker_raises_unknown_symbol() -> None:
    with pytest.raises(UniverseError) as info:
        load_symbols("AAPL,NOPE")
    assert info.value.code == "unknown_symbol"


def test_load_symbols_malformed_ticker_raises_invalid_symbol() -> None:
    with pytest.raises(UniverseError) as info:
        load_symbols("AAPL,BRK.B")
    assert info.value.code == "invalid_symbol"


def test_load_symbols_empty_spec_raises_missing_field() -> None:
    with pytest.raises(UniverseError) as info:
        load_symbols("  ")
    assert info.value.code == "missing_field"


def test_load_symbols_csv_with_prices_defines_own_securities(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("symbol,reference_price,daily_volatility\nABC,12.34,0.03\nXYZ,0.5\n")
    securities = load_symbols(str(path))
    assert securities == [
        Security("ABC", "ABC", "", 123_400, 0.03),
        Security("XYZ", "XYZ", "", 5_000, 0.02),
    ]


def test_load_symbols_csv_of_tickers_selects_from_universe(tmp_path: Path) -> None:
    path = tmp_path / "pick.csv"
    path.write_text("symbol\nNVDA\nPNNY\n")
    assert [s.symbol for s in load_symbols(str(path))] == ["NVDA", "PNNY"]


def test_load_symbols_csv_off_tick_price_raises_invalid_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("symbol,reference_price\nABC,12.345\n")
    with pytest.raises(UniverseError) as info:
        load_symbols(str(path))
    assert info.value.code == "invalid_field"


def test_load_symbols_missing_csv_file_raises_malformed(tmp_path: Path) -> None:
    with pytest.raises(UniverseError) as info:
        load_symbols(str(tmp_path / "absent.csv"))
    assert info.value.code == "malformed"
