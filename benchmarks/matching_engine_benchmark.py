"""The end-to-end benchmark, orders in and acks out of ``lob serve``: the same as ``lob bench e2e``.

lob/bench/e2e.py says what is measured:

    uv run python benchmarks/matching_engine_benchmark.py            # tables
    uv run python benchmarks/matching_engine_benchmark.py --json     # JSON for scripts
    uv run python benchmarks/matching_engine_benchmark.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["bench", "e2e", *sys.argv[1:]])
