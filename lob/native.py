"""Which of lob's modules are compiled to native code, and the switch to run them as Python.

The matching engine, the market-data views built for every order, the server's order
parsing, acknowledgements and fan-out, and the simulator are plain, strictly typed
Python. When lob is installed on a machine with a C
compiler, ``setup.py`` compiles them with mypyc into extension modules that sit beside
their sources; Python then imports the compiled form first. Behaviour is the same
either way (CI runs the whole suite compiled, and the engine, feed and simulator tests
as Python too); only the speed differs.

Python runs the sources instead when:

- ``LOB_PURE_PYTHON`` is set to anything but ``0`` (for debugging, profiling, or to
  compare the two in one session);
- a compiled module is older than its source (an edit since the last build: running
  stale code would be wrong; ``uv run`` rebuilds, as pyproject's cache keys name
  these sources) or some are missing. A line on standard error says so.

It is all or nothing: compiled modules call each other natively, so a mix of compiled
and source modules would hold two different classes for one name.

Compiled code reads a module global declared ``Final`` directly (a literal one is
inlined), but looks any other global up in its module's dict each time it is named: a
class imported from another module (the engine's events and commands, which are named
tuples rather than compiled classes), an enum member, a constant without ``Final``. The
order path names them through ``Final`` aliases (``_TRADE: Final = Trade``): it tests
each event's class against several of them, for every event of every order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from importlib.machinery import (
    EXTENSION_SUFFIXES,
    SOURCE_SUFFIXES,
    FileFinder,
    ModuleSpec,
    SourceFileLoader,
)
from pathlib import Path
from types import ModuleType
from typing import Final

__all__ = ["COMPILED_MODULES", "MODE", "PURE_PYTHON_ENV", "choose", "why_not_compiled"]

#: The modules setup.py compiles: the engine, the market-data views and the server
#: modules that run for every order (the WebSocket sessions and the journal's framing
#: among them), and the simulator; every one strictly typed (``mypy --strict``).
COMPILED_MODULES: Final = (
    "lob.engine.auction",
    "lob.engine.book",
    "lob.engine.calendar",
    "lob.engine.commands",
    "lob.engine.engine",
    "lob.engine.json_codec",
    "lob.engine.luld",
    "lob.engine.prices",
    "lob.engine.session",
    "lob.engine.trading_day",
    "lob.feed.conflation",
    "lob.feed.deltas",
    "lob.feed.itch",
    "lob.feed.itch_batch",
    "lob.feed.itch_mapper",
    "lob.feed.l2",
    "lob.feed.moldudp64",
    "lob.feed.ring",
    "lob.feed.subscriber",
    "lob.feed.top",
    "lob.feed.wire",
    "lob.server.accounts",
    "lob.server.counters",
    "lob.server.marketdata",
    "lob.server.orders",
    "lob.server.price_text",
    "lob.server.private",
    "lob.server.sequencer",
    "lob.server.trading",
    "lob.server.ws",
    "lob.server.wsframe",
    "lob.server.wsread",
    "lob.sim.agents",
    "lob.sim.market",
    "lob.sim.model",
    "lob.sim.processes",
    "lob.sim.simulator",
    "lob.store.journal",
)

PURE_PYTHON_ENV: Final = "LOB_PURE_PYTHON"

#: A source this much newer than its compiled module counts as edited since the build
#: (installing a wheel writes both within moments of each other).
_STALE_AFTER_S: Final = 2.0

#: How this process runs the modules above: "compiled", or "python (<why>)"; set by
#: ``choose()``, which ``import lob`` calls once.
MODE = ""

_ROOT = Path(__file__).resolve().parent.parent


def _paths(module: str, root: Path) -> tuple[Path, list[Path]]:
    """The module's source file and any compiled files beside it."""
    base = root.joinpath(*module.split("."))
    candidates = (base.parent / (base.name + suffix) for suffix in EXTENSION_SUFFIXES)
    return base.with_suffix(".py"), [path for path in candidates if path.exists()]


def why_not_compiled(root: Path = _ROOT, environ: Mapping[str, str] = os.environ) -> str | None:
    """None when every compiled module under ``root`` is there and current; else why not."""
    flag = environ.get(PURE_PYTHON_ENV, "")
    if flag not in ("", "0"):
        return f"{PURE_PYTHON_ENV}={flag}"
    missing = stale = 0
    for module in COMPILED_MODULES:
        source, built = _paths(module, root)
        if not built:
            missing += 1
        elif source.exists() and source.stat().st_mtime > (
            max(path.stat().st_mtime for path in built) + _STALE_AFTER_S
        ):
            stale += 1
    if missing == len(COMPILED_MODULES):
        return "not compiled"
    if stale or missing:
        return f"compiled modules out of date ({stale} older than their source, {missing} missing)"
    return None


class _SourceFirst:
    """Finds the compiled modules' ``.py`` sources, passing over extension modules.

    A meta path finder by protocol (``find_spec``); ``importlib.abc`` is not imported
    for it, as that alone would add milliseconds to every start of ``lob``.
    """

    def find_spec(
        self,
        fullname: str,
        path: object = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in COMPILED_MODULES or not isinstance(path, list | tuple):
            return None
        for entry in path:
            finder = FileFinder(str(entry), (SourceFileLoader, SOURCE_SUFFIXES))
            spec = finder.find_spec(fullname, target)
            if spec is not None and spec.origin is not None:
                return spec
        return None


def choose() -> str:
    """Decide, at ``import lob``, whether the compiled modules are used."""
    global MODE
    why = why_not_compiled()
    if why is None:
        MODE = "compiled"
        return MODE
    MODE = f"python ({why})"
    if why != "not compiled":
        sys.meta_path.insert(0, _SourceFirst())
        if why.startswith("compiled modules out of date"):
            print(f"lob: running the compiled modules as Python: {why}", file=sys.stderr)
    return MODE
