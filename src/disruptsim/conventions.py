"""The shared vocabulary of disruptsim: one place for every name and constant that
several rooms of the package use.

- the metric registry (:data:`METRIC_SPECS`): every per-run metric with its unit and
  role, in the order of the last axis of the kernel's output, and integer indices
  (``M_UNMET`` ...) that numba reads as compile-time constants;
- labels: :data:`SYSTEM` (the system rows), :data:`DOMESTIC` (the home country as a
  source);
- numbers: :data:`TOL`, :data:`FIXED`, :data:`DAYS_PER_YEAR`;
- helpers: :func:`ramp`, :func:`whole_days`;
- the exit codes of the command line.

This module needs NumPy only (no numba, pandas or SciPy): loading a saved result reads
the registry from here without importing the kernel. The model's conventions (what a
ramp or a tolerance means) are described in ``docs/model.md``; the metrics in
``docs/results.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "DAYS_PER_YEAR",
    "DEFAULT_RUNS",
    "DOMESTIC",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "FIXED",
    "METRICS",
    "METRIC_SPECS",
    "MITIGATION_PARTS",
    "N_METRICS",
    "SYSTEM",
    "TOL",
    "Metric",
    "metric_index",
    "ramp",
    "ramp_share",
    "whole_days",
]

Role = Literal["flag", "day", "share", "units", "cost-part", "cost", "cost-total"]


@dataclass(frozen=True)
class Metric:
    """One per-run metric of the kernel's output.

    Attributes
    ----------
    name : str
        Column name (in ``runs.parquet`` and :meth:`SimulationResult.runs`).
    unit : str
        ``"flag"`` (0 or 1), ``"day"``, ``"share"`` (0..1), ``"units"`` (the product's
        unit; not summed over products) or ``"euro"``.
    role : str
        What the metric is for: ``"cost-part"`` marks the parts that add up to
        ``mitigation_cost`` (the registry, not a position, decides which they are);
        ``"cost"`` another cost (the shortage cost), ``"cost-total"`` a sum of costs;
        otherwise the unit's kind (``"flag"``, ``"day"``, ``"share"``, ``"units"``).
    """

    name: str
    unit: str
    role: Role


METRIC_SPECS: tuple[Metric, ...] = (
    Metric("disrupted", "flag", "flag"),
    Metric("first_disruption_day", "day", "day"),
    Metric("unmet_units", "units", "units"),
    Metric("shortage_days", "day", "day"),
    Metric("min_fulfilment", "share", "share"),
    Metric("min_stock", "units", "units"),
    Metric("tts_days", "day", "day"),
    Metric("ttr_days", "day", "day"),
    Metric("shortage_cost", "euro", "cost"),
    Metric("holding_cost", "euro", "cost-part"),
    Metric("stockpile_fixed_cost", "euro", "cost-part"),
    Metric("source_premium_cost", "euro", "cost-part"),
    Metric("diversification_cost", "euro", "cost-part"),
    Metric("substitution_cost", "euro", "cost-part"),
    Metric("reshoring_capex", "euro", "cost-part"),
    Metric("reshoring_opex", "euro", "cost-part"),
    Metric("mitigation_cost", "euro", "cost-total"),
    Metric("total_cost", "euro", "cost-total"),
    Metric("diversified_units", "units", "units"),
    Metric("substituted_units", "units", "units"),
    Metric("stock_released_units", "units", "units"),
    Metric("restrained_units", "units", "units"),
    Metric("demand_restraint_cost", "euro", "cost-part"),
    Metric("recycled_units", "units", "units"),
    Metric("recycling_capex", "euro", "cost-part"),
    Metric("recycling_opex", "euro", "cost-part"),
)
"""Every per-run metric, in the order of the last axis of the kernel's output
(``out[run, product, metric]``; the last product row is the system). Defined in
``docs/results.md``."""

METRICS: tuple[str, ...] = tuple(m.name for m in METRIC_SPECS)
"""The metrics' names, in output order."""
N_METRICS = len(METRICS)
MITIGATION_PARTS: tuple[str, ...] = tuple(m.name for m in METRIC_SPECS if m.role == "cost-part")
"""The parts that add up to ``mitigation_cost`` (the metrics with role ``cost-part``)."""


def metric_index(name: str) -> int:
    """Position of metric ``name`` on the last axis of the kernel's output."""
    try:
        return METRICS.index(name)
    except ValueError:
        raise KeyError(f"no metric {name!r}; metrics: {', '.join(METRICS)}") from None


# Plain int constants (numba compiles module-level ints as constants).
M_DISRUPTED = metric_index("disrupted")
M_FIRST = metric_index("first_disruption_day")
M_UNMET = metric_index("unmet_units")
M_SHORT_DAYS = metric_index("shortage_days")
M_MIN_FULFIL = metric_index("min_fulfilment")
M_MIN_STOCK = metric_index("min_stock")
M_TTS = metric_index("tts_days")
M_TTR = metric_index("ttr_days")
M_SHORTAGE_COST = metric_index("shortage_cost")
M_HOLDING = metric_index("holding_cost")
M_STOCK_FIXED = metric_index("stockpile_fixed_cost")
M_PREMIUM = metric_index("source_premium_cost")
M_DIV_COST = metric_index("diversification_cost")
M_SUB_COST = metric_index("substitution_cost")
M_CAPEX = metric_index("reshoring_capex")
M_OPEX = metric_index("reshoring_opex")
M_MITIGATION = metric_index("mitigation_cost")
M_TOTAL = metric_index("total_cost")
M_DIV_UNITS = metric_index("diversified_units")
M_SUB_UNITS = metric_index("substituted_units")
M_RELEASED = metric_index("stock_released_units")
M_RESTRAINED = metric_index("restrained_units")
M_RESTRAINT_COST = metric_index("demand_restraint_cost")
M_RECYCLED = metric_index("recycled_units")
M_RC_CAPEX = metric_index("recycling_capex")
M_RC_OPEX = metric_index("recycling_opex")


def _indices(*roles: str) -> np.ndarray:
    return np.array([i for i, m in enumerate(METRIC_SPECS) if m.role in roles], dtype=np.int64)


COST_PART_INDEX = _indices("cost-part")
"""Positions of the parts of ``mitigation_cost`` (role ``cost-part``), in registry order."""
COST_INDEX = _indices("cost", "cost-part")
"""Positions of the costs a system row sums over products (shortage cost and the parts)."""
UNIT_INDEX = _indices("units")
"""Positions of the unit metrics (role ``units``): per product only, NaN on system rows."""

SYSTEM = "system"
"""Product label of the system-level rows (all final demand together)."""
DOMESTIC = "domestic"
"""Source name of the home country's own production."""

TOL = 1e-9
"""A gap counts when it exceeds this fraction of the requirement."""
FIXED = 4294967296.0
"""Fixed-point scale of the daily accumulators (2**32 units per 1.0)."""
DAYS_PER_YEAR = 365
"""Days per year, for annual rates (holding cost, hazard probabilities)."""

DEFAULT_RUNS = 10_000
"""Monte Carlo runs per strategy of :func:`disruptsim.simulate` and of ``disruptsim run``
without ``--runs`` (the same default in both; see ``docs/results.md``, *Default run
count*)."""

EXIT_OK = 0
"""Exit status of a command that succeeded."""
EXIT_INTERNAL = 1
"""Exit status of an internal error (a bug)."""
EXIT_INPUT = 2
"""Exit status of bad input: an invalid scenario, unreadable file or bad argument."""


def ramp_share(k, ramp_days):
    """Share of full value a ramp has reached ``k`` (a scalar) days after it started.

    ``min(1, (k + 1) / (ramp_days + 1))`` for ``k >= 0``, 0 before (``docs/model.md``).
    Plain Python that numba compiles too: the kernel uses this very function.
    """
    if k < 0:
        return 0.0
    return min(1.0, (k + 1.0) / (ramp_days + 1.0))


def ramp(k, ramp_days: float):
    """:func:`ramp_share` for a scalar ``k`` (a float) or an array of days (an array)."""
    if np.ndim(k) == 0:
        return ramp_share(k, ramp_days)
    k = np.asarray(k, dtype=np.float64)
    return np.where(k >= 0, np.minimum(1.0, (k + 1.0) / (ramp_days + 1.0)), 0.0)


def whole_days(value: float) -> int:
    """Round a duration in days to whole days (half up)."""
    return int(np.floor(value + 0.5))
