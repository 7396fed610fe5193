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
from disruptsim.model.shocks import EventBatch, ShockSampler
from disruptsim.model.situation import start_state
from disruptsim.run import engine
from disruptsim.synthetic import hazard_heavy_scenario

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from frozen.kernel_v0 import run_strategy_batch_v0  # noqa: E402
from frozen.kernel_v1 import run_strategy_batch_v1  # noqa: E402
from test_reference_agreement import scenarios  # noqa: E402
from test_situation_runs import situation_batch, situations  # noqa: E402

pytestmark = pytest.mark.slow


def _batches(scenario: ds.Scenario, strategy: str, runs: int, seed: int = 3):
    model = compile_strategy(scenario, strategy)
    sampler = ShockSampler(scenario, seed)
    events = sampler.events(scenario.world(strategy), 0, runs)
    success = sampler.success(model, 0, runs)
    return model, events, success


def _assert_same_as_v1(scenario: ds.Scenario, strategy: str, runs: int, n_trace: int) -> None:
    model, events, success = _batches(scenario, strategy, runs)
    _assert_batch_same_as_v1(model, events, success, n_trace, where=f"{scenario.name}/{strategy}")


def _assert_batch_same_as_v1(
    model, events: EventBatch, success, n_trace: int, *, where: str, situation=None, snap_day=-1
) -> None:
    """The kernel and v1 on the same batch, bit for bit; traced days from the start day on."""
    start = start_state(situation, model)
    new = engine.run_strategy_batch(model, events, success, n_trace, start, snap_day)
    old = run_strategy_batch_v1(model, events, success, n_trace, start, snap_day)
    mine = (new.metrics, new.sum_gap, new.sum_short, new.sum_stock_deficit)
    names = ["metrics", "sum_gap", "sum_short", "sum_stock_deficit"]
    if n_trace:
        day = start.day
        mine += (new.trace_phi[:, day:], new.trace_stock[:, day:])
        old = (*old[:4], old[4][:, day:], old[5][:, day:], *old[6:])
        names += ["trace_phi", "trace_stock"]
    if snap_day >= 0:
        mine += (new.snap_stock,)
        names += ["snap_stock"]
    assert len(mine) == len(old)
    for name, a, b in zip(names, mine, old, strict=True):
        assert np.array_equal(a, b, equal_nan=True), f"{where}: {name} differ"


@pytest.mark.parametrize("filtered", [False, True])
def test_hazard_heavy_bit_identical_to_frozen(filtered):
    scenario = ds.load_scenario(hazard_heavy_scenario(30, 15, 400, seed=1, filtered=filtered))
    _assert_same_as_v1(scenario, "baseline", 600, n_trace=20)


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenarios_bit_identical_to_frozen(path):
    scenario = ds.load_scenario(path)
    for strategy in scenario.strategies:
        _assert_same_as_v1(scenario, strategy, 300, n_trace=10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


def _events(rows, runs: int) -> EventBatch:
    """A hand-made batch: ``rows`` of (run, hazard, start, end, recovery, severity)."""
    rows = sorted(rows, key=lambda r: r[0])
    ptr = np.searchsorted([r[0] for r in rows], np.arange(runs + 1), side="left")
    cols = list(zip(*rows, strict=True))[1:] if rows else [()] * 5
    ints = [np.array(c, dtype=np.int64) for c in cols[:4]]
    return EventBatch(ptr.astype(np.int64), *ints, np.array(cols[4], dtype=np.float64))


def test_back_to_back_identical_events_bit_identical_to_frozen():
    """An event ends on the day another of the same hazard and severity starts.

    The events in force on the two sides of that day look the same (same hazard, severity
    and profile), but their start and end moved: cached availabilities must be refreshed.
    Then the same with a recovery, with a different severity, with overlaps and with a
    third event that leaves the same day.
    """
    scenario = ds.load_scenario(hazard_heavy_scenario(12, 6, 200, seed=4))
    model = compile_strategy(scenario, "baseline")
    H = len(model.hazard_names)
    rows = [
        (0, 0, 10, 40, 0, 0.6), (0, 0, 40, 70, 0, 0.6),
        (1, 1, 10, 40, 20, 0.6), (1, 1, 40, 70, 20, 0.6),
        (2, 2, 10, 40, 0, 0.6), (2, 2, 40, 70, 0, 0.3), (2, 3 % H, 40, 45, 5, 1.0),
        (3, 0, 5, 60, 10, 1.0), (3, 0, 30, 60, 10, 1.0), (3, 0, 60, 90, 0, 1.0),
        (4, 4 % H, 0, 1, 0, 0.5), (4, 4 % H, 1, 2, 0, 0.5), (4, 4 % H, 2, 199, 1, 0.5),
    ]  # fmt: skip
    runs = 6  # run 5 has no event
    success = ShockSampler(scenario, 1).success(model, 0, runs)
    _assert_batch_same_as_v1(model, _events(rows, runs), success, runs, where="back to back")


def test_situation_and_snapshot_bit_identical_to_frozen():
    """Every strategy of the solar scenario from a situation in mid-crisis, with a snapshot."""
    scenario = ds.load_scenario(ROOT / "scenarios" / "solar-pv.yaml")
    situation = ds.load_situation(
        ROOT / "scenarios" / "situations" / "solar-pv-export-controls.yaml", scenario
    )
    for strategy in scenario.strategies:
        model, events, success = situation_batch(scenario, situation, 300, 5, strategy)
        for snap_day in (situation.day, situation.day + 45):
            _assert_batch_same_as_v1(
                model, events, success, 10, where=strategy, situation=situation,
                snap_day=snap_day,
            )  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(draw=st.data(), data=scenarios(), seed=st.integers(0, 5))
def test_random_situations_bit_identical_to_frozen(draw, data, seed):
    scenario = ds.load_scenario(data)
    situation = ds.load_situation(draw.draw(situations(scenario)), scenario)
    model, events, success = situation_batch(scenario, situation, 12, seed)
    snap_day = draw.draw(st.integers(-1, scenario.horizon_days - 1))
    _assert_batch_same_as_v1(
        model, events, success, 12, where="random situation", situation=situation,
        snap_day=snap_day,
    )  # fmt: skip
