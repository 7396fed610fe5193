"""The NumPy engine of the benchmarks computes what the kernel computes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import disruptsim as ds
from disruptsim import conventions as kernel
from disruptsim.run import engine
from disruptsim.synthetic import synthetic_scenario

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
numpy_engine = pytest.importorskip("numpy_engine")


def _check(scenario: ds.Scenario, runs: int, seed: int = 3) -> None:
    plan = engine.BatchPlan.build(scenario, seed, scenario.strategy_names, trace_runs=0)
    for name in scenario.strategy_names:
        model = plan.models[name]
        events = plan.sampler.events(scenario.world(name), 0, runs)
        success = plan.sampler.success(model, 0, runs)
        expected = engine.run_strategy_batch(model, events, success, 0)
        got = numpy_engine.run_batch_numpy(model, events, success)
        assert got.metrics.shape == expected.metrics.shape
        np.testing.assert_allclose(
            got.metrics, expected.metrics, rtol=1e-9, atol=1e-6, equal_nan=True, err_msg=name
        )
        np.testing.assert_array_equal(got.sum_short, expected.sum_short)
        # Fixed-point daily sums: each run may round differently by one unit at most.
        assert np.abs(got.sum_gap - expected.sum_gap).max() <= runs
        assert np.abs(got.sum_stock_deficit - expected.sum_stock_deficit).max() <= runs


@pytest.mark.parametrize("n_products", [3, 12])
def test_synthetic_scenarios_agree(n_products: int) -> None:
    mapping = synthetic_scenario(n_products, 15, horizon_days=200, seed=n_products)
    _check(ds.load_scenario(mapping), runs=64)


def test_shipped_example_agrees() -> None:
    # Hazards limited to some products (several product groups) and a deterministic shock.
    scenario = ds.load_scenario(ROOT / "scenarios" / "example-minimal.yaml")
    _check(scenario, runs=128)


def test_disruption_actually_happens() -> None:
    # Guard against a vacuous agreement: the compared runs do see shortages.
    mapping = synthetic_scenario(12, 15, horizon_days=200, seed=12, strategies=False)
    scenario = ds.load_scenario(mapping)
    plan = engine.BatchPlan.build(scenario, 3, ["baseline"], trace_runs=0)
    events = plan.sampler.events(scenario.world("baseline"), 0, 64)
    success = plan.sampler.success(plan.models["baseline"], 0, 64)
    out = numpy_engine.run_batch_numpy(plan.models["baseline"], events, success).metrics
    assert np.nanmax(out[:, :-1, kernel.M_UNMET]) > 0
    assert np.nanmax(out[:, :-1, kernel.M_RELEASED]) > 0
