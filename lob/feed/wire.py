"""Wire encodings of L2 messages: msgpack (the default), JSON, and a fixed binary form.

Five messages travel: ``LevelDelta``, ``TradeDelta`` (lob.feed.deltas),
``BookSnapshot``, ``TopOfBook`` and ``ConflatedBatch`` (lob.feed.conflation).
Every encoding round-trips every field. Common conventions: ``seq`` is the
per-symbol sequence, ``engine_seq`` the engine-wide one, ``ts`` integer
nanoseconds since the epoch, prices integers in 1/10,000 dollar except in JSON
(decimal strings), quantities integer shares.

msgpack: compact arrays, first element a kind code
=====================================================================

A side is ``0`` (buy / bid) or ``1`` (sell / ask). A missing price is nil, and
so is the aggressor of a trade printed by an opening or closing cross.

==  ========  ==========================================================
0   level     ``[0, symbol, seq, engine_seq, ts, side, price, qty, orders]``
                (``qty == 0`` removes the level)
1   trade     ``[1, symbol, seq, engine_seq, ts, price, qty, aggressor, trade_id]``
2   snapshot  ``[2, symbol, seq, engine_seq, depth, bids, asks]``; ``depth``
                nil for the full book; ``bids``/``asks`` flat arrays
                ``[price, qty, orders, price, qty, orders, ...]``, best first
3   batch     ``[3, symbol, first_seq, last_seq, dropped_trades, levels, trades]``;
                ``levels`` = ``[[seq, engine_seq, ts, side, price, qty, orders], ...]``,
                ``trades`` = ``[[seq, engine_seq, ts, price, qty, aggressor, trade_id], ...]``
4   top       ``[4, symbol, seq, engine_seq, ts, bid_price, bid_qty, ask_price, ask_qty]``
==  ========  ==========================================================

A level delta is about 36 bytes, a trade about 40. Several messages may be
concatenated in one frame (``decode_msgpack_all``).

JSON: one object per message, ``type`` first
=====================================================================

Sides ``"buy"``/``"sell"`` (a cross trade's aggressor is null), prices decimal
strings (``"187.25"``)::

    {"type":"level","symbol":"AAPL","seq":7,"engine_seq":42,"ts":1767364200001000000,
     "side":"buy","price":"187.25","qty":300,"orders":2}
    {"type":"trade","symbol":"AAPL","seq":8,"engine_seq":43,"ts":...,
     "price":"187.26","qty":100,"aggressor":"buy","trade_id":9}
    {"type":"snapshot","symbol":"AAPL","seq":8,"engine_seq":43,"depth":null,
     "bids":[{"price":"187.25","qty":300,"orders":2}],"asks":[...]}
    {"type":"batch","symbol":"AAPL","first_seq":9,"last_seq":120,"dropped_trades":0,
     "levels":[{"seq":..,"engine_seq":..,"ts":..,"side":"sell","price":"187.27","qty":0,
                "orders":0}],
     "trades":[{"seq":..,"engine_seq":..,"ts":..,"price":"187.26","qty":100,
                "aggressor":"sell","trade_id":10}]}
    {"type":"top","symbol":"AAPL","seq":8,"engine_seq":43,"ts":...,"bid_price":"187.25",
     "bid_qty":300,"ask_price":null,"ask_qty":0}

Binary: big-endian fixed records (``BinaryCodec``)
=====================================================================

The first byte is the message type. A symbol travels as a 2-byte *locate*
code, as in ITCH 5.0; the ``R`` directory record and every snapshot carry the
symbol text, and a decoder learns the code from them. Unsigned widths:
``seq`` 4 bytes, ``engine_seq``/``ts``/level quantities/``trade_id`` 8, price
4 (the ITCH ``Price(4)`` range), trade quantity and order counts 4. A value
outside its width is refused with ``WireError`` (code ``invalid_field``).

====  ===========  =====  ========================================================
type  message      bytes  layout after the type byte
====  ===========  =====  ========================================================
B/S   level        39     locate H, seq I, engine_seq Q, ts Q, price I, qty Q, orders I
                          (``B`` bid, ``S`` ask)
T     trade        40     locate H, seq I, engine_seq Q, ts Q, price I, qty I,
                          aggressor c (``B``/``S``, ``N`` for a cross), trade_id Q
N     snapshot     31+16n locate H, symbol 8s (space padded), seq I, engine_seq Q,
                          depth I (0xFFFFFFFF = full), bid count H, ask count H, then
                          one (price I, qty Q, orders I) per level, bids then asks
C     batch        23+..  locate H, first_seq I, last_seq I, dropped_trades I,
                          level count I, trade count I, then the level records and the
                          trade records, each a complete B/S/T record as above
O     top          47     locate H, seq I, engine_seq Q, ts Q, bid_price I (0 = none),
                          bid_qty Q, ask_price I (0 = none), ask_qty Q
R     directory    11     locate H, symbol 8s
====  ===========  =====  ========================================================

Decoding never trusts its input: anything malformed raises ``WireError`` with
code ``malformed``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Final, NamedTuple

import msgpack  # type: ignore[import-untyped]
from mypy_extensions import mypyc_attr

from lob.engine.book import LevelView
from lob.engine.prices import PriceError, format_price, parse_price
from lob.engine.types import RejectCode, Side
from lob.feed.conflation import ConflatedBatch
from lob.feed.deltas import BookSnapshot, LevelDelta, TopOfBook, TradeDelta

__all__ = [
    "BinaryCodec",
    "Message",
    "SymbolLocate",
    "WireError",
    "decode_json",
    "decode_msgpack",
    "decode_msgpack_all",
    "encode_json",
    "encode_msgpack",
    "message_from_dict",
    "message_to_dict",
]


class SymbolLocate(NamedTuple):
    """A binary directory entry: ``locate`` stands for ``symbol`` on this stream."""

    locate: int
    symbol: str

    @property
    def TYPE(self) -> str:
        return "directory"


Message = LevelDelta | TradeDelta | BookSnapshot | ConflatedBatch | TopOfBook
"""Every L2 message an encoding carries."""


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class WireError(ValueError):
    """Bytes or text that are not a valid L2 message, or a value the encoding cannot hold."""

    def __init__(self, code: RejectCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _malformed(what: str) -> WireError:
    return WireError(RejectCode.MALFORMED, f"malformed L2 message: {what}")


# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL
_SIDES: Final = (_BUY, _SELL)
_SIDE_CODE: Final = {_BUY: 0, _SELL: 1}
_AGGRESSOR_CODE: Final = {_BUY: 0, _SELL: 1, None: None}
_LEVEL_DELTA: Final = LevelDelta
_TRADE_DELTA: Final = TradeDelta


def _side(code: object) -> Side:
    # The type first: compiled, a comparison with an int narrows ``code`` to int,
    # and a bool then passes as one.
    if type(code) is int:
        if code == 0:
            return _BUY
        if code == 1:
            return _SELL
    raise _malformed(f"side must be 0 or 1, not {code!r}")


def _aggressor(code: object) -> Side | None:
    return None if code is None else _side(code)


def _ints(values: Iterable[object], what: str) -> None:
    for v in values:
        if type(v) is not int or v < 0:
            raise _malformed(f"{what} fields must be non-negative integers, not {v!r}")


def _symbol(value: object) -> str:
    if type(value) is not str or not value or len(value) > 8:
        raise _malformed(f"symbol must be 1-8 characters, not {value!r}")
    return value


# -- msgpack ------------------------------------------------------------------

_K_LEVEL: Final = 0
_K_TRADE: Final = 1
_K_SNAPSHOT: Final = 2
_K_BATCH: Final = 3
_K_TOP: Final = 4

# One packer for the module: packing lists of ints, strings and None runs entirely
# in C while holding the GIL, and reusing it saves building a Packer per message.
_pack: Final = msgpack.Packer().pack


def _msgpack_fields(message: Message) -> list[Any]:
    kind = type(message)
    if kind is _LEVEL_DELTA:
        d: LevelDelta = message  # type: ignore[assignment]
        return [
            _K_LEVEL,
            d.symbol,
            d.seq,
            d.engine_seq,
            d.ts,
            _SIDE_CODE[d.side],
            d.price,
            d.qty,
            d.orders,
        ]
    if kind is _TRADE_DELTA:
        t: TradeDelta = message  # type: ignore[assignment]
        return [
            _K_TRADE,
            t.symbol,
            t.seq,
            t.engine_seq,
            t.ts,
            t.price,
            t.qty,
            _AGGRESSOR_CODE[t.aggressor],
            t.trade_id,
        ]
    if kind is BookSnapshot:
        s: BookSnapshot = message  # type: ignore[assignment]
        return [
            _K_SNAPSHOT,
            s.symbol,
            s.seq,
            s.engine_seq,
            s.depth,
            [v for lv in s.bids for v in lv],
            [v for lv in s.asks for v in lv],
        ]
    if kind is ConflatedBatch:
        b: ConflatedBatch = message  # type: ignore[assignment]
        return [
            _K_BATCH,
            b.symbol,
            b.first_seq,
            b.last_seq,
            b.dropped_trades,
            [
                [d.seq, d.engine_seq, d.ts, _SIDE_CODE[d.side], d.price, d.qty, d.orders]
                for d in b.levels
            ],
            [
                [
                    t.seq,
                    t.engine_seq,
                    t.ts,
                    t.price,
                    t.qty,
                    _AGGRESSOR_CODE[t.aggressor],
                    t.trade_id,
                ]
                for t in b.trades
            ],
        ]
    if kind is TopOfBook:
        p: TopOfBook = message  # type: ignore[assignment]
        return [_K_TOP, *p]
    raise TypeError(f"not an L2 message: {message!r}")


def encode_msgpack(message: Message) -> bytes:
    """One message as a msgpack array (see the module table)."""
    try:
        return _pack(_msgpack_fields(message))  # type: ignore[no-any-return]
    except OverflowError as exc:
        raise WireError(
            RejectCode.INVALID_FIELD, f"value out of range for msgpack: {exc}"
        ) from None


def _levels_from_flat(flat: object) -> tuple[LevelView, ...]:
    if type(flat) is not list or len(flat) % 3:
        raise _malformed("snapshot levels must be a flat array of price, qty, orders")
    _ints(flat, "snapshot level")
    return tuple(LevelView(flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3))


def _from_msgpack_fields(a: object) -> Message:
    if type(a) is not list or not a:
        raise _malformed("expected a non-empty array")
    kind = a[0]
    n = len(a)
    if kind == _K_LEVEL and n == 9:
        _, symbol, seq, engine_seq, ts, side, price, qty, orders = a
        if (
            type(seq) is type(engine_seq) is type(ts) is type(price) is type(qty) is int
            and type(orders) is int
            and min(seq, engine_seq, ts, price, qty, orders) >= 0
            and type(symbol) is str
            and 0 < len(symbol) <= 8
            and type(side) is int
            and (side == 0 or side == 1)
        ):
            return LevelDelta(symbol, seq, engine_seq, ts, _SIDES[side], price, qty, orders)
        _ints(a[2:5], "level")
        _ints(a[6:], "level")
        return LevelDelta(_symbol(a[1]), a[2], a[3], a[4], _side(a[5]), a[6], a[7], a[8])
    if kind == _K_TRADE and n == 9:
        _ints(a[2:7], "trade")
        _ints(a[8:], "trade")
        return TradeDelta(_symbol(a[1]), a[2], a[3], a[4], a[5], a[6], _aggressor(a[7]), a[8])
    if kind == _K_SNAPSHOT and n == 7:
        _ints(a[2:4], "snapshot")
        if a[4] is not None:
            _ints(a[4:5], "snapshot")
        return BookSnapshot(
            _symbol(a[1]), a[2], a[3], _levels_from_flat(a[5]), _levels_from_flat(a[6]), a[4]
        )
    if kind == _K_BATCH and n == 7:
        symbol = _symbol(a[1])
        _ints(a[2:5], "batch")
        levels, trades = a[5], a[6]
        if type(levels) is not list or type(trades) is not list:
            raise _malformed("batch levels and trades must be arrays")
        out_levels = []
        for e in levels:
            if type(e) is not list or len(e) != 7:
                raise _malformed("a batch level is [seq, engine_seq, ts, side, price, qty, orders]")
            _ints(e[:3], "level")
            _ints(e[4:], "level")
            out_levels.append(LevelDelta(symbol, e[0], e[1], e[2], _side(e[3]), e[4], e[5], e[6]))
        out_trades = []
        for e in trades:
            if type(e) is not list or len(e) != 7:
                raise _malformed(
                    "a batch trade is [seq, engine_seq, ts, price, qty, aggressor, trade_id]"
                )
            _ints(e[:5], "trade")
            _ints(e[6:], "trade")
            out_trades.append(
                TradeDelta(symbol, e[0], e[1], e[2], e[3], e[4], _aggressor(e[5]), e[6])
            )
        return ConflatedBatch(symbol, a[2], a[3], tuple(out_levels), tuple(out_trades), a[4])
    if kind == _K_TOP and n == 9:
        _ints(a[2:5], "top")
        _ints((a[6], a[8]), "top")
        for price in (a[5], a[7]):
            if price is not None:
                _ints((price,), "top")
        return TopOfBook(_symbol(a[1]), a[2], a[3], a[4], a[5], a[6], a[7], a[8])
    raise _malformed(f"unknown kind {kind!r} with {n} fields")


def decode_msgpack(data: bytes | bytearray) -> Message:
    """One msgpack-encoded message; ``WireError`` if it is not exactly one valid message."""
    try:
        a = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except (msgpack.UnpackException, ValueError, TypeError) as exc:
        raise _malformed(f"not msgpack ({exc})") from None
    return _from_msgpack_fields(a)


def decode_msgpack_all(data: bytes | bytearray) -> list[Message]:
    """Every message of a frame holding one or more concatenated msgpack messages."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=True)
    unpacker.feed(data)
    try:
        return [_from_msgpack_fields(a) for a in unpacker]
    except (msgpack.UnpackException, ValueError, TypeError) as exc:
        if isinstance(exc, WireError):
            raise
        raise _malformed(f"not msgpack ({exc})") from None


# -- JSON ---------------------------------------------------------------------


def _price_text(price: int | None) -> str | None:
    return None if price is None else format_price(price)


def message_to_dict(message: Message) -> dict[str, Any]:
    """The JSON object of a message (prices as decimal strings)."""
    kind = type(message)
    if kind is LevelDelta:
        d: LevelDelta = message  # type: ignore[assignment]
        return {
            "type": "level",
            "symbol": d.symbol,
            "seq": d.seq,
            "engine_seq": d.engine_seq,
            "ts": d.ts,
            "side": _SIDE_WORD[d.side],
            "price": _price_to_text(d.price),
            "qty": d.qty,
            "orders": d.orders,
        }
    if kind is TradeDelta:
        t: TradeDelta = message  # type: ignore[assignment]
        return {"type": "trade", "symbol": t.symbol, **_trade_body(t)}
    if kind is BookSnapshot:
        s: BookSnapshot = message  # type: ignore[assignment]
        return {
            "type": "snapshot",
            "symbol": s.symbol,
            "seq": s.seq,
            "engine_seq": s.engine_seq,
            "depth": s.depth,
            "bids": [_level_view_dict(lv) for lv in s.bids],
            "asks": [_level_view_dict(lv) for lv in s.asks],
        }
    if kind is ConflatedBatch:
        b: ConflatedBatch = message  # type: ignore[assignment]
        return {
            "type": "batch",
            "symbol": b.symbol,
            "first_seq": b.first_seq,
            "last_seq": b.last_seq,
            "dropped_trades": b.dropped_trades,
            "levels": [_level_body(d) for d in b.levels],
            "trades": [_trade_body(t) for t in b.trades],
        }
    if kind is TopOfBook:
        p: TopOfBook = message  # type: ignore[assignment]
        return {
            "type": "top",
            "symbol": p.symbol,
            "seq": p.seq,
            "engine_seq": p.engine_seq,
            "ts": p.ts,
            "bid_price": _price_text(p.bid_price),
            "bid_qty": p.bid_qty,
            "ask_price": _price_text(p.ask_price),
            "ask_qty": p.ask_qty,
        }
    raise TypeError(f"not an L2 message: {message!r}")


def _level_body(d: LevelDelta) -> dict[str, Any]:
    return {
        "seq": d.seq,
        "engine_seq": d.engine_seq,
        "ts": d.ts,
        "side": _SIDE_WORD[d.side],
        "price": _price_to_text(d.price),
        "qty": d.qty,
        "orders": d.orders,
    }


def _trade_body(t: TradeDelta) -> dict[str, Any]:
    return {
        "seq": t.seq,
        "engine_seq": t.engine_seq,
        "ts": t.ts,
        "price": _price_to_text(t.price),
        "qty": t.qty,
        "aggressor": _AGGRESSOR_WORD[t.aggressor],
        "trade_id": t.trade_id,
    }


def _level_view_dict(lv: LevelView) -> dict[str, Any]:
    return {"price": _price_to_text(lv.price), "qty": lv.qty, "orders": lv.orders}


# A book's prices repeat all day: remembering the text of recent ones saves most of
# the cost of JSON (bounded, so a wandering price cannot grow it without limit).
_price_to_text = lru_cache(maxsize=4096)(format_price)
_text_to_price = lru_cache(maxsize=4096)(parse_price)
_SIDE_WORD = {_BUY: "buy", _SELL: "sell"}
_AGGRESSOR_WORD = {_BUY: "buy", _SELL: "sell", None: None}
_WORD_SIDE = {"buy": _BUY, "sell": _SELL}


_json_encode = json.JSONEncoder(separators=(",", ":")).encode


def encode_json(message: Message) -> str:
    """One message as compact JSON text."""
    return _json_encode(message_to_dict(message))


class _Fields:
    """Typed reads from a decoded JSON object, each failing as ``malformed``."""

    __slots__ = ("obj", "what")

    def __init__(self, obj: object, what: str) -> None:
        if type(obj) is not dict:
            raise _malformed(f"{what} must be an object")
        self.obj: dict[str, Any] = obj
        self.what = what

    def get(self, key: str) -> Any:
        try:
            return self.obj[key]
        except KeyError:
            raise _malformed(f"{self.what} has no {key!r}") from None

    def integer(self, key: str) -> int:
        value = self.get(key)
        if type(value) is not int or value < 0:
            raise _malformed(f"{self.what}.{key} must be a non-negative integer: {value!r}")
        return value

    def opt_integer(self, key: str) -> int | None:
        return None if self.get(key) is None else self.integer(key)

    def text(self, key: str) -> str:
        value = self.get(key)
        if type(value) is not str:
            raise _malformed(f"{self.what}.{key} must be a string: {value!r}")
        return value

    def side(self, key: str) -> Side:
        value = self.get(key)
        if value not in _SIDES or type(value) is not str:
            raise _malformed(f"{self.what}.{key} must be buy or sell: {value!r}")
        return Side(value)

    def price(self, key: str) -> int:
        value = self.get(key)
        if type(value) is not str:
            raise _malformed(f"{self.what}.{key} must be a decimal string: {value!r}")
        try:
            return _text_to_price(value)
        except PriceError as exc:
            raise _malformed(f"{self.what}.{key}: {exc}") from None

    def opt_price(self, key: str) -> int | None:
        return None if self.get(key) is None else self.price(key)

    def array(self, key: str) -> list[Any]:
        value = self.get(key)
        if type(value) is not list:
            raise _malformed(f"{self.what}.{key} must be an array")
        return value


def _level_from(f: _Fields, symbol: str) -> LevelDelta:
    return LevelDelta(
        symbol,
        f.integer("seq"),
        f.integer("engine_seq"),
        f.integer("ts"),
        f.side("side"),
        f.price("price"),
        f.integer("qty"),
        f.integer("orders"),
    )


def _trade_from(f: _Fields, symbol: str) -> TradeDelta:
    return TradeDelta(
        symbol,
        f.integer("seq"),
        f.integer("engine_seq"),
        f.integer("ts"),
        f.price("price"),
        f.integer("qty"),
        None if f.get("aggressor") is None else f.side("aggressor"),
        f.integer("trade_id"),
    )


def _level_views(items: list[Any], what: str) -> tuple[LevelView, ...]:
    out = []
    for item in items:
        f = _Fields(item, what)
        out.append(LevelView(f.price("price"), f.integer("qty"), f.integer("orders")))
    return tuple(out)


def _level_fast(obj: dict[str, Any]) -> LevelDelta | None:
    """A well-formed level object, checked in one go (None: let the careful path explain)."""
    get = obj.get
    symbol, seq, engine_seq, ts = get("symbol"), get("seq"), get("engine_seq"), get("ts")
    word, price, qty, orders = get("side"), get("price"), get("qty"), get("orders")
    side = _WORD_SIDE.get(word) if type(word) is str else None
    if (
        type(seq) is type(engine_seq) is type(ts) is type(qty) is type(orders) is int
        and min(seq, engine_seq, ts, qty, orders) >= 0
        and side is not None
        and type(price) is str
        and type(symbol) is str
        and 0 < len(symbol) <= 8
    ):
        try:
            return LevelDelta(symbol, seq, engine_seq, ts, side, _text_to_price(price), qty, orders)
        except PriceError:
            return None
    return None


def message_from_dict(obj: object) -> Message:
    """The message a JSON object describes; ``WireError`` if it describes none."""
    if type(obj) is dict and obj.get("type") == "level" and len(obj) == 9:
        level = _level_fast(obj)
        if level is not None:
            return level
    f = _Fields(obj, "message")
    kind = f.get("type")
    if kind == "level":
        return _level_from(f, _symbol(f.text("symbol")))
    if kind == "trade":
        return _trade_from(f, _symbol(f.text("symbol")))
    if kind == "snapshot":
        return BookSnapshot(
            _symbol(f.text("symbol")),
            f.integer("seq"),
            f.integer("engine_seq"),
            _level_views(f.array("bids"), "bid"),
            _level_views(f.array("asks"), "ask"),
            f.opt_integer("depth"),
        )
    if kind == "batch":
        symbol = _symbol(f.text("symbol"))
        return ConflatedBatch(
            symbol,
            f.integer("first_seq"),
            f.integer("last_seq"),
            tuple(_level_from(_Fields(e, "level"), symbol) for e in f.array("levels")),
            tuple(_trade_from(_Fields(e, "trade"), symbol) for e in f.array("trades")),
            f.integer("dropped_trades"),
        )
    if kind == "top":
        return TopOfBook(
            _symbol(f.text("symbol")),
            f.integer("seq"),
            f.integer("engine_seq"),
            f.integer("ts"),
            f.opt_price("bid_price"),
            f.integer("bid_qty"),
            f.opt_price("ask_price"),
            f.integer("ask_qty"),
        )
    raise _malformed(f"unknown type {kind!r}")


def decode_json(text: str | bytes) -> Message:
    """One JSON-encoded message."""
    try:
        obj = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise _malformed(f"not JSON ({exc})") from None
    return message_from_dict(obj)


# -- binary -------------------------------------------------------------------

_LEVEL = struct.Struct(">cHIQQIQI")
_TRADE = struct.Struct(">cHIQQIIcQ")
_SNAPSHOT = struct.Struct(">cH8sIQIHH")
_SNAP_LEVEL = struct.Struct(">IQI")
_BATCH = struct.Struct(">cHIIIII")
_TOP = struct.Struct(">cHIQQIQIQ")
_DIRECTORY = struct.Struct(">cH8s")
_FULL_DEPTH = 0xFFFFFFFF
_SIDE_BYTE = {_BUY: b"B", _SELL: b"S"}
_BYTE_SIDE = {b"B": _BUY, b"S": _SELL}
_AGGRESSOR_BYTE = {_BUY: b"B", _SELL: b"S", None: b"N"}
_BYTE_AGGRESSOR = {b"B": _BUY, b"S": _SELL, b"N": None}


class BinaryCodec:
    """The binary form, with the symbol directory of one stream (see the module table).

    An encoder assigns locate codes 1, 2, ... to symbols in the order it meets
    them (or in the order given); a decoder learns them from directory records
    and snapshots, and refuses a record whose locate it has not learnt.
    """

    __slots__ = ("_locates", "_symbols")

    def __init__(self, symbols: Iterable[str] = ()) -> None:
        self._locates: dict[str, int] = {}
        self._symbols: dict[int, str] = {}
        for symbol in symbols:
            self.locate(symbol)

    def locate(self, symbol: str) -> int:
        """The locate code of ``symbol``, assigning the next one if it is new."""
        code = self._locates.get(symbol)
        if code is None:
            code = len(self._locates) + 1
            if code > 0xFFFF:
                raise WireError(RejectCode.INVALID_FIELD, "more than 65,535 symbols")
            self._learn(code, symbol)
        return code

    def _learn(self, code: int, symbol: str) -> None:
        known = self._symbols.get(code)
        if known is not None and known != symbol:
            raise _malformed(f"locate {code} is {known}, not {symbol}")
        self._symbols[code] = symbol
        self._locates[symbol] = code

    def directory(self, symbol: str) -> bytes:
        """The ``R`` record announcing ``symbol``'s locate code."""
        return _DIRECTORY.pack(b"R", self.locate(symbol), _symbol_bytes(symbol))

    # -- encoding --------------------------------------------------------

    def encode(self, message: Message) -> bytes:
        """One message as a binary record; ``WireError`` if a value exceeds its width."""
        if type(message) is LevelDelta:  # the most common record, in one step
            symbol, seq, engine_seq, ts, side, price, qty, orders = message
            code = self._locates.get(symbol)
            if code is not None:
                try:
                    return _LEVEL.pack(
                        _SIDE_BYTE[side], code, seq, engine_seq, ts, price, qty, orders
                    )
                except struct.error:
                    pass  # out of range: the careful path reports it
        try:
            return self._encode(message)
        except struct.error as exc:
            raise WireError(
                RejectCode.INVALID_FIELD, f"value out of range for the binary form: {exc}"
            ) from None

    def _encode(self, message: Message) -> bytes:
        kind = type(message)
        if kind is LevelDelta:
            return self._level(message)  # type: ignore[arg-type]
        if kind is TradeDelta:
            return self._trade(message)  # type: ignore[arg-type]
        if kind is BookSnapshot:
            s: BookSnapshot = message  # type: ignore[assignment]
            depth = _FULL_DEPTH if s.depth is None else s.depth
            if depth == _FULL_DEPTH and s.depth is not None:
                raise struct.error("depth too large")
            parts = [
                _SNAPSHOT.pack(
                    b"N",
                    self.locate(s.symbol),
                    _symbol_bytes(s.symbol),
                    s.seq,
                    s.engine_seq,
                    depth,
                    len(s.bids),
                    len(s.asks),
                )
            ]
            pack = _SNAP_LEVEL.pack
            parts.extend(pack(*lv) for lv in s.bids)
            parts.extend(pack(*lv) for lv in s.asks)
            return b"".join(parts)
        if kind is ConflatedBatch:
            b: ConflatedBatch = message  # type: ignore[assignment]
            parts = [
                _BATCH.pack(
                    b"C",
                    self.locate(b.symbol),
                    b.first_seq,
                    b.last_seq,
                    b.dropped_trades,
                    len(b.levels),
                    len(b.trades),
                )
            ]
            parts.extend(self._level(d) for d in b.levels)
            parts.extend(self._trade(t) for t in b.trades)
            return b"".join(parts)
        if kind is TopOfBook:
            p: TopOfBook = message  # type: ignore[assignment]
            if p.bid_price == 0 or p.ask_price == 0:
                raise struct.error("a top-of-book price cannot be 0")
            return _TOP.pack(
                b"O",
                self.locate(p.symbol),
                p.seq,
                p.engine_seq,
                p.ts,
                p.bid_price or 0,
                p.bid_qty,
                p.ask_price or 0,
                p.ask_qty,
            )
        raise TypeError(f"not an L2 message: {message!r}")

    def _level(self, d: LevelDelta) -> bytes:
        return _LEVEL.pack(
            _SIDE_BYTE[d.side],
            self._locates.get(d.symbol) or self.locate(d.symbol),
            d.seq,
            d.engine_seq,
            d.ts,
            d.price,
            d.qty,
            d.orders,
        )

    def _trade(self, t: TradeDelta) -> bytes:
        return _TRADE.pack(
            b"T",
            self.locate(t.symbol),
            t.seq,
            t.engine_seq,
            t.ts,
            t.price,
            t.qty,
            _AGGRESSOR_BYTE[t.aggressor],
            t.trade_id,
        )

    # -- decoding --------------------------------------------------------

    def decode(self, data: bytes | bytearray) -> Message | SymbolLocate:
        """Exactly one record."""
        if len(data) == _LEVEL.size and data[:1] in _BYTE_SIDE:  # the most common record
            kind, code, seq, engine_seq, ts, price, qty, orders = _LEVEL.unpack(data)
            symbol = self._symbols.get(code)
            if symbol is not None:
                side = _BYTE_SIDE[kind]
                return LevelDelta(symbol, seq, engine_seq, ts, side, price, qty, orders)
        message, end = self._decode_at(data, 0)
        if end != len(data):
            raise _malformed(f"{len(data) - end} bytes after the record")
        return message

    def decode_all(self, data: bytes | bytearray) -> list[Message | SymbolLocate]:
        """Every record of a frame holding concatenated records."""
        out = []
        offset = 0
        while offset < len(data):
            message, offset = self._decode_at(data, offset)
            out.append(message)
        return out

    def _symbol_of(self, code: int) -> str:
        try:
            return self._symbols[code]
        except KeyError:
            raise _malformed(
                f"unknown locate {code}: no directory record or snapshot yet"
            ) from None

    def _decode_at(
        self, data: bytes | bytearray, offset: int
    ) -> tuple[Message | SymbolLocate, int]:
        try:
            return self._decode_record(data, offset)
        except (struct.error, IndexError) as exc:
            raise _malformed(f"truncated or bad record at byte {offset} ({exc})") from None

    def _decode_record(
        self, data: bytes | bytearray, offset: int
    ) -> tuple[Message | SymbolLocate, int]:
        kind = data[offset : offset + 1]
        if kind == b"B" or kind == b"S":
            return self._level_at(data, offset), offset + _LEVEL.size
        if kind == b"T":
            return self._trade_at(data, offset), offset + _TRADE.size
        if kind == b"N":
            _, code, raw, seq, engine_seq, depth, n_bids, n_asks = _SNAPSHOT.unpack_from(
                data, offset
            )
            symbol = _symbol_text(raw)
            self._learn(code, symbol)
            offset += _SNAPSHOT.size
            size = _SNAP_LEVEL.size
            if len(data) < offset + size * (n_bids + n_asks):
                raise _malformed("snapshot shorter than its level counts")
            unpack = _SNAP_LEVEL.unpack_from
            bids = tuple(LevelView(*unpack(data, offset + i * size)) for i in range(n_bids))
            offset += size * n_bids
            asks = tuple(LevelView(*unpack(data, offset + i * size)) for i in range(n_asks))
            offset += size * n_asks
            snap = BookSnapshot(
                symbol, seq, engine_seq, bids, asks, None if depth == _FULL_DEPTH else depth
            )
            return snap, offset
        if kind == b"C":
            _, code, first, last, dropped, n_levels, n_trades = _BATCH.unpack_from(data, offset)
            symbol = self._symbol_of(code)
            offset += _BATCH.size
            levels = []
            for _ in range(n_levels):
                level = self._level_at(data, offset)
                if level.symbol != symbol:
                    raise _malformed("a batch level of another symbol")
                levels.append(level)
                offset += _LEVEL.size
            trades = []
            for _ in range(n_trades):
                if data[offset : offset + 1] != b"T":
                    raise _malformed("a batch trade record must start with T")
                trade = self._trade_at(data, offset)
                if trade.symbol != symbol:
                    raise _malformed("a batch trade of another symbol")
                trades.append(trade)
                offset += _TRADE.size
            batch = ConflatedBatch(symbol, first, last, tuple(levels), tuple(trades), dropped)
            return batch, offset
        if kind == b"O":
            _, code, seq, engine_seq, ts, bid, bid_qty, ask, ask_qty = _TOP.unpack_from(
                data, offset
            )
            top = TopOfBook(
                self._symbol_of(code),
                seq,
                engine_seq,
                ts,
                bid or None,
                bid_qty,
                ask or None,
                ask_qty,
            )
            return top, offset + _TOP.size
        if kind == b"R":
            _, code, raw = _DIRECTORY.unpack_from(data, offset)
            symbol = _symbol_text(raw)
            self._learn(code, symbol)
            return SymbolLocate(code, symbol), offset + _DIRECTORY.size
        raise _malformed(f"unknown record type {kind!r} at byte {offset}")

    def _level_at(self, data: bytes | bytearray, offset: int) -> LevelDelta:
        kind, code, seq, engine_seq, ts, price, qty, orders = _LEVEL.unpack_from(data, offset)
        side = _BYTE_SIDE.get(kind)
        if side is None:
            raise _malformed(f"level record type {kind!r}")
        return LevelDelta(self._symbol_of(code), seq, engine_seq, ts, side, price, qty, orders)

    def _trade_at(self, data: bytes | bytearray, offset: int) -> TradeDelta:
        _, code, seq, engine_seq, ts, price, qty, aggressor, trade_id = _TRADE.unpack_from(
            data, offset
        )
        if aggressor not in _BYTE_AGGRESSOR:
            raise _malformed(f"aggressor byte {aggressor!r}")
        side = _BYTE_AGGRESSOR[aggressor]
        return TradeDelta(self._symbol_of(code), seq, engine_seq, ts, price, qty, side, trade_id)


def _symbol_bytes(symbol: str) -> bytes:
    raw = symbol.encode("ascii", "strict")
    if not raw or len(raw) > 8 or b" " in raw:
        raise WireError(RejectCode.INVALID_SYMBOL, f"symbol must be 1-8 characters: {symbol!r}")
    return raw.ljust(8, b" ")


def _symbol_text(raw: bytes | bytearray) -> str:
    try:
        text = raw.decode("ascii").rstrip(" ")
    except UnicodeDecodeError:
        raise _malformed("symbol is not ASCII") from None
    if not text or " " in text:
        raise _malformed(f"bad symbol field {raw!r}")
    return text
