"""Run every registered lob benchmark: the same as ``lob bench all``.

uv run python benchmarks/run_all_benchmarks.py            # tables
uv run python benchmarks/run_all_benchmarks.py --json     # one JSON object
uv run python benchmarks/run_all_benchmarks.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["bench", "all", *sys.argv[1:]])
