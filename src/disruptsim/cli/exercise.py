"""``disruptsim exercise``: run a table-top exercise's web console, or replay a journal.

- ``disruptsim exercise FILE`` checks the exercise file, starts a session (journal in
  ``--out``) and serves the console on ``--host``/``--port`` until Ctrl-C;
- ``disruptsim exercise FILE --check`` only checks the file;
- ``disruptsim exercise replay JOURNAL --out DIR`` replays a journal and writes the
  after-action report into DIR.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from ..conventions import EXIT_INPUT
from ..safetext import terminal_text

REPORT_NAME = "after-action-report.html"


def exercise_command(
    target: Annotated[
        str,
        typer.Argument(
            help="Exercise file (YAML), or 'replay' followed by a journal.",
            metavar="FILE|replay",
            show_default=False,
        ),
    ],
    journal: Annotated[
        Path | None,
        typer.Argument(
            help="With 'replay': the journal (JSON lines) of a session.",
            metavar="[JOURNAL]",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the journal and reports (replay: for the report).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on; any other than loopback needs the printed facilitator token.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")
    ] = 8750,
    check: Annotated[bool, typer.Option("--check", help="Only check the exercise file.")] = False,
    exercise_file: Annotated[
        Path | None,
        typer.Option(
            "--exercise",
            help="With 'replay': the exercise file, if it moved since the session.",
            show_default=False,
        ),
    ] = None,
    runs: Annotated[
        int,
        typer.Option(
            "--runs", min=10, help="Futures per decision in the report's counterfactuals."
        ),
    ] = 1000,
    force: Annotated[
        bool, typer.Option("--force", help="With 'replay': write into a non-empty --out folder.")
    ] = False,
) -> None:
    """Run a table-top exercise: a local web console for the facilitator and participants.

    ``disruptsim exercise FILE`` prints the URLs of the facilitator's and participants'
    views and serves them until Ctrl-C; ``disruptsim exercise replay JOURNAL --out DIR``
    writes the after-action report of a recorded session. See docs/exercise.md.

    Exit status: 0 ok; 2 bad exercise file, journal or option.
    """
    from ..exercise import JournalError

    try:
        if target == "replay":
            _replay(journal, out, exercise_file, runs, force)
        else:
            if journal is not None:
                raise typer.BadParameter("a second argument is only taken after 'replay'")
            _console(Path(target), out, host, port, check, runs)
    except JournalError as error:
        typer.echo(terminal_text(error), err=True)
        raise typer.Exit(EXIT_INPUT) from None


def _replay(
    journal: Path | None, out: Path | None, exercise_file: Path | None, runs: int, force: bool
) -> None:
    from ..exercise import Exercise
    from ..results.io import check_output_dir

    if journal is None or out is None:
        raise typer.BadParameter("usage: disruptsim exercise replay JOURNAL --out DIR")
    check_output_dir(out, force)
    session = Exercise.replay(journal, exercise=exercise_file)
    path = session.report(out / REPORT_NAME, runs=runs)
    typer.echo(
        f"replayed {len(session.journal)} records of {journal}: identical to the recorded session"
    )
    typer.echo(f"wrote {path}")


def _console(file: Path, out: Path | None, host: str, port: int, check: bool, runs: int) -> None:
    from ..exercise import Exercise, load_exercise

    spec = load_exercise(file)
    f = spec.file
    typer.echo(
        f"{file}: valid ({f.turns} turns of {f.turn_days} days, {len(f.injects)} injects, {len(f.decisions)} decisions)"
    )
    if check:
        return
    from ..exercise.console import serve

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    folder = out if out is not None else Path("exercise-sessions") / f"{f.name}-{stamp}"
    from ..results.outdir import OutputWriteError, check_writable

    check_writable(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # e.g. a file of that name
        raise OutputWriteError(folder, error.strerror or str(error), error.errno) from None
    session = Exercise(spec, folder / f"{f.name}-{stamp}.journal.jsonl")
    try:
        serve(
            session,
            host,
            port,
            report_dir=folder,
            report_runs=runs,
            announce=lambda line: typer.echo(line),
        )
    except KeyboardInterrupt:
        typer.echo("stopped; the journal holds the whole session")
    except OSError as error:
        typer.echo(f"cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    finally:
        session.journal.close()
