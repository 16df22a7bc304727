"""History and analytics over REST: ``lob.analytics.api`` mounted on the server's history.

Why a module of its own: the answers are ``lob.analytics.api.handle`` over a
``DuckDBSource``, exactly what ``lob analytics --json`` prints, and all that
is left for the server is where and when the queries run:

- Off the event loop. Each request runs in one of a few threads of its own
  (not the loop's default executor, which the journal's fsync shares), so a
  long query never holds up matching or another request's answer.
- On a consistent view. Each request gets a fresh cursor from
  ``HistoryWriter.reader()`` (a DuckDB connection of its own, safe to use from
  that thread) and runs inside one read transaction, so a VWAP and its series,
  or a page and its cursor, see the same rows even while the writer inserts.
- Recent enough. Before the query, ``HistoryWriter.flush()`` writes every
  event the writer thread has already taken, and that thread takes them at
  least every 50 ms (``BackgroundHistoryWriter``'s interval): history trails
  the live market by up to about 50 ms, more only while the writer is behind a
  burst (it then catches up within ``max_lag``, 1 s).

A server started with ``--no-history`` has no writer: every endpoint answers
503 ``unavailable``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lob.server.errors import UNAVAILABLE, ApiError

__all__ = ["NO_HISTORY", "HistoryQueries"]

Json = dict[str, Any]
NO_HISTORY = "this server runs with --no-history: no history or analytics"
QUERY_THREADS = 2


class HistoryQueries:
    """Answers history and analytics GETs from a live ``HistoryWriter``'s database."""

    def __init__(self, writer: Any, threads: int = QUERY_THREADS) -> None:
        self.writer = writer
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="lob-history-query")
        self._closed = False

    def answer_now(self, path: str, params: Mapping[str, str]) -> tuple[int, Json]:
        """Answer on the calling thread (a query thread): ``(status, body)``."""
        import duckdb

        from lob.analytics.api import handle
        from lob.analytics.source import DuckDBSource

        try:
            self.writer.flush()
            con = self.writer.reader()
        except duckdb.Error as exc:
            raise ApiError(UNAVAILABLE, f"the history is closed: {exc}") from None
        try:
            con.execute("BEGIN TRANSACTION")
            return handle(DuckDBSource(con), path, params)
        except duckdb.Error as exc:
            raise ApiError(UNAVAILABLE, f"the history query failed: {exc}") from None
        finally:
            con.close()

    async def answer(self, path: str, params: Mapping[str, str]) -> tuple[int, Json]:
        """Answer off the event loop; errors other than lob.analytics' are ``ApiError``."""
        if self._closed:
            raise ApiError(UNAVAILABLE, "the exchange is shutting down")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.answer_now, path, dict(params))

    def close(self) -> None:
        """Refuse new queries and wait for the running ones (before the writer closes)."""
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
