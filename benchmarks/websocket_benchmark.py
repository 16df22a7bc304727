"""The WebSocket fan-out benchmark: the same as ``lob bench ws``.

lob/bench/ws.py says what is measured:

    uv run python benchmarks/websocket_benchmark.py            # tables
    uv run python benchmarks/websocket_benchmark.py --json     # JSON for scripts
    uv run python benchmarks/websocket_benchmark.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["bench", "ws", *sys.argv[1:]])
