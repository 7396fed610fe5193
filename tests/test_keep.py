"""simulate(keep=...): fewer per-run rows in memory, the same numbers for what is kept."""

from __future__ import annotations

import numpy as np
import pytest

import disruptsim as ds
from disruptsim.conventions import N_METRICS
from disruptsim.model.compiler import compile_strategy
from disruptsim.run import engine
from disruptsim.synthetic import synthetic_scenario


@pytest.fixture(scope="module")
def scenario():
    return ds.load_scenario(synthetic_scenario(8, 6, 120, seed=1))


@pytest.fixture(scope="module")
def full(scenario):
    return ds.simulate(scenario, runs=200, seed=2, keep="all")


@pytest.mark.parametrize("keep", ["final", "system"])
def test_kept_rows_equal_the_full_result(scenario, full, keep, tmp_path):
    result = ds.simulate(scenario, runs=200, seed=2, keep=keep)
    for name, s in result.strategies.items():
        f = full.strategies[name]
        assert s.row_labels[-1] == "system"
        for k, label in enumerate(s.row_labels):
            np.testing.assert_array_equal(s.metrics[:, k], f.metrics[:, f.row_labels.index(label)])
        np.testing.assert_array_equal(s.mean_fulfilment, f.mean_fulfilment)
    summary = result.summary()
    expected = full.summary()
    expected = expected[expected["product"].isin(summary["product"].unique())].reset_index(drop=True)
    assert set(summary["product"]) == set(result.strategies["baseline"].row_labels)
    np.testing.assert_array_equal(
        summary["total_cost_mean"].to_numpy(), expected["total_cost_mean"].to_numpy()
    )
    result.save(tmp_path / "out", report=False)
    loaded = ds.SimulationResult.load(tmp_path / "out")
    np.testing.assert_array_equal(loaded.strategies["baseline"].metrics, result.strategies["baseline"].metrics)


def test_final_keeps_final_demand_products(scenario):
    result = ds.simulate(scenario, runs=20, seed=2, keep="final")
    s = result.strategies["baseline"]
    assert s.row_labels == (*s.final_products(), "system")
    with pytest.raises(KeyError, match="not kept"):
        s.metric("total_cost", next(p for p in s.products if p not in s.row_labels))


def test_auto_keeps_everything_when_small_and_less_when_large(scenario, monkeypatch):
    models = {n: compile_strategy(scenario, n) for n in scenario.strategy_names}
    assert engine.resolve_keep("auto", models, 1000) == "all"
    monkeypatch.setattr(engine, "KEEP_BUDGET_BYTES", 10_000_000)
    per_run_all = sum(m.n_products + 1 for m in models.values()) * N_METRICS * 8
    assert engine.resolve_keep("auto", models, 10_000_000 // per_run_all + 1) in ("final", "system")
    assert engine.resolve_keep("auto", models, 10**9) == "system"
    with pytest.raises(ValueError, match="keep must be one of"):
        engine.resolve_keep("some", models, 10)
