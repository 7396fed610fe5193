"""Parameter sweeps: every variant of a scenario over the same futures.

:func:`sweep` sets one or more parameters (see :mod:`disruptsim.design.paths`) to each
combination of the values given, simulates every strategy of every variant over the same
sampled futures (common random numbers, one stream of batches) and returns a tidy frame:
one row per (variant, strategy) with the outcomes and their 95% intervals, the rank of
the strategy and whether it is the best (lowest mean total cost). See
``docs/design-the-response.md``.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..report.figures import strategy_colors
from ..scenario.model import Scenario
from .outcomes import best_strategy, outcome_columns
from .page import escape, figure_html, figure_png, page, table_html, write_atomic
from .paths import DesignError, ParameterPath, parse_path, variant
from .study import StudyRuns, check_variant_count, run_variants

__all__ = ["SweepResult", "sweep"]


@dataclass
class SweepResult:
    """What :func:`sweep` returns.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per (variant, strategy): ``variant``, one column per path, ``strategy``,
        ``total_cost``, ``shortage_cost``, ``mitigation_cost``, ``p_shortage``,
        ``unmet_units``, ``ttr_days`` (mean time-to-recover of disrupted runs), each with
        ``_ci_low`` and ``_ci_high`` (95%); ``diff_total_cost`` against the variant's
        baseline (paired, with its interval); ``rank`` (1: lowest mean total cost) and
        ``best``.
    best : pandas.DataFrame
        One row per variant: the path values, ``best``, ``runner_up`` and ``separated``
        (the paired difference in total cost between them excludes 0 at 95%).
    changes : pandas.DataFrame
        Consecutive variants (in the order of the grid) where the best strategy changes.
    study : StudyRuns
        The per-run metrics behind the frame.
    """

    scenario: Scenario
    paths: tuple[str, ...]
    frame: pd.DataFrame
    best: pd.DataFrame
    changes: pd.DataFrame
    study: StudyRuns

    def report(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the sweep's HTML page (self-contained) atomically; returns its path."""
        return write_atomic(path, render_sweep(self), force=force)


def _grid(values: Mapping[str, Sequence[Any]]) -> list[tuple[Any, ...]]:
    return list(itertools.product(*values.values()))


def check_values(values: Mapping[str, Any]) -> dict[str, list[float]]:
    """Values of a sweep as lists of distinct finite numbers, at most
    :data:`~disruptsim.design.study.MAX_VARIANTS` combinations (DesignError otherwise)."""
    if not isinstance(values, Mapping) or not values:
        raise DesignError("expected a mapping {PATH: [values, ...]} with at least one path")
    out = {}
    for path, vals in values.items():
        if isinstance(vals, str | bytes) or not isinstance(vals, Sequence | np.ndarray):
            raise DesignError(f"{path}: expected a list of values, found {type(vals).__name__}")
        vals = list(vals)
        if not vals:
            raise DesignError(f"{path}: expected at least one value")
        for v in vals:
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float | np.number)
                or not math.isfinite(float(v))
            ):
                raise DesignError(f"{path}: expected finite numbers, found {v!r}")
        out[path] = [float(v) for v in vals]
        repeated = sorted(v for v, n in Counter(out[path]).items() if n > 1)
        if repeated:
            raise DesignError(
                f"{path}: expected distinct values, found {repeated[0]:g} more than once"
            )
    check_variant_count(math.prod(len(v) for v in out.values()), "every combination of the values")
    return out


def sweep(
    scenario: Scenario,
    values: Mapping[str, Sequence[float]],
    runs: int = 2000,
    seed: int = 0,
    *,
    strategies: Sequence[str] | None = None,
    backend: str = "local",
    scheduler: Any = None,
    threads: int | None = None,
    batch_runs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Simulate every combination of parameter values over the same futures.

    Parameters
    ----------
    scenario : Scenario
        From :func:`disruptsim.load_scenario`.
    values : mapping of str to sequence of float
        ``{PATH: [V1, V2, ...]}``; several paths give their full grid (every combination).
        Paths as in :mod:`disruptsim.design.paths`, e.g.
        ``"products.pv_modules.stockpile.initial_days"``.
    runs, seed : int
        Monte Carlo runs per variant and strategy, and the seed: every variant sees the
        same futures, and a variant equals ``disruptsim.simulate`` of the patched
        scenario with the same seed (whenever the variants give each hazard the same
        per-run event cap: always unless hazard probabilities vary).
    strategies : sequence of str, optional
        Strategies to compare (default all; the baseline always).
    backend, scheduler, threads, batch_runs, progress
        As for :func:`disruptsim.simulate`; results do not depend on them.

    Returns
    -------
    SweepResult

    Raises
    ------
    DesignError
        An unknown path (with a did-you-mean), values that are not finite numbers, or a
        variant the scenario format refuses.

    Examples
    --------
    >>> import disruptsim as ds
    >>> sc = ds.load_scenario("scenarios/example-minimal.yaml")  # doctest: +SKIP
    >>> res = ds.sweep(sc, {"hazards.cn_export_restriction.annual_probability": [0.02, 0.1]},
    ...                runs=1000, seed=1)  # doctest: +SKIP
    >>> res.best[["hazards.cn_export_restriction.annual_probability", "best"]]  # doctest: +SKIP
    """
    values = check_values(values)
    paths = [parse_path(scenario, p) for p in values]
    grid = _grid(values)
    variants = [variant(scenario, dict(zip(paths, combo, strict=True))) for combo in grid]
    study = run_variants(
        variants,
        runs,
        seed,
        strategies=strategies,
        backend=backend,
        scheduler=scheduler,
        threads=threads,
        batch_runs=batch_runs,
        progress=progress,
    )
    return _result(scenario, paths, grid, study)


def _result(
    scenario: Scenario, paths: list[ParameterPath], grid: list[tuple], study: StudyRuns
) -> SweepResult:
    names = [p.text for p in paths]
    rows, best_rows = [], []
    for v, combo in enumerate(grid):
        setting = dict(zip(names, combo, strict=True))
        best, runner, separated = best_strategy(study, v)
        totals = {s: float(study.metric(v, s, "total_cost").mean()) for s in study.strategies}
        ranks = {s: k + 1 for k, s in enumerate(sorted(totals, key=totals.__getitem__))}
        for s in study.strategies:
            rows.append(
                {
                    "variant": v,
                    **setting,
                    "strategy": s,
                    **outcome_columns(study, v, s),
                    "rank": ranks[s],
                    "best": s == best,
                }
            )
        best_rows.append(
            {"variant": v, **setting, "best": best, "runner_up": runner, "separated": separated}
        )
    frame = pd.DataFrame(rows)
    best_frame = pd.DataFrame(best_rows)
    changes = []
    for k in range(1, len(best_rows)):
        a, b = best_rows[k - 1], best_rows[k]
        if a["best"] != b["best"]:
            moved = {n: (a[n], b[n]) for n in names if a[n] != b[n]}
            changes.append(
                {
                    "between": ", ".join(f"{n} {x:g} -> {y:g}" for n, (x, y) in moved.items()),
                    "from_best": a["best"],
                    "to_best": b["best"],
                    "separated": bool(a["separated"] and b["separated"]),
                }
            )
    return SweepResult(
        scenario,
        tuple(names),
        frame,
        best_frame,
        pd.DataFrame(changes, columns=["between", "from_best", "to_best", "separated"]),
        study,
    )


_PANELS = (
    ("total_cost", "Mean total cost (€)"),
    ("p_shortage", "P(shortage)"),
    ("ttr_days", "Mean time-to-recover of disrupted runs (days)"),
)


def sweep_figure(result: SweepResult) -> Figure:
    """Outcomes against the first path's values, one line per strategy, 95% bands.

    With several paths, the other paths are held at their first value.
    """
    f = result.frame
    first = result.paths[0]
    for other in result.paths[1:]:
        f = f[f[other] == f[other].iloc[0]]
    colors = strategy_colors(result.study.strategies)
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    axes = fig.subplots(1, 4)
    for ax, (col, label) in zip(axes, _PANELS, strict=False):
        for s in result.study.strategies:
            g = f[f.strategy == s].sort_values(first)
            ax.plot(g[first], g[col], marker="o", color=colors[s], label=s)
            ax.fill_between(
                g[first], g[f"{col}_ci_low"], g[f"{col}_ci_high"], color=colors[s], alpha=0.15
            )
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(first, fontsize=8)
    ax = axes[3]
    for s in result.study.strategies:
        g = f[f.strategy == s].sort_values(first)
        ax.plot(g[first], g["rank"], marker="o", color=colors[s], label=s)
    ax.invert_yaxis()
    ax.set_yticks(range(1, len(result.study.strategies) + 1))
    ax.set_title("Rank by mean total cost (1 = best)", fontsize=10)
    ax.set_xlabel(first, fontsize=8)
    axes[0].legend(fontsize=8)
    return fig


def render_sweep(result: SweepResult) -> str:
    """The sweep's page: best strategy per variant, where it changes, outcomes, figure."""
    sc = result.scenario
    st = result.study
    meta = [
        ("Scenario", sc.name),
        ("Scenario file", str(sc.path) if sc.path else "–"),
        ("SHA-256 of the file", sc.sha256 or "–"),
        ("Parameters", ", ".join(result.paths)),
        ("Variants", f"{len(st.variants)}"),
        (
            "Runs",
            f"{st.runs:,d} per variant and strategy; the same futures for every variant and strategy",
        ),
        ("Seed", str(st.seed)),
    ]
    body = ["<h2>Best strategy per variant</h2>"]
    body.append(table_html(result.best.drop(columns=["variant"])))
    body.append("<h2>Where the best strategy changes</h2>")
    if result.changes.empty:
        body.append(
            f"<p>The best strategy is {escape(result.best.best.iloc[0])} in every variant.</p>"
        )
    else:
        body.append(table_html(result.changes))
        body.append(
            "<p class=small>separated: in both variants the best strategy's paired difference in "
            "total cost against the runner-up excludes 0 at 95%; otherwise the change may be "
            "Monte Carlo noise (run more runs).</p>"
        )
    png = figure_png(sweep_figure(result))
    body.append("<h2>How the outcomes move</h2>")
    body.append(
        figure_html(
            png,
            "Outcomes against the swept parameter",
            "Mean and 95% interval per strategy; with several parameters the others are held at their first value.",
        )
    )
    body.append("<h2>All variants and strategies</h2>")
    cols = [
        "variant",
        *result.paths,
        "strategy",
        "rank",
        "total_cost",
        "total_cost_ci_low",
        "total_cost_ci_high",
        "p_shortage",
        "ttr_days",
        "diff_total_cost",
        "diff_total_cost_ci_low",
        "diff_total_cost_ci_high",
    ]
    fmt = {c: ",.4g" for c in cols if "cost" in c} | {"p_shortage": ".3f", "ttr_days": ".1f"}
    body.append(table_html(result.frame[cols], fmt, highlight=list(result.frame["best"])))
    return page(f"Sweep: {sc.name}", meta, body)
