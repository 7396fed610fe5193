"""The kernel against frozen copies of earlier kernels, bit for bit (issue #17).

``benchmarks/frozen/kernel_v1.py`` is the kernel as it was before the per-day availability
cache (commit 68da504: structured inputs, situations, demand restraint, recycling). The
cache must not change a single bit: per-run metrics, daily sums and traces are compared
with ``np.array_equal`` on the hazard-heavy synthetic scenarios, every strategy of every
shipped scenario, and random scenarios (the generator of the kernel/reference agreement
test). ``kernel_v0.py`` predates the levers: it is compared on the hazard-heavy scenario
(no levers) on its 21 metrics.

Slow: the frozen kernels are compiled without numba's cache (about a minute).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import disruptsim as ds
from disruptsim.model.compiler import compile_strategy
from disruptsim.model.shocks import ShockSampler
from disruptsim.run import engine
from disruptsim.synthetic import hazard_heavy_scenario

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from frozen.kernel_v0 import run_strategy_batch_v0  # noqa: E402
from frozen.kernel_v1 import run_strategy_batch_v1  # noqa: E402
from test_reference_agreement import scenarios  # noqa: E402

pytestmark = pytest.mark.slow


def _batches(scenario: ds.Scenario, strategy: str, runs: int, seed: int = 3):
    model = compile_strategy(scenario, strategy)
    sampler = ShockSampler(scenario, seed)
    events = sampler.events(scenario.world(strategy), 0, runs)
    success = sampler.success(model, 0, runs)
    return model, events, success


def _assert_same_as_v1(scenario: ds.Scenario, strategy: str, runs: int, n_trace: int) -> None:
    model, events, success = _batches(scenario, strategy, runs)
    new = engine.run_strategy_batch(model, events, success, n_trace)
    old = run_strategy_batch_v1(model, events, success, n_trace)
    mine = (new.metrics, new.sum_gap, new.sum_short, new.sum_stock_deficit)
    if n_trace:
        mine += (new.trace_phi, new.trace_stock)
    names = ("metrics", "sum_gap", "sum_short", "sum_stock_deficit", "trace_phi", "trace_stock")
    for name, a, b in zip(names, mine, old, strict=False):
        assert np.array_equal(a, b, equal_nan=True), f"{scenario.name}/{strategy}: {name} differ"


@pytest.mark.parametrize("filtered", [False, True])
def test_hazard_heavy_bit_identical_to_frozen(filtered):
    scenario = ds.load_scenario(hazard_heavy_scenario(30, 15, 400, seed=1, filtered=filtered))
    _assert_same_as_v1(scenario, "baseline", 600, n_trace=20)


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenarios_bit_identical_to_frozen(path):
    scenario = ds.load_scenario(path)
    for strategy in scenario.strategies:
        _assert_same_as_v1(scenario, strategy, 300, n_trace=10)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios(), runs=st.integers(1, 40))
def test_random_scenarios_bit_identical_to_frozen(data, runs):
    _assert_same_as_v1(ds.load_scenario(data), "baseline", runs, n_trace=runs)


def test_hazard_heavy_bit_identical_to_v0():
    scenario = ds.load_scenario(hazard_heavy_scenario(30, 15, 400, seed=2))
    model, events, success = _batches(scenario, "baseline", 600)
    new = engine.run_strategy_batch(model, events, success, 0)
    old = run_strategy_batch_v0(model, events, success, 0)
    n = old[0].shape[-1]
    assert np.array_equal(new.metrics[..., :n], old[0], equal_nan=True)
    assert not np.nan_to_num(new.metrics[..., n:]).any(), "a lever v0 lacks was used"
    for a, b in zip((new.sum_gap, new.sum_short, new.sum_stock_deficit), old[1:], strict=True):
        assert np.array_equal(a, b)
