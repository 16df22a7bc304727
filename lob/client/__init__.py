"""An asyncio client for ``lob serve``: REST (``RestClient``) and WebSocket (``WsClient``).

Used by the TUI, the CLI's scripting commands and the simulator's remote mode.
Market data subscriptions keep a local L2 book per symbol that handles gaps and
resyncs by itself (``lob.feed.l2_builder.L2BookBuilder``).
"""

from lob.client.rest import LobApiError, RestClient
from lob.client.ws import WsClient

__all__ = ["LobApiError", "RestClient", "WsClient"]
