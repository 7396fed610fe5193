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

from ..conventions import DEFAULT_RUNS, EXIT_INPUT, EXIT_OK, SYSTEM
from ..safetext import terminal_markup, terminal_text
from .errors import reports_errors

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..results.result import SimulationResult

# Heavy modules (pandas, numba, the kernel) are imported inside run_study, so that the
# command line starts quickly for --help, --version and validate.

__all__ = ["DEFAULT_RUNS", "Interrupted", "default_output_dir", "run_study", "strategy_table"]


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


def strategy_table(
    result: SimulationResult,
    summary: pd.DataFrame,
    product: str = SYSTEM,
    width: int | None = None,
) -> Table:
    """A rich table of the strategies (rows), ranked by expected total cost, fitted to
    ``width`` columns (see :func:`disruptsim.report.table.rich_table`)."""
    from ..report.table import rich_table

    what = "whole value chain" if product == SYSTEM else terminal_markup(product)
    return rich_table(
        summary,
        baseline=result.baseline,
        title=f"Strategies, {what}: {result.n_runs:,d} runs, seed {result.seed}",
        width=width,
        product=product,
    )


def separation_line(result: SimulationResult) -> str | None:
    """Whether the two cheapest strategies can be told apart (the report's sentence,
    :func:`disruptsim.report.narrative.separation_sentence`)."""
    from ..report.narrative import separation_sentence

    return separation_sentence(result) or None


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
    max_memory: int | None = None,
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
        Replace an output directory that holds a previous disruptsim result.
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
    max_memory : int, optional
        Memory budget in bytes (default: half the available memory); see
        :func:`disruptsim.run.memory.plan_memory`.

    Returns
    -------
    int
        Exit status: 0 done, 2 bad input (including an output directory that is not ours
        to replace or cannot be written, or a study over its memory budget), 130/143
        interrupted by SIGINT/SIGTERM.

    Raises
    ------
    ScenarioError, OSError
        An invalid or unreadable scenario file (the command turns them into exit 2).
    """
    from ..errors import ArgumentError
    from ..model.situation import load_situation
    from ..results.outdir import (
        OutputExistsError,
        OutputWriteError,
        check_output_dir,
        check_writable,
        clean_stale_partials,
    )
    from ..run.distributed import BackendError
    from ..run.engine import DEFAULT_TRACE_RUNS, default_batch_runs
    from ..run.memory import MemoryBudgetError, plan_memory
    from ..run.simulation import check_arguments, max_threads, simulate
    from ..scenario import load_scenario

    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    err = err_console or Console(stderr=True, highlight=False, soft_wrap=True)
    try:  # the options first: a bad one is reported before anything is read
        check_arguments(
            runs, None, DEFAULT_TRACE_RUNS, threads, backend, scheduler, "auto", seed,
            max_memory, strategies,
        )  # fmt: skip
    except ArgumentError as error:
        option = "--" + error.argument.replace("_", "-")
        err.print(terminal_markup(f"{option}: {error}"))
        return EXIT_INPUT
    t0 = time.perf_counter()
    scenario = load_scenario(file)
    for warning in scenario.warnings:
        err.print(terminal_markup(warning))
    today = load_situation(situation, scenario) if situation is not None else None
    names = list(strategies) if strategies else None
    target = Path(out) if out is not None else default_output_dir(scenario.name)
    try:
        check_writable(target)
        check_output_dir(target, force)
    except OutputExistsError as error:
        hint = "; use --force to replace a previous result" if error.force_hint else ""
        err.print(terminal_markup(f"{target}: {error.strerror}{hint}"))
        return EXIT_INPUT
    except OutputWriteError as error:
        err.print(terminal_markup(error))
        return EXIT_INPUT
    for stale in clean_stale_partials(target.parent):
        err.print(terminal_markup(f"removed {stale}, a partial result left by a stopped run"))
    chosen = [*dict.fromkeys(["baseline", *names])] if names else list(scenario.strategy_names)
    chosen = [name for name in chosen if name in scenario.strategies]  # unknown: simulate says
    try:
        memory = plan_memory(
            scenario,
            chosen,
            runs,
            DEFAULT_TRACE_RUNS,
            batch_runs=default_batch_runs(runs, backend),
            lanes=4 * (threads or max_threads()),
            budget=max_memory,
        )
    except MemoryBudgetError as error:
        err.print(terminal_markup(f"{file}: {error}"))
        return EXIT_INPUT
    if memory.reduced:
        err.print(terminal_markup(memory.message()))

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
                    f"Simulating {runs:,d} runs of {n_strategies} strategies of {terminal_markup(scenario.name)} ..."
                )
            with progress:
                task = progress.add_task(
                    f"{terminal_markup(scenario.name)}: {n_strategies} strategies", total=runs
                )
                result = simulate(
                    scenario,
                    runs=runs,
                    seed=seed,
                    strategies=names,
                    threads=threads,
                    trace_runs=memory.trace_runs,
                    max_memory=max_memory,
                    progress=lambda n: progress.advance(task, n),
                    backend=backend,
                    scheduler=scheduler,
                    situation=today,
                )
                t_sim = time.perf_counter() - t0
                progress.update(
                    task,
                    description=f"{terminal_markup(scenario.name)}: writing {terminal_markup(str(target))}",
                )
                result.timings["wall_simulation"] = t_sim
                if threads is not None:
                    result.info["threads"] = threads
                result.info["command"] = "disruptsim run"
                summary = result.summary()
                try:
                    result.save(target, force=force, report=report)
                    saved = True
                except OutputExistsError as error:  # created by someone else meanwhile
                    hint = "; use --force to replace a previous result" if error.force_hint else ""
                    err.print(terminal_markup(f"{target}: {error.strerror}{hint}"))
                    return EXIT_INPUT
                except OutputWriteError as error:  # e.g. the disk filled up
                    err.print(terminal_markup(error))
                    return EXIT_INPUT
    except ArgumentError as error:
        option = "--" + error.argument.replace("_", "-")
        err.print(terminal_markup(f"{file}: {option}: {error}"))
        return EXIT_INPUT
    except BackendError as error:
        err.print(f"disruptsim: {terminal_markup(str(error))}")
        return EXIT_INPUT
    except (Interrupted, KeyboardInterrupt) as stop:
        signum = stop.signum if isinstance(stop, Interrupted) else signal.SIGINT
        name = signal.Signals(signum).name
        if saved:
            err.print(f"Interrupted ({name}) after {terminal_markup(str(target))} was written.")
        else:
            err.print(
                f"Interrupted ({name}); nothing was written to {terminal_markup(str(target))}."
            )
        return 128 + int(signum)

    console.print(strategy_table(result, summary, width=console.width))
    line = separation_line(result)
    if line:
        console.print(terminal_markup(line))
    elapsed = time.perf_counter() - t0
    console.print(
        f"Wrote {terminal_markup(str(target))}/ (summary.csv, runs.parquet, timeseries.parquet, "
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
    seed: Annotated[
        int, typer.Option("--seed", "-s", min=0, help="Seed of the study (an integer >= 0).")
    ] = 0,
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
        bool,
        typer.Option(
            "--force",
            help="Replace an output directory that holds a previous disruptsim result "
            "(anything else is refused).",
        ),
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            min=1,
            help="Numba threads, at most the number of cores (default: all cores).",
            show_default=False,
        ),
    ] = None,
    max_memory: Annotated[
        str | None,
        typer.Option(
            "--max-memory",
            help="Memory budget, e.g. 4G or 512M (default: half the available memory); "
            "fewer daily traces are kept to fit it.",
            show_default=False,
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

    Exit status: 0 ok; 2 bad input, an output directory that is not ours to replace or
    cannot be written, or a study over its memory budget; 130 or 143 interrupted.
    """
    budget = None
    if max_memory is not None:
        from ..run.memory import parse_size

        try:
            budget = parse_size(max_memory)
        except ValueError as error:
            typer.echo(f"Invalid value for '--max-memory': {terminal_text(error)}", err=True)
            raise typer.Exit(EXIT_INPUT) from None
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
        max_memory=budget,
    )
    if code:
        raise typer.Exit(code)
