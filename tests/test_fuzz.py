"""Property: what ``validate`` accepts, ``simulate`` runs to finite results (issue 16).

Hypothesis builds scenarios that are valid by the schema's shape (right keys and types)
with values anywhere, extreme floats included (0, subnormals, 1e100, 1.8e308, negatives),
and checks that each is either refused at validation with a :class:`ScenarioError`
(``disruptsim validate`` exits 2) or simulates without an exception to finite costs and
no infinite value anywhere. Half the scenarios keep every number within a plausible
range (they mostly simulate), half draw extreme floats too (they are mostly refused).
The default run tries 60 scenarios; the slow one tries
``FUZZ_EXAMPLES`` (default 1000) and prints how many were refused and simulated.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import disruptsim as ds
from disruptsim.conventions import METRIC_SPECS
from disruptsim.errors import ScenarioError

COSTS = [m.name for m in METRIC_SPECS if m.unit == "euro"]

EXTREMES = [0.0, -0.0, 5e-324, 1e-300, 0.5, 1.0, 1.5, 80.0, 1e6, 1e30, 1e99, 1e100, 1e101,
            1e300, 1.7976931348623157e308, -1.0, -1e308]  # fmt: skip


def numbers(
    low: float | None = None, high: float | None = None, wild: bool = True
) -> st.SearchStrategy[float]:
    """Values in [low, high]; with ``wild``, sometimes any extreme float instead."""
    plausible = st.floats(
        min_value=0.0 if low is None else low,
        max_value=1e4 if high is None else high,
        allow_nan=False,
        allow_infinity=False,
    )
    if not wild:
        return plausible
    extreme = st.one_of(st.sampled_from(EXTREMES), st.floats(allow_nan=False, allow_infinity=False))
    return st.one_of(*[plausible] * 15, extreme)


def days(wild: bool) -> st.SearchStrategy[float]:
    return numbers(0.0, 400.0, wild)


def distribution(low: float, high: float, wild: bool) -> st.SearchStrategy:
    a, b = numbers(low, high, wild), numbers(low, high, wild)
    return st.one_of(
        numbers(low, high, wild),
        st.fixed_dictionaries({"dist": st.just("fixed"), "value": a}),
        st.fixed_dictionaries({"dist": st.just("uniform"), "low": a, "high": b}),
        st.fixed_dictionaries(
            {"dist": st.just("triangular"), "low": a, "mode": b, "high": numbers(low, high, wild)}
        ),
        st.fixed_dictionaries(
            {"dist": st.just("beta"), "mean": a, "sd": numbers(0.0, 0.5, wild)},
            optional={"low": st.just(0.0), "high": numbers(low, high, wild)},
        ),
        st.fixed_dictionaries({"dist": st.just("lognormal"), "median": a, "p95": b}),
    )


COUNTRIES = st.sampled_from(["CHN", "USA", "IND", "DEU"])


def sources() -> st.SearchStrategy[dict]:
    def split(pair):
        first, share = pair
        if share >= 1.0 or first == "domestic":
            return {first: 1.0}
        return {first: share, "domestic": 1.0 - share}

    return st.tuples(st.one_of(COUNTRIES, st.just("domestic")), st.floats(0.0, 1.0)).map(split)


def product(names: list[str], wild: bool) -> st.SearchStrategy[dict]:
    optional = {
        "final_demand_per_day": numbers(wild=wild),
        "shortage_cost_per_unit": numbers(wild=wild),
        "holding_cost_rate": numbers(0.0, 2.0, wild),
        "inputs": st.dictionaries(st.sampled_from(names), numbers(0.0, 10.0, wild), max_size=2),
        "stockpile": st.fixed_dictionaries(
            {"initial_days": days(wild)},
            optional={
                "max_release_days_per_day": numbers(0.0, 2.0, wild),
                "refill_days_per_day": numbers(0.0, 1.0, wild),
                "fixed_cost": numbers(wild=wild),
            },
        ),
        "diversification": st.fixed_dictionaries(
            {"max_share": st.floats(0.0, 1.0)},
            optional={
                "lag_days": days(wild),
                "ramp_days": days(wild),
                "unit_cost_premium": numbers(0.0, 2.0, wild),
                "success_probability": st.floats(0.0, 1.0),
                "fixed_cost": numbers(wild=wild),
                "exposure": st.just({"USA": 1.0}),
            },
        ),
        "substitution": st.fixed_dictionaries(
            {"max_share": st.floats(0.0, 1.0)}, optional={"lag_days": days(wild)}
        ),
    }
    return st.fixed_dictionaries(
        {"unit": st.just("kg"), "unit_value": numbers(wild=wild), "sources": sources()},
        optional=optional,
    )


@st.composite
def scenarios(draw, wild: bool = True) -> dict:
    names = draw(
        st.lists(st.sampled_from(["a", "b", "c", "d", "e", "=x", "system"]), min_size=1, max_size=3,
                 unique=True)
    )  # fmt: skip
    products = {name: draw(product(names, wild)) for name in names}
    final = names[0]
    products[final].setdefault("final_demand_per_day", draw(numbers(0.0, 1e3, wild)))
    hazard = st.fixed_dictionaries(
        {
            "countries": st.lists(COUNTRIES, min_size=1, max_size=2, unique=True),
            "annual_probability": st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0])),
            "severity": distribution(0.0, 1.0, wild),
            "duration_days": distribution(0.0, 200.0, wild),
        },
        optional={"recovery_days": days(wild)},
    )
    hazards = draw(st.lists(hazard, max_size=2))
    for i, h in enumerate(hazards):
        h["name"] = f"h{i}"
    shock = st.fixed_dictionaries(
        {
            "countries": st.lists(COUNTRIES, min_size=1, max_size=2, unique=True),
            "start_day": st.one_of(*[st.integers(0, 400)] * 5, *[st.integers(0, 10**30)] * wild),
            "duration_days": st.one_of(
                *[st.integers(1, 400)] * 5, *[st.integers(1, 10**30)] * wild
            ),
            "severity": numbers(0.0, 1.0, wild),
        },
        optional={"recovery_days": days(wild)},
    )
    scenario = {
        "name": "fuzz",
        "horizon_days": draw(
            st.one_of(
                *[st.integers(1, 400)] * 5, st.sampled_from([1, 3650, *[10**6 + 1, 10**11] * wild])
            )
        ),
        "defaults": draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "shortage_cost_multiplier": numbers(0.0, 10.0, wild),
                    "holding_cost_rate": numbers(0.0, 1.0, wild),
                },
            )
        ),
        "hazards": hazards,
        "shocks": draw(st.lists(shock, max_size=1)),
        "products": products,
    }
    if draw(st.booleans()):
        override = {"stockpile": {"initial_days": draw(days(wild))}}
        scenario["strategies"] = {"baseline": {}, "stock": {"products": {final: override}}}
    return scenario


def check(mapping: dict) -> str:
    """``"refused"`` or ``"simulated"``; any other outcome fails the property."""
    try:
        scenario = ds.load_scenario(mapping)
    except ScenarioError:
        return "refused"
    result = ds.simulate(scenario, runs=4, seed=1, threads=1, trace_runs=2, batch_runs=2)
    for name in result.strategies:
        runs = result.runs(name)
        numeric = runs.select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numeric).any(), f"infinite per-run value in {name}"
        assert np.isfinite(runs[COSTS].to_numpy()).all(), f"non-finite cost in {name}"
        assert np.isfinite(result.strategies[name].mean_fulfilment).all()
    summary = result.summary().drop(columns="benefit_cost_ratio")  # +-inf documented there
    assert not np.isinf(summary.select_dtypes("number").to_numpy(dtype=float)).any()
    return "simulated"


OUTCOMES: Counter[str] = Counter()
FUZZ_SETTINGS = dict(
    database=None,  # no replay of examples saved by another version of the generator
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@settings(max_examples=60, **FUZZ_SETTINGS)
@given(st.booleans().flatmap(lambda wild: scenarios(wild=wild)))
def test_valid_by_schema_scenarios_are_refused_or_simulate_to_finite_results(mapping):
    check(mapping)


@pytest.mark.slow
def test_fuzz_many_and_print_the_figures(capsys):
    examples = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
    OUTCOMES.clear()

    @settings(max_examples=examples, **{**FUZZ_SETTINGS, "derandomize": False})
    @given(st.booleans().flatmap(lambda wild: scenarios(wild=wild)))
    def record(mapping):
        OUTCOMES[check(mapping)] += 1

    record()
    with capsys.disabled():
        tried = sum(OUTCOMES.values())
        print(
            f"\nfuzz: {tried} scenarios tried, {OUTCOMES['refused']} refused cleanly "
            f"(ScenarioError), {OUTCOMES['simulated']} simulated cleanly, 0 failures"
        )
    assert OUTCOMES["simulated"] > 0 and OUTCOMES["refused"] > 0
