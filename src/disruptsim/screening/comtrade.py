"""Reader of UN Comtrade bulk files (reporter-declared flows), turned into BACI's convention.

A Comtrade row is declared by a reporter: an import (flow ``M``, legacy code 1) is a flow
from the partner to the reporter; an export (``X``, legacy 2) from the reporter to the
partner. The same flow is often declared twice (the importer's M and the exporter's X); the
import declaration is kept, as BACI does, and an export declaration only where no importer
declared the flow. Re-exports and re-imports (RX, RM, legacy 3 and 4), partner 'World' (0),
aggregate commodity codes (not six digits) and breakdown rows (by mode of transport, customs
procedure or second partner, when such columns are present) are left out, so nothing is
counted twice. Values are converted to thousand USD and net weight to tonnes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .columns import (
    Chunks,
    Position,
    check_header,
    country_index,
    fail,
    integers,
    numbers,
    select,
)
from .countries import CountryTable
from .locate import header_of

__all__ = ["ALIASES", "is_comtrade", "read_comtrade"]

ALIASES: dict[str, tuple[str, ...]] = {
    "year": ("refYear", "Year", "period", "Period"),
    "reporter": ("reporterCode", "Reporter Code"),
    "partner": ("partnerCode", "Partner Code"),
    "flow": ("flowCode", "Trade Flow Code"),
    "product": ("cmdCode", "Commodity Code"),
    "value": ("primaryValue", "Trade Value (US$)"),
    "weight": ("netWgt", "Netweight (kg)"),
}
"""Column names of the current bulk files and of the legacy bulk CSV, per field."""

_BREAKDOWNS = {"partner2Code": "0", "motCode": "0", "customsCode": "C00"}
"""Breakdown columns and the value of their 'all' rows (the only rows kept)."""

_IMPORT, _EXPORT = ("M", "1"), ("X", "2")


def is_comtrade(names: Sequence[str]) -> bool:
    """Whether a header is that of a UN Comtrade bulk file."""
    return any(n in names for n in ALIASES["reporter"]) and any(
        n in names for n in ALIASES["partner"]
    )


def _columns(file: str, header: list[str]) -> dict[str, str]:
    chosen = {}
    for field, names in ALIASES.items():
        name = next((n for n in names if n in header), None)
        if name is None and field != "weight":
            check_header(file, header, [names[0]])
        if name is not None:
            chosen[field] = name
    return chosen


def _read_table(path: Path, file: str) -> tuple[list[str], pa.Table, bool]:
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            table = pq.read_table(path)
        except pa.ArrowInvalid as error:
            raise fail(file, None, None, f"not a readable Parquet file ({error})") from None
        return table.schema.names, table, True
    header = header_of(path, file)
    names = _columns(file, header)
    wanted = [*names.values(), *(c for c in _BREAKDOWNS if c in header)]
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(wanted, pa.string()),
        include_columns=wanted,
        null_values=[""],
        strings_can_be_null=True,
    )
    parse = pacsv.ParseOptions(ignore_empty_lines=False, newlines_in_values=False)
    try:
        table = pacsv.read_csv(path, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as error:
        raise fail(file, None, None, f"unreadable CSV ({error})") from None
    return header, table, False


def _selected(table: pa.Table, names: dict[str, str]) -> np.ndarray:
    """Rows of plain goods flows: M or X, a partner other than World, an HS6 code, no breakdown."""

    def text(column: str) -> pa.ChunkedArray:
        return pc.utf8_trim_whitespace(pc.cast(table[column], pa.string()))

    keep = pc.is_in(text(names["flow"]), value_set=pa.array([*_IMPORT, *_EXPORT]))
    keep = pc.and_(keep, pc.not_equal(text(names["partner"]), "0"))
    keep = pc.and_(keep, pc.match_substring_regex(text(names["product"]), r"^[0-9]{6}$"))
    for column, everything in _BREAKDOWNS.items():
        if column in table.schema.names:
            keep = pc.and_(keep, pc.equal(text(column), everything))
    return np.flatnonzero(pc.fill_null(keep, False).to_numpy())


def _flows(
    table: pa.Table, names: dict[str, str], position: Position, codes: CountryTable
) -> dict[str, np.ndarray]:
    """The file's goods flows as BACI-convention arrays, plus whether each was declared
    by its importer."""
    rows = _selected(table, names)
    picked = table.take(pa.array(rows))
    at = _Subset(position, rows)

    def column(field: str) -> pa.Array:
        return picked[names[field]].combine_chunks()

    flow = pc.utf8_trim_whitespace(pc.cast(column("flow"), pa.string()))
    imports = np.asarray(pc.is_in(flow, value_set=pa.array(_IMPORT)).to_numpy(zero_copy_only=False))
    year = integers(column("year"), at, names["year"])
    year = np.where(year > 9999, year // 100, year)  # a monthly period YYYYMM -> its year
    reporter = country_index(
        integers(column("reporter"), at, names["reporter"]), codes, at, names["reporter"]
    )
    partner = country_index(
        integers(column("partner"), at, names["partner"]), codes, at, names["partner"]
    )
    value = numbers(column("value"), at, names["value"], optional=False) / 1000.0
    if "weight" in names:
        weight = numbers(column("weight"), at, names["weight"], optional=True) / 1000.0
    else:
        weight = np.full(len(rows), np.nan)
    product = pc.cast(pc.utf8_trim_whitespace(column("product")), pa.int32()).to_numpy()
    return {
        "year": year,
        "exporter": np.where(imports, partner, reporter),
        "importer": np.where(imports, reporter, partner),
        "product": product,
        "value": value,
        "quantity": weight,
        "declared_import": imports,
    }


class _Subset(Position):
    """Positions of a selection of a file's rows, reported as rows of the file."""

    def __init__(self, position: Position, rows: np.ndarray):
        super().__init__(position.file, position.columns, position.parquet)
        self.rows = rows

    def error(self, row: int, column: str, message: str):
        return super().error(int(self.rows[row]), column, message)


def read_comtrade(
    paths: Sequence[Path],
    codes: CountryTable,
    chunks: Chunks,
    years: np.ndarray | None,
    products: np.ndarray | None,
) -> None:
    """Read Comtrade bulk files into ``chunks`` (see the module's docstring for the rules)."""
    parts = []
    for path in paths:
        file = os.fspath(path)
        header, table, parquet = _read_table(path, file)
        names = _columns(file, header)
        if table.num_rows == 0:
            raise fail(
                file, 2 if not parquet else None, 1 if not parquet else None, "no trade rows"
            )
        parts.append(_flows(table, names, Position(file, header, parquet), codes))
    flows = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    key = (
        (flows["year"].astype(np.int64) * 1_000_000 + flows["product"]) * 1_000_000
        + flows["exporter"].astype(np.int64) * 1000
        + flows["importer"]
    )
    declared = flows.pop("declared_import")
    mirrored = ~declared & np.isin(key, key[declared])
    keep = ~mirrored
    chosen = select(flows["year"], flows["product"], years, products)
    if chosen is not None:
        keep &= chosen
    chunks.add(**{name: array[keep] for name, array in flows.items()})
