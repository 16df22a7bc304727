"""The WebSocket gateway: order entry, executions and market data on ``/ws``.

Why the websockets sans-I/O protocol and our own driver: the HTTP server
already owns the socket when an ``Upgrade: websocket`` request arrives on the
REST port, and the gateway needs its own send queue per client to decide, per
subscription, whether to send a delta, conflate it or resync. websockets'
``ServerProtocol`` does the handshake and the framing (masking, fragmentation,
close handshake, size limit, answering pings); this module moves bytes and
implements lob's protocol (docs/protocol-websocket.md).

Backpressure, per client:

1. Every message waits in the client's bounded queue. Matching never waits
   for a client: the sequencer's listener only appends to queues. Once a
   group-commit batch's acks are queued (the sequencer's ``after_ack``), or
   else at the end of the event loop's turn, one call (``Gateway._pump``)
   writes each client's queue with one call, with frame headers made by
   ``lob.server.wsframe`` and the shared payloads uncopied; a writer task per
   client takes over only while its socket is backed up. Market data comes
   once per batch of inputs (``lob.server.marketdata``), and market-data
   frames that wait in the queue together leave as one frame.
2. When the queue holds ``ws_queue`` messages, market data for that client is
   no longer queued. A full-book subscription only remembers its last seq
   (nothing per missed update); when the queue has drained it gets one
   conflated batch from there to now, built from the symbol's ring
   (``MarketData.catch_up_frame``, shared by clients that stopped at the same
   seq). The book it gives is exactly the book at that seq. Trades, depth and
   top subscriptions keep their pending trades or newest message.
3. If the ring no longer reaches back to the client's seq, or the batch would
   exceed ``ws_conflate_levels`` levels and trades, the client gets a fresh
   snapshot instead (a resync).
4. A client behind for more than ``ws_slow_seconds``, or whose queue of
   messages that are never conflated (acks, executions) reaches
   ``ws_queue_hard``, is disconnected (close code 1008, reason ``too slow``).

No update is ever skipped: every book message a client gets carries ``prev``
(the seq it applies on) and ``seq``, and ``prev`` is always the ``seq`` of the
client's previous book message for that subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final, cast

import msgpack  # type: ignore[import-untyped]
from websockets.exceptions import InvalidState
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from lob.engine.events import Event
from lob.feed.conflation import ConflatedBatch
from lob.feed.deltas import TradeDelta
from lob.server.accounts import Accounts
from lob.server.auth import KeyStore
from lob.server.config import Limits
from lob.server.errors import INTERNAL, RATE_LIMITED, UNAVAILABLE, ApiError
from lob.server.exchange import Exchange
from lob.server.http import HttpRequest
from lob.server.latency import LatencyHistogram
from lob.server.marketdata import MarketFrame, Update, encode_messages
from lob.server.orders import (
    ACK_FAILED,
    ack_or_error,
    parse_cancel,
    parse_new,
    parse_replace,
    private_event,
)
from lob.server.sequencer import SequencerClosed
from lob.server.trading import STATE_CHANNELS
from lob.server.wsframe import BINARY, TEXT, header
from lob.server.wsread import PING, PONG, FrameReader

__all__ = ["CHANNELS", "Gateway", "Session"]

log = logging.getLogger("lob.server")

CHANNELS: Final = ("book", "trades", "top", "executions", *STATE_CHANNELS)
ENCODINGS: Final = ("msgpack", "json")
ACK_FORMS: Final = ("full", "compact")
"""``full``: the order as the command left it and the account's events; ``compact``:
status, quantities and the order's fills (``lob.server.orders.compact_ack``)."""
MAX_DEPTH: Final = 1_000
MAX_PENDING_TRADES: Final = 1_000
MAX_BATCH: Final = 1_000
"""Orders in one ``batch`` message."""
JOIN_BYTES: Final = 64 * 1024
"""Queued market-data frames are joined into one WebSocket frame up to about this size."""
WRITE_HIGH: Final = 64 * 1024
"""Bytes waiting in a connection's transport beyond which sending waits for it to drain."""
_dumps: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_pack: Final[Callable[[Any], bytes]] = msgpack.Packer(use_bin_type=True).pack
"""``msgpack.packb`` without building a packer per message (same bytes; event loop only)."""


class Subscription:
    """One (symbol, channel) a session follows, and its conflation state."""

    __slots__ = (
        "behind",
        "channel",
        "depth",
        "dropped",
        "last_seq",
        "latest",
        "session",
        "symbol",
        "trades",
    )

    def __init__(self, session: Session, symbol: str, channel: str, depth: int | None) -> None:
        self.session = session
        self.symbol = symbol
        self.channel = channel
        self.depth = depth
        self.last_seq = 0
        """The per-symbol seq of the last message queued for this subscription."""
        self.behind = False
        self.trades: list[TradeDelta] = []
        self.dropped = 0
        self.latest: Update | None = None

    def offer(self, update: Update) -> None:
        self.session.offer(self, update)


class _Bucket:
    """Token bucket: ``rate`` messages a second, ``burst`` at once."""

    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.last = time.monotonic()

    def take(self, n: int = 1) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False


class Gateway:
    """Accepts upgraded connections and keeps the sessions and their statistics."""

    def __init__(self, exchange: Exchange, keys: KeyStore, limits: Limits) -> None:
        self.exchange = exchange
        self.keys = keys
        self.limits = limits
        self.sessions: set[Session] = set()
        self.dirty: list[Session] = []
        """Sessions with queued messages, sent together at the end of the loop's turn."""
        self._pumping = False
        self.latency = LatencyHistogram()
        """Order read -> its answer handed to the socket (``lob.server.latency``)."""
        self._answered: list[tuple[int, int]] = []
        """(monotonic ns the orders were read, how many) answered in this turn."""
        self.counters = {
            "ws_connections_total": 0,
            "ws_messages_in_total": 0,
            "ws_messages_out_total": 0,
            "ws_conflated_total": 0,
            "ws_resyncs_total": 0,
            "ws_slow_disconnects_total": 0,
            "ws_rate_limited_total": 0,
        }

    def stats(self) -> dict[str, int]:
        return {**self.counters, "ws_connections": len(self.sessions)}

    def kick(self, session: Session) -> None:
        """Have ``session``'s queue sent at the end of this turn of the event loop."""
        if session.kicked:
            return
        session.kicked = True
        self.dirty.append(session)
        if not self._pumping:
            self._pumping = True
            asyncio.get_running_loop().call_soon(self._pump)

    def answered(self, read_ns: int, orders: int) -> None:
        """``orders`` read at ``read_ns`` have their answer queued: their latency is
        taken once this turn's sends are written (``_pump``)."""
        self._answered.append((read_ns, orders))

    def flush(self) -> None:
        """Write what is queued now: the sequencer calls this once a batch's acks are
        queued, so they leave in that turn rather than behind the next reads."""
        if self._pumping:
            self._pump()

    def _pump(self) -> None:
        # One callback writes for every session that has something to send (a
        # batch's market data reaches each subscriber here), instead of waking
        # one writer task per session: with a hundred subscribers the task
        # switches cost more than the writes. Sessions with an answer waiting
        # (acks, errors, executions) are written first, then those with market
        # data only, so a hundred subscribers' writes do not hold up the acks.
        # Each session's queue still leaves in order: on one connection a
        # batch's market data comes before its acks.
        self._pumping = False
        dirty, self.dirty = self.dirty, []
        answering = [s for s in dirty if s.answering]
        rest = [s for s in dirty if not s.answering] if answering else dirty
        self._write(answering)
        if self._answered:
            now = time.monotonic_ns()
            record = self.latency.record
            for read_ns, orders in self._answered:
                record(now - read_ns, orders)
            self._answered.clear()
        self._write(rest)

    @staticmethod
    def _write(sessions: list[Session]) -> None:
        for session in sessions:
            session.kicked = False
            session.answering = False
            try:
                session.pump()
            except Exception:  # one broken connection must not cost the others
                log.exception("WebSocket send failed")
                session.abort()

    async def upgrade(
        self,
        request: HttpRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        trailing: bytes,
    ) -> None:
        """Complete the handshake of an ``Upgrade: websocket`` request and run the session."""
        protocol = ServerProtocol(max_size=self.limits.max_frame)
        # The HTTP driver has parsed the request already; the protocol's own parser
        # must see it too, so it is handed over again in its wire form.
        head = [f"GET {request.target} HTTP/1.1".encode("latin-1")]
        head += [k + b": " + v for k, v in request.raw_headers]
        protocol.receive_data(b"\r\n".join(head) + b"\r\n\r\n")
        parsed = [e for e in protocol.events_received() if isinstance(e, Request)]
        if parsed:
            response = protocol.accept(parsed[0])
        else:
            response = protocol.reject(400, "bad WebSocket handshake\n")
        if request.path.rstrip("/") != "/ws" and response.status_code == 101:
            response = protocol.reject(404, "no WebSocket endpoint here; use /ws\n")
        protocol.send_response(response)
        for chunk in protocol.data_to_send():
            if chunk:
                writer.write(chunk)
        if protocol.state is not State.OPEN:
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            return
        encoding = request.query.get("encoding", "msgpack")
        if encoding not in ENCODINGS:
            encoding = "msgpack"
        session = Session(self, protocol, reader, writer, encoding)
        if request.query.get("acks") == "compact":
            session.acks = "compact"
        account = self.keys.account_for_header(request.headers.get("authorization"))
        if account is not None:
            session.account = account
        self.sessions.add(session)
        self.counters["ws_connections_total"] += 1
        try:
            await session.run(trailing)
        finally:
            self.sessions.discard(session)

    async def close_all(self, reason: str = "server shutting down") -> None:
        sessions = list(self.sessions)
        for session in sessions:
            session.close(CloseCode.GOING_AWAY, reason, flush=True)
        if sessions:
            await asyncio.wait(
                [asyncio.ensure_future(s.finished.wait()) for s in sessions], timeout=3
            )
        for session in list(self.sessions):
            session.abort()


class _OrderReply:
    """The sequencer's receiver for one order message: its ack, built as the order
    was applied, goes out once the order is durable.

    One object rather than three closures and the environment they share:
    fewer objects in flight for the collector's young collections to walk.
    """

    def __init__(self, session: Session, req: Any, op: str, account: str, id: str) -> None:
        self.session = session
        self.req = req
        self.op = op
        self.account = account
        self.id = id
        self.read_ns = session.read_ns
        self.compact = session.acks == "compact"
        self.ack: dict[str, Any] | ApiError | None = None

    def applied(self, events: list[Event]) -> None:
        self.ack = ack_or_error(
            self.op, self.account, self.id, events, self.session.accounts, self.compact
        )

    def done(self, events: list[Event]) -> None:
        session = self.session
        ack = self.ack
        if type(ack) is dict:
            session._reply(ack, self.req)
        elif isinstance(ack, ApiError):
            session._error(ack, self.req, self.op)
        else:  # building the ack failed (logged): the order itself was sequenced
            session._error(ApiError(INTERNAL, ACK_FAILED), self.req, self.op)
        session.gateway.answered(self.read_ns, 1)

    def failed(self, exc: Exception) -> None:
        self.session._error(ApiError(UNAVAILABLE, str(exc)), self.req, self.op)


class _BatchReply:
    """One batch message's answer: a result per entry, sent once the last one is settled.

    Objects and bound methods rather than closures: compiled closures that call
    each other share an environment that refers back to them, a reference cycle
    per batch that only a full collection frees (``lob.server.collector``).
    """

    def __init__(self, session: Session, req: Any, size: int) -> None:
        self.session = session
        self.req = req
        self.compact = session.acks == "compact"
        self.read_ns = session.read_ns
        self.results: list[Any] = [None] * size
        self.waiting = 1
        """The loop over the entries, and each sequenced entry until it is answered."""
        self.sequenced = 0
        """Entries answered after the sequencer applied them."""

    def settle(self) -> None:
        """One more entry answered (or the loop over them done): the last one replies."""
        self.waiting -= 1
        if not self.waiting:
            session = self.session
            session._reply({"type": "batch_ack", "results": self.results}, self.req)
            if self.sequenced:
                session.gateway.answered(self.read_ns, self.sequenced)


class _BatchEntry:
    """The sequencer's receiver for one entry of a batch."""

    def __init__(self, reply: _BatchReply, i: int, op: str, account: str, id: str) -> None:
        self.reply = reply
        self.i = i
        self.op = op
        self.account = account
        self.id = id

    def applied(self, events: list[Event]) -> None:
        reply = self.reply
        accounts = reply.session.accounts
        ack = ack_or_error(self.op, self.account, self.id, events, accounts, reply.compact)
        reply.results[self.i] = _error_body(self.op, ack) if isinstance(ack, ApiError) else ack

    def done(self, events: list[Event]) -> None:
        reply = self.reply
        reply.sequenced += 1
        if reply.results[self.i] is None:  # building its ack failed (logged)
            reply.results[self.i] = _error_body(self.op, ApiError(INTERNAL, ACK_FAILED))
        reply.settle()

    def failed(self, exc: Exception) -> None:
        reply = self.reply
        reply.results[self.i] = _error_body(self.op, ApiError(UNAVAILABLE, str(exc)))
        reply.settle()


class Session:
    """One WebSocket client."""

    def __init__(
        self,
        gateway: Gateway,
        protocol: ServerProtocol,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        encoding: str,
    ) -> None:
        self.gateway = gateway
        self.exchange = ex = gateway.exchange
        self.limits = gateway.limits
        self.counters = gateway.counters
        # What every order needs, read once here: the exchange and the limits are
        # interpreted objects, whose fields compiled code would look up by name.
        self.reference: dict[str, int | None] = ex.reference
        self.accounts: Accounts = ex.accounts
        self.max_open: int = self.limits.max_open_orders
        self.protocol = protocol
        self.reader = reader
        self.writer = writer
        self.encoding = encoding
        self.account: str | None = None
        self.acks = "full"
        """The form of order acknowledgements (``ACK_FORMS``)."""
        self.subs: dict[tuple[str, str], Subscription] = {}
        self.day_subs: dict[tuple[str, str], Any] = {}
        """(symbol, channel) of the ``state`` and ``imbalance`` channels -> callback."""
        self.queue: deque[bytes] = deque()
        self.lagging: set[Subscription] = set()
        self.behind_since: float | None = None
        self.wakeup = asyncio.Event()
        """Wakes the writer task, which sends only when the socket is backed up."""
        self.kicked = False
        """Queued in the gateway's list of sessions to send for."""
        self.frames: FrameReader | None = FrameReader(self.limits.max_frame)
        """Reads the client's plain frames until one is not (then the protocol object)."""
        self.fragments: list[bytes] | None = None
        """The fragments of a message received so far (the protocol object's frames)."""
        self.fragmented_text = False
        self.answering = False
        """An answer (ack, error, execution) waits in the queue: sent before market data."""
        self.finished = asyncio.Event()
        self.ended: asyncio.Future[None] | None = None
        """Done when nothing more will be read (the client closed, the connection is gone):
        made when the session runs."""
        self.closing = False
        self.bucket = _Bucket(self.limits.ws_rate, self.limits.ws_burst)
        self.violations = 0
        self.last_heard = time.monotonic()
        self.read_ns = 0
        """When the bytes being handled now were read (monotonic ns)."""
        self._executions = False
        self.draining = False
        """The writer task is waiting for the socket to drain: it sends, not ``pump``."""
        transport = writer.transport
        transport.set_write_buffer_limits(high=WRITE_HIGH)
        sock = writer.get_extra_info("socket")
        if self.limits.ws_send_buffer is not None and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.limits.ws_send_buffer)

    # -- running -------------------------------------------------------------

    async def run(self, trailing: bytes) -> None:
        ended = self.ended = asyncio.get_running_loop().create_future()
        writer_task = asyncio.create_task(self._writer())
        timer_task = asyncio.create_task(self._timer())
        try:
            # What the HTTP driver read past the handshake, then what its stream
            # reader holds unread; after that the transport hands bytes to the
            # session directly (``_Inbound``).
            unread = getattr(self.reader, "_buffer", None)
            if unread:
                trailing += bytes(unread)
                unread.clear()
            if trailing:
                self._receive(trailing)
            if not self.over:
                transport = cast(asyncio.Transport, self.writer.transport)
                inbound = _Inbound(self, transport.get_protocol())
                transport.set_protocol(cast(asyncio.BaseProtocol, inbound))
                if not transport.is_reading():  # the stream reader had paused it
                    transport.resume_reading()
                await ended
        finally:
            self._teardown()
            writer_task.cancel()
            timer_task.cancel()
            for task in (writer_task, timer_task):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self.protocol.state is not State.CLOSED and not self.writer.is_closing():
                # Give the close frame a moment to leave, then drop the socket.
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await self.writer.drain()
            self.writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await self.writer.wait_closed()
            self.finished.set()

    @property
    def over(self) -> bool:
        """Nothing more is to be read: closing, or the closing handshake is done."""
        return self.closing or self.protocol.state is State.CLOSED

    def _received(self, data: bytes) -> None:
        """Bytes off the socket (from ``_Inbound``): handle them; the session ends once
        nothing more is to be read."""
        try:
            self._receive(data)
        except Exception:  # a bug must cost this connection, not the event loop's reader
            log.exception("WebSocket input failed")
            self.abort()
        if self.over:
            self._end()

    def _eof(self) -> None:
        self.protocol.receive_eof()
        self._transmit()
        self._end()

    def _end(self) -> None:
        ended = self.ended
        if ended is not None and not ended.done():
            ended.set_result(None)

    def _teardown(self) -> None:
        market = self.exchange.market
        for sub in self.subs.values():
            if sub.channel != "executions":
                market.unsubscribe(sub)
        self.subs.clear()
        trading = self.exchange.trading
        for (symbol, channel), callback in self.day_subs.items():
            trading.unsubscribe(symbol, channel, callback)
        self.day_subs.clear()
        self.lagging.clear()
        if self._executions and self.account is not None:
            self.exchange.private.remove(self.account, self._on_private)
            self._executions = False

    def _transmit(self) -> None:
        # One write (one send system call) for every frame serialised since the
        # last one, instead of one per frame: a batch's acks leave together.
        writer = self.writer
        out: list[bytes] = []
        for chunk in self.protocol.data_to_send():
            if chunk:
                out.append(chunk)
                continue
            if out:
                writer.write(b"".join(out))
                out = []
            if writer.can_write_eof() and not writer.is_closing():
                with contextlib.suppress(OSError):
                    writer.write_eof()
        if out:
            writer.write(out[0] if len(out) == 1 else b"".join(out))

    def close(self, code: int, reason: str, flush: bool = False) -> None:
        """Start the closing handshake (idempotent); ``flush`` sends what is queued first."""
        if self.closing:
            return
        self.closing = True
        with contextlib.suppress(InvalidState, Exception):
            if flush:  # e.g. acks of the last commands before a shutdown
                send = (
                    self.protocol.send_text
                    if self.encoding == "json"
                    else self.protocol.send_binary
                )
                while self.queue:
                    send(self.queue.popleft())
            self.protocol.send_close(code, reason)
            self._transmit()
        self.wakeup.set()

    def abort(self) -> None:
        self.closing = True
        self.writer.transport.abort()

    # -- receiving -----------------------------------------------------------

    def _receive(self, data: bytes) -> None:
        self.read_ns = time.monotonic_ns()
        self.last_heard = time.monotonic()
        reader = self.frames
        if reader is not None:  # plain frames: lob.server.wsread
            frames, rest = reader.feed(data)
            pinged = False
            for kind, payload in frames:
                if self.closing:
                    break
                if kind == PING:
                    self.protocol.send_pong(payload)
                    pinged = True
                elif kind != PONG:
                    self._message(kind == TEXT, payload)
            if pinged:
                self._transmit()
            if rest is None or self.closing:
                return
            self.frames = None  # the protocol object reads the rest of this connection
            data = rest
        self.protocol.receive_data(data)
        for frame in self.protocol.events_received():
            if self.closing:
                break
            if not isinstance(frame, Frame):
                continue
            opcode = frame.opcode
            if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
                if frame.fin:
                    self._message(opcode is Opcode.TEXT, frame.data)
                else:  # the first fragment of a message (the protocol checks the rest)
                    self.fragments = [bytes(frame.data)]
                    self.fragmented_text = opcode is Opcode.TEXT
            elif opcode is Opcode.CONT and self.fragments is not None:
                self.fragments.append(bytes(frame.data))
                if frame.fin:
                    whole = b"".join(self.fragments)
                    self.fragments = None
                    self._message(self.fragmented_text, whole)
        self._transmit()
        if self.protocol.close_expected() and not self.closing:
            self.closing = True

    def _message(self, text: bool, data: Any) -> None:
        self.counters["ws_messages_in_total"] += 1
        req = None
        try:
            if text:
                msg = json.loads(data, parse_constant=_no_constant)
            else:
                msg = msgpack.unpackb(data, raw=False, strict_map_key=True)
            if not isinstance(msg, dict):
                raise ApiError("malformed", "a message must be an object")
            req = msg.pop("req", None)
            if not _valid_req(req):
                req = None
            if not self.bucket.take():
                self.counters["ws_rate_limited_total"] += 1
                self.violations += 1
                if self.violations > self.limits.ws_burst:
                    self.close(CloseCode.POLICY_VIOLATION, "rate limit exceeded")
                    return
                raise ApiError(RATE_LIMITED, "too many messages: this one was not processed")
            self._dispatch(msg, req)
        except ApiError as exc:
            self._error(exc, req, None)
        except (ValueError, TypeError, RecursionError, msgpack.UnpackException) as exc:
            self._error(ApiError("malformed", f"not a valid message: {exc}"), req, None)
        except Exception:  # a bug must cost one message, not the connection
            log.exception("WebSocket message failed")
            self._error(ApiError("internal", "internal error; nothing was changed"), req, None)

    def _error(self, exc: ApiError, req: Any, op: str | None) -> None:
        body = _error_body(op, exc)
        if req is not None:
            body["req"] = req
        self.send(body)

    def _dispatch(self, msg: dict[str, Any], req: Any) -> None:
        op = msg.pop("op", None)
        try:
            if op in ("new", "cancel", "replace"):
                self._order(op, msg, req)
            elif op == "batch":
                self._batch(msg, req)
            elif op == "subscribe":
                self._subscribe(msg, req)
            elif op == "unsubscribe":
                self._unsubscribe(msg, req)
            elif op == "auth":
                self._auth(msg, req)
            elif op == "ping":
                self._reply({"type": "pong", "ts": time.time_ns()}, req)
            elif op == "hello":
                self._hello(msg, req)
            else:
                raise ApiError(
                    "invalid_op",
                    "op must be one of new, cancel, replace, batch, subscribe, unsubscribe,"
                    f" auth, ping, hello: {op!r}",
                )
        except ApiError as exc:
            self._error(exc, req, op if isinstance(op, str) else None)

    def _hello(self, msg: dict[str, Any], req: Any) -> None:
        """Choose what the server sends: ``encoding`` and/or the form of ``acks``."""
        extra = sorted(str(k) for k in msg if k not in ("encoding", "acks"))
        if extra or not msg:
            raise ApiError("invalid_field", "hello takes encoding and/or acks")
        encoding = msg.get("encoding", self.encoding)
        if encoding not in ENCODINGS:
            raise ApiError("invalid_field", "encoding must be msgpack or json")
        acks = msg.get("acks", self.acks)
        if acks not in ACK_FORMS:
            raise ApiError("invalid_field", "acks must be full or compact")
        self.encoding = encoding
        self.acks = acks
        self._reply({"type": "hello", "encoding": encoding, "acks": acks}, req)

    def _reply(self, body: dict[str, Any], req: Any) -> None:
        if req is not None:
            body["req"] = req
        self.send(body)

    def _auth(self, msg: dict[str, Any], req: Any) -> None:
        key = msg.get("key")
        account = self.gateway.keys.account_for(key if isinstance(key, str) else None)
        if account is None:
            raise ApiError("unauthorized", "not a valid API key")
        if self.account is not None and account != self.account:
            raise ApiError("unauthorized", "this connection is already bound to another account")
        self.account = account
        self._reply({"type": "authenticated", "account": account}, req)

    # -- order entry ---------------------------------------------------------

    def _command(self, op: str, msg: dict[str, Any]) -> Any:
        """The engine command of an order-entry message, or ``ApiError``."""
        account = self.account
        if account is None:
            raise ApiError("unauthorized", "authenticate first: send {op: auth, key: KEY}")
        if op == "new":
            # The reference prices' dict is the traded symbols, without building a set.
            return parse_new(account, msg, self.reference, self.accounts, self.max_open)
        if op == "cancel":
            extra = () if len(msg) == 1 and "id" in msg else sorted(set(msg) - {"id"})
            if extra:
                raise ApiError("invalid_field", f"unknown field(s) for cancel: {', '.join(extra)}")
            return parse_cancel(account, msg.get("id"))
        id = msg.pop("id", None)
        return parse_replace(account, id, msg)

    def _order(self, op: str, msg: dict[str, Any], req: Any) -> None:
        command = self._command(op, msg)
        try:
            self.exchange.sequencer.enqueue(
                command, _OrderReply(self, req, op, command.account, command.id)
            )
        except SequencerClosed as exc:
            raise ApiError(UNAVAILABLE, str(exc)) from None

    def _batch(self, msg: dict[str, Any], req: Any) -> None:
        """Many orders in one message, answered by one message with a result for each.

        Each entry is checked and sequenced on its own, in order, exactly as if
        it had come alone (an entry that fails its checks gets an error in its
        place and changes nothing; the others go on). The answer leaves when the
        last sequenced entry is acknowledged: with ``--fsync batch`` the entries
        share one group commit. Every entry counts against the message rate.
        """
        if self.account is None:
            raise ApiError("unauthorized", "authenticate first: send {op: auth, key: KEY}")
        extra = sorted(str(k) for k in msg if k != "orders")
        if extra:
            raise ApiError("invalid_field", f"unknown field(s) for batch: {', '.join(extra)}")
        orders = msg.get("orders")
        if type(orders) is not list or not 1 <= len(orders) <= MAX_BATCH:
            raise ApiError(
                "invalid_field", f"orders must be a list of 1 to {MAX_BATCH} order messages"
            )
        if len(orders) > 1 and not self.bucket.take(len(orders) - 1):
            self.counters["ws_rate_limited_total"] += 1
            raise ApiError(RATE_LIMITED, "too many messages: no order of this batch was processed")
        self.counters["ws_messages_in_total"] += len(orders) - 1
        account = self.account
        sequencer = self.exchange.sequencer
        reply = _BatchReply(self, req, len(orders))
        results = reply.results
        for i, item in enumerate(orders):
            op = None
            try:
                if type(item) is not dict:
                    raise ApiError("malformed", "each entry of orders must be an object")
                op = item.pop("op", None)  # the entry was unpacked for this message alone
                if op not in ("new", "cancel", "replace"):
                    raise ApiError("invalid_op", f"op must be new, cancel or replace: {op!r}")
                command = self._command(op, item)
            except ApiError as exc:
                results[i] = _error_body(op, exc)
                continue
            except Exception:  # a bug costs this entry, not the batch or the connection
                log.exception("batch entry failed")
                results[i] = _error_body(op, ApiError(INTERNAL, "this order was not taken"))
                continue
            entry = _BatchEntry(reply, i, op, account, command.id)
            reply.waiting += 1
            try:
                sequencer.enqueue(command, entry)
            except SequencerClosed as exc:
                reply.waiting -= 1
                results[i] = _error_body(op, ApiError(UNAVAILABLE, str(exc)))
            except Exception:
                reply.waiting -= 1
                log.exception("batch entry failed")
                results[i] = _error_body(op, ApiError(INTERNAL, "this order was not taken"))
        reply.settle()

    def _on_private(self, events: list[Event]) -> None:
        account = self.account
        assert account is not None
        mine = []
        for e in events:
            if e.TYPE == "trade":
                if e.aggressor is None:  # type: ignore[union-attr]
                    continue  # a cross: each order's share comes as an "executed" event
                if e.buy_account == account or e.sell_account == account:  # type: ignore[union-attr]
                    mine.append(private_event(e, account))
            elif e.TYPE != "rejected" and getattr(e, "account", None) == account:
                mine.append(private_event(e, account))
        if mine:
            self.send({"type": "executions", "channel": "executions", "events": mine})

    # -- subscriptions -------------------------------------------------------

    def _subscribe(self, msg: dict[str, Any], req: Any) -> None:
        allowed = {"symbol", "channel", "depth", "resume_from"}
        extra = sorted(str(k) for k in msg if k not in allowed)
        if extra:
            raise ApiError("invalid_field", f"unknown field(s) for subscribe: {', '.join(extra)}")
        channel = msg.get("channel", "book")
        if channel not in CHANNELS:
            raise ApiError("invalid_field", f"channel must be one of {', '.join(CHANNELS)}")
        if channel == "executions":
            if self.account is None:
                raise ApiError("unauthorized", "authenticate first: send {op: auth, key: KEY}")
            if not self._executions:
                self.exchange.private.add(self.account, self._on_private)
                self._executions = True
            self._reply({"type": "subscribed", "channel": "executions"}, req)
            return
        symbol = msg.get("symbol")
        if not isinstance(symbol, str) or symbol not in self.exchange.symbols:
            raise ApiError("unknown_symbol", f"{symbol!r} is not traded here")
        if channel in STATE_CHANNELS:
            self._subscribe_day(symbol, channel, msg, req)
            return
        depth = msg.get("depth")
        if depth is not None and (type(depth) is not int or not 1 <= depth <= MAX_DEPTH):
            raise ApiError("invalid_field", f"depth must be a whole number from 1 to {MAX_DEPTH}")
        if channel != "book":
            depth = None
        resume = msg.get("resume_from")
        if resume is not None and (type(resume) is not int or resume < 0):
            raise ApiError("invalid_field", "resume_from must be a sequence number (integer >= 0)")
        key = (symbol, channel)
        if key not in self.subs and self._full():
            raise ApiError(
                "invalid_field", f"at most {self.limits.max_subscriptions} subscriptions"
            )
        old = self.subs.pop(key, None)
        market = self.exchange.market
        if old is not None:
            market.unsubscribe(old)
            self.lagging.discard(old)
        sub = Subscription(self, symbol, channel, depth)
        first = market.subscribe(sub)
        self.subs[key] = sub
        seq = market.seq(symbol)
        self._reply(
            {
                "type": "subscribed",
                "symbol": symbol,
                "channel": channel,
                "depth": depth,
                "seq": seq,
            },
            req,
        )
        messages: list[Any] = []
        if channel == "book" and depth is None and resume is not None:
            answer = market.catch_up(symbol, resume)
            messages = [answer.snapshot] if answer.snapshot is not None else list(answer.deltas)
        elif first is not None:
            messages = [first]
        sub.last_seq = seq
        if messages:
            self.send_frame(encode_messages(messages, self.encoding))

    def _full(self) -> bool:
        return len(self.subs) + len(self.day_subs) >= self.limits.max_subscriptions

    def _subscribe_day(self, symbol: str, channel: str, msg: dict[str, Any], req: Any) -> None:
        """A ``state`` or ``imbalance`` channel: control messages, never conflated."""
        extra = sorted(str(k) for k in msg if k not in ("symbol", "channel"))
        if extra:
            raise ApiError("invalid_field", f"{channel} takes only symbol: {', '.join(extra)}")
        key = (symbol, channel)
        trading = self.exchange.trading
        old = self.day_subs.pop(key, None)
        if old is not None:
            trading.unsubscribe(symbol, channel, old)
        elif self._full():
            raise ApiError(
                "invalid_field", f"at most {self.limits.max_subscriptions} subscriptions"
            )
        callback = self.send
        first = trading.subscribe(symbol, channel, callback)
        self.day_subs[key] = callback
        body = {"type": "subscribed", "symbol": symbol, "channel": channel}
        self._reply({**body, "engine_seq": self.exchange.engine.seq}, req)
        if first is not None:
            self.send(first)

    def _unsubscribe(self, msg: dict[str, Any], req: Any) -> None:
        channel = msg.get("channel", "book")
        if channel == "executions":
            if self._executions and self.account is not None:
                self.exchange.private.remove(self.account, self._on_private)
                self._executions = False
            self._reply({"type": "unsubscribed", "channel": channel}, req)
            return
        symbol = msg.get("symbol")
        callback = self.day_subs.pop((symbol, channel), None)  # type: ignore[arg-type]
        if callback is not None:
            self.exchange.trading.unsubscribe(symbol, channel, callback)  # type: ignore[arg-type]
        sub = self.subs.pop((symbol, channel), None)  # type: ignore[arg-type]
        if sub is not None:
            self.exchange.market.unsubscribe(sub)
            self.lagging.discard(sub)
        self._reply({"type": "unsubscribed", "symbol": symbol, "channel": channel}, req)

    # -- sending -------------------------------------------------------------

    def _encode(self, body: dict[str, Any]) -> bytes:
        if self.encoding == "json":
            return _dumps(body).encode()
        return _pack(body)

    def send(self, body: dict[str, Any]) -> None:
        """Queue a message that is never conflated (acks, errors, executions)."""
        self.send_frame(self._encode(body))

    def send_frame(self, frame: bytes) -> None:
        if self.closing:
            return
        self.queue.append(frame)
        if len(self.queue) >= self.limits.ws_queue_hard:
            self.counters["ws_slow_disconnects_total"] += 1
            self.queue.clear()
            self.close(CloseCode.POLICY_VIOLATION, "too slow: send queue full")
            return
        self.answering = True
        self.gateway.kick(self)

    def offer(self, sub: Subscription, update: Update) -> None:
        """Market data for ``sub``: queued while the client keeps up, else conflated."""
        if self.closing:
            return
        if sub.channel == "trades":
            book = self.subs.get((sub.symbol, "book"))
            if book is not None and book.depth is None:
                return  # the full book stream already carries every trade
        if not sub.behind and len(self.queue) < self.limits.ws_queue:
            self.queue.append(update.frame(self.encoding))
            sub.last_seq = update.seq
            self.gateway.kick(self)
            return
        if not sub.behind:
            sub.behind = True
            self.lagging.add(sub)
            self.counters["ws_conflated_total"] += 1
            if self.behind_since is None:
                self.behind_since = time.monotonic()
        if sub.channel == "book" and sub.depth is None:
            # Nothing to do per update: the deltas are in the symbol's ring, and the
            # client is caught up from there once it has room (``_flush_lagging``).
            # A lagging client costs matching nothing, however many updates it misses.
            return
        if sub.channel == "trades":
            trades = sub.trades
            trades.extend(update.messages)  # type: ignore[arg-type]
            if len(trades) > MAX_PENDING_TRADES:
                cut = len(trades) - MAX_PENDING_TRADES
                del trades[:cut]
                sub.dropped += cut
        else:
            sub.latest = update

    def _flush_lagging(self) -> None:
        """Send each lagging subscription's conflated update (or its resync snapshot)."""
        market = self.exchange.market
        market.flush()  # the ring must hold no delta that is still to be offered
        encoding = self.encoding
        for sub in list(self.lagging):
            if self.subs.get((sub.symbol, sub.channel)) is not sub:
                continue
            frame: bytes | None = None
            seq = sub.last_seq
            if sub.channel == "book" and sub.depth is None:
                answer = market.catch_up_frame(
                    sub.symbol, seq, encoding, self.limits.ws_conflate_levels, MAX_PENDING_TRADES
                )
                if answer is not None:
                    frame, seq, resync = answer
                    if resync:
                        self.counters["ws_resyncs_total"] += 1
            elif sub.channel == "trades":
                if sub.trades:
                    trades = sub.trades
                    batch = ConflatedBatch(
                        sub.symbol,
                        trades[0].seq,
                        trades[-1].seq,
                        (),
                        tuple(trades),
                        sub.dropped,
                    )
                    frame, seq = encode_messages([batch], encoding), batch.last_seq
            elif sub.latest is not None:
                frame, seq = sub.latest.frame(encoding), sub.latest.seq
            if frame is not None:
                self.queue.append(frame)
                sub.last_seq = seq
            sub.behind = False
            sub.trades = []
            sub.dropped = 0
            sub.latest = None
        self.lagging.clear()

    def pump(self) -> None:
        """Send what is queued now, unless the socket is backed up (then the writer task
        sends it as the socket drains)."""
        if self.closing:
            return
        transport = self.writer.transport
        if self.draining or transport.get_write_buffer_size() >= WRITE_HIGH:
            self.wakeup.set()
            return
        queue = self.queue
        while queue:
            self._send_queued(transport, len(queue))
            if transport.get_write_buffer_size() >= WRITE_HIGH:
                if queue or self.lagging:
                    self.wakeup.set()
                return
        if self.lagging:
            self._flush_lagging()
            if queue:
                self._send_queued(transport, len(queue))
        if not self.lagging:
            self.behind_since = None

    def _send_queued(self, transport: asyncio.WriteTransport, limit: int) -> None:
        """Frame up to ``limit`` queued messages and write them with one call.

        Market-data frames waiting next to each other leave as one frame. The
        header is built here (``lob.server.wsframe``) and the payload follows it
        uncopied, so an update shared by many subscribers is never re-serialised.
        """
        if self.protocol.state is not State.OPEN:
            self.queue.clear()
            return
        queue = self.queue
        json_ = self.encoding == "json"
        first = TEXT if json_ else BINARY
        chunks: list[bytes] = []
        n = 0
        while queue and n < limit:
            frame = queue.popleft()
            n += 1
            if type(frame) is MarketFrame:
                parts: list[bytes] = [frame]
                size = len(frame)
                while queue and size < JOIN_BYTES:
                    # A fresh local each time: ``type(queue[0]) is ...`` would let the
                    # type checker (and the compiled code's casts) take the next
                    # item's type from the one before it.
                    following: bytes = queue[0]
                    if type(following) is not MarketFrame:
                        break
                    queue.popleft()
                    parts.append(following)
                    size += len(following)
                    n += 1
                if len(parts) > 1:
                    frame = (b"\n" if json_ else b"").join(parts)
            chunks.append(header(first, len(frame)))
            chunks.append(frame)
        self.counters["ws_messages_out_total"] += n
        transport.writelines(chunks)

    async def _writer(self) -> None:
        """Send while the socket is backed up: wait for it to drain, then send more."""
        writer = self.writer
        transport = writer.transport
        queue = self.queue
        low = max(1, self.limits.ws_queue // 4)
        try:
            while True:
                await self.wakeup.wait()
                self.wakeup.clear()
                self.draining = True
                try:
                    while (queue or self.lagging) and not self.closing:
                        await writer.drain()
                        if queue:
                            self._send_queued(transport, 64)
                        if self.lagging and len(queue) < low:
                            self._flush_lagging()
                finally:
                    self.draining = False
                if self.closing:
                    return
                if not queue and not self.lagging:
                    self.behind_since = None
        except (ConnectionError, OSError, InvalidState):
            self.closing = True
            self.writer.transport.abort()

    async def _timer(self) -> None:
        interval = self.limits.ws_ping_interval
        slow = self.limits.ws_slow_seconds
        last_ping = time.monotonic()
        while not self.closing:
            await asyncio.sleep(min(1.0, interval, slow / 4))
            now = time.monotonic()
            if self.behind_since is not None and now - self.behind_since > slow:
                self.counters["ws_slow_disconnects_total"] += 1
                self.close(CloseCode.POLICY_VIOLATION, f"too slow: behind for over {slow:g} s")
                await asyncio.sleep(1.0)
                self.abort()
                return
            if now - last_ping >= interval:
                if now - self.last_heard > 2 * interval:
                    self.close(CloseCode.INTERNAL_ERROR, "no answer to pings")
                    return
                last_ping = now
                with contextlib.suppress(InvalidState):
                    self.protocol.send_ping(b"lob")
                    self._transmit()


class _Inbound:
    """The connection's protocol once the session runs: bytes go to the session as the
    event loop reads them.

    Why not the stream reader the HTTP driver used: each read through it was a
    future, a wake-up of the session's task a turn of the loop later and a few
    calls in interpreted code, per message; with one order per message that
    was about an eighth of the server's user CPU per order at 10,000 orders/s
    (docs/benchmarks.md). Here the bytes are parsed, and an order sequenced, in
    the callback that read them. The stream protocol it replaces still hears of
    write flow control and of the connection's loss, so the stream writer's
    ``drain`` and ``wait_closed`` work as before.
    """

    def __init__(self, session: Session, stream: Any) -> None:
        self.session = session
        self.stream = stream

    def data_received(self, data: bytes) -> None:
        self.session._received(data)

    def eof_received(self) -> bool:
        self.session._eof()
        return True  # the session closes the transport once its close frame is out

    def pause_writing(self) -> None:
        self.stream.pause_writing()

    def resume_writing(self) -> None:
        self.stream.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stream.connection_lost(exc)
        self.session._end()


def _error_body(op: Any, exc: ApiError) -> dict[str, Any]:
    """An error message (also a batch entry's result): its ``op`` only if it is a name."""
    return {"type": "error", "op": op if type(op) is str else None, **exc.body()}


def _valid_req(req: Any) -> bool:
    """A correlation token the server can echo in either encoding."""
    if type(req) is int:
        return -(2**53) <= req <= 2**53
    return type(req) is str and len(req) <= 64


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
