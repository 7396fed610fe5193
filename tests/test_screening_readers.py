"""Trade readers: BACI as CSV, compressed CSV and Parquet, UN Comtrade bulk files, country
code tables, and the errors on malformed files (file, line and column named)."""

from __future__ import annotations

import bz2
import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import disruptsim as ds
from disruptsim.screening import SAMPLE_TRADE_FILE, CountryTable, read_country_codes, read_trade

HEADER = "t,i,j,k,v,q\n"


def write(tmp_path: Path, text: str, name: str = "trade.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, **kwargs) -> ds.ScenarioError:
    with pytest.raises(ds.ScenarioError) as caught:
        read_trade(path, **kwargs)
    return caught.value


def arrays(data) -> dict[str, np.ndarray]:
    return {
        n: getattr(data, n)
        for n in ("year", "exporter", "importer", "product", "value", "quantity")
    }


def same(a, b) -> None:
    for name, array in arrays(a).items():
        np.testing.assert_array_equal(array, arrays(b)[name], err_msg=name)


def test_sample_file_reads_with_codes_and_missing_quantity():
    data = read_trade(SAMPLE_TRADE_FILE)
    assert len(data) == 40
    labels = set(np.asarray(data.countries)[np.concatenate([data.exporter, data.importer])])
    # 842, 251, 699, 757, 579 and 490 are UN Comtrade codes that differ from ISO numeric.
    assert {"USA", "FRA", "IND", "CHE", "NOR", "TWN"} <= labels
    assert np.isnan(data.quantity).sum() == 1  # "         NA", as BACI writes it
    assert set(data.product) == {280461, 284690, 854140, 300490}


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".parquet"])
def test_compressed_and_parquet_read_the_same(tmp_path, suffix):
    plain = read_trade(SAMPLE_TRADE_FILE)
    target = tmp_path / f"trade{suffix}"
    raw = Path(SAMPLE_TRADE_FILE).read_bytes()
    if suffix == ".csv.gz":
        target.write_bytes(gzip.compress(raw))
    elif suffix == ".csv.bz2":
        target.write_bytes(bz2.compress(raw))
    else:
        frame = pd.read_csv(SAMPLE_TRADE_FILE, dtype={"k": str}, na_values=["         NA"])
        frame.to_parquet(target, index=False)
    same(read_trade(target), plain)


def test_years_and_products_filters(tmp_path):
    data = read_trade(SAMPLE_TRADE_FILE, years=[2022], products=[280461])
    assert set(data.year) == {2022} and set(data.product) == {280461}
    assert len(data) == 6


def test_leading_zeros_and_padding_of_hs_codes(tmp_path):
    path = write(tmp_path, HEADER + "2023,156,251,010121, 5.0,1\n2023,156,251,10122,5,1\n")
    assert list(read_trade(path).product) == [10121, 10122]


def comtrade_file(tmp_path: Path) -> Path:
    # France (251) declares imports from China (156) and Malaysia; China declares its export
    # to France (a mirror of France's declaration: dropped) and to Germany (276, which did
    # not declare: kept). Rows for partner World, an HS4 aggregate, a re-export and a
    # breakdown by mode of transport are left out.
    lines = [
        "refYear,reporterCode,flowCode,partnerCode,partner2Code,cmdCode,motCode,customsCode,primaryValue,netWgt",
        "2023,251,M,156,0,280461,0,C00,60000,30000",
        "2023,251,M,458,0,280461,0,C00,10000,",
        "2023,156,X,251,0,280461,0,C00,58000,29000",
        "2023,156,X,276,0,280461,0,C00,20000,8000",
        "2023,251,M,0,0,280461,0,C00,70000,30000",
        "2023,251,M,156,0,2804,0,C00,99999,1",
        "2023,251,RX,156,0,280461,0,C00,5000,1",
        "2023,251,M,156,0,280461,2100,C00,123,1",
    ]
    return write(tmp_path, "\n".join(lines) + "\n", "comtrade.csv")


def test_comtrade_bulk_becomes_baci_convention(tmp_path):
    data = read_trade(comtrade_file(tmp_path))
    labels = np.asarray(data.countries)
    flows = sorted(
        zip(labels[data.exporter], labels[data.importer], data.value, data.quantity, strict=True),
        key=lambda f: (f[0], f[1]),
    )
    assert [f[:3] for f in flows] == [
        ("CHN", "DEU", 20.0),
        ("CHN", "FRA", 60.0),
        ("MYS", "FRA", 10.0),
    ]
    assert flows[1][3] == 30.0 and np.isnan(flows[2][3])  # kg -> t; empty weight -> NaN
    table = ds.screen(comtrade_file(tmp_path))
    r = table.iloc[0]
    assert (r["product"], r["extra_imports"], r["top_supplier"]) == ("280461", 90.0, "CHN")


def test_comtrade_errors_name_line_and_column(tmp_path):
    path = comtrade_file(tmp_path)
    text = path.read_text().replace(
        "2023,251,M,458,0,280461,0,C00,10000,", "2023,251,M,458,0,280461,0,C00,ten,"
    )
    path.write_text(text)
    error = error_of(path)
    assert str(error) == f"{path}:3:9: primaryValue: expected a number, found 'ten'"


def test_baci_country_code_table(tmp_path):
    codes = write(
        tmp_path,
        "country_code,country_name,country_iso2,country_iso3\n"
        '156,China,CN,CHN\n251,France,FR,FRA\n490,"Other Asia, nes",N/A,S19\n999,Somewhere,XX,XXX\n',
        "country_codes.csv",
    )
    table = read_country_codes(codes)
    assert table.labels == ("CHN", "FRA", "TWN", "XXX")  # 490 -> TWN (UN Comtrade exception)
    path = write(tmp_path, HEADER + "2023,490,251,280461,5,1\n2023,999,251,280461,5,1\n")
    data = read_trade(path, country_codes=table)
    assert list(np.asarray(data.countries)[data.exporter]) == ["TWN", "XXX"]
    # Without the table, 999 is unknown.
    assert "unknown country code 999" in str(error_of(path))


def test_bad_country_code_table(tmp_path):
    codes = write(tmp_path, "country_code,country_iso3\n156,CHN\nabc,FRA\n", "codes.csv")
    with pytest.raises(ds.ScenarioError, match=r"codes.csv:3:1: country_code must be a number"):
        read_country_codes(codes)


# Malformed BACI files: (content, line, column, message).
MALFORMED = {
    "missing column": ("t,i,j,k,q\n2023,156,251,280461,1\n", 1, 1, "missing column 'v'"),
    "text in a number": (
        HEADER + "2023,156,251,280461,5,1\n2023,156,251,280461,abc,1\n",
        3,
        5,
        "v: expected a number, found 'abc'",
    ),
    "text in a quantity": (
        HEADER + "2023,156,251,280461,5,x\n",
        2,
        6,
        "q: expected a number, found 'x'",
    ),
    "text in a country": (
        HEADER + "2023,156,FR,280461,5,1\n",
        2,
        3,
        "j: expected a numeric country code, found 'FR'",
    ),
    "unknown country": (
        HEADER + "2023,156,251,280461,5,1\n2023,156,0,280461,5,1\n",
        3,
        3,
        "j: unknown country code 0",
    ),
    "bad product": (HEADER + "2023,156,251,2804611,5,1\n", 2, 4, "k: expected an HS6 product code"),
    "negative value": (
        HEADER + "2023,156,251,280461,-5,1\n",
        2,
        5,
        "v: expected a non-negative number",
    ),
    "missing value": (
        HEADER + "2023,156,251,280461,,1\n",
        2,
        5,
        "v: expected a number, found an empty value",
    ),
    "short row": (HEADER + "2023,156,251,280461,5,1\n2023,156,251\n", 3, 4, "expected 6 columns"),
    "blank line": (
        HEADER + "2023,156,251,280461,5,1\n\n2023,156,251,280461,5,1\n",
        3,
        1,
        "t: expected an integer, found an empty value",
    ),
    "empty file": ("", 1, 1, "empty file"),
    "header only": (HEADER, 2, 1, "no trade rows"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_files_name_file_line_and_column(tmp_path, case):
    text, line, column, message = MALFORMED[case]
    path = write(tmp_path, text)
    error = error_of(path)
    [problem] = error.problems
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)
    assert message in problem.message


def test_a_late_error_in_a_large_file_is_located(tmp_path):
    # Past the first batch of the streaming reader (16 MiB): the line is still exact.
    good = "2023,156,251,280461,5.25,1.5\n"
    count = 700_000
    path = tmp_path / "large.csv.gz"
    with gzip.open(path, "wt") as out:
        out.write(HEADER)
        out.write(good * count)
        out.write("2023,156,251,280461,5,1\n2023,156,999,280461,5,1\n")
    error = error_of(path)
    assert (
        str(error)
        == f"{path}:{count + 3}:3: j: unknown country code 999 (not in {CountryTable.default().source}; give BACI's country_codes file with --country-codes)"
    )


def test_parquet_errors_name_row_and_column(tmp_path):
    frame = pd.DataFrame(
        {
            "t": [2023, 2023],
            "i": [156, 156],
            "j": [251, 999],
            "k": ["280461", "280461"],
            "v": [1.0, 2.0],
            "q": [1.0, 1.0],
        }
    )
    path = tmp_path / "trade.parquet"
    frame.to_parquet(path, index=False)
    [problem] = error_of(path).problems
    assert (problem.file, problem.path) == (str(path), "row 2, column 'j'")
    frame = frame.assign(j=251, v=["1.0", "lots"])
    frame.to_parquet(path, index=False)
    [problem] = error_of(path).problems
    assert problem.path == "row 2, column 'v'" and "found 'lots'" in problem.message


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_trade(tmp_path / "absent.csv")


def test_copy_of_the_sample_keeps_its_indicators(tmp_path):
    copy = tmp_path / "copy.csv"
    shutil.copy(SAMPLE_TRADE_FILE, copy)
    pd.testing.assert_frame_equal(ds.screen(copy), ds.screen(SAMPLE_TRADE_FILE))


def test_byte_order_mark_and_windows_line_ends(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(
        b"\xef\xbb\xbft,i,j,k,v,q\r\n2023,156,842,280461,5,1\r\n2023,156,842,280461,x,1\r\n"
    )
    [problem] = error_of(path).problems
    assert (problem.line, problem.column) == (3, 5)
    path.write_bytes(b"\xef\xbb\xbft,i,j,k,v,q\r\n2023,156,842,280461,5,1\r\n")
    assert list(read_trade(path).value) == [5.0]
    # Nothing imported by the EU: an empty table, not an error.
    assert ds.screen(path).empty
    assert len(ds.screen(path, importer="USA")) == 1


def test_legacy_comtrade_layout(tmp_path):
    lines = [
        "Year,Trade Flow Code,Reporter Code,Partner Code,Commodity Code,Trade Value (US$),Netweight (kg)",
        "2019,1,251,156,280461,60000,30000",
        "2019,2,156,276,280461,20000,8000",
        "2019,3,251,156,280461,5000,1",
    ]
    path = write(tmp_path, "\n".join(lines) + "\n", "legacy.csv")
    data = read_trade(path)
    labels = np.asarray(data.countries)
    assert sorted(zip(labels[data.exporter], labels[data.importer], data.value, strict=True)) == [
        ("CHN", "DEU", 20.0),
        ("CHN", "FRA", 60.0),
    ]
    assert set(data.year) == {2019}


def test_a_file_that_is_not_parquet(tmp_path):
    path = write(tmp_path, "t,i,j,k,v,q\n", "trade.parquet")
    [problem] = error_of(path).problems
    assert problem.file == str(path) and "not a readable Parquet file" in problem.message
