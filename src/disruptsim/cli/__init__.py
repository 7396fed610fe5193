"""Command-line interface (``disruptsim``): a thin layer over the library.

The Typer application and its shared error handling live here; the logic of a command
group lives in its own module (:mod:`disruptsim.cli.run` for ``disruptsim run``).

Exit codes: 0 ok, 2 bad input (invalid scenario, unreadable file, bad arguments),
1 internal error. Each command is a plain function registered on :data:`app`;
decorate it with :func:`reports_errors` so that input errors end in a clear message
and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer
from rich.console import Console
from rich.markup import escape

from .. import __version__
from ..conventions import DOMESTIC, EXIT_INPUT, EXIT_INTERNAL
from ..errors import ScenarioError
from ..scenario import Scenario, ScenarioFile, load_scenario
from .exercise import exercise_command
from .run import DEFAULT_RUNS, parse_strategies, run_study

app = typer.Typer(
    name="disruptsim",
    help="Monte Carlo simulation of supply disruptions and mitigation strategies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def print_input_error(error: Exception) -> None:
    """Write a bad-input error to stderr: one ``file:line:col: path: message`` per line."""
    if isinstance(error, ScenarioError):
        for problem in error.problems:
            typer.echo(str(problem), err=True)
    elif isinstance(error, OSError):
        name = error.filename if error.filename is not None else ""
        reason = error.strerror or str(error)
        typer.echo(f"{name}: cannot read file: {reason}", err=True)
    else:  # pragma: no cover - only the two kinds above are input errors
        typer.echo(str(error), err=True)


def reports_errors(command: F) -> F:
    """Decorator for commands: bad input -> message and exit 2; a bug -> traceback, exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except (ScenarioError, OSError) as error:
            print_input_error(error)
            raise typer.Exit(EXIT_INPUT) from None
        except Exception:
            traceback.print_exc()
            typer.echo(
                "disruptsim: internal error (a bug); please report it with the traceback above",
                err=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"disruptsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Monte Carlo simulation of supply disruptions and mitigation strategies."""


@app.command()
@reports_errors
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Scenario files (YAML).", metavar="FILE", show_default=False),
    ],
) -> None:
    """Check scenario files and print an overview of each valid one.

    Every problem is printed on stderr as ``file:line:col: key.path: message``;
    the exit status is 2 if any file is invalid.
    """
    console = Console(highlight=False, soft_wrap=True)
    invalid = 0
    for file in files:
        try:
            scenario = load_scenario(file)
            if scenario.situation is not None:
                from .situation import scenario_situation

                scenario_situation(scenario)
        except (ScenarioError, OSError) as error:
            print_input_error(error)
            count = len(error.problems) if isinstance(error, ScenarioError) else 1
            typer.echo(f"{file}: invalid ({count} problem{'s' * (count != 1)})", err=True)
            invalid += 1
            continue
        print_overview(scenario, console)
    if invalid:
        raise typer.Exit(EXIT_INPUT)


def print_overview(scenario: Scenario, console: Console) -> None:
    """A short description of a valid scenario, a few lines per section."""
    world = scenario.baseline
    out = console.print
    out(f"[bold]{escape(str(scenario.path or scenario.name))}[/bold]: valid")
    about = f"{scenario.name}" + (f" - {scenario.description}" if scenario.description else "")
    out(f"  {escape(about)}")
    out(f"  horizon {scenario.horizon_days} days; home {scenario.home}")
    out(f"  products ({len(world.products)}):")
    for name, product in world.products.items():
        sources = ", ".join(
            f"{code} {source.share:.0%}" for code, source in product.sources.items()
        )
        line = f"    {name} ({product.unit})"
        if product.final_demand_per_day > 0:
            line += f": final demand {product.final_demand_per_day:g}/day"
        else:
            line += ": intermediate"
        line += f"; sources {sources}"
        if product.inputs:
            line += f"; inputs {', '.join(product.inputs)}"
        out(escape(line))
    out(f"  countries: {', '.join(sorted(_countries(scenario))) or '-'}")
    out(f"  hazards ({len(world.hazards)}):")
    for h in world.hazards:
        out(escape(f"    {h.name}: {', '.join(h.countries)}, p={h.annual_probability:g} per year"))
    out(f"  shocks ({len(world.shocks)}):")
    for i, s in enumerate(world.shocks):
        label = s.name or f"shocks[{i}]"
        out(
            escape(
                f"    {label}: {', '.join(s.countries)}, days {s.start_day}"
                f"-{s.start_day + s.duration_days - 1}, severity {s.severity:g}"
            )
        )
    out(f"  strategies ({len(scenario.strategies)}): {escape(', '.join(scenario.strategy_names))}")


def _countries(scenario: Scenario) -> set[str]:
    """Every country or region named anywhere in any strategy ('domestic' excluded)."""
    codes: set[str] = set()
    for strategy in scenario.strategies.values():
        world = strategy.world
        for product in world.products.values():
            for code, source in product.sources.items():
                codes.add(code)
                codes.update(source.exposure or ())
            for option in (product.diversification, product.substitution):
                if option is not None:
                    codes.update(option.exposure or ())
        for event in (*world.hazards, *world.shocks):
            codes.update(event.countries)
    codes.discard(DOMESTIC)
    return codes


@app.command()
@reports_errors
def schema() -> None:
    """Print the JSON Schema of the scenario format."""
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **ScenarioFile.model_json_schema(by_alias=True),
        "title": "disruptsim scenario",
    }
    typer.echo(json.dumps(document, indent=2))


@app.command("run")
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
        situation=situation,
        force=force,
        threads=threads,
        report=report,
        backend=backend,
        scheduler=scheduler,
    )
    if code:
        raise typer.Exit(code)


@app.command()
@reports_errors
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="A short run (a few seconds).")] = False,
    json_file: Annotated[
        Path | None,
        typer.Option(
            "--json", help="Also write the figures to this JSON file.", show_default=False
        ),
    ] = None,
) -> None:
    """Time the numba kernel against the NumPy and SimPy engines and print the ratios.

    A synthetic 50-product scenario over 730 days; compilation and shock sampling are
    excluded. The fuller benchmarks are the scripts in benchmarks/.
    """
    from ..run.bench import bench_command

    bench_command(quick=quick, json_path=json_file)


app.command("exercise")(reports_errors(exercise_command))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``disruptsim`` command."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="disruptsim")
