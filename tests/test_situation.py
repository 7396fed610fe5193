"""Situations: the format and its checks, residual lives, sampling from today."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import disruptsim as ds
from disruptsim.model.shocks import ShockSampler, residual_durations, uniforms
from disruptsim.model.situation import FAILED, load_situation, scenario_situation, start_state
from disruptsim.scenario.distributions import Fixed, LogNormal, Triangular

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SOLAR = SCENARIOS / "solar-pv.yaml"

GOOD = """\
day: 120
events:
  - hazard: cn_export_controls
    started_day: 60
    severity: 0.8
    ends_day: null
  - {countries: [IDN], products: [pv_modules], started_day: 100, severity: 1.0, ends_day: 190}
stocks: {pv_modules: {days: 12}}
disrupted_since: {pv_modules: 61}
qualified: {pv_modules: {diversification: 110}}
"""


@pytest.fixture(scope="module")
def solar() -> ds.Scenario:
    return ds.load_scenario(SOLAR)


def test_a_situation_file_is_read_and_resolved(solar, write_yaml):
    situation = load_situation(write_yaml(GOOD, "today.yaml"), solar)
    assert situation.day == 120 and situation.decided_day == 120
    assert situation.stocks == {"pv_modules": ("days", 12.0)}
    assert situation.disrupted_since == {"pv_modules": 61}
    assert situation.qualified == {"pv_modules": {"diversification": 110}}
    events = situation.events_for(solar.baseline, solar.baseline)
    assert [e.name for e in events] == ["cn_export_controls", "situation event 1"]
    assert events[0].hazard is not None and events[0].severity == 0.8 and events[0].ends_day is None
    assert events[0].recovery_days == 60.0  # the hazard's
    assert events[1].countries == {"IDN": 1.0} and events[1].products == ("pv_modules",)
    assert load_situation(situation.to_dict(), solar) == situation  # round trip

    model = situation.compile(solar, "baseline")
    state = start_state(situation, model)
    i = model.products.index("pv_modules")
    assert state.day == 120
    assert state.stock[i] == pytest.approx(12 * model.arrays.requirement[120, i])
    assert state.first[i] == 61 and state.qual[0, i] == 110 and state.qual[1, i] == -1
    assert (state.first[np.arange(len(model.products)) != i] == -1).all()


BAD = [
    (
        "day: 2000\n",
        "2000.yaml:1:1: day: expected a day before the horizon (1095 days), found 2000",
    ),
    (
        "day: 10\nevents:\n  - {hazard: cn_export_control, started_day: 1}\n",
        ":3:6: events[0].hazard: unknown hazard 'cn_export_control'; did you mean 'cn_export_controls'?",
    ),
    (
        "day: 10\nevents:\n  - {hazard: cn_export_controls, started_day: 11}\n",
        ":3:34: events[0].started_day: expected a day on or before today (10), found 11",
    ),
    (
        "day: 10\nstocks:\n  pv_modules: {days: 45}\n",
        ":3:3: stocks.pv_modules: stock of 6750 units is above the target of 4500 units "
        "(strategy 'baseline'); expected at most the target",
    ),
    (
        "day: 10\nstocks:\n  pv_module: {days: 4}\n",
        ":3:3: stocks.pv_module: unknown product 'pv_module'; did you mean 'pv_modules'?",
    ),
    (
        "day: 10\nstocks:\n  pv_modules: {days: 4, units: 3}\n",
        ":3:3: stocks.pv_modules: expected exactly one of days or units",
    ),
    (
        "day: 10\nevents:\n  - {countries: [IDN], started_day: 2, severity: 1, ends_day: 5}\n",
        ":3:53: events[0].ends_day: the event is over by today (ends on day 5, recovered 0 days "
        "later): remove it",
    ),
    (
        "day: 10\nevents:\n  - {countries: [IDX], started_day: 2, severity: 1, ends_day: 50}\n",
        ":3:6: events[0].countries.IDX: unknown country code 'IDX'",
    ),
    (
        "day: 10\nqualified: {pv_modules: {diversification: 5}}\n",
        ":2:26: qualified.pv_modules.diversification: a qualified option needs the product's "
        "first disruption: add disrupted_since.pv_modules",
    ),
    ("day: 10\ntoday: 3\n", ":2:1: today: unknown key"),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_situations_are_reported_with_positions(solar, write_yaml, text, expected):
    path = write_yaml(text, "2000.yaml" if "2000" in expected else "bad.yaml")
    with pytest.raises(ds.ScenarioError) as info:
        load_situation(path, solar)
    assert expected in str(info.value), str(info.value)


def test_a_hazard_that_cannot_last_so_long_needs_an_end(solar):
    data = {"day": 300, "events": [{"hazard": "sea_trade_disruption", "started_day": 10}]}
    with pytest.raises(ds.ScenarioError, match="cannot last 291 days or more"):
        load_situation(data, solar)


def test_a_situation_block_in_a_scenario_is_checked_at_its_place(write_yaml):
    text = SOLAR.read_text(encoding="utf-8")
    block = "situation:\n  day: 30\n  disrupted_since: {pv_modules: 40}\n"
    path = write_yaml(text + block, "with-situation.yaml")
    scenario = ds.load_scenario(path)
    assert scenario.situation == {"day": 30, "disrupted_since": {"pv_modules": 40}}
    lines = text.count("\n")
    with pytest.raises(ds.ScenarioError) as info:
        scenario_situation(scenario)
    assert (
        f"with-situation.yaml:{lines + 3}:21: situation.disrupted_since.pv_modules: "
        "expected a day on or before today (30), found 40"
    ) in str(info.value)
    assert scenario_situation(ds.load_scenario(SOLAR)) is None


def test_failed_options_and_decision_day(solar):
    situation = load_situation(
        {
            "day": 200,
            "decided_day": 0,
            "disrupted_since": {"pv_modules": 61},
            "qualified": {"pv_modules": {"diversification": None}},
        },
        solar,
    )
    model = situation.compile(solar, "baseline")
    state = start_state(situation, model)
    assert state.qual[0, model.products.index("pv_modules")] == FAILED
    assert situation.decided_day == 0


# -- residual life ------------------------------------------------------------------------------


def lognormal_conditional_mean(d: LogNormal, c: float) -> float:
    """E[D | D >= c] of a log-normal: exp(mu + s^2/2) Phi((mu + s^2 - ln c)/s) / P(D >= c)."""
    mu, s = math.log(d.median), d.sigma()
    tail = stats.norm.sf((math.log(c) - mu) / s)
    return math.exp(mu + s * s / 2) * stats.norm.cdf((mu + s * s - math.log(c)) / s) / tail


@pytest.mark.parametrize("elapsed", [0, 30, 120, 400])
def test_residual_durations_follow_the_conditional_lognormal(elapsed):
    d = LogNormal(dist="lognormal", median=180, p95=540)
    n = 200_000
    u = uniforms(7, "residual-test", 4, 0, n // 4).ravel()
    whole = residual_durations(d, elapsed, u, horizon_days=100_000)
    assert whole.min() >= elapsed + 1
    # Before rounding: D | D >= elapsed + 1/2 (no condition on day 0).
    c = elapsed + 0.5 if elapsed >= 1 else 1e-300
    lo = d.below(c) if elapsed >= 1 else 0.0
    raw = d.ppf(lo + u * (1.0 - lo))
    expected = lognormal_conditional_mean(d, c)
    assert abs(raw.mean() - expected) < 4 * raw.std() / math.sqrt(n)
    # Rounded to whole days: the mean moves by less than half a day (plus sampling error).
    assert abs(whole.mean() - raw.mean()) < 0.5 + 4 * raw.std() / math.sqrt(n)
    # Survival to each whole-day length matches sf(k + 1/2) / sf(c).
    for k in (elapsed + 10, elapsed + 100, elapsed + 365):
        p = stats.lognorm.sf(k + 0.5, d.sigma(), scale=d.median) / stats.lognorm.sf(
            c, d.sigma(), scale=d.median
        )
        observed = float((whole > k).mean())
        assert abs(observed - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-12


def test_residual_durations_of_fixed_and_bounded_distributions():
    u = np.linspace(0, 0.999, 50)
    fixed = residual_durations(Fixed(value=90.0), 40, u, 1000)
    assert (fixed == 90).all()  # fixed: the residual is deterministic
    tri = Triangular(dist="triangular", low=14, mode=45, high=180)
    out = residual_durations(tri, 100, u, 1000)
    assert out.min() >= 101 and out.max() <= 180
    assert (np.diff(out) >= 0).all()  # inverse transform: monotone in u (common random numbers)
    with pytest.raises(ValueError, match="cannot last more than 200 days"):
        residual_durations(tri, 200, u, 1000)
    with pytest.raises(ValueError):
        residual_durations(Fixed(value=30.0), 40, u, 1000)


# -- sampling from today ----------------------------------------------------------------------


def test_sampling_from_today(solar):
    situation = load_situation(
        {
            "day": 300,
            "events": [
                {"hazard": "cn_export_controls", "started_day": 200},
                {
                    "hazard": "shipping_disruption",
                    "started_day": 290,
                    "severity": 0.4,
                    "ends_day": 320,
                },
            ],
        },
        solar,
    )
    world = solar.baseline
    in_force = situation.events_for(world, solar.baseline)
    sampler = ShockSampler(solar, 3)
    events = sampler.events(world, 0, 400, day=300, in_force=in_force)
    H = len(world.hazards) + len(world.shocks)
    new = events.hazard < H
    assert (events.start[new] >= 300).all() and new.any()
    first, second = events.hazard == H, events.hazard == H + 1
    assert first.sum() == second.sum() == 400  # one of each per run
    assert (events.start[first] == 200).all() and (events.end[first] >= 301).all()
    assert len(np.unique(events.severity[first])) > 100  # unknown: drawn per run
    assert (events.severity[second] == 0.4).all() and (events.end[second] == 320).all()
    # Run r depends only on (seed, r): a later batch gives the same events.
    tail = sampler.events(world, 250, 400, day=300, in_force=in_force)
    lo = events.ptr[250]
    for key in ("hazard", "start", "end", "recovery", "severity"):
        np.testing.assert_array_equal(getattr(tail, key), getattr(events, key)[lo:], err_msg=key)
    # From day 0 with nothing in force: exactly the events of a fresh study.
    fresh = sampler.events(world, 0, 50)
    again = sampler.events(world, 0, 50, day=0, in_force=())
    for a, b in zip(fresh, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_events_in_force_are_coupled_across_strategies(write_yaml):
    """Common random numbers: a strategy with longer controls draws, run by run, a later end
    for the controls in force today, from the same uniforms."""
    text = SOLAR.read_text(encoding="utf-8")
    longer = """
  longer_controls:
    hazards:
      - name: cn_export_controls
        countries: [CHN]
        annual_probability: 0.08
        severity: {dist: beta, mean: 0.6, sd: 0.2}
        duration_days: {dist: lognormal, median: 360, p95: 1080}
        recovery_days: 60
"""
    marker = "strategies:\n  baseline: {}\n"
    assert marker in text
    scenario = ds.load_scenario(write_yaml(text.replace(marker, marker + longer), "longer.yaml"))
    situation = load_situation(
        {"day": 120, "events": [{"hazard": "cn_export_controls", "started_day": 60}]}, scenario
    )
    sampler = ShockSampler(scenario, 11)
    ends = {}
    for name in ("baseline", "longer_controls"):
        world = scenario.world(name)
        events = sampler.events(world, 0, 500, 120, situation.events_for(world, scenario.baseline))
        mine = events.hazard == len(world.hazards) + len(world.shocks)
        ends[name] = events.end[mine]
        severities = events.severity[mine]
    assert (ends["longer_controls"] >= ends["baseline"]).all()
    assert (ends["longer_controls"] > ends["baseline"]).mean() > 0.9
    assert len(np.unique(severities)) > 400
