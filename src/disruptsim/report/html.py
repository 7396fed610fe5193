"""The self-contained HTML report: summary tables and figures embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._version import __version__
from ..conventions import SYSTEM
from .figures import ReportFigure, make_figures
from .format import (
    format_days,
    format_euros,
    format_interval,
    format_percent,
    format_ratio,
    format_runs,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..results.result import SimulationResult

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.8em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; vertical-align: top; }
th { background: #f4f4f4; } td.name, th.name { text-align: left; }
tr.best td { background: #eef6ee; }
.meta td { text-align: left; } .note { background: #fff8e1; border-left: 4px solid #f0b400;
       padding: 0.5em 0.8em; } figure { margin: 1em 0; } figure img { max-width: 100%; }
figcaption { font-size: 0.9em; color: #444; max-width: 60em; }
dl dt { font-weight: 600; margin-top: 0.5em; } dl dd { margin-left: 1.5em; }
.small { font-size: 0.85em; color: #555; }
"""

DEFINITIONS = (
    (
        "Total cost",
        "Shortage cost plus mitigation cost of one run over the whole horizon, in euros.",
    ),
    (
        "Mean (95% CI)",
        "Average over all runs; the interval is a Student-t 95% confidence interval for the expected value.",
    ),
    (
        "p95, CVaR95",
        "95th percentile of the total cost over runs; CVaR95 is the mean of the worst 5% of runs.",
    ),
    (
        "P(shortage)",
        "Share of runs with at least one day of unmet final demand (Wilson 95% interval).",
    ),
    (
        "E[TTR | disrupted]",
        "Mean time to recover over runs with a disruption: days from the first disruption to the end of the last shortage day (0 when stocks and mitigation avoided any shortage).",
    ),
    (
        "Δ vs baseline",
        "Mean of the run-by-run difference in total cost against the baseline over the same futures, with its 95% CI; negative means cheaper.",
    ),
    (
        "BCR",
        "Benefit-cost ratio: expected shortage cost avoided divided by extra expected mitigation cost; ∞: less shortage at no extra cost; –: undefined (no difference, or a saving bought with more shortage).",
    ),
    (
        "Pareto",
        "M: not dominated on (expected mitigation cost, expected shortage cost); T: not dominated on (expected total cost, 95th percentile of time to recover).",
    ),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pareto_mark(row: pd.Series) -> str:
    marks = ("M" if row["pareto_mitigation_shortage"] else "") + (
        "T" if row["pareto_total_ttr95"] else ""
    )
    return marks or "–"


def strategy_table(summary: pd.DataFrame, product: str = SYSTEM) -> str:
    """HTML table of one product's rows (strategies as rows)."""
    rows = summary[summary["product"] == product].sort_values("rank", kind="stable")
    head = (
        "<tr><th>Rank</th><th class=name>Strategy</th><th>Expected total cost</th><th>95% CI</th>"
        "<th>p95</th><th>CVaR95</th><th>Expected mitigation cost</th><th>Expected shortage cost</th>"
        "<th>P(shortage)</th><th>E[TTR | disrupted]</th><th>Δ vs baseline (95% CI)</th>"
        "<th>BCR</th><th>Pareto</th></tr>"
    )
    body = []
    for _, r in rows.iterrows():
        diff = r["diff_total_cost_mean"]
        diff_text = (
            "–"
            if r["diff_total_cost_ci_low"] == r["diff_total_cost_ci_high"] == diff == 0
            else f"{format_euros(diff)} {format_interval(r['diff_total_cost_ci_low'], r['diff_total_cost_ci_high'])}"
        )
        censored = r["ttr_censored_share"]
        ttr = format_days(r["ttr_days_disrupted_mean"])
        if not math.isnan(censored) and censored > 0:
            ttr += f" <span class=small>({format_percent(censored)} still short at horizon)</span>"
        cells = [
            f"{int(r['rank'])}",
            f"<td class=name>{_e(r['strategy'])}</td>",
            format_euros(r["total_cost_mean"]),
            format_interval(r["total_cost_ci_low"], r["total_cost_ci_high"]),
            format_euros(r["total_cost_p95"]),
            format_euros(r["total_cost_cvar95"]),
            format_euros(r["mitigation_cost_mean"]),
            format_euros(r["shortage_cost_mean"]),
            f"{format_percent(r['p_shortage'])} <span class=small>{format_interval(r['p_shortage_ci_low'], r['p_shortage_ci_high'], 'percent')}</span>",
            ttr,
            diff_text,
            format_ratio(r["benefit_cost_ratio"]),
            _pareto_mark(r),
        ]
        tds = "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in cells)
        cls = " class=best" if r["rank"] == 1 else ""
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def separation_note(result: SimulationResult) -> str:
    """A sentence on whether the two cheapest strategies are separated (plain text)."""
    c = result.compare_top_two()
    if c is None:
        return ""
    d = c.difference
    interval = format_interval(d.low, d.high)
    if c.separated:
        return (
            f"The cheapest strategy, {c.strategy}, is separated from the runner-up, {c.other}: "
            f"the 95% CI of their paired difference in total cost, {interval}, excludes zero."
        )
    return (
        f"The two cheapest strategies, {c.strategy} and {c.other}, are not separated: the 95% CI "
        f"of their paired difference in total cost, {interval}, contains zero. About "
        f"{format_runs(c.runs_needed)} runs would separate them if the difference is as estimated "
        f"(80% power); this study has {result.n_runs:,d}."
    )


def render_html(
    result: SimulationResult,
    figures: list[ReportFigure],
    pngs: dict[str, bytes],
    summary: pd.DataFrame,
) -> str:
    """The report as one HTML document (figures inlined as base64 PNG)."""
    sc = result.scenario
    meta = [
        ("Scenario", result.scenario_name),
        (
            "Description",
            sc.description if sc is not None else result.info.get("scenario_description", ""),
        ),
        (
            "Scenario file",
            (str(sc.path) if sc is not None and sc.path else result.info.get("scenario_path"))
            or "–",
        ),
        (
            "SHA-256 of the file",
            (sc.sha256 if sc is not None else result.info.get("scenario_sha256")) or "–",
        ),
        ("Horizon", f"{next(iter(result.strategies.values())).horizon_days} days"),
        ("Runs", f"{result.n_runs:,d} per strategy, the same futures for every strategy"),
        ("Seed", str(result.seed)),
        ("disruptsim", __version__),
        ("Created", datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>disruptsim report: {_e(result.scenario_name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Supply disruption study: {_e(result.scenario_name)}</h1>",
        "<table class=meta>"
        + "".join(f"<tr><th class=name>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in meta)
        + "</table>",
        "<h2>Strategies compared (whole value chain)</h2>",
        strategy_table(summary, SYSTEM),
    ]
    note = separation_note(result)
    if note:
        parts.append(f"<p class=note>{_e(note)}</p>")
    finals = [p for p in summary["product"].unique() if p != SYSTEM]
    if len(finals) > 1:
        for product in finals:
            parts.append(f"<h2>Final product: {_e(product)}</h2>")
            parts.append(
                "<p class=small>Costs of this product only (its shortage and its own mitigation).</p>"
            )
            parts.append(strategy_table(summary, product))
    for fig in figures:
        data = base64.b64encode(pngs[fig.name]).decode("ascii")
        parts.append(f"<h2>{_e(fig.title)}</h2>")
        parts.append(
            f"<figure><img alt='{_e(fig.title)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{_e(fig.caption)} <span class=small>(figures/{_e(fig.name)}.png)</span></figcaption></figure>"
        )
    parts.append("<h2>How to read this report</h2><dl>")
    parts.extend(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in DEFINITIONS)
    parts.append(
        "</dl><p class=small>Every column of summary.csv is defined in docs/results.md of disruptsim. "
        "All costs are in euros over the simulated horizon, undiscounted.</p></body></html>"
    )
    return "\n".join(parts)


def write_report(
    result: SimulationResult,
    directory: str | Path,
    summary: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
) -> Path:
    """Write ``report.html`` and ``figures/*.png`` into ``directory``.

    Parameters
    ----------
    result : SimulationResult
    directory : str or Path
        An existing directory (``SimulationResult.save`` passes its temporary one).
    summary, timeseries : DataFrame, optional
        ``result.summary()`` and ``result.timeseries()``, if already computed.

    Returns
    -------
    Path
        The path of ``report.html``.
    """
    d = Path(directory)
    summary = result.summary() if summary is None else summary
    figures = make_figures(result, summary, timeseries)
    (d / "figures").mkdir(exist_ok=True)
    pngs = {}
    for fig in figures:
        pngs[fig.name] = fig.png()
        (d / "figures" / f"{fig.name}.png").write_bytes(pngs[fig.name])
    path = d / "report.html"
    path.write_text(render_html(result, figures, pngs, summary), encoding="utf-8")
    return path
