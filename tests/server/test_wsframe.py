"""Frame headers: what ``header`` writes, ``payload_length`` reads back, on either side's frames."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from lob.server.wsframe import BINARY, header, payload_length

SIZES = [0, 1, 125, 126, 65_535, 65_536, 70_000]


@pytest.mark.parametrize("size", SIZES)
def test_a_server_frame_header_reads_back_at_any_offset(size: int) -> None:
    head = header(BINARY, size)
    assert len(head) == (2 if size < 126 else 4 if size < 65_536 else 10)
    buf = b"junk" + head + b"x" * size
    assert payload_length(buf, 4) == (size, 4 + len(head))
    for cut in range(4, 4 + len(head)):  # the header not all there yet
        assert payload_length(buf[:cut], 4) == (-1, -1)


@pytest.mark.parametrize("size", SIZES)
def test_a_masked_client_frame_reads_the_same_length(size: int) -> None:
    wire = Frame(Opcode.BINARY, b"y" * size).serialize(mask=True, extensions=[])
    length, start = payload_length(wire, 0)
    assert length == size
    assert len(wire) == start + 4 + size  # the masking key, then the payload
