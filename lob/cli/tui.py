"""``lob tui``: the trading workstation, on an embedded exchange or a ``lob serve``.

Textual, the simulator and the client are imported only when the command runs,
so ``lob --help`` stays instant.
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import Annotated, NoReturn

import typer

DEFAULT_WEB_PORT = 8566


def _fail(code: str, message: str) -> NoReturn:
    print(json.dumps({"error": {"code": code, "message": message}}), file=sys.stderr)
    raise typer.Exit(2)


def tui(
    url: Annotated[
        str | None,
        typer.Option(help="Connect to a lob serve at this URL (e.g. http://127.0.0.1:8080)."),
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="API key for --url (the account you trade as).")
    ] = None,
    symbols: Annotated[
        str | None,
        typer.Option(help="Embedded mode: symbols to simulate, 'AAPL,MSFT' or a CSV file."),
    ] = None,
    rate: Annotated[
        float, typer.Option(help="Embedded mode: simulator messages per second, all symbols.")
    ] = 2_000.0,
    seed: Annotated[int, typer.Option(help="Embedded mode: simulator random seed.")] = 0,
    speed: Annotated[
        float, typer.Option(help="Embedded mode: simulated seconds per wall second.")
    ] = 1.0,
    account: Annotated[str, typer.Option(help="Embedded mode: the account you trade as.")] = "me",
    day_length: Annotated[
        float | None,
        typer.Option(
            help="Embedded mode: run a whole trading day (pre-open, opening cross, "
            "continuous, closing cross) every MINUTES of simulated time, as "
            "'lob serve --calendar compressed' does; without it the market never closes.",
            metavar="MINUTES",
        ),
    ] = None,
    web: Annotated[
        bool, typer.Option("--web", help="Serve the workstation to a browser instead.")
    ] = False,
    host: Annotated[str, typer.Option(help="--web: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="--web: port to listen on.")] = DEFAULT_WEB_PORT,
) -> None:
    """Open the trading workstation (embedded exchange with a simulated market by default)."""
    if web:
        _serve_web(host, port)
        return
    if url is not None:
        _run_remote(url, key)
        return
    from lob.sim.universe import UniverseError, load_symbols, load_universe

    try:
        securities = load_symbols(symbols) if symbols else load_universe()
    except UniverseError as exc:
        _fail(exc.code, exc.message)
    if not rate > 0 or not speed > 0:
        _fail("invalid_field", "--rate and --speed must be positive")
    if day_length is not None and not day_length >= 10 / 60:
        _fail("invalid_field", "--day-length must be at least 10 seconds (0.17 minutes)")

    from lob.tui.app import WorkstationApp
    from lob.tui.simulated import simulated_source

    source = simulated_source(securities, seed=seed, rate=rate, speed=speed, account=account)
    if day_length is not None:
        from lob.tui.day import EmbeddedDay

        source.day = EmbeddedDay.minutes(source, day_length)
        source.description += f", {day_length:g}-minute day"
    WorkstationApp(source).run()


def _run_remote(url: str, key: str | None) -> None:
    from lob.tui.app import WorkstationApp
    from lob.tui.remote import RemoteSource

    app = WorkstationApp(RemoteSource(url, key))
    app.run()
    if app.start_error is not None:
        _fail(*app.start_error)


def _serve_web(host: str, port: int) -> None:
    """Serve ``lob tui`` (without --web) through textual-serve; one app per browser tab."""
    from textual_serve.server import Server

    args = [a for a in sys.argv[1:] if a != "--web"]
    # Drop --host/--port and their values: they belong to the web server, not the app.
    cleaned: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("--host", "--port"):
            skip = True
            continue
        if arg.startswith(("--host=", "--port=")):
            continue
        cleaned.append(arg)
    if cleaned and cleaned[0] == "tui":
        cleaned = cleaned[1:]
    command = shlex.join([sys.executable, "-m", "lob.tui", *cleaned])
    print(f"lob tui: serving the workstation at http://{host}:{port}/", flush=True)
    Server(command, host=host, port=port, title="lob").serve()
