"""``disruptsim.screen``: trade files in, ranked table of dependencies out."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..errors import Problem, ScenarioError
from .countries import ARGUMENTS, CountryTable, bloc_members, read_country_codes
from .indicators import indicators
from .output import table_writer, write_all
from .page import screening_page
from .readers import read_trade

__all__ = ["country_table", "parse_years", "rank", "screen"]

Years = int | str | Iterable[int] | None


def parse_years(years: Years) -> list[int] | None:
    """Years from ``2023``, ``"2021-2023"``, ``"2019,2021"`` or a list; None means all.

    Raises
    ------
    ScenarioError
        If the text is not a year, a range or a comma-separated list of years.
    """
    if years is None:
        return None
    if isinstance(years, int):
        return [years]
    if isinstance(years, str):
        text = years.strip()
        match = re.fullmatch(r"(\d{4})\s*-\s*(\d{4})", text)
        if match:
            first, last = int(match.group(1)), int(match.group(2))
            if first <= last:
                return list(range(first, last + 1))
        elif re.fullmatch(r"\d{4}(\s*,\s*\d{4})*", text):
            return sorted({int(y) for y in text.split(",")})
        raise ScenarioError(
            Problem(
                ARGUMENTS,
                None,
                None,
                "years",
                f"expected a year, a range such as 2021-2023 or a list such as 2019,2021; found {years!r}",
            )
        )
    out = sorted({int(y) for y in years})
    return out or None


def rank(table: pd.DataFrame) -> pd.DataFrame:
    """Order a screening table and number its products within each year (1: most at risk).

    The order: more flags first (EU 2021, GeoDep, CRMA 65%), then the larger effective top
    share, the larger HHI of extra imports, the larger extra imports, the HS6 code.
    """
    flags = (
        table["flag_eu2021"].astype(int)
        + table["flag_geodep"].astype(int)
        + table["flag_crma65"].astype(int)
    )
    ordered = table.assign(_flags=flags).sort_values(
        ["year", "_flags", "effective_top_share", "hhi_extra", "extra_imports", "product"],
        ascending=[True, False, False, False, False, True],
        kind="stable",
    )
    ordered = ordered.drop(columns="_flags").reset_index(drop=True)
    ordered.insert(0, "rank", ordered.groupby("year").cumcount() + 1)
    return ordered


def country_table(country_codes: str | os.PathLike[str] | CountryTable | None) -> CountryTable:
    """The code table to use: the default, a given table, or BACI's file at a path."""
    if country_codes is None:
        return CountryTable.default()
    if isinstance(country_codes, CountryTable):
        return country_codes
    return read_country_codes(country_codes)


def screen(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    importer: str = "EU27",
    years: Years = None,
    *,
    layout: str = "auto",
    country_codes: str | os.PathLike[str] | CountryTable | None = None,
    out: str | os.PathLike[str] | None = None,
    html: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> pd.DataFrame:
    """Screen bilateral trade data for the import dependencies of ``importer``.

    Parameters
    ----------
    paths : path or iterable of paths
        Trade files in the BACI layout (``t,i,j,k,v,q``; CSV, compressed CSV or Parquet) or
        UN Comtrade bulk files; see ``docs/screening.md``.
    importer : str
        A bloc (``"EU27"``: its members summed, trade between them excluded) or an ISO
        3166 alpha-3 country code.
    years : int, str or iterable of int, optional
        ``2023``, ``"2021-2023"``, ``"2019,2021"`` or a list; default every year in the files.
        GeoDep's flag needs the two years before each year screened to be read too.
    layout : {"auto", "baci", "comtrade"}
        File layout; ``auto`` decides from each file's header.
    country_codes : path or CountryTable, optional
        BACI's ``country_codes_V*.csv``; default ISO 3166 numeric codes with the UN Comtrade
        exceptions (842 USA, 251 France, 699 India, 757 Switzerland, 579 Norway, 490 Taiwan).
    out : path, optional
        Write the ranked table there: ``.csv`` or ``.parquet``.
    html : path, optional
        Write the screening page there (self-contained HTML).
    force : bool
        Replace existing output files.

    Returns
    -------
    pandas.DataFrame
        One row per (year, product) imported from outside ``importer``, ranked within each
        year; the columns are described in ``docs/screening.md``.

    Raises
    ------
    ScenarioError
        A malformed trade or country-code file (file, line and column named), an unknown
        importer, bad years, or an output file that exists without ``force``.
    OSError
        If a file cannot be read or written.
    """
    bloc_members(importer)  # an unknown importer fails before any file is read
    table_of_codes = country_table(country_codes)
    wanted = parse_years(years)
    data = read_trade(paths, years=wanted, layout=layout, country_codes=table_of_codes)
    if wanted is not None and len(data) == 0:
        raise ScenarioError(
            Problem(
                ARGUMENTS,
                None,
                None,
                "years",
                f"no trade rows for the years {wanted} in {', '.join(data.files)}",
            )
        )
    table = rank(indicators(data, importer))
    targets = {}
    if out is not None:
        targets[Path(out)] = table_writer(table, Path(out))
    if html is not None:
        text = screening_page(table, importer, data.files, table_of_codes.source)
        targets[Path(html)] = lambda path: path.write_text(text, encoding="utf-8")
    if targets:
        write_all(targets, force=force)
    return table
