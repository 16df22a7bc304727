"""Build lob, compiling the engine, the feed's per-order modules and the simulator.

The modules listed in ``lob.native.COMPILED_MODULES`` are compiled with mypyc when a
C compiler is at hand; without one (or with ``LOB_PURE_PYTHON`` set) lob is built as
pure Python, which behaves the same and runs slower. Everything else about the
package is in pyproject.toml.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
_pure = os.environ.get("LOB_PURE_PYTHON", "") not in ("", "0")
# Importing lob below runs lob.native's choice: set, it checks no files and says nothing.
os.environ["LOB_PURE_PYTHON"] = "1"
sys.path.insert(0, str(ROOT))
from lob.native import COMPILED_MODULES  # noqa: E402


def _say(message: str) -> None:
    print(f"lob build: {message}", file=sys.stderr)


def _remove_compiled() -> None:
    """Compiled files left in the tree by an earlier in-place build would shadow sources.

    Every extension module under lob/ goes, not only those listed now: a module taken
    off the list must not keep loading from its old build.
    """
    for pattern in ("lob/**/*.so", "lob/**/*.pyd", "lob__mypyc.*.so", "lob__mypyc.*.pyd"):
        for path in ROOT.glob(pattern):
            path.unlink()


def _extensions() -> list[Any]:
    if _pure:
        _say("LOB_PURE_PYTHON is set: pure Python")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _say("mypyc is not available: pure Python")
        return []
    sources = [module.replace(".", "/") + ".py" for module in COMPILED_MODULES]
    try:
        return list(mypycify(sources, opt_level="3", group_name="lob"))
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error
        _say(f"mypyc could not compile the modules ({exc!r}): pure Python")
        return []


class OptionalBuildExt(build_ext):
    """Compiles what it can; on any failure (no compiler), pure Python and no leftovers."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            _say(f"the native build failed ({exc!r}): pure Python")
            for ext in self.extensions:
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            _remove_compiled()


# Metadata steps (egg_info, dist_info) need no extensions: compiling is for the build.
if any(step in sys.argv for step in ("egg_info", "dist_info")):
    setup()
else:
    _remove_compiled()
    setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
