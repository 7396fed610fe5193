"""Readers of bilateral trade files: BACI (CSV, compressed CSV, Parquet) and UN Comtrade bulk.

Files are streamed in batches with pyarrow and reduced at once to compact arrays (year,
exporter, importer, HS6, value, tonnes), so memory grows with the rows kept (26 bytes
a row), never with the text of the file. Every malformed row is an error naming the file,
the line (for Parquet: the row) and the column; see ``docs/screening.md``.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .columns import (
    BACI_COLUMNS,
    Chunks,
    Position,
    check_header,
    country_index,
    fail,
    integers,
    numbers,
    products_of,
    select,
)
from .comtrade import is_comtrade, read_comtrade
from .countries import ARGUMENTS, CountryTable
from .locate import first_bad_line, header_of

__all__ = ["BACI_COLUMNS", "TradeData", "read_trade"]

_BLOCK_BYTES = 1 << 24


@dataclass(frozen=True)
class TradeData:
    """Bilateral trade flows, one entry per (year, exporter, importer, product).

    Attributes
    ----------
    countries : tuple of str
        Country labels (ISO alpha-3 where known); ``exporter`` and ``importer`` index it.
    year, exporter, importer, product : numpy.ndarray
        Integer arrays of equal length; ``product`` is the HS6 code as an integer.
    value : numpy.ndarray
        Thousand US dollars.
    quantity : numpy.ndarray
        Tonnes; NaN where the file gives none.
    files : tuple of str
        The files read.
    """

    countries: tuple[str, ...]
    year: np.ndarray
    exporter: np.ndarray
    importer: np.ndarray
    product: np.ndarray
    value: np.ndarray
    quantity: np.ndarray
    files: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.value)


def parquet_names(path: Path, file: str) -> list[str]:
    """The column names of a Parquet file; an error naming the file if it is not one."""
    try:
        return pq.read_schema(path).names
    except pa.ArrowInvalid as error:
        raise fail(file, None, None, f"not a readable Parquet file ({error})") from None


def _baci_batches(
    path: Path, file: str, parquet: bool
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    if parquet:
        reader = pq.ParquetFile(path)
        header = reader.schema_arrow.names
        check_header(file, header, BACI_COLUMNS[:5])
        if reader.metadata.num_rows == 0:
            raise fail(file, None, None, "empty file: no trade rows")
        columns = [c for c in BACI_COLUMNS if c in header]
        return header, reader.iter_batches(batch_size=1 << 20, columns=columns)
    header = header_of(path, file)
    check_header(file, header, BACI_COLUMNS[:5])
    # q as text: BACI writes a missing quantity as a space-padded "NA", which Arrow's number
    # parser refuses. Text in t, i, j, k or v stops the reader; the line is then located.
    types = {
        "t": pa.int32(),
        "i": pa.int32(),
        "j": pa.int32(),
        "k": pa.int32(),  # leading zeros are not significant once a number
        "v": pa.float64(),
        "q": pa.string(),
    }
    present = [c for c in BACI_COLUMNS if c in header]
    convert = pacsv.ConvertOptions(
        column_types={c: types[c] for c in present},
        include_columns=present,
        null_values=[""],
        strings_can_be_null=True,
    )
    parse = pacsv.ParseOptions(ignore_empty_lines=False, newlines_in_values=False)
    read = pacsv.ReadOptions(block_size=_BLOCK_BYTES)
    return header, pacsv.open_csv(
        path, read_options=read, parse_options=parse, convert_options=convert
    )


def _read_baci(
    path: Path,
    table: CountryTable,
    chunks: Chunks,
    years: np.ndarray | None,
    products: np.ndarray | None,
) -> None:
    file = os.fspath(path)
    parquet = path.suffix.lower() in (".parquet", ".pq")
    header = parquet_names(path, file) if parquet else header_of(path, file)
    position = Position(file, header, parquet)
    try:
        _, batches = _baci_batches(path, file, parquet)
        for batch in batches:
            _baci_batch(batch, table, chunks, position, years, products)
            position.rows_before += batch.num_rows
    except pa.ArrowInvalid as error:
        if parquet:
            raise fail(file, None, None, f"unreadable Parquet data: {error}") from None
        raise first_bad_line(path, file, header, table, str(error)) from None
    if position.rows_before == 0:
        raise fail(file, 2, 1, "no trade rows after the header")


def _baci_batch(
    batch: pa.RecordBatch,
    table: CountryTable,
    chunks: Chunks,
    position: Position,
    years: np.ndarray | None,
    products: np.ndarray | None,
) -> None:
    cols = {name: batch.column(name) for name in batch.schema.names}
    year = integers(cols["t"], position, "t")
    product = products_of(cols["k"], position, "k")
    exporter = country_index(integers(cols["i"], position, "i"), table, position, "i")
    importer = country_index(integers(cols["j"], position, "j"), table, position, "j")
    value = numbers(cols["v"], position, "v", optional=False)
    if "q" in cols:
        quantity = numbers(cols["q"], position, "q", optional=True)
    else:
        quantity = np.full(len(year), np.nan)
    arrays = dict(
        year=year,
        exporter=exporter,
        importer=importer,
        product=product,
        value=value,
        quantity=quantity,
    )
    keep = select(year, product, years, products)
    if keep is not None:
        arrays = {name: array[keep] for name, array in arrays.items()}
    chunks.add(**arrays)


def _layout_of(path: Path, file: str) -> str:
    if path.suffix.lower() in (".parquet", ".pq"):
        names = parquet_names(path, file)
    else:
        names = header_of(path, file)
    return "comtrade" if is_comtrade(names) else "baci"


def read_trade(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    years: Collection[int] | None = None,
    products: Collection[int] | None = None,
    layout: str = "auto",
    country_codes: CountryTable | None = None,
) -> TradeData:
    """Read bilateral trade files into one :class:`TradeData`.

    Parameters
    ----------
    paths : path or iterable of paths
        BACI files (``.csv``, ``.csv.gz``/``.bz2``/``.zst``, ``.parquet``) or UN Comtrade
        bulk files (CSV with ``reporterCode``, ``partnerCode``, ``flowCode``, ``cmdCode``,
        ``primaryValue``...).
    years, products : collections of int, optional
        Keep only these years and HS6 codes (every row is still checked).
    layout : {"auto", "baci", "comtrade"}
        File layout; ``auto`` decides from each file's header.
    country_codes : CountryTable, optional
        Numeric code table; default :meth:`CountryTable.default`.

    Raises
    ------
    ScenarioError
        A malformed file: missing columns, text where a number belongs, an unknown country
        code, an empty file; the error names the file, the line and the column.
    OSError
        If a file cannot be read.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files = [Path(p) for p in paths]
    if not files:
        raise fail(ARGUMENTS, None, None, "no trade files given", "paths")
    if layout not in ("auto", "baci", "comtrade"):
        raise fail(
            ARGUMENTS,
            None,
            None,
            f"expected 'auto', 'baci' or 'comtrade', found {layout!r}",
            "layout",
        )
    table = country_codes or CountryTable.default()
    wanted_years = None if years is None else np.fromiter(years, dtype=np.int64)
    wanted_products = None if products is None else np.fromiter(products, dtype=np.int64)
    chunks = Chunks()
    comtrade_files = []
    for path in files:
        file = os.fspath(path)
        if not path.is_file():
            raise FileNotFoundError(2, "No such file", file)
        kind = _layout_of(path, file) if layout == "auto" else layout
        if kind == "comtrade":
            comtrade_files.append(path)
        else:
            _read_baci(path, table, chunks, wanted_years, wanted_products)
    if comtrade_files:
        read_comtrade(comtrade_files, table, chunks, wanted_years, wanted_products)
    arrays = chunks.joined()
    return TradeData(countries=table.labels, files=tuple(os.fspath(p) for p in files), **arrays)
