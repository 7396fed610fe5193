"""The logic of ``disruptsim run``: load, simulate with a progress bar, save atomically,
print a table of the strategies.

:func:`run_study` is what the command calls; it returns an exit status and never
leaves a half-written output directory: the simulation runs before anything is
written, and :meth:`~disruptsim.results.result.SimulationResult.save` writes into a temporary
sibling directory that is renamed into place at the end. SIGTERM is turned into the
same clean stop as Ctrl-C (exit status 128 + signal number: 130 for SIGINT, 143 for
SIGTERM).
"""

from __future__ import annotations

import math
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ..conventions import EXIT_INPUT, EXIT_OK, SYSTEM
from ..report.format import (
    euro_scale,
    format_days,
    format_euros,
    format_interval,
    format_percent,
    format_ratio,
    format_runs,
)
from .errors import reports_errors

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..results.result import SimulationResult

# Heavy modules (pandas, numba, the kernel) are imported inside run_study, so that the
# command line starts quickly for --help, --version and validate.

__all__ = ["DEFAULT_RUNS", "Interrupted", "default_output_dir", "run_study", "strategy_table"]

DEFAULT_RUNS = 5000
"""Runs of ``disruptsim run`` without ``--runs``. Every shipped scenario, all strategies,
took 10-18 s end to end on the 2-core development machine (loaded by other work) with a
warm numba cache, and 40 s for the slowest one including the first-run compilation (see
``docs/results.md``). Raise it for decisions: the table says when the two best strategies
are not yet separated and roughly how many runs would separate them."""


class Interrupted(Exception):
    """The run was stopped by a signal (SIGINT or SIGTERM)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def default_output_dir(scenario_name: str) -> Path:
    """``out/<scenario name>`` (characters other than letters, digits, ``._-`` become ``_``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", scenario_name).strip("._") or "scenario"
    return Path("out") / safe


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def parse_strategies(text: str | None) -> list[str] | None:
    """``"a,b"`` -> ``["a", "b"]`` (None or empty: every strategy)."""
    if text is None:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    return names or None


def _scale(values) -> tuple[float, str, int]:
    """Common euro scale of a table: divisor, unit label and decimals for ~3 digits."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    top = max(finite, default=0.0)
    div, short, _ = euro_scale(top)
    lead = top / div
    decimals = max(0, 2 - int(math.floor(math.log10(lead)))) if lead > 0 else 0
    return div, f"€ {short}" if short else "€", min(decimals, 2)


def strategy_table(result: SimulationResult, summary: pd.DataFrame, product: str = SYSTEM) -> Table:
    """A rich table of the strategies (rows), ranked by expected total cost."""
    rows = summary[summary["product"] == product].sort_values("rank", kind="stable")
    div, unit, dec = _scale(
        [
            *rows["total_cost_mean"],
            *rows["diff_total_cost_ci_low"],
            *rows["diff_total_cost_ci_high"],
        ]
    )

    def money(v: float) -> str:
        if not math.isfinite(v):
            return "–"
        text = f"{abs(v) / div:,.{dec}f}"
        return ("−" if v < 0 and float(text.replace(",", "")) != 0 else "") + text

    what = "whole value chain" if product == SYSTEM else product
    table = Table(
        title=f"Strategies, {what}: {result.n_runs:,d} runs, seed {result.seed}",
        title_justify="left",
        pad_edge=False,
    )
    table.add_column("#", justify="right")
    table.add_column("Strategy", overflow="fold")
    table.add_column(f"Total cost\n{unit}, mean ± CI", justify="right", no_wrap=True)
    table.add_column("P(short-\nage)", justify="right", no_wrap=True)
    table.add_column("TTR |\ndisrupted", justify="right", no_wrap=True)
    table.add_column(f"Δ vs baseline\n{unit} [95% CI]", justify="right", no_wrap=True)
    table.add_column("BCR", justify="right", no_wrap=True)
    table.add_column("Front", justify="center", no_wrap=True)
    for _, r in rows.iterrows():
        half = (r["total_cost_ci_high"] - r["total_cost_ci_low"]) / 2
        cost = money(r["total_cost_mean"]) + (f" ± {money(half)}" if math.isfinite(half) else "")
        if r["strategy"] == result.baseline:
            diff = "reference"
        else:
            diff = f"{money(r['diff_total_cost_mean'])} [{money(r['diff_total_cost_ci_low'])}, {money(r['diff_total_cost_ci_high'])}]"
        pareto = ("M" if r["pareto_mitigation_shortage"] else "") + (
            "T" if r["pareto_total_ttr95"] else ""
        )
        table.add_row(
            str(int(r["rank"])),
            escape(str(r["strategy"])),
            cost,
            format_percent(r["p_shortage"]),
            format_days(r["ttr_days_disrupted_mean"]),
            diff,
            format_ratio(r["benefit_cost_ratio"]),
            pareto or "–",
        )
    table.caption = (
        "Costs over the horizon; CI: 95% confidence interval. TTR: mean days from the first "
        "disruption to the end of the last shortage, over disrupted runs. Δ: paired difference "
        "over the same futures (negative: cheaper). BCR: shortage cost avoided per extra euro of "
        "mitigation. Front (Pareto) M: mitigation vs shortage cost; T: total cost vs p95 TTR."
    )
    table.caption_justify = "left"
    return table


def separation_line(result: SimulationResult) -> str | None:
    """Whether the two cheapest strategies are separated, and the runs that would separate them."""
    c = result.compare_top_two()
    if c is None:
        return None
    d = c.difference
    if c.separated:
        return (
            f"{c.strategy} is cheaper than {c.other}: their paired difference in total cost, "
            f"{format_euros(d.estimate)} {format_interval(d.low, d.high)}, excludes zero."
        )
    return (
        f"{c.strategy} and {c.other} are not separated: the 95% CI of their paired difference in "
        f"total cost, {format_interval(d.low, d.high)}, contains zero. About "
        f"{format_runs(c.runs_needed)} runs would separate them if the difference is as estimated "
        f"(--runs; 80% power)."
    )


def run_study(
    file: str | Path,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    out: str | Path | None = None,
    strategies: Sequence[str] | None = None,
    force: bool = False,
    threads: int | None = None,
    report: bool = True,
    backend: str = "local",
    scheduler: str | None = None,
    situation: str | Path | None = None,
    console: Console | None = None,
    err_console: Console | None = None,
) -> int:
    """Run a study from a scenario file and write its result directory.

    Parameters
    ----------
    file : str or Path
        Scenario file (YAML).
    runs, seed : int
        Monte Carlo runs per strategy and the study's seed.
    out : str or Path, optional
        Output directory (default ``out/<scenario name>``).
    strategies : sequence of str, optional
        Strategies to simulate (default all; the baseline is always included).
    force : bool
        Replace an existing non-empty output directory.
    threads : int, optional
        Numba threads.
    report : bool
        Write ``report.html`` and the figures.
    backend : {"local", "dask"}
        Where the runs are computed (see ``docs/cluster.md``); results are identical.
    scheduler : str, optional
        Dask scheduler address (only with ``backend="dask"``; default: a local cluster).
    situation : str or Path, optional
        Situation file: simulate from that day's state (default: the scenario's own
        ``situation:`` block, if any, else day 0).
    console, err_console : rich Console, optional
        Where the table (stdout) and the progress and messages (stderr) go.

    Returns
    -------
    int
        Exit status: 0 done, 2 bad input (including an existing output directory),
        130/143 interrupted by SIGINT/SIGTERM.

    Raises
    ------
    ScenarioError, OSError
        An invalid or unreadable scenario file (the command turns them into exit 2).
    """
    from ..errors import ArgumentError
    from ..model.situation import load_situation
    from ..results.io import check_output_dir
    from ..run.distributed import BackendError
    from ..run.simulation import simulate
    from ..scenario import load_scenario

    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    err = err_console or Console(stderr=True, highlight=False, soft_wrap=True)
    t0 = time.perf_counter()
    scenario = load_scenario(file)
    today = load_situation(situation, scenario) if situation is not None else None
    names = list(strategies) if strategies else None
    target = Path(out) if out is not None else default_output_dir(scenario.name)
    try:
        check_output_dir(target, force)
    except FileExistsError as error:
        err.print(f"{escape(str(target))}: {escape(error.strerror or str(error))}")
        return EXIT_INPUT

    n_strategies = len(names) + ("baseline" not in names) if names else len(scenario.strategies)
    saved = False
    try:
        with _stop_on_signals():
            progress = Progress(
                SpinnerColumn(),
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("runs"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=False,
                disable=not err.is_terminal,
            )
            if not err.is_terminal:
                err.print(
                    f"Simulating {runs:,d} runs of {n_strategies} strategies of {escape(scenario.name)} ..."
                )
            with progress:
                task = progress.add_task(
                    f"{escape(scenario.name)}: {n_strategies} strategies", total=runs
                )
                result = simulate(
                    scenario,
                    runs=runs,
                    seed=seed,
                    strategies=names,
                    threads=threads,
                    progress=lambda n: progress.advance(task, n),
                    backend=backend,
                    scheduler=scheduler,
                    situation=today,
                )
                t_sim = time.perf_counter() - t0
                progress.update(
                    task, description=f"{escape(scenario.name)}: writing {escape(str(target))}"
                )
                result.timings["wall_simulation"] = t_sim
                if threads is not None:
                    result.info["threads"] = threads
                result.info["command"] = "disruptsim run"
                summary = result.summary()
                try:
                    result.save(target, force=force, report=report)
                    saved = True
                except FileExistsError as error:  # created by someone else meanwhile
                    err.print(f"{escape(str(target))}: {escape(error.strerror or str(error))}")
                    return EXIT_INPUT
    except ArgumentError as error:
        option = "--" + error.argument.replace("_", "-")
        err.print(f"{escape(str(file))}: {option}: {escape(str(error))}")
        return EXIT_INPUT
    except BackendError as error:
        err.print(f"disruptsim: {escape(str(error))}")
        return EXIT_INPUT
    except (Interrupted, KeyboardInterrupt) as stop:
        signum = stop.signum if isinstance(stop, Interrupted) else signal.SIGINT
        name = signal.Signals(signum).name
        if saved:
            err.print(f"Interrupted ({name}) after {escape(str(target))} was written.")
        else:
            err.print(f"Interrupted ({name}); nothing was written to {escape(str(target))}.")
        return 128 + int(signum)

    console.print(strategy_table(result, summary))
    line = separation_line(result)
    if line:
        console.print(escape(line))
    elapsed = time.perf_counter() - t0
    console.print(
        f"Wrote {escape(str(target))}/ (summary.csv, runs.parquet, timeseries.parquet, "
        f"{'report.html, ' if report else ''}manifest.json) in {elapsed:.1f} s."
    )
    return EXIT_OK


@reports_errors
def run_command(
    file: Annotated[
        Path, typer.Argument(help="Scenario file (YAML).", metavar="FILE", show_default=False)
    ],
    runs: Annotated[
        int, typer.Option("--runs", "-n", min=1, help="Monte Carlo runs per strategy.")
    ] = DEFAULT_RUNS,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed of the study.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output directory (default: out/<scenario name>).",
            show_default=False,
        ),
    ] = None,
    strategies: Annotated[
        str | None,
        typer.Option(
            "--strategies",
            help="Comma-separated strategies (baseline always included).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing non-empty output directory.")
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads", min=1, help="Numba threads (default: all cores).", show_default=False
        ),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write report.html and figures.")
    ] = True,
    backend: Annotated[
        str, typer.Option("--backend", help="Where runs are computed: local or dask.")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address, e.g. tcp://host:8786 (default with --backend dask: a local cluster).",
            show_default=False,
        ),
    ] = None,
    situation: Annotated[
        Path | None,
        typer.Option(
            "--situation",
            help="Situation file (YAML): simulate from today's state (see docs/how-to-situation.md).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Simulate every strategy of a scenario and write the result directory.

    Writes summary.csv, runs.parquet, timeseries.parquet, report.html with figures, scenario.resolved.yaml and manifest.json, atomically, and prints a table of the strategies.

    Exit status: 0 ok; 2 bad input or an existing output directory; 130 or 143 interrupted.
    """
    code = run_study(
        file,
        runs=runs,
        seed=seed,
        out=out,
        strategies=parse_strategies(strategies),
        force=force,
        threads=threads,
        report=report,
        backend=backend,
        scheduler=scheduler,
        situation=situation,
    )
    if code:
        raise typer.Exit(code)
