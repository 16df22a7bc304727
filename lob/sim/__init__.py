"""The market simulator: agents, arrival processes and the symbol universe.

See docs/simulator.md.
"""

from lob.sim.universe import Security, UniverseError, load_symbols, load_universe

__all__ = ["Security", "UniverseError", "load_symbols", "load_universe"]
