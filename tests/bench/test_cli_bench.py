"""``lob bench``: listing, errors, and the JSON every registered benchmark prints."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lob.bench import BENCHMARKS, UnknownBenchmarkError, load, names
from lob.cli.app import app

runner = CliRunner()


def test_bench_without_name_lists_only_registered_benchmarks() -> None:
    result = runner.invoke(app, ["bench", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"benchmarks": names()}


def test_bench_unknown_name_exits_non_zero_with_the_error_object() -> None:
    result = runner.invoke(app, ["bench", "no_such_bench", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "unknown_benchmark"
    assert "no_such_bench" in error["message"]


def test_registry_entries_load_a_callable_run_function() -> None:
    for name in BENCHMARKS:
        assert callable(load(name))


def test_registry_load_of_unknown_name_raises_a_key_error() -> None:
    try:
        load("no_such_bench")
    except UnknownBenchmarkError as exc:
        assert "no_such_bench" in str(exc)
    else:  # pragma: no cover - the assertion is the test
        raise AssertionError("load() accepted an unknown name")


def test_bench_whose_module_cannot_import_exits_with_missing_dependency(monkeypatch) -> None:
    monkeypatch.setitem(BENCHMARKS, "ghost", "lob.bench.no_such_module:run")
    result = runner.invoke(app, ["bench", "ghost", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"]["code"] == "missing_dependency"
