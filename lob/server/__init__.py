"""``lob serve``: one process running a whole exchange.

asyncio on uvloop; the matching engine runs on the event loop as the single
sequencer. REST and WebSocket share one port (``http.py`` hands ``/ws``
upgrades to ``ws.py``); every input is journaled before it is applied and
acknowledged (``sequencer.py``, ``lob.store.journal``); market data fans out
from ``marketdata.py``; the ITCH multicast feed and the DuckDB history are
attached in ``wiring.py``. Start one with ``ExchangeServer`` (``server.py``).
"""
