"""History and analytics over REST: ``lob.analytics.api`` answered by the history process.

Why a module of its own: the answers are ``lob.analytics.api.handle`` over a
``DuckDBSource``, exactly what ``lob analytics --json`` prints, and all that
is left for the server is where and when the queries run:

- In the history process (``lob.server.history_process``), which owns the
  DuckDB file (DuckDB lets one process at a time open it for writing). The
  request and its answer travel over the process's socket, read by the event
  loop: a query never blocks matching or another request's answer. The body
  comes back as the Python objects ``handle`` returned, so the JSON the
  server sends is what it sent when it answered in process.
- After the writes it must see. Each request carries the journal's written
  size when it arrived; the history process answers once it has applied the
  journal up to there (read-your-writes: every order acknowledged before the
  request is in the answer), or says it is unavailable if it cannot get there
  within 10 s.
- On a consistent view. In the history process each request gets a fresh
  cursor inside one read transaction, so a VWAP and its series, or a page and
  its cursor, see the same rows even while history is written.

A server started with ``--no-history`` has no history process: every endpoint
answers 503 ``unavailable``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lob.server.errors import UNAVAILABLE, ApiError

__all__ = ["NO_HISTORY", "HistoryQueries"]

Json = dict[str, Any]
NO_HISTORY = "this server runs with --no-history: no history or analytics"
QUERY_TIMEOUT = 30.0
"""Seconds the server waits for an answer (the history process gives up on reaching the
journal's position after 10)."""


class HistoryQueries:
    """Answers history and analytics GETs through the history process."""

    def __init__(self, process: Any, position: Callable[[], int]) -> None:
        self.process = process
        self.position = position
        self._closed = False

    async def answer(self, path: str, params: Mapping[str, str]) -> tuple[int, Json]:
        """``(status, body)`` of ``lob.analytics.api``; a history that cannot answer is 503."""
        from lob.server.history_channel import HistoryUnavailable

        if self._closed:
            raise ApiError(UNAVAILABLE, "the exchange is shutting down")
        try:
            status, body = await self.process.query(
                path, dict(params), self.position(), QUERY_TIMEOUT
            )
        except HistoryUnavailable as exc:
            raise ApiError(UNAVAILABLE, str(exc)) from None
        return status, body

    def close(self) -> None:
        """Refuse new queries (the history process finishes those it has before it stops)."""
        self._closed = True
