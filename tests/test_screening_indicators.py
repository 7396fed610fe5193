"""Screening indicators on the shipped synthetic BACI file, checked against values worked
out by hand from its rows (the arithmetic is written next to each expected value)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import disruptsim as ds
from disruptsim.screening import SAMPLE_TRADE_FILE, read_trade
from disruptsim.screening.indicators import COLUMNS, indicators


@pytest.fixture(scope="module")
def table():
    return ds.screen(SAMPLE_TRADE_FILE)


def row(table, year, product):
    found = table[(table["year"] == year) & (table["product"] == product)]
    assert len(found) == 1
    return found.iloc[0]


def test_one_row_per_product_and_year_with_every_column(table):
    assert list(table.columns) == ["rank", *COLUMNS]
    assert not table.duplicated(["year", "product"]).any()
    assert sorted(table.groupby("year").size().items()) == [(2021, 2), (2022, 2), (2023, 4)]


def test_known_hhi_ratio_and_extra_share(table):
    # 280461 in 2023, EU27 importing: extra-EU suppliers CHN 60, USA 20, NOR 20 (k USD);
    # intra-EU DEU->FRA 25; EU exports DEU->BRA 40.
    r = row(table, 2023, "280461")
    assert r["extra_imports"] == 100.0
    assert r["intra_imports"] == 25.0
    assert r["extra_exports"] == 40.0
    assert r["hhi_extra"] == pytest.approx(0.6**2 + 0.2**2 + 0.2**2)  # 0.44
    assert r["import_export_ratio"] == pytest.approx(100 / 40)  # 2.5
    assert r["extra_share"] == pytest.approx(100 / 125)  # 0.8
    assert (r["top_supplier"], r["top_share"]) == ("CHN", pytest.approx(0.6))
    # World exports: CHN 60 + 200 (to JPN), USA 20, NOR 20, DEU 25 + 40 = 365.
    assert r["world_export_hhi"] == pytest.approx((260**2 + 20**2 + 20**2 + 65**2) / 365**2)
    assert r["extra_import_tonnes"] == 30 + 8 + 10
    assert r["flag_eu2021"] and not r["flag_crma65"]


def test_no_exports_gives_9999(table):
    # 284690: CHN 90 + MYS 10 into the EU, nothing exported by the EU.
    r = row(table, 2023, "284690")
    assert r["import_export_ratio"] == 9999.0
    assert r["hhi_extra"] == pytest.approx(0.9**2 + 0.1**2)  # 0.82
    assert r["extra_share"] == 1.0
    assert r["world_export_hhi"] == pytest.approx((390**2 + 10**2) / 400**2)
    assert r["flag_eu2021"] and r["flag_crma65"]  # CHN 90% > 65%


def test_transit_hub_moves_the_top_supplier(table):
    # 854140 in 2023: MYS 70 and CHN 30 into the EU. MYS imports 100 from CHN and exports
    # 70 + 50 = 120, so 100/120 of its shipments are taken as Chinese content.
    r = row(table, 2023, "854140")
    assert (r["top_supplier"], r["top_share"]) == ("MYS", pytest.approx(0.7))
    chinese = 0.3 + 0.7 * 100 / 120
    assert r["effective_top_supplier"] == "CHN"
    assert r["effective_top_share"] == pytest.approx(chinese)  # 0.8833
    assert r["effective_hhi"] == pytest.approx(chinese**2 + (0.7 * 20 / 120) ** 2)
    assert r["hhi_extra"] == pytest.approx(0.58)
    assert r["import_export_ratio"] == pytest.approx(10.0)  # DEU->CHE 10
    assert r["extra_share"] == pytest.approx(100 / 120)  # NLD->BEL 20 is intra-EU


def test_without_imports_of_its_own_a_supplier_is_its_own_origin(table):
    r = row(table, 2023, "280461")
    assert r["effective_top_supplier"] == "CHN"
    assert r["effective_hhi"] == pytest.approx(r["hhi_extra"])


def test_geodep_needs_two_of_three_years(table):
    # 280461 meets the three GeoDep criteria in 2021 and 2023 but not 2022 (CHN 30 of 70:
    # HHI (30^2 + 20^2 + 20^2) / 70^2 = 0.347).
    assert row(table, 2022, "280461")["hhi_extra"] == pytest.approx(1700 / 4900)
    met = {y: row(table, y, "280461")["geodep_criteria"] for y in (2021, 2022, 2023)}
    assert met == {2021: True, 2022: False, 2023: True}
    flags = {y: row(table, y, "280461")["flag_geodep"] for y in (2021, 2022, 2023)}
    assert flags == {2021: False, 2022: False, 2023: True}
    # 284690 meets them every year: flagged from the second year on (no 2020 data).
    flags = {y: row(table, y, "284690")["flag_geodep"] for y in (2021, 2022, 2023)}
    assert flags == {2021: False, 2022: True, 2023: True}


def test_diversified_product_is_not_flagged_and_ties_go_to_the_first_label(table):
    # 300490: USA 30, CHE 30, IND 20, JPN 10, TWN 10 (code 490, 'Other Asia, nes').
    r = row(table, 2023, "300490")
    assert r["hhi_extra"] == pytest.approx(0.09 + 0.09 + 0.04 + 0.01 + 0.01)
    assert (r["top_supplier"], r["top_share"]) == ("CHE", pytest.approx(0.3))
    assert r["import_export_ratio"] == pytest.approx(100 / 300)
    assert not (r["flag_eu2021"] or r["flag_geodep"] or r["flag_crma65"])
    assert math.isnan(r["extra_import_tonnes"])  # the JPN flow has no quantity (NA)


def test_rank_puts_more_flags_first(table):
    ranked = table[table["year"] == 2023]
    assert list(ranked["product"]) == ["284690", "854140", "280461", "300490"]
    assert list(ranked["rank"]) == [1, 2, 3, 4]


def test_single_country_importer():
    data = read_trade(SAMPLE_TRADE_FILE, years=[2023])
    usa = indicators(data, "USA")
    r = usa[usa["product"] == "284690"].iloc[0]
    assert (r["extra_imports"], r["hhi_extra"], r["import_export_ratio"]) == (300.0, 1.0, 9999.0)
    assert r["extra_share"] == 1.0
    # As an importer, a member of the EU counts its partners in the EU as foreign.
    fra = indicators(data, "FRA")
    r = fra[fra["product"] == "280461"].iloc[0]
    assert r["extra_imports"] == 60 + 25  # CHN and DEU
    assert r["hhi_extra"] == pytest.approx((60**2 + 25**2) / 85**2)


def test_years_filter_and_unknown_importer():
    table = ds.screen(SAMPLE_TRADE_FILE, years="2022-2023")
    assert sorted(table["year"].unique()) == [2022, 2023]
    # 2021 not read: 284690 has only 2022 and 2023 met, 280461 only 2023.
    flags = table.set_index(["year", "product"])["flag_geodep"]
    assert flags[(2023, "284690")] and not flags[(2023, "280461")]
    with pytest.raises(ds.ScenarioError, match="unknown importer 'EU28'"):
        ds.screen(SAMPLE_TRADE_FILE, importer="EU28")
    with pytest.raises(ds.ScenarioError, match="years: expected a year"):
        ds.screen(SAMPLE_TRADE_FILE, years="2023-2021")
    with pytest.raises(ds.ScenarioError, match="no trade rows for the years"):
        ds.screen(SAMPLE_TRADE_FILE, years=1999)


def test_effective_shares_sum_to_one_on_random_data():
    # Every effective distribution is a distribution: shares of origins sum to 1, so the
    # effective HHI lies between 1/n and 1 and the top share between HHI and sqrt(HHI).
    rng = np.random.default_rng(3)
    n = 4000
    codes = np.array([156, 842, 699, 251, 276, 528, 458, 392, 410, 76])
    rows = ["t,i,j,k,v,q"]
    for _ in range(n):
        i, j = rng.choice(codes, 2, replace=False)
        rows.append(f"2023,{i},{j},{rng.integers(1, 30):06d},{rng.lognormal(2, 1):.3f},1")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "random.csv"
        path.write_text("\n".join(rows) + "\n")
        table = ds.screen(path)
    assert len(table) > 20
    assert (table["effective_hhi"] <= 1 + 1e-12).all()
    assert (table["effective_top_share"] ** 2 <= table["effective_hhi"] + 1e-12).all()
    assert (table["effective_top_share"] >= table["effective_hhi"] - 1e-12).all()
    # Transit happens in this data (hubs import what they export): the view moves somewhere.
    assert (table["effective_top_supplier"] != table["top_supplier"]).any()
