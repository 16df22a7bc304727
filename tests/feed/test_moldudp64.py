"""MoldUDP64 framing, packing, history and the receiver's recovery over a lossy link."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lob.engine import MatchingEngine, Side, TimeInForce
from lob.feed import itch
from lob.feed.itch_book import ItchBookBuilder
from lob.feed.itch_mapper import ItchMapper, feed_snapshot
from lob.feed.moldudp64 import (
    MessageHistory,
    MoldDecodeError,
    Packer,
    Packet,
    Receiver,
    Request,
    decode_packet,
    decode_request,
    encode_packet,
    encode_request,
    session_bytes,
)

SESSION = session_bytes("LOB0000001")


def test_packet_with_two_messages_matches_specification_bytes():
    wire = encode_packet(SESSION, 5, [b"abc", b"de"])
    assert wire == (
        b"LOB0000001"  # session, 10 bytes
        + b"\x00\x00\x00\x00\x00\x00\x00\x05"  # sequence number of the first message
        + b"\x00\x02"  # message count
        + b"\x00\x03abc"  # block: length, message
        + b"\x00\x02de"
    )
    assert decode_packet(wire) == Packet(SESSION, 5, [b"abc", b"de"], False)


def test_heartbeat_and_end_of_session_carry_next_sequence():
    packer = Packer("LOB", next_seq=1)
    assert packer.add(b"x") is None
    packer.flush()
    hb = packer.heartbeat()
    assert hb == b"LOB       " + b"\x00" * 7 + b"\x02" + b"\x00\x00"
    assert decode_packet(hb).is_heartbeat
    end = decode_packet(packer.end_of_session())
    assert end.end_of_session and end.seq == 2 and end.messages == []
    assert packer.end_of_session()[-2:] == b"\xff\xff"


def test_request_round_trips_and_is_twenty_bytes():
    wire = encode_request(SESSION, 7, 3)
    assert wire == b"LOB0000001" + b"\x00" * 7 + b"\x07" + b"\x00\x03"
    assert decode_request(wire) == Request(SESSION, 7, 3)


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (b"short", "mold_truncated"),
        (encode_packet(SESSION, 1, [b"abc"])[:-1], "mold_truncated"),
        (encode_packet(SESSION, 1, [b"abc"]) + b"z", "mold_trailing"),
        (encode_packet(SESSION, 1, end_of_session=True) + b"z", "mold_trailing"),
    ],
)
def test_decode_malformed_packet_raises_with_code(wire: bytes, code: str):
    with pytest.raises(MoldDecodeError) as info:
        decode_packet(wire)
    assert info.value.code == code


@pytest.mark.parametrize(
    "wire", [b"x" * 19, b"x" * 21, encode_request(SESSION, 1, 0), encode_request(SESSION, 0, 1)]
)
def test_decode_bad_request_raises_bad_request(wire: bytes):
    with pytest.raises(MoldDecodeError) as info:
        decode_request(wire)
    assert info.value.code == "mold_bad_request"


@given(st.binary(max_size=80))
def test_decode_packet_any_bytes_decodes_or_raises_decode_error(data: bytes):
    try:
        packet = decode_packet(data)
    except MoldDecodeError:
        return
    assert encode_packet(packet.session, packet.seq, packet.messages, packet.end_of_session) == data


@given(st.binary(max_size=40))
def test_decode_request_any_bytes_decodes_or_raises_decode_error(data: bytes):
    try:
        request = decode_request(data)
    except MoldDecodeError:
        return
    assert encode_request(*request) == data


def test_packer_fills_packets_up_to_payload_and_numbers_messages():
    packer = Packer("S", max_payload=200)
    messages = [bytes([i]) * 36 for i in range(12)]
    packets = packer.add_all(messages)
    packets.append(packer.flush())  # type: ignore[arg-type]
    assert all(len(p) <= 200 for p in packets)
    decoded = [decode_packet(p) for p in packets]
    assert [p.seq for p in decoded] == [1, 5, 9]  # 20 + 4 * 38 = 172 <= 200 < 20 + 5 * 38
    assert [m for p in decoded for m in p.messages] == messages
    assert packer.next_seq == 13 and packer.flush() is None


def test_history_answers_inside_window_and_refuses_outside():
    history = MessageHistory(capacity=3)
    history.extend([b"1", b"2", b"3", b"4", b"5"])
    assert history.first_seq == 3
    assert history.get(3, 2) == [b"3", b"4"]
    assert history.get(4, 10) == [b"4", b"5"]
    assert history.get(2, 1) is None and history.get(6, 1) is None
    [packet] = history.packets(SESSION, 4, 10, 1400)
    assert decode_packet(packet) == Packet(SESSION, 4, [b"4", b"5"])


def test_receiver_delivers_in_order_and_detects_gap_from_heartbeat():
    rx = Receiver()
    assert rx.on_packet(encode_packet(SESSION, 1, [b"a", b"b"]), 0.0) == [(1, b"a"), (2, b"b")]
    assert rx.on_packet(encode_packet(SESSION, 5), 0.1) == []  # heartbeat: 3 and 4 were lost
    assert rx.health.gaps == 1
    assert rx.poll(0.1) == Request(SESSION, 3, 2)
    assert rx.poll(0.15) is None  # still in flight
    assert rx.on_packet(encode_packet(SESSION, 3, [b"c", b"d"]), 0.2) == [(3, b"c"), (4, b"d")]
    assert (rx.health.seq, rx.health.recoveries, rx.gap) == (4, 1, None)


def test_receiver_falls_back_to_snapshot_after_unanswered_requests():
    rx = Receiver(request_timeout=1.0, max_retries=2)
    rx.on_packet(encode_packet(SESSION, 10, [b"j", b"k"]), 0.0)
    assert rx.poll(0.0) == Request(SESSION, 1, 9)
    assert rx.poll(1.0) == Request(SESSION, 1, 9)
    assert rx.poll(2.0) is None and rx.needs_snapshot
    # A snapshot including message 10 leaves only 11 to deliver.
    assert rx.on_snapshot(10) == [(11, b"k")]
    assert (rx.needs_snapshot, rx.gap, rx.health.snapshots, rx.health.seq) == (False, None, 1, 11)


def test_receiver_counts_duplicates_and_ignores_other_sessions():
    rx = Receiver(SESSION)
    rx.on_packet(encode_packet(SESSION, 1, [b"a"]), 0)
    assert rx.on_packet(encode_packet(SESSION, 1, [b"a"]), 0) == []
    assert rx.on_packet(encode_packet(session_bytes("OTHER"), 2, [b"x"]), 0) == []
    assert rx.on_packet(b"garbage", 0) == []
    assert (rx.health.duplicates, rx.health.bad_packets, rx.health.seq) == (1, 2, 1)


# -- the lossy link ----------------------------------------------------------------


class LossyLink:
    """Drops, duplicates, reorders and truncates datagrams, from a seeded generator."""

    def __init__(self, rng: random.Random, drop: float, dup: float, reorder: float, cut: float):
        self.rng = rng
        self.drop, self.dup, self.reorder, self.cut = drop, dup, reorder, cut
        self.held: list[bytes] = []

    def send(self, packets: list[bytes]) -> list[bytes]:
        out: list[bytes] = []
        rng = self.rng
        for packet in packets:
            if rng.random() < self.drop:
                continue
            if rng.random() < self.cut:
                packet = packet[: rng.randrange(len(packet))]
            if rng.random() < self.reorder:
                self.held.append(packet)  # delivered later, after newer packets
                continue
            out.append(packet)
            if rng.random() < self.dup:
                out.append(packet)
        if self.held and rng.random() < 0.3:
            out.extend(self.held)
            self.held.clear()
        return out


class Exchange:
    """An engine publishing its ITCH feed through a packer and a retransmission history."""

    def __init__(self, history: int) -> None:
        self.engine = MatchingEngine()
        self.mapper = ItchMapper(0)
        self.packer = Packer(SESSION, max_payload=300)
        self.history = MessageHistory(history)
        self.ts = 1

    def publish(self, messages: list[itch.Message]) -> list[bytes]:
        encoded = [itch.encode(m) for m in messages]
        self.history.extend(encoded)
        packets = self.packer.add_all(encoded)
        last = self.packer.flush()
        return packets + ([last] if last else [])

    def random_command(self, rng: random.Random, n: int) -> list[bytes]:
        self.ts += 1
        engine = self.engine
        symbol = rng.choice(["AAA", "BBB", "CCC"])
        live = [(o.account, o.id) for a in "ABC" for o in engine.open_orders(a)]
        roll = rng.random()
        if roll < 0.55 or not live:
            tif = rng.choice([TimeInForce.DAY] * 5 + [TimeInForce.IOC])
            events = engine.new_order(
                rng.choice("ABC"),
                f"o{n}",
                symbol,
                rng.choice([Side.BUY, Side.SELL]),
                rng.randint(1, 200),
                rng.randrange(99_000, 101_000, 100),
                self.ts,
                tif=tif,
            )
        elif roll < 0.75:
            events = engine.cancel(*rng.choice(live), self.ts)
        else:
            events = engine.replace(
                *rng.choice(live),
                self.ts,
                price=rng.randrange(99_000, 101_000, 100),
                qty=rng.randint(1, 200),
            )
        return self.publish(self.mapper.map(events))

    def snapshot(self):  # type: ignore[no-untyped-def]
        return feed_snapshot(self.engine, self.mapper, self.packer.next_seq - 1)


class Subscriber:
    """A receiver driving a book builder, recovering through the exchange's history."""

    def __init__(self, exchange: Exchange, link: LossyLink) -> None:
        self.exchange = exchange
        self.link = link
        self.rx = Receiver(request_timeout=0.05, max_retries=3, max_request=50)
        self.builder = ItchBookBuilder()

    def deliver(self, delivered: list[tuple[int, bytes]]) -> None:
        for _, message in delivered:
            self.builder.apply(itch.decode(message))

    def receive(self, packets: list[bytes], now: float) -> None:
        for packet in packets:
            self.deliver(self.rx.on_packet(packet, now))
        request = self.rx.poll(now)
        if request is not None:
            answer = self.exchange.history.packets(request.session, request.seq, request.count, 300)
            self.receive(self.link.send(answer), now)  # answers cross the same lossy link
        if self.rx.needs_snapshot:
            snap = self.exchange.snapshot()
            self.builder.load_snapshot(snap)
            self.deliver(self.rx.on_snapshot(snap.seq))


def run_lossy_session(seed: int, history: int, **loss: float) -> Subscriber:
    rng = random.Random(seed)
    exchange = Exchange(history)
    sub = Subscriber(exchange, LossyLink(random.Random(seed + 1000), **loss))
    now = 0.0
    for n in range(600):
        now += 0.01
        sub.receive(sub.link.send(exchange.random_command(rng, n)), now)
    # Quiet period: heartbeats (through the same link) until the subscriber catches up.
    for _ in range(500):
        now += 0.01
        sub.receive(sub.link.send([exchange.packer.heartbeat()]), now)
        if sub.rx.health.seq == exchange.packer.next_seq - 1:
            break
    assert sub.rx.health.seq == exchange.packer.next_seq - 1
    assert sub.builder.state_hash() == exchange.engine.state_hash()
    return sub


@pytest.mark.parametrize("seed", range(6))
def test_lossy_link_subscriber_book_equals_engine_after_retransmission(seed: int):
    sub = run_lossy_session(seed, history=100_000, drop=0.1, dup=0.05, reorder=0.1, cut=0.03)
    health = sub.rx.health
    assert health.gaps > 0 and health.recoveries > 0 and health.snapshots == 0
    assert health.duplicates > 0 and health.bad_packets > 0


@pytest.mark.parametrize("seed", range(4))
def test_lossy_link_gap_outside_window_recovers_from_snapshot(seed: int):
    sub = run_lossy_session(seed, history=5, drop=0.25, dup=0.05, reorder=0.1, cut=0.03)
    assert sub.rx.health.snapshots > 0


def test_clean_link_needs_no_recovery():
    sub = run_lossy_session(0, history=10, drop=0.0, dup=0.0, reorder=0.0, cut=0.0)
    health = sub.rx.health
    assert (health.gaps, health.requests, health.snapshots, health.duplicates) == (0, 0, 0, 0)


@given(
    st.lists(
        st.one_of(
            st.binary(max_size=60),
            st.builds(
                lambda seq, msgs: encode_packet(SESSION, seq, msgs),
                st.integers(1, 40),
                st.lists(st.binary(min_size=1, max_size=8), max_size=5),
            ),
        ),
        max_size=30,
    )
)
def test_receiver_any_datagrams_never_raise_and_deliver_in_order(datagrams: list[bytes]):
    rx = Receiver(SESSION)
    delivered: list[int] = []
    for i, data in enumerate(datagrams):
        delivered.extend(seq for seq, _ in rx.on_packet(data, float(i)))
        rx.poll(float(i))
    assert delivered == list(range(1, len(delivered) + 1))
    assert rx.health.seq == len(delivered)


def test_packer_oversize_message_raises_and_keeps_packet_in_progress():
    packer = Packer("S", max_payload=200)
    packer.add(b"a" * 36)
    with pytest.raises(ValueError):
        packer.add(b"b" * 179)  # 20 + 2 + 179 > 200
    assert packer.pending == 1 and packer.next_seq == 2
    assert decode_packet(packer.flush()).messages == [b"a" * 36]  # type: ignore[arg-type]


@given(st.lists(st.binary(min_size=1, max_size=120), max_size=60), st.integers(90, 400))
def test_packer_add_all_packs_exactly_like_add_one_by_one(messages: list[bytes], payload: int):
    one, many = Packer("S", max_payload=payload), Packer("S", max_payload=payload)
    singles = [p for p in (one.add(m) for m in messages) if p is not None]
    assert many.add_all(messages) == singles
    assert (many.next_seq, many.pending, many.flush()) == (one.next_seq, one.pending, one.flush())


def test_history_extend_numbers_like_append():
    a, b = MessageHistory(3), MessageHistory(3)
    a.extend([b"1", b"2", b"3", b"4"])
    for m in [b"1", b"2", b"3", b"4"]:
        b.append(m)
    assert (a.first_seq, a.next_seq, a.get(2, 5)) == (b.first_seq, b.next_seq, b.get(2, 5))
