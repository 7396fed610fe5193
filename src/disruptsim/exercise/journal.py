"""The exercise journal: an append-only file of JSON lines, one per thing that happened.

Each line is one record (``start``, ``advance``, ``inject``, ``decide``, ``lookahead``,
``note``, ``finish``) with the simulated day and the wall-clock time. Every record is
written, flushed and fsynced before the call that made it returns, so a crash or a
closed laptop loses nothing that was recorded. :meth:`disruptsim.Exercise.replay`
reads a journal back (``docs/exercise.md``, "Journal").
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "Journal", "JournalError", "read_journal"]

KINDS = ("start", "advance", "inject", "decide", "lookahead", "note", "finish")
"""Record kinds, in the ``kind`` field of every line."""


class JournalError(ValueError):
    """A journal cannot be read or replayed (the message says which line and why)."""


class Journal:
    """The records of a session, kept in memory and, with a path, appended to a file.

    Parameters
    ----------
    path : str or path-like, optional
        The file to append to (created if missing; its folder must exist). An existing
        file is never truncated: a new session refuses a file that holds records.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = None if path is None else Path(path)
        self.records: list[dict[str, Any]] = []
        self._stream = None
        if self.path is not None:
            if self.path.exists() and self.path.stat().st_size > 0:
                raise JournalError(
                    f"{self.path}: the journal already holds a session; choose a new file "
                    "(a journal is never overwritten)"
                )
            self._stream = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Record one event; with a file, the line is on disk when this returns."""
        if kind not in KINDS:
            raise ValueError(f"unknown journal record kind {kind!r}")
        record = {
            "kind": kind,
            **fields,
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        line = json.dumps(record, sort_keys=True, allow_nan=False, ensure_ascii=True)
        self.records.append(json.loads(line))
        if self._stream is not None:
            self._stream.write(line + "\n")
            self._stream.flush()
            os.fsync(self._stream.fileno())
        return record

    def close(self) -> None:
        """Close the file (records stay readable in :attr:`records`)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)


def read_journal(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], bool]:
    """Read a journal's records.

    A last line without its newline (the process was killed while writing it) is
    dropped; any other unreadable line is an error.

    Returns
    -------
    (records, truncated) : tuple
        The records, and whether a partial last line was dropped.

    Raises
    ------
    JournalError
        A line is not a JSON record, or the first record is not ``start``.
    OSError
        If the file cannot be read.
    """
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    truncated = lines[-1] != ""  # the last record was being written when the process died
    lines = lines[:-1]
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise JournalError(f"{path}:{number}: not a journal record ({error.msg})") from None
        if not isinstance(record, dict) or record.get("kind") not in KINDS:
            raise JournalError(
                f"{path}:{number}: expected a record with a kind among {', '.join(KINDS)}"
            )
        records.append(record)
    if not records or records[0]["kind"] != "start":
        raise JournalError(f"{path}:1: a journal starts with a start record")
    return records, truncated
