"""The summary table of a study: one row of statistics per strategy and product.

:func:`summary_frame` is what :meth:`disruptsim.results.result.SimulationResult.summary`
returns. Every column is defined in ``docs/results.md``; the statistics themselves are
the pure functions of :mod:`disruptsim.results.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..conventions import MITIGATION_PARTS, SYSTEM
from . import stats as mx

if TYPE_CHECKING:  # pragma: no cover
    from .result import StrategyResult

__all__ = [
    "CVAR_ALPHA",
    "SUMMARY_COLUMNS",
    "SUMMARY_QUANTILES",
    "percentile_label",
    "ranked",
    "summary_frame",
    "ttr_censored",
]

SUMMARY_QUANTILES = (0.50, 0.90, 0.95, 0.99)
"""Quantiles of the total cost reported by :meth:`SimulationResult.summary`."""
CVAR_ALPHA = 0.95
"""Level of the CVaR in the summary: the mean of the worst 5% of runs."""


def percentile_label(q: float) -> str:
    """Column suffix of the quantile ``q``: ``0.95`` -> ``"p95"``."""
    return f"p{round(q * 100):d}"


SUMMARY_COLUMNS: tuple[str, ...] = (
    "strategy",
    "product",
    "runs",
    "total_cost_mean",
    "total_cost_ci_low",
    "total_cost_ci_high",
    *(f"total_cost_{percentile_label(q)}" for q in SUMMARY_QUANTILES),
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


def summary_frame(
    strategies: Mapping[str, StrategyResult],
    baseline: str,
    products: Sequence[str],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The summary table of :meth:`disruptsim.results.result.SimulationResult.summary`.

    Parameters
    ----------
    strategies : mapping of str to StrategyResult
        Every strategy, in the order of the rows.
    baseline : str
        The strategy that paired differences and benefit-cost ratios compare with.
    products : sequence of str
        Row labels (products and ``"system"``) to summarise, in order; a label whose
        per-run metrics a strategy or the baseline did not keep is skipped.
    confidence : float, default 0.95
        Two-sided coverage of every interval.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`, one row per (strategy, product); ``rank`` and
        the Pareto flags compare the strategies within each product.
    """
    base = strategies[baseline]
    rows = []
    for name, s in strategies.items():
        for product in products:
            if product not in s.row_labels or product not in base.row_labels:
                continue  # per-run metrics not kept (simulate(..., keep=...))
            row = {"strategy": name, "product": product}
            row.update(_summary_row(s, base, product, confidence))
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame["rank"] = (
        frame.groupby("product", sort=False)["total_cost_mean"].rank(method="min").astype(np.int64)
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


def ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """Summary rows in report order: the system first, then the other products in their
    order of appearance; within each product by ``rank`` (ties keep the row order)."""
    products = list(dict.fromkeys(frame["product"]))
    if SYSTEM in products:
        products.remove(SYSTEM)
        products.insert(0, SYSTEM)
    key = frame["product"].map({p: k for k, p in enumerate(products)})
    order = np.lexsort((np.arange(len(frame)), frame["rank"].to_numpy(), key.to_numpy()))
    return frame.iloc[order].reset_index(drop=True)


def ttr_censored(s: StrategyResult, product: str) -> np.ndarray:
    """Runs still in shortage on the horizon's last day (``bool[runs]``): their
    ``ttr_days`` is a lower bound (``docs/results.md``, *Censoring*)."""
    disrupted = s.metric("disrupted", product) > 0.5
    ttr, first = s.metric("ttr_days", product), s.metric("first_disruption_day", product)
    with np.errstate(invalid="ignore"):
        return disrupted & (ttr > 0) & (first + ttr >= s.horizon_days)


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size and not np.isnan(x).any() else math.nan


def _mean_ci(prefix: str, e: mx.Estimate | mx.ConditionalEstimate) -> dict[str, float]:
    """``{prefix}_mean``, ``{prefix}_ci_low`` and ``{prefix}_ci_high`` of an estimate."""
    return {f"{prefix}_mean": e.estimate, f"{prefix}_ci_low": e.low, f"{prefix}_ci_high": e.high}


def _proportion(prefix: str, e: mx.Estimate) -> dict[str, float]:
    """``{prefix}``, ``{prefix}_ci_low`` and ``{prefix}_ci_high`` of a proportion."""
    return {prefix: e.estimate, f"{prefix}_ci_low": e.low, f"{prefix}_ci_high": e.high}


def _summary_row(
    s: StrategyResult, base: StrategyResult, product: str, confidence: float
) -> dict[str, Any]:
    """Every column of one summary row that does not compare strategies."""
    n = s.metrics.shape[0]
    get = s.metric
    row: dict[str, Any] = {"runs": n}
    total = get("total_cost", product)
    row.update(_mean_ci("total_cost", mx.mean_ci(total, confidence)))
    for q, v in zip(SUMMARY_QUANTILES, mx.quantiles(total, SUMMARY_QUANTILES), strict=True):
        row[f"total_cost_{percentile_label(q)}"] = float(v)
    row["total_cost_cvar95"] = mx.cvar(total, CVAR_ALPHA)
    row.update(_mean_ci("mitigation_cost", mx.mean_ci(get("mitigation_cost", product), confidence)))
    for part in MITIGATION_PARTS:
        row[f"{part}_mean"] = _mean(get(part, product))
    row.update(_mean_ci("shortage_cost", mx.mean_ci(get("shortage_cost", product), confidence)))
    row["unmet_units_mean"] = _mean(get("unmet_units", product))
    short_days = get("shortage_days", product)
    row["shortage_days_mean"] = _mean(short_days)
    e = mx.proportion_ci(int((short_days > 0).sum()), n, confidence)
    row.update(_proportion("p_shortage", e))
    disrupted = get("disrupted", product) > 0.5
    row.update(_proportion("p_disrupted", mx.proportion_ci(int(disrupted.sum()), n, confidence)))
    c = mx.conditional_mean(get("tts_days", product), disrupted, confidence)
    row.update(_mean_ci("tts_days_disrupted", c), tts_censored_share=c.share_censored)
    ttr = get("ttr_days", product)
    c = mx.conditional_mean(ttr, disrupted, confidence)
    open_ended = ttr_censored(s, product)
    row.update(
        _mean_ci("ttr_days_disrupted", c),
        ttr_censored_share=(open_ended.sum() / c.n_condition) if c.n_condition else math.nan,
        ttr_days_p95=float(mx.quantiles(np.nan_to_num(ttr, nan=0.0), 0.95)[0]),
    )
    d = mx.paired_difference(total, base.metric("total_cost", product), confidence)
    row.update(_mean_ci("diff_total_cost", d))
    row["benefit_cost_ratio"] = mx.benefit_cost_ratio(
        row["shortage_cost_mean"],
        row["mitigation_cost_mean"],
        _mean(base.metric("shortage_cost", product)),
        _mean(base.metric("mitigation_cost", product)),
    )
    return row
