"""The shipped example scenarios, installed with the package.

A wheel carries the repository's ``scenarios/*.yaml`` as ``disruptsim/_scenarios/``
(``pyproject.toml``, hatch ``force-include``); in a source checkout they are read from
``scenarios/`` at the repository root. Either way::

    >>> import disruptsim as ds
    >>> ds.examples.names()  # doctest: +SKIP
    ('example-minimal', 'generic-antibiotics', ..., 'solar-pv', ...)
    >>> result = ds.simulate(ds.examples.path("solar-pv"), runs=1000)  # doctest: +SKIP

``disruptsim examples`` lists them and ``disruptsim examples --copy DIR`` copies them to
a directory of your own (see ``docs/cli.md``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["copy", "directory", "names", "path"]

_PACKAGED = Path(__file__).resolve().parent / "_scenarios"
_CHECKOUT = Path(__file__).resolve().parents[2] / "scenarios"


def directory() -> Path:
    """The directory holding the shipped scenario files.

    Raises
    ------
    FileNotFoundError
        Neither the installed copy nor a checkout's ``scenarios/`` exists (a broken
        installation).
    """
    for candidate in (_PACKAGED, _CHECKOUT):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise FileNotFoundError(
        f"no shipped scenarios found (looked in {_PACKAGED} and {_CHECKOUT}); reinstall disruptsim"
    )


def names() -> tuple[str, ...]:
    """Names of the shipped scenarios (file stems), sorted."""
    return tuple(sorted(p.stem for p in directory().glob("*.yaml")))


def path(name: str) -> Path:
    """The file of one shipped scenario.

    Parameters
    ----------
    name : str
        A name from :func:`names` (``"solar-pv"``; a trailing ``.yaml`` is accepted).

    Returns
    -------
    Path

    Raises
    ------
    KeyError
        No shipped scenario has that name (the message lists them).
    """
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    file = directory() / f"{stem}.yaml"
    if stem not in names():
        raise KeyError(f"no shipped scenario {name!r}; shipped: {', '.join(names())}")
    return file


def copy(destination: str | Path, which: Sequence[str] | None = None) -> list[Path]:
    """Copy shipped scenarios into a directory, never overwriting a file.

    A file that is already there with the same content is left as it is (so copying
    twice, or into a checkout's ``scenarios/``, does nothing); one with other content
    stops the copy before anything is written.

    Parameters
    ----------
    destination : str or Path
        Directory to copy into (created if missing).
    which : sequence of str, optional
        Names to copy (default: all).

    Returns
    -------
    list of Path
        The files written (not those already there with the same content).

    Raises
    ------
    FileExistsError
        A file of that name but other content exists in ``destination``; nothing is
        written.
    KeyError
        An unknown name.
    """
    sources = [path(n) for n in (names() if which is None else which)]
    target = Path(destination)
    existing = [s for s in sources if (target / s.name).exists()]
    differ = [s for s in existing if (target / s.name).read_bytes() != s.read_bytes()]
    if differ:
        raise FileExistsError(
            f"{target / differ[0].name}: exists with other content; not overwritten "
            "(copy into another directory)"
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        if source in existing:
            continue  # the same content is already there
        final = target / source.name
        fd, tmp = tempfile.mkstemp(prefix=f".{source.name}.", dir=target)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(source.read_bytes())
            os.link(tmp, final)  # fails rather than overwrite a file created meanwhile
        finally:
            os.unlink(tmp)
        written.append(final)
    return written
