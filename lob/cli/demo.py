"""``lob demo``: a whole exchange, a simulated market and the workstation, with one command.

What runs, each child in its own process group so that stopping kills every
process it started (grandchildren included):

1. ``lob serve`` on loopback (an ephemeral port unless ``--server-port``), in a
   temporary data directory (``--keep-data DIR`` keeps it), with fresh keys:
   ``demo`` for the person and one per simulator account, passed in
   ``LOB_API_KEYS`` so they never appear in ``ps``. Its log goes to
   ``server.log`` in the data directory. Ready means ``GET /health`` answers.
2. The simulator's order flow sent to that server (``lob.cli.demo_feed``, which runs
   ``lob.sim.remote``, the driver of ``lob simulate --url``; log
   ``simulator.log``), unless ``--no-sim``.
3. The workstation, ``lob tui --url URL --key KEY``, in the foreground on this
   terminal; ``--web`` serves it to a browser instead (``lob tui --web``), and
   ``--headless`` runs no front end at all (for scripts and tests, with
   ``--duration``).

Stopping (``q`` or Ctrl+Q in the workstation, Ctrl+C with ``--web`` or
``--headless``, SIGTERM, SIGHUP, or the end of
``--duration``): SIGTERM to each group, then SIGKILL to whatever is left after
a grace period (textual-serve's app processes outlive SIGTERM), until
``killpg(pgid, 0)`` says the group is empty. The server goes last, so the
simulator's last orders are answered and the journal is closed cleanly.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Annotated, Any

import typer

DEFAULT_SYMBOLS = "AAPL,MSFT,NVDA,TSLA,AMZN"
DEFAULT_RATE = 200.0
DEFAULT_MULTICAST = "239.255.40.1:30001"
STARTUP_TIMEOUT = 60.0
GRACE = 5.0
"""Seconds a process group gets after SIGTERM before SIGKILL."""

_LOB = [sys.executable, "-c", "from lob.cli.app import main; main()"]


class _Stop(Exception):
    """A signal asked the demo to stop."""


class _Child:
    """One child process, leader of its own process group (or of none: the foreground TUI)."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], own_group: bool) -> None:
        self.name = name
        self.proc = proc
        self.pgid = proc.pid if own_group else None

    def alive(self) -> bool:
        if self.pgid is None:
            return self.proc.poll() is None
        self.proc.poll()  # reap the leader so the group test below sees it gone
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _signal(self, sig: int) -> None:
        try:
            if self.pgid is None:
                self.proc.send_signal(sig)
            else:
                os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass

    def stop(self, grace: float = GRACE) -> None:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL until nothing is left."""
        if not self.alive():
            return
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        while self.alive():
            self._signal(signal.SIGKILL)
            time.sleep(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=grace)


def _spawn(
    name: str, args: list[str], env: dict[str, str], log: IO[bytes] | None, own_group: bool = True
) -> _Child:
    proc = subprocess.Popen(
        args,
        env=env,
        stdin=subprocess.DEVNULL if own_group else None,
        stdout=log if log is not None else None,
        stderr=subprocess.STDOUT if log is not None else None,
        start_new_session=own_group,
    )
    return _Child(name, proc, own_group)


def _udp_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_multicast() -> str:
    """The default feed address, or the first port pair after it that nothing on this
    host uses (the feed's port, and the next one for retransmission requests)."""
    group, _, first = DEFAULT_MULTICAST.partition(":")
    port = int(first)
    for candidate in range(port, port + 200, 2):
        if _udp_free(candidate) and _udp_free(candidate + 1):
            return f"{group}:{candidate}"
    return DEFAULT_MULTICAST  # lob serve will say what is in the way


def _wait_for_url(log_path: Path, server: _Child, timeout: float) -> str:
    """The REST address ``lob serve`` prints once it listens (read from its log)."""
    import re

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        match = re.search(r"REST\s+(http://\S+)", text)
        if match:
            return match.group(1)
        if server.proc.poll() is not None:
            raise RuntimeError(f"lob serve exited ({server.proc.returncode}):\n{text.strip()}")
        time.sleep(0.05)
    raise RuntimeError(f"lob serve did not start in {timeout:g} s (see {log_path})")


def _wait_healthy(url: str, server: _Child, timeout: float) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if server.proc.poll() is not None:
            raise RuntimeError(f"lob serve exited ({server.proc.returncode})")
        time.sleep(0.1)
    raise RuntimeError(f"{url}/health did not answer in {timeout:g} s")


def demo(
    symbols: Annotated[
        str, typer.Option(help="Comma-separated tickers of lob's universe to trade.")
    ] = DEFAULT_SYMBOLS,
    rate: Annotated[
        float, typer.Option(help="Simulator messages (orders, cancels, replaces) per second.")
    ] = DEFAULT_RATE,
    seed: Annotated[int, typer.Option(help="Simulator random seed.")] = 1,
    no_sim: Annotated[
        bool, typer.Option("--no-sim", help="Run no simulator: an empty market, yours alone.")
    ] = False,
    web: Annotated[
        bool, typer.Option("--web", help="Serve the workstation to a browser instead.")
    ] = False,
    port: Annotated[int, typer.Option(help="--web: port of the web view.")] = 8566,
    server_port: Annotated[int, typer.Option(help="Port of the exchange (0: any free port).")] = 0,
    keep_data: Annotated[
        Path | None,
        typer.Option(
            "--keep-data", help="Keep the journal, history and logs in DIR (default: a temp dir)."
        ),
    ] = None,
    multicast: Annotated[
        str | None,
        typer.Option(
            help="ITCH multicast GROUP:PORT on loopback (TTL 0). Default: "
            f"{DEFAULT_MULTICAST}, or the next free ports when another lob uses them.",
            show_default=False,
        ),
    ] = None,
    no_multicast: Annotated[
        bool, typer.Option("--no-multicast", help="Do not publish the ITCH multicast feed.")
    ] = False,
    headless: Annotated[
        bool,
        typer.Option(
            "--headless", help="No workstation: run until Ctrl+C or --duration (scripts, tests)."
        ),
    ] = False,
    duration: Annotated[
        float | None, typer.Option(help="Stop everything after this many seconds.")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print what runs as one JSON line (with --headless).")
    ] = False,
) -> None:
    """Start an exchange, a simulated market and the workstation; quitting stops them all."""
    if not rate > 0:
        raise typer.BadParameter("must be positive", param_hint="--rate")
    if duration is not None and not duration > 0:
        raise typer.BadParameter("must be positive", param_hint="--duration")
    from lob.sim.universe import UniverseError, load_symbols

    try:
        tickers = [s.symbol for s in load_symbols(symbols)]
    except UniverseError as exc:
        raise typer.BadParameter(f"{exc.code}: {exc.message}", param_hint="--symbols") from None

    temporary = None
    if keep_data is None:
        temporary = tempfile.TemporaryDirectory(prefix="lob-demo-")
        data_dir = Path(temporary.name)
    else:
        data_dir = keep_data.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)

    def on_signal(signum: int, frame: object) -> None:
        raise _Stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    children: list[_Child] = []
    code = 0
    try:
        code = _run(
            data_dir,
            tickers,
            rate,
            seed,
            no_sim,
            web,
            port,
            server_port,
            None if no_multicast else (multicast or _free_multicast()),
            headless,
            duration,
            json_out,
            children,
        )
    except (KeyboardInterrupt, _Stop):
        code = 0
    except RuntimeError as exc:
        print(f"lob demo: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not cut the cleanup
        for child in reversed(children):  # front end, simulator, then the server
            child.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if temporary is not None:
            temporary.cleanup()
    where = f"; data kept in {data_dir}" if keep_data is not None else ""
    print(f"lob demo: stopped {', '.join(c.name for c in children) or 'nothing'}{where}",
          file=sys.stderr)  # fmt: skip
    if code:
        raise typer.Exit(code)


def _run(
    data_dir: Path,
    tickers: list[str],
    rate: float,
    seed: int,
    no_sim: bool,
    web: bool,
    port: int,
    server_port: int,
    multicast: str | None,
    headless: bool,
    duration: float | None,
    json_out: bool,
    children: list[_Child],
) -> int:
    from lob.sim.simulator import agent_accounts

    keys = {"demo": "lob_demo_" + secrets.token_urlsafe(16)}
    if not no_sim:
        for account in agent_accounts():
            keys[account] = "lob_sim_" + secrets.token_urlsafe(16)
    pairs = ",".join(f"{account}:{key}" for account, key in keys.items())
    env = {k: v for k, v in os.environ.items() if k not in ("LOB_API_KEYS", "LOB_DEMO_KEYS")}

    serve = [*_LOB, "serve", "--host", "127.0.0.1", "--port", str(server_port),
             "--data-dir", str(data_dir), "--symbols", ",".join(tickers),
             "--fsync", "off"]  # fmt: skip
    serve += ["--no-multicast"] if multicast is None else ["--multicast", multicast]
    server_log = data_dir / "server.log"
    with open(server_log, "wb") as log:
        children.append(_spawn("server", serve, {**env, "LOB_API_KEYS": pairs}, log))
    server = children[0]
    url = _wait_for_url(server_log, server, STARTUP_TIMEOUT)
    _wait_healthy(url, server, STARTUP_TIMEOUT)

    if not no_sim:
        feed = [sys.executable, "-m", "lob.cli.demo_feed", "--url", url,
                "--symbols", ",".join(tickers), "--rate", f"{rate:g}",
                "--seed", str(seed)]  # fmt: skip
        with open(data_dir / "simulator.log", "wb") as log:
            children.append(_spawn("simulator", feed, {**env, "LOB_DEMO_KEYS": pairs}, log))

    web_url = None
    if web:
        tui = [*_LOB, "tui", "--web", "--host", "127.0.0.1", "--port", str(port),
               "--url", url, "--key", keys["demo"]]  # fmt: skip
        with open(data_dir / "web.log", "wb") as log:
            children.append(_spawn("web view", tui, env, log))
        web_url = f"http://127.0.0.1:{port}/"
    info: dict[str, Any] = {
        "url": url,
        "docs": f"{url}/docs",
        "websocket": url.replace("http://", "ws://", 1) + "/ws",
        "key": keys["demo"],
        "account": "demo",
        "multicast": multicast,
        "symbols": tickers,
        "simulator": None if no_sim else {"rate": rate, "seed": seed},
        "web": web_url,
        "data_dir": str(data_dir),
        "pids": {c.name: c.proc.pid for c in children},
    }
    _announce(info, json_out)

    front: _Child | None = None
    if not web and not headless:
        tui = [*_LOB, "tui", "--url", url, "--key", keys["demo"]]
        front = _spawn("workstation", tui, env, None, own_group=False)
        children.append(front)

    started = time.monotonic()
    while True:
        if front is not None and front.proc.poll() is not None:
            return 0 if front.proc.returncode in (0, None) else front.proc.returncode
        if duration is not None and time.monotonic() - started >= duration:
            return 0
        for child in children:
            if child is not front and child.proc.poll() is not None:
                print(
                    f"lob demo: the {child.name} exited ({child.proc.returncode});"
                    f" see its log in {data_dir}",
                    file=sys.stderr,
                )
                return 1
        time.sleep(0.1)


def _announce(info: dict[str, Any], json_out: bool) -> None:
    if json_out:
        sys.stdout.write(json.dumps(info, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        return
    url = info["url"]
    lines = [
        "lob demo",
        f"  exchange   {url}   (docs: {info['docs']})",
        f"  websocket  {info['websocket']}",
        f"  account    demo, key {info['key']}",
        f"  symbols    {' '.join(info['symbols'])}",
    ]
    group = info["multicast"]
    if isinstance(group, str):
        port = group.rpartition(":")[2]
        lines.append(
            f"  ITCH feed  udp://{group} on 127.0.0.1, retransmit 127.0.0.1:{int(port) + 1}"
        )
        lines.append(
            f"             lob feed listen --group {group} --retransmit 127.0.0.1:{int(port) + 1}"
        )
    sim = info["simulator"]
    if sim:
        lines.append(f"  simulator  {sim['rate']:g} messages/s, seed {sim['seed']}")
    lines.append(f"  data, logs {info['data_dir']}")
    if info["web"]:
        lines.append(f"  web view   {info['web']}   (Ctrl+C stops everything)")
    lines.append(f"  try        lob book {info['symbols'][0]} --url {url}")
    print("\n".join(lines), file=sys.stderr, flush=True)
