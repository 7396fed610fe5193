"""SimulationResult: the per-run metrics and daily trajectories of a study, their
frames (:meth:`SimulationResult.runs`, :meth:`SimulationResult.summary`,
:meth:`SimulationResult.timeseries`) and their files (:meth:`SimulationResult.save`,
:meth:`SimulationResult.load`).

This module holds the data and its frames. The summary table is computed in
:mod:`disruptsim.results.summary` (every number is defined in ``docs/results.md``; the
statistics themselves are the pure functions of :mod:`disruptsim.results.stats`); the
files are written and read by :mod:`disruptsim.results.io`, imported on first use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..conventions import FIXED, METRICS, SYSTEM
from ..scenario.model import Scenario
from . import stats as mx
from .summary import percentile_label, ranked, summary_frame, ttr_censored

__all__ = ["BAND_QUANTILES", "Comparison", "SimulationResult", "StrategyResult"]

BAND_QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
"""Quantile bands of :meth:`SimulationResult.timeseries` (over the traced runs)."""
_M = {name: k for k, name in enumerate(METRICS)}


@dataclass(repr=False)
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
    final_demand : numpy.ndarray or None
        ``float64[P]`` final demand per day in units (None: unknown, treated as all zero).
    unit_value : numpy.ndarray or None
        ``float64[P]`` euros per unit (None: unknown, treated as all one).
    """

    products: tuple[str, ...]
    metrics: np.ndarray
    trace_fulfilment: np.ndarray
    trace_stock: np.ndarray
    mean_fulfilment: np.ndarray
    mean_stock: np.ndarray
    shortage_probability: np.ndarray
    stock_target: np.ndarray
    final_demand: np.ndarray | None = None
    unit_value: np.ndarray | None = None
    row_labels: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.row_labels is None:
            self.row_labels = (*self.products, SYSTEM)

    def __repr__(self) -> str:
        runs, traced = self.metrics.shape[0], self.trace_fulfilment.shape[0]
        return (
            f"<StrategyResult: {len(self.products)} products, {runs:,d} runs "
            f"({traced:,d} traced), {self.horizon_days:,d} days>"
        )

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
            final_demand=np.asarray(m.arrays.final_demand, dtype=np.float64),
            unit_value=np.asarray(m.arrays.unit_value, dtype=np.float64),
            row_labels=acc.row_labels,
        )

    @property
    def horizon_days(self) -> int:
        return int(self.mean_fulfilment.shape[0])

    def index(self, product: str) -> int:
        """Row of ``product`` (or ``"system"``) on the metrics' second axis."""
        try:
            return self.row_labels.index(product)
        except ValueError:
            if product in self.products:
                raise KeyError(
                    f"per-run metrics of {product!r} were not kept (keep it with "
                    "simulate(..., keep='all') or keep='final'); kept: "
                    + ", ".join(self.row_labels)
                ) from None
            known = ", ".join(self.products)
            raise KeyError(f"no product {product!r}; products: {known}") from None

    def metric(self, name: str, product: str = SYSTEM) -> np.ndarray:
        """One metric of one product (or the system) over all runs, ``float64[runs]``."""
        if name not in _M:
            raise KeyError(f"no metric {name!r}; metrics: {', '.join(METRICS)}")
        return self.metrics[:, self.index(product), _M[name]]

    def final_products(self) -> tuple[str, ...]:
        """Products with final demand, in topological order."""
        if self.final_demand is None:
            return ()
        return tuple(p for p, d in zip(self.products, self.final_demand, strict=True) if d > 0)


@dataclass(frozen=True)
class Comparison:
    """Paired comparison of two strategies over the same runs (see :meth:`SimulationResult.compare`).

    Attributes
    ----------
    strategy, other : str
        The difference is ``strategy - other``, run by run.
    metric, product : str
    difference : Estimate
        Mean paired difference with its confidence interval.
    sd_difference : float
        Standard deviation of the per-run differences.
    separated : bool
        True when the interval excludes zero.
    runs_needed : float
        Rough number of runs for the interval to exclude zero
        (:func:`disruptsim.results.stats.runs_to_separate`, power 0.8).
    runs_compared : int
        Runs in which the metric is defined under both strategies: all runs for costs;
        for ``ttr_days`` the runs disrupted under both, for ``tts_days`` the runs short
        under both.
    runs_censored : int
        Of those, runs whose ``ttr_days`` is only a lower bound under either strategy
        (still in shortage at the horizon): the difference then compares lower bounds
        (see ``docs/results.md``, *Censoring*). 0 for other metrics.
    """

    strategy: str
    other: str
    metric: str
    product: str
    difference: mx.Estimate
    sd_difference: float
    separated: bool
    runs_needed: float
    runs_compared: int = 0
    runs_censored: int = 0

    def __str__(self) -> str:
        d = self.difference
        what = f"{self.metric} of {self.product}, {self.strategy} - {self.other}"
        text = (
            f"{what}: {d.estimate:,.4g} [{d.low:,.4g}, {d.high:,.4g}] over "
            f"{self.runs_compared:,d} paired runs; "
            + ("separated" if self.separated else "not separated")
        )
        if self.runs_censored:
            text += f"; {self.runs_censored:,d} censored runs (lower bounds)"
        return text


def _censored(s: StrategyResult, metric: str, product: str) -> np.ndarray:
    """Runs whose ``metric`` is only a lower bound (see ``docs/results.md``, *Censoring*)."""
    if metric != "ttr_days":
        return np.zeros(s.metrics.shape[0], dtype=bool)
    return ttr_censored(s, product)


def _traced_quantiles(trace: np.ndarray) -> np.ndarray:
    """``float64[len(BAND_QUANTILES), T]`` quantiles over runs of ``trace[runs, T]``."""
    if trace.shape[0] == 0:
        return np.full((len(BAND_QUANTILES), trace.shape[1]), np.nan)
    return np.quantile(trace.astype(np.float64), BAND_QUANTILES, axis=0, method="linear")


def _system_weights(s: StrategyResult) -> np.ndarray | None:
    """Weights of the products in the system's fulfilment: value of final demand."""
    if s.final_demand is None or not (s.final_demand > 0).any():
        return None
    w = s.final_demand * (s.unit_value if s.unit_value is not None else 1.0)
    if w.sum() <= 0:
        w = s.final_demand.copy()
    return w / w.sum()


@dataclass(repr=False)
class SimulationResult:
    """The outcome of :func:`disruptsim.simulate`: every strategy over the same futures.

    Attributes
    ----------
    scenario : Scenario or None
        The simulated scenario (None when a saved result's scenario could not be read).
    seed : int
    n_runs : int
    strategies : dict of str to StrategyResult
    generator : str
        Description of the random number generator (for the manifest).
    timings : dict of str to float
        Seconds spent per stage.
    info : dict
        Free-form facts about the study (recorded in the manifest).
    """

    scenario: Scenario | None
    seed: int
    n_runs: int
    strategies: dict[str, StrategyResult]
    generator: str
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        horizon = next(iter(self.strategies.values())).horizon_days if self.strategies else 0
        return (
            f"<SimulationResult {self.scenario_name!r}: {self.n_runs:,d} runs, seed {self.seed}, "
            f"{horizon:,d} days, strategies {', '.join(self.strategies)}>"
        )

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return tuple(self.strategies)

    @property
    def baseline(self) -> str:
        """Name of the reference strategy of paired differences (``baseline``)."""
        return "baseline" if "baseline" in self.strategies else next(iter(self.strategies))

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
            column per metric (see :data:`disruptsim.conventions.METRICS`).
        """
        s = self._strategy(strategy)
        n, k, _ = s.metrics.shape
        labels = s.row_labels
        frame = pd.DataFrame(s.metrics.reshape(n * k, -1), columns=list(METRICS))
        frame.insert(
            0,
            "product",
            pd.Categorical(np.tile(np.array(labels, dtype=object), n), categories=labels),
        )
        frame.insert(0, "run", np.repeat(np.arange(n, dtype=np.int64), k))
        frame["disrupted"] = frame["disrupted"].astype(bool)
        frame["shortage_days"] = frame["shortage_days"].astype(np.int64)
        return frame

    def final_products(self) -> tuple[str, ...]:
        """Products with final demand in any strategy, in the baseline's order."""
        base = self._strategy(self.baseline)
        finals = {p for s in self.strategies.values() for p in s.final_products()}
        ordered = [p for p in base.products if p in finals]
        ordered += sorted(finals.difference(ordered))
        return tuple(ordered)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """One row per strategy and per final-demand product, plus the system.

        Parameters
        ----------
        confidence : float, default 0.95
            Two-sided coverage of every interval.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`SUMMARY_COLUMNS`: ``strategy``, ``product`` (``"system"`` for
            the whole value chain), then statistics over the runs. Rows are in the
            order of the command line's table: the system first, then each final
            product in bill-of-materials order; within each, by ``rank`` (expected
            total cost, cheapest first; ties keep the scenario's strategy order). Costs in euros over
            the horizon, times in days, probabilities as fractions. Product rows hold
            that product's own costs; system rows all products' (intermediates
            included). Every column is defined in ``docs/results.md``.

        Examples
        --------
        >>> s = result.summary()  # doctest: +SKIP
        >>> s.query("product == 'system'")[["strategy", "total_cost_mean", "rank"]]  # doctest: +SKIP
        """
        products = (*self.final_products(), SYSTEM)
        frame = summary_frame(self.strategies, self.baseline, products, confidence)
        return ranked(frame)

    def compare(
        self,
        strategy: str,
        other: str | None = None,
        *,
        metric: str = "total_cost",
        product: str = SYSTEM,
        confidence: float = 0.95,
    ) -> Comparison:
        """Paired difference of one metric between two strategies, run by run.

        Parameters
        ----------
        strategy, other : str
            The difference is ``strategy - other`` (``other`` defaults to the baseline).
        metric : str, default "total_cost"
            A per-run metric (:data:`disruptsim.conventions.METRICS`). Metrics that
            are undefined in some runs (``ttr_days`` and ``tts_days`` without a
            disruption) are compared over the runs where both strategies define them;
            ``runs_compared`` and ``runs_censored`` of the result say how many.
        product : str, default "system"
        confidence : float, default 0.95

        Returns
        -------
        Comparison
        """
        other = self.baseline if other is None else other
        a, b = self._strategy(strategy), self._strategy(other)
        x, y = a.metric(metric, product), b.metric(metric, product)
        both = ~(np.isnan(x) | np.isnan(y))
        if not both.any():
            raise ValueError(
                f"{metric} of {product} is undefined in every run under {strategy} or {other} "
                "(for ttr_days and tts_days: no run was disrupted under both)"
            )
        censored = _censored(a, metric, product) | _censored(b, metric, product)
        d = mx.paired_difference(x[both], y[both], confidence)
        sd = d.std_error * math.sqrt(d.n) if d.n > 1 else math.nan
        return Comparison(
            runs_compared=int(both.sum()),
            runs_censored=int((censored & both).sum()),
            strategy=strategy,
            other=other,
            metric=metric,
            product=product,
            difference=d,
            sd_difference=sd,
            separated=d.excludes(0.0),
            runs_needed=mx.runs_to_separate(d.estimate, sd, confidence),
        )

    def compare_top_two(self, product: str = SYSTEM, confidence: float = 0.95) -> Comparison | None:
        """Paired comparison of the two strategies with the lowest mean total cost.

        Returns the comparison ``best - runner_up`` of ``total_cost`` (so its estimate is
        at most zero), or None when there are fewer than two strategies. When
        ``separated`` is False the data do not tell which of the two is cheaper;
        ``runs_needed`` says roughly how many runs would.
        """
        if len(self.strategies) < 2:
            return None
        means = {
            n: float(s.metric("total_cost", product).mean()) for n, s in self.strategies.items()
        }
        first, second = sorted(means, key=means.__getitem__)[:2]
        return self.compare(first, second, product=product, confidence=confidence)

    def timeseries(self) -> pd.DataFrame:
        """Daily trajectories: one row per (strategy, product, day).

        Returns
        -------
        pandas.DataFrame
            Columns ``strategy``, ``product`` (every product, then ``"system"``),
            ``day`` (0-based), and

            * ``mean_fulfilment``, ``mean_stock``, ``p_shortage``: exact means over
              **all** runs (share of the requirement delivered; stock in units; share of
              runs in shortage that day);
            * ``fulfilment_p5`` ... ``fulfilment_p95``, ``stock_p5`` ... ``stock_p95``:
              quantiles over the **traced** runs (the first ``traced_runs`` runs);
            * ``stock_target`` (units) and ``traced_runs``.

            The system's fulfilment is the value-weighted share of final demand met,
            ``sum_i d_i v_i phi_i / sum_i d_i v_i``; it has no stock (NaN).
        """
        frames = []
        names = self._strategy(self.baseline).products
        for name, s in self.strategies.items():
            T = s.horizon_days
            n_trace = int(s.trace_fulfilment.shape[0])
            order = [p for p in names if p in s.products] + [
                p for p in s.products if p not in names
            ]
            for product in (*order, SYSTEM):
                block: dict[str, Any] = {"day": np.arange(T, dtype=np.int64)}
                if product == SYSTEM:
                    w = _system_weights(s)
                    if w is None:
                        mean_f = np.full(T, np.nan)
                        fq = np.full((len(BAND_QUANTILES), T), np.nan)
                    else:
                        mean_f = s.mean_fulfilment @ w
                        fq = _traced_quantiles(s.trace_fulfilment.astype(np.float64) @ w)
                    mean_s, sq, target = np.full(T, np.nan), np.full_like(fq, np.nan), math.nan
                    p_short = s.shortage_probability[:, -1]
                else:
                    i = s.products.index(product)
                    mean_f, mean_s = s.mean_fulfilment[:, i], s.mean_stock[:, i]
                    fq = _traced_quantiles(s.trace_fulfilment[:, :, i])
                    sq = _traced_quantiles(s.trace_stock[:, :, i])
                    target = float(s.stock_target[i])
                    p_short = s.shortage_probability[:, i]
                block["mean_fulfilment"] = mean_f
                block["p_shortage"] = p_short
                for q, v in zip(BAND_QUANTILES, fq, strict=True):
                    block[f"fulfilment_{percentile_label(q)}"] = v
                block["mean_stock"] = mean_s
                for q, v in zip(BAND_QUANTILES, sq, strict=True):
                    block[f"stock_{percentile_label(q)}"] = v
                block["stock_target"] = np.full(T, target)
                block["traced_runs"] = np.full(T, n_trace, dtype=np.int64)
                frame = pd.DataFrame(block)
                frame.insert(0, "product", product)
                frame.insert(0, "strategy", name)
                frames.append(frame)
        out = pd.concat(frames, ignore_index=True)
        out["strategy"] = pd.Categorical(out["strategy"], categories=list(self.strategies))
        labels = list(
            dict.fromkeys(
                [*names, *(p for s in self.strategies.values() for p in s.products), SYSTEM]
            )
        )
        out["product"] = pd.Categorical(out["product"], categories=labels)
        return out

    def product_units(self) -> dict[str, str]:
        """Unit of each product (from the scenario; empty when unknown)."""
        if self.scenario is not None:
            products = self.scenario.world(self.baseline).products
            return {name: p.unit for name, p in products.items()}
        return dict(self.info.get("units", {}))

    @property
    def scenario_name(self) -> str:
        if self.scenario is not None:
            return self.scenario.name
        return str(self.info.get("scenario_name", "scenario"))

    def save(self, directory: str | Path, *, force: bool = False, report: bool = True) -> Path:
        """Write the result to a directory, atomically.

        Files: ``summary.csv``, ``runs.parquet`` (every strategy's :meth:`runs` with a
        ``strategy`` column), ``timeseries.parquet``, ``traces.npz`` (the raw arrays for
        :meth:`load`), ``scenario.resolved.yaml``, ``manifest.json`` and, unless
        ``report=False``, ``report.html`` with its figures as PNG in ``figures/``.

        Everything is written into a temporary sibling directory, which then replaces
        ``directory`` by a rename: an interrupted save leaves no half-written result.

        Parameters
        ----------
        directory : str or Path
        force : bool, default False
            Replace an existing directory that holds a previous disruptsim result (its
            ``manifest.json`` and only the files it lists), atomically as well. Any other
            non-empty directory is refused and left untouched (see ``docs/cli.md``).
        report : bool, default True
            Also write the HTML report and its figures.

        Returns
        -------
        Path
            ``directory``.

        Raises
        ------
        FileExistsError
            (:class:`~disruptsim.results.outdir.OutputExistsError`) ``directory`` is a
            file or a symbolic link, or is not empty and ``force`` is False, or is not a
            result of its own.
        OSError
            (:class:`~disruptsim.results.outdir.OutputWriteError`) it cannot be written:
            permissions, a read-only or full disk, a name too long.
        """
        from .io import save_result

        return save_result(self, directory, force=force, report=report)

    @classmethod
    def load(cls, directory: str | Path) -> SimulationResult:
        """Read a result written by :meth:`save`.

        The per-run metrics, traces and exact daily means are restored bit for bit, so
        :meth:`summary`, :meth:`runs` and :meth:`timeseries` give identical numbers.
        The scenario is re-read from ``scenario.resolved.yaml`` (its ``path`` and
        ``sha256`` are those of the original file, from the manifest).
        """
        from .io import read_result

        parts = read_result(directory)
        strategies = {
            name: StrategyResult(**fields) for name, fields in parts.pop("strategies").items()
        }
        resolved_yaml = parts.pop("resolved_yaml")
        result = cls(strategies=strategies, **parts)
        result._resolved_yaml = resolved_yaml
        return result
