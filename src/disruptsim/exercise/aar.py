"""The after-action report: one self-contained HTML file (``docs/exercise.md``, "Debrief").

It holds the objectives, the timeline of injects, decisions, look-aheads and notes, the
realised path, each decision's effect against the counterfactual without it (the same
realised future replayed without that decision, and N futures from its day, paired),
expected against taken actions, the pre-planned strategies of the scenario played on the
same realised future, and the hot-wash notes. Every text from the exercise file or the
console is escaped; charts are embedded as ``data:`` URIs (no file or network access).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._version import __version__
from ..report.format import format_euros, format_interval, format_percent
from ..results import stats as mx
from .charts import data_uri, fan_chart
from .lookahead import with_empty_stocks
from .worlds import decided_override, exercise_scenario, merge_override

if TYPE_CHECKING:  # pragma: no cover
    from .session import Exercise

__all__ = ["decision_effects", "preplanned", "render_report", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.hidden{color:#7a3b00;background:#fff4e5}.small{color:#666;font-size:.85em}.ok{color:#176b2c}.miss{color:#a11}
img{max-width:100%}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _date(ex: Exercise, day: int) -> str:
    start = ex.spec.file.start_date
    if start is None:
        return f"day {day}"
    return f"day {day} ({dt.date.fromisoformat(start) + dt.timedelta(days=day)})"


def decision_effects(ex: Exercise, runs: int = 1000) -> list[dict[str, Any]]:
    """Each decision's effect: realised (the same future without it) and expected
    (``runs`` futures from its day, with against without it, paired)."""
    import disruptsim as ds

    until = ex.path.recorded
    actual = ex.path.outcome()
    out = []
    for k, (decision, context) in enumerate(zip(ex.decisions, ex.contexts, strict=True)):
        without = ex.path.replayed(until, skip=context["log_index"]).outcome()
        realised = {
            key: actual[key] - without[key]
            for key in ("total_cost", "unmet_units", "shortage_days")
        }
        product, key, patch = context["patch"]
        strategies = {
            "without": context["before"],
            "with": merge_override(context["before"], decided_override([(product, key, patch)])),
        }
        world = exercise_scenario(ex.scenario, context["demand"], strategies)
        today = ds.load_situation(with_empty_stocks(context["situation"], world), world)
        seed = int(
            np.random.SeedSequence([ex.spec.file.seed, 7, k]).generate_state(1, dtype=np.uint64)[0]
            >> np.uint64(1)
        )
        result = ds.simulate(
            world,
            runs=runs,
            seed=seed,
            strategies=["without", "with"],
            situation=today,
            trace_runs=0,
        )
        w, wo = result.strategies["with"], result.strategies["without"]
        finals = w.final_products()
        cost = mx.paired_difference(
            w.metric("total_cost") + context["cost"], wo.metric("total_cost")
        )
        unmet = mx.paired_difference(
            sum(w.metric("unmet_units", p) for p in finals),
            sum(wo.metric("unmet_units", p) for p in finals),
        )
        out.append(
            {
                "decision": decision,
                "realised": realised,
                "cost": cost,
                "unmet": unmet,
                "runs": runs,
                "seed": seed,
            }
        )
    return out


def preplanned(ex: Exercise) -> list[dict[str, Any]]:
    """The scenario's strategies played on the session's realised future (no decisions),
    over the same days, with the session's own outcome first."""
    until = ex.path.recorded
    rows = [{"name": "this session (decisions taken)", **ex.path.outcome()}]
    strategies = ex.scenario.data.get("strategies") or {}
    for name in ex.scenario.strategy_names:
        override = dict(strategies.get(name) or {})
        override.pop("description", None)
        path = ex.path.replayed(until, base_override=override, decisions=False)
        rows.append({"name": name, **path.outcome()})
    return rows


def render_report(ex: Exercise, runs: int = 1000) -> str:
    """The after-action report as HTML text."""
    f = ex.spec.file
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(f.title or f.name)} - after-action report</title><style>{_CSS}</style></head><body>"
    ]
    parts.append(f"<h1>After-action report: {_e(f.title or f.name)}</h1>")
    parts.append(
        f"<p class='small'>Exercise <code>{_e(f.name)}</code>, scenario <code>{_e(ex.scenario.name)}</code>, "
        f"seed {f.seed}, {len(ex.turn_outcomes)} pauses, played to {_e(_date(ex, ex.day))}; disruptsim {_e(__version__)}; "
        f"written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.</p>"
    )
    if f.description:
        parts.append(f"<p>{_e(f.description)}</p>")
    parts.append(
        "<h2>Objectives</h2><ol>" + "".join(f"<li>{_e(o)}</li>" for o in f.objectives) + "</ol>"
    )

    parts.append("<h2>Timeline</h2><table><tr><th>When</th><th>What</th><th>Details</th></tr>")
    events = [(i["day"], 0, "Inject", i) for i in ex.delivered] + [
        (d["day"], 1, "Decision", d) for d in ex.decisions
    ]
    events += [(la.day, 2, "Look-ahead", la) for la in ex.lookaheads] + [
        (n["day"], 3, "Note", n) for n in ex.notes
    ]
    for day, _, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == "Inject":
            detail = f"<b>{_e(item['id'])}: {_e(item['title'])}</b><br>{_e(item['narrative'])}<br><span class='small'>effect: {_e(item['effect'])}</span>"
            if item["hidden"]:
                detail += f"<br><span class='hidden'>hidden: {_e(item['hidden'])}</span>"
        elif kind == "Decision":
            detail = f"<b>{_e(item['id'])}: {_e(item['title'])}</b>"
            if item["parameters"]:
                detail += f"<br><span class='small'>parameters: {_e(item['parameters'])}</span>"
            if item["note"]:
                detail += f"<br>{_e(item['note'])}"
        elif kind == "Look-ahead":
            detail = f"{item.runs:,} futures; options: {_e(', '.join(o.title for o in item.options[1:-1]) or 'none')}"
        else:
            detail = _e(item["text"])
        parts.append(f"<tr><td>{_e(_date(ex, day))}</td><td>{kind}</td><td>{detail}</td></tr>")
    parts.append("</table>")

    outcome = ex.path.outcome()
    parts.append("<h2>Realised path</h2>")
    parts.append(f"<img alt='realised path' src='{data_uri(ex.realised_chart())}'>")
    parts.append(
        "<table><tr><th>Total cost</th><th>Shortage cost</th><th>Mitigation cost (incl. one-off)</th><th>Unmet units</th><th>Shortage days</th><th>Lowest fulfilment</th></tr>"
        f"<tr><td class='num'>{format_euros(outcome['total_cost'])}</td><td class='num'>{format_euros(outcome['shortage_cost'])}</td>"
        f"<td class='num'>{format_euros(outcome['mitigation_cost'])}</td><td class='num'>{outcome['unmet_units']:,.0f}</td>"
        f"<td class='num'>{outcome['shortage_days']:.0f}</td><td class='num'>{format_percent(outcome['min_fulfilment'])}</td></tr></table>"
    )
    parts.append(
        "<p class='small'>Costs over the exercise's days: flows of every day, fixed costs of the final world once, and the decisions' one-off costs.</p>"
    )

    parts.append("<h2>Effect of each decision</h2>")
    effects = decision_effects(ex, runs)
    if not effects:
        parts.append("<p>No decision was taken.</p>")
    else:
        parts.append(
            "<p>Realised: the same future replayed without the decision (to the end of the session). "
            "Expected: futures from the decision's day, with against without it (paired, 95% CI; costs to the scenario's horizon, one-off cost included).</p>"
            "<table><tr><th>Decision</th><th>Realised: cost</th><th>Realised: unmet units</th><th>Expected: cost</th><th>Expected: unmet units</th></tr>"
        )
        for e in effects:
            d = e["decision"]
            parts.append(
                f"<tr><td>{_e(d['title'])}<br><span class='small'>{_e(_date(ex, d['day']))}</span></td>"
                f"<td class='num'>{format_euros(e['realised']['total_cost'])}</td><td class='num'>{e['realised']['unmet_units'] + 0.0:,.0f}</td>"
                f"<td class='num'>{format_euros(e['cost'].estimate)}<br><span class='small'>{format_interval(e['cost'].low, e['cost'].high)}</span></td>"
                f"<td class='num'>{e['unmet'].estimate:,.0f}<br><span class='small'>{format_interval(e['unmet'].low, e['unmet'].high, 'units')}</span></td></tr>"
            )
        parts.append(
            "</table><p class='small'>Negative: the decision lowered cost or unmet units.</p>"
        )

    parts.append(
        "<h2>Expected and taken actions</h2><table><tr><th>Inject</th><th>Expected action</th><th>Taken</th></tr>"
    )
    for i in ex.delivered:
        if not (i["expected_action"] or i["expected_decisions"]):
            continue
        taken = []
        for name in i["expected_decisions"]:
            hit = [d for d in ex.decisions if d["id"] == name]
            if hit:
                delay = hit[0]["day"] - i["day"]
                taken.append(
                    f"<span class='ok'>{_e(name)}: {_e(_date(ex, hit[0]['day']))}, {delay:+d} days</span>"
                )
            else:
                taken.append(f"<span class='miss'>{_e(name)}: not taken</span>")
        notes = (
            f"<br><span class='hidden'>evaluator: {_e(i['evaluator_notes'])}</span>"
            if i["evaluator_notes"]
            else ""
        )
        parts.append(
            f"<tr><td>{_e(i['id'])}: {_e(i['title'])}</td><td>{_e(i['expected_action'])}{notes}</td><td>{'<br>'.join(taken) or '-'}</td></tr>"
        )
    parts.append("</table>")

    parts.append("<h2>Pre-planned strategies on the same future</h2>")
    rows = preplanned(ex)
    best = min(rows[1:], key=lambda r: r["total_cost"])
    parts.append(
        "<table><tr><th>Strategy</th><th>Total cost</th><th>Unmet units</th><th>Shortage days</th></tr>"
    )
    for r in rows:
        mark = " (best pre-planned)" if r is best else ""
        parts.append(
            f"<tr><td>{_e(r['name'])}{mark}</td><td class='num'>{format_euros(r['total_cost'])}</td>"
            f"<td class='num'>{r['unmet_units']:,.0f}</td><td class='num'>{r['shortage_days']:.0f}</td></tr>"
        )
    parts.append(
        "</table><p class='small'>Each strategy of the scenario, in place from day 0, played on this session's realised future "
        "(storyline, injects and demand changes; no decision), over the same days. Costs include the strategy's fixed costs in full.</p>"
    )

    if ex.lookaheads:
        la = ex.lookaheads[-1]
        parts.append(
            f"<h2>Last look-ahead (day {la.day})</h2><img alt='fan chart' src='{data_uri(fan_chart(la))}'>"
        )

    parts.append("<h2>Hot-wash notes</h2>")
    if ex.notes:
        parts.append(
            "<ul>"
            + "".join(
                f"<li>{_e(_date(ex, n['day']))}{' - ' + _e(n['author']) if n['author'] else ''}: {_e(n['text'])}</li>"
                for n in ex.notes
            )
            + "</ul>"
        )
    else:
        parts.append("<p>No notes were entered.</p>")
    parts.append(
        "<h2>Improvement plan</h2><p class='small'>(to complete after the hot wash: issue, corrective action, owner, date)</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(ex: Exercise, path: Path, runs: int = 1000) -> Path:
    """Write the report to ``path`` atomically (a temporary file renamed into place)."""
    text = render_report(ex, runs)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
