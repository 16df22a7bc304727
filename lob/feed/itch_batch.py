"""The ITCH messages of a batch of inputs, mapped as each input is applied.

Why it exists: publishing (numbering, keeping history, packing MoldUDP64
packets) costs per call, so a server hands the publisher every message of one
batch of inputs at once, while the sequencer runs the mapping per input, in
order. This listener runs for every order, so it is compiled with the order
path; what to do when a batch begins (schedule the flush) is the caller's.
"""

from __future__ import annotations

from collections.abc import Callable

from lob.engine.events import Event
from lob.feed.itch import Message
from lob.feed.itch_mapper import ItchMapper

__all__ = ["ItchBatch"]


class ItchBatch:
    """Messages mapped since the last ``take``; ``began`` runs when the first one arrives."""

    def __init__(self, mapper: ItchMapper, began: Callable[[], None]) -> None:
        self.mapper = mapper
        self.began = began
        self.pending: list[Message] = []

    def on_events(self, events: list[Event]) -> None:
        """The sequencer's listener: map one input's events and hold its messages."""
        messages = self.mapper.map(events)
        if messages:
            first = not self.pending
            self.pending.extend(messages)
            if first:
                self.began()

    def take(self) -> list[Message]:
        """Every message held, in order; the batch is empty after."""
        messages = self.pending
        self.pending = []
        return messages
