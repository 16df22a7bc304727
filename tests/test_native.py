"""Compiled or source modules: the choice at import, the switch, and equal results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from lob import native
from lob.native import COMPILED_MODULES, PURE_PYTHON_ENV, why_not_compiled

SUFFIX = EXTENSION_SUFFIXES[0]


def _tree(root: Path, *, built: bool = True, source_age: float = -100.0) -> None:
    """Sources and (optionally) compiled files for every compiled module under ``root``."""
    for module in COMPILED_MODULES:
        base = root.joinpath(*module.split("."))
        base.parent.mkdir(parents=True, exist_ok=True)
        source = base.with_suffix(".py")
        source.write_text("")
        if built:
            compiled = base.parent / (base.name + SUFFIX)
            compiled.write_bytes(b"")
            stamp = compiled.stat().st_mtime
            os.utime(source, (stamp + source_age, stamp + source_age))


def _run(argv: list[str], **env: str) -> str:
    """Standard output of ``argv`` run with ``env`` and without this process's switch."""
    environ = {k: v for k, v in os.environ.items() if k != PURE_PYTHON_ENV}
    result = subprocess.run(
        argv, env={**environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_why_not_compiled_is_none_when_every_module_is_built_after_its_source(
    tmp_path: Path,
) -> None:
    _tree(tmp_path)
    assert why_not_compiled(tmp_path, {}) is None


def test_why_not_compiled_names_the_switch_when_set(tmp_path: Path) -> None:
    _tree(tmp_path)
    assert why_not_compiled(tmp_path, {PURE_PYTHON_ENV: "1"}) == f"{PURE_PYTHON_ENV}=1"
    assert why_not_compiled(tmp_path, {PURE_PYTHON_ENV: "0"}) is None


def test_why_not_compiled_without_compiled_files_says_so(tmp_path: Path) -> None:
    _tree(tmp_path, built=False)
    assert why_not_compiled(tmp_path, {}) == "not compiled"


def test_a_source_edited_after_the_build_makes_the_compiled_set_out_of_date(
    tmp_path: Path,
) -> None:
    _tree(tmp_path)
    edited = tmp_path / "lob" / "engine" / "book.py"
    later = edited.stat().st_mtime + 200
    os.utime(edited, (later, later))
    why = why_not_compiled(tmp_path, {})
    assert why is not None and "1 older than their source" in why


def test_a_missing_compiled_module_makes_the_set_out_of_date(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "lob" / "sim" / ("agents" + SUFFIX)).unlink()
    why = why_not_compiled(tmp_path, {})
    assert why is not None and "1 missing" in why


def test_pure_python_switch_imports_every_compiled_module_from_its_source() -> None:
    code = (
        "import importlib, json, lob.native as n\n"
        f"files = [importlib.import_module(m).__file__ for m in {COMPILED_MODULES!r}]\n"
        "print(json.dumps([n.MODE, files]))\n"
    )
    mode, files = json.loads(_run([sys.executable, "-c", code], **{PURE_PYTHON_ENV: "1"}))
    assert mode == f"python ({PURE_PYTHON_ENV}=1)"
    assert all(file.endswith(".py") for file in files), files


def test_installed_compiled_modules_are_the_ones_imported() -> None:
    if native.MODE != "compiled":
        pytest.skip(f"this install runs {native.MODE}")
    code = (
        "import importlib, json\n"
        f"print(json.dumps([importlib.import_module(m).__file__ for m in {COMPILED_MODULES!r}]))\n"
    )
    files = json.loads(_run([sys.executable, "-c", code]))
    assert all(file.endswith(SUFFIX) for file in files), files


def test_simulated_market_is_byte_identical_compiled_and_as_python(tmp_path: Path) -> None:
    """The same seed gives the same ITCH bytes and summary whichever form runs."""
    outputs = []
    for flag in ("0", "1"):
        itch = tmp_path / f"day-{flag}.itch"
        stdout = _run(
            [
                str(Path(sys.executable).with_name("lob")),
                "simulate",
                "--seed",
                "7",
                "--duration",
                "20",
                "--symbols",
                "AAPL,PNNY",
                "--itch-out",
                str(itch),
                "--json",
            ],
            **{PURE_PYTHON_ENV: flag},
        )
        summary = json.loads(stdout.strip().splitlines()[-1])
        outputs.append((itch.read_bytes(), summary))
    assert outputs[0][0] == outputs[1][0]
    assert len(outputs[0][0]) > 10_000
    assert outputs[0][1]["orders"] > 0
    assert outputs[0][1] == outputs[1][1]
