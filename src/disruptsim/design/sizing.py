"""Sizing a lever: the smallest level that meets a target, or the cheapest level.

:func:`size` searches the level of one lever of one product (stock days first; also a
reshoring share or a diversification share) over common random numbers: every level is
simulated over the same futures, so the outcome moves smoothly with the level and a
search by successive refinement (each round evaluates several levels in one stream of
batches and narrows the bracket) converges to the level the futures call for.

Targets: a chance constraint ``p_shortage<=ALPHA`` (the product's probability of a
shortage), an expected-shortfall constraint ``unmet_units<=X`` (mean unmet units of the
product per run), or ``total_cost`` (the level that minimises the expected total cost of
the whole value chain). The Monte Carlo uncertainty of the answer is a bootstrap over
runs: resample the runs, find the answer again among the levels evaluated, and report
the 2.5% and 97.5% percentiles. Stock answers are also given in product units (and
tonnes where the unit is a mass) and in days of average daily net imports, the unit of
Article 23 of the EU Critical Raw Materials Act. See ``docs/design-the-response.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..scenario.model import Scenario
from .page import escape, figure_html, figure_png, page, table_html, write_atomic
from .paths import DesignError, parse_path, variant
from .study import run_variants

__all__ = ["SizingResult", "size"]

LEVERS = {
    "stockpile.initial_days": (0.0, 365.0, "days"),
    "reshoring.share": (0.0, 1.0, "share"),
    "diversification.max_share": (0.0, 1.0, "share"),
    "substitution.max_share": (0.0, 1.0, "share"),
}
"""Levers with a default search range (others need ``bounds``)."""

_TARGET = re.compile(r"^\s*(p_shortage|unmet_units)\s*<=\s*([0-9.eE+-]+)\s*$")
_MASS = {"t": 1.0, "tonne": 1.0, "tonnes": 1.0, "kt": 1e3, "kg": 1e-3, "g": 1e-6, "mt": 1e6}


def parse_target(target: str) -> tuple[str, float | None]:
    """``"p_shortage<=0.05"`` -> ``("p_shortage", 0.05)``; ``"total_cost"`` -> ``("total_cost", None)``."""
    if not isinstance(target, str):
        raise DesignError(
            f"target: expected a string such as 'p_shortage<=0.05', 'unmet_units<=1000' or 'total_cost', found {target!r}"
        )
    if target.strip() == "total_cost":
        return "total_cost", None
    m = _TARGET.match(target)
    if m is None:
        raise DesignError(
            f"target {target!r}: expected 'p_shortage<=ALPHA', 'unmet_units<=X' or 'total_cost'"
        )
    try:
        bound = float(m.group(2))
    except ValueError:
        raise DesignError(f"target {target!r}: {m.group(2)!r} is not a number") from None
    if not math.isfinite(bound) or bound < 0 or (m.group(1) == "p_shortage" and bound > 1):
        raise DesignError(f"target {target!r}: expected a bound >= 0 (and <= 1 for p_shortage)")
    return m.group(1), bound


@dataclass
class SizingResult:
    """What :func:`size` returns.

    Attributes
    ----------
    level : float
        The answer (NaN if no level in the range meets the target).
    ci_low, ci_high : float
        2.5% and 97.5% bootstrap percentiles of the answer (Monte Carlo uncertainty).
    feasible : bool
        Some level in the range meets the target.
    message : str
        The answer in words (or why there is none).
    levels : pandas.DataFrame
        Every level evaluated, with the target's outcome and the mean total cost.
    units, net_import_days : float
        For stock days: the stock in product units and in days of average daily net
        imports (NaN for other levers, or without imports).
    tonnes : float
        The stock in tonnes where the product's unit is a mass (NaN otherwise).
    """

    product: str
    lever: str
    strategy: str
    target: str
    level: float
    ci_low: float
    ci_high: float
    feasible: bool
    message: str
    levels: pd.DataFrame
    runs: int
    seed: int
    unit: str = ""
    units: float = math.nan
    units_ci: tuple[float, float] = (math.nan, math.nan)
    net_import_days: float = math.nan
    net_import_days_ci: tuple[float, float] = (math.nan, math.nan)
    tonnes: float = math.nan
    scenario: Scenario | None = field(default=None, repr=False)

    def report(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the sizing's HTML page atomically; returns its path."""
        return write_atomic(path, render_sizing(self), force=force)


def size(
    scenario: Scenario,
    product: str,
    lever: str = "stockpile.initial_days",
    target: str = "p_shortage<=0.05",
    *,
    strategy: str = "baseline",
    runs: int = 2000,
    seed: int = 0,
    bounds: tuple[float, float] | None = None,
    tolerance: float | None = None,
    points: int = 7,
    bootstrap: int = 400,
    backend: str = "local",
    scheduler: Any = None,
    threads: int | None = None,
) -> SizingResult:
    """The smallest level of a lever that meets a target, or the cheapest level.

    Parameters
    ----------
    scenario : Scenario
    product : str
        The product whose lever is sized (and whose shortage the target is about).
    lever : str, default "stockpile.initial_days"
        A path below the product: ``stockpile.initial_days``, ``reshoring.share``,
        ``diversification.max_share``, or any number of the product (with ``bounds``).
    target : str, default "p_shortage<=0.05"
        ``"p_shortage<=ALPHA"``, ``"unmet_units<=X"`` (mean per run) or ``"total_cost"``
        (minimise the expected total cost of the value chain).
    strategy : str, default "baseline"
        The strategy whose lever is sized (the lever is set inside that strategy).
    runs, seed : int
        Monte Carlo runs per level, and the seed (the same futures for every level).
    bounds : (float, float), optional
        Search range (default: 0-365 days for stock days, 0-1 for shares).
    tolerance : float, optional
        Stop when the bracket is this narrow (default: range / 1000).
    points : int, default 7
        Levels per refinement round (simulated as one stream).
    bootstrap : int, default 400
        Bootstrap resamples of the runs for the answer's interval.
    backend, scheduler, threads
        As for :func:`disruptsim.simulate`.

    Returns
    -------
    SizingResult

    Raises
    ------
    DesignError
        Unknown product, lever or strategy, a malformed target or range.
    """
    kind, bound = parse_target(target)
    if product not in scenario.baseline.products:
        from ..scenario.messages import unknown

        raise DesignError(unknown("product", product, list(scenario.baseline.products)))
    prefix = "" if strategy == "baseline" else f"strategies.{strategy}."
    path = parse_path(scenario, f"{prefix}products.{product}.{lever}")
    if bounds is None:
        if lever not in LEVERS:
            raise DesignError(
                f"lever {lever!r} has no default range: give bounds=(low, high) (--range LOW,HIGH)"
            )
        lo, hi, _ = LEVERS[lever]
        if lever == "reshoring.share":
            r = scenario.world(strategy).products[product].reshoring
            if r is None:
                raise DesignError(
                    f"{product!r} has no reshoring in strategy {strategy!r}: add one to size its share"
                )
            hi = scenario.world(strategy).products[product].sources[r.from_].share
    else:
        lo, hi = (float(b) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo < hi):
        raise DesignError(f"range: expected 0 <= low < high, found {lo!r}, {hi!r}")
    tolerance = (hi - lo) / 1000 if tolerance is None else float(tolerance)
    if not tolerance > 0:
        raise DesignError(f"tolerance: expected a positive number, found {tolerance!r}")
    if points < 1 or bootstrap < 0:
        raise DesignError("points must be >= 1 and bootstrap >= 0")

    per_run: dict[
        float, tuple[np.ndarray, np.ndarray]
    ] = {}  # level -> (target per run, total cost per run)

    def evaluate(levels: Sequence[float]) -> None:
        new = sorted({float(x) for x in levels} - set(per_run))
        if not new:
            return
        variants = [variant(scenario, {path: x}) for x in new]
        study = run_variants(
            variants,
            runs,
            seed,
            strategies=[strategy],
            products=[product],
            backend=backend,
            scheduler=scheduler,
            threads=threads,
        )
        for v, x in enumerate(new):
            if kind == "p_shortage":
                y = (study.metric(v, strategy, "shortage_days", product) > 0).astype(float)
            else:
                y = study.metric(v, strategy, "unmet_units", product)
            per_run[x] = (y, study.metric(v, strategy, "total_cost"))

    def mean(x: float, which: int = 0) -> float:
        return float(per_run[x][which].mean())

    if kind == "total_cost":
        a, b = lo, hi
        while True:
            grid = np.linspace(a, b, points + 2)
            evaluate(grid)
            best = min(grid, key=lambda x: mean(x, 1))
            step = grid[1] - grid[0]
            if step <= tolerance:
                break
            a, b = max(lo, best - step), min(hi, best + step)
        answer, feasible = float(best), True
    else:
        evaluate([lo, hi])
        if mean(hi) > bound:
            answer, feasible = math.nan, False
        elif mean(lo) <= bound:
            answer, feasible = lo, True
        else:
            a, b = lo, hi  # mean(a) > bound >= mean(b)
            while b - a > tolerance:
                grid = np.linspace(a, b, points + 2)[1:-1]
                evaluate(grid)
                for x in grid:
                    if mean(x) <= bound:
                        b = float(x)
                        break
                    a = float(x)
            answer, feasible = b, True

    levels = sorted(per_run)
    frame = pd.DataFrame(
        {
            "level": levels,
            kind if kind != "total_cost" else "p_shortage_unused": [mean(x) for x in levels],
            "total_cost": [mean(x, 1) for x in levels],
        }
    )
    if kind == "total_cost":
        frame = frame.drop(columns=["p_shortage_unused"])
    ci = (
        _bootstrap(per_run, levels, kind, bound, bootstrap, seed)
        if feasible
        else (math.nan, math.nan)
    )
    unit = scenario.baseline.products[product].unit
    result = SizingResult(
        product,
        lever,
        strategy,
        target,
        answer,
        ci[0],
        ci[1],
        feasible,
        "",
        frame,
        runs,
        seed,
        unit=unit,
        scenario=scenario,
    )
    if lever == "stockpile.initial_days" and feasible:
        _stock_units(result, scenario, strategy)
    result.message = _message(result, kind, bound, per_run, hi)
    return result


def _bootstrap(per_run, levels, kind, bound, n, seed) -> tuple[float, float]:
    """Percentile interval of the answer over resamples of the runs (levels as evaluated)."""
    if n == 0:
        return math.nan, math.nan
    runs = per_run[levels[0]][0].size
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5A12]))
    which = 1 if kind == "total_cost" else 0
    values = np.stack([per_run[x][which] for x in levels])  # [levels, runs]
    answers = np.empty(n)
    for k in range(n):
        idx = rng.integers(0, runs, runs)
        means = values[:, idx].mean(axis=1)
        if kind == "total_cost":
            answers[k] = levels[int(np.argmin(means))]
        else:
            ok = np.flatnonzero(means <= bound)
            answers[k] = levels[ok[0]] if ok.size else math.nan
    answers = answers[np.isfinite(answers)]
    if answers.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(answers, [2.5, 97.5])
    return float(lo), float(hi)


def _stock_units(result: SizingResult, scenario: Scenario, strategy: str) -> None:
    """Stock days of requirement -> product units, tonnes and days of net imports."""
    from ..model.compiler import compile_strategy

    model = compile_strategy(scenario, strategy)
    i = model.products.index(result.product)
    requirement = float(model.arrays.requirement[0, i])
    world = scenario.world(strategy).products[result.product]
    imported = sum(s.share for code, s in world.sources.items() if code != "domestic")
    daily_net_imports = requirement * imported
    result.units = result.level * requirement
    result.units_ci = (result.ci_low * requirement, result.ci_high * requirement)
    if daily_net_imports > 0:
        result.net_import_days = result.units / daily_net_imports
        result.net_import_days_ci = (
            result.units_ci[0] / daily_net_imports,
            result.units_ci[1] / daily_net_imports,
        )
    factor = _MASS.get(result.unit.strip().lower())
    if factor is not None:
        result.tonnes = result.units * factor


def _message(r: SizingResult, kind: str, bound: float | None, per_run, hi: float) -> str:
    what = {"p_shortage": "P(shortage)", "unmet_units": "E[unmet units]"}.get(kind, "")
    name = r.lever.replace("stockpile.initial_days", "stock").replace(".", " ")
    if not r.feasible:
        best = min(float(v[0].mean()) for v in per_run.values())
        days = " days" if r.lever == "stockpile.initial_days" else ""
        return (
            f"no {name} up to {hi:g}{days} meets {what} <= {bound:g} for {r.product} "
            f"(strategy {r.strategy}): the best reached is {best:.4g}"
        )
    interval = f"(95% bootstrap interval {r.ci_low:.4g} to {r.ci_high:.4g})"
    goal = (
        "minimises the expected total cost"
        if kind == "total_cost"
        else f"meets {what} <= {bound:g}"
    )
    text = f"{name} of {r.product} = {r.level:.4g} {interval} {goal} (strategy {r.strategy}, {r.runs:,d} runs, seed {r.seed})"
    if r.lever == "stockpile.initial_days":
        text = (
            f"the smallest stock that {goal}" if kind != "total_cost" else f"the stock that {goal}"
        )
        text += (
            f" for {r.product} is {r.level:.4g} days of requirement {interval}"
            f" = {r.units:,.4g} {r.unit}"
        )
        if math.isfinite(r.tonnes) and r.unit.strip().lower() not in ("t", "tonne", "tonnes"):
            text += f" ({r.tonnes:,.4g} t)"
        if math.isfinite(r.net_import_days):
            text += (
                f" = {r.net_import_days:.4g} days of average daily net imports (CRMA Art. 23 unit)"
            )
        text += f"; strategy {r.strategy}, {r.runs:,d} runs, seed {r.seed}"
    return text


def sizing_figure(r: SizingResult):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    f = r.levels
    col = f.columns[1]
    if col != "total_cost":
        axes[0].plot(f.level, f[col], marker=".")
        axes[0].set_ylabel(col)
        kind, bound = parse_target(r.target)
        axes[0].axhline(bound, color="grey", ls="--", lw=1)
    axes[1].plot(f.level, f.total_cost, marker=".", color="C1")
    axes[1].set_ylabel("mean total cost (€)")
    for ax in axes:
        ax.set_xlabel(r.lever)
        if r.feasible:
            ax.axvline(r.level, color="C2", lw=1)
            ax.axvspan(r.ci_low, r.ci_high, color="C2", alpha=0.15)
    return fig


def render_sizing(r: SizingResult) -> str:
    sc = r.scenario
    meta = [
        ("Scenario", sc.name if sc else "–"),
        ("Product", r.product),
        ("Lever", r.lever),
        ("Strategy", r.strategy),
        ("Target", r.target),
        ("Runs", f"{r.runs:,d} per level, the same futures for every level"),
        ("Seed", str(r.seed)),
    ]
    body = ["<h2>Answer</h2>", f"<p class=note>{escape(r.message)}</p>"]
    body.append(
        figure_html(
            figure_png(sizing_figure(r)),
            "Outcome against the level",
            "Every level evaluated; the answer and its 95% bootstrap interval shaded.",
        )
    )
    body.append("<h2>Levels evaluated</h2>")
    body.append(table_html(r.levels, {c: ".4g" for c in r.levels.columns}))
    return page(f"Sizing: {r.lever} of {r.product}", meta, body)
