"""Finding the first malformed line of a CSV trade file, when the fast reader refuses it.

Arrow's streaming CSV reader says *that* a value is wrong but not on which line; this module
reads the file again with the standard ``csv`` module, only on that error path, and names
the first offending line and column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pyarrow as pa

from ..errors import Problem, ScenarioError
from .countries import CountryTable

__all__ = ["first_bad_line", "header_of", "open_text"]

_MISSING = {"", "NA", "N/A", "NaN", "nan", "null"}
_HS6 = re.compile(r"\s*[0-9]{1,6}\s*")
_INTEGER = re.compile(r"\s*[0-9]+\s*")


def open_text(path: Path) -> io.TextIOWrapper:
    """The decompressed text of a file (compression detected from the file name)."""
    stream = pa.input_stream(str(path), compression="detect")
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")


def header_of(path: Path, file: str) -> list[str]:
    """The column names on the first line of a CSV file.

    Raises
    ------
    ScenarioError
        If the file is empty.
    """
    with open_text(path) as text:
        first = text.readline()
    if not first.strip():
        raise ScenarioError(
            Problem(file, 1, 1, "", "empty file: expected a header line such as t,i,j,k,v,q")
        )
    return [name.strip() for name in next(csv.reader([first]))]


def _number(cell: str, optional: bool) -> str | None:
    """Why a cell is not a valid non-negative number (None: it is)."""
    text = cell.strip()
    if text in _MISSING:
        return None if optional else "expected a number, found an empty value"
    try:
        value = float(text)
    except ValueError:
        return f"expected a number, found {cell!r}"
    if not math.isfinite(value) or value < 0:
        return f"expected a non-negative number, found {cell!r}"
    return None


def _check(name: str, cell: str, table: CountryTable) -> str | None:
    """Why one BACI cell is malformed (None: it is fine)."""
    if name == "t":
        return None if _INTEGER.fullmatch(cell) else f"expected a year, found {cell!r}"
    if name in ("i", "j"):
        if not _INTEGER.fullmatch(cell):
            return f"expected a numeric country code, found {cell!r}"
        if not table.known(int(cell)):
            return f"unknown country code {int(cell)} (not in {table.source})"
        return None
    if name == "k":
        return (
            None
            if _HS6.fullmatch(cell)
            else f"expected an HS6 product code (up to 6 digits), found {cell!r}"
        )
    if name in ("v", "q"):
        return _number(cell, optional=name == "q")
    return None


def first_bad_line(
    path: Path, file: str, header: list[str], table: CountryTable, reason: str
) -> ScenarioError:
    """The error for the first malformed line of a BACI CSV file.

    ``reason`` (the fast reader's message) is used only if no line is found wrong.
    """
    checked = {name: n for n, name in enumerate(header) if name in ("t", "i", "j", "k", "v", "q")}
    with open_text(path) as text:
        reader = csv.reader(text)
        next(reader, None)
        line = reader.line_num
        for row in reader:
            start, line = line + 1, reader.line_num
            if line != start:
                return ScenarioError(
                    Problem(
                        file, start, 1, "", "a value spans several lines; one line per row expected"
                    )
                )
            if len(row) != len(header):
                column = min(len(row), len(header)) + 1
                return ScenarioError(
                    Problem(
                        file,
                        line,
                        column,
                        "",
                        f"expected {len(header)} columns ({','.join(header)}), found {len(row)}",
                    )
                )
            for name, n in checked.items():
                why = _check(name, row[n], table)
                if why is not None:
                    return ScenarioError(Problem(file, line, n + 1, "", f"{name}: {why}"))
    return ScenarioError(Problem(file, None, None, "", f"unreadable CSV: {reason}"))
