"""Country codes of trade statistics and the blocs screened as one importer.

BACI and UN Comtrade identify countries by the UN Comtrade numeric code, which is the
ISO 3166-1 numeric code except for a few countries that matter (:data:`COMTRADE_EXCEPTIONS`).
A :class:`CountryTable` maps those numeric codes to the ISO alpha-3 codes that scenarios use;
it is built from pycountry plus the exceptions, or from BACI's own ``country_codes`` file
when the user gives it (see ``docs/screening.md``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pycountry

from ..errors import Problem, ScenarioError

__all__ = [
    "ARGUMENTS",
    "BLOCS",
    "COMTRADE_EXCEPTIONS",
    "EU27",
    "CountryTable",
    "bloc_members",
    "read_country_codes",
]

COMTRADE_EXCEPTIONS: Mapping[int, str] = {
    842: "USA",  # ISO 840
    251: "FRA",  # ISO 250 (Comtrade 251 includes Monaco)
    699: "IND",  # ISO 356
    757: "CHE",  # ISO 756 (Comtrade 757 includes Liechtenstein)
    579: "NOR",  # ISO 578 (Comtrade 579 includes Svalbard and Jan Mayen)
    490: "TWN",  # 'Other Asia, nes': Taiwan in practice (ISO 158)
    280: "DEU",  # 'Fed. Rep. of Germany' in years before 1991
}
"""UN Comtrade numeric codes that differ from ISO 3166-1 numeric, with their alpha-3 code."""

EU27: frozenset[str] = frozenset(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD "
    "POL PRT ROU SVK SVN ESP SWE".split()
)
"""The 27 member states of the European Union, valid from 1 February 2020 (the United
Kingdom left on 31 January 2020; Croatia joined on 1 July 2013). The screening applies
this composition to every year it reads, as the Commission's screenings do."""

BLOCS: Mapping[str, frozenset[str]] = {"EU27": EU27}
"""Importers screened as the sum of their members, trade between members excluded."""

ARGUMENTS = "<arguments>"
"""The ``file`` of a problem with an argument of a function or command (no file involved)."""

_ISO_ALPHA3 = frozenset(c.alpha_3 for c in pycountry.countries)
_NUMERIC_LIMIT = 1000  # numeric country codes have at most three digits


def bloc_members(importer: str) -> frozenset[str]:
    """The alpha-3 codes that make up ``importer``: a bloc's members, or the country itself.

    Raises
    ------
    ScenarioError
        If ``importer`` is neither a bloc of :data:`BLOCS` nor an ISO 3166 alpha-3 code.
    """
    if importer in BLOCS:
        return BLOCS[importer]
    if importer in _ISO_ALPHA3:
        return frozenset({importer})
    raise ScenarioError(
        Problem(
            ARGUMENTS,
            None,
            None,
            "importer",
            f"unknown importer {importer!r}: expected a bloc ({', '.join(sorted(BLOCS))}) "
            "or an ISO 3166 alpha-3 country code such as 'USA'",
        )
    )


@dataclass(frozen=True)
class CountryTable:
    """Numeric country codes -> alpha-3 labels.

    Attributes
    ----------
    labels : tuple of str
        Distinct labels (alpha-3 codes, or the table's own code for non-countries); a
        numeric code is turned into an index into this tuple.
    index : numpy.ndarray
        ``index[code]`` is the label index of numeric code ``code`` (0-999), -1 if unknown.
    source : str
        Where the table comes from, for messages and the screening page.
    """

    labels: tuple[str, ...]
    index: np.ndarray
    source: str

    @classmethod
    def from_mapping(cls, codes: Mapping[int, str], source: str) -> CountryTable:
        labels = tuple(sorted(set(codes.values())))
        position = {label: n for n, label in enumerate(labels)}
        index = np.full(_NUMERIC_LIMIT, -1, dtype=np.int16)
        for code, label in codes.items():
            index[code] = position[label]
        return cls(labels, index, source)

    @classmethod
    def default(cls) -> CountryTable:
        """ISO 3166-1 numeric codes (pycountry) plus :data:`COMTRADE_EXCEPTIONS`."""
        codes = {int(c.numeric): c.alpha_3 for c in pycountry.countries}
        codes.update(COMTRADE_EXCEPTIONS)
        return cls.from_mapping(codes, "ISO 3166-1 numeric (pycountry) and UN Comtrade exceptions")

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """Label indices of numeric codes; -1 where a code is unknown or out of range."""
        codes = np.asarray(codes, dtype=np.int64)
        inside = (codes >= 0) & (codes < _NUMERIC_LIMIT)
        out = np.full(codes.shape, -1, dtype=np.int16)
        out[inside] = self.index[codes[inside]]
        return out

    def known(self, code: int) -> bool:
        return 0 <= code < _NUMERIC_LIMIT and self.index[code] >= 0

    def is_iso(self, label: str) -> bool:
        """Whether a label is an ISO 3166 alpha-3 country code (usable in a scenario)."""
        return label in _ISO_ALPHA3


_CODE_COLUMNS = ("country_code",)
_ISO3_COLUMNS = ("country_iso3", "iso_3digit_alpha", "iso3")


def read_country_codes(path: str | Path) -> CountryTable:
    """Read BACI's ``country_codes_V*.csv`` (numeric code -> ISO alpha-3).

    Both layouts BACI has used are accepted: ``country_code, country_name, country_iso2,
    country_iso3`` and ``country_code, ..., iso_2digit_alpha, iso_3digit_alpha``. Where the
    table's alpha-3 entry is not an ISO code (BACI labels a few groupings its own way) and the
    numeric code is one of :data:`COMTRADE_EXCEPTIONS`, the exception's ISO code is used.

    Raises
    ------
    ScenarioError
        With file, line and column of the first malformed entry.
    OSError
        If the file cannot be read.
    """
    name = str(path)
    raw = Path(path).read_bytes()
    text = raw.decode("utf-8-sig", errors="replace")

    def fail(line: int, column: int | None, message: str) -> ScenarioError:
        return ScenarioError(Problem(name, line, column, "", message))

    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise fail(1, 1, "empty file: expected a header with country_code and country_iso3")
    header = [h.strip().lower() for h in rows[0]]
    code_col = next((header.index(c) for c in _CODE_COLUMNS if c in header), None)
    iso_col = next((header.index(c) for c in _ISO3_COLUMNS if c in header), None)
    if code_col is None or iso_col is None:
        raise fail(1, 1, f"expected columns country_code and country_iso3, found {header}")
    codes: dict[int, str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(code_col, iso_col):
            raise fail(line, len(row) + 1, f"expected {len(header)} columns, found {len(row)}")
        cell = row[code_col].strip()
        if not cell.isdigit() or int(cell) >= _NUMERIC_LIMIT:
            raise fail(line, code_col + 1, f"country_code must be a number 0-999, found {cell!r}")
        label = row[iso_col].strip().upper()
        code = int(cell)
        if label not in _ISO_ALPHA3 and code in COMTRADE_EXCEPTIONS:
            label = COMTRADE_EXCEPTIONS[code]
        if not label or label == "NA":
            label = f"C{code:03d}"
        codes[code] = label
    if not codes:
        raise fail(2, 1, "no country codes in the table")
    return CountryTable.from_mapping(codes, name)
