"""Command-line interface (``disruptsim``): a thin layer over the library.

This module holds the Typer application and registers the commands; each command group
has its module: :mod:`~disruptsim.cli.validate` (``validate``, ``schema``),
:mod:`~disruptsim.cli.run` (``run``), :mod:`~disruptsim.cli.bench` (``bench``),
:mod:`~disruptsim.cli.screening` (``screen``, ``draft``),
:mod:`~disruptsim.cli.examples` (``examples``),
:mod:`~disruptsim.cli.design` (``sweep``, ``size``, ``sensitivity``), and
:mod:`~disruptsim.cli.errors` the shared error handling. A command is a plain function
decorated with :func:`~disruptsim.cli.errors.reports_errors`, so that input errors end
in a clear message and exit status 2, never a traceback (0 ok, 1 internal error).

Heavy modules (pandas, numba, matplotlib) are imported inside the commands, so that
``--help``, ``--version`` and ``validate`` start quickly.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import __version__
from . import bench, design, examples, exercise, run, screening, validate
from .errors import print_input_error, reports_errors

__all__ = ["app", "main", "print_input_error", "reports_errors"]

app = typer.Typer(
    name="disruptsim",
    help="Monte Carlo simulation of supply disruptions and mitigation strategies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


app.command("validate")(validate.validate)
app.command("schema")(validate.schema)
app.command("examples")(examples.examples)
app.command("run")(run.run_command)
app.command("bench")(bench.bench)
app.command("screen")(screening.screen_command)
app.command("draft")(screening.draft_command)
app.command("sweep")(design.sweep)
app.command("size")(design.size)
app.command("sensitivity")(design.sensitivity)
app.command("exercise")(reports_errors(exercise.exercise_command))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``disruptsim`` command."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="disruptsim")
