"""Memory pre-flight: what a study will hold, checked against a budget before allocating.

A study keeps per strategy: per-run metrics (``runs x rows x metrics``), daily sums
(``days x products``), the compiled per-day arrays, daily traces of the first
``trace_runs`` runs (``trace_runs x days x products``, twice) and, while a batch runs,
per-lane daily accumulators (``lanes x days x products``, three times). Traces dominate
long horizons: 100,000 days x 2 products x 1,000 traced runs is 1.6 GB per strategy.

:func:`plan_memory` estimates this. When it exceeds the budget (default: half the
memory available now, see :func:`available_memory`), it first keeps fewer traced runs
(and says so); when even no traces do not fit, it raises :class:`MemoryBudgetError`
before anything is allocated. See ``docs/results.md`` and ``docs/cli.md`` (``--max-memory``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..conventions import N_METRICS
from .engine import KEEP_BUDGET_BYTES

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from ..scenario.model import Scenario

__all__ = [
    "DEFAULT_FRACTION",
    "MemoryBudgetError",
    "MemoryPlan",
    "available_memory",
    "default_budget",
    "format_bytes",
    "parse_size",
    "plan_memory",
]

DEFAULT_FRACTION = 0.5
"""Share of the memory available at the start that a study may use by default."""
FALLBACK_BUDGET = 4 << 30
"""Budget when the available memory cannot be read (4 GiB)."""
_TIMESERIES_COLUMNS = 6
"""Columns of the daily time series frame built when a result is saved."""


class MemoryBudgetError(ValueError):
    """A study would need more memory than its budget, even without daily traces."""


@dataclass(frozen=True)
class MemoryPlan:
    """What a study will keep, and its estimated peak memory.

    Attributes
    ----------
    trace_runs : int
        Runs whose daily trajectories are kept (at most the requested number).
    requested_trace_runs : int
        The number asked for.
    estimate : int
        Estimated peak bytes with ``trace_runs`` traced runs.
    budget : int
        The budget in bytes.
    """

    trace_runs: int
    requested_trace_runs: int
    estimate: int
    budget: int

    @property
    def reduced(self) -> bool:
        """Whether fewer traced runs are kept than were asked for."""
        return self.trace_runs < self.requested_trace_runs

    def message(self) -> str:
        """A sentence for the user when the plan keeps fewer traces ('' otherwise)."""
        if not self.reduced:
            return ""
        return (
            f"memory: keeping daily traces of {self.trace_runs:,d} runs instead of "
            f"{self.requested_trace_runs:,d}, so that the study fits its memory budget of "
            f"{format_bytes(self.budget)} (estimate {format_bytes(self.estimate)}; "
            "--max-memory or max_memory= to change it)"
        )


def available_memory() -> int | None:
    """Bytes of memory available to new allocations now (Linux ``MemAvailable``, else
    free physical pages), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        return None


def default_budget() -> int:
    """:data:`DEFAULT_FRACTION` of :func:`available_memory` (or :data:`FALLBACK_BUDGET`)."""
    available = available_memory()
    if available is None:  # pragma: no cover - not Linux nor POSIX
        return FALLBACK_BUDGET
    return int(available * DEFAULT_FRACTION)


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """``"4G"``, ``"512M"``, ``"2.5GiB"`` or ``"1000000"`` (bytes) -> bytes.

    Raises
    ------
    ValueError
        Not a positive size.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", str(text))
    if match is None:
        raise ValueError(
            f"expected a size such as 4G, 512M or a number of bytes, found {str(text)!r}"
        )
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size < 1:
        raise ValueError(f"expected a positive size, found {str(text)!r}")
    return size


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def plan_memory(
    scenario: Scenario,
    strategies: Sequence[str],
    runs: int,
    trace_runs: int,
    *,
    batch_runs: int,
    lanes: int,
    budget: int | None = None,
    keep: str = "auto",
) -> MemoryPlan:
    """Estimate a study's peak memory and fit its traces to ``budget``.

    Parameters
    ----------
    scenario, strategies, runs, trace_runs, batch_runs, keep
        As given to :func:`disruptsim.simulate`.
    lanes : int
        Accumulator lanes per batch (4 per numba thread).
    budget : int, optional
        Bytes; default :func:`default_budget`.

    Returns
    -------
    MemoryPlan

    Raises
    ------
    MemoryBudgetError
        Even without traces the study does not fit.
    """
    budget = default_budget() if budget is None else int(budget)
    T = scenario.horizon_days
    sizes = [len(scenario.world(name).products) for name in strategies]
    fixed = 0
    metrics = 0
    for P in sizes:
        rows = 1 if keep == "system" else P + 1
        metrics += runs * rows * N_METRICS * 8
        fixed += 3 * T * (P + 1) * 8  # daily sums
        fixed += 5 * (T + 1) * P * 8  # compiled per-day arrays
        fixed += _TIMESERIES_COLUMNS * T * (P + 1) * 8 * 2  # time series frame and copy
    if keep == "auto":
        metrics = min(metrics, KEEP_BUDGET_BYTES + runs * len(sizes) * N_METRICS * 8)
    fixed += metrics
    P_max = max(sizes, default=1)
    batch = min(batch_runs, runs)
    fixed += 3 * lanes * T * (P_max + 1) * 8  # per-lane daily accumulators of one batch
    fixed += batch * (P_max + 1) * N_METRICS * 8 * 2  # one batch's metrics and its copy
    per_trace = sum(2 * T * P * 4 for P in sizes)  # float32 fulfilment and stock per run
    per_trace += 2 * T * P_max * 4  # the batch's own trace buffer
    wanted = min(trace_runs, runs)
    if fixed + per_trace * wanted <= budget:
        return MemoryPlan(wanted, wanted, fixed + per_trace * wanted, budget)
    if fixed > budget:
        raise MemoryBudgetError(
            f"the study needs about {format_bytes(fixed)} even without daily traces "
            f"({runs:,d} runs, {T:,d} days, {max(sizes, default=0)} products, "
            f"{len(sizes)} strategies), more than its memory budget of {format_bytes(budget)}; "
            "use fewer runs, a shorter horizon, fewer strategies, or raise the budget with "
            "--max-memory (max_memory= in Python)"
        )
    fit = int((budget - fixed) // per_trace) if per_trace else wanted
    fit = min(fit, wanted)
    return MemoryPlan(fit, wanted, fixed + per_trace * fit, budget)
