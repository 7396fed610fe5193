"""The design commands: ``disruptsim sweep``, ``disruptsim size`` and ``disruptsim sensitivity``.

Thin over :mod:`disruptsim.design`. Bad paths, values, targets and distributions end in
one clear message on stderr and exit status 2. Outputs (a CSV and a self-contained HTML
page) go to ``--out DIR``; an existing file there is never replaced without ``--force``.
Heavy modules are imported inside the commands, so that ``disruptsim --help`` stays quick.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..conventions import EXIT_INPUT
from ..safetext import terminal_markup, terminal_text
from .errors import reports_errors

__all__ = ["sensitivity", "size", "sweep"]

FileArg = Annotated[
    Path, typer.Argument(help="Scenario file (YAML).", metavar="FILE", show_default=False)
]
Runs = Annotated[
    int, typer.Option("--runs", "-n", min=1, help="Monte Carlo runs per variant and strategy.")
]
Seed = Annotated[
    int,
    typer.Option("--seed", "-s", help="Seed of the study (the same futures for every variant)."),
]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Directory for the CSV and the HTML page.", show_default=False
    ),
]
Force = Annotated[bool, typer.Option("--force", help="Replace existing output files.")]
Backend = Annotated[str, typer.Option("--backend", help="Where runs are computed: local or dask.")]
Scheduler = Annotated[
    str | None, typer.Option("--scheduler", help="Dask scheduler address.", show_default=False)
]


def design_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """A bad path, value, target or argument, an unusable Dask backend or an existing
    output file -> one message on stderr, exit 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..design.paths import DesignError
        from ..errors import ArgumentError
        from ..results.outdir import OutputExistsError
        from ..run.distributed import BackendError

        try:
            return command(*args, **kwargs)
        except OutputExistsError as error:
            hint = "; choose another --out or pass --force" if error.force_hint else ""
            typer.echo(
                terminal_text(f"disruptsim: {error.filename}: {error.strerror}{hint}"), err=True
            )
            raise typer.Exit(EXIT_INPUT) from None
        except (DesignError, ArgumentError, BackendError, FileExistsError) as error:
            typer.echo(terminal_text(f"disruptsim: {error}"), err=True)
            raise typer.Exit(EXIT_INPUT) from None

    return wrapper


def _check_out(out: Path | None, name: str, force: bool) -> None:
    """Before the study: the two output files may be written (exit 2 otherwise)."""
    if out is None:
        return
    from ..results.outdir import OutputExistsError, check_writable

    for file in (out / f"{name}.csv", out / f"{name}.html"):
        if file.is_symlink() or (file.exists() and not file.is_file()):
            raise OutputExistsError(file, "exists and is not a file; it is left untouched")
        if file.exists() and not force:
            raise OutputExistsError(file, "exists", force_hint=True)
        check_writable(file)


def _write(out: Path | None, name: str, csv: Any, html: str, force: bool, console: Console) -> None:
    if out is None:
        return
    from ..design.page import write_atomic
    from ..results.outdir import OutputWriteError
    from ..safetext import csv_frame

    _check_out(out, name, force)  # again: something may have appeared meanwhile
    for file, text in ((f"{name}.csv", csv_frame(csv).to_csv(index=False)), (f"{name}.html", html)):
        try:
            write_atomic(out / file, text, force=force)
        except OSError as error:
            raise OutputWriteError(out / file, error.strerror or str(error), error.errno) from None
    console.print(f"wrote {terminal_markup(out / name)}.csv and .html")


def _strategies(text: str | None) -> list[str] | None:
    from .run import parse_strategies

    return parse_strategies(text)


@reports_errors
@design_errors
def sweep(
    file: FileArg,
    settings: Annotated[
        list[str],
        typer.Option(
            "--set", help="PATH=V1,V2,... (repeatable: the full grid).", show_default=False
        ),
    ],
    runs: Runs = 2000,
    seed: Seed = 0,
    strategies: Annotated[
        str | None,
        typer.Option("--strategies", help="Comma-separated strategies.", show_default=False),
    ] = None,
    out: Out = None,
    force: Force = False,
    backend: Backend = "local",
    scheduler: Scheduler = None,
) -> None:
    """Simulate every combination of parameter values over the same futures.

    Prints the best strategy per variant and where it changes; with --out, writes
    sweep.csv (one row per variant and strategy) and sweep.html.
    """
    from ..design.paths import values_of
    from ..design.sweep import render_sweep
    from ..design.sweep import sweep as run_sweep
    from ..scenario import load_scenario

    values = values_of(settings)
    _check_out(out, "sweep", force)
    scenario = load_scenario(file)
    result = run_sweep(
        scenario,
        values,
        runs,
        seed,
        strategies=_strategies(strategies),
        backend=backend,
        scheduler=scheduler,
    )
    console = Console(highlight=False, soft_wrap=True)
    for _, row in result.best.iterrows():
        setting = ", ".join(f"{p}={row[p]:g}" for p in result.paths)
        mark = "" if row["separated"] else " (within noise of " + str(row["runner_up"]) + ")"
        console.print(terminal_markup(f"{setting}: best {row['best']}{mark}"))
    if result.changes.empty:
        console.print("the best strategy does not change")
    for _, c in result.changes.iterrows():
        console.print(
            terminal_markup(
                f"best changes {c['from_best']} -> {c['to_best']} between {c['between']}"
            )
        )
    _write(out, "sweep", result.frame, render_sweep(result), force, console)


@reports_errors
@design_errors
def size(
    file: FileArg,
    product: Annotated[
        str, typer.Argument(help="Product whose lever is sized.", show_default=False)
    ],
    lever: Annotated[
        str,
        typer.Option(
            "--lever",
            help="stockpile.initial_days, reshoring.share, diversification.max_share, ...",
        ),
    ] = "stockpile.initial_days",
    target: Annotated[
        str, typer.Option("--target", help="p_shortage<=ALPHA, unmet_units<=X or total_cost.")
    ] = "p_shortage<=0.05",
    strategy: Annotated[
        str, typer.Option("--strategy", help="Strategy whose lever is sized.")
    ] = "baseline",
    search: Annotated[
        str | None, typer.Option("--range", help="LOW,HIGH search range.", show_default=False)
    ] = None,
    runs: Runs = 2000,
    seed: Seed = 0,
    out: Out = None,
    force: Force = False,
    backend: Backend = "local",
    scheduler: Scheduler = None,
) -> None:
    """Size a lever: the smallest level meeting a target, or the cheapest level.

    With its Monte Carlo uncertainty (a bootstrap over runs); a stock also in product
    units, tonnes and days of average daily net imports (CRMA Art. 23).
    """
    from ..design.paths import DesignError, parse_values
    from ..design.sizing import render_sizing
    from ..design.sizing import size as run_size
    from ..scenario import load_scenario

    bounds = None
    if search is not None:
        vals = parse_values(search, "--range")
        if len(vals) != 2:
            raise DesignError(f"--range: expected LOW,HIGH, found {search!r}")
        bounds = (vals[0], vals[1])
    _check_out(out, "size", force)
    scenario = load_scenario(file)
    if strategy not in scenario.strategies:
        from ..scenario.messages import unknown

        raise DesignError(f"--strategy: {unknown('strategy', strategy, scenario.strategy_names)}")
    result = run_size(
        scenario,
        product,
        lever,
        target,
        strategy=strategy,
        runs=runs,
        seed=seed,
        bounds=bounds,
        backend=backend,
        scheduler=scheduler,
    )
    console = Console(highlight=False, soft_wrap=True)
    console.print(terminal_markup(result.message))
    _write(out, "size", result.levels, render_sizing(result), force, console)


@reports_errors
@design_errors
def sensitivity(
    file: FileArg,
    params: Annotated[
        list[str],
        typer.Option(
            "--param",
            help="PATH=LOW,HIGH: a uniform range (repeatable, at least two).",
            show_default=False,
        ),
    ],
    output: Annotated[
        list[str] | None,
        typer.Option("--output", help="Outcome to analyse (repeatable).", show_default=False),
    ] = None,
    method: Annotated[str, typer.Option("--method", help="morris or sobol.")] = "morris",
    strategy: Annotated[
        str, typer.Option("--strategy", help="Strategy whose outcomes are analysed.")
    ] = "baseline",
    trajectories: Annotated[
        int, typer.Option("--trajectories", min=2, help="Morris trajectories r.")
    ] = 20,
    samples: Annotated[
        int, typer.Option("--samples", min=2, help="Sobol base sample N (a power of 2).")
    ] = 64,
    runs: Runs = 2000,
    seed: Seed = 0,
    out: Out = None,
    force: Force = False,
    backend: Backend = "local",
    scheduler: Scheduler = None,
) -> None:
    """Sensitivity analysis: Morris screening or Sobol indices of uncertain parameters.

    With bootstrap intervals, the Monte Carlo noise share and the ranking-flip map (which
    parameters change the best strategy, and at which values).
    """
    from ..design.paths import DesignError, parse_values
    from ..design.sensitivity import render_sensitivity
    from ..design.sensitivity import sensitivity as run_sensitivity
    from ..scenario import load_scenario

    uncertain: dict[str, list[float]] = {}
    for p in params:
        path, sep, text = p.partition("=")
        if not sep or not path.strip():
            raise DesignError(f"--param {p!r}: expected PATH=LOW,HIGH")
        vals = parse_values(text, f"--param {path.strip()}")
        if len(vals) != 2:
            raise DesignError(f"--param {path.strip()}: expected LOW,HIGH, found {text!r}")
        uncertain[path.strip()] = vals
    _check_out(out, "sensitivity", force)
    scenario = load_scenario(file)
    outputs = tuple(output) if output else ("total_cost", "p_shortage", "ttr_days")
    result = run_sensitivity(
        scenario,
        uncertain,
        outputs,
        method,
        strategy=strategy,
        runs=runs,
        seed=seed,
        trajectories=trajectories,
        samples=samples,
        backend=backend,
        scheduler=scheduler,
    )
    console = Console(highlight=False, soft_wrap=True)
    key = "mu_star" if method == "morris" else "ST"
    for o in result.outputs:
        f = result.indices[result.indices.output == o].sort_values("rank")
        ranked = ", ".join(f"{r.parameter} ({getattr(r, key):.3g})" for r in f.itertuples())
        console.print(terminal_markup(f"{o}: {ranked}"))
    for r in result.noise.itertuples():
        console.print(terminal_markup(f"noise share of {r.output}: {r.noise_share:.3g}"))
    for r in result.flips.itertuples():
        if r.flips:
            console.print(
                terminal_markup(
                    f"{r.parameter} changes the best strategy in {r.flips} of {r.steps} steps: {r.where}"
                )
            )
    _write(out, "sensitivity", result.indices, render_sensitivity(result), force, console)
