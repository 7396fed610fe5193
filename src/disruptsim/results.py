"""SimulationResult: the per-run metrics and daily trajectories of a study."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .kernel import FIXED, METRICS
from .scenario.model import Scenario

SYSTEM = "system"
"""Product label of the system-level rows."""


@dataclass
class StrategyResult:
    """The raw outputs of one strategy.

    Attributes
    ----------
    products : tuple of str
        Products in topological order; the metrics' second axis is these plus ``system``.
    metrics : numpy.ndarray
        ``float64[runs, P+1, len(METRICS)]`` per-run metrics.
    trace_fulfilment, trace_stock : numpy.ndarray
        ``float32[trace_runs, T, P]`` daily fulfilment and stock of the first runs.
    mean_fulfilment, mean_stock : numpy.ndarray
        ``float64[T, P]`` exact means over all runs.
    shortage_probability : numpy.ndarray
        ``float64[T, P+1]`` share of runs in shortage on each day (last column: system).
    stock_target : numpy.ndarray
        ``float64[P]`` stock targets in units.
    """

    products: tuple[str, ...]
    metrics: np.ndarray
    trace_fulfilment: np.ndarray
    trace_stock: np.ndarray
    mean_fulfilment: np.ndarray
    mean_stock: np.ndarray
    shortage_probability: np.ndarray
    stock_target: np.ndarray

    @classmethod
    def from_accumulator(cls, acc, runs: int) -> StrategyResult:
        m = acc.model
        target = m.arrays.stock_target
        return cls(
            products=m.products,
            metrics=acc.metrics,
            trace_fulfilment=acc.trace_phi,
            trace_stock=acc.trace_stock,
            mean_fulfilment=1.0 - acc.sum_gap / FIXED / runs,
            mean_stock=target * (1.0 - acc.sum_stock_deficit / FIXED / runs),
            shortage_probability=acc.sum_short / runs,
            stock_target=np.asarray(target, dtype=np.float64),
        )


@dataclass
class SimulationResult:
    """The outcome of :func:`disruptsim.simulate`: every strategy over the same futures.

    Attributes
    ----------
    scenario : Scenario
    seed : int
    n_runs : int
    strategies : dict of str to StrategyResult
    generator : str
        Description of the random number generator (for the manifest).
    timings : dict of str to float
        Seconds spent per stage.
    """

    scenario: Scenario
    seed: int
    n_runs: int
    strategies: dict[str, StrategyResult]
    generator: str
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return tuple(self.strategies)

    def _strategy(self, strategy: str) -> StrategyResult:
        try:
            return self.strategies[strategy]
        except KeyError:
            known = ", ".join(self.strategies)
            raise KeyError(f"no strategy {strategy!r} in this result; it has: {known}") from None

    def runs(self, strategy: str = "baseline") -> pd.DataFrame:
        """Per-run metrics of one strategy: one row per (run, product).

        Parameters
        ----------
        strategy : str, default "baseline"

        Returns
        -------
        pandas.DataFrame
            Columns ``run``, ``product`` (``"system"`` for the system rows) and one
            column per metric (see :data:`disruptsim.kernel.METRICS`).
        """
        s = self._strategy(strategy)
        n, k, _ = s.metrics.shape
        labels = (*s.products, SYSTEM)
        frame = pd.DataFrame(s.metrics.reshape(n * k, -1), columns=list(METRICS))
        frame.insert(0, "product", pd.Categorical(np.tile(np.array(labels, dtype=object), n), categories=labels))
        frame.insert(0, "run", np.repeat(np.arange(n, dtype=np.int64), k))
        frame["disrupted"] = frame["disrupted"].astype(bool)
        frame["shortage_days"] = frame["shortage_days"].astype(np.int64)
        return frame
