"""The self-contained HTML report: summary tables and figures embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._version import __version__
from ..conventions import SYSTEM
from .assumptions import assumptions_html
from .figure_list import make_figures
from .figures import ReportFigure
from .narrative import executive_summary
from .table import definitions, html_table

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
table.strategies { font-size: 0.85em; } table.strategies td { white-space: nowrap; } table.strategies td.name { white-space: normal; }
table.assume td { font-size: 0.95em; } h3 { font-size: 1.05em; margin-top: 1.2em; }
.summary { background: #f3f7fb; border-left: 4px solid #1f77b4; padding: 0.4em 1em; }
.summary p { margin: 0.5em 0; } .summary p:first-child { font-size: 1.08em; }
tr.best td { background: #eef6ee; }
.meta td { text-align: left; } .note { background: #fff8e1; border-left: 4px solid #f0b400;
       padding: 0.5em 0.8em; } figure { margin: 1em 0; } figure img { max-width: 100%; }
figcaption { font-size: 0.9em; color: #444; max-width: 60em; }
dl dt { font-weight: 600; margin-top: 0.5em; } dl dd { margin-left: 1.5em; }
.small { font-size: 0.85em; color: #555; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def strategy_table(summary: pd.DataFrame, product: str = SYSTEM, baseline: str = "baseline") -> str:
    """HTML table of one product's rows (strategies as rows, ranked); see
    :mod:`disruptsim.report.table`."""
    return html_table(summary, baseline=baseline, product=product)


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
        f"<p class=small>{_e(meta[1][1])}<br>{result.n_runs:,d} simulated futures per strategy "
        f"(the same for every strategy), seed {result.seed}, horizon {meta[4][1]}; "
        "details under <a href='#about'>About this study</a>.</p>",
        "<h2>Summary</h2><div class=summary>"
        + "".join(f"<p>{_e(text)}</p>" for text in executive_summary(result, summary))
        + "</div>",
        "<h2>Strategies compared (whole value chain)</h2>",
        strategy_table(summary, SYSTEM, result.baseline),
    ]
    finals = [p for p in summary["product"].unique() if p != SYSTEM]
    if len(finals) > 1:
        for product in finals:
            parts.append(f"<h2>Final product: {_e(product)}</h2>")
            parts.append(
                "<p class=small>Costs of this product only (its shortage and its own mitigation).</p>"
            )
            parts.append(strategy_table(summary, product, result.baseline))
    for fig in figures:
        data = base64.b64encode(pngs[fig.name]).decode("ascii")
        parts.append(f"<h2>{_e(fig.title)}</h2>")
        parts.append(
            f"<figure><img alt='{_e(fig.title)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{_e(fig.caption)} <span class=small>(figures/{_e(fig.name)}.png)</span></figcaption></figure>"
        )
    if sc is not None:
        parts.append(assumptions_html(sc))
    parts.append("<h2 id=about>About this study</h2><table class=meta>")
    parts.extend(f"<tr><th class=name>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in meta)
    parts.append("</table>")
    parts.append("<h2>How to read this report</h2><ul>")
    parts.extend(f"<li>{_e(text)}</li>" for text in definitions())
    parts.append(
        "</ul><p class=small>Every column of summary.csv is defined in docs/results.md of disruptsim. "
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
