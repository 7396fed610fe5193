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
    "simulate": ("disruptsim.run.simulation", "simulate"),
    "SimulationResult": ("disruptsim.results.result", "SimulationResult"),
    "BackendError": ("disruptsim.run.distributed", "BackendError"),
    "screen": ("disruptsim.screening", "screen"),
    "draft_scenario": ("disruptsim.screening", "draft_scenario"),
    "load_situation": ("disruptsim.model.situation", "load_situation"),
    "Situation": ("disruptsim.model.situation", "Situation"),
    "Exercise": ("disruptsim.exercise", "Exercise"),
    # the defining modules: ``disruptsim.design.sweep`` is also a submodule's name, and
    # importing the submodule rebinds the package's attribute to the module
    "sweep": ("disruptsim.design.sweep", "sweep"),
    "size": ("disruptsim.design.sizing", "size"),
    "sensitivity": ("disruptsim.design.sensitivity", "sensitivity"),
    "DesignError": ("disruptsim.design", "DesignError"),
}

if TYPE_CHECKING:  # pragma: no cover
    from .design import DesignError, sensitivity, size, sweep
    from .exercise import Exercise
    from .model.situation import Situation, load_situation
    from .results.result import SimulationResult
    from .run.distributed import BackendError
    from .run.simulation import simulate
    from .scenario import Scenario, load_scenario
    from .screening import draft_scenario, screen


def __getattr__(name: str):
    if name == "examples":
        value = import_module("disruptsim.examples")
        globals()[name] = value
        return value
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'disruptsim' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_LAZY, "examples"])


__all__ = [
    "BackendError",
    "DesignError",
    "Exercise",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "Situation",
    "__version__",
    "draft_scenario",
    "examples",
    "load_scenario",
    "load_situation",
    "screen",
    "sensitivity",
    "simulate",
    "size",
    "sweep",
]
