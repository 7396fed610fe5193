"""The screening page: a self-contained HTML file with the ranked table and concentration
charts (matplotlib, embedded as base64 PNG). Every text taken from the data is escaped."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .._version import __version__
from .indicators import (
    CRMA_MAX_SHARE,
    EXTRA_SHARE_THRESHOLD,
    HHI_THRESHOLD,
    NO_EXPORTS_RATIO,
    RATIO_THRESHOLD,
)

__all__ = ["screening_page"]

MAX_TABLE_ROWS = 300
"""Rows of the ranked table shown on the page (the CSV/Parquet output has them all)."""

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th { background: #f2f2f2; } td.t { text-align: left; } tr.flag td { background: #fff4e0; }
figure img { max-width: 100%; } figcaption, .small { font-size: 0.9em; color: #444; }
"""

_DEFINITIONS = (
    (
        "hhi_extra",
        "Herfindahl-Hirschman index of the importer's extra-bloc imports by supplier (0-1).",
    ),
    (
        "import_export_ratio",
        f"Extra-bloc imports over extra-bloc exports; {NO_EXPORTS_RATIO:g} when nothing is exported.",
    ),
    ("extra_share", "Extra-bloc imports over all imports of the importer (intra-bloc included)."),
    ("top_supplier, top_share", "Largest extra-bloc supplier and its share of extra-bloc imports."),
    ("world_export_hhi", "HHI of world exports of the product by exporting country."),
    (
        "effective_*",
        "The same after one step back: each supplier's share spread over its own suppliers, in proportion to its imports, for the part of its exports its imports could cover.",
    ),
    (
        "flag_eu2021",
        f"SWD(2021) 352: hhi_extra > {HHI_THRESHOLD}, import_export_ratio > {RATIO_THRESHOLD:g} and extra_share > {EXTRA_SHARE_THRESHOLD}.",
    ),
    (
        "flag_geodep",
        f"CEPII GeoDep: hhi_extra > {HHI_THRESHOLD}, world_export_hhi > {HHI_THRESHOLD} and import_export_ratio > {RATIO_THRESHOLD:g} in at least 2 of the years t-2..t.",
    ),
    (
        "flag_crma65",
        f"One third country above {CRMA_MAX_SHARE:.0%} of extra-bloc imports (Critical Raw Materials Act benchmark, on imports).",
    ),
)

_SHOWN = (
    ("rank", "Rank", "{:d}"),
    ("product", "HS6", None),
    ("extra_imports", "Extra imports (k USD)", "{:,.0f}"),
    ("hhi_extra", "HHI", "{:.3f}"),
    ("import_export_ratio", "Imp/exp", "{:.2f}"),
    ("extra_share", "Extra share", "{:.0%}"),
    ("top_supplier", "Top supplier", None),
    ("top_share", "Top share", "{:.0%}"),
    ("effective_top_supplier", "Effective top", None),
    ("effective_top_share", "Effective share", "{:.0%}"),
    ("world_export_hhi", "World export HHI", "{:.3f}"),
    ("flag_eu2021", "EU 2021", None),
    ("flag_geodep", "GeoDep", None),
    ("flag_crma65", "CRMA 65%", None),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=110)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def concentration_figure(year_table: pd.DataFrame) -> Figure:
    """HHI of extra imports against imports over exports, one dot per product."""
    figure = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = figure.add_subplot()
    ratio = year_table["import_export_ratio"].clip(lower=1e-3).to_numpy()
    flagged = year_table["flag_eu2021"].to_numpy()
    ax.scatter(
        year_table["hhi_extra"][~flagged],
        ratio[~flagged],
        s=8,
        alpha=0.5,
        color="#7a869a",
        label="not flagged",
    )
    ax.scatter(
        year_table["hhi_extra"][flagged], ratio[flagged], s=12, color="#d9480f", label="flag_eu2021"
    )
    ax.set_yscale("log")
    ax.axvline(HHI_THRESHOLD, color="#333", lw=0.8, ls="--")
    ax.axhline(RATIO_THRESHOLD, color="#333", lw=0.8, ls="--")
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("HHI of extra-bloc imports by supplier")
    ax.set_ylabel(f"imports / exports (log; {NO_EXPORTS_RATIO:g} = no exports)")
    ax.legend(loc="lower right", fontsize=8)
    return figure


def shift_figure(top: pd.DataFrame) -> Figure:
    """Direct and effective share of the largest supplier, for the top-ranked products."""
    figure = Figure(figsize=(7.5, 0.28 * len(top) + 1.2), layout="constrained")
    ax = figure.add_subplot()
    y = np.arange(len(top))
    ax.barh(y - 0.2, top["top_share"], height=0.4, color="#4c6ef5", label="direct")
    ax.barh(
        y + 0.2,
        top["effective_top_share"],
        height=0.4,
        color="#f08c00",
        label="effective (one step back)",
    )
    labels = [
        f"{p}  {d} → {e}"
        for p, d, e in zip(
            top["product"], top["top_supplier"], top["effective_top_supplier"], strict=True
        )
    ]
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(CRMA_MAX_SHARE, color="#333", lw=0.8, ls="--")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of extra-bloc imports of the largest supplier")
    ax.legend(loc="lower right", fontsize=8)
    return figure


def _cell(value: object, fmt: str | None) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if fmt is None or value is None or (isinstance(value, float) and np.isnan(value)):
        return _e("–" if value is None or (isinstance(value, float) and np.isnan(value)) else value)
    return _e(fmt.format(value))


def _table(rows: pd.DataFrame) -> str:
    head = "".join(f"<th>{_e(title)}</th>" for _, title, _ in _SHOWN)
    body = []
    for record in rows.itertuples(index=False):
        row = record._asdict()
        cells = "".join(
            f"<td class=t>{_cell(row[n], f)}</td>" if f is None else f"<td>{_cell(row[n], f)}</td>"
            for n, _, f in _SHOWN
        )
        cls = " class=flag" if row["flag_eu2021"] or row["flag_geodep"] else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _churn(table: pd.DataFrame) -> str:
    years = sorted(table["year"].unique())
    lines = [
        "<table><tr><th>Year</th><th>Products</th><th>flag_eu2021</th><th>flag_geodep</th><th>flag_crma65</th><th>flag_eu2021 a year before, not now</th></tr>"
    ]
    before: set[str] = set()
    for year in years:
        rows = table[table["year"] == year]
        flagged = set(rows.loc[rows["flag_eu2021"], "product"])
        dropped = len(before - flagged)
        dropped_text = f"{dropped} of {len(before)}" if before else "–"
        lines.append(
            f"<tr><td>{year}</td><td>{len(rows):,}</td><td>{int(rows['flag_eu2021'].sum()):,}</td>"
            f"<td>{int(rows['flag_geodep'].sum()):,}</td><td>{int(rows['flag_crma65'].sum()):,}</td>"
            f"<td>{dropped_text}</td></tr>"
        )
        before = flagged
    return "".join(lines) + "</table>"


def screening_page(
    table: pd.DataFrame, importer: str, files: Sequence[str], country_source: str
) -> str:
    """The HTML text of the screening page of a ranked screening table."""
    if table.empty:
        latest = None
        year_rows = table
    else:
        latest = int(table["year"].max())
        year_rows = table[table["year"] == latest].sort_values("rank")
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>Screening of {_e(importer)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Trade dependencies of {_e(importer)}</h1>",
        f"<p class=small>disruptsim {_e(__version__)}, {_e(datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))}. "
        f"Files: {_e(', '.join(files))}. Country codes: {_e(country_source)}. Values in thousand USD. "
        "A flag says where to look, not what to do: the method and its limits are in docs/screening.md.</p>",
        "<h2>Flags by year</h2>",
        _churn(table),
    ]
    if latest is not None:
        parts.append(f"<h2>Concentration, {latest}</h2>")
        parts.append(
            f"<figure><img alt='HHI against imports over exports' src='data:image/png;base64,{_png(concentration_figure(year_rows))}'>"
            "<figcaption>Each dot is a product; the dashed lines are the thresholds of the EU method; "
            "flagged products (all three EU criteria) in orange.</figcaption></figure>"
        )
        top = year_rows.head(25)
        parts.append(
            f"<figure><img alt='Largest supplier, direct and effective' src='data:image/png;base64,{_png(shift_figure(top))}'>"
            "<figcaption>The 25 highest-ranked products: share of the largest supplier in extra-bloc "
            "imports, directly and one step back through the suppliers' own imports; labels read "
            "product, direct top supplier → effective top supplier.</figcaption></figure>"
        )
        shown = year_rows.head(MAX_TABLE_ROWS)
        parts.append(f"<h2>Ranked products, {latest}</h2>")
        parts.append(
            f"<p class=small>{len(shown):,} of {len(year_rows):,} products shown; flagged rows shaded.</p>"
        )
        parts.append(_table(shown))
    parts.append("<h2>Definitions</h2><dl>")
    parts.extend(f"<dt>{_e(name)}</dt><dd>{_e(text)}</dd>" for name, text in _DEFINITIONS)
    parts.append("</dl></body></html>")
    return "\n".join(parts)
