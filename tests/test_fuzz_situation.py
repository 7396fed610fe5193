"""Property: a situation that ``load_situation`` accepts simulates to finite results (issue 16).

Hypothesis builds situations for the shipped ``scenarios/solar-pv.yaml`` that are valid by
the situation format's shape (right keys and types), with values anywhere: days before,
on and far beyond the horizon, extreme floats for severities, stocks, multipliers and
recovery days (the same extremes as ``tests/test_fuzz.py``). Each is either refused at
load with a :class:`ScenarioError`, or is within the documented bounds (severities in
[0, 1], ends and recoveries at most ``MAX_DAYS``) and simulates without an exception to
finite costs and no infinite value anywhere. The default run tries 30 situations; the slow one tries
``FUZZ_EXAMPLES`` (default 300) and prints how many were refused and simulated.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz import COSTS, FUZZ_SETTINGS, numbers

import disruptsim as ds
from disruptsim.errors import ScenarioError
from disruptsim.scenario.bounds import MAX_DAYS

SCENARIO = ds.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "solar-pv.yaml")
T = SCENARIO.horizon_days
PRODUCTS = list(SCENARIO.baseline.products)
HAZARDS = [h.name for h in SCENARIO.baseline.hazards]


EXTREME_DAYS = [MAX_DAYS, MAX_DAYS + 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**20, 10**30]


def day(wild: bool) -> st.SearchStrategy[int]:
    plain = st.integers(0, T + 10)
    extreme = st.one_of(st.sampled_from(EXTREME_DAYS), st.integers(0, 10**30))
    return st.one_of(*[plain] * 6, *[extreme] * wild)


@st.composite
def situations(draw, wild: bool) -> dict:
    today = draw(st.one_of(*[st.integers(0, T - 1)] * 8, st.sampled_from([T - 1, T]), day(wild)))
    started = st.integers(0, max(today, 0))
    hazard_event = st.fixed_dictionaries(
        {"hazard": st.sampled_from(HAZARDS), "started_day": started},
        optional={
            "severity": st.one_of(st.none(), numbers(0.0, 1.0, wild)),
            "ends_day": st.one_of(st.none(), day(wild)),
            "recovery_days": numbers(0.0, 400.0, wild),
        },
    )
    shock = st.fixed_dictionaries(
        {
            "countries": st.dictionaries(
                st.sampled_from(["CHN", "USA", "DEU"]), numbers(0.0, 2.0, wild), min_size=1
            ),
            "started_day": started,
            "severity": numbers(0.0, 1.0, wild),
            "ends_day": day(wild),
        },
        optional={
            "products": st.lists(st.sampled_from(PRODUCTS), max_size=3),
            "recovery_days": numbers(0.0, 400.0, wild),
        },
    )
    level = st.one_of(
        st.fixed_dictionaries({"days": numbers(0.0, 60.0, wild)}),
        st.fixed_dictionaries({"units": numbers(0.0, 1e4, wild)}),
    )
    data = {
        "day": today,
        "events": draw(st.lists(st.one_of(hazard_event, shock), max_size=3)),
        "stocks": draw(st.dictionaries(st.sampled_from(["pv_modules"]), level, max_size=1)),
        "disrupted_since": draw(st.dictionaries(st.sampled_from(PRODUCTS), started, max_size=4)),
    }
    if draw(st.booleans()):
        data["decided_day"] = draw(day(wild))
    return data


def check(data: dict) -> str:
    """``"refused"`` or ``"simulated"``; any other outcome fails the property."""
    try:
        situation = ds.load_situation(data, SCENARIO)
    except ScenarioError:
        return "refused"
    for e in situation.events:  # within the documented bounds (docs/scenario-reference.md)
        assert e["severity"] is None or 0.0 <= e["severity"] <= 1.0, e
        assert e["ends_day"] is None or e["ends_day"] <= MAX_DAYS, e
        assert e.get("recovery_days") is None or e["recovery_days"] <= MAX_DAYS, e
    result = ds.simulate(SCENARIO, runs=4, seed=1, threads=1, situation=situation)
    for name in result.strategies:
        runs = result.runs(name)
        numeric = runs.select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numeric).any(), f"infinite per-run value in {name}"
        assert np.isfinite(runs[COSTS].to_numpy()).all(), f"non-finite cost in {name}"
    summary = result.summary().drop(columns="benefit_cost_ratio")  # +-inf documented there
    assert not np.isinf(summary.select_dtypes("number").to_numpy(dtype=float)).any()
    return "simulated"


@settings(max_examples=30, **FUZZ_SETTINGS)
@given(st.booleans().flatmap(lambda wild: situations(wild=wild)))
def test_valid_by_schema_situations_are_refused_or_simulate_to_finite_results(data):
    check(data)


@pytest.mark.slow
def test_fuzz_situations_and_print_the_figures(capsys):
    examples = int(os.environ.get("FUZZ_EXAMPLES", "300"))
    outcomes: Counter[str] = Counter()

    @settings(max_examples=examples, **{**FUZZ_SETTINGS, "derandomize": False})
    @given(st.booleans().flatmap(lambda wild: situations(wild=wild)))
    def record(data):
        outcomes[check(data)] += 1

    record()
    with capsys.disabled():
        tried = sum(outcomes.values())
        print(
            f"\nsituation fuzz: {tried} situations tried, {outcomes['refused']} refused "
            f"cleanly (ScenarioError), {outcomes['simulated']} simulated cleanly, 0 failures"
        )
    assert outcomes["simulated"] > 0 and outcomes["refused"] > 0
