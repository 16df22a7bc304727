"""Garbage collection for a running exchange: survivors frozen while it trades, a full
collection when it is quiet.

Why: CPython's collector walks every tracked container it holds in the older
generations, and a trading exchange holds many (resting orders, the accounts'
order statuses and fills, the delta rings). On lob's order path in one
process, after the views have filled up (``benchmarks/order_path_gc_benchmark.py``),
the default collector made full collections of about 270 ms each, a sixth of
the CPU time, and each pause lands on every order queued behind it. The order
path makes no reference cycles, so walking the old objects again and again
finds nothing. That must stay true: a cycle made per order would be frozen
with the survivors and kept until the next quiet spell, memory growing with
the load (batch messages did so once, through compiled closures that referred
to each other). ``tests/server/test_collector.py`` checks it with the
collector off and orders of every kind going through a server.

So while the exchange trades:

- start-up state (the journal's replay) is moved out of the collector's reach
  (``gc.freeze``);
- what is alive is frozen once a second, which also restarts the count of
  net new objects that starts a young collection; that count is set at
  ``YOUNG``, above what a second of trading adds at lob's rates, so under load
  the young collections do not run either. Each walks every object still
  alive since the last one and finds nothing to free: at a count of 10,000
  they ran about 40 times a second under saturated batched load, 1.5-4 ms
  each, with the orders in flight behind them;
- when no input has arrived for ``QUIET`` seconds, everything is unfrozen and
  collected once in full, so a cycle made by a connection's coming and going
  is still freed, at a moment when the pause delays nobody.

``stop`` puts the collector back as it was. ``lob serve`` turns this on
(``ServerConfig.gc_tuning``); a process that runs servers among other work
(the tests) leaves it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable

__all__ = ["QUIET", "YOUNG", "CollectorPolicy", "young_only"]

YOUNG = 1_000_000
"""Net new tracked objects that start a young collection: more than a second of trading
adds (about 300,000 with 4,096 orders in flight at 57,000 orders/s), so the freeze comes
first. The history process, which does not freeze, collects at this count too."""
QUIET = 2.0
"""Seconds without input after which the collector runs once in full."""
FREEZE_EVERY = 1.0
"""Seconds between freezes of everything alive (each restarts the young count)."""


def young_only() -> tuple[int, int, int]:
    """Freeze every object alive now and collect only young ones from here on; return
    the thresholds this replaced."""
    saved = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, 1_000, 1_000)
    return saved


class CollectorPolicy:
    """Keeps full collections off the trading path of one process's exchange."""

    def __init__(
        self, inputs: Callable[[], int], quiet: float = QUIET, every: float = FREEZE_EVERY
    ) -> None:
        self._inputs = inputs
        self.quiet = quiet
        self.every = every
        self.full_collections = 0
        self._saved: tuple[int, int, int] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Freeze what exists now and begin the once-a-second freezes (needs a loop)."""
        self._saved = young_only()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        seen = self._inputs()
        quiet_for = 0.0
        collected = False
        while True:
            await asyncio.sleep(self.every)
            now = self._inputs()
            if now != seen:
                seen, quiet_for, collected = now, 0.0, False
            else:
                quiet_for += self.every
            if quiet_for >= self.quiet and not collected:
                gc.unfreeze()
                gc.collect()
                self.full_collections += 1
                collected = True
            gc.freeze()

    async def stop(self) -> None:
        """Stop the freezes; unfreeze everything and restore the thresholds."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._saved is not None:
            gc.unfreeze()
            gc.set_threshold(*self._saved)
            self._saved = None
