"""What a running exchange is told: addresses, data, keys, feed and limits.

One frozen dataclass, filled by ``lob serve`` (or a test) and read everywhere
else, so that every limit the server enforces is named in one place and
documented with its default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lob.sim.universe import Security

__all__ = ["HISTORY_FILE", "Limits", "ServerConfig"]

HISTORY_FILE = "history.duckdb"
"""The DuckDB history's file name in the data directory, unless told otherwise."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Hard limits per request, connection and account."""

    max_body: int = 64 * 1024
    """Largest HTTP request body, bytes (413 ``payload_too_large`` beyond)."""
    max_frame: int = 64 * 1024
    """Largest WebSocket message, bytes (the connection is closed with 1009 beyond)."""
    max_open_orders: int = 10_000
    """Open orders per account (``too_many_orders`` beyond)."""
    ws_rate: float = 10_000.0
    """Messages per second a WebSocket connection may send, sustained."""
    ws_burst: int = 20_000
    """Messages a WebSocket connection may send in one burst."""
    ws_queue: int = 512
    """Messages queued to one WebSocket client before its market data is conflated."""
    ws_queue_hard: int = 20_000
    """Messages queued to one client (acks and executions) before it is disconnected."""
    ws_conflate_levels: int = 5_000
    """Price levels a lagging subscription may accumulate before it is resynced instead."""
    ws_slow_seconds: float = 10.0
    """How long a client may stay behind before it is disconnected as too slow."""
    ws_send_buffer: int | None = None
    """Kernel send buffer (SO_SNDBUF) of a WebSocket connection; None keeps the OS default.
    A small one notices a client that stopped reading sooner."""
    ws_ping_interval: float = 20.0
    """Seconds between server pings; a client that does not answer in as long is closed."""
    idle_timeout: float = 60.0
    """Seconds an idle HTTP keep-alive connection stays open."""
    max_subscriptions: int = 1_000
    """Subscriptions per WebSocket connection."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything ``lob serve`` needs to run one exchange."""

    data_dir: Path
    securities: tuple[Security, ...]
    api_keys: tuple[tuple[str, str], ...] = ()
    """(account, key) pairs; empty means keys from the data directory (or new demo keys)."""
    host: str = "127.0.0.1"
    port: int = 8000
    multicast: tuple[str, int] | None = ("239.192.0.1", 30001)
    """ITCH/MoldUDP64 group and port on the loopback interface; None turns the feed off."""
    retransmit_port: int | None = None
    """UDP port of the retransmission server (None: the multicast port + 1; 0: any)."""
    feed_history: int = 100_000
    """ITCH messages the retransmission server can resend; older gaps need the snapshot."""
    fsync: str = "batch"
    history: bool = True
    """Write events to the DuckDB history (``history_path``)."""
    history_file: Path | None = None
    """Where the DuckDB history lives; None: ``history.duckdb`` in the data directory.
    It is rebuilt from the journal at every start, so it may live on another disk,
    or on a memory file system, without risk to anything acknowledged."""
    limits: Limits = field(default_factory=Limits)
    ring_capacity: int = 4096
    """L2 deltas kept per symbol for catch-up and resume."""
    md_batch: bool = True
    """Send market data once per batch of inputs (one frame per subscriber), not per input."""
    md_interval: float = 0.0
    """Seconds: the least time between two market-data sends to WebSocket subscribers.
    0 sends each batch's market data before its acks; more lets acks go at once and
    joins the market data of every batch within the interval into one send per
    subscriber (each send is a system call per subscriber)."""
    gc_tuning: bool = False
    """Keep the garbage collector's full collections off the trading path
    (``lob.server.collector``); for a process that runs one exchange and nothing else."""
    calendar: str = "continuous"
    """The trading day to follow: continuous, nasdaq or compressed (lob.server.day)."""
    day_length: int = 0
    """Length of a compressed day, ns."""
    day_tick: float = 0.2
    """Seconds between the day timer's looks at the clock."""
    luld: bool = False
    """Switch Limit Up-Limit Down bands on for every symbol with a reference price."""
    admin_key: str | None = None
    """Bearer key of the operator endpoints (/admin/...); None turns them off."""
    cpu: int | None = None
    """The CPU the sequencer keeps to: the event loop's thread, every thread it starts and
    the journal's sync process (``run_server`` pins them); None: wherever the OS puts them."""
    helper_cpus: tuple[int, ...] = ()
    """The CPUs the history process keeps to (its DuckDB threads too); empty: any it may use.
    With ``cpu`` set, these are the others, so that the history never runs on its core."""

    @property
    def history_path(self) -> Path:
        """The DuckDB history file this exchange writes."""
        return self.history_file or self.data_dir / HISTORY_FILE
