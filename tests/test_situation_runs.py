"""Runs from a situation: splitting invariance (kernel and twin), kernel == twin, the contract.

Splitting invariance: a run continued from its own state on day t0, with the same events
from t0 on, gives exactly the days t0..T-1 of the uninterrupted run. The state is the
twin's export (:meth:`ReferenceRun.situation`) or the kernel's (stocks at the start of t0,
``snap_day``), on random scenarios from the generators of the agreement tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_reference_agreement import assert_agree, scales, scenarios

import disruptsim as ds
from disruptsim.model.compiler import compile_strategy, whole_days
from disruptsim.model.reference import ReferenceRun
from disruptsim.model.shocks import EventBatch, ShockSampler
from disruptsim.model.situation import Situation, start_state
from disruptsim.run.engine import run_strategy_batch

RUNS = 3
PENDING = {
    "name": "pending",
    "home": "EU27",
    "horizon_days": 40,
    "shocks": [{"countries": ["CHN"], "start_day": 5, "duration_days": 20, "severity": 0.8}],
    "products": {
        "p0": {
            "unit": "t",
            "unit_value": 1.0,
            "final_demand_per_day": 10.0,
            "sources": {"CHN": 0.7, "IND": 0.3},
            "stockpile": {"initial_days": 2},
            "diversification": {"lag_days": 8, "ramp_days": 4, "max_share": 0.3},
            "substitution": {"lag_days": 2, "max_share": 0.1},
        }
    },
}
"""Disrupted from day 5; on day 10 diversification is pending (day 13), substitution qualified."""
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def continuation(events: EventBatch, run: int, t0: int, situation: Situation, world) -> EventBatch:
    """One run's events continued from ``situation`` (day t0), in the original order.

    Events that started before t0 and are still in force become the situation's events (the
    kinds after the hazards and shocks, known severity and end); later ones stay as they
    are; the order is kept, so that overlapping losses multiply in the same order.
    """
    first = len(world.hazards) + len(world.shocks)
    in_force = situation.events_for(world, world)
    k = 0
    rows = []
    for e in range(events.ptr[run], events.ptr[run + 1]):
        row = (
            events.hazard[e],
            events.start[e],
            events.end[e],
            events.recovery[e],
            events.severity[e],
        )
        if events.start[e] >= t0:
            rows.append(row)
        elif _in_force(events, e, t0):
            ev = in_force[k]
            assert (ev.started_day, ev.ends_day, ev.severity) == row[1:2] + row[2:3] + row[4:5]
            rows.append(
                (first + k, ev.started_day, ev.ends_day, whole_days(ev.recovery_days), ev.severity)
            )
            k += 1
    assert k == len(in_force)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 5
    types = (np.int64,) * 4 + (np.float64,)
    return EventBatch(
        np.array([0, len(rows)]), *(np.array(c, dtype=t) for c, t in zip(cols, types, strict=True))
    )


def _in_force(events: EventBatch, e: int, t0: int) -> bool:
    return bool(
        events.start[e] < t0
        and events.end[e] + events.recovery[e] > t0
        and events.severity[e] > 0.0
    )


def kernel_situation(scenario, events, run, t0, stock, first) -> Situation:
    """The kernel run's state on day t0: its stocks then, first disruptions before, events in force."""
    world = scenario.baseline
    H = len(world.hazards)
    out = []
    for e in range(events.ptr[run], events.ptr[run + 1]):
        if not _in_force(events, e, t0):
            continue
        kind = int(events.hazard[e])
        entry: dict[str, Any]
        if kind < H:
            entry = {"hazard": world.hazards[kind].name}
        else:
            shock = world.shocks[kind - H]
            entry = {"countries": dict(shock.countries)}
            if shock.products is not None:
                entry["products"] = list(shock.products)
        entry.update(
            started_day=int(events.start[e]),
            severity=float(events.severity[e]),
            ends_day=int(events.end[e]),
            recovery_days=float(events.recovery[e]),
        )
        out.append(entry)
    model = compile_strategy(scenario)
    stocks = {
        p: ("units", float(stock[i]))
        for i, p in enumerate(model.products)
        if model.arrays.stock_target[i] > 0
    }
    since = {p: int(f) for p, f in zip(model.products, first, strict=True) if 0 <= f < t0}
    return Situation(t0, 0, tuple(out), stocks, since, {})


def sample(scenario, seed):
    model = compile_strategy(scenario)
    sampler = ShockSampler(scenario, seed)
    return model, sampler.events(scenario.baseline, 0, RUNS), sampler.success(model, 0, RUNS)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(scenarios(), st.integers(0, 5), st.floats(0, 1))
@example(PENDING, 0, 0.25)
def test_twin_continued_from_its_own_state_repeats_the_run(data, seed, where):
    scenario = ds.load_scenario(data)
    _, events, success = sample(scenario, seed)
    t0 = min(scenario.horizon_days - 1, int(where * scenario.horizon_days))
    for r in range(2):  # the twin is slow: two runs of each example
        whole = ReferenceRun(scenario, "baseline", events, success, r).run()
        situation = ReferenceRun(scenario, "baseline", events, success, r).situation(t0)
        rest = continuation(events, r, t0, situation, scenario.baseline)
        cont = ReferenceRun(scenario, "baseline", rest, success[r : r + 1], 0, situation).run()
        for key, values in whole.daily.items():
            np.testing.assert_array_equal(cont.daily[key][t0:], values[t0:], err_msg=key)
            assert np.isnan(cont.daily[key][:t0]).all()
        # Its export round-trips through the checks of load_situation.
        assert ds.load_situation(situation.to_dict(), scenario) == situation


@SETTINGS
@given(scenarios(), st.integers(0, 5), st.floats(0, 1), st.floats(0, 1))
@example(PENDING, 0, 0.25, 0.0)
def test_kernel_continued_from_its_own_state_repeats_the_run(data, seed, where, later):
    scenario = ds.load_scenario(data)
    model, events, success = sample(scenario, seed)
    T = scenario.horizon_days
    t0 = min(T - 1, int(where * T))
    t1 = t0 + int(later * (T - t0))  # a later day whose stocks must agree too
    at_t0 = run_strategy_batch(model, events, success, RUNS, snap_day=t0)
    at_t1 = run_strategy_batch(model, events, success, RUNS, snap_day=t1)
    first = at_t0.metrics[:, :-1, 1]  # first_disruption_day per product
    for r in range(RUNS):
        f = np.where(np.isnan(first[r]), -1, first[r]).astype(np.int64)
        situation = kernel_situation(scenario, events, r, t0, at_t0.snap_stock[r], f)
        cont_model = situation.compile(scenario, "baseline")
        start = start_state(situation, cont_model)
        np.testing.assert_array_equal(start.stock, at_t0.snap_stock[r])
        rest = continuation(events, r, t0, situation, scenario.baseline)
        cont = run_strategy_batch(cont_model, rest, success[r : r + 1], 1, start=start, snap_day=t1)
        np.testing.assert_array_equal(cont.trace_phi[0, t0:], at_t0.trace_phi[r, t0:])
        np.testing.assert_array_equal(cont.trace_stock[0, t0:], at_t0.trace_stock[r, t0:])
        assert np.isnan(cont.trace_phi[0, :t0]).all()
        if t1 < T:
            np.testing.assert_array_equal(cont.snap_stock[0], at_t1.snap_stock[r])
        # Fixed-point daily sums of one run: exact, and zero before today.
        for name in ("sum_gap", "sum_short", "sum_stock_deficit"):
            alone = run_strategy_batch(model, _one(events, r), success[r : r + 1], 0)
            np.testing.assert_array_equal(
                getattr(cont, name)[t0:], getattr(alone, name)[t0:], err_msg=name
            )
            assert not getattr(cont, name)[:t0].any()


def situation_batch(scenario, situation: Situation, runs: int, seed: int, strategy="baseline"):
    """A strategy compiled for ``situation`` and the events and success draws of ``runs``
    runs continued from it: ``(model, events, success)``."""
    world = scenario.world(strategy)
    model = situation.compile(scenario, strategy)
    sampler = ShockSampler(scenario, seed)
    in_force = situation.events_for(world, scenario.baseline)
    events = sampler.events(world, 0, runs, situation.day, in_force)
    return model, events, sampler.success(model, 0, runs)


def _one(events: EventBatch, r: int) -> EventBatch:
    lo, hi = events.ptr[r], events.ptr[r + 1]
    return EventBatch(np.array([0, hi - lo]), *(a[lo:hi] for a in events[1:]))


# -- kernel == twin from random situations ---------------------------------------------------


@st.composite
def situations(draw, scenario) -> dict[str, Any]:
    """A random valid situation of a (baseline-only) scenario."""
    T = scenario.horizon_days
    world = scenario.baseline
    day = draw(st.integers(0, T - 1))
    decided = draw(st.sampled_from([day, 0, day // 2]))
    names = list(world.products)
    out: dict[str, Any] = {"day": day, "decided_day": decided}
    events = []
    for hazard in world.hazards:
        if not draw(st.booleans()):
            continue
        started = draw(st.integers(0, day))
        event: dict[str, Any] = {"hazard": hazard.name, "started_day": started}
        if draw(st.booleans()):
            event["severity"] = draw(st.floats(0, 1.0))  # a loss above 1 is refused
        elapsed = day - started
        if draw(st.booleans()) or (
            elapsed >= 1 and hazard.duration_days.below(elapsed + 0.5) >= 1.0
        ):
            event["ends_day"] = day + draw(st.integers(1, 30))
        events.append(event)
    if draw(st.booleans()):
        started = draw(st.integers(0, day))
        event = {
            "countries": draw(
                st.lists(st.sampled_from(["CHN", "IND", "EU27", "USA"]), min_size=1, unique=True)
            ),
            "started_day": started,
            "severity": draw(st.floats(0.1, 1.0)),
            "ends_day": max(day, started) + draw(st.integers(1, 30)),
        }
        if draw(st.booleans()):
            event["products"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        events.append(event)
    out["events"] = events
    model = compile_strategy(scenario, decided_day=decided)
    stocks = {}
    for i, name in enumerate(model.products):
        if model.arrays.stock_target[i] > 0 and draw(st.booleans()):
            stocks[name] = {
                "units": float(model.arrays.stock_target[i])
                * draw(st.sampled_from([0.0, 0.3, 0.9, 1.0]))
            }
    out["stocks"] = stocks
    since = {n: draw(st.integers(0, day)) for n in names if draw(st.booleans())}
    out["disrupted_since"] = since
    qualified: dict[str, dict[str, int | None]] = {}
    for name in since:
        for kind in ("diversification", "substitution"):
            if getattr(world.products[name], kind) is not None and draw(st.booleans()):
                qualified.setdefault(name, {})[kind] = draw(
                    st.one_of(st.none(), st.integers(since[name], day))
                )
    out["qualified"] = qualified
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), scenarios(), st.integers(0, 5))
def test_kernel_and_twin_agree_from_random_situations(draw, data, seed):
    scenario = ds.load_scenario(data)
    situation = ds.load_situation(draw.draw(situations(scenario)), scenario)
    model, events, success = situation_batch(scenario, situation, RUNS, seed)
    batch = run_strategy_batch(model, events, success, RUNS, start=start_state(situation, model))
    scale = scales(model)
    for r in range(RUNS):
        ref = ReferenceRun(scenario, "baseline", events, success, r, situation).run()
        assert_agree(batch.metrics[r], ref.metrics_array(), scale, where=f"run {r}:")
        expected = ref.daily["fulfilment"][situation.day :]
        np.testing.assert_allclose(batch.trace_phi[r, situation.day :], expected, atol=1e-6)


@pytest.mark.parametrize(
    "today",
    [
        {"day": 10, "disrupted_since": {"p0": 5}},
        {"day": 10, "disrupted_since": {"p0": 5}, "qualified": {"p0": {"diversification": 9}}},
        {"day": 10, "disrupted_since": {"p0": 5}, "qualified": {"p0": {"substitution": None}}},
        {"day": 20, "disrupted_since": {"p0": 5}, "decided_day": 3},
    ],
)
def test_kernel_and_twin_agree_on_qualifications_from_a_situation(today):
    scenario = ds.load_scenario(PENDING)
    event = {"countries": ["CHN"], "started_day": 5, "severity": 0.8, "ends_day": 25}
    situation = ds.load_situation(
        {**today, "events": [event], "stocks": {"p0": {"units": 5}}}, scenario
    )
    model, events, success = situation_batch(scenario, situation, 1, 0)
    batch = run_strategy_batch(model, events, success, 1, start=start_state(situation, model))
    ref = ReferenceRun(scenario, "baseline", events, success, 0, situation).run()
    assert_agree(batch.metrics[0], ref.metrics_array(), scales(model))
    assert ref.metrics()["p0"]["diversified_units"] > 0 or "diversification" in today.get(
        "qualified", {}
    ).get("p0", {})


# -- the public API ---------------------------------------------------------------------------


TODAY = {
    "day": 200,
    "events": [{"hazard": "cn_export_controls", "started_day": 120}],
    "stocks": {"pv_modules": {"days": 10}},
    "disrupted_since": {"pv_modules": 121, "cells": 121, "wafers": 121, "polysilicon": 121},
}


@pytest.fixture(scope="module")
def solar():
    return ds.load_scenario("scenarios/solar-pv.yaml")


def test_simulate_from_a_situation(solar):
    result = ds.simulate(solar, runs=300, seed=4, situation=TODAY)
    s = result.strategies["baseline"]
    assert np.isnan(s.mean_fulfilment[:200]).all() and not np.isnan(s.mean_fulfilment[200:]).any()
    assert np.isnan(s.trace_fulfilment[:, :200]).all()
    first = s.metric("first_disruption_day", "pv_modules")
    assert (first == 121).all()  # time to recover is measured from the first disruption
    ttr = s.metric("ttr_days", "pv_modules")
    assert (ttr[ttr > 0] >= 200 - 121 + 1).all()
    assert result.info["situation"]["day"] == 200
    # A situation from today gives more shortage than a fresh start that day would.
    fresh = ds.simulate(solar, runs=300, seed=4)
    assert s.metric("unmet_units", "pv_modules").mean() > 0
    assert fresh.strategies["baseline"].metric("unmet_units", "pv_modules").mean() >= 0


@pytest.mark.parametrize(("threads", "batch_runs"), [(1, 7), (2, 64), (None, 4096)])
def test_bit_identical_from_a_situation_across_threads_and_batches(solar, threads, batch_runs):
    ref = ds.simulate(solar, runs=200, seed=9, situation=TODAY, threads=1, batch_runs=200)
    other = ds.simulate(
        solar, runs=200, seed=9, situation=TODAY, threads=threads, batch_runs=batch_runs
    )
    for name, s in ref.strategies.items():
        o = other.strategies[name]
        np.testing.assert_array_equal(s.metrics, o.metrics)
        np.testing.assert_array_equal(s.mean_fulfilment, o.mean_fulfilment)
        np.testing.assert_array_equal(s.trace_stock, o.trace_stock)
    # The first runs of a larger study are exactly a smaller study.
    small = ds.simulate(solar, runs=50, seed=9, situation=TODAY, threads=threads)
    np.testing.assert_array_equal(
        small.strategies["baseline"].metrics, ref.strategies["baseline"].metrics[:50]
    )


def test_strategies_are_decided_today(solar):
    """A reshoring decided on day 200 builds from day 200: no reshored supply before 200 + build."""
    today = ds.load_situation({"day": 200}, solar)
    model = today.compile(solar, "reshore_modules")
    i = model.products.index("pv_modules")
    frac = model.arrays.resh_frac[:, i]
    assert (frac[: 200 + 365] == 0).all() and frac[200 + 365] > 0
    early = ds.load_situation({"day": 200, "decided_day": 0}, solar).compile(
        solar, "reshore_modules"
    )
    assert early.arrays.resh_frac[365, i] > 0


# -- the command line ---------------------------------------------------------------------------


def test_cli_run_from_a_situation_file(tmp_path):
    from typer.testing import CliRunner

    from disruptsim import cli

    runner = CliRunner()
    situation = "scenarios/situations/solar-pv-export-controls.yaml"
    out = tmp_path / "today"
    args = ["run", "scenarios/solar-pv.yaml", "--situation", situation, "--runs", "200"]
    done = runner.invoke(cli.app, [*args, "--out", str(out), "--no-report"])
    assert done.exit_code == 0, done.output
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert '"situation"' in manifest and '"day": 120' in manifest

    bad = tmp_path / "bad.yaml"
    bad.write_text("day: 120\nstocks:\n  pv_modules: {days: 400}\n", encoding="utf-8")
    failed = runner.invoke(
        cli.app, [*args[:2], "--situation", str(bad), "--out", str(tmp_path / "x")]
    )
    assert failed.exit_code == 2
    assert f"{bad}:3:3: stocks.pv_modules: stock of" in failed.output
    assert "Traceback" not in failed.output
    assert not (tmp_path / "x").exists()
