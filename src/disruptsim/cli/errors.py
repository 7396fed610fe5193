"""Error handling shared by the commands: bad input ends in a clear message and exit
status 2 (:data:`~disruptsim.conventions.EXIT_INPUT`), never a traceback; a bug ends in its
traceback and exit status 1."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click
import typer

from ..conventions import EXIT_INPUT, EXIT_INTERNAL
from ..errors import ScenarioError

__all__ = ["print_input_error", "reports_errors"]

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
