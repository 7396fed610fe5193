"""compile_strategy: flat arrays in topological order, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

import disruptsim as ds
from disruptsim.model.compiler import compile_strategy

# A three-level chain, listed downstream first so that the order must be sorted:
#   modules (final demand 100/day; 40% made at home from 2 cells each)
#   cells   (final demand 10/day; 50% made at home from 3 wafers each)
#   wafers  (imported only)
CHAIN = {
    "name": "chain",
    "horizon_days": 10,
    "hazards": [
        {"name": "cn", "countries": ["CHN"], "products": ["wafers"], "annual_probability": 0.1, "severity": 1.0, "duration_days": 5},
        {"name": "my", "countries": {"MYS": 0.5}, "annual_probability": 0.1, "severity": 1.0, "duration_days": 5},
    ],
    "products": {
        "modules": {
            "unit": "MW", "unit_value": 100.0, "final_demand_per_day": 100.0,
            "sources": {"CHN": 0.6, "domestic": 0.4},
            "inputs": {"cells": 2.0},
            "stockpile": {"initial_days": 3},
        },
        "cells": {
            "unit": "MW", "unit_value": 50.0, "final_demand_per_day": 10.0,
            "sources": {"MYS": {"share": 0.5, "exposure": {"CHN": 0.6, "MYS": 0.4}}, "domestic": 0.5},
            "inputs": {"wafers": 3.0},
        },
        "wafers": {"unit": "t", "unit_value": 10.0, "sources": {"CHN": 0.9, "DEU": 0.1}},
    },
}


@pytest.fixture(scope="module")
def compiled():
    return compile_strategy(ds.load_scenario(CHAIN), "baseline")


def test_topological_order_and_countries(compiled):
    assert compiled.products == ("wafers", "cells", "modules")
    assert compiled.countries[0] == "EU27"  # home first
    assert set(compiled.countries) == {"EU27", "CHN", "DEU", "MYS"}


def test_requirements_by_hand(compiled):
    # modules: D = 100
    # cells:   D = 10 + 2 * 100 * 0.4 = 90
    # wafers:  D = 0 + 3 * 90 * 0.5 = 135
    req = compiled.arrays.requirement
    assert req.shape == (10, 3)
    np.testing.assert_array_equal(req, np.tile([135.0, 90.0, 100.0], (10, 1)))
    np.testing.assert_array_equal(compiled.arrays.final_demand, [0.0, 10.0, 100.0])
    np.testing.assert_array_equal(compiled.arrays.stock_target, [0.0, 0.0, 300.0])


def test_sources_exposures_and_inputs_in_csr(compiled):
    a = compiled.arrays
    c = {code: i for i, code in enumerate(compiled.countries)}
    np.testing.assert_array_equal(a.src_ptr, [0, 2, 4, 6])
    np.testing.assert_array_equal(a.src_share, [0.9, 0.1, 0.5, 0.5, 0.6, 0.4])
    np.testing.assert_array_equal(a.src_domestic, [False, False, False, True, False, True])
    # exposure rows: CHN; DEU; MYS source -> CHN 0.6 + MYS 0.4; domestic -> home; CHN; home
    np.testing.assert_array_equal(a.exp_ptr, [0, 1, 2, 4, 5, 6, 7])
    np.testing.assert_array_equal(
        a.exp_country, [c["CHN"], c["DEU"], c["CHN"], c["MYS"], c["EU27"], c["CHN"], c["EU27"]]
    )
    np.testing.assert_array_equal(a.exp_weight, [1.0, 1.0, 0.6, 0.4, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(a.in_ptr, [0, 0, 1, 2])
    np.testing.assert_array_equal(a.in_product, [0, 1])  # cells <- wafers, modules <- cells


def test_hazards_multipliers_filters_and_exposure_mask(compiled):
    a = compiled.arrays
    c = {code: i for i, code in enumerate(compiled.countries)}
    assert compiled.hazard_names == ("cn", "my")
    assert a.haz_mult[0, c["CHN"]] == 1.0 and a.haz_mult[1, c["MYS"]] == 0.5
    np.testing.assert_array_equal(a.haz_products, [[True, False, False], [True, True, True]])
    # cn covers wafers only (which import from CHN); my covers all but only cells draw on MYS
    np.testing.assert_array_equal(a.haz_exposes, [[True, False, False], [False, True, False]])


def test_reshoring_shifts_share_and_raises_upstream_requirement():
    data = {**CHAIN, "horizon_days": 8}
    data["products"] = {
        **CHAIN["products"],
        "modules": {
            **CHAIN["products"]["modules"],
            "reshoring": {"from": "CHN", "share": 0.3, "build_days": 2, "ramp_days": 2},
        },
    }
    cm = compile_strategy(ds.load_scenario(data), "baseline")
    # ramp from day 2: 1/3, 2/3, then full share 0.3
    frac = cm.arrays.resh_frac[:, 2]
    np.testing.assert_allclose(frac, [0, 0, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3])
    # cells: D = 10 + 2 * 100 * (0.4 + frac)
    np.testing.assert_allclose(cm.arrays.requirement[:, 1], 10 + 200 * (0.4 + frac))
    np.testing.assert_allclose(cm.arrays.requirement[:, 0], 3 * (10 + 200 * (0.4 + frac)) * 0.5)


def test_compile_refuses_shares_that_do_not_sum_to_one():
    from disruptsim.scenario.model import Scenario, Strategy

    sc = ds.load_scenario(CHAIN)
    world = sc.baseline
    wafers = world.products["wafers"]
    bad_sources = {"CHN": wafers.sources["CHN"].model_copy(update={"share": 0.8}), "DEU": wafers.sources["DEU"]}
    bad = world.model_copy(update={"products": {**world.products, "wafers": wafers.model_copy(update={"sources": bad_sources})}})
    broken = Scenario(sc.name, "", sc.home, sc.horizon_days, {}, {"baseline": Strategy("baseline", "", bad)})
    with pytest.raises(ValueError, match="shares of 'wafers' sum to"):
        compile_strategy(broken, "baseline")
