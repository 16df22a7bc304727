"""The ITCH multicast feed benchmark: the same as ``lob bench multicast``.

lob/bench/multicast.py says what is measured:

    uv run python benchmarks/multicast_benchmark.py            # tables
    uv run python benchmarks/multicast_benchmark.py --json     # JSON for scripts
    uv run python benchmarks/multicast_benchmark.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["bench", "multicast", *sys.argv[1:]])
