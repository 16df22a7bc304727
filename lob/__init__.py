"""lob: a terminal-first US-equity exchange simulator and trading workstation."""

__version__ = "0.1.0"
