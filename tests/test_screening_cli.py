"""``disruptsim screen`` and ``disruptsim draft``: outputs, exit codes, error messages, and
that nothing partial is written; the screening page and CSV escape text from the data."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

import disruptsim as ds
from disruptsim import cli
from disruptsim.screening import SAMPLE_TRADE_FILE

runner = CliRunner()
SAMPLE = str(SAMPLE_TRADE_FILE)


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args])


def test_screen_writes_table_and_page(tmp_path):
    out, page = tmp_path / "screen.csv", tmp_path / "screen.html"
    result = invoke("screen", SAMPLE, "--years", "2021-2023", "--out", out, "--html", page)
    assert result.exit_code == 0, result.output
    assert "3 of 4 products flagged" in result.stdout
    table = pd.read_csv(out, dtype={"product": str})
    pd.testing.assert_frame_equal(table, ds.screen(SAMPLE), check_dtype=False)
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.count("data:image/png;base64,") == 2
    assert "854140" in text and "src='http" not in text  # self-contained


def test_screen_parquet_output(tmp_path):
    out = tmp_path / "screen.parquet"
    assert invoke("screen", SAMPLE, "--out", out, "--top", "0").exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out), ds.screen(SAMPLE))


MALFORMED = {
    "missing columns": ("t,i,j,k\n2023,156,251,280461\n", ":1:1: missing column 'v'"),
    "text in numbers": (
        "t,i,j,k,v,q\n2023,156,251,280461,lots,1\n",
        ":2:5: v: expected a number, found 'lots'",
    ),
    "unknown country": (
        "t,i,j,k,v,q\n2023,156,777,280461,5,1\n",
        ":2:3: j: unknown country code 777",
    ),
    "empty file": ("", ":1:1: empty file"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_files_exit_2_and_write_nothing(tmp_path, case):
    content, message = MALFORMED[case]
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    out, page = tmp_path / "out.csv", tmp_path / "out.html"
    result = invoke("screen", SAMPLE, bad, "--out", out, "--html", page)
    assert result.exit_code == 2
    assert f"{bad}{message}" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_malformed_file_through_the_real_command(tmp_path):
    bad = tmp_path / "bad.csv.gz"
    import gzip

    bad.write_bytes(
        gzip.compress(b"t,i,j,k,v,q\n2023,156,251,280461,5,1\n2023,156,251,280461,5,1,9\n")
    )
    done = subprocess.run(
        [sys.executable, "-m", "disruptsim", "screen", str(bad), "--out", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"{bad}:3:7: expected 6 columns (t,i,j,k,v,q), found 7"
    assert not (tmp_path / "o.csv").exists()


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "screen.csv"
    out.write_text("mine")
    result = invoke("screen", SAMPLE, "--out", out)
    assert result.exit_code == 2
    assert "exists; use --force" in result.stderr
    assert out.read_text() == "mine"
    assert invoke("screen", SAMPLE, "--out", out, "--force").exit_code == 0
    assert out.read_text().startswith("rank,year,product")


def test_bad_arguments_exit_2(tmp_path):
    result = invoke("screen", SAMPLE, "--importer", "EU99")
    assert (
        result.exit_code == 2 and "<arguments>: importer: unknown importer 'EU99'" in result.stderr
    )
    result = invoke("screen", SAMPLE, "--years", "last")
    assert result.exit_code == 2 and "years: expected a year" in result.stderr
    result = invoke("screen", tmp_path / "absent.csv")
    assert result.exit_code == 2 and "absent.csv: cannot read file" in result.stderr


def test_draft_prints_or_writes_a_valid_scenario(tmp_path):
    result = invoke("draft", SAMPLE, "-p", "854140,284690", "--production", "284690=20")
    assert result.exit_code == 0, result.output
    assert "hs854140" in result.stdout and "domestic" in result.stdout
    out = tmp_path / "draft.yaml"
    result = invoke("draft", SAMPLE, "-p", "854140", "--product-name", "854140=pv_cells", "-o", out)
    assert result.exit_code == 0, result.output
    assert invoke("validate", out).exit_code == 0
    assert "pv_cells" in ds.load_scenario(out).baseline.products


def test_draft_errors_exit_2(tmp_path):
    result = invoke("draft", SAMPLE, "-p", "999999")
    assert result.exit_code == 2 and "no trade rows for 999999" in result.stderr
    result = invoke("draft", SAMPLE, "-p", "854140", "--production", "854140:3")
    assert result.exit_code == 2 and "--production: expected HS6=VALUE" in result.stderr


def test_text_from_the_data_is_escaped(tmp_path):
    # Labels come from a user's country-code table: they reach the page, the CSV and the
    # terminal only escaped.
    codes = tmp_path / "codes.csv"
    codes.write_text("country_code,country_iso3\n156,<B>X\n251,FRA\n276,DEU\n842,=HYPERLINK(1)\n")
    trade = tmp_path / "trade.csv"
    trade.write_text("t,i,j,k,v,q\n2023,156,251,280461,5,1\n2023,842,276,280461,1,1\n")
    out, page = tmp_path / "s.csv", tmp_path / "s.html"
    result = invoke("screen", trade, "--country-codes", codes, "--out", out, "--html", page)
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "<B>X" not in html and "&lt;B&gt;X" in html
    assert "'=HYPERLINK(1)" not in out.read_text()  # not a supplier's top: absent anyway
    assert re.search(r"^1,2023,280461,.*,'?<B>X,", out.read_text(), re.M)
    assert "<B>X" in result.stdout  # rich prints the text, not markup
    table = ds.screen(trade, country_codes=codes)
    frame = table.assign(top_supplier="=HYPERLINK(1)")
    from disruptsim.screening.output import csv_safe

    assert csv_safe(frame)["top_supplier"].iloc[0] == "'=HYPERLINK(1)"


def test_screen_and_draft_are_public():
    assert {"screen", "draft_scenario"} <= set(ds.__all__)
    assert ds.screen is not None and ds.draft_scenario is not None
