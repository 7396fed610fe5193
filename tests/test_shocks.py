"""Shock sampling: rates and moments within sampling error, counter-based reproducibility, CRN."""

from __future__ import annotations

import math

import numpy as np
import pytest

import disruptsim as ds
from disruptsim.model.compiler import compile_strategy
from disruptsim.model.shocks import ShockSampler, annual_rate

RUNS = 20_000


def scenario_with(hazards, shocks=(), horizon_days=365, strategies=None):
    data = {
        "name": "sampling",
        "horizon_days": horizon_days,
        "hazards": list(hazards),
        "shocks": list(shocks),
        "products": {
            "a": {"unit": "t", "unit_value": 1.0, "final_demand_per_day": 1.0, "sources": {"CHN": 0.5, "IND": 0.5}},
        },
    }
    if strategies:
        data["strategies"] = strategies
    return ds.load_scenario(data)


def hazard(name="h", p=0.3, severity=1.0, duration=10, **kw):
    return {"name": name, "countries": ["CHN"], "annual_probability": p, "severity": severity, "duration_days": duration, **kw}


def within(sample: np.ndarray, mu: float, sigma: float, slack: float = 0.0) -> None:
    n = len(sample)
    assert n > 100
    assert abs(sample.mean() - mu) < 4 * sigma / math.sqrt(n) + slack, (sample.mean(), mu)


def test_event_counts_are_poisson_with_rate_from_annual_probability():
    sc = scenario_with([hazard(p=0.3)], horizon_days=730)
    ev = ShockSampler(sc, seed=7).events(sc.baseline, 0, RUNS)
    counts = np.diff(ev.ptr)
    mu = annual_rate(0.3) * 2.0
    within(counts, mu, math.sqrt(mu))
    # P(at least one event in a year) = p for a one-year horizon
    sc1 = scenario_with([hazard(p=0.3)], horizon_days=365)
    ev1 = ShockSampler(sc1, seed=8).events(sc1.baseline, 0, RUNS)
    hit = (np.diff(ev1.ptr) > 0).astype(float)
    within(hit, 0.3, math.sqrt(0.3 * 0.7))


@pytest.mark.parametrize(
    "dist",
    [
        {"dist": "uniform", "low": 0.2, "high": 0.9},
        {"dist": "triangular", "low": 0.1, "mode": 0.3, "high": 1.0},
        {"dist": "beta", "mean": 0.6, "sd": 0.2},
    ],
)
def test_severity_moments(dist):
    sc = scenario_with([hazard(p=0.9, severity=dist)], horizon_days=365)
    ev = ShockSampler(sc, seed=1).events(sc.baseline, 0, RUNS)
    model = sc.baseline.hazards[0].severity
    within(ev.severity, model.mean(), math.sqrt(model.var()))
    sd = ev.severity.std()
    assert abs(sd - math.sqrt(model.var())) < 0.05 * math.sqrt(model.var())


@pytest.mark.parametrize(
    "dist",
    [
        {"dist": "uniform", "low": 10, "high": 50},
        {"dist": "lognormal", "median": 60, "p95": 240},
        {"dist": "triangular", "low": 5, "mode": 20, "high": 90},
    ],
)
def test_duration_moments(dist):
    sc = scenario_with([hazard(p=0.9, duration=dist)], horizon_days=365)
    ev = ShockSampler(sc, seed=2).events(sc.baseline, 0, RUNS)
    durations = ev.end - ev.start
    model = sc.baseline.hazards[0].duration_days
    # Durations are rounded to whole days: allow half a day of rounding bias.
    within(durations, model.mean(), math.sqrt(model.var()), slack=0.5)


def test_start_days_uniform_over_horizon():
    T = 500
    sc = scenario_with([hazard(p=0.9)], horizon_days=T)
    ev = ShockSampler(sc, seed=3).events(sc.baseline, 0, RUNS)
    within(ev.start.astype(float), (T - 1) / 2, math.sqrt((T * T - 1) / 12))
    assert ev.start.min() >= 0 and ev.start.max() <= T - 1


def test_runs_depend_only_on_seed_and_run_index():
    sc = scenario_with([hazard(p=0.6), hazard("g", p=0.4, severity={"dist": "beta", "mean": 0.5, "sd": 0.1})])
    sampler = ShockSampler(sc, seed=11)
    whole = sampler.events(sc.baseline, 0, 1000)
    parts = [sampler.events(sc.baseline, a, b) for a, b in ((0, 300), (300, 301), (301, 1000))]
    for field in ("hazard", "start", "end", "recovery", "severity"):
        np.testing.assert_array_equal(getattr(whole, field), np.concatenate([getattr(p, field) for p in parts]))
    counts = np.concatenate([np.diff(p.ptr) for p in parts])
    np.testing.assert_array_equal(np.diff(whole.ptr), counts)
    other = ShockSampler(sc, seed=12).events(sc.baseline, 0, 1000)
    assert not np.array_equal(other.start, whole.start)


def test_deterministic_shocks_in_every_run():
    shock = {"countries": ["CHN"], "start_day": 30, "duration_days": 20, "severity": 0.5, "recovery_days": 10}
    sc = scenario_with([], shocks=[shock])
    ev = ShockSampler(sc, seed=0).events(sc.baseline, 0, 50)
    np.testing.assert_array_equal(np.diff(ev.ptr), 1)
    assert set(ev.start) == {30} and set(ev.end) == {50} and set(ev.recovery) == {10}
    np.testing.assert_array_equal(ev.severity, 0.5)


def test_strategy_changing_a_hazard_is_coupled_through_the_same_uniforms():
    base = hazard(p=0.2, severity={"dist": "beta", "mean": 0.4, "sd": 0.1}, duration={"dist": "lognormal", "median": 30, "p95": 90})
    worse = hazard(p=0.5, severity={"dist": "beta", "mean": 0.7, "sd": 0.1}, duration={"dist": "lognormal", "median": 60, "p95": 180})
    sc = scenario_with([base], strategies={"baseline": {}, "worse": {"hazards": [worse]}})
    sampler = ShockSampler(sc, seed=5)
    a = sampler.events(sc.world("baseline"), 0, 5000)
    b = sampler.events(sc.world("worse"), 0, 5000)
    na, nb = np.diff(a.ptr), np.diff(b.ptr)
    assert np.all(nb >= na)  # Poisson inverse CDF is monotone in the rate
    # The k-th event of a run uses the same uniforms: same start day, larger severity and duration.
    for r in np.flatnonzero(na > 0)[:500]:
        ia, ib = a.ptr[r], b.ptr[r]
        assert a.start[ia] == b.start[ib]
        assert b.severity[ib] > a.severity[ia]
        assert b.end[ib] - b.start[ib] >= a.end[ia] - a.start[ia]


def test_success_draws_frequency_and_coupling():
    data = {
        "name": "success",
        "horizon_days": 10,
        "products": {
            "a": {
                "unit": "t",
                "unit_value": 1.0,
                "final_demand_per_day": 1.0,
                "sources": {"CHN": 1.0},
                "diversification": {"max_share": 0.5, "success_probability": 0.3},
            }
        },
        "strategies": {"baseline": {}, "better": {"products": {"a": {"diversification": {"success_probability": 0.6}}}}},
    }
    sc = ds.load_scenario(data)
    sampler = ShockSampler(sc, seed=9)
    lo = sampler.success(compile_strategy(sc, "baseline"), 0, RUNS)[:, 0, 0]
    hi = sampler.success(compile_strategy(sc, "better"), 0, RUNS)[:, 0, 0]
    within(lo.astype(float), 0.3, math.sqrt(0.21))
    within(hi.astype(float), 0.6, math.sqrt(0.24))
    assert np.all(hi[lo])  # every run that succeeded at 0.3 also succeeds at 0.6
