"""Point-in-time views of a book, each stamped with the last sequence it includes."""

from __future__ import annotations

from typing import NamedTuple

from lob.engine.book import LevelView, OrderView

__all__ = ["L2Snapshot", "OrderSnapshot"]


class L2Snapshot(NamedTuple):
    """Price levels, best first: the state after event ``seq``."""

    symbol: str
    seq: int
    bids: list[LevelView]
    asks: list[LevelView]


class OrderSnapshot(NamedTuple):
    """Every resting order in priority order: the state after event ``seq``."""

    symbol: str
    seq: int
    bids: list[OrderView]
    asks: list[OrderView]
