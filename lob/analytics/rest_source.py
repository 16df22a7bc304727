"""A ``HistorySource`` that asks a running server, over the GET endpoints of ``lob.analytics.api``.

``lob analytics --url URL`` and ``lob history --url URL`` use it, with the
paths ``lob serve`` publishes (``/analytics/{symbol}/vwap``,
``/history/trades?symbol=``, ``/history/orders``; docs/rest.md): every
answer is the JSON the server's ``DuckDBSource`` gives, so the commands print
the same with ``--url`` as with ``--db``. Errors come back as the shared error
object and are raised as ``AnalyticsError`` with the server's code; a server
that cannot be reached is ``unavailable``. ``key`` (e.g. ``LOB_KEY``) is sent
as ``Authorization: Bearer``, which a server may require for an account's
orders. Plain ``urllib``: the CLI makes one request or a few, and blocking is
what it wants.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from lob.analytics.errors import AnalyticsError
from lob.analytics.timefmt import format_interval

__all__ = ["UNAVAILABLE", "RestSource"]

UNAVAILABLE = "unavailable"
Json = dict[str, Any]
_PAGE = 10_000


class RestSource:
    """Answers from ``url`` (e.g. ``http://127.0.0.1:8000``)."""

    def __init__(self, url: str, key: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def _get(self, path: str, **params: object) -> Json:
        query = {k: str(v) for k, v in params.items() if v is not None and v is not False}
        target = self.url + urllib.parse.quote(path)
        if query:
            target += "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(target, headers={"Accept": "application/json"})
        if self.key:
            request.add_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: Json = json.loads(response.read())
                return body
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read())["error"]
                code, message = str(error["code"]), str(error["message"])
            except (ValueError, KeyError, TypeError):
                code, message = UNAVAILABLE, f"{target}: HTTP {exc.code}"
            raise AnalyticsError(code, message) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise AnalyticsError(UNAVAILABLE, f"cannot reach {self.url}: {reason}") from None

    def first_ts(self, symbol: str | None = None) -> int | None:
        rows = self._get("/history/trades", symbol=symbol, limit=1)["trades"]
        return int(rows[0]["ts"]) if rows else None

    def vwap(self, symbol: str, start: int | None = None, end: int | None = None) -> Json:
        return self._get(f"/analytics/{symbol}/vwap", since=start, until=end)

    def rolling_vwap(
        self,
        symbol: str,
        window: int,
        step: int,
        start: int | None = None,
        end: int | None = None,
    ) -> list[Json]:
        body = self._get(
            f"/analytics/{symbol}/vwap",
            since=start,
            until=end,
            window=format_interval(window),
            step=format_interval(step),
        )
        series: list[Json] = body["series"]
        return series

    def anchored_vwap(
        self, symbol: str, anchor: int, interval: int, end: int | None = None
    ) -> list[Json]:
        body = self._get(
            f"/analytics/{symbol}/vwap", since=anchor, until=end, every=format_interval(interval)
        )
        series: list[Json] = body["series"]
        return series

    def bars(
        self,
        symbol: str,
        interval: int,
        start: int | None = None,
        end: int | None = None,
        fill_gaps: bool = False,
    ) -> list[Json]:
        body = self._get(
            f"/analytics/{symbol}/bars",
            interval=format_interval(interval),
            since=start,
            until=end,
            fill="true" if fill_gaps else None,
        )
        rows: list[Json] = body["bars"]
        return rows

    def metrics(self, symbol: str, start: int | None = None, end: int | None = None) -> Json:
        return self._get(f"/analytics/{symbol}/metrics", since=start, until=end)

    def spread(self, symbol: str, start: int | None = None, end: int | None = None) -> Json:
        return self._get(f"/analytics/{symbol}/spread", since=start, until=end)

    def volatility(
        self, symbol: str, interval: int, start: int | None = None, end: int | None = None
    ) -> Json:
        return self._get(
            f"/analytics/{symbol}/volatility",
            interval=format_interval(interval),
            since=start,
            until=end,
        )

    def imbalance(
        self, symbol: str, interval: int, start: int | None = None, end: int | None = None
    ) -> list[Json]:
        body = self._get(
            f"/analytics/{symbol}/imbalance",
            interval=format_interval(interval),
            since=start,
            until=end,
        )
        rows: list[Json] = body["intervals"]
        return rows

    def activity(self, start: int | None = None, end: int | None = None, top: int = 5) -> Json:
        return self._get("/analytics/activity", since=start, until=end, top=top)

    def trades(
        self,
        symbol: str | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Json:
        return self._get(
            "/history/trades", symbol=symbol, since=start, until=end, limit=limit, cursor=cursor
        )

    def orders(
        self,
        account: str,
        symbol: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Json:
        return self._get(
            "/history/orders", account=account, symbol=symbol, limit=limit, cursor=cursor
        )

    def export_trades(
        self,
        fmt: str,
        out: str | Path,
        symbol: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> int:
        """Every matching trade, a page of 10,000 at a time, into one file."""
        from lob.analytics.export import export_records

        rows: list[Json] = []
        cursor = None
        while True:
            page = self.trades(symbol, start, end, _PAGE, cursor)
            rows.extend(page["trades"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return export_records(rows, fmt, out)

    def close(self) -> None:
        return None
