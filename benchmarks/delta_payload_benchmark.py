"""The L2 delta payload benchmark: the same as ``lob bench deltas``.

lob/bench/deltas.py says what is measured (bytes per update for msgpack and
binary deltas against full JSON snapshots; encode, decode and apply rates):

    uv run python benchmarks/delta_payload_benchmark.py            # tables
    uv run python benchmarks/delta_payload_benchmark.py --json     # JSON for scripts
    uv run python benchmarks/delta_payload_benchmark.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["bench", "deltas", *sys.argv[1:]])
