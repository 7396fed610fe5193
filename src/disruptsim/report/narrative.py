"""Plain-language sentences generated from a result's numbers.

:func:`separation_sentence` (can the two cheapest strategies be told apart?) is the one
place that sentence is written; the command line prints it under its table and the
report shows it in its summary. :func:`executive_summary` is the report's opening: the
recommendation, what it buys and its caveats, every figure with its uncertainty. The
numbers are those of :meth:`~disruptsim.results.result.SimulationResult.summary`, defined
in ``docs/results.md``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from ..conventions import DAYS_PER_YEAR, SYSTEM
from .format import format_days, format_euros, format_interval, format_percent, format_runs

if TYPE_CHECKING:  # pragma: no cover
    from ..results.result import SimulationResult

__all__ = ["executive_summary", "horizon_text", "separation_sentence"]


def horizon_text(days: int) -> str:
    """``"three years"`` for 1,095 days, ``"one year"``, else ``"400 days"``."""
    years = days / DAYS_PER_YEAR
    words = {1: "one year", 2: "two years", 3: "three years", 4: "four years", 5: "five years"}
    if round(years) in words and abs(years - round(years)) < 0.02:
        return words[round(years)]
    return f"{days:,d} days"


def _money(value: float) -> str:
    return format_euros(abs(value))


def _p(row: pd.Series) -> str:
    """``19% (95% CI 17–21%)``."""
    low, high = row["p_shortage_ci_low"], row["p_shortage_ci_high"]
    return (
        f"{format_percent(row['p_shortage'])} (95% CI {format_percent(low)}–{format_percent(high)})"
    )


def _diff(row: pd.Series) -> str:
    """``€68.0 m more (95% CI €60 m–€75 m)`` of the paired difference against the baseline."""
    mean, low, high = (
        row["diff_total_cost_mean"],
        row["diff_total_cost_ci_low"],
        row["diff_total_cost_ci_high"],
    )
    way = "more" if mean > 0 else "less"
    if low <= 0 <= high:
        return (
            f"{_money(mean)} {way} in expectation, a difference the study cannot tell from zero "
            f"(95% CI {format_interval(low, high)})"
        )
    ref = max(abs(low), abs(high))
    lo, hi = sorted((abs(low), abs(high)))
    return (
        f"{_money(mean)} {way} in expectation (95% CI {format_euros(lo, ref)} to "
        f"{format_euros(hi, ref)} {way})"
    )


def separation_sentence(result: SimulationResult, product: str = SYSTEM) -> str:
    """Whether the two cheapest strategies can be told apart, in one sentence.

    Empty when the result has fewer than two strategies.
    """
    c = result.compare_top_two(product=product)
    if c is None:
        return ""
    d = c.difference
    interval = format_interval(d.low, d.high)
    if d.low == d.high == 0:
        return (
            f"The two cheapest strategies, {c.strategy} and {c.other}, cost the same in every "
            "run: nothing in the study tells them apart."
        )
    if c.separated:
        return (
            f"The cheapest strategy, {c.strategy}, can be told apart from the runner-up, "
            f"{c.other}: it costs {_money(d.estimate)} less in expectation and the 95% CI of "
            f"their paired difference, {interval}, excludes zero."
        )
    return (
        f"The two cheapest strategies, {c.strategy} and {c.other}, cannot be told apart: the "
        f"95% CI of their paired difference in total cost, {interval}, contains zero. About "
        f"{format_runs(c.runs_needed)} runs would separate them if the difference is as "
        f"estimated (80% power); this study has {result.n_runs:,d}."
    )


def _describe(result: SimulationResult, name: str) -> str:
    sc = result.scenario
    if name == result.baseline:
        return f"{name} (doing nothing beyond today's supply)"
    if sc is not None and name in sc.strategies and sc.strategies[name].description:
        text = sc.strategies[name].description.rstrip(".")
        return f"{name} ({text[0].lower() + text[1:]})"
    return name


def executive_summary(result: SimulationResult, summary: pd.DataFrame) -> list[str]:
    """The report's opening paragraphs, in plain words (plain text, not escaped).

    The recommendation is the strategy of lowest expected total cost (rank 1); the
    paragraphs say what it costs or saves against the baseline, how it changes the
    chance of a shortage over the horizon, whether it can be told apart from the
    runner-up, the most protective option when that is another one, the tail and the
    recovery, and the caveats. Every figure carries its 95% interval.
    """
    rows = summary[summary["product"] == SYSTEM].sort_values("rank", kind="stable")
    rows = rows.set_index("strategy", drop=False)
    base = rows.loc[result.baseline]
    best = rows.iloc[0]
    horizon = next(iter(result.strategies.values())).horizon_days
    over = horizon_text(horizon)
    out = []
    top_two = result.compare_top_two()
    tied = top_two is not None and not top_two.separated
    if tied:
        out.append(
            f"On these assumptions the two cheapest options, "
            f"{_describe(result, top_two.strategy)} and {_describe(result, top_two.other)}, are "
            f"too close for this study to say which costs less over {over} (see below); the "
            f"figures that follow are those of {top_two.strategy}, the cheaper in this sample."
        )
    if best["strategy"] == result.baseline:
        out.append(
            f"{'Doing nothing' if tied else 'On these assumptions no strategy pays for itself: doing nothing'}"
            f" (the baseline) has the lowest expected total cost over {over}, "
            f"{format_euros(base['total_cost_mean'])}. The chance of at least one day of "
            f"shortage is {_p(base)}."
        )
    else:
        apart = (
            best["p_shortage_ci_high"] < base["p_shortage_ci_low"]
            or best["p_shortage_ci_low"] > base["p_shortage_ci_high"]
        )
        risk = (
            f"It changes the chance of at least one day of shortage from {_p(base)} to {_p(best)}."
            if apart
            else f"It leaves the chance of at least one day of shortage about where it is: "
            f"{_p(best)}, against {format_percent(base['p_shortage'])} with the baseline."
        )
        out.append(
            f"{'' if tied else 'On these assumptions, '}{_describe(result, best['strategy'])} has "
            f"the lowest expected total cost over {over}: {_diff(best)} than the baseline. {risk}"
        )
        out[-1] = out[-1][0].upper() + out[-1][1:]
    sentence = separation_sentence(result)
    if sentence:
        out.append(sentence)
    menu = _protective_options(result, rows, base, best)
    if menu:
        out.append(
            f"Options that lower the chance of a shortage over {over} (from "
            f"{format_percent(base['p_shortage'])} with the baseline): " + "; ".join(menu) + "."
        )
    tail = (
        f"In the worst 5% of futures (CVaR95) the baseline costs "
        f"{format_euros(base['total_cost_cvar95'])} on average"
    )
    if best["strategy"] != result.baseline:
        tail += f", {best['strategy']} {format_euros(best['total_cost_cvar95'])}"
    out.append(tail + ".")
    recovery = _recovery(rows, best, over)
    if recovery:
        out.append(recovery)
    out.append(
        f"Caveats: these are model estimates from {result.n_runs:,d} simulated futures, the same "
        "for every strategy. The intervals cover the sampling error of the simulation only, not "
        "the uncertainty of the inputs: the hazard probabilities, severities, durations and costs "
        "listed under Assumptions are mostly judgement. Costs are in euros over the horizon, "
        "undiscounted."
    )
    return out


MAX_OPTIONS = 4
"""At most this many protective options are listed in the summary."""


def _protective_options(
    result: SimulationResult, rows: pd.DataFrame, base: pd.Series, best: pd.Series
) -> list[str]:
    """``"stock_90d: 12% for €68 m more"``: strategies whose chance of shortage is lower
    than the baseline's beyond doubt (their 95% intervals do not overlap), cheapest first;
    the recommendation itself is left out (the first paragraph covers it)."""
    better = rows[
        (rows["strategy"] != result.baseline)
        & (rows["strategy"] != best["strategy"])
        & (rows["p_shortage_ci_high"] < base["p_shortage_ci_low"])
    ]
    better = better.sort_values("diff_total_cost_mean", kind="stable")
    out = []
    for _, r in better.head(MAX_OPTIONS).iterrows():
        out.append(f"{_describe(result, r['strategy'])} to {_p(r)} for {_diff(r)}")
    return out


def _recovery(rows: pd.DataFrame, best: pd.Series, over: str) -> str:
    """How long supply takes to recover under the recommendation, censoring stated."""
    mean, share = best["ttr_days_disrupted_mean"], best["ttr_censored_share"]
    if not math.isfinite(mean) or best["p_disrupted"] == 0:
        return ""
    text = (
        f"When a supplier is disrupted under {best['strategy']}, supply is fully back on "
        f"average {format_days(mean)} after the first disruption (0 when no shortage follows)"
    )
    if math.isfinite(share) and share > 0:
        text += (
            f"; {format_percent(share)} of the disrupted runs are still short at the end of the "
            f"{over}, so the true mean is longer"
        )
    return text + "."
