"""Why an analytics question has no answer: one exception, stable public codes.

The codes travel to the edges unchanged: the CLI prints
``{"error": {"code": ..., "message": ...}}`` and exits non-zero, and the
server answers with the same object (``STATUS`` suggests its HTTP status).
"""

from __future__ import annotations

__all__ = [
    "EMPTY_HISTORY",
    "HISTORY_NOT_FOUND",
    "INVALID_CURSOR",
    "INVALID_INTERVAL",
    "INVALID_LIMIT",
    "INVALID_TIME",
    "NOT_A_HISTORY",
    "STATUS",
    "UNKNOWN_SYMBOL",
    "AnalyticsError",
]

UNKNOWN_SYMBOL = "unknown_symbol"
"""The history has no trade, order or quote of this symbol."""
EMPTY_HISTORY = "empty_history"
"""The history holds no trades, orders or quotes at all."""
HISTORY_NOT_FOUND = "history_not_found"
"""No file at the given path."""
NOT_A_HISTORY = "not_a_history"
"""The file is not a DuckDB database with lob's history tables."""
INVALID_INTERVAL = "invalid_interval"
INVALID_TIME = "invalid_time"
INVALID_CURSOR = "invalid_cursor"
INVALID_LIMIT = "invalid_limit"

STATUS: dict[str, int] = {
    UNKNOWN_SYMBOL: 404,
    EMPTY_HISTORY: 404,
    HISTORY_NOT_FOUND: 404,
    NOT_A_HISTORY: 500,
    INVALID_INTERVAL: 400,
    INVALID_TIME: 400,
    INVALID_CURSOR: 400,
    INVALID_LIMIT: 400,
}
"""The HTTP status a server should answer each code with."""


class AnalyticsError(Exception):
    """A question about the history that cannot be answered; ``code`` is public and stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, dict[str, str]]:
        """The shared error object: ``{"error": {"code": ..., "message": ...}}``."""
        return {"error": {"code": self.code, "message": self.message}}
