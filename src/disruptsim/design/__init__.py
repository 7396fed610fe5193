"""Designing the response: parameter sweeps, lever sizing and sensitivity analysis.

- :func:`sweep`: every combination of parameter values over the same futures;
- :func:`size`: the smallest level of a lever meeting a target, or the cheapest level;
- :func:`sensitivity`: Morris screening or Sobol indices (SALib) with a ranking-flip map.

Variants change arrays, never code (the numba kernel is compiled once), and all variants
of a study run as one stream of batches (local or Dask). See
``docs/design-the-response.md``. The submodules are imported on first use, so that the
command line starts quickly.
"""

from importlib import import_module
from typing import TYPE_CHECKING

_LAZY = {
    "DesignError": "paths",
    "sweep": "sweep",
    "SweepResult": "sweep",
    "size": "sizing",
    "SizingResult": "sizing",
    "sensitivity": "sensitivity",
    "SensitivityResult": "sensitivity",
}

if TYPE_CHECKING:  # pragma: no cover
    from .paths import DesignError
    from .sensitivity import SensitivityResult, sensitivity
    from .sizing import SizingResult, size
    from .sweep import SweepResult, sweep


def __getattr__(name: str):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'disruptsim.design' has no attribute {name!r}") from None
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DesignError",
    "SensitivityResult",
    "SizingResult",
    "SweepResult",
    "sensitivity",
    "size",
    "sweep",
]
