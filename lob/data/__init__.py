"""Data files shipped with lob (read with ``importlib.resources``).

- ``universe.csv``: the symbol universe the simulator and the server start
  with (see ``lob.sim.universe``).
"""
