"""Same seed, same numbers: across thread counts, batch sizes, study sizes and processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

import disruptsim as ds
from disruptsim.synthetic import synthetic_scenario

SCENARIO = synthetic_scenario(n_products=8, n_countries=6, horizon_days=200, seed=4)


@pytest.fixture(scope="module")
def scenario():
    return ds.load_scenario(SCENARIO)


def fingerprint(result) -> str:
    h = hashlib.sha256()
    for name, s in result.strategies.items():
        h.update(name.encode())
        for arr in (s.metrics, s.trace_fulfilment, s.trace_stock, s.mean_fulfilment, s.mean_stock, s.shortage_probability):
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def assert_same(a, b):
    assert a.strategy_names == b.strategy_names
    for name in a.strategy_names:
        sa, sb = a.strategies[name], b.strategies[name]
        np.testing.assert_array_equal(sa.metrics, sb.metrics)
        np.testing.assert_array_equal(sa.mean_fulfilment, sb.mean_fulfilment)
        np.testing.assert_array_equal(sa.mean_stock, sb.mean_stock)
        np.testing.assert_array_equal(sa.shortage_probability, sb.shortage_probability)
        n = min(len(sa.trace_fulfilment), len(sb.trace_fulfilment))
        np.testing.assert_array_equal(sa.trace_fulfilment[:n], sb.trace_fulfilment[:n])
        np.testing.assert_array_equal(sa.trace_stock[:n], sb.trace_stock[:n])


def test_same_seed_same_result_and_other_seed_differs(scenario):
    a = ds.simulate(scenario, runs=300, seed=1)
    b = ds.simulate(scenario, runs=300, seed=1)
    c = ds.simulate(scenario, runs=300, seed=2)
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)


def test_bit_identical_across_batch_sizes(scenario):
    a = ds.simulate(scenario, runs=500, seed=3, batch_runs=4096, trace_runs=50)
    b = ds.simulate(scenario, runs=500, seed=3, batch_runs=37, trace_runs=50)
    assert_same(a, b)


def test_bit_identical_across_thread_counts(scenario):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here")
    a = ds.simulate(scenario, runs=400, seed=5, threads=1)
    b = ds.simulate(scenario, runs=400, seed=5, threads=2)
    assert_same(a, b)


def test_first_runs_of_a_larger_study_are_the_smaller_study(scenario):
    small = ds.simulate(scenario, runs=200, seed=6, trace_runs=100)
    large = ds.simulate(scenario, runs=700, seed=6, trace_runs=100)
    for name in small.strategy_names:
        np.testing.assert_array_equal(small.strategies[name].metrics, large.strategies[name].metrics[:200])
        np.testing.assert_array_equal(small.strategies[name].trace_fulfilment, large.strategies[name].trace_fulfilment)


CHILD = """
import json, sys, hashlib, numpy as np
import disruptsim as ds
sc = ds.load_scenario(json.loads(sys.argv[1]))
r = ds.simulate(sc, runs=300, seed=8, batch_runs=int(sys.argv[2]))
h = hashlib.sha256()
for name, s in r.strategies.items():
    for arr in (s.metrics, s.trace_fulfilment, s.mean_fulfilment, s.mean_stock, s.shortage_probability):
        h.update(np.ascontiguousarray(arr).tobytes())
print(h.hexdigest())
"""


def test_bit_identical_in_separate_processes_with_1_and_2_threads():
    digests = set()
    for threads, batch in (("1", "300"), ("2", "64")):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(SCENARIO), batch],
            env=env, capture_output=True, text=True, check=True, timeout=300,
        )
        digests.add(out.stdout.strip().splitlines()[-1])
    assert len(digests) == 1


def test_a_subset_of_strategies_gives_the_same_runs(scenario):
    """Streams are keyed by hazard and product name, so a strategy's futures do not depend
    on which other strategies are simulated beside it."""
    every = ds.simulate(scenario, runs=150, seed=9)
    for name in scenario.strategy_names[1:]:
        alone = ds.simulate(scenario, runs=150, seed=9, strategies=[name])
        assert alone.strategy_names == ("baseline", name)
        np.testing.assert_array_equal(alone.strategies[name].metrics, every.strategies[name].metrics)
        np.testing.assert_array_equal(alone.strategies["baseline"].metrics, every.strategies["baseline"].metrics)
