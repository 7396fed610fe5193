"""``disruptsim examples``: list the shipped example scenarios or copy them to a
directory of your own (see :mod:`disruptsim.examples`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..conventions import EXIT_INPUT
from ..safetext import terminal_markup
from .errors import reports_errors

__all__ = ["examples"]


@reports_errors
def examples(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Scenarios to copy (default: all).", metavar="[NAME]...", show_default=False
        ),
    ] = None,
    copy: Annotated[
        Path | None,
        typer.Option(
            "--copy",
            help="Copy the scenario files into this directory (never overwrites a file).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List the shipped example scenarios, or copy them to a directory of your own.

    Without --copy: one line per scenario, name and description. With --copy DIR: the
    files are written to DIR (created if needed); a file already there with the same
    content is left as is, one with other content stops the copy before anything is
    written (exit status 2).
    """
    from .. import examples as shipped
    from ..scenario import load_scenario

    console = Console(highlight=False, soft_wrap=True)
    known = shipped.names()
    unknown = [n for n in names or () if n.removesuffix(".yaml") not in known]
    if unknown:
        typer.echo(f"no shipped scenario {unknown[0]!r}; shipped: {', '.join(known)}", err=True)
        raise typer.Exit(EXIT_INPUT)
    if copy is None:
        if names:
            typer.echo("naming scenarios needs --copy DIR", err=True)
            raise typer.Exit(EXIT_INPUT)
        console.print(f"Shipped scenarios ({terminal_markup(str(shipped.directory()))}):")
        for name in known:
            about = load_scenario(shipped.path(name)).description
            console.print(
                f"  [bold]{terminal_markup(name)}[/bold]"
                + (f": {terminal_markup(about)}" if about else "")
            )
        console.print("Copy them with: disruptsim examples --copy DIR")
        return
    try:
        written = shipped.copy(copy, names or None)
    except FileExistsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_INPUT) from None
    for file in written:
        console.print(f"wrote {terminal_markup(str(file))}")
    kept = len(names or known) - len(written)
    if kept:
        console.print(
            f"{kept} already in {terminal_markup(str(copy))} with the same content (left as is)"
        )
