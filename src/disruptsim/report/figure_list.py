"""The list of the report's figures, in report order: :func:`make_figures`.

The figures themselves are drawn in :mod:`disruptsim.report.figures` and, for time to
recover, :mod:`disruptsim.report.recovery`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from ..conventions import SYSTEM
from .figures import (
    MAX_PRODUCT_FIGURES,
    ReportFigure,
    cost_distribution_figure,
    fulfilment_figure,
    pareto_figure,
    shortage_figure,
    stock_figure,
    stock_products,
)
from .recovery import RECOVERY_CAPTION, recovery_figure

if TYPE_CHECKING:  # pragma: no cover
    from ..results.result import SimulationResult

__all__ = ["fan_products", "make_figures"]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "_"


def fan_products(result: SimulationResult, summary: pd.DataFrame) -> list[str]:
    """System, then final products by expected baseline shortage cost (at most MAX_PRODUCT_FIGURES)."""
    rows = summary[(summary["strategy"] == result.baseline) & (summary["product"] != SYSTEM)]
    rows = rows.sort_values("shortage_cost_mean", ascending=False, kind="stable")
    products = [str(p) for p in rows["product"]]
    if len(products) == 1:  # the system is that one product: one chart says it all
        return products
    return [SYSTEM, *products[:MAX_PRODUCT_FIGURES]]


def make_figures(
    result: SimulationResult,
    summary: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
) -> list[ReportFigure]:
    """Every figure of the report, in report order.

    Parameters
    ----------
    result : SimulationResult
    summary, timeseries : DataFrame, optional
        ``result.summary()`` and ``result.timeseries()``, if already computed.
    """
    summary = result.summary() if summary is None else summary
    ts = result.timeseries() if timeseries is None else timeseries
    figures: list[ReportFigure] = []
    for k, product in enumerate(fan_products(result, summary)):
        label = "the system" if product == SYSTEM else product
        figures.append(
            ReportFigure(
                name=f"fulfilment_{k:02d}_{_safe(product)}",
                title=f"Daily fulfilment of {label}",
                caption=(
                    "Share of the daily requirement delivered, one panel per strategy. Black: exact "
                    "mean over all runs; bands: 25–75% and 5–95% of the traced runs; dashed: their "
                    "median. When disruptions are rare the bands stay at 100% and only the mean dips."
                    + (
                        " System: value-weighted share of final demand met."
                        if product == SYSTEM
                        else ""
                    )
                ),
                figure=fulfilment_figure(result, ts, product),
            )
        )
    figures.append(
        ReportFigure(
            name="shortage_probability",
            title="Probability of shortage by day",
            caption=(
                "Share of all runs in which the product (system: any final product) has unmet "
                "demand on that day."
            ),
            figure=shortage_figure(result, ts, fan_products(result, summary)),
        )
    )
    figures.append(
        ReportFigure(
            name="total_cost",
            title="Distribution of total cost",
            caption=(
                "Total cost per run (shortage + mitigation) at system level. Left: p5–p99 line, "
                "p25–p75 box, median tick, mean with its 95% CI (diamond), CVaR95 (triangle: mean "
                "of the worst 5% of runs). Right: probability that a run costs more than x (log scale)."
            ),
            figure=cost_distribution_figure(result, summary),
        )
    )
    figures.append(
        ReportFigure(
            name="pareto",
            title="Trade-offs and Pareto fronts",
            caption=(
                "Left: expected total cost (95% CI) against the 95th percentile of time to recover "
                "over all runs (days from the first disruption to the end of the last shortage; "
                "runs without disruption count as 0 days). (≥) and an arrow: more than 5% of the "
                "runs are still short at the end of the horizon, so the true percentile is "
                "longer than shown (right-censored). Right: expected mitigation cost against "
                "expected shortage cost. A strategy is on the front when no other is at least as "
                "good on both axes and better on one."
            ),
            figure=pareto_figure(result, summary),
        )
    )
    figures.append(
        ReportFigure(
            name="time_to_recover",
            title="Time to recover",
            caption=RECOVERY_CAPTION,
            figure=recovery_figure(result, summary),
        )
    )
    stocked = stock_products(result, ts)
    if stocked:
        figures.append(
            ReportFigure(
                name="stock",
                title="Stock levels",
                caption=(
                    "Stock of each product with a stockpile, in its own unit: exact mean over all "
                    "runs (line) and the 5th percentile of the traced runs (dotted: in 5% of "
                    "futures the stock is lower than this)."
                ),
                figure=stock_figure(result, ts, stocked),
            )
        )
    return figures
