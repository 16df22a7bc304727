"""The order-to-ack histogram: buckets, the Prometheus text and quantiles between scrapes."""

from __future__ import annotations

import math

import pytest

from lob.server.latency import BOUNDS_NS, LatencyHistogram, parse_buckets, quantile

NAME = "lob_test_seconds"


def scrape(histogram: LatencyHistogram) -> tuple[str, dict[float, int]]:
    text = "\n".join(histogram.prometheus(NAME, "a test histogram")) + "\n"
    return text, parse_buckets(text, NAME)


def test_each_bucket_counts_latencies_up_to_its_bound() -> None:
    h = LatencyHistogram()
    h.record(50_000)  # exactly on the first bound: in it (le)
    h.record(50_001)  # just over: in the second
    h.record(2_000_000, 3)  # a batch of three orders answered together
    h.record(9_000_000_000)  # beyond the last bound: +Inf only
    text, buckets = scrape(h)
    assert buckets[0.00005] == 1
    assert buckets[0.0001] == 2
    assert buckets[0.0015] == 2 and buckets[0.002] == 5
    assert buckets[1.0] == buckets[5.0] == 5 and buckets[math.inf] == 6
    assert f"{NAME}_count 6" in text
    assert f"{NAME}_sum {(50_000 + 50_001 + 6_000_000 + 9_000_000_000) / 1e9:.9f}" in text
    assert f"# TYPE {NAME} histogram" in text
    assert len(buckets) == len(BOUNDS_NS) + 1


def test_quantile_of_what_came_between_two_scrapes() -> None:
    h = LatencyHistogram()
    for _ in range(100):
        h.record(10_000_000)  # before: slow answers that must not count
    _, before = scrape(h)
    for _ in range(99):
        h.record(120_000)  # in (0.1 ms, 0.15 ms]
    h.record(1_800_000)  # in (1.5 ms, 2 ms]
    _, after = scrape(h)
    p50 = quantile(before, after, 0.5)
    assert p50 is not None and 0.0001 < p50 <= 0.00015
    p99 = quantile(before, after, 0.99)
    assert p99 == pytest.approx(0.00015)  # the 99th of 100 answers tops the 0.15 ms bucket
    top = quantile(before, after, 1.0)
    assert top is not None and 0.0015 < top <= 0.002
    assert quantile(after, after, 0.5) is None  # nothing new: no answer


def test_quantile_in_the_open_bucket_answers_its_lower_limit() -> None:
    h = LatencyHistogram()
    h.record(6_000_000_000)
    _, buckets = scrape(h)
    assert quantile({}, buckets, 0.5) == pytest.approx(BOUNDS_NS[-1] / 1e9)
