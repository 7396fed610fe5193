"""SimulationResult: the per-run metrics and daily trajectories of a study, their
summaries (:meth:`SimulationResult.summary`, :meth:`SimulationResult.timeseries`) and
their files (:meth:`SimulationResult.save`, :meth:`SimulationResult.load`).

Every number in a summary is defined in ``docs/results.md``; the statistics themselves
are the pure functions of :mod:`disruptsim.metrics`.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import platform
import secrets
import shutil
import signal
import tempfile
import threading
import time
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import metrics as mx
from ._version import __version__
from .kernel import FIXED, METRICS, MITIGATION_PARTS
from .scenario.model import Scenario

SYSTEM = "system"
"""Product label of the system-level rows."""
SUMMARY_QUANTILES = (0.50, 0.90, 0.95, 0.99)
"""Quantiles of the total cost reported by :meth:`SimulationResult.summary`."""
BAND_QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
"""Quantile bands of :meth:`SimulationResult.timeseries` (over the traced runs)."""
CVAR_ALPHA = 0.95
"""Level of the CVaR in the summary: the mean of the worst 5% of runs."""

_M = {name: k for k, name in enumerate(METRICS)}


def _pct(q: float) -> str:
    return f"p{round(q * 100):d}"


SUMMARY_COLUMNS: tuple[str, ...] = (
    "strategy",
    "product",
    "runs",
    "total_cost_mean",
    "total_cost_ci_low",
    "total_cost_ci_high",
    *(f"total_cost_{_pct(q)}" for q in SUMMARY_QUANTILES),
    "total_cost_cvar95",
    "mitigation_cost_mean",
    "mitigation_cost_ci_low",
    "mitigation_cost_ci_high",
    *(f"{part}_mean" for part in MITIGATION_PARTS),
    "shortage_cost_mean",
    "shortage_cost_ci_low",
    "shortage_cost_ci_high",
    "unmet_units_mean",
    "shortage_days_mean",
    "p_shortage",
    "p_shortage_ci_low",
    "p_shortage_ci_high",
    "p_disrupted",
    "p_disrupted_ci_low",
    "p_disrupted_ci_high",
    "tts_days_disrupted_mean",
    "tts_days_disrupted_ci_low",
    "tts_days_disrupted_ci_high",
    "tts_censored_share",
    "ttr_days_disrupted_mean",
    "ttr_days_disrupted_ci_low",
    "ttr_days_disrupted_ci_high",
    "ttr_censored_share",
    "ttr_days_p95",
    "diff_total_cost_mean",
    "diff_total_cost_ci_low",
    "diff_total_cost_ci_high",
    "benefit_cost_ratio",
    "rank",
    "pareto_mitigation_shortage",
    "pareto_total_ttr95",
)
"""Columns of :meth:`SimulationResult.summary`, in order (see ``docs/results.md``)."""


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
        (:func:`disruptsim.metrics.runs_to_separate`, power 0.8).
    """

    strategy: str
    other: str
    metric: str
    product: str
    difference: mx.Estimate
    sd_difference: float
    separated: bool
    runs_needed: float


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size and not np.isnan(x).any() else math.nan


def _summary_row(
    s: StrategyResult, base: StrategyResult, product: str, confidence: float
) -> dict[str, Any]:
    """Every column of one summary row that does not compare strategies."""
    n = s.metrics.shape[0]
    get = s.metric
    row: dict[str, Any] = {"runs": n}
    total = get("total_cost", product)
    e = mx.mean_ci(total, confidence)
    row.update(total_cost_mean=e.estimate, total_cost_ci_low=e.low, total_cost_ci_high=e.high)
    for q, v in zip(SUMMARY_QUANTILES, mx.quantiles(total, SUMMARY_QUANTILES), strict=True):
        row[f"total_cost_{_pct(q)}"] = float(v)
    row["total_cost_cvar95"] = mx.cvar(total, CVAR_ALPHA)
    for name in ("mitigation_cost",):
        e = mx.mean_ci(get(name, product), confidence)
        row.update({f"{name}_mean": e.estimate, f"{name}_ci_low": e.low, f"{name}_ci_high": e.high})
    for part in MITIGATION_PARTS:
        row[f"{part}_mean"] = _mean(get(part, product))
    e = mx.mean_ci(get("shortage_cost", product), confidence)
    row.update(
        shortage_cost_mean=e.estimate, shortage_cost_ci_low=e.low, shortage_cost_ci_high=e.high
    )
    row["unmet_units_mean"] = _mean(get("unmet_units", product))
    short_days = get("shortage_days", product)
    row["shortage_days_mean"] = _mean(short_days)
    e = mx.proportion_ci(int((short_days > 0).sum()), n, confidence)
    row.update(p_shortage=e.estimate, p_shortage_ci_low=e.low, p_shortage_ci_high=e.high)
    disrupted = get("disrupted", product) > 0.5
    e = mx.proportion_ci(int(disrupted.sum()), n, confidence)
    row.update(p_disrupted=e.estimate, p_disrupted_ci_low=e.low, p_disrupted_ci_high=e.high)
    c = mx.conditional_mean(get("tts_days", product), disrupted, confidence)
    row.update(
        tts_days_disrupted_mean=c.estimate,
        tts_days_disrupted_ci_low=c.low,
        tts_days_disrupted_ci_high=c.high,
        tts_censored_share=c.share_censored,
    )
    ttr = get("ttr_days", product)
    c = mx.conditional_mean(ttr, disrupted, confidence)
    first = get("first_disruption_day", product)
    # Still in shortage on the horizon's last day: the observed ttr is a lower bound.
    with np.errstate(invalid="ignore"):
        open_ended = disrupted & (ttr > 0) & (first + ttr >= s.horizon_days)
    row.update(
        ttr_days_disrupted_mean=c.estimate,
        ttr_days_disrupted_ci_low=c.low,
        ttr_days_disrupted_ci_high=c.high,
        ttr_censored_share=(open_ended.sum() / c.n_condition) if c.n_condition else math.nan,
        ttr_days_p95=float(mx.quantiles(np.nan_to_num(ttr, nan=0.0), 0.95)[0]),
    )
    d = mx.paired_difference(total, base.metric("total_cost", product), confidence)
    row.update(
        diff_total_cost_mean=d.estimate,
        diff_total_cost_ci_low=d.low,
        diff_total_cost_ci_high=d.high,
    )
    row["benefit_cost_ratio"] = mx.benefit_cost_ratio(
        row["shortage_cost_mean"],
        row["mitigation_cost_mean"],
        _mean(base.metric("shortage_cost", product)),
        _mean(base.metric("mitigation_cost", product)),
    )
    return row


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


@dataclass
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
            column per metric (see :data:`disruptsim.kernel.METRICS`).
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
            the whole value chain), then statistics over the runs. Costs in euros over
            the horizon, times in days, probabilities as fractions. Product rows hold
            that product's own costs; system rows all products' (intermediates
            included). Every column is defined in ``docs/results.md``.

        Examples
        --------
        >>> s = result.summary()  # doctest: +SKIP
        >>> s.query("product == 'system'")[["strategy", "total_cost_mean", "rank"]]  # doctest: +SKIP
        """
        base = self._strategy(self.baseline)
        rows = []
        for name, s in self.strategies.items():
            for product in (*self.final_products(), SYSTEM):
                if product not in s.row_labels or product not in base.row_labels:
                    continue  # per-run metrics not kept (simulate(..., keep=...))
                row = {"strategy": name, "product": product}
                row.update(_summary_row(s, base, product, confidence))
                rows.append(row)
        frame = pd.DataFrame(rows)
        frame["rank"] = (
            frame.groupby("product", sort=False)["total_cost_mean"]
            .rank(method="min")
            .astype(np.int64)
        )
        frame["pareto_mitigation_shortage"] = False
        frame["pareto_total_ttr95"] = False
        for _, idx in frame.groupby("product", sort=False).groups.items():
            sub = frame.loc[idx]
            frame.loc[idx, "pareto_mitigation_shortage"] = mx.pareto_front(
                sub[["mitigation_cost_mean", "shortage_cost_mean"]].to_numpy()
            )
            frame.loc[idx, "pareto_total_ttr95"] = mx.pareto_front(
                sub[["total_cost_mean", "ttr_days_p95"]].to_numpy()
            )
        return frame[list(SUMMARY_COLUMNS)].reset_index(drop=True)

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
            A per-run metric without NaN (costs, ``unmet_units`` of a product, ...).
        product : str, default "system"
        confidence : float, default 0.95

        Returns
        -------
        Comparison
        """
        other = self.baseline if other is None else other
        x = self._strategy(strategy).metric(metric, product)
        y = self._strategy(other).metric(metric, product)
        d = mx.paired_difference(x, y, confidence)
        sd = d.std_error * math.sqrt(d.n) if d.n > 1 else math.nan
        return Comparison(
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
                    block[f"fulfilment_{_pct(q)}"] = v
                block["mean_stock"] = mean_s
                for q, v in zip(BAND_QUANTILES, sq, strict=True):
                    block[f"stock_{_pct(q)}"] = v
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
            Replace an existing non-empty directory (atomically as well).
        report : bool, default True
            Also write the HTML report and its figures.

        Returns
        -------
        Path
            ``directory``.

        Raises
        ------
        FileExistsError
            ``directory`` exists, is not empty and ``force`` is False, or it is a file.
        """
        return _save(self, Path(directory), force=force, report=report)

    @classmethod
    def load(cls, directory: str | Path) -> SimulationResult:
        """Read a result written by :meth:`save`.

        The per-run metrics, traces and exact daily means are restored bit for bit, so
        :meth:`summary`, :meth:`runs` and :meth:`timeseries` give identical numbers.
        The scenario is re-read from ``scenario.resolved.yaml`` (its ``path`` and
        ``sha256`` are those of the original file, from the manifest).
        """
        return _load(Path(directory))


# --- Files: save and load ------------------------------------------------------------

FORMAT_VERSION = 1
"""Version of the result directory's layout (in ``manifest.json``)."""
_ARRAYS = (
    "trace_fulfilment",
    "trace_stock",
    "mean_fulfilment",
    "mean_stock",
    "shortage_probability",
    "stock_target",
    "final_demand",
    "unit_value",
)


def check_output_dir(directory: str | Path, force: bool = False) -> None:
    """Raise unless ``directory`` may receive a result.

    It may when it does not exist, is an empty directory, or (with ``force``) is a
    non-empty directory. A file in its place is always refused.

    Raises
    ------
    FileExistsError
    """
    path = Path(directory)
    if not (path.exists() or path.is_symlink()):
        return
    if not path.is_dir():
        raise FileExistsError(errno.EEXIST, "exists and is not a directory", str(path))
    if not force and any(path.iterdir()):
        raise FileExistsError(
            errno.EEXIST,
            "output directory exists and is not empty (use --force to replace it)",
            str(path),
        )


@contextmanager
def _signals_blocked():
    """Hold SIGINT/SIGTERM while the result directory is swapped (main thread only)."""
    can = (
        hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    )
    if not can:
        yield
        return
    sigs = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace_dir(tmp: Path, target: Path, force: bool) -> None:
    """Put the finished ``tmp`` directory at ``target`` by renames."""
    old: Path | None = None
    with _signals_blocked():
        if target.exists() and any(target.iterdir()):
            if not force:  # appeared while we were writing
                check_output_dir(target, force)
            old = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(target, old)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old, target)
                raise
        else:
            os.replace(tmp, target)  # onto nothing or an empty directory
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _plain(value: Any) -> Any:
    """Plain YAML-safe data: mappings to dicts, sequences to lists, NumPy scalars to Python."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _yaml_text(result: SimulationResult) -> str:
    text = getattr(result, "_resolved_yaml", None)
    if result.scenario is None and text is not None:
        return text
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    yaml.width = 4096
    buf = io.StringIO()
    data = _plain(result.scenario.data) if result.scenario is not None else {}
    yaml.dump(data, buf)
    return buf.getvalue()


def machine_info() -> dict[str, Any]:
    """Where a result was computed: platform, CPUs, Python and library versions."""
    import numba

    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "pandas": pd.__version__,
        "numba_threads": numba.get_num_threads(),
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like :func:`numpy.savez_compressed`, with fast compression (zlib level 1)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for key, value in arrays.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)


def _write_runs(result: SimulationResult, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for name in result.strategies:
            frame = result.runs(name)
            frame["product"] = frame["product"].astype(str)
            frame.insert(0, "strategy", name)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _write_files(result: SimulationResult, d: Path, report: bool) -> None:
    t0 = time.perf_counter()
    summary = result.summary()
    summary.to_csv(d / "summary.csv", index=False)
    _write_runs(result, d / "runs.parquet")
    timeseries = result.timeseries()
    timeseries.to_parquet(d / "timeseries.parquet", index=False, compression="zstd")
    arrays = {
        f"s{k}.{a}": np.asarray(getattr(s, a))
        for k, s in enumerate(result.strategies.values())
        for a in _ARRAYS
        if getattr(s, a) is not None
    }
    _write_npz(d / "traces.npz", arrays)
    (d / "scenario.resolved.yaml").write_text(_yaml_text(result), encoding="utf-8")
    if report:
        from .report import write_report

        write_report(result, d, summary=summary, timeseries=timeseries)
    sc = result.scenario
    manifest = {
        "format": "disruptsim-result",
        "format_version": FORMAT_VERSION,
        "disruptsim_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": {
            "name": result.scenario_name,
            "description": sc.description
            if sc is not None
            else result.info.get("scenario_description", ""),
            "path": str(sc.path)
            if sc is not None and sc.path is not None
            else result.info.get("scenario_path"),
            "sha256": sc.sha256 if sc is not None else result.info.get("scenario_sha256"),
            "horizon_days": next(iter(result.strategies.values())).horizon_days,
        },
        "seed": result.seed,
        "generator": result.generator,
        "runs": result.n_runs,
        "strategies": {
            name: {
                "products": list(s.products),
                "row_labels": list(s.row_labels),
                "trace_runs": int(s.trace_fulfilment.shape[0]),
            }
            for name, s in result.strategies.items()
        },
        "units": result.product_units(),
        "timings": {**result.timings, "save": time.perf_counter() - t0},
        "machine": machine_info(),
        "info": result.info,
    }
    manifest["files"] = {
        str(p.relative_to(d)): _sha256(p) for p in sorted(d.rglob("*")) if p.is_file()
    }
    text = json.dumps(manifest, indent=2, default=str)
    (d / "manifest.json").write_text(text + "\n", encoding="utf-8")


def _save(result: SimulationResult, target: Path, *, force: bool, report: bool) -> Path:
    check_output_dir(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        _write_files(result, tmp, report)
        os.chmod(tmp, 0o777 & ~_umask())
        _replace_dir(tmp, target, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _read_scenario(d: Path, manifest: dict[str, Any]) -> Scenario | None:
    try:
        from . import load_scenario

        scenario = load_scenario(d / "scenario.resolved.yaml")
    except Exception as error:  # a result stays readable when its scenario is not
        warnings.warn(
            f"{d / 'scenario.resolved.yaml'}: scenario not restored: {error}", stacklevel=3
        )
        return None
    meta = manifest["scenario"]
    path = Path(meta["path"]) if meta.get("path") else None
    return replace(scenario, path=path, sha256=meta.get("sha256"))


def _load(d: Path) -> SimulationResult:
    import pyarrow.parquet as pq

    manifest_path = d / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(errno.ENOENT, "not a disruptsim result (no manifest.json)", str(d))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if (
        manifest.get("format") != "disruptsim-result"
        or manifest.get("format_version") != FORMAT_VERSION
    ):
        raise ValueError(
            f"{manifest_path}: unsupported result format {manifest.get('format_version')!r}"
        )
    runs = int(manifest["runs"])
    table = pq.read_table(d / "runs.parquet").to_pandas()
    strategies: dict[str, StrategyResult] = {}
    with np.load(d / "traces.npz") as npz:
        for k, (name, meta) in enumerate(manifest["strategies"].items()):
            products = tuple(meta["products"])
            labels = tuple(meta.get("row_labels") or (*products, SYSTEM))
            sub = table[table["strategy"] == name]
            code = pd.Categorical(sub["product"], categories=labels).codes
            order = np.lexsort((code, sub["run"].to_numpy()))
            values = sub[list(METRICS)].to_numpy(dtype=np.float64)[order]
            arrays = {a: npz[f"s{k}.{a}"] if f"s{k}.{a}" in npz.files else None for a in _ARRAYS}
            strategies[name] = StrategyResult(
                products=products,
                metrics=values.reshape(runs, len(labels), len(METRICS)),
                row_labels=labels,
                **arrays,
            )
    info = dict(manifest.get("info") or {})
    info.setdefault("units", manifest.get("units", {}))
    meta = manifest["scenario"]
    info.setdefault("scenario_name", meta.get("name"))
    info.setdefault("scenario_description", meta.get("description", ""))
    info.setdefault("scenario_path", meta.get("path"))
    info.setdefault("scenario_sha256", meta.get("sha256"))
    timings = {k: v for k, v in manifest.get("timings", {}).items() if k != "save"}
    result = SimulationResult(
        scenario=_read_scenario(d, manifest),
        seed=int(manifest["seed"]),
        n_runs=runs,
        strategies=strategies,
        generator=manifest["generator"],
        timings=timings,
        info=info,
    )
    result._resolved_yaml = (d / "scenario.resolved.yaml").read_text(encoding="utf-8")
    return result
