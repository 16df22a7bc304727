"""An asyncio client for ``lob serve``: REST (``RestClient``), WebSocket (``WsClient``), both
(``ExchangeClient``).

Used by the TUI, the CLI's scripting commands and the simulator's remote mode.
Market data subscriptions keep a local L2 book per symbol that handles gaps and
resyncs by itself (``lob.feed.l2_builder.L2BookBuilder``).
"""

from lob.client.exchange import ExchangeClient
from lob.client.rest import LobApiError, RestClient
from lob.client.ws import WsClient

__all__ = ["ExchangeClient", "LobApiError", "RestClient", "WsClient"]
