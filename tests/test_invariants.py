"""Invariants of the dynamics on random inputs (synthetic scenarios, sampled futures).

Checked on the kernel's per-run metrics and traces and on the reference engine's daily
records: units balance every day, fulfilment and stocks stay in range, costs are never
negative and add up, a world without shocks has no shortage, and more stock never
increases unmet units in the same futures (where that holds: see
:func:`test_upstream_stock_can_delay_downstream_qualification`).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import disruptsim as ds
from disruptsim.conventions import METRICS, MITIGATION_PARTS, SYSTEM
from disruptsim.model.compiler import compile_strategy
from disruptsim.model.reference import ReferenceRun
from disruptsim.model.shocks import ShockSampler
from disruptsim.run.engine import run_strategy_batch
from disruptsim.synthetic import COUNTRIES, synthetic_scenario

M = {name: j for j, name in enumerate(METRICS)}
COSTS = [m for m in METRICS if m.endswith("_cost") or m.startswith(("reshoring_", "recycling_"))]
FUTURES = 12


@st.composite
def synthetic(draw) -> dict[str, Any]:
    """A small synthetic scenario (baseline only) with one extra deterministic shock."""
    n_countries = draw(st.integers(2, 6))  # synthetic_scenario fails with 1 country
    horizon_days = draw(st.integers(30, 150))
    data = synthetic_scenario(
        n_products=draw(st.integers(1, 8)),
        n_countries=n_countries,
        horizon_days=horizon_days,
        seed=draw(st.integers(0, 10**6)),
        strategies=False,
    )
    data["shocks"] = [
        {
            "countries": [draw(st.sampled_from(COUNTRIES[:n_countries]))],
            "start_day": draw(st.integers(0, horizon_days - 1)),
            "duration_days": draw(st.integers(1, horizon_days)),
            "severity": draw(st.floats(0.2, 1.0)),
            "recovery_days": draw(st.integers(0, 20)),
        }
    ]
    return data


def simulate(data: dict[str, Any], seed: int, runs: int = FUTURES, scenario=None):
    """Kernel output (all runs traced), the batch's events and success draws."""
    scenario = scenario or ds.load_scenario(data)
    model = compile_strategy(scenario)
    sampler = ShockSampler(scenario, seed)
    events = sampler.events(scenario.baseline, 0, runs)
    success = sampler.success(model, 0, runs)
    return scenario, model, events, success, run_strategy_batch(model, events, success, runs)


# -- per day ----------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(data=synthetic(), seed=st.integers(0, 2**32 - 1))
def test_daily_units_balance_and_ranges(data, seed):
    scenario, model, events, success, batch = simulate(data, seed, runs=4)
    target = model.arrays.stock_target
    D = model.arrays.requirement
    for r in range(events.n_runs):
        day = ReferenceRun(scenario, "baseline", events, success, r).run().daily
        np.testing.assert_array_equal(day["requirement"], D)
        delivered = sum(
            day[k]
            for k in ("supplied_units", "diversified_units", "substituted_units", "released_units")
        )
        np.testing.assert_allclose(delivered + day["unmet_units"], D, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(day["fulfilment"] * D, delivered, rtol=1e-12, atol=1e-9)
        assert np.all((day["fulfilment"] >= 0) & (day["fulfilment"] <= 1))
        assert np.all((day["gap"] >= 0) & (day["gap"] <= 1))
        assert np.all(day["unmet_units"] >= 0)
        for k in ("diversified_units", "substituted_units", "released_units"):
            assert np.all(day[k] >= 0), k
        assert np.all(day["stock"] >= 0)
        assert np.all(day["stock"] <= target * (1 + 1e-12))
        # releases come out of the stock; on other days it can only be refilled
        level = np.vstack([target, day["stock"][:-1]])
        out = day["released_units"] > 0
        np.testing.assert_allclose(
            day["stock"][out], (level - day["released_units"])[out], atol=1e-9
        )
        assert np.all(day["stock"][~out] >= level[~out])

        phi, stock = batch.trace_phi[r], batch.trace_stock[r]
        assert np.all((phi >= 0) & (phi <= 1))
        assert np.all((stock >= 0) & (stock <= target * (1 + 1e-6)))
        # the traced fulfilment reproduces the run's unmet units (float32 traces)
        unmet = ((1.0 - phi.astype(np.float64)) * D).sum(axis=0)
        np.testing.assert_allclose(
            unmet, batch.metrics[r, :-1, M["unmet_units"]], rtol=1e-5, atol=1e-6 * D.sum()
        )


# -- per run ----------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(data=synthetic(), seed=st.integers(0, 2**32 - 1))
def test_metrics_are_consistent(data, seed):
    _, model, events, _, batch = simulate(data, seed, runs=40)
    out = batch.metrics
    T = model.horizon_days
    costs = out[..., [M[c] for c in COSTS]]
    assert np.all(costs >= 0), "a cost is negative"
    parts = out[..., [M[c] for c in MITIGATION_PARTS]].sum(axis=-1)
    np.testing.assert_allclose(out[..., M["mitigation_cost"]], parts, rtol=1e-12)
    np.testing.assert_allclose(
        out[..., M["total_cost"]],
        out[..., M["shortage_cost"]] + out[..., M["mitigation_cost"]],
        rtol=1e-12,
    )
    products = out[:, :-1]
    assert np.all(products[..., M["unmet_units"]] >= 0)
    assert np.all((out[..., M["min_fulfilment"]] >= 0) & (out[..., M["min_fulfilment"]] <= 1))
    assert np.all(products[..., M["min_stock"]] >= 0)
    assert np.all(products[..., M["min_stock"]] <= model.arrays.stock_target * (1 + 1e-12))
    days = out[..., M["shortage_days"]]
    assert np.all((days >= 0) & (days <= T))
    disrupted = out[..., M["disrupted"]] == 1
    assert np.array_equal(disrupted, ~np.isnan(out[..., M["first_disruption_day"]]))
    assert np.all(days[~disrupted] == 0)
    assert np.all(np.isnan(out[..., M["ttr_days"]][~disrupted]))
    tts, ttr = out[..., M["tts_days"]], out[..., M["ttr_days"]]
    short = days > 0
    assert np.array_equal(short, ~np.isnan(tts))
    assert np.all(tts[short] >= 0)
    assert np.all(ttr[short] - tts[short] >= days[short])  # last - first shortage + 1
    assert np.all(ttr[disrupted & ~short] == 0)
    # system: first disruption is the earliest product's; disrupted iff some product is
    first = np.nanmin(
        np.where(disrupted[:, :-1], out[:, :-1, M["first_disruption_day"]], np.inf), axis=1
    )
    np.testing.assert_array_equal(out[:, -1, M["disrupted"]], disrupted[:, :-1].any(axis=1))
    sys_first = out[:, -1, M["first_disruption_day"]]
    np.testing.assert_array_equal(np.where(np.isnan(sys_first), np.inf, sys_first), first)
    # costs of the system are the sums over products
    for c in COSTS:
        np.testing.assert_allclose(out[:, -1, M[c]], out[:, :-1, M[c]].sum(axis=1), rtol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_no_hazards_and_no_shocks_means_no_shortage(seed):
    data = synthetic_scenario(
        n_products=8, n_countries=5, horizon_days=90, seed=seed, strategies=False
    )
    data["hazards"] = []
    scenario, model, events, success, batch = simulate(data, seed, runs=3)
    assert events.ptr[-1] == 0
    out = batch.metrics
    for m in (
        "disrupted",
        "shortage_days",
        "shortage_cost",
        "diversification_cost",
        "substitution_cost",
    ):
        np.testing.assert_array_equal(out[..., M[m]], 0.0, err_msg=m)
    np.testing.assert_array_equal(out[:, :-1, M["unmet_units"]], 0.0)
    np.testing.assert_array_equal(out[..., M["min_fulfilment"]], 1.0)
    np.testing.assert_array_equal(
        out[:, :-1, M["min_stock"]], np.broadcast_to(model.arrays.stock_target, (3, 8))
    )
    ref = ReferenceRun(scenario, "baseline", events, success, 0).run().metrics()
    for name, row in ref.items():
        assert row["disrupted"] == 0 and row["shortage_days"] == 0, name
        if name != SYSTEM:
            # shares that sum to 1 only up to rounding leave a gap of ~1e-16
            assert row["unmet_units"] <= 1e-12 * model.arrays.requirement.sum(), name


# -- more stock -------------------------------------------------------------------------------


def with_more_stock(data: dict[str, Any], factor: float, extra_days: float) -> dict[str, Any]:
    """Every stockpile ``factor`` times larger; products without one get ``extra_days``."""
    data = copy.deepcopy(data)
    for product in data["products"].values():
        if "stockpile" in product:
            product["stockpile"]["initial_days"] *= factor
        elif extra_days > 0:
            product["stockpile"] = {"initial_days": extra_days, "refill_days_per_day": 0.05}
    return data


def without_reactive_options(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for product in data["products"].values():
        product.pop("diversification", None)
        product.pop("substitution", None)
    return data


def unmet(data: dict[str, Any], seed: int) -> np.ndarray:
    """Unmet units ``[run, product]`` of the kernel."""
    return simulate(data, seed, runs=FUTURES)[-1].metrics[:, :-1, M["unmet_units"]]


@settings(max_examples=25, deadline=None)
@given(
    data=synthetic(),
    seed=st.integers(0, 2**32 - 1),
    factor=st.floats(1.0, 4.0),
    extra_days=st.sampled_from([0.0, 5.0, 30.0]),
)
def test_more_stock_never_increases_unmet_units(data, seed, factor, extra_days):
    """Without reactive options the chain is monotone: more stock anywhere, less unmet everywhere."""
    data = without_reactive_options(data)
    before = unmet(data, seed)
    after = unmet(with_more_stock(data, factor, extra_days), seed)
    assert np.all(after <= before + 1e-9 * np.maximum(1.0, before))


@settings(max_examples=15, deadline=None)
@given(data=synthetic(), seed=st.integers(0, 2**32 - 1), factor=st.floats(1.0, 4.0))
def test_more_stock_of_one_product_never_increases_its_unmet_units(data, seed, factor):
    """With reactive options too: a product's own (and its upstream's) unmet units never grow."""
    before = unmet(data, seed)
    scenario = ds.load_scenario(data)
    order = compile_strategy(scenario).products
    for i, name in enumerate(order):
        more = copy.deepcopy(data)
        stock = more["products"][name].setdefault("stockpile", {"initial_days": 0.0})
        stock["initial_days"] = stock["initial_days"] * factor + 5.0
        after = unmet(more, seed)
        assert np.all(
            after[:, : i + 1] <= before[:, : i + 1] + 1e-9 * np.maximum(1.0, before[:, : i + 1])
        )


def test_upstream_stock_can_delay_downstream_qualification():
    """A bigger upstream stock can *increase* downstream unmet units (a property of the model).

    Reactive qualification counts from the product's first disruption (docs/model.md, section 5). An
    upstream stock that hides a short first outage from the downstream product delays the
    downstream product's diversification until the second, long outage.
    """

    def scenario(upstream_stock_days: float) -> dict[str, Any]:
        shock = {"countries": ["CHN"], "products": ["a"], "severity": 1.0}
        return {
            "name": "delay",
            "horizon_days": 120,
            "shocks": [
                {**shock, "start_day": 5, "duration_days": 5},
                {**shock, "start_day": 30, "duration_days": 60},
            ],
            "products": {
                "a": {
                    "unit": "t",
                    "unit_value": 1.0,
                    "sources": {"CHN": 1.0},
                    "stockpile": {"initial_days": upstream_stock_days, "refill_days_per_day": 0.0},
                },
                "b": {
                    "unit": "t",
                    "unit_value": 1.0,
                    "final_demand_per_day": 10.0,
                    "sources": {"domestic": 1.0},
                    "inputs": {"a": 1.0},
                    "diversification": {"lag_days": 10, "max_share": 1.0, "exposure": {"USA": 1.0}},
                },
            },
        }

    small, big = unmet(scenario(0.0), 0)[0], unmet(scenario(10.0), 0)[0]
    assert small[1] == pytest.approx(5 * 10.0)  # outage 1 uncovered; qualified on day 15
    assert big[1] == pytest.approx(10 * 10.0)  # stock hides outage 1; qualified only on day 45
    assert big[1] > small[1]


# -- demand restraint -------------------------------------------------------------------------


@st.composite
def restrained(draw) -> dict[str, Any]:
    """A synthetic scenario whose final products restrain demand (lag, ramp, share drawn)."""
    data = draw(synthetic())
    for p in data["products"].values():
        if p["final_demand_per_day"] > 0:
            p["demand_restraint"] = {
                "lag_days": draw(st.integers(0, 20)),
                "ramp_days": draw(st.integers(0, 30)),
                "max_share": draw(st.floats(0.05, 1.0)),
                "unit_cost_relative": draw(st.floats(0.0, 2.9)),  # below 3 x unit_value
            }
            if draw(st.booleans()):
                p["demand_restraint"]["duration_days"] = draw(st.integers(0, 100))
    return data


@settings(max_examples=20, deadline=None)
@given(data=restrained(), seed=st.integers(0, 2**32 - 1))
def test_units_balance_under_demand_restraint(data, seed):
    """Per product and day ``D = delivered + unmet + (D - R)`` (docs/model.md, "Demand
    restraint"); for a product that is no other product's input ``D - R`` is its own
    restrained final demand, so over a run ``T * d = delivered + restrained + unmet``."""
    scenario, model, events, success, batch = simulate(data, seed, runs=4)
    a = model.arrays
    D = a.requirement
    is_input = np.zeros(model.n_products, dtype=bool)
    is_input[a.in_product] = True
    unit_cost = a.rs_unit_cost
    for r in range(events.n_runs):
        day = ReferenceRun(scenario, "baseline", events, success, r).run().daily
        R = day["restrained_requirement"]
        delivered = sum(
            day[k]
            for k in ("supplied_units", "diversified_units", "substituted_units", "released_units")
        )
        np.testing.assert_allclose(delivered + day["unmet_units"], R, rtol=1e-12, atol=1e-9)
        assert np.all(R <= D * (1 + 1e-12)) and np.all(R >= -1e-9)
        forgone = np.nan_to_num(day["restrained_units"])
        leaf = ~is_input
        np.testing.assert_allclose((D - R)[:, leaf], forgone[:, leaf], rtol=1e-9, atol=1e-9)
        out = batch.metrics[r, :-1]
        T = model.horizon_days
        np.testing.assert_allclose(
            (delivered.sum(axis=0) + out[:, M["restrained_units"]] + out[:, M["unmet_units"]])[
                leaf
            ],
            (T * a.final_demand)[leaf],
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            out[:, M["demand_restraint_cost"]],
            out[:, M["restrained_units"]] * unit_cost,
            rtol=1e-9,
            atol=1e-12,  # euros: subnormal unit costs (5e-324) lose digits in the product
        )
        # the kernel's traced fulfilment is the share of today's (restrained) requirement met
        phi = batch.trace_phi[r].astype(np.float64)
        np.testing.assert_allclose(
            ((1.0 - phi) * R).sum(axis=0), out[:, M["unmet_units"]], rtol=1e-5, atol=1e-6 * D.sum()
        )


def test_demand_restraint_lets_a_stock_last_and_refill():
    """One product, 40% of supply lost for 60 days, a 10-day stock: restraining 30% of demand
    from day 6 of the outage turns the gap into a surplus (half the demand is restrained), so
    the stock stops falling and refills while the outage lasts; without restraint it runs
    dry."""

    def data(restraint: bool) -> dict[str, Any]:
        product: dict[str, Any] = {
            "unit": "t",
            "unit_value": 1.0,
            "final_demand_per_day": 10.0,
            "sources": {"CHN": 0.4, "IND": 0.6},
            "stockpile": {"initial_days": 10, "refill_days_per_day": 0.5},
        }
        if restraint:
            product["demand_restraint"] = {"lag_days": 5, "max_share": 0.5, "unit_cost": 1.0}
        shock = {"countries": ["CHN"], "start_day": 10, "duration_days": 60, "severity": 1.0}
        return {"name": "r", "horizon_days": 100, "shocks": [shock], "products": {"x": product}}

    runs = {}
    for restraint in (False, True):
        scenario, _, events, success, _ = simulate(data(restraint), 0, runs=1)
        runs[restraint] = ReferenceRun(scenario, "baseline", events, success, 0).run()
    plain, restrained_run = runs[False].daily["stock"][:, 0], runs[True].daily["stock"][:, 0]
    # without restraint: 4 units a day from a 100-unit stock, dry after 25 days
    assert plain[34] == 0.0 and plain[20] == pytest.approx(100 - 4 * 11)
    # with restraint from day 15 (10 + 5): releases on days 10-14 (4 a day), then a surplus
    assert restrained_run[14] == pytest.approx(100 - 4 * 5)
    # then it refills 0.5 x 10 a day up to its target, while the outage lasts (to day 69)
    np.testing.assert_allclose(restrained_run[15:19], [85.0, 90.0, 95.0, 100.0])
    assert np.all(restrained_run[18:] == 100.0)
    m = runs[True].metrics()["x"]
    assert m["restrained_units"] == pytest.approx(0.5 * 10 * (100 - 15))
    assert m["unmet_units"] == 0.0 and runs[False].metrics()["x"]["unmet_units"] > 0


def test_recycling_is_not_exposed_to_foreign_shocks():
    """One product, its only import source (CHN) cut completely for 30 days: a recycling
    source at 20% of requirement (built by day 10, full at once) covers 20% of the outage,
    at its premium; a home shock hits it."""

    def data(home_shock: bool) -> dict[str, Any]:
        shocks = [{"countries": ["CHN"], "start_day": 20, "duration_days": 30, "severity": 1.0}]
        if home_shock:
            shocks.append(
                {"countries": ["EU27"], "start_day": 20, "duration_days": 30, "severity": 1.0}
            )
        product = {
            "unit": "t",
            "unit_value": 10.0,
            "final_demand_per_day": 100.0,
            "sources": {"CHN": 1.0},
            "recycling": {"share": 0.2, "build_days": 10, "capex": 5.0, "unit_cost_premium": 0.5},
        }
        return {"name": "rc", "horizon_days": 60, "shocks": shocks, "products": {"x": product}}

    _, _, _, _, batch = simulate(data(False), 0, runs=1)
    out = batch.metrics[0, 0]
    assert out[M["unmet_units"]] == pytest.approx(0.8 * 100 * 30)
    assert out[M["recycled_units"]] == pytest.approx(0.2 * 100 * 50)  # days 10-59
    assert out[M["recycling_opex"]] == pytest.approx(0.2 * 100 * 50 * 10 * 0.5)
    assert out[M["recycling_capex"]] == 5.0
    _, _, _, _, batch = simulate(data(True), 0, runs=1)
    assert batch.metrics[0, 0, M["unmet_units"]] == pytest.approx(100 * 30)
