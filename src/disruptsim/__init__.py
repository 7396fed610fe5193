"""disruptsim: Monte Carlo simulation of supply disruptions of critical goods and of the
cost and speed of mitigation strategies.

The heavy parts (pandas, numba, the kernel) are imported on first use, so that
``disruptsim --version`` and ``disruptsim validate`` start quickly.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__
from .errors import ScenarioError

_LAZY = {
    "load_scenario": ("disruptsim.scenario", "load_scenario"),
    "Scenario": ("disruptsim.scenario", "Scenario"),
    "compile": ("disruptsim.compiler", "compile_strategy"),
    "CompiledModel": ("disruptsim.compiler", "CompiledModel"),
    "simulate": ("disruptsim.simulation", "simulate"),
    "SimulationResult": ("disruptsim.results", "SimulationResult"),
    "BackendError": ("disruptsim.distributed", "BackendError"),
    "sweep": ("disruptsim.design", "sweep"),
    "size": ("disruptsim.design", "size"),
    "sensitivity": ("disruptsim.design", "sensitivity"),
    "DesignError": ("disruptsim.design", "DesignError"),
}

if TYPE_CHECKING:  # pragma: no cover
    from .compiler import CompiledModel
    from .compiler import compile_strategy as compile
    from .design import DesignError, sensitivity, size, sweep
    from .distributed import BackendError
    from .results import SimulationResult
    from .scenario import Scenario, load_scenario
    from .simulation import simulate


def __getattr__(name: str):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'disruptsim' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_LAZY])


__all__ = [
    "BackendError",
    "CompiledModel",
    "DesignError",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "__version__",
    "compile",
    "load_scenario",
    "sensitivity",
    "simulate",
    "size",
    "sweep",
]
