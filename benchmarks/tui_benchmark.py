"""The workstation benchmark: the same as ``lob bench tui``.

lob/bench/tui.py says what is measured (the share of one core ``lob tui`` adds
on a live market, at its refresh rate, keeping up with every event):

    uv run python benchmarks/tui_benchmark.py            # tables
    uv run python benchmarks/tui_benchmark.py --json     # JSON for scripts
    uv run python benchmarks/tui_benchmark.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["bench", "tui", *sys.argv[1:]])
