"""The engine's exceptions, in a module of their own.

They subclass built-in errors (``AssertionError``, ``KeyError``) so callers can catch
them as such; a class compiled to native code cannot, so they live apart from the
compiled modules (see ``lob.native``).
"""

from __future__ import annotations

__all__ = ["IntegrityError", "UnknownSymbolError"]


class IntegrityError(AssertionError):
    """The book's structure contradicts itself (raised by ``check_integrity``)."""


class UnknownSymbolError(KeyError):
    """A snapshot or book was asked for a symbol the engine does not trade."""
