"""Scripting commands against a running ``lob serve``: market data, orders, fills (docs/cli.md).

``lob book``, ``lob trades``, ``lob symbols`` need no key; ``lob order``,
``lob cancel``, ``lob replace``, ``lob orders`` and ``lob fills`` trade as the
account of ``--key`` (or ``LOB_API_KEY``, or ``LOB_KEY`` as ``lob serve``
suggests). Each command is one REST request through ``lob.client.RestClient``:
the answer is the server's document, printed as a rich table for people or
verbatim with ``--json`` for scripts (``lob book AAPL --json | jq .bids[0].price``);
``lob trades --follow`` streams JSON lines from the WebSocket.

Errors are the server's ``{"error": {"code", "message"}}`` object (on stdout
with ``--json``, as a line on stderr otherwise) and the exit status follows
the code (``EXIT_CODES``), so a script can tell an unreachable server from a
rejected order without parsing text.

Only Typer and the standard library are imported at the top: the client and
rich load when a command runs, so ``lob --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn

import typer

__all__ = ["EXIT_CODES", "exit_code_for", "register"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_UNAUTHORIZED = 4
EXIT_NOT_FOUND = 5
EXIT_REJECTED = 6

EXIT_CODES: dict[str, int] = {
    "usage": EXIT_USAGE,
    "unreachable": EXIT_UNREACHABLE,
    "unavailable": EXIT_UNREACHABLE,
    "unauthorized": EXIT_UNAUTHORIZED,
    "unknown_order": EXIT_NOT_FOUND,
    "unknown_symbol": EXIT_NOT_FOUND,
    "not_found": EXIT_NOT_FOUND,
    "internal": EXIT_ERROR,
}
"""Error code -> exit status. Any other code the server sends is a refusal: ``EXIT_REJECTED``."""


def exit_code_for(code: str) -> int:
    """The exit status for an error ``code`` (docs/cli.md, "Exit codes")."""
    return EXIT_CODES.get(code, EXIT_REJECTED)


_URL_HELP = "Base URL of the lob serve to talk to."
_KEY_HELP = "API key of the account to trade as."
_JSON_HELP = "Print the server's JSON document (JSON lines for streams) instead of a table."

Url = Annotated[str, typer.Option("--url", envvar="LOB_URL", help=_URL_HELP)]
Key = Annotated[
    str | None,
    typer.Option("--key", envvar=["LOB_API_KEY", "LOB_KEY"], help=_KEY_HELP, show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help=_JSON_HELP)]
DEFAULT_URL = "http://127.0.0.1:8000"


class _Failure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _fail(code: str, message: str, as_json: bool) -> NoReturn:
    if as_json:
        _print_json({"error": {"code": code, "message": message}})
        sys.stdout.flush()
    else:
        print(f"lob: {code}: {message}", file=sys.stderr)
    raise typer.Exit(exit_code_for(code))


def _run(
    url: str,
    key: str | None,
    as_json: bool,
    work: Callable[[Any], Awaitable[Any]],
    *,
    need_key: bool = False,
) -> Any:
    """Run ``work(rest_client)`` on a fresh event loop; turn every failure into an exit."""
    import asyncio

    from lob.client.http import HttpError
    from lob.client.rest import LobApiError, RestClient

    if need_key and not key:
        _fail("unauthorized", "no API key: pass --key KEY or set LOB_API_KEY", as_json)

    async def main() -> Any:
        async with RestClient(url, key) as rest:
            return await work(rest)

    try:
        return asyncio.run(main())
    except ValueError as exc:  # a URL that is not http://HOST:PORT
        _fail("usage", f"--url: {exc}", as_json)
    except LobApiError as exc:
        _fail(exc.code, exc.message, as_json)
    except _Failure as exc:
        _fail(exc.code, exc.message, as_json)
    except HttpError as exc:
        _fail("unreachable", f"{url}: {exc}", as_json)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")


def _console() -> Any:
    from rich.console import Console

    return Console()


def _time(ts: int | None) -> str:
    if not ts:
        return "-"
    from datetime import datetime

    moment = datetime.fromtimestamp(ts / 1e9)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _dash(value: Any) -> str:
    return "-" if value is None else str(value)


# -- market data ---------------------------------------------------------------


def book(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL.")],
    depth: Annotated[int | None, typer.Option(help="Levels per side (all when absent).")] = 10,
    url: Url = DEFAULT_URL,
    json_out: Json = False,
) -> None:
    """Show a symbol's L2 book: price levels, best first."""
    if depth is not None and depth < 1:
        _fail("usage", "--depth must be at least 1", json_out)
    doc = _run(url, None, json_out, lambda r: r.book(symbol.upper(), depth))
    if json_out:
        _print_json(doc)
        return
    from rich.table import Table

    table = Table(title=f"{doc['symbol']} book (seq {doc.get('seq', '-')})")
    for name, style in (("orders", "dim"), ("bid qty", "green"), ("bid", "bold green")):
        table.add_column(name, justify="right", style=style)
    for name, style in (("ask", "bold red"), ("ask qty", "red"), ("orders", "dim")):
        table.add_column(name, justify="right", style=style)
    bids, asks = doc["bids"], doc["asks"]
    for i in range(max(len(bids), len(asks))):
        bid = bids[i] if i < len(bids) else None
        ask = asks[i] if i < len(asks) else None
        left = (str(bid["orders"]), f"{bid['qty']:,}", bid["price"]) if bid else ("", "", "")
        right = (ask["price"], f"{ask['qty']:,}", str(ask["orders"])) if ask else ("", "", "")
        table.add_row(*left, *right)
    console = _console()
    console.print(table)
    if bids and asks:
        from lob.engine.prices import format_price, parse_price

        spread = parse_price(asks[0]["price"]) - parse_price(bids[0]["price"])
        console.print(f"spread {format_price(spread)}", style="dim")


def trades(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL.")],
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new trades until Ctrl+C.")
    ] = False,
    url: Url = DEFAULT_URL,
    json_out: Json = False,
) -> None:
    """Show a symbol's recent trades (newest first), or follow new ones as they print."""
    if limit < 1:
        _fail("usage", "--limit must be at least 1", json_out)
    symbol = symbol.upper()
    if follow:
        _follow_trades(symbol, url, json_out)
        return
    doc = _run(
        url, None, json_out, lambda r: r.call("GET", f"/trades/{symbol}", query={"limit": limit})
    )
    if json_out:
        _print_json(doc)
        return
    from rich.table import Table

    table = Table(title=f"{doc['symbol']} trades")
    table.add_column("time")
    table.add_column("price", justify="right")
    table.add_column("qty", justify="right")
    table.add_column("aggressor")
    table.add_column("trade id", justify="right", style="dim")
    for t in doc["trades"]:
        style = "green" if t["aggressor"] == "buy" else "red"
        table.add_row(
            _time(t.get("ts")),
            t["price"],
            f"{t['qty']:,}",
            f"[{style}]{t['aggressor']}[/]",
            str(t["trade_id"]),
        )
    _console().print(table)


def _follow_trades(symbol: str, url: str, json_out: bool) -> None:
    """Subscribe to the trades channel and print each trade as it arrives (JSON lines)."""
    console = None if json_out else _console()

    async def work(rest: Any) -> None:
        from lob.client.ws import WsClient
        from lob.engine.prices import format_price

        await rest.book(symbol, 1)  # an unknown symbol fails here, with its code
        async with WsClient(url) as ws:
            await ws.subscribe_trades(symbol)
            while True:
                kind, _, payload = await ws.updates.get()
                if kind == "disconnected":
                    raise _Failure("unreachable", f"{url}: connection lost ({payload})")
                if kind != "trades":
                    continue
                for t in payload:
                    row = {
                        "symbol": symbol,
                        "price": format_price(t.price),
                        "qty": t.qty,
                        "aggressor": None if t.aggressor is None else str(t.aggressor.value),
                        "ts": t.ts,
                        "trade_id": getattr(t, "trade_id", None),
                    }
                    if console is None:
                        _print_json(row)
                        sys.stdout.flush()
                    else:
                        console.print(
                            f"{_time(row['ts'])}  {symbol}  {row['price']:>10}"
                            f"  {row['qty']:>7,}  {row['aggressor'] or 'cross'}"
                        )

    _run(url, None, json_out, work)


def symbols(url: Url = DEFAULT_URL, json_out: Json = False) -> None:
    """List the traded symbols with reference price, collar, best prices and last trade."""
    doc = _run(url, None, json_out, lambda r: r.call("GET", "/symbols"))
    if json_out:
        _print_json(doc)
        return
    from rich.table import Table

    table = Table(title="symbols")
    table.add_column("symbol", style="bold")
    table.add_column("name")
    for name in ("reference", "bid", "ask", "last", "collar"):
        table.add_column(name, justify="right")
    for s in doc["symbols"]:
        low, high = s.get("collar_low"), s.get("collar_high")
        collar = f"{low} - {high}" if low and high else "-"
        table.add_row(
            s["symbol"],
            s.get("name") or "",
            _dash(s.get("reference_price")),
            _dash(s.get("best_bid")),
            _dash(s.get("best_ask")),
            _dash(s.get("last")),
            collar,
        )
    _console().print(table)


# -- orders --------------------------------------------------------------------


def order(
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    qty: Annotated[int, typer.Argument(help="Shares.")],
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL.")],
    price: Annotated[
        str | None, typer.Argument(help="Limit price in dollars, e.g. 187.25; none: market.")
    ] = None,
    type_: Annotated[
        str | None,
        typer.Option(
            "--type", help="limit or market (default: limit with a price, market without)."
        ),
    ] = None,
    tif: Annotated[
        str | None, typer.Option(help="Time in force: day (default), gtc, ioc or fok.")
    ] = None,
    post_only: Annotated[
        bool, typer.Option("--post-only", help="Reject the order if it would take liquidity.")
    ] = False,
    smp: Annotated[
        str | None,
        typer.Option(
            help="Self-match prevention: cancel_newest (default), cancel_oldest, cancel_both."
        ),
    ] = None,
    id_: Annotated[
        str | None, typer.Option("--id", help="Your id for the order (generated when absent).")
    ] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
    json_out: Json = False,
) -> None:
    """Place an order: lob order buy 100 AAPL 187.25 --tif ioc."""
    side = side.lower()
    if side not in ("buy", "sell"):
        _fail("usage", f"side must be buy or sell, not {side!r}", json_out)
    order_type = type_ or ("limit" if price is not None else "market")
    ack = _run(
        url,
        key,
        json_out,
        lambda r: r.place(
            symbol.upper(),
            side,
            qty,
            price,
            id=id_,
            type=order_type,
            tif=tif,
            post_only=post_only or None,
            smp=smp,
        ),
        need_key=True,
    )
    _print_ack(ack, json_out)


def cancel(
    id_: Annotated[str, typer.Argument(metavar="ID", help="Your id of the order.")],
    url: Url = DEFAULT_URL,
    key: Key = None,
    json_out: Json = False,
) -> None:
    """Cancel the rest of one of your orders."""
    ack = _run(url, key, json_out, lambda r: r.cancel(id_), need_key=True)
    _print_ack(ack, json_out)


def replace(
    id_: Annotated[str, typer.Argument(metavar="ID", help="Your id of the order.")],
    price: Annotated[str | None, typer.Option(help="New limit price in dollars.")] = None,
    qty: Annotated[int | None, typer.Option(help="New open quantity.")] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
    json_out: Json = False,
) -> None:
    """Change an order's price and/or open quantity (same price, smaller qty: keeps its place)."""
    if price is None and qty is None:
        _fail("usage", "give --price, --qty or both", json_out)
    ack = _run(url, key, json_out, lambda r: r.replace(id_, price, qty), need_key=True)
    _print_ack(ack, json_out)


def orders(
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
    json_out: Json = False,
) -> None:
    """List your open orders, oldest first."""
    query = {"symbol": symbol.upper() if symbol else None}
    doc = _run(url, key, json_out, lambda r: r.call("GET", "/orders", query=query), need_key=True)
    if json_out:
        _print_json(doc)
        return
    from rich.table import Table

    table = Table(title="open orders")
    for name in ("id", "symbol", "side", "price", "qty", "filled", "open", "tif", "time"):
        numeric = name in ("price", "qty", "filled", "open")
        table.add_column(name, justify="right" if numeric else "left")
    for o in doc["orders"]:
        table.add_row(
            o["id"],
            o["symbol"],
            _side(o["side"]),
            _dash(o.get("price")) if o.get("type") != "market" else "market",
            f"{o['qty']:,}",
            f"{o['filled_qty']:,}",
            f"{o['leaves_qty']:,}",
            o.get("tif") or "",
            _time(o.get("ts")),
        )
    _console().print(table)


def fills(
    limit: Annotated[int | None, typer.Option(help="At most this many, newest first.")] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
    json_out: Json = False,
) -> None:
    """List your fills, newest first."""
    if limit is not None and limit < 1:
        _fail("usage", "--limit must be at least 1", json_out)
    doc = _run(
        url, key, json_out, lambda r: r.call("GET", "/fills", query={"limit": limit}), need_key=True
    )
    if json_out:
        _print_json(doc)
        return
    _console().print(_fills_table(doc["fills"], "fills"))


def _side(side: str) -> str:
    return f"[green]{side}[/]" if side == "buy" else f"[red]{side}[/]"


def _fills_table(rows: list[dict[str, Any]], title: str) -> Any:
    from rich.table import Table

    table = Table(title=title)
    for name in ("time", "id", "symbol", "side", "price", "qty", "liquidity", "trade id"):
        table.add_column(name, justify="right" if name in ("price", "qty", "trade id") else "left")
    for f in rows:
        table.add_row(
            _time(f.get("ts")),
            f["id"],
            f["symbol"],
            _side(f["side"]),
            f["price"],
            f"{f['qty']:,}",
            f["liquidity"],
            str(f["trade_id"]),
        )
    return table


def _print_ack(ack: dict[str, Any], json_out: bool) -> None:
    if json_out:
        _print_json(ack)
        return
    console = _console()
    o = ack.get("order")
    if o is None:
        console.print(f"{ack['op']} {ack['id']}: done (seq {ack['seq']})", soft_wrap=True)
        return
    price = o.get("price") or "market"
    status = o["status"]
    if o.get("reason"):
        status += f" ({o['reason']})"
    console.print(
        f"{ack['op']} [bold]{o['id']}[/]: {_side(o['side'])} {o['qty']:,} {o['symbol']} @ {price}"
        f" {o.get('tif') or ''}  status [bold]{status}[/], filled {o['filled_qty']:,},"
        f" open {o['leaves_qty']:,}",
        soft_wrap=True,
    )
    if ack.get("fills"):
        console.print(_fills_table(ack["fills"], "fills"))


def register(app: typer.Typer) -> None:
    """Add the scripting commands to the ``lob`` app."""
    for name, command in (
        ("book", book),
        ("trades", trades),
        ("symbols", symbols),
        ("order", order),
        ("cancel", cancel),
        ("replace", replace),
        ("orders", orders),
        ("fills", fills),
    ):
        app.command(name)(command)
