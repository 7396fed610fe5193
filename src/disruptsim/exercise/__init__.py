"""Exercise mode: table-top simulation exercises with a web console (``docs/exercise.md``).

:class:`Exercise` runs a session (realised path on the SimPy twin, look-aheads on the
numba kernel, an append-only journal); :func:`load_exercise` reads and checks an exercise
file; :mod:`disruptsim.exercise.aar` writes the after-action report and
:mod:`disruptsim.exercise.console` serves the facilitator's and participants' views.
"""

from .journal import Journal, JournalError, read_journal
from .loader import ExerciseSpec, load_exercise
from .lookahead import LookAhead, OptionOutcome
from .session import Exercise

__all__ = [
    "Exercise",
    "ExerciseSpec",
    "Journal",
    "JournalError",
    "LookAhead",
    "OptionOutcome",
    "load_exercise",
    "read_journal",
]
