"""Error handling shared by the commands: bad input ends in a clear message and exit
status 2 (:data:`~disruptsim.conventions.EXIT_INPUT`), never a traceback; a bug ends in its
traceback and exit status 1."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click
import typer

from ..conventions import EXIT_INPUT, EXIT_INTERNAL
from ..errors import ScenarioError
from ..results.outdir import OutputExistsError, OutputWriteError
from ..safetext import terminal_text

__all__ = ["print_input_error", "print_warnings", "reports_errors"]

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.model import Scenario

F = TypeVar("F", bound=Callable[..., Any])


def print_input_error(error: Exception) -> None:
    """Write a bad-input error to stderr: one ``file:line:col: path: message`` per line."""
    if isinstance(error, ScenarioError):
        for problem in error.problems:
            typer.echo(terminal_text(problem), err=True)
    elif isinstance(error, OutputExistsError | OutputWriteError):
        typer.echo(terminal_text(error), err=True)
    elif isinstance(error, OSError):
        name = error.filename if error.filename is not None else ""
        reason = error.strerror or str(error)
        typer.echo(terminal_text(f"{name}: cannot read file: {reason}"), err=True)
    else:  # pragma: no cover - only the two kinds above are input errors
        typer.echo(terminal_text(error), err=True)


def print_warnings(scenario: Scenario) -> None:
    """Write a scenario's warnings (likely unit mistakes) to stderr, one per line."""
    for problem in scenario.warnings:
        typer.echo(terminal_text(problem), err=True)


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
