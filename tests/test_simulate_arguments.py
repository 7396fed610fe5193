"""simulate's argument checks: the one place that checks them (the CLI reuses them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import disruptsim as ds
from disruptsim.errors import ArgumentError
from disruptsim.run.engine import default_batch_runs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scenario():
    return ds.load_scenario(ROOT / "scenarios" / "example-minimal.yaml")


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"runs": 0}, "runs"),
        ({"runs": 2.5}, "runs"),
        ({"runs": True}, "runs"),
        ({"batch_runs": 0}, "batch_runs"),
        ({"trace_runs": -1}, "trace_runs"),
        ({"threads": 0}, "threads"),
        ({"backend": "spark"}, "backend"),
        ({"scheduler": "tcp://127.0.0.1:1"}, "scheduler"),
        ({"keep": "some"}, "keep"),
        ({"strategies": ["nope"]}, "strategies"),
    ],
)
def test_bad_arguments_name_the_parameter(scenario, kwargs, argument):
    with pytest.raises(ArgumentError) as info:
        ds.simulate(scenario, **{"runs": 10, **kwargs})
    assert info.value.argument == argument
    assert isinstance(info.value, ValueError)


def test_numpy_integers_are_integers(scenario):
    a = ds.simulate(scenario, runs=np.int64(30), seed=2, batch_runs=np.int64(7))
    b = ds.simulate(scenario, runs=30, seed=2)
    assert a.n_runs == 30 and type(a.n_runs) is int
    np.testing.assert_array_equal(
        a.strategies["baseline"].metrics, b.strategies["baseline"].metrics
    )


def test_default_batch_size_rule():
    assert default_batch_runs(100) == default_batch_runs(10**6, "local") == 4096
    assert default_batch_runs(1, "dask") == default_batch_runs(100, "dask") == 256
    assert default_batch_runs(20_000, "dask") == 625
    assert default_batch_runs(10**6, "dask") == 4096
