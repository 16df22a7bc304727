"""The market simulator benchmark: order flow generated and matched per second.

The same as ``lob bench sim`` (lob/bench/sim.py says what is measured):

    uv run python benchmarks/simulator_benchmark.py            # tables
    uv run python benchmarks/simulator_benchmark.py --json     # JSON for scripts
    uv run python benchmarks/simulator_benchmark.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["bench", "sim", *sys.argv[1:]])
