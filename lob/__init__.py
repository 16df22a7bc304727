"""lob: a terminal-first US-equity exchange simulator and trading workstation."""

from lob import native as _native

__version__ = "0.1.0"

# Compiled modules, or their sources (see lob.native).
_native.choose()
