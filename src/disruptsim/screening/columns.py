"""Column checks shared by the trade readers: each turns one column of a batch into a compact
NumPy array, or raises an error naming the file, the line (for Parquet: the row) and the column.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import Problem, ScenarioError
from ..scenario.bounds import MAX_MAGNITUDE
from ..scenario.messages import format_number
from .countries import CountryTable

__all__ = [
    "BACI_COLUMNS",
    "FIELDS",
    "check_header",
    "select",
    "Chunks",
    "Position",
    "country_index",
    "fail",
    "integers",
    "numbers",
    "products_of",
]

_HS6 = r"^\s*[0-9]{1,6}\s*$"
_INTEGER = r"^\s*[0-9]+\s*$"
_NUMBER = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_MISSING = ("", "NA", "N/A", "NaN", "nan", "null")

BACI_COLUMNS = ("t", "i", "j", "k", "v", "q")
"""BACI's columns: year, exporter, importer, HS6 product, value (thousand USD), tonnes."""

FIELDS = {
    "year": np.int16,
    "exporter": np.int16,
    "importer": np.int16,
    "product": np.int32,
    "value": np.float64,
    "quantity": np.float64,
}
"""The compact arrays a reader produces, with their dtypes."""


class Chunks:
    """Compact arrays collected batch by batch."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {n: [] for n in FIELDS}

    def add(self, **arrays: np.ndarray) -> None:
        for name, dtype in FIELDS.items():
            self.parts[name].append(np.asarray(arrays[name], dtype=dtype))

    def joined(self) -> dict[str, np.ndarray]:
        return {
            n: (np.concatenate(p) if p else np.empty(0, dtype=FIELDS[n]))
            for n, p in self.parts.items()
        }


def fail(
    file: str | None, line: int | None, column: int | None, message: str, where: str = ""
) -> ScenarioError:
    """A one-problem error."""
    return ScenarioError(Problem(file, line, column, where, message))


def _first(mask: pa.Array | np.ndarray) -> int:
    """Index of the first true entry of a boolean mask."""
    if isinstance(mask, pa.Array | pa.ChunkedArray):
        mask = mask.to_numpy(zero_copy_only=False)
    return int(np.flatnonzero(np.asarray(mask))[0])


class Position:
    """Turns a row of the current batch into the position shown to the user.

    ``rows_before`` counts the data rows of earlier batches. CSV rows are one line each
    (the readers refuse newlines inside values), the header on line 1.
    """

    def __init__(self, file: str, columns: list[str], parquet: bool):
        self.file, self.columns, self.parquet = file, columns, parquet
        self.rows_before = 0

    def error(self, row: int, column: str, message: str) -> ScenarioError:
        number = self.rows_before + row + 1
        if self.parquet:
            return fail(self.file, None, None, message, f"row {number}, column {column!r}")
        return fail(self.file, number + 1, self.columns.index(column) + 1, f"{column}: {message}")


def _as_text(values: pa.Array) -> pa.Array:
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def numbers(values: pa.Array, position: Position, column: str, optional: bool) -> np.ndarray:
    """Non-negative floats; where ``optional``, missing markers (``NA``, empty) give NaN."""
    if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
        if not optional and values.null_count:
            row = _first(pc.is_null(values))
            raise position.error(row, column, "expected a number, found an empty value")
        array = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    else:
        text = pc.utf8_trim_whitespace(_as_text(values))
        missing = pc.or_kleene(pc.is_null(text), pc.is_in(text, value_set=pa.array(_MISSING)))
        missing = pc.fill_null(missing, True)
        if not optional and pc.any(missing).as_py():
            row = _first(missing)
            raise position.error(row, column, "expected a number, found an empty value")
        try:
            array = pc.cast(pc.if_else(missing, None, text), pa.float64())
        except pa.ArrowInvalid:
            # Only now look for the offending cell (a regular expression is slower than the cast).
            valid = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
            bad = pc.and_not(pc.invert(valid), missing)
            if not pc.any(bad).as_py():  # pragma: no cover - Arrow and the pattern disagree
                raise
            row = _first(bad)
            raise position.error(
                row, column, f"expected a number, found {values[row].as_py()!r}"
            ) from None
        array = array.to_numpy(zero_copy_only=False)
    bad = (array < 0) | np.isinf(array)
    if bad.any():
        row = _first(bad)
        found = format_number(float(array[row]))
        raise position.error(row, column, f"expected a non-negative number, found {found}")
    huge = array > MAX_MAGNITUDE  # NaN (missing) compares False
    if huge.any():
        row = _first(huge)
        raise position.error(
            row,
            column,
            f"expected a number of size at most {MAX_MAGNITUDE:g}, found "
            f"{format_number(float(array[row]))}: larger values overflow the sums of trade",
        )
    return array


def products_of(values: pa.Array, position: Position, column: str) -> np.ndarray:
    """HS6 codes as integers (leading zeros are not significant once read as a number)."""
    if pa.types.is_integer(values.type) and not values.null_count:
        array = values.to_numpy()
        bad = (array < 0) | (array > 999_999)
    else:
        text = _as_text(values)
        valid = pc.fill_null(pc.match_substring_regex(text, _HS6), False)
        if pc.all(valid).as_py():
            return pc.cast(pc.utf8_trim_whitespace(text), pa.int32()).to_numpy()
        bad = pc.invert(valid).to_numpy(zero_copy_only=False)
    if bad.any():
        row = _first(bad)
        found = values[row].as_py()
        raise position.error(
            row, column, f"expected an HS6 product code (up to 6 digits), found {found!r}"
        )
    return array


def integers(values: pa.Array, position: Position, column: str) -> np.ndarray:
    """Non-negative integers (years, numeric country codes)."""
    if values.null_count:
        row = _first(pc.is_null(values))
        raise position.error(row, column, "expected an integer, found an empty value")
    if pa.types.is_integer(values.type):
        array = values.to_numpy()
        if (array < 0).any():
            row = _first(array < 0)
            raise position.error(
                row, column, f"expected a non-negative integer, found {array[row]}"
            )
        return array
    text = _as_text(values)
    valid = pc.fill_null(pc.match_substring_regex(text, _INTEGER), False)
    if not pc.all(valid).as_py():
        row = _first(pc.invert(valid))
        raise position.error(row, column, f"expected an integer, found {text[row].as_py()!r}")
    return pc.cast(pc.utf8_trim_whitespace(text), pa.int64()).to_numpy()


def country_index(
    codes: np.ndarray, table: CountryTable, position: Position, column: str
) -> np.ndarray:
    """Label indices of numeric country codes; an unknown code is an error."""
    index = table.lookup(codes)
    unknown = index < 0
    if unknown.any():
        row = _first(unknown)
        raise position.error(
            row,
            column,
            f"unknown country code {int(codes[row])} (not in {table.source}; "
            "give BACI's country_codes file with --country-codes)",
        )
    return index


def check_header(file: str, header: list[str], required: Iterable[str]) -> None:
    """Raise an error at line 1 if any required column is missing."""
    missing = [c for c in required if c not in header]
    if missing:
        raise fail(
            file,
            1,
            1,
            f"missing column{'s' * (len(missing) > 1)} {', '.join(repr(c) for c in missing)}: "
            f"expected the BACI layout {','.join(BACI_COLUMNS)} or a UN Comtrade bulk file; "
            f"found {','.join(header) or 'no columns'}",
        )


def select(
    year: np.ndarray, product: np.ndarray, years: np.ndarray | None, products: np.ndarray | None
) -> np.ndarray | None:
    """Mask of the rows within ``years`` and ``products`` (None: keep all)."""
    if years is None and products is None:
        return None
    keep = np.ones(len(year), dtype=bool)
    if years is not None:
        keep &= np.isin(year, years)
    if products is not None:
        keep &= np.isin(product, products)
    return keep
