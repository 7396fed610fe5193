"""Drafting scenarios from trade data: what is derived, what is marked as an assumption,
and that the draft validates and runs."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

import disruptsim as ds
from disruptsim.screening import SAMPLE_TRADE_FILE


def parsed(text: str) -> dict:
    return YAML(typ="safe").load(text)


@pytest.fixture(scope="module")
def draft() -> str:
    return ds.draft_scenario(
        SAMPLE_TRADE_FILE, ["854140", "284690", 280461], production={"280461": 50}
    )


def test_sources_exposure_unit_value_and_demand(draft):
    products = parsed(draft)["products"]
    # 854140, 2023: MYS 7 t and CHN 3 t from outside the EU (shares by tonnes); MYS ships
    # 100/120 Chinese content (its own imports over its exports).
    hub = products["hs854140"]
    assert hub["sources"]["CHN"] == 0.3
    assert hub["sources"]["MYS"] == {"share": 0.7, "exposure": {"MYS": 0.1667, "CHN": 0.8333}}
    assert hub["unit_value"] == pytest.approx(100_000 / 10)  # 100 k USD / 10 t, 1 EUR per USD
    assert hub["final_demand_per_day"] == pytest.approx(10 / 365, abs=1e-6)
    # 280461 with production 50 t: domestic 50 / (50 + 48); demand 50 + 48 - 20 (exports).
    made = products["hs280461"]
    assert made["sources"]["domestic"] == pytest.approx(50 / 98, abs=1e-4)
    assert made["sources"]["CHN"] == pytest.approx(48 / 98 * 30 / 48, abs=1e-4)
    assert sum(made["sources"].values()) == pytest.approx(1.0, abs=1e-9)
    assert made["final_demand_per_day"] == pytest.approx(78 / 365, abs=1e-6)


def test_draft_validates_and_runs(tmp_path, draft):
    path = tmp_path / "draft.yaml"
    path.write_text(draft)
    scenario = ds.load_scenario(path)
    assert scenario.home == "EU27"
    assert scenario.strategy_names == ("baseline", "stockpile_90d")
    result = ds.simulate(scenario, runs=300, seed=4)
    summary = result.summary()
    assert set(summary["strategy"]) == {"baseline", "stockpile_90d"}
    assert (summary["total_cost_mean"] >= 0).all()


def test_placeholders_are_marked_as_assumptions(draft):
    lines = draft.splitlines()
    for key in (
        "annual_probability",
        "severity",
        "duration_days",
        "shortage_cost_multiplier",
        "stockpile",
    ):
        marked = [line for line in lines if key in line]
        assert marked and all("ASSUMPTION" in line for line in marked), key
    hazards = parsed(draft)["hazards"]
    assert {h["name"]: h["countries"] for h in hazards} == {
        "chn_supply_disruption": ["CHN"],
        "mys_supply_disruption": ["MYS"],
    }


def test_small_suppliers_merge_into_row_and_names_are_escaped(tmp_path):
    name = 'odd "name"\nwith: yaml # and <html>'
    text = ds.draft_scenario(
        SAMPLE_TRADE_FILE,
        ["300490"],
        names={"300490": name},
        min_share=0.25,
        eur_per_usd=0.9,
        name="x: y",
    )
    document = parsed(text)
    assert document["name"] == "x: y"
    product = document["products"][name]
    # By value (one flow lacks tonnes): USA 30, CHE 30 kept; IND 20, JPN 10, TWN 10 -> ROW.
    # The USA import 300 from Germany and export 30: all of it is taken as EU content.
    assert product["sources"] == {
        "CHE": 0.3,
        "USA": {"share": 0.3, "exposure": {"EU27": 1.0}},
        "ROW": 0.4,
    }
    # Unit value from the flows with quantities: (30 + 30 + 20 + 10) k USD over (0.5 + 0.4 + 2 + 0.1) t; JPN's 10 k USD at that value.
    usd_per_tonne = 90_000 / 3.0
    assert product["unit_value"] == pytest.approx(usd_per_tonne * 0.9, abs=0.01)
    assert product["final_demand_per_day"] == pytest.approx(100_000 / usd_per_tonne / 365, abs=1e-6)
    assert "10% of the value has no tonnes" in text
    path = tmp_path / "d.yaml"
    path.write_text(text)
    ds.load_scenario(path)


def test_errors():
    with pytest.raises(
        ds.ScenarioError, match="no imports of 300490 into EU27 from outside it in 2022"
    ):
        ds.draft_scenario(SAMPLE_TRADE_FILE, ["280461", "300490"], year=2022)
    with pytest.raises(ds.ScenarioError, match="products: expected HS6 product codes"):
        ds.draft_scenario(SAMPLE_TRADE_FILE, ["28046x"])
    with pytest.raises(ds.ScenarioError, match="apparent consumption .* is not positive"):
        ds.draft_scenario(SAMPLE_TRADE_FILE, ["280461"], production={"280461": 0.0}, importer="DEU")
    with pytest.raises(ds.ScenarioError, match="eur_per_usd"):
        ds.draft_scenario(SAMPLE_TRADE_FILE, ["280461"], eur_per_usd=0)


def test_out_is_written_atomically_and_not_overwritten(tmp_path):
    out = tmp_path / "s.yaml"
    text = ds.draft_scenario(SAMPLE_TRADE_FILE, ["284690"], out=out)
    assert out.read_text() == text
    with pytest.raises(ds.ScenarioError, match="exists; use --force"):
        ds.draft_scenario(SAMPLE_TRADE_FILE, ["284690"], out=out)
    ds.draft_scenario(SAMPLE_TRADE_FILE, ["284690"], out=out, force=True, name="again")
    assert "again" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
