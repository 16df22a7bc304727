"""The plain-frame reader: every split of a client's bytes gives the same frames, and
what it does not read goes to the protocol object from a frame boundary."""

from __future__ import annotations

import itertools

import hypothesis.strategies as st
from hypothesis import given, settings
from websockets.frames import Frame, Opcode

from lob.server.wsread import PING, PONG, FrameReader

MAX = 64 * 1024
FIRST = {Opcode.TEXT: 0x81, Opcode.BINARY: 0x82, Opcode.PING: PING, Opcode.PONG: PONG}


def wire(opcode: Opcode, data: bytes, fin: bool = True) -> bytes:
    """A frame as a client sends it (masked), serialised by websockets itself."""
    return Frame(opcode, data, fin=fin).serialize(mask=True, extensions=[])


PLAIN = st.one_of(
    st.tuples(st.sampled_from([Opcode.TEXT, Opcode.BINARY]), st.binary(max_size=300)),
    # the 16-bit and 64-bit length forms
    st.tuples(st.just(Opcode.BINARY), st.integers(126, 70_000).map(lambda n: b"x" * n)),
    st.tuples(st.sampled_from([Opcode.PING, Opcode.PONG]), st.binary(max_size=125)),
)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@settings(max_examples=200, deadline=None)
@given(st.lists(PLAIN, max_size=12), st.lists(st.integers(0, 10**6), max_size=20))
def test_any_split_of_plain_frames_reads_the_same_frames(
    frames: list[tuple[Opcode, bytes]], cuts: list[int]
) -> None:
    data = b"".join(wire(op, payload) for op, payload in frames)
    reader = FrameReader(70_000)
    got: list[tuple[int, bytes]] = []
    for chunk in split(data, cuts):
        out, rest = reader.feed(chunk)
        assert rest is None
        got += out
    assert [(kind, bytes(p)) for kind, p in got] == [(FIRST[op], p) for op, p in frames]
    assert reader.pending == b""  # nothing left half read


REFUSED = {
    "close": wire(Opcode.CLOSE, b"\x03\xe8bye"),
    "first fragment": wire(Opcode.TEXT, b"{", fin=False),
    "continuation": wire(Opcode.CONT, b"}"),
    "reserved bit": b"\xc2" + wire(Opcode.BINARY, b"\x80")[1:],
    "unmasked": Frame(Opcode.BINARY, b"\x80").serialize(mask=False, extensions=[]),
    "oversized": wire(Opcode.BINARY, b"x" * (MAX + 1)),
    "long ping": b"\x89\xfe\x00\x7e" + b"\x00" * 4 + b"p" * 126,
    "reserved opcode": b"\x83\x80\x00\x00\x00\x00",
}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(PLAIN, max_size=4),
    st.sampled_from(sorted(REFUSED)),
    st.lists(PLAIN, max_size=3),
    st.lists(st.integers(0, 10**6), max_size=8),
)
def test_the_first_frame_it_does_not_read_and_all_after_go_to_the_protocol(
    before: list[tuple[Opcode, bytes]],
    refused: str,
    after: list[tuple[Opcode, bytes]],
    cuts: list[int],
) -> None:
    head = b"".join(wire(op, payload) for op, payload in before if len(payload) <= MAX)
    tail = REFUSED[refused] + b"".join(wire(op, p) for op, p in after)
    reader = FrameReader(MAX)
    got: list[tuple[int, bytes]] = []
    handed = b""
    chunks = split(head + tail, cuts)
    for i, chunk in enumerate(chunks):
        out, rest = reader.feed(chunk)
        got += out
        if rest is not None:
            handed = rest + b"".join(chunks[i + 1 :])
            break
    assert handed == tail  # from the frame boundary on, byte for byte
    expected = [(FIRST[op], p) for op, p in before if len(p) <= MAX]
    assert [(kind, bytes(p)) for kind, p in got] == expected


def test_an_incomplete_frame_waits_for_the_rest() -> None:
    frame = wire(Opcode.BINARY, b"\x81\xa2op\xa3new")
    reader = FrameReader(MAX)
    assert reader.feed(frame[:1]) == ([], None)
    assert reader.feed(frame[1:7]) == ([], None)
    out, rest = reader.feed(frame[7:] + frame)
    assert rest is None and [p for _, p in out] == [b"\x81\xa2op\xa3new"] * 2
