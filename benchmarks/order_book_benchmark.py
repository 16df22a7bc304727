"""The order book benchmark: lob's matching engine against the seed design.

The same as ``lob bench book`` (lob/bench/book.py says what is measured):

    uv run python benchmarks/order_book_benchmark.py            # tables
    uv run python benchmarks/order_book_benchmark.py --json     # JSON for scripts
    uv run python benchmarks/order_book_benchmark.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["bench", "book", *sys.argv[1:]])
