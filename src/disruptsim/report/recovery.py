"""The report's time-to-recover figure, with runs still short at the horizon shown as
such (right-censored) rather than as recovered on the last day.

Recovery, here and in the table: days from the first disruption of a run to the end of
its last shortage day (0 when no shortage follows); see ``docs/results.md``, *Censoring*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from scipy import stats

from ..conventions import SYSTEM
from ..results.summary import ttr_censored
from .figures import LINESTYLES, legend_columns, new_figure, strategy_colors

if TYPE_CHECKING:  # pragma: no cover
    from ..results.result import SimulationResult

__all__ = ["RECOVERY_CAPTION", "recovery_figure", "recovery_curve"]

RECOVERY_CAPTION = (
    "Recovery: days from the first disruption of a run to the end of its last shortage day "
    "(0 when no shortage follows), whole value chain. Left: share of the disrupted runs not yet "
    "recovered x days after the first disruption (Kaplan–Meier estimate: runs still short at the "
    "end of the horizon count as not recovered for as long as they were observed; a curve that "
    "ends above 0 means some runs had not recovered by the horizon). Right: what happened in all "
    "runs: no disruption, disrupted without shortage, short but recovered within the horizon, "
    "and still short at the horizon (≥ horizon: recovery not observed)."
)
"""Caption of the figure: its one definition of recovery."""

_OUTCOMES = (
    ("not disrupted", "#d9d9d9"),
    ("disrupted, no shortage", "#a6cee3"),
    ("short, recovered", "#1f78b4"),
    ("still short at horizon", "#e31a1c"),
)


def recovery_curve(ttr: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier survival ``P(time to recover > x)`` of disrupted runs.

    Parameters
    ----------
    ttr : array of float
        Time to recover of the disrupted runs (days; observed part for censored runs).
    censored : array of bool
        Runs still short at the horizon (their ``ttr`` is a lower bound).

    Returns
    -------
    x, survival : arrays
        Step function (``where="post"``): survival is the share not yet recovered after
        ``x`` days. Empty arrays when there are no runs.
    """
    if ttr.size == 0:
        return np.array([]), np.array([])
    data = stats.CensoredData(uncensored=ttr[~censored], right=ttr[censored])
    sf = stats.ecdf(data).sf
    x, p = np.asarray(sf.quantiles, dtype=float), np.asarray(sf.probabilities, dtype=float)
    if x.size == 0 or x[0] > 0:
        x, p = np.concatenate([[0.0], x]), np.concatenate([[1.0], p])
    return x, p


def _outcome_shares(result: SimulationResult, name: str) -> np.ndarray:
    s = result.strategies[name]
    n = s.metrics.shape[0]
    disrupted = s.metric("disrupted", SYSTEM) > 0.5
    short = disrupted & (s.metric("shortage_days", SYSTEM) > 0)
    still = ttr_censored(s, SYSTEM)
    counts = [
        (~disrupted).sum(),
        (disrupted & ~short).sum(),
        (short & ~still).sum(),
        still.sum(),
    ]
    return np.asarray(counts, dtype=float) / max(n, 1)


def recovery_figure(result: SimulationResult, summary: pd.DataFrame) -> Figure:
    """Survival of time to recover (left) and the outcome of every run (right)."""
    names = list(result.strategies)
    colors = strategy_colors(names)
    horizon = next(iter(result.strategies.values())).horizon_days
    fig = new_figure(11.5, max(3.8, 0.45 * len(names) + 2.4))
    ax, ax2 = fig.subplots(1, 2, width_ratios=(1.15, 1.0))
    for k, name in enumerate(names):
        s = result.strategies[name]
        disrupted = s.metric("disrupted", SYSTEM) > 0.5
        ttr = s.metric("ttr_days", SYSTEM)[disrupted]
        x, p = recovery_curve(ttr, ttr_censored(s, SYSTEM)[disrupted])
        if x.size == 0:
            continue
        x, p = np.append(x, horizon), np.append(p, p[-1])
        style = LINESTYLES[k % len(LINESTYLES)]
        ax.step(x, p, where="post", color=colors[name], lw=1.6, ls=style, label=name)
        if p[-1] > 0:
            ax.annotate(
                f"{p[-1]:.0%}", (horizon, p[-1]), xytext=(3, 0), textcoords="offset points",
                fontsize=8, color=colors[name], va="center",
            )  # fmt: skip
    ax.axvline(horizon, color="0.5", lw=0.8, ls=":")
    ax.set_xlim(0, horizon * 1.08)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    ax.set_xlabel("Time since the first disruption (days)")
    ax.set_ylabel("Disrupted runs not yet recovered")
    ax.set_title("How long until supply is back (disrupted runs)", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", framealpha=0.9)
    shares = np.array([_outcome_shares(result, n) for n in names])
    ys = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    for j, (label, color) in enumerate(_OUTCOMES):
        ax2.barh(ys, shares[:, j], left=left, color=color, height=0.6, label=label)
        left += shares[:, j]
    ax2.set_yticks(ys, names)
    ax2.set_xlim(0, 1)
    ax2.set_ylim(-0.5, len(names) - 0.5)
    ax2.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    ax2.set_xlabel("Share of all runs (%)")
    ax2.set_title("Outcome of every run", fontsize=11)
    handles, labels = ax2.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=legend_columns(fig, labels, 9),
        fontsize=9,
        frameon=False,
    )
    return fig
