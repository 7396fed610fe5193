"""Figures of the report, drawn on plain :class:`matplotlib.figure.Figure` objects.

No pyplot: figures are rendered with the Agg canvas, so the report never touches the
user's interactive backend or global figure list.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..conventions import SYSTEM
from .format import euro_scale

if TYPE_CHECKING:  # pragma: no cover
    from ..results.result import SimulationResult

MAX_PRODUCT_FIGURES = 3
"""At most this many final products get their own fan chart (largest shortage cost first)."""
MAX_STOCK_PANELS = 4
"""At most this many products with stockpiles are shown in the stock figure."""
DPI = 110
_COLORS = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
LINESTYLES = ("-", "--", "-.", ":")
"""Line styles cycled over strategies, so that coinciding curves stay visible."""


@dataclass(frozen=True)
class ReportFigure:
    """One figure of the report.

    Attributes
    ----------
    name : str
        File stem of its PNG (``figures/<name>.png``).
    title : str
        Heading in the report.
    caption : str
        What the figure shows and how to read it.
    figure : matplotlib.figure.Figure
    """

    name: str
    title: str
    caption: str
    figure: Figure

    def png(self) -> bytes:
        """The figure as PNG bytes."""
        FigureCanvasAgg(self.figure)
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=DPI, facecolor="white")
        return buf.getvalue()


def strategy_colors(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per strategy, in result order (the same in every figure)."""
    return {n: _COLORS[k % len(_COLORS)] for k, n in enumerate(names)}


def axis_euro_scale(values: np.ndarray | Sequence[float]) -> tuple[float, str]:
    """Divisor and axis unit for euro amounts (``1e6, "€ million"`` ...)."""
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    top = float(np.abs(a).max()) if a.size else 0.0
    div, _, name = euro_scale(top)
    return div, f"€ {name}" if name else "€"


def new_figure(width: float, height: float) -> Figure:
    """A figure of the report's style (constrained layout, small paddings)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.06, h_pad=0.06)
    return fig


def legend_columns(fig: Figure, labels: Sequence[str], fontsize: float = 9) -> int:
    """Legend columns that fit the figure's width (so no entry is cut off)."""
    width_in = fig.get_figwidth()
    longest = max((len(str(t)) for t in labels), default=1)
    entry_in = 0.75 + longest * fontsize * 0.55 / 72  # handle + text at about 0.55 em a letter
    return max(1, min(len(labels), int(width_in * 0.95 // entry_in)))


def _grid(n: int, ncols: int = 3) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return math.ceil(n / ncols), ncols


def _product_panels(
    products: Sequence[str], row_height: float, extra_height: float
) -> tuple[Figure, np.ndarray]:
    """One panel per product, two columns sharing the day axis (spare panels hidden)."""
    nrows, ncols = _grid(len(products), 2)
    fig = new_figure(5.6 * ncols, row_height * nrows + extra_height)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for ax in axes.flat[: len(products)]:
        ax.set_xlabel("Day of horizon (days)")
        ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes.flat[len(products) :]:
        ax.set_visible(False)
    return fig, axes


def _label(product: str, units: dict[str, str]) -> str:
    return "System (all final demand)" if product == SYSTEM else product


def fulfilment_figure(result: SimulationResult, ts: pd.DataFrame, product: str) -> Figure:
    """Fan chart of daily fulfilment, one panel per strategy."""
    names = list(result.strategies)
    colors = strategy_colors(names)
    nrows, ncols = _grid(len(names))
    fig = new_figure(4.2 * ncols, 3.0 * nrows + 0.4)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    sub = ts[ts["product"] == product]
    lows = []
    for k, name in enumerate(names):
        ax = axes.flat[k]
        d = sub[sub["strategy"] == name]
        day = d["day"].to_numpy()
        c = colors[name]
        for low, high, alpha in ((5, 95, 0.15), (25, 75, 0.35)):
            ax.fill_between(
                day,
                d[f"fulfilment_p{low}"],
                d[f"fulfilment_p{high}"],
                color=c,
                alpha=alpha,
                lw=0,
                label=f"{low}–{high}% of traced runs",
            )
        ax.plot(day, d["fulfilment_p50"], color=c, lw=0.8, ls="--", label="median (traced runs)")
        ax.plot(day, d["mean_fulfilment"], color="black", lw=1.4, label="mean (all runs)")
        lows.append(np.nanmin(d[["fulfilment_p5", "mean_fulfilment"]].to_numpy(), initial=1.0))
        ax.set_title(name, fontsize=11)
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        if k % ncols == 0:
            what = "final demand value met" if product == SYSTEM else "requirement delivered"
            ax.set_ylabel(f"Share of {what}")
        if k // ncols == nrows - 1 or k + ncols >= len(names):
            ax.set_xlabel("Day of horizon (days)")
            ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    low = min(lows) if lows else 0.0
    pad = max(0.001, 0.04 * (1.0 - low))
    axes.flat[0].set_ylim(low - pad, 1.0 + pad)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=legend_columns(fig, labels),
        fontsize=9,
        frameon=False,
    )
    fig.suptitle(f"Daily fulfilment: {_label(product, {})}", fontsize=12)
    return fig


def cost_distribution_figure(result: SimulationResult, summary: pd.DataFrame) -> Figure:
    """Total cost per strategy: quantile summary (left) and exceedance curve (right)."""
    names = list(result.strategies)
    colors = strategy_colors(names)
    sysrows = summary[summary["product"] == SYSTEM].set_index("strategy")
    totals = {n: np.sort(result.strategies[n].metric("total_cost")) for n in names}
    div, unit = axis_euro_scale(
        np.concatenate(
            [sysrows["total_cost_p99"].to_numpy(), sysrows["total_cost_cvar95"].to_numpy()]
        )
    )
    fig = new_figure(11.5, 0.55 * len(names) + 2.6)
    ax, ax2 = fig.subplots(1, 2, width_ratios=(1.1, 1.0))
    for k, name in enumerate(names):
        x = totals[name]
        y = len(names) - 1 - k
        q5, q25, q50, q75 = np.quantile(x, (0.05, 0.25, 0.5, 0.75))
        r = sysrows.loc[name]
        c = colors[name]
        ax.plot(
            [q5 / div, r["total_cost_p99"] / div],
            [y, y],
            color=c,
            lw=1.2,
            label="p5–p99" if k == 0 else None,
        )
        ax.barh(
            y,
            (q75 - q25) / div,
            left=q25 / div,
            height=0.45,
            facecolor=(*to_rgb(c), 0.35),
            edgecolor=c,
            lw=1.5,  # a box of zero width (most runs cost the same) still shows as a line
            label="p25–p75" if k == 0 else None,
        )
        ax.plot(
            [q50 / div] * 2, [y - 0.22, y + 0.22], color=c, lw=2, label="median" if k == 0 else None
        )
        ax.errorbar(
            r["total_cost_mean"] / div, y,
            xerr=[[(r["total_cost_mean"] - r["total_cost_ci_low"]) / div], [(r["total_cost_ci_high"] - r["total_cost_mean"]) / div]],
            fmt="D", color="black", ms=6, capsize=3, label="mean (95% CI)" if k == 0 else None,
        )  # fmt: skip
        ax.plot(
            r["total_cost_cvar95"] / div,
            y,
            marker="^",
            color="black",
            ms=7,
            ls="none",
            label="CVaR95" if k == 0 else None,
        )
    ax.set_yticks(range(len(names)), names[::-1])
    ax.set_ylim(-1.7, len(names) - 0.5)  # the bottom row is left free for the legend
    ax.set_xlabel(f"Total cost per run over the horizon ({unit})")
    ax.set_title("Distribution over runs (system)", fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower center", ncols=3, framealpha=0.9)
    for name in names:
        x = totals[name]
        n = x.size
        exceed = 1.0 - np.arange(1, n + 1) / n
        keep = exceed > 0
        style = LINESTYLES[names.index(name) % len(LINESTYLES)]
        ax2.step(
            x[keep] / div,
            exceed[keep],
            where="post",
            color=colors[name],
            lw=1.5,
            ls=style,
            label=name,
        )
    ax2.set_yscale("log")
    n = max(x.size for x in totals.values())
    ax2.set_ylim(max(0.5 / n, 1e-6), 1.05)
    ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax2.set_xlabel(f"Total cost per run ({unit})")
    ax2.set_ylabel("Probability that cost exceeds x")
    ax2.set_title("Exceedance curve (system)", fontsize=11)
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=8, loc="upper right")
    return fig


def _annotate(ax, xs: np.ndarray, ys: np.ndarray, names: Sequence[str]) -> None:
    """Label points, moving a label down when it would overlap an earlier one."""
    to_axes = ax.transData + ax.transAxes.inverted()
    placed: list[tuple[float, float]] = []
    order = np.argsort(-np.asarray(ys, dtype=float), kind="stable")
    for k in order:
        fx, fy = to_axes.transform((xs[k], ys[k]))
        dy = 6.0
        while any(abs(fx - px) < 0.25 and abs(fy + dy / 300.0 - py) < 0.05 for px, py in placed):
            dy -= 14.0
        placed.append((fx, fy + dy / 300.0))
        ax.annotate(
            names[k], (xs[k], ys[k]), xytext=(7, dy), textcoords="offset points", fontsize=9
        )


def _front_line(ax, x: np.ndarray, y: np.ndarray, on: np.ndarray, **kw) -> None:
    order = np.argsort(x[on])
    ax.step(x[on][order], y[on][order], where="post", **kw)


def pareto_figure(result: SimulationResult, summary: pd.DataFrame) -> Figure:
    """Expected total cost against p95 time-to-recover, and mitigation against shortage."""
    names = list(result.strategies)
    colors = strategy_colors(names)
    s = summary[summary["product"] == SYSTEM].set_index("strategy").loc[names]
    fig = new_figure(11.5, 4.6)
    ax, ax2 = fig.subplots(1, 2)
    div, unit = axis_euro_scale(s["total_cost_ci_high"].to_numpy())
    x = s["ttr_days_p95"].to_numpy(dtype=float)
    y = s["total_cost_mean"].to_numpy(dtype=float) / div
    on = s["pareto_total_ttr95"].to_numpy(dtype=bool)
    _front_line(ax, x, y, on, color="0.4", lw=1, ls="--", label="Pareto front")
    for k, name in enumerate(names):
        r = s.loc[name]
        ax.errorbar(
            x[k], y[k],
            yerr=[[(r["total_cost_mean"] - r["total_cost_ci_low"]) / div], [(r["total_cost_ci_high"] - r["total_cost_mean"]) / div]],
            fmt="o" if on[k] else "s", mfc=colors[name] if on[k] else "white", color=colors[name], ms=8, capsize=3,
        )  # fmt: skip
    ax.set_xlabel("Time to recover, 95th percentile over all runs (days)")
    ax.set_ylabel(f"Expected total cost ({unit})")
    ax.set_title("Cost against time to recover", fontsize=11)
    ax.grid(alpha=0.3)
    ax.margins(x=0.15, y=0.15)
    ax.legend(fontsize=8, loc="best")
    ax.autoscale_view()
    # More than 5% of all runs still short at the horizon: the p95 is a lower bound.
    open_share = (s["ttr_censored_share"].fillna(0.0) * s["p_disrupted"]).to_numpy(dtype=float)
    censored = open_share >= 0.05
    for k in np.flatnonzero(censored):
        ax.annotate(
            "", (x[k] + 0.06 * (ax.get_xlim()[1] - ax.get_xlim()[0]), y[k]), (x[k], y[k]),
            arrowprops={"arrowstyle": "->", "color": colors[names[k]], "lw": 1.2},
        )  # fmt: skip
    _annotate(ax, x, y, [f"{n} (≥)" if c else n for n, c in zip(names, censored, strict=True)])

    mit = s["mitigation_cost_mean"].to_numpy(dtype=float)
    sho = s["shortage_cost_mean"].to_numpy(dtype=float)
    div2, unit2 = axis_euro_scale(np.concatenate([mit, sho]))
    on2 = s["pareto_mitigation_shortage"].to_numpy(dtype=bool)
    _front_line(ax2, mit / div2, sho / div2, on2, color="0.4", lw=1, ls="--", label="Pareto front")
    for k, name in enumerate(names):
        ax2.plot(
            mit[k] / div2,
            sho[k] / div2,
            "o" if on2[k] else "s",
            mfc=colors[name] if on2[k] else "white",
            color=colors[name],
            ms=8,
        )
    ax2.margins(0.15)
    # Lines of equal expected total cost.
    (x0, x1), (y0, y1) = ax2.get_xlim(), ax2.get_ylim()
    for total in np.linspace(0, x1 + y1, 7)[1:]:
        ax2.plot([x0, x1], [total - x0, total - x1], color="0.85", lw=0.8, zorder=0)
    ax2.set_xlim(x0, x1)
    ax2.set_ylim(y0, y1)
    _annotate(ax2, mit / div2, sho / div2, names)
    ax2.set_xlabel(f"Expected mitigation cost ({unit2})")
    ax2.set_ylabel(f"Expected shortage cost ({unit2})")
    ax2.set_title("Mitigation against shortage cost (grey: equal total)", fontsize=11)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8, loc="best")
    fig.supxlabel(
        "Filled circles: on the Pareto front; open squares: dominated. Bars: 95% CI.", fontsize=9
    )
    return fig


def shortage_figure(result: SimulationResult, ts: pd.DataFrame, products: Sequence[str]) -> Figure:
    """Share of runs in shortage on each day, all strategies on one panel per product."""
    names = list(result.strategies)
    colors = strategy_colors(names)
    fig, axes = _product_panels(products, 3.0, 0.5)
    for k, product in enumerate(products):
        ax = axes.flat[k]
        sub = ts[ts["product"] == product]
        for name in names:
            d = sub[sub["strategy"] == name]
            style = LINESTYLES[names.index(name) % len(LINESTYLES)]
            ax.plot(d["day"], d["p_shortage"], color=colors[name], lw=1.6, ls=style, label=name)
        ax.set_title(_label(product, {}), fontsize=11)
        ax.set_ylabel("Runs in shortage that day")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=legend_columns(fig, labels),
        fontsize=9,
        frameon=False,
    )
    fig.suptitle("Probability of shortage by day (exact, all runs)", fontsize=12)
    return fig


def stock_products(result: SimulationResult, ts: pd.DataFrame) -> list[str]:
    """Products with a stockpile in some strategy, largest target first (at most MAX_STOCK_PANELS)."""
    t = ts[ts["product"] != SYSTEM].groupby("product", observed=True)["stock_target"].max()
    t = t[t > 0].sort_values(ascending=False, kind="stable")
    return [str(p) for p in t.index[:MAX_STOCK_PANELS]]


def stock_figure(result: SimulationResult, ts: pd.DataFrame, products: Sequence[str]) -> Figure:
    """Stock level over time per product: mean over all runs, 5–95% band of traced runs."""
    names = list(result.strategies)
    colors = strategy_colors(names)
    units = result.product_units()
    fig, axes = _product_panels(products, 3.2, 0.4)
    for k, product in enumerate(products):
        ax = axes.flat[k]
        sub = ts[ts["product"] == product]
        for name in names:
            d = sub[sub["strategy"] == name]
            if not (d["stock_target"] > 0).any():
                continue
            day = d["day"].to_numpy()
            c = colors[name]
            style = LINESTYLES[names.index(name) % len(LINESTYLES)]
            ax.plot(day, d["mean_stock"], color=c, lw=1.6, ls=style, label=name)
            # The low tail as a thin line, not a band: bands of several strategies merge.
            ax.plot(day, d["stock_p5"], color=c, lw=0.8, ls=":", alpha=0.9)
        ax.set_title(product, fontsize=11)
        ax.set_ylabel(f"Stock ({units.get(product, 'units')})")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best", framealpha=0.9)
    fig.suptitle("Stock level (line: mean; dotted: 5th percentile)", fontsize=11)
    return fig
