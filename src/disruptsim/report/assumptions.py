"""The report's Assumptions section: what the numbers rest on, read from the scenario.

Hazards with their probabilities, severities and durations; scheduled shocks; each
product's suppliers, shares and exposure; and each strategy's description with the
settings it changes against the baseline. Every text from the scenario file is
HTML-escaped here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from ..conventions import DOMESTIC
from ..scenario.model import Scenario
from ..scenario.schema import Hazard, Product, Shock
from .format import format_euros

__all__ = ["assumptions_html", "describe_distribution", "strategy_changes"]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(x: float) -> str:
    return f"{x:,.4g}"


def describe_distribution(d: Any, unit: str = "") -> str:
    """A distribution in words: ``0.6``, ``uniform 0.2–0.6``, ``lognormal, median 180, p95 540``."""
    u = f" {unit}" if unit else ""
    kind = getattr(d, "dist", "fixed")
    if kind == "fixed":
        return f"{_num(d.value)}{u}"
    if kind == "uniform":
        return f"uniform {_num(d.low)}–{_num(d.high)}{u}"
    if kind == "triangular":
        return f"triangular {_num(d.low)}–{_num(d.high)}{u}, most likely {_num(d.mode)}"
    if kind == "beta":
        return f"beta, mean {_num(d.mean_)}, sd {_num(d.sd)}{u}"
    if kind == "lognormal":
        return f"lognormal, median {_num(d.median)}, p95 {_num(d.p95)}{u}"
    fields = d.model_dump(by_alias=True, exclude={"dist"})
    return f"{kind} " + ", ".join(f"{k} {v}" for k, v in fields.items()) + u


def _countries(mapping: Mapping[str, float]) -> str:
    return ", ".join(c if m == 1 else f"{c} ×{_num(m)}" for c, m in mapping.items())


def _hazard_row(h: Hazard) -> str:
    cells = [
        f"<td class=name><b>{_e(h.name)}</b><br><span class=small>{_e(h.description)}</span></td>",
        f"<td class=name>{_e(_countries(h.countries))}</td>",
        f"<td class=name>{_e(', '.join(h.products) if h.products else 'all')}</td>",
        f"<td>{h.annual_probability:.3g}/year</td>",
        f"<td class=name>{_e(describe_distribution(h.severity))}</td>",
        f"<td class=name>{_e(describe_distribution(h.duration_days, 'days'))}</td>",
        f"<td>{_num(h.recovery_days)} days</td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def _shock_row(k: int, s: Shock) -> str:
    cells = [
        f"<td class=name><b>{_e(s.name or f'shocks[{k}]')}</b><br><span class=small>{_e(s.description)}</span></td>",
        f"<td class=name>{_e(_countries(s.countries))}</td>",
        f"<td class=name>{_e(', '.join(s.products) if s.products else 'all')}</td>",
        f"<td>day {s.start_day:,d}</td>",
        f"<td>{s.duration_days:,d} days</td>",
        f"<td>{_num(s.severity)}</td>",
        f"<td>{_num(s.recovery_days)} days</td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def _sources(p: Product) -> str:
    parts = []
    for code, src in p.sources.items():
        text = f"{'domestic' if code == DOMESTIC else code} {src.share:.0%}"
        if src.exposure:
            text += " (content: " + ", ".join(f"{c} {w:.0%}" for c, w in src.exposure.items()) + ")"
        parts.append(text)
    return "; ".join(parts)


def _product_row(name: str, p: Product) -> str:
    demand = f"{_num(p.final_demand_per_day)} {p.unit}/day" if p.final_demand_per_day else "–"
    inputs = ", ".join(f"{_num(q)} {k}" for k, q in p.inputs.items()) or "–"
    stock = f"{_num(p.stockpile.initial_days)} days" if p.stockpile else "–"
    cells = [
        f"<td class=name><b>{_e(name)}</b> ({_e(p.unit)})"
        + (f"<br><span class=small>{_e(p.description)}</span>" if p.description else "")
        + "</td>",
        f"<td>{_e(format_euros(p.unit_value))}</td>",
        f"<td>{_e(demand)}</td>",
        f"<td class=name>{_e(_sources(p))}</td>",
        f"<td class=name>{_e(inputs)}</td>",
        f"<td>{_e(stock)}</td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def _value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,d}"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _leaves(overrides: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    if isinstance(overrides, Mapping):
        out = []
        for key, value in overrides.items():
            if key == "description" and not path:
                continue
            out.extend(_leaves(value, (*path, str(key))))
        return out
    if isinstance(overrides, list | tuple) and any(isinstance(v, Mapping) for v in overrides):
        return [(path, f"{len(overrides)} entries (see the scenario file)")]
    return [(path, _value(overrides))]


def strategy_changes(overrides: Any) -> list[str]:
    """A strategy's overrides of the baseline, one line per setting group:
    ``pv_modules stockpile: initial_days 90, fixed_cost 5,000,000`` (the leading
    ``products.`` of the scenario format is left out)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for path, value in _leaves(overrides):
        if path and path[0] == "products":
            path = path[1:]
        parent, key = path[:-1], path[-1] if path else ""
        groups.setdefault(parent, []).append(f"{key} {value}" if key else value)
    return [f"{' '.join(parent)}: {', '.join(items)}" for parent, items in groups.items()]


def assumptions_html(scenario: Scenario) -> str:
    """The Assumptions section (HTML, every input text escaped)."""
    world = scenario.baseline
    parts = [
        "<h2 id=assumptions>Assumptions</h2>",
        f"<p>Home region: {_e(scenario.home)}; horizon {scenario.horizon_days:,d} days. "
        "Each future draws the hazards below independently; a hazard hits all its countries "
        "at once (severity: share of supply lost at the worst, times the country's multiplier; "
        "recovery: days of linear return to full supply after the event). The file's comments "
        "give the source or reasoning of each figure.</p>",
    ]
    if world.hazards:
        parts.append(
            "<h3>Hazards</h3><table class=assume><tr><th class=name>Hazard</th>"
            "<th class=name>Countries</th><th class=name>Products</th><th>Probability</th>"
            "<th class=name>Severity</th><th class=name>Duration</th><th>Recovery</th></tr>"
            + "".join(_hazard_row(h) for h in world.hazards)
            + "</table>"
        )
    if world.shocks:
        parts.append(
            "<h3>Scheduled shocks (in every future)</h3><table class=assume><tr>"
            "<th class=name>Shock</th><th class=name>Countries</th><th class=name>Products</th>"
            "<th>Start</th><th>Duration</th><th>Severity</th><th>Recovery</th></tr>"
            + "".join(_shock_row(k, s) for k, s in enumerate(world.shocks))
            + "</table>"
        )
    parts.append(
        "<h3>Supply (baseline)</h3><table class=assume><tr><th class=name>Product</th>"
        "<th>Unit value</th><th>Final demand</th><th class=name>Sources: share (where the "
        "supply really comes from)</th><th class=name>Inputs per unit</th><th>Stock</th></tr>"
        + "".join(_product_row(n, p) for n, p in world.products.items())
        + "</table>"
    )
    overrides = scenario.data.get("strategies", {}) if scenario.data else {}
    rows = []
    for name, strategy in scenario.strategies.items():
        if name == "baseline":
            changes = ["– (the reference: today's supply as above)"]
        else:
            changes = strategy_changes(overrides.get(name) or {}) or ["– (no change)"]
        rows.append(
            f"<tr><td class=name><b>{_e(name)}</b></td><td class=name>{_e(strategy.description)}</td>"
            f"<td class=name>{'<br>'.join(_e(c) for c in changes)}</td></tr>"
        )
    parts.append(
        "<h3>Strategies</h3><table class=assume><tr><th class=name>Strategy</th>"
        "<th class=name>Description</th><th class=name>What it changes against the baseline"
        "</th></tr>" + "".join(rows) + "</table>"
    )
    return "\n".join(parts)
