"""Nasdaq TotalView-ITCH 5.0 messages: encode and decode, byte for byte.

Every message starts with the same 11-byte header: message type (1 byte),
stock locate (2), tracking number (2) and a 6-byte timestamp in nanoseconds
since midnight (New York time). Integers are unsigned big-endian, ``Price(4)``
is an integer in 1/10,000 of a dollar (lob's own price unit), ``Alpha`` fields
are ASCII, left-justified and right-padded with spaces. Each message type has
one fixed length; the table ``MESSAGE_SIZES`` holds them.

Messages are named tuples whose fields follow the specification's order. In
Python, alpha and one-character fields are ``str`` (trailing spaces removed
on decode), every number is ``int``. The codec is pure: bytes in, tuples out.

Errors: ``decode`` raises ``ItchDecodeError`` and ``encode`` raises
``ItchEncodeError``; both subclass ``ItchError`` (a ``ValueError``) and carry a
stable ``code``. Nothing else escapes either function, whatever the input.

For every byte string ``b`` that decodes, ``encode(decode(b)) == b``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any, Final, NamedTuple

from mypy_extensions import mypyc_attr

__all__ = [
    "MESSAGE_SIZES",
    "AddOrder",
    "CrossTrade",
    "ItchDecodeError",
    "ItchEncodeError",
    "ItchError",
    "LuldAuctionCollar",
    "Message",
    "Noii",
    "NonCrossTrade",
    "OrderCancel",
    "OrderDelete",
    "OrderExecuted",
    "OrderExecutedWithPrice",
    "OrderReplace",
    "StockDirectory",
    "StockTradingAction",
    "SystemEvent",
    "decode",
    "encode",
    "encode_all",
    "pad_alpha",
]

MAX_TIMESTAMP = (1 << 48) - 1
"""The largest 6-byte timestamp (about 3.26 days of nanoseconds)."""


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class ItchError(ValueError):
    """A message that cannot be encoded or decoded; ``code`` is stable text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class ItchDecodeError(ItchError):
    """Bytes that are not one well-formed ITCH 5.0 message.

    Codes: ``itch_empty`` (no bytes), ``itch_unknown_type`` (a message type lob
    does not decode), ``itch_bad_length`` (not the type's fixed length),
    ``itch_bad_text`` (an alpha or character field that is not ASCII).
    """


@mypyc_attr(native_class=False)  # an ordinary exception class, compiled or not
class ItchEncodeError(ItchError):
    """A message whose fields do not fit the specification.

    Codes: ``itch_bad_field`` (a number out of its field's range, or a text
    field too long or not ASCII), ``itch_unknown_message`` (not an ITCH tuple).
    """


# -- messages (section 1.3 of the specification: the header fields first) ------


class SystemEvent(NamedTuple):
    """S: a market-wide event (event code O, S, Q, M, E, C)."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    event_code: str

    @property
    def TYPE(self) -> str:
        return "S"


class StockDirectory(NamedTuple):
    """R: one security traded today, with the stock locate code the day uses for it."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    stock: str
    market_category: str
    financial_status_indicator: str
    round_lot_size: int
    round_lots_only: str
    issue_classification: str
    issue_sub_type: str
    authenticity: str
    short_sale_threshold_indicator: str
    ipo_flag: str
    luld_reference_price_tier: str
    etp_flag: str
    etp_leverage_factor: int
    inverse_indicator: str

    @property
    def TYPE(self) -> str:
        return "R"


class StockTradingAction(NamedTuple):
    """H: a security's trading state (H halted, P paused, Q quotation only, T trading)."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    stock: str
    trading_state: str
    reserved: str
    reason: str

    @property
    def TYPE(self) -> str:
        return "H"


class AddOrder(NamedTuple):
    """A: a new displayed order now rests in the book."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    order_ref: int
    side: str
    shares: int
    stock: str
    price: int

    @property
    def TYPE(self) -> str:
        return "A"


class OrderExecuted(NamedTuple):
    """E: part or all of a resting order executed at its own price."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    order_ref: int
    executed_shares: int
    match_number: int

    @property
    def TYPE(self) -> str:
        return "E"


class OrderExecutedWithPrice(NamedTuple):
    """C: a resting order executed at a price other than its own."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    order_ref: int
    executed_shares: int
    match_number: int
    printable: str
    execution_price: int

    @property
    def TYPE(self) -> str:
        return "C"


class OrderCancel(NamedTuple):
    """X: some shares of a resting order were cancelled; it keeps its place."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    order_ref: int
    cancelled_shares: int

    @property
    def TYPE(self) -> str:
        return "X"


class OrderDelete(NamedTuple):
    """D: a resting order left the book."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    order_ref: int

    @property
    def TYPE(self) -> str:
        return "D"


class OrderReplace(NamedTuple):
    """U: a resting order was replaced by a new one (new reference, back of the queue)."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    original_order_ref: int
    new_order_ref: int
    shares: int
    price: int

    @property
    def TYPE(self) -> str:
        return "U"


class NonCrossTrade(NamedTuple):
    """P: an execution against a non-displayed order (no book change)."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    order_ref: int
    side: str
    shares: int
    stock: str
    price: int
    match_number: int

    @property
    def TYPE(self) -> str:
        return "P"


class CrossTrade(NamedTuple):
    """Q: the bulk print of an opening, closing, halt or intraday cross."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    shares: int
    stock: str
    cross_price: int
    match_number: int
    cross_type: str

    @property
    def TYPE(self) -> str:
        return "Q"


class Noii(NamedTuple):
    """I: net order imbalance indicator ahead of a cross."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    paired_shares: int
    imbalance_shares: int
    imbalance_direction: str
    stock: str
    far_price: int
    near_price: int
    current_reference_price: int
    cross_type: str
    price_variation_indicator: str

    @property
    def TYPE(self) -> str:
        return "I"


class LuldAuctionCollar(NamedTuple):
    """J: the collar of a limit-up/limit-down reopening auction."""

    stock_locate: int
    tracking_number: int
    timestamp: int
    stock: str
    auction_collar_reference_price: int
    upper_auction_collar_price: int
    lower_auction_collar_price: int
    auction_collar_extension: int

    @property
    def TYPE(self) -> str:
        return "J"


Message = (
    SystemEvent
    | StockDirectory
    | StockTradingAction
    | AddOrder
    | OrderExecuted
    | OrderExecutedWithPrice
    | OrderCancel
    | OrderDelete
    | OrderReplace
    | NonCrossTrade
    | CrossTrade
    | Noii
    | LuldAuctionCollar
)

# ``TYPE`` is spelled as a property above so type checkers see a constant, not a
# tuple field; at run time it becomes a plain class attribute (``AddOrder.TYPE``).
# The getter is called on an empty tuple: it reads nothing, and compiled, it checks
# that it is given a tuple.
for _message in (
    SystemEvent,
    StockDirectory,
    StockTradingAction,
    AddOrder,
    OrderExecuted,
    OrderExecutedWithPrice,
    OrderCancel,
    OrderDelete,
    OrderReplace,
    NonCrossTrade,
    CrossTrade,
    Noii,
    LuldAuctionCollar,
):
    setattr(_message, "TYPE", _message.TYPE.fget(()))  # type: ignore[union-attr]  # noqa: B010
del _message
"""Every ITCH message lob encodes and decodes."""

# -- layouts -------------------------------------------------------------------
# The 6-byte timestamp is packed as a 2-byte high part and a 4-byte low part.
# Field kinds: "i" integer, "t" the timestamp (two struct items), "c" one
# character, "aN" an alpha of N bytes.

_HEAD = ">cHHHI"
_HEAD_KINDS = ("i", "i", "t")

_LAYOUTS: dict[type, tuple[str, tuple[str, ...]]] = {
    SystemEvent: ("c", ("c",)),
    StockDirectory: (
        "8sccIcc2scccccIc",
        ("a8", "c", "c", "i", "c", "c", "a2", "c", "c", "c", "c", "c", "i", "c"),
    ),
    StockTradingAction: ("8scc4s", ("a8", "c", "c", "a4")),
    AddOrder: ("QcI8sI", ("i", "c", "i", "a8", "i")),
    OrderExecuted: ("QIQ", ("i", "i", "i")),
    OrderExecutedWithPrice: ("QIQcI", ("i", "i", "i", "c", "i")),
    OrderCancel: ("QI", ("i", "i")),
    OrderDelete: ("Q", ("i",)),
    OrderReplace: ("QQII", ("i", "i", "i", "i")),
    NonCrossTrade: ("QcI8sIQ", ("i", "c", "i", "a8", "i", "i")),
    CrossTrade: ("Q8sIQc", ("i", "a8", "i", "i", "c")),
    Noii: ("QQc8sIIIcc", ("i", "i", "c", "a8", "i", "i", "i", "c", "c")),
    LuldAuctionCollar: ("8sIIII", ("a8", "i", "i", "i", "i")),
}


class _Codec(NamedTuple):
    cls: type
    struct: struct.Struct
    kinds: tuple[str, ...]


_BY_CLASS: dict[type, _Codec] = {}
_BY_TYPE: dict[int, _Codec] = {}
for _cls, (_body, _kinds) in _LAYOUTS.items():
    _codec = _Codec(_cls, struct.Struct(_HEAD + _body), _HEAD_KINDS + _kinds)
    _BY_CLASS[_cls] = _codec
    _BY_TYPE[ord(_cls.TYPE)] = _codec  # type: ignore[attr-defined]

MESSAGE_SIZES: dict[str, int] = {c.cls.TYPE: c.struct.size for c in _BY_CLASS.values()}  # type: ignore[attr-defined]
"""The fixed length in bytes of each message type (A is 36, E is 31, ...)."""

_PADDED: Final[dict[tuple[str, int], bytes]] = {}
_STOCK8: Final[dict[str, bytes]] = {}  # the hot case of _PADDED: stock symbols


def pad_alpha(text: str, width: int) -> bytes:
    """``text`` as an ITCH alpha field: ASCII, right-padded with spaces to ``width``."""
    key = (text, width)
    padded = _PADDED.get(key)
    if padded is not None:
        return padded
    if type(text) is not str:
        raise ItchEncodeError("itch_bad_field", f"an alpha field must be text: {text!r}")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ItchEncodeError("itch_bad_field", f"not ASCII: {text!r}") from None
    if len(raw) > width:
        raise ItchEncodeError("itch_bad_field", f"{text!r} is longer than {width} characters")
    padded = raw.ljust(width, b" ")
    if len(_PADDED) < 65_536:
        _PADDED[key] = padded
        if width == 8:
            _STOCK8[text] = padded
    return padded


def _char(value: str) -> bytes:
    if type(value) is not str or len(value) != 1:
        raise ItchEncodeError("itch_bad_field", f"a character field needs one character: {value!r}")
    try:
        return value.encode("ascii")
    except UnicodeEncodeError:
        raise ItchEncodeError("itch_bad_field", f"not ASCII: {value!r}") from None


# -- the hot path: the book messages, one function each ------------------------

# Final globals are read directly by compiled code; others cost a dict lookup (lob.native).
_A: Final = _BY_CLASS[AddOrder].struct
_E: Final = _BY_CLASS[OrderExecuted].struct
_X: Final = _BY_CLASS[OrderCancel].struct
_D: Final = _BY_CLASS[OrderDelete].struct
_U: Final = _BY_CLASS[OrderReplace].struct
_SIDE: Final = {"B": b"B", "S": b"S"}


def _encode_add(m: AddOrder) -> bytes:
    locate, tracking, ts, ref, side, shares, stock, price = m
    return _A.pack(
        b"A",
        locate,
        tracking,
        ts >> 32,
        ts & 0xFFFFFFFF,
        ref,
        _SIDE.get(side) or _char(side),
        shares,
        _STOCK8.get(stock) or pad_alpha(stock, 8),
        price,
    )


def _encode_executed(m: OrderExecuted) -> bytes:
    locate, tracking, ts, ref, shares, match = m
    return _E.pack(b"E", locate, tracking, ts >> 32, ts & 0xFFFFFFFF, ref, shares, match)


def _encode_cancel(m: OrderCancel) -> bytes:
    locate, tracking, ts, ref, shares = m
    return _X.pack(b"X", locate, tracking, ts >> 32, ts & 0xFFFFFFFF, ref, shares)


def _encode_delete(m: OrderDelete) -> bytes:
    locate, tracking, ts, ref = m
    return _D.pack(b"D", locate, tracking, ts >> 32, ts & 0xFFFFFFFF, ref)


def _encode_replace(m: OrderReplace) -> bytes:
    locate, tracking, ts, old, new, shares, price = m
    return _U.pack(b"U", locate, tracking, ts >> 32, ts & 0xFFFFFFFF, old, new, shares, price)


def _encode_generic(m: Message) -> bytes:
    codec = _BY_CLASS[type(m)]
    args: list[object] = [m.TYPE.encode()]
    for kind, value in zip(codec.kinds, m, strict=True):
        if kind == "i":
            args.append(value)
        elif kind == "t":
            if type(value) is not int or not 0 <= value <= MAX_TIMESTAMP:
                raise ItchEncodeError("itch_bad_field", f"timestamp out of range: {value!r}")
            args.append(value >> 32)
            args.append(value & 0xFFFFFFFF)
        elif not isinstance(value, str):
            raise ItchEncodeError("itch_bad_field", f"text field is not a string: {value!r}")
        elif kind == "c":
            args.append(_char(value))
        else:
            args.append(pad_alpha(value, int(kind[1:])))
    return codec.struct.pack(*args)


_FAST: Final[dict[type, Callable[[Any], bytes]]] = {
    AddOrder: _encode_add,
    OrderExecuted: _encode_executed,
    OrderCancel: _encode_cancel,
    OrderDelete: _encode_delete,
    OrderReplace: _encode_replace,
}


def encode(message: Message) -> bytes:
    """The message's bytes (without a length prefix)."""
    fast = _FAST.get(type(message))
    try:
        if fast is not None:
            # A timestamp out of 0..2**48-1 makes the high 16-bit part fail to pack.
            return fast(message)
        if type(message) not in _BY_CLASS:
            raise ItchEncodeError("itch_unknown_message", f"not an ITCH message: {message!r}")
        return _encode_generic(message)
    except ItchEncodeError:
        raise
    except (struct.error, TypeError, AttributeError, ValueError) as exc:
        raise ItchEncodeError("itch_bad_field", f"{type(message).__name__}: {exc}") from None


def encode_all(messages: Iterable[Message]) -> list[bytes]:
    """``[encode(m) for m in messages]``, faster for the book messages (A, E, X, D, U)."""
    batch = messages if type(messages) is list else list(messages)
    out: list[bytes] = []
    append = out.append
    fast = _FAST
    try:
        for m in batch:
            append(fast[type(m)](m))
    except Exception:  # another type, or a bad field: encode() says which, precisely
        return [encode(m) for m in batch]
    return out


def decode(data: bytes | bytearray | memoryview) -> Message:
    """The one message that is exactly ``data``."""
    if not data:
        raise ItchDecodeError("itch_empty", "no bytes to decode")
    codec = _BY_TYPE.get(data[0])
    if codec is None:
        raise ItchDecodeError("itch_unknown_type", f"unknown message type {bytes(data[:1])!r}")
    st = codec.struct
    if len(data) != st.size:
        raise ItchDecodeError(
            "itch_bad_length",
            f"message {codec.cls.TYPE} is {st.size} bytes, got {len(data)}",  # type: ignore[attr-defined]
        )
    raw = st.unpack(data)
    values: list[object] = []
    i = 1
    try:
        for kind in codec.kinds:
            value = raw[i]
            if kind == "i":
                values.append(value)
            elif kind == "t":
                values.append((value << 32) | raw[i + 1])
                i += 1
            elif kind == "c":
                values.append(value.decode("ascii"))
            else:
                values.append(value.decode("ascii").rstrip(" "))
            i += 1
    except UnicodeDecodeError:
        raise ItchDecodeError(
            "itch_bad_text",
            f"message {codec.cls.TYPE}: a text field is not ASCII",  # type: ignore[attr-defined]
        ) from None
    return codec.cls(*values)  # type: ignore[no-any-return]
