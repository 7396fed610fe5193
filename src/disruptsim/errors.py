"""Exceptions raised by disruptsim.

Every error about a user's input is a :class:`ScenarioError` (a :class:`ValueError`)
holding one :class:`Problem` per thing that is wrong, each with the file, line, column
and key path it is about, so that all of them can be fixed in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ArgumentError", "Problem", "ScenarioError"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, and where.

    Attributes
    ----------
    file : str or None
        File the problem is in; None when the scenario was given as a mapping.
    line, column : int or None
        1-based position in the file; None when unknown (e.g. a mapping).
    path : str
        Dotted key path of the offending entry, e.g. ``products.pv_modules.sources``
        (list items as ``hazards[0]``); empty for the document as a whole.
    message : str
        What was expected and what was found.
    """

    file: str | None
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.file is not None else "<mapping>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [where]
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)


class ScenarioError(ValueError):
    """A scenario is invalid; :attr:`problems` lists everything that is wrong.

    ``str(error)`` gives one problem per line, as ``file:line:col: key.path: message``.
    """

    def __init__(self, problems: Problem | Iterable[Problem]):
        if isinstance(problems, Problem):
            problems = (problems,)
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):
        # Pickle by problems (the default would re-create the error from its text).
        return (type(self), (self.problems,))


class ArgumentError(ValueError):
    """A bad argument to :func:`disruptsim.simulate` (the ``disruptsim run`` command
    reports it as a bad option, exit status 2).

    Attributes
    ----------
    argument : str
        The parameter's name (``runs``, ``threads``, ``backend`` ...).
    """

    def __init__(self, argument: str, message: str):
        self.argument = argument
        super().__init__(message)

    def __reduce__(self):
        return (type(self), (self.argument, str(self)))
