"""Outcome statistics of one arm of a study, and the ranking of strategies.

The outcomes a design study reports (see ``docs/design-the-response.md``):

=================  ==============================================================
``total_cost``     mean total cost per run (shortage + mitigation), euros
``shortage_cost``  mean shortage cost per run
``mitigation_cost`` mean mitigation cost per run
``p_shortage``     probability that a run has unmet final demand
``unmet_units``    mean unmet units per run (of a product; NaN for the system)
``ttr_days``       mean time-to-recover of disrupted runs, days
=================  ==============================================================

Each with a 95% confidence interval (:mod:`disruptsim.results.stats`). Strategies are ranked
by mean total cost, lowest first.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..results import stats as mx
from .study import SYSTEM, StudyRuns

OUTCOMES = (
    "total_cost",
    "shortage_cost",
    "mitigation_cost",
    "p_shortage",
    "unmet_units",
    "ttr_days",
)
"""Outcomes a study can report, in the order of its tables."""


def per_run(
    study: StudyRuns, variant: int, strategy: str, outcome: str, row: str = SYSTEM
) -> np.ndarray:
    """Per-run values of an outcome (``p_shortage``: 1.0 for a run with a shortage)."""
    if outcome == "p_shortage":
        return (study.metric(variant, strategy, "shortage_days", row) > 0).astype(np.float64)
    if outcome == "ttr_days":
        return study.metric(variant, strategy, "ttr_days", row)
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of: {', '.join(OUTCOMES)}")
    return study.metric(variant, strategy, outcome, row)


def estimate(values: np.ndarray, outcome: str, disrupted: np.ndarray | None = None) -> mx.Estimate:
    """Mean (or probability) of an outcome with its 95% interval."""
    if outcome == "p_shortage":
        return mx.proportion_ci(int(values.sum()), values.size)
    if outcome == "ttr_days":
        c = mx.conditional_mean(values, disrupted if disrupted is not None else ~np.isnan(values))
        return mx.Estimate(c.estimate, c.low, c.high, c.n_observed)
    if np.isnan(values).all():  # unmet units of the system: units of different products do not add
        return mx.Estimate(math.nan, math.nan, math.nan, 0)
    return mx.mean_ci(values)


def outcome_columns(
    study: StudyRuns, variant: int, strategy: str, row: str = SYSTEM
) -> dict[str, Any]:
    """Every outcome of one arm with its interval, and the paired difference in total
    cost against the same variant's baseline."""
    out: dict[str, Any] = {}
    disrupted = study.metric(variant, strategy, "disrupted", row) > 0.5
    for outcome in OUTCOMES:
        e = estimate(per_run(study, variant, strategy, outcome, row), outcome, disrupted)
        out[outcome] = e.estimate
        out[f"{outcome}_ci_low"] = e.low
        out[f"{outcome}_ci_high"] = e.high
    d = mx.paired_difference(
        study.metric(variant, strategy, "total_cost", row),
        study.metric(variant, "baseline", "total_cost", row),
    )
    out["diff_total_cost"] = d.estimate
    out["diff_total_cost_ci_low"] = d.low
    out["diff_total_cost_ci_high"] = d.high
    return out


def best_strategy(
    study: StudyRuns, variant: int, row: str = SYSTEM
) -> tuple[str, str | None, bool]:
    """The strategy of lowest mean total cost, the runner-up, and whether the paired
    difference between them excludes 0 at 95% (False: the ranking is within noise)."""
    means = {s: float(study.metric(variant, s, "total_cost", row).mean()) for s in study.strategies}
    order = sorted(means, key=means.__getitem__)
    if len(order) < 2:
        return order[0], None, True
    d = mx.paired_difference(
        study.metric(variant, order[1], "total_cost", row),
        study.metric(variant, order[0], "total_cost", row),
    )
    return order[0], order[1], bool(d.excludes(0.0)) if not math.isnan(d.low) else False
