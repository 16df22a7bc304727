"""The DuckDB history benchmark: the same as ``lob bench history``.

lob/bench/history.py says what is measured (write rate in trade rows per
second, matching throughput with and without the background history writer,
query latency for VWAP, 1-minute bars, trade metrics and market activity over
ten million trades):

    uv run python benchmarks/history_benchmark.py            # tables
    uv run python benchmarks/history_benchmark.py --json     # JSON for scripts
    uv run python benchmarks/history_benchmark.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["bench", "history", *sys.argv[1:]])
