"""The strategy table: one specification, rendered to the terminal (rich) and to HTML.

:data:`COLUMNS` says what each column shows and how to write a cell from a row of
:meth:`~disruptsim.results.result.SimulationResult.summary`. The terminal drops the
columns of lowest importance first until the table fits the width (the rank, the
strategy name and the expected total cost are always kept); the HTML report shows every
column. Every column is defined in ``docs/results.md``.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from ..conventions import SYSTEM
from ..safetext import terminal_markup
from .format import euro_scale, format_days, format_percent, format_ratio

__all__ = [
    "COLUMNS",
    "Column",
    "TableContext",
    "html_table",
    "rich_table",
    "definitions",
    "table_rows",
]


@dataclass(frozen=True)
class TableContext:
    """What cells need besides their row: the common euro scale and the baseline.

    Attributes
    ----------
    divisor : float
        Euro amounts are divided by it (1e9 for "€ bn" ...).
    unit : str
        ``"€ bn"``, ``"€ m"``, ``"€ k"`` or ``"€"``.
    decimals : int
        Decimals of euro amounts (about three significant digits for the largest).
    baseline : str
        The reference strategy of the Δ column.
    """

    divisor: float
    unit: str
    decimals: int
    baseline: str

    def money(self, value: float) -> str:
        """An amount on the table's scale, with a true minus sign (``−1.20``)."""
        if value is None or not math.isfinite(value):
            return "–"
        text = f"{abs(value) / self.divisor:,.{self.decimals}f}"
        negative = value < 0 and float(text.replace(",", "")) != 0
        return ("−" if negative else "") + text


@dataclass(frozen=True)
class Column:
    """One column of the strategy table.

    Attributes
    ----------
    header : str
        Heading; ``{unit}`` is replaced by the table's euro unit; a newline separates
        the lines of the terminal heading (a space in HTML).
    cell : callable
        ``cell(row, context) -> str``: plain text of one cell.
    priority : int or None
        Terminal importance: columns with the highest number are dropped first when the
        table is too wide; 0 is never dropped. None: HTML only.
    explain : str
        What the column means (the caption of the terminal table lists the shown ones).
    stacked : callable, optional
        A narrower multi-line version of ``cell`` for tight terminals, with
        ``stacked_header``.
    name_column : bool
        Left-aligned text (the strategy name) rather than a right-aligned number.
    """

    header: str
    cell: Callable[[pd.Series, TableContext], str]
    priority: int | None
    explain: str = ""
    stacked: Callable[[pd.Series, TableContext], str] | None = None
    stacked_header: str | None = None
    name_column: bool = False

    def heading(self, context: TableContext, stacked: bool = False) -> str:
        text = self.stacked_header if stacked and self.stacked_header else self.header
        return text.replace("{unit}", context.unit)

    def text(self, row: pd.Series, context: TableContext, stacked: bool = False) -> str:
        if stacked and self.stacked is not None:
            return self.stacked(row, context)
        return self.cell(row, context)

    def flat_heading(self, context: TableContext) -> str:
        """The heading on one line (HTML, captions)."""
        return self.heading(context).replace("-\n", "").replace("\n", " ")


def _total(r: pd.Series, c: TableContext, sep: str = " ") -> str:
    half = (r["total_cost_ci_high"] - r["total_cost_ci_low"]) / 2
    text = c.money(r["total_cost_mean"])
    return text + (f"{sep}± {c.money(half)}" if math.isfinite(half) else "")


def _diff(r: pd.Series, c: TableContext, sep: str = " ") -> str:
    if r["strategy"] == c.baseline:
        return "reference"
    low, high = c.money(r["diff_total_cost_ci_low"]), c.money(r["diff_total_cost_ci_high"])
    return f"{c.money(r['diff_total_cost_mean'])}{sep}[{low}, {high}]"


def ttr_text(mean: float, censored_share: float) -> str:
    """Mean time to recover; ``≥`` when some runs were still short at the horizon (the
    mean is then a lower bound)."""
    text = format_days(mean)
    if math.isfinite(censored_share) and censored_share > 0 and math.isfinite(mean):
        return f"≥ {text}"
    return text


def _pareto(r: pd.Series, c: TableContext) -> str:
    marks = ("M" if r["pareto_mitigation_shortage"] else "") + (
        "T" if r["pareto_total_ttr95"] else ""
    )
    return marks or "–"


COLUMNS: tuple[Column, ...] = (
    Column("#", lambda r, c: str(int(r["rank"])), 0, "#: rank by expected total cost."),
    Column("Strategy", lambda r, c: str(r["strategy"]), 0, name_column=True),
    Column(
        "Total cost\n{unit}, mean ± CI",
        _total,
        0,
        "Total cost: shortage + mitigation cost of a run over the horizon; mean over runs ± "
        "half its Student-t 95% confidence interval (CI).",
        stacked=lambda r, c: _total(r, c, "\n"),
        stacked_header="Total cost\n{unit}\nmean ± CI",
    ),
    Column(
        "P(short-\nage)",
        lambda r, c: format_percent(r["p_shortage"]),
        1,
        "P(shortage): share of runs with at least one day of unmet final demand.",
    ),
    Column(
        "P(shortage)\n95% CI",
        lambda r, c: (
            f"{format_percent(r['p_shortage_ci_low'])}–{format_percent(r['p_shortage_ci_high'])}"
        ),
        None,
        "P(shortage) 95% CI: Wilson 95% interval of P(shortage).",
    ),
    Column(
        "Δ vs baseline\n{unit} [95% CI]",
        _diff,
        2,
        "Δ: paired difference in total cost against the baseline over the same futures "
        "(negative: cheaper).",
        stacked=lambda r, c: _diff(r, c, "\n"),
        stacked_header="Δ vs\nbaseline\n{unit}\n[95% CI]",
    ),
    Column(
        "TTR |\ndisrupted",
        lambda r, c: ttr_text(r["ttr_days_disrupted_mean"], r["ttr_censored_share"]),
        3,
        "TTR | disrupted: mean days from the first disruption to the end of the last "
        "shortage, over disrupted runs; ≥: some runs were still short at the horizon, so "
        "the mean is a lower bound.",
    ),
    Column(
        "Short at\nhorizon",
        lambda r, c: format_percent(r["ttr_censored_share"]),
        5,
        "Short at horizon: share of the disrupted runs still short on the last day.",
    ),
    Column(
        "BCR",
        lambda r, c: format_ratio(r["benefit_cost_ratio"]),
        4,
        "BCR: benefit-cost ratio, expected shortage cost avoided per extra euro of expected "
        "mitigation cost; ∞: less shortage at no extra cost; –: undefined (no difference, or a "
        "saving bought with more shortage).",
    ),
    Column(
        "Front",
        _pareto,
        6,
        "Front (Pareto) M: not dominated on (expected mitigation cost, expected shortage "
        "cost); T: not dominated on (expected total cost, 95th percentile of time to recover).",
    ),
    Column(
        "CVaR95\n{unit}",
        lambda r, c: c.money(r["total_cost_cvar95"]),
        None,
        "CVaR95: mean total cost of the worst 5% of runs.",
    ),
    Column(
        "Mitigation\n{unit}, mean",
        lambda r, c: c.money(r["mitigation_cost_mean"]),
        None,
        "Mitigation: expected cost of the strategy's measures (stock, premiums, capex ...).",
    ),
    Column(
        "Shortage\n{unit}, mean",
        lambda r, c: c.money(r["shortage_cost_mean"]),
        None,
        "Shortage: expected cost of unmet demand.",
    ),
)
"""The columns of the strategy table, left to right."""


def table_context(rows: pd.DataFrame, baseline: str) -> TableContext:
    """Common euro scale of a table's amounts, for about three significant digits."""
    values = [
        *rows["total_cost_mean"],
        *rows["diff_total_cost_ci_low"],
        *rows["diff_total_cost_ci_high"],
    ]
    top = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    divisor, short, _ = euro_scale(top)
    lead = top / divisor
    decimals = max(0, 2 - int(math.floor(math.log10(lead)))) if lead > 0 else 0
    return TableContext(divisor, f"€ {short}" if short else "€", min(decimals, 2), baseline)


def table_rows(summary: pd.DataFrame, product: str = SYSTEM) -> pd.DataFrame:
    """One product's summary rows, ranked (cheapest expected total cost first)."""
    return summary[summary["product"] == product].sort_values("rank", kind="stable")


def _rich(
    rows: pd.DataFrame,
    context: TableContext,
    columns: Sequence[Column],
    title: str,
    stacked: bool,
) -> Table:
    table = Table(title=title, title_justify="left", pad_edge=False)
    for col in columns:
        if col.name_column:
            longest = max((len(str(s)) for s in rows["strategy"]), default=8)
            table.add_column(col.heading(context), overflow="fold", min_width=longest)
        else:
            table.add_column(col.heading(context, stacked), justify="right", no_wrap=True)
    for _, r in rows.iterrows():
        table.add_row(*(terminal_markup(col.text(r, context, stacked)) for col in columns))
    return table


def _natural_width(table: Table) -> int:
    console = Console(width=10_000, file=io.StringIO())
    return Measurement.get(console, console.options, table).maximum


def rich_table(
    summary: pd.DataFrame,
    *,
    baseline: str,
    title: str,
    width: int | None = None,
    product: str = SYSTEM,
) -> Table:
    """The strategy table for the terminal, fitted to ``width`` columns.

    When the table is too wide, its wide cells are stacked on several lines; when that
    is not enough, columns are dropped by :attr:`Column.priority` (highest first), each
    smaller set tried flat, then stacked, until one fits; the
    rank, the strategy name and the expected total cost always stay, and the caption
    names the columns left out. Input text (strategy names) is escaped.

    Parameters
    ----------
    summary : DataFrame
        :meth:`SimulationResult.summary`.
    baseline : str
        The reference strategy of the Δ column.
    title : str
        Title above the table.
    width : int, optional
        Terminal width (default: no limit).
    product : str, default "system"
    """
    rows = table_rows(summary, product)
    context = table_context(rows, baseline)
    shown = [c for c in COLUMNS if c.priority is not None]
    while True:
        for stacked in (False, True):  # a column set fits flat, or stacked, or not at all
            table = _rich(rows, context, shown, title, stacked)
            if width is None or _natural_width(table) <= width:
                break
        else:
            droppable = [c for c in shown if c.priority]
            if droppable:
                shown.remove(max(droppable, key=lambda c: c.priority))
                continue
        break
    left_out = [
        c.flat_heading(context) for c in COLUMNS if c.priority is not None and c not in shown
    ]
    caption = " ".join(c.explain for c in shown if c.explain)
    if left_out:
        caption += (
            f" Not shown at this width: {', '.join(left_out)} (see summary.csv, report.html)."
        )
    table.caption = "Costs over the horizon. " + caption
    table.caption_justify = "left"
    return table


def definitions() -> list[str]:
    """What every column of the table means, in column order (the report lists them)."""
    return [c.explain for c in COLUMNS if c.explain]


def html_table(summary: pd.DataFrame, *, baseline: str, product: str = SYSTEM) -> str:
    """The strategy table as an HTML ``<table>`` (every column; text escaped)."""
    rows = table_rows(summary, product)
    context = table_context(rows, baseline)

    def cls(col: Column) -> str:
        return " class=name" if col.name_column else ""

    head = "".join(f"<th{cls(c)}>{html.escape(c.flat_heading(context))}</th>" for c in COLUMNS)
    body = []
    for _, r in rows.iterrows():
        tds = "".join(f"<td{cls(c)}>{html.escape(c.text(r, context))}</td>" for c in COLUMNS)
        best = " class=best" if r["rank"] == 1 else ""
        body.append(f"<tr{best}>{tds}</tr>")
    return f"<table class=strategies><tr>{head}</tr>{''.join(body)}</table>"
