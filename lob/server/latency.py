"""The server's own order-to-acknowledgement latency, kept as a Prometheus histogram.

Why: a client's figure mixes the exchange's time with the client's own and with
the machine's scheduling of both. This one starts when the gateway reads the
bytes of an order message off its socket and ends when the answer (an ack or a
rejection) is handed to that client's socket, so it is the part the exchange
itself adds: the journal's group commit, matching, the views, the multicast feed
and the market data sent before the ack. Time an order spends in the kernel's
buffers before the event loop reads it is not in it, which is why the benchmark
reports the client's figure beside it.

A histogram, not a list of samples: recording is one bisect and one increment,
it costs no memory as orders go by, and two scrapes of ``GET /metrics`` taken
around a test give that test's distribution (``quantile`` of the difference).
Each bucket counts the answers at most its bound (Prometheus ``le``), so "how many
within 2 ms" is exact; a quantile is interpolated inside its bucket.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

__all__ = [
    "BOUNDS_NS",
    "ORDER_ACK",
    "ORDER_ACK_HELP",
    "LatencyHistogram",
    "parse_buckets",
    "quantile",
]

ORDER_ACK: Final = "lob_ws_order_ack_seconds"
"""The name of the WebSocket gateway's order-to-ack histogram in ``GET /metrics``."""
ORDER_ACK_HELP: Final = "WebSocket order messages: read off the socket -> answer written (s)"

BOUNDS_NS: Final = (
    50_000,
    100_000,
    150_000,
    200_000,
    300_000,
    400_000,
    500_000,
    750_000,
    1_000_000,
    1_500_000,
    2_000_000,
    3_000_000,
    5_000_000,
    7_500_000,
    10_000_000,
    15_000_000,
    20_000_000,
    30_000_000,
    50_000_000,
    75_000_000,
    100_000_000,
    150_000_000,
    200_000_000,
    300_000_000,
    500_000_000,
    750_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
)
"""Upper bounds of the buckets in ns (a last one, +Inf, takes the rest)."""


class LatencyHistogram:
    """Counts of latencies per bucket of ``BOUNDS_NS``, their number and their sum."""

    def __init__(self) -> None:
        self.counts = [0] * (len(BOUNDS_NS) + 1)
        self.count = 0
        self.sum_ns = 0

    def record(self, ns: int, n: int = 1) -> None:
        """``n`` answers that each took ``ns``."""
        self.counts[bisect_left(BOUNDS_NS, ns)] += n
        self.count += n
        self.sum_ns += ns * n

    def prometheus(self, name: str, help: str) -> list[str]:
        """The histogram in the Prometheus text format, in seconds."""
        lines = [f"# HELP {name} {help}", f"# TYPE {name} histogram"]
        total = 0
        for bound, n in zip(BOUNDS_NS, self.counts, strict=False):
            total += n
            lines.append(f'{name}_bucket{{le="{bound / 1e9:g}"}} {total}')
        lines.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
        lines.append(f"{name}_sum {self.sum_ns / 1e9:.9f}")
        lines.append(f"{name}_count {self.count}")
        return lines


def parse_buckets(text: str, name: str) -> dict[float, int]:
    """The cumulative buckets of histogram ``name`` in a ``/metrics`` page: bound in
    seconds (``inf`` for +Inf) -> count."""
    prefix = f'{name}_bucket{{le="'
    out: dict[float, int] = {}
    for line in text.splitlines():
        if line.startswith(prefix):
            bound, _, value = line[len(prefix) :].partition('"} ')
            out[float(bound)] = int(value)
    return out


def quantile(before: dict[float, int], after: dict[float, int], q: float) -> float | None:
    """The ``q`` quantile (0-1), in seconds, of what was recorded between two scrapes;
    interpolated linearly inside its bucket, ``None`` if nothing was recorded. In the
    +Inf bucket it answers the last finite bound (a lower limit)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0) for b in bounds]
    total = counts[-1] if counts else 0
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            inside = cumulative - below
            share = (rank - below) / inside if inside else 1.0
            return lower + (bound - lower) * share
        lower, below = bound, cumulative
    return lower
