"""The harness: percentiles, summaries, throughput runs and open-loop latency."""

from __future__ import annotations

import json

import pytest

from lob.bench.harness import (
    BenchReport,
    describe_machine,
    format_ns,
    interleaved_throughput,
    open_loop_latency,
    percentile,
    repeat_throughput,
    summarize,
)


class FakeClock:
    """A clock that moves only when told: calls take the time the test says."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now

    def wait_until(self, t: int) -> None:
        self.now = max(self.now, t)


def test_percentile_of_one_to_hundred_is_the_nearest_rank() -> None:
    samples = list(range(100, 0, -1))
    assert percentile(samples, 50) == 50
    assert percentile(samples, 99) == 99
    assert percentile(samples, 99.9) == 100
    assert percentile(samples, 100) == 100
    assert percentile(samples, 1) == 1


def test_percentile_of_five_samples_rounds_the_rank_up() -> None:
    samples = [5, 1, 3, 2, 4]
    assert percentile(samples, 20) == 1
    assert percentile(samples, 21) == 2
    assert percentile(samples, 50) == 3
    assert percentile(samples, 80) == 4
    assert percentile(samples, 81) == 5


def test_percentile_of_nothing_or_out_of_range_raises() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1, 2], 0)
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_summarize_gives_median_and_relative_spread() -> None:
    summary = summarize([12.0, 10.0, 11.0])
    assert summary.median == 11.0
    assert (summary.low, summary.high) == (10.0, 12.0)
    assert summary.spread == pytest.approx(2 / 11)
    assert summary.to_json()["runs"] == [12.0, 10.0, 11.0]


def test_summarize_of_even_runs_averages_the_middle_two() -> None:
    assert summarize([1.0, 4.0, 2.0, 3.0]).median == 2.5


def test_repeat_throughput_skips_warmup_runs_and_times_only_the_trial() -> None:
    clock = FakeClock()
    prepared = []

    def prepare():
        prepared.append(1)
        clock.now += 5_000_000  # set-up time must not count

        def trial() -> int:
            clock.now += 1_000 * 500  # 500 operations of 1 us each
            return 500

        return trial

    summary = repeat_throughput(prepare, runs=3, warmup=2, clock=clock)
    assert len(prepared) == 5
    assert summary.runs == (1e6, 1e6, 1e6)
    assert summary.spread == 0.0


def test_interleaved_throughput_takes_turns_and_keeps_each_subjects_runs() -> None:
    clock = FakeClock()
    order: list[str] = []

    def prepare_for(name: str, ns_per_op: int):
        def prepare():
            order.append(name)

            def trial() -> int:
                clock.now += ns_per_op * 100
                return 100

            return trial

        return prepare

    result = interleaved_throughput(
        {"fast": prepare_for("fast", 1_000), "slow": prepare_for("slow", 4_000)},
        runs=2,
        warmup=1,
        clock=clock,
    )
    assert order == ["fast", "slow"] * 3
    assert result["fast"].runs == (1e6, 1e6)
    assert result["slow"].runs == (250_000.0, 250_000.0)


def test_open_loop_latency_below_capacity_equals_service_time() -> None:
    clock = FakeClock()

    def call(_: int) -> None:
        clock.now += 100

    result = open_loop_latency(call, range(10), rate=1e6, clock=clock, wait_until=clock.wait_until)
    assert result.latencies == (100,) * 10
    assert result.service_times == (100,) * 10


def test_open_loop_latency_charges_a_stall_to_every_queued_request() -> None:
    # Offered 1 request per 1,000 ns, each takes 100 ns; request 3 takes 10,100 ns.
    clock = FakeClock()

    def call(i: int) -> None:
        clock.now += 10_100 if i == 3 else 100

    result = open_loop_latency(call, range(20), rate=1e6, clock=clock, wait_until=clock.wait_until)
    expected = [100, 100, 100, 10_100]
    # Request k (4..14) was due at 1,000 k but could start only when k - 1 finished.
    expected += [13_100 + 100 * (k - 3) - 1_000 * k for k in range(4, 15)]
    expected += [100] * 5
    assert list(result.latencies) == expected
    assert result.latencies[4] == 9_200
    # Service time sees one slow request; latency also sees the ones queued behind it.
    assert sorted(result.service_times)[-2] == 100
    assert sum(svc > 1_000 for svc in result.service_times) == 1
    assert sum(lat > 1_000 for lat in result.latencies) == 11
    assert result.latency(99) == 10_100
    assert result.service(50) == 100


def test_open_loop_latency_does_not_record_warmup_requests() -> None:
    clock = FakeClock()

    def call(i: int) -> None:
        clock.now += 5_000 if i == 0 else 100

    result = open_loop_latency(
        call, range(10), rate=1e5, warmup=1, clock=clock, wait_until=clock.wait_until
    )
    assert len(result.latencies) == 9
    assert max(result.latencies) == 100
    assert result.to_json()["latency_ns"] == {"p50": 100, "p99": 100, "p99_9": 100, "max": 100}


def test_open_loop_latency_needs_a_positive_rate_and_enough_items() -> None:
    with pytest.raises(ValueError):
        open_loop_latency(lambda _: None, range(5), rate=0)
    with pytest.raises(ValueError):
        open_loop_latency(lambda _: None, range(5), rate=1e6, warmup=5)


def test_open_loop_latency_on_the_real_clock_keeps_the_schedule() -> None:
    result = open_loop_latency(lambda _: None, range(200), rate=100_000)
    assert len(result.latencies) == 200
    assert min(result.latencies) >= 0
    assert all(svc <= lat for svc, lat in zip(result.service_times, result.latencies, strict=True))


def test_describe_machine_names_cpu_cores_and_python() -> None:
    machine = describe_machine()
    assert machine.cpu and machine.cores >= 1
    assert machine.python.startswith("3.")
    assert machine.implementation
    assert str(machine.cores) in machine.describe()


def test_bench_report_to_json_round_trips_through_json() -> None:
    report = BenchReport(
        name="demo",
        title="Demo",
        columns=["workload", "ops/s"],
        rows=[{"workload": "a", "ops/s": 1.5}],
        machine=describe_machine(),
        metrics={"a.ops_per_s": 1.5},
        notes=["a note"],
    )
    data = json.loads(json.dumps(report.to_json()))
    assert set(data) == {"name", "title", "quick", "columns", "rows", "metrics", "notes", "machine"}
    assert data["rows"] == [{"workload": "a", "ops/s": 1.5}]
    assert data["machine"]["cores"] == report.machine.cores


def test_format_ns_picks_a_readable_unit() -> None:
    assert format_ns(850) == "850 ns"
    assert format_ns(3_200) == "3.2 us"
    assert format_ns(12_500_000) == "12.5 ms"
    assert format_ns(2_000_000_000) == "2.00 s"
