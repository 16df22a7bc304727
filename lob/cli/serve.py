"""``lob serve``: run the whole exchange in one process (docs/rest.md, docs/protocol-websocket.md).

Imports here are the standard library and Typer only; the server, uvloop,
websockets and DuckDB load when the command runs, so ``lob --help`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

_SYMBOLS_HELP = (
    "Symbols to trade: a comma-separated list picked from the shipped universe, or a CSV"
    " file (symbol,reference_price). Default: the whole shipped universe."
)
_KEY_HELP = (
    "ACCOUNT:KEY pair that may trade (repeat for more). Also read from LOB_API_KEYS. Without"
    " any, keys stored in the data directory are used, or demo keys are created there."
)
_MCAST_HELP = "ITCH/MoldUDP64 multicast GROUP:PORT on the loopback interface (TTL 0)."
_CALENDAR_HELP = (
    "The trading day to follow. continuous: trade at any hour, states change only by"
    " operator halts (the default, so a demo works whenever it runs). nasdaq: the New York"
    " day with the opening cross at 09:30 and the closing cross at 16:00, closed on weekends."
    " compressed: the whole day (pre-open, opening auction and cross, continuous, closing"
    " auction and cross) in --day-length minutes, then the next day."
)


def _is_duckdb(path: Path) -> bool:
    """Whether ``path`` starts like a DuckDB database file (a checksum, then DUCK)."""
    with path.open("rb") as f:
        return f.read(12)[8:] == b"DUCK"


def _helper_cpus(cpu: int) -> tuple[int, ...]:
    """The CPUs left to the helpers when the sequencer keeps to ``cpu``; checks ``cpu``."""
    from lob.priority import allowed_cpus

    allowed = allowed_cpus()
    if allowed is None:
        raise typer.BadParameter("this system does not let lob choose CPUs", param_hint="--cpu")
    if cpu not in allowed:
        raise typer.BadParameter(
            f"CPU {cpu} is not one this process may use ({_cpu_ranges(allowed)})",
            param_hint="--cpu",
        )
    if len(allowed) < 2:
        raise typer.BadParameter(
            f"needs two CPUs or more; this process may use only {cpu}", param_hint="--cpu"
        )
    return tuple(sorted(allowed - {cpu}))


def _cpu_ranges(cpus: frozenset[int]) -> str:
    """``0-3,6`` for {0, 1, 2, 3, 6}."""
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and runs[-1][1] == cpu - 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on. Anything but loopback is warned about.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port for REST and WebSocket (/ws).")] = 8000,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Journal, API keys and history live here.")
    ] = Path("lob-data"),
    symbols: Annotated[str | None, typer.Option(help=_SYMBOLS_HELP)] = None,
    api_key: Annotated[
        list[str] | None, typer.Option("--api-key", help=_KEY_HELP, show_default=False)
    ] = None,
    multicast: Annotated[str, typer.Option(help=_MCAST_HELP)] = "239.255.40.1:30001",
    no_multicast: Annotated[
        bool, typer.Option("--no-multicast", help="Do not publish the ITCH multicast feed.")
    ] = False,
    fsync: Annotated[
        str,
        typer.Option(
            help="batch: one fsync per group of inputs (default); always: one per input;"
            " off: leave it to the OS (survives a crash of lob, not of the machine)."
        ),
    ] = "batch",
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Do not write the DuckDB history.")
    ] = False,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            help="The DuckDB history file (default: history.duckdb in the data directory)."
            " It is rebuilt from the journal at every start, so it can go on another disk,"
            " or on a memory file system (/dev/shm), to keep its writes off the journal's.",
            show_default=False,
        ),
    ] = None,
    md_interval: Annotated[
        float,
        typer.Option(
            help="Milliseconds between market-data sends to WebSocket subscribers, at the"
            " least. 0 (default): each batch's market data before its acks. More: acks go"
            " at once, and the market data of every batch in the interval leaves as one send"
            " per subscriber (for many subscribers under heavy load).",
        ),
    ] = 0.0,
    calendar: Annotated[str, typer.Option(help=_CALENDAR_HELP)] = "continuous",
    day_length: Annotated[
        float,
        typer.Option(help="Minutes of wall time per compressed day (--calendar compressed)."),
    ] = 10.0,
    luld: Annotated[
        bool,
        typer.Option(
            "--luld",
            help="Limit Up-Limit Down bands for every symbol (tier 1 for the shipped large"
            " caps, tier 2 otherwise) around its reference price.",
        ),
    ] = False,
    admin_key: Annotated[
        str | None,
        typer.Option(
            help="Bearer key of the operator endpoints (halts: POST /admin/symbols/SYM/state)."
            " Also read from LOB_ADMIN_KEY. Without one they answer 403.",
            show_default=False,
        ),
    ] = None,
    cpu: Annotated[
        int | None,
        typer.Option(
            help="Keep the sequencer (the event loop and the journal's sync process) to this"
            " CPU, and the history process to the others lob serve may use. On a machine"
            " shared with clients, start them off this CPU too (taskset). Needs two CPUs.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the exchange: matching, REST + WebSocket on one port, ITCH multicast, journal."""
    from lob.server.auth import AuthError, load_keys
    from lob.server.config import ServerConfig
    from lob.sim.universe import UniverseError, load_symbols, load_universe

    if fsync not in ("batch", "always", "off"):
        raise typer.BadParameter("use batch, always or off", param_hint="--fsync")
    if not 0 <= md_interval <= 1_000:
        raise typer.BadParameter("from 0 to 1000 milliseconds", param_hint="--md-interval")
    if calendar not in ("continuous", "nasdaq", "compressed"):
        raise typer.BadParameter("use continuous, nasdaq or compressed", param_hint="--calendar")
    if not 1 / 6 <= day_length <= 24 * 60:
        raise typer.BadParameter("from 0.17 (10 s) to 1440 minutes", param_hint="--day-length")
    if history is not None:
        if no_history:
            raise typer.BadParameter("not with --no-history", param_hint="--history")
        if history.is_dir() or not history.parent.is_dir():
            raise typer.BadParameter(
                f"{history} is not a file in an existing directory", param_hint="--history"
            )
        if history.is_file() and history.stat().st_size and not _is_duckdb(history):
            raise typer.BadParameter(
                f"{history} exists and is not a DuckDB database", param_hint="--history"
            )
    helpers = _helper_cpus(cpu) if cpu is not None else ()
    admin = admin_key or os.environ.get("LOB_ADMIN_KEY") or None
    if admin is not None and (len(admin) < 8 or any(c.isspace() for c in admin)):
        raise typer.BadParameter("8+ characters, no spaces", param_hint="--admin-key")
    group: tuple[str, int] | None = None
    if not no_multicast:
        from lob.feed.net import parse_address

        try:
            group = parse_address(multicast, 30001)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--multicast") from None
    try:
        securities = load_symbols(symbols) if symbols else load_universe()
    except UniverseError as exc:
        raise typer.BadParameter(f"{exc.code}: {exc.message}", param_hint="--symbols") from None
    try:
        keys, created = load_keys(api_key or [], os.environ.get("LOB_API_KEYS"), data_dir)
    except AuthError as exc:
        raise typer.BadParameter(str(exc), param_hint="--api-key") from None
    config = ServerConfig(
        data_dir=data_dir,
        securities=tuple(securities),
        host=host,
        port=port,
        multicast=group,
        fsync=fsync,
        history=not no_history,
        history_file=history,
        md_interval=md_interval / 1_000,
        gc_tuning=True,
        calendar=calendar,
        day_length=int(day_length * 60 * 1_000_000_000),
        luld=luld,
        admin_key=admin,
        cpu=cpu,
        helper_cpus=helpers,
    )
    from lob.server.run import run_server

    code = run_server(config, keys, created)
    if code:
        raise typer.Exit(code)
