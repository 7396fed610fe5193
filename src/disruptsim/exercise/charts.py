"""Charts of an exercise, drawn on the server as SVG with matplotlib (no JavaScript).

Text is drawn as paths (matplotlib's default ``svg.fonttype``), so no text of an input
file reaches the SVG as markup; the console serves the SVG as an image and the
after-action report embeds it as a ``data:`` URI.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..report.figures import strategy_colors
from .lookahead import FAN_QUANTILES, LookAhead

__all__ = ["data_uri", "fan_chart", "realised_chart"]

_MEDIAN = FAN_QUANTILES.index(0.5)
_P5, _P95 = FAN_QUANTILES.index(0.05), FAN_QUANTILES.index(0.95)
_P25, _P75 = FAN_QUANTILES.index(0.25), FAN_QUANTILES.index(0.75)


def _svg(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", facecolor="white", metadata={"Date": None})
    return buf.getvalue()


def data_uri(svg: bytes) -> str:
    """An SVG as a ``data:`` URI for an ``<img>`` (self-contained HTML)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def fan_chart(la: LookAhead, options: Sequence[str] | None = None) -> bytes:
    """Fan charts of a look-ahead: fulfilment and days of stock per final product.

    Each option's median is a line; the 5-95% band of "as decided so far" is shaded
    (25-75% darker), the other options' 5-95% bands are outlined.
    """
    names = [o.name for o in la.options] if options is None else list(options)
    outcomes = {o.name: o for o in la.options if o.name in names}
    colors = strategy_colors(names)
    panels = []
    for product in la.final_products:
        first = next(iter(outcomes.values()))
        for quantity in ("fulfilment", "stock_days"):
            if quantity in first.fan.get(product, {}):
                panels.append((product, quantity))
    fig = Figure(figsize=(7.5, 2.6 * max(1, len(panels))), layout="constrained")
    axes = fig.subplots(max(1, len(panels)), 1, squeeze=False)[:, 0]
    days = la.fan_days
    for ax, (product, quantity) in zip(axes, panels, strict=False):
        for k, name in enumerate(names):
            fan = np.asarray(outcomes[name].fan[product][quantity])
            c = colors[name]
            if k == 0:
                ax.fill_between(days, fan[_P5], fan[_P95], color=c, alpha=0.15, lw=0)
                ax.fill_between(days, fan[_P25], fan[_P75], color=c, alpha=0.25, lw=0)
            else:
                ax.plot(days, fan[_P5], color=c, lw=0.6, ls=":")
                ax.plot(days, fan[_P95], color=c, lw=0.6, ls=":")
            ax.plot(
                days,
                fan[_MEDIAN],
                color=c,
                lw=1.8 if k == 0 else 1.2,
                label=outcomes[name].title[:50],
            )
        ax.set_title(
            f"{product}: {'fulfilment (share of demand met)' if quantity == 'fulfilment' else 'days of stock'}",
            fontsize=10,
        )
        ax.set_xlabel("day")
        if quantity == "fulfilment":
            ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    if panels:
        axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(
        f"Look-ahead from day {la.day}: {la.runs:,} futures (median, 5-95% band)", fontsize=11
    )
    return _svg(fig)


def realised_chart(
    daily: dict[str, np.ndarray],
    products: Sequence[str],
    finals: Sequence[int],
    until: int,
    marks: Sequence[tuple[int, str]] = (),
) -> bytes:
    """The realised path so far: fulfilment and days of stock of the final products,
    with a dashed line on each decision day (``marks``: ``(day, kind)``)."""
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    days = np.arange(until)
    colors = strategy_colors([products[j] for j in finals])
    for j in finals:
        name = products[j]
        ax1.plot(days, daily["fulfilment"][:until, j], color=colors[name], label=name)
        need = daily["requirement"][:until, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            stock_days = np.where(need > 0, daily["stock"][:until, j] / need, np.nan)
        if np.any(np.nan_to_num(daily["stock"][:until, j]) > 0):
            ax2.plot(days, stock_days, color=colors[name], label=name)
    for day, kind in marks:
        for ax in (ax1, ax2):
            ax.axvline(
                day,
                color="#555" if kind == "decision" else "#c33",
                lw=0.8,
                ls="--" if kind == "decision" else ":",
            )
    ax1.set_ylabel("fulfilment")
    ax1.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("days of stock")
    ax2.set_xlabel("day (dashed: decisions, dotted: injects)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    ax1.legend(fontsize=8, loc="lower left")
    ax1.set_title("Realised path so far", fontsize=11)
    if until == 0:
        ax1.set_xlim(0, 1)
    return _svg(fig)
