"""Global sensitivity analysis of a scenario's outcomes (Morris screening, Sobol indices).

:func:`sensitivity` draws parameter sets with SALib (Morris trajectories, or Saltelli's
scheme for Sobol indices), simulates every set as a variant over the same futures
(common random numbers: the only thing that differs between two variants is the
parameters, never the sampled shocks), and analyses the mean outcome of each variant with
SALib. Confidence intervals of the indices are SALib's bootstrap over the parameter
sets. Each variant's mean is itself a Monte Carlo estimate: the *noise share* is the
mean squared standard error of the variants' means over the variance of those means, an
upper bound on the part of the variance that is Monte Carlo noise (common random numbers
make much of that noise common to all variants, and common noise does not move the
indices). The *ranking-flip map* shows which parameters change the best strategy (lowest
mean total cost), and at which values. See ``docs/design-the-response.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..report.figures import strategy_colors
from ..scenario.model import Scenario
from .outcomes import OUTCOMES, best_strategy, estimate, per_run
from .page import escape, figure_html, figure_png, page, table_html, write_atomic
from .paths import DesignError, parse_path, variant
from .study import check_variant_count, run_variants

__all__ = ["SensitivityResult", "sensitivity"]

METHODS = ("morris", "sobol")


def parse_distribution(path: str, spec: Any) -> tuple[float, float]:
    """``[low, high]`` or ``{dist: uniform, low, high}`` -> ``(low, high)``."""
    if isinstance(spec, Mapping):
        dist = spec.get("dist", "uniform")
        if dist != "uniform":
            raise DesignError(
                f"{path}: unsupported distribution {dist!r}; expected uniform (give low and high)"
            )
        extra = set(spec) - {"dist", "low", "high"}
        if extra:
            raise DesignError(
                f"{path}: unknown key {sorted(extra)[0]!r} in the distribution; expected dist, low, high"
            )
        bounds = (spec.get("low"), spec.get("high"))
    elif isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) == 2:
        bounds = tuple(spec)
    else:
        raise DesignError(
            f"{path}: expected [low, high] or {{dist: uniform, low: L, high: H}}, found {spec!r}"
        )
    for b in bounds:
        if (
            isinstance(b, bool)
            or not isinstance(b, int | float | np.number)
            or not math.isfinite(float(b))
        ):
            raise DesignError(f"{path}: expected finite numbers low < high, found {bounds!r}")
    low, high = float(bounds[0]), float(bounds[1])
    if not low < high:
        raise DesignError(f"{path}: expected low < high, found low={low:g}, high={high:g}")
    return low, high


@dataclass
class SensitivityResult:
    """What :func:`sensitivity` returns.

    Attributes
    ----------
    indices : pandas.DataFrame
        One row per (output, parameter). Morris: ``mu_star``, ``mu_star_conf`` (half
        width of the 95% bootstrap interval), ``sigma``, ``mu``; Sobol: ``S1``,
        ``S1_conf``, ``ST``, ``ST_conf``. ``rank`` (1: most influential).
    noise : pandas.DataFrame
        Per output: variance of the variants' means, mean squared standard error and
        their ratio ``noise_share``.
    flips : pandas.DataFrame
        Per parameter: steps that changed only that parameter, how many changed the best
        strategy, and the values where they did (``from`` -> ``to`` strategy).
    samples : pandas.DataFrame
        Every parameter set with its outputs and best strategy.
    """

    scenario: Scenario
    method: str
    parameters: tuple[str, ...]
    outputs: tuple[str, ...]
    strategy: str
    indices: pd.DataFrame
    noise: pd.DataFrame
    flips: pd.DataFrame
    samples: pd.DataFrame
    runs: int
    seed: int
    timings: dict[str, float]

    def report(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the study's HTML page atomically; returns its path."""
        return write_atomic(path, render_sensitivity(self), force=force)


def sensitivity(
    scenario: Scenario,
    uncertain: Mapping[str, Any],
    outputs: Sequence[str] = ("total_cost", "p_shortage", "ttr_days"),
    method: str = "morris",
    *,
    strategy: str = "baseline",
    runs: int = 2000,
    seed: int = 0,
    trajectories: int = 20,
    levels: int = 4,
    samples: int = 64,
    strategies: Sequence[str] | None = None,
    backend: str = "local",
    scheduler: Any = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SensitivityResult:
    """Which uncertain parameters move the outcomes, and which change the best strategy.

    Parameters
    ----------
    scenario : Scenario
    uncertain : mapping of str to distribution
        ``{PATH: [low, high]}`` or ``{PATH: {"dist": "uniform", "low": L, "high": H}}``.
    outputs : sequence of str
        Outcomes of ``strategy`` (system level) to analyse: any of ``total_cost``,
        ``shortage_cost``, ``mitigation_cost``, ``p_shortage``, ``ttr_days``.
    method : {"morris", "sobol"}
        Morris elementary effects (``trajectories`` x (parameters + 1) variants) or Sobol
        first-order and total indices (``samples`` x (parameters + 2) variants).
    strategy : str, default "baseline"
        The strategy whose outcomes are analysed.
    runs, seed : int
        Monte Carlo runs per variant and the seed (the same futures for every variant).
    trajectories, levels : int
        Morris: trajectories ``r`` and grid levels.
    samples : int
        Sobol: base sample size ``N`` (a power of 2).
    strategies : sequence of str, optional
        Strategies simulated for the ranking-flip map (default all).
    backend, scheduler, threads, progress
        As for :func:`disruptsim.simulate`.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    DesignError
        An unknown path, a bad distribution or output, an unknown method.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in METHODS:
        raise DesignError(f"method: expected 'morris' or 'sobol', found {method!r}")
    if not isinstance(uncertain, Mapping) or len(uncertain) < 2:
        raise DesignError(
            "uncertain: expected a mapping {PATH: [low, high]} of at least two parameters"
        )
    outputs = tuple(outputs)
    for o in outputs:
        if o not in OUTCOMES or o == "unmet_units":
            raise DesignError(
                f"output {o!r}: expected one of total_cost, shortage_cost, mitigation_cost, p_shortage, ttr_days"
            )
    if strategy not in scenario.strategies:
        from ..scenario.messages import unknown

        raise DesignError(unknown("strategy", strategy, scenario.strategy_names))
    counts = {"trajectories": trajectories, "levels": levels, "samples": samples}
    for key, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
            raise DesignError(f"{key}: expected a whole number >= 2, found {value!r}")
    k = len(uncertain)
    if method == "morris":
        check_variant_count(trajectories * (k + 1), f"{trajectories} trajectories x {k + 1}")
    else:
        if samples & (samples - 1):
            raise DesignError(
                f"samples: expected a power of 2 (Sobol's sequence), found {samples}; "
                f"e.g. {1 << (int(samples).bit_length() - 1)} or {1 << int(samples).bit_length()}"
            )
        check_variant_count(samples * (k + 2), f"{samples} samples x {k + 2}")
    paths = [parse_path(scenario, p) for p in uncertain]
    bounds = [parse_distribution(p, spec) for p, spec in uncertain.items()]
    names = [p.text for p in paths]
    problem = {"num_vars": len(names), "names": names, "bounds": [list(b) for b in bounds]}
    if method == "morris":
        X = morris_sample.sample(
            problem, N=int(trajectories), num_levels=int(levels), seed=int(seed)
        )
    else:
        X = sobol_sample.sample(problem, int(samples), calc_second_order=False, seed=int(seed))
    variants = [variant(scenario, dict(zip(paths, row, strict=True))) for row in X]
    selected = strategies if strategies is not None else None
    if selected is not None and strategy not in selected:
        selected = [*selected, strategy]
    study = run_variants(
        variants,
        runs,
        seed,
        strategies=selected,
        backend=backend,
        scheduler=scheduler,
        threads=threads,
        progress=progress,
    )

    Y = {o: np.empty(len(X)) for o in outputs}
    se2 = {o: np.empty(len(X)) for o in outputs}
    best = []
    for v in range(len(X)):
        disrupted = study.metric(v, strategy, "disrupted") > 0.5
        for o in outputs:
            e = estimate(per_run(study, v, strategy, o), o, disrupted)
            Y[o][v] = e.estimate
            se2[o][v] = ((e.high - e.low) / (2 * 1.959963984540054)) ** 2
        best.append(best_strategy(study, v)[0])

    rows, noise_rows = [], []
    for o in outputs:
        y = np.nan_to_num(Y[o], nan=0.0)
        if method == "morris":
            si = morris_analyze.analyze(
                problem, X, y, num_resamples=1000, conf_level=0.95, seed=int(seed)
            )
            frame = pd.DataFrame(
                {
                    "output": o,
                    "parameter": names,
                    "mu_star": si["mu_star"],
                    "mu_star_conf": si["mu_star_conf"],
                    "sigma": si["sigma"],
                    "mu": si["mu"],
                }
            )
            frame["rank"] = frame["mu_star"].rank(ascending=False, method="min").astype(int)
        else:
            si = sobol_analyze.analyze(
                problem,
                y,
                calc_second_order=False,
                num_resamples=1000,
                conf_level=0.95,
                seed=int(seed),
            )
            frame = pd.DataFrame(
                {
                    "output": o,
                    "parameter": names,
                    "S1": si["S1"],
                    "S1_conf": si["S1_conf"],
                    "ST": si["ST"],
                    "ST_conf": si["ST_conf"],
                }
            )
            frame["rank"] = frame["ST"].rank(ascending=False, method="min").astype(int)
        rows.append(frame)
        var = float(np.var(y, ddof=1))
        mse = float(np.nanmean(se2[o]))
        noise_rows.append(
            {
                "output": o,
                "variance_of_means": var,
                "mean_squared_se": mse,
                "noise_share": mse / var if var > 0 else math.nan,
            }
        )
    samples_frame = pd.DataFrame(X, columns=names)
    for o in outputs:
        samples_frame[o] = Y[o]
    samples_frame["best"] = best
    return SensitivityResult(
        scenario,
        method,
        tuple(names),
        outputs,
        strategy,
        pd.concat(rows, ignore_index=True),
        pd.DataFrame(noise_rows),
        _flips(X, best, names, method),
        samples_frame,
        runs,
        int(seed),
        {**study.timings, "arms_simulated": float(study.n_simulated)},
    )


def _pairs(X: np.ndarray, method: str) -> list[tuple[int, int, int]]:
    """Pairs of parameter sets that differ in one parameter only: ``(a, b, parameter)``."""
    k = X.shape[1]
    out = []
    if method == "morris":
        for a in range(len(X) - 1):
            diff = np.flatnonzero(X[a] != X[a + 1])
            if (a + 1) % (k + 1) and len(diff) == 1:
                out.append((a, a + 1, int(diff[0])))
    else:  # Saltelli blocks without second order: A, AB_1..AB_k, B
        for start in range(0, len(X), k + 2):
            for i in range(k):
                out.append((start, start + 1 + i, i))
    return out


def _flips(X: np.ndarray, best: list[str], names: list[str], method: str) -> pd.DataFrame:
    rows = []
    for i, name in enumerate(names):
        pairs = [(a, b) for a, b, j in _pairs(X, method) if j == i]
        flips = [(a, b) for a, b in pairs if best[a] != best[b]]
        where = "; ".join(
            f"{X[a, i]:.4g}->{X[b, i]:.4g}: {best[a]}->{best[b]}" for a, b in flips[:6]
        ) + (" ..." if len(flips) > 6 else "")
        rows.append(
            {
                "parameter": name,
                "steps": len(pairs),
                "flips": len(flips),
                "flip_share": len(flips) / len(pairs) if pairs else math.nan,
                "where": where,
            }
        )
    return (
        pd.DataFrame(rows)
        .sort_values("flips", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def tornado_figure(r: SensitivityResult) -> Figure:
    """One panel per output: the parameters' indices with their 95% intervals."""
    fig = Figure(
        figsize=(4.2 * len(r.outputs), 0.35 * len(r.parameters) + 1.6), layout="constrained"
    )
    axes = np.atleast_1d(fig.subplots(1, len(r.outputs)))
    key, conf = ("mu_star", "mu_star_conf") if r.method == "morris" else ("ST", "ST_conf")
    for ax, o in zip(axes, r.outputs, strict=True):
        f = r.indices[r.indices.output == o].sort_values(key)
        ax.barh(f.parameter, f[key], xerr=f[conf], color="C0", alpha=0.8)
        if r.method == "sobol":
            ax.barh(f.parameter, f["S1"], color="C1", alpha=0.8, label="S1")
            ax.legend(["ST", "S1"], fontsize=7)
        ax.set_title(f"{o}: {'mu*' if r.method == 'morris' else 'Sobol indices'}", fontsize=10)
        ax.tick_params(axis="y", labelsize=7)
    return fig


def flip_figure(r: SensitivityResult, bins: int = 5) -> Figure:
    """The ranking-flip map: per parameter, the share of parameter sets whose best strategy
    is each strategy, against the parameter's value (Morris: its grid levels; Sobol: ``bins``
    equal-width bins). A parameter whose bars change colour along its range moves the best
    strategy; the ``flips`` table says by how many one-parameter steps."""
    s = r.samples
    strategies = sorted(set(s.best))
    colors = strategy_colors(strategies)
    k = len(r.parameters)
    ncols = min(3, k)
    nrows = -(-k // ncols)
    fig = Figure(figsize=(3.6 * ncols, 2.4 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, name in zip(axes, r.parameters, strict=False):
        col = s[name].to_numpy()
        levels = np.unique(col)
        if len(levels) <= max(bins, 8):
            centres, index = levels, np.searchsorted(levels, col)
        else:
            edges = np.linspace(col.min(), col.max(), bins + 1)
            index = np.clip(np.searchsorted(edges, col, side="right") - 1, 0, bins - 1)
            centres = (edges[:-1] + edges[1:]) / 2
        width = (centres[-1] - centres[0]) / max(len(centres), 2) * 0.8 or 1.0
        bottom = np.zeros(len(centres))
        for st in strategies:
            share = np.array(
                [
                    ((index == j) & (s.best == st)).sum() / max((index == j).sum(), 1)
                    for j in range(len(centres))
                ]
            )
            ax.bar(centres, share, width=width, bottom=bottom, color=colors[st], label=st)
            bottom += share
        ax.set_title(name, fontsize=8)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=7)
    for ax in axes[k:]:
        ax.set_visible(False)
    axes[0].set_ylabel("share of parameter sets", fontsize=8)
    fig.legend(
        *axes[0].get_legend_handles_labels(),
        title="best strategy",
        fontsize=7,
        title_fontsize=7,
        loc="outside right upper",
    )
    return fig


def render_sensitivity(r: SensitivityResult) -> str:
    sc = r.scenario
    meta = [
        ("Scenario", sc.name),
        ("Scenario file", str(sc.path) if sc.path else "–"),
        ("Method", r.method),
        ("Outputs", f"{', '.join(r.outputs)} of strategy {r.strategy}"),
        ("Parameter sets", f"{len(r.samples)}"),
        ("Runs", f"{r.runs:,d} per parameter set and strategy, the same futures for all"),
        ("Seed", str(r.seed)),
    ]
    fmt = {c: ".4g" for c in r.indices.columns if c not in ("output", "parameter", "rank")}
    body = [
        "<h2>Tornado chart</h2>",
        figure_html(
            figure_png(tornado_figure(r)),
            "Tornado chart",
            "Indices with their 95% bootstrap intervals (SALib).",
        ),
        "<h2>Indices</h2>",
        table_html(r.indices, fmt),
        "<h2>Monte Carlo noise</h2>",
        table_html(r.noise, {c: ".4g" for c in r.noise.columns if c != "output"}),
        "<p class=small>noise_share: mean squared standard error of a parameter set's mean over the variance "
        "of the means across parameter sets; an upper bound on the share of the variance that is Monte Carlo "
        "noise. Above about 0.1, run more runs before reading small indices.</p>",
        "<h2>Ranking-flip map</h2>",
        figure_html(
            figure_png(flip_figure(r)),
            "Ranking-flip map",
            "Best strategy (lowest mean total cost) of each parameter set.",
        ),
        table_html(r.flips, {"flip_share": ".2f"}),
        f"<p class=small>steps: pairs of parameter sets that differ in this parameter only; flips: those whose best strategy differs ({escape(r.method)} design).</p>",
    ]
    return page(f"Sensitivity ({r.method}): {sc.name}", meta, body)
