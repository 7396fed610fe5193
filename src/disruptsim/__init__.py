"""disruptsim: Monte Carlo simulation of supply disruptions of critical goods and of the
cost and speed of mitigation strategies."""

from ._version import __version__
from .compile import CompiledModel
from .compile import compile_strategy as compile
from .errors import ScenarioError
from .results import SimulationResult
from .scenario import Scenario, load_scenario
from .simulation import simulate

__all__ = [
    "CompiledModel",
    "Scenario",
    "SimulationResult",
    "compile",
    "simulate",
    "ScenarioError",
    "__version__",
    "load_scenario",
]
