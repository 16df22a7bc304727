"""The market simulator: agents, arrival processes and the symbol universe.

    from lob.sim import MarketSimulator

    sim = MarketSimulator(seed=7, symbols="AAPL,MSFT", rate=2_000)
    summary = sim.run(60.0)

See docs/simulator.md for the model, the API and the realism report.
"""

from lob.sim.model import ModelConfig
from lob.sim.simulator import (
    AgentMix,
    MarketSimulator,
    SimSummary,
    SymbolSummary,
    agent_accounts,
)
from lob.sim.universe import Security, UniverseError, load_symbols, load_universe

__all__ = [
    "AgentMix",
    "MarketSimulator",
    "ModelConfig",
    "Security",
    "SimSummary",
    "SymbolSummary",
    "UniverseError",
    "agent_accounts",
    "load_symbols",
    "load_universe",
]
