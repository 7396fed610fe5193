"""The Dask backend: bit-identical to local runs, in any batching and completion order,
through a killed worker; clear errors when Dask or the scheduler is missing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason='needs pip install "disruptsim[dask]"')

import distributed  # noqa: E402

import disruptsim as ds  # noqa: E402
from disruptsim.run import distributed as dsd  # noqa: E402
from disruptsim.run.engine import (  # noqa: E402
    BatchPlan,
    batch_bounds,
    merge_batch,
    new_accumulators,
    simulate_batch,
)
from disruptsim.synthetic import synthetic_scenario  # noqa: E402

SCENARIO = synthetic_scenario(n_products=8, n_countries=6, horizon_days=200, seed=4)
RUNS, SEED, TRACE = 600, 11, 40


@pytest.fixture(scope="module")
def scenario():
    return ds.load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def local(scenario):
    return ds.simulate(scenario, runs=RUNS, seed=SEED, trace_runs=TRACE)


@pytest.fixture(scope="module")
def client():
    with (
        dsd.local_cluster(n_workers=2) as cluster,
        distributed.Client(cluster, set_as_default=False) as c,
    ):
        yield c


def assert_identical(a, b):
    """Every array, frame and summary of two results is the same, bit for bit."""
    assert a.strategy_names == b.strategy_names
    for name in a.strategy_names:
        sa, sb = a.strategies[name], b.strategies[name]
        for field in (
            "metrics",
            "trace_fulfilment",
            "trace_stock",
            "mean_fulfilment",
            "mean_stock",
            "shortage_probability",
        ):
            np.testing.assert_array_equal(getattr(sa, field), getattr(sb, field), err_msg=field)
        pd.testing.assert_frame_equal(a.runs(name), b.runs(name))
    if hasattr(a, "timeseries"):
        pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())
    if hasattr(a, "summary"):
        pd.testing.assert_frame_equal(a.summary(), b.summary())


@pytest.mark.parametrize("batch_runs", [64, 150, 4096])
def test_dask_equals_local_for_any_batch_size(scenario, local, client, batch_runs):
    remote = ds.simulate(
        scenario,
        runs=RUNS,
        seed=SEED,
        trace_runs=TRACE,
        batch_runs=batch_runs,
        backend="dask",
        scheduler=client,
    )
    assert_identical(local, remote)
    assert remote.timings["n_tasks"] == len(batch_bounds(RUNS, batch_runs))


def test_merge_is_independent_of_completion_order(scenario):
    plan = BatchPlan.build(scenario, SEED, scenario.strategy_names, TRACE)
    batches = [(r0, simulate_batch(plan, r0, r1)) for r0, r1 in batch_bounds(200, 23)]

    def merged(order):
        acc = new_accumulators(plan, 200)
        for k in order:
            r0, outputs = batches[k]
            for name, batch in outputs.items():
                merge_batch(acc[name], batch, r0)
        return acc

    reference = merged(range(len(batches)))
    rng = np.random.default_rng(0)
    for order in (range(len(batches) - 1, -1, -1), rng.permutation(len(batches))):
        acc = merged(order)
        for name, a in acc.items():
            b = reference[name]
            for field in ("metrics", "trace_phi", "trace_stock", "sum_gap", "sum_short"):
                np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
            np.testing.assert_array_equal(a.sum_stock_deficit, b.sum_stock_deficit)


def test_one_task_at_a_time_equals_many_in_flight(scenario, local, client):
    strategies = ["baseline", scenario.strategy_names[-1]]
    one, _ = dsd.simulate_distributed(
        scenario, RUNS, SEED, strategies, scheduler=client, batch_runs=50,
        trace_runs=TRACE, max_in_flight=1,
    )  # fmt: skip
    many, _ = dsd.simulate_distributed(
        scenario, RUNS, SEED, strategies, scheduler=client, batch_runs=50,
        trace_runs=TRACE, max_in_flight=12,
    )  # fmt: skip
    for name in strategies:
        np.testing.assert_array_equal(one[name].metrics, many[name].metrics)
        np.testing.assert_array_equal(one[name].sum_gap, many[name].sum_gap)
        np.testing.assert_array_equal(one[name].metrics, local.strategies[name].metrics)


def test_progress_per_batch_and_bounded_in_flight(scenario, client, monkeypatch):
    submitted, outstanding, counts = [], [], []
    submit = client.submit

    def counting_submit(func, *args, **kwargs):
        if func is dsd.run_batch_task:
            submitted.append(args[1])
        return submit(func, *args, **kwargs)

    def progress(n):
        counts.append(n)
        outstanding.append(len(submitted) - len(counts))

    monkeypatch.setattr(client, "submit", counting_submit)
    ds.simulate(
        scenario,
        runs=500,
        seed=1,
        strategies=["baseline"],
        batch_runs=40,
        backend="dask",
        scheduler=client,
        progress=progress,
    )
    assert sum(counts) == 500
    assert sorted(counts) == sorted(b - a for a, b in batch_bounds(500, 40))
    assert sorted(submitted) == [a for a, _ in batch_bounds(500, 40)]
    # After a merge, at most limit - 1 tasks are still out (the next is then submitted).
    limit = dsd.IN_FLIGHT_PER_THREAD * sum(client.nthreads().values())
    assert max(outstanding) <= limit - 1
    assert client.status == "running"  # a client passed in is left open


def test_no_scheduler_starts_and_closes_a_local_cluster(scenario, local, monkeypatch):
    started = []

    class Recording(distributed.LocalCluster):
        def __init__(self, *args, **kwargs):
            started.append(kwargs)
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(distributed, "LocalCluster", Recording)
    remote = ds.simulate(
        scenario, runs=RUNS, seed=SEED, trace_runs=TRACE, batch_runs=200, backend="dask"
    )
    assert_identical(local, remote)
    kwargs, cluster = started
    assert kwargs["n_workers"] == 2 and kwargs["threads_per_worker"] == 1 and kwargs["processes"]
    assert cluster.status.name == "closed"


def test_killed_worker_mid_run_gives_the_same_result(scenario, client):
    strategies = ["baseline", scenario.strategy_names[-1]]
    runs, batch = 2400, 150
    expected = ds.simulate(scenario, runs=runs, seed=SEED, strategies=strategies, trace_runs=TRACE)
    pids = client.run(os.getpid)
    killed: list[int] = []

    def kill_a_busy_worker(n):
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys and w in pids]
        if busy:
            killed.append(pids[busy[0]])
            os.kill(pids[busy[0]], signal.SIGKILL)

    remote = ds.simulate(
        scenario,
        runs=runs,
        seed=SEED,
        strategies=strategies,
        trace_runs=TRACE,
        batch_runs=batch,
        backend="dask",
        scheduler=client,
        progress=kill_a_busy_worker,
    )
    assert killed, "no worker was busy when the first batch finished"
    assert_identical(expected, remote)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    assert killed[0] not in client.run(os.getpid).values()


BLOCK_DISRUPTSIM = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "disruptsim":
            raise ModuleNotFoundError(f"No module named {name!r}")

sys.meta_path.insert(0, Block())
"""


def test_worker_without_disruptsim_is_a_clear_error(scenario, tmp_path):
    preload = tmp_path / "block_disruptsim.py"
    preload.write_text(BLOCK_DISRUPTSIM)
    with dsd.local_cluster(1, preload=[str(preload)]) as cluster:
        with pytest.raises(dsd.BackendError, match="cannot import disruptsim"):
            ds.simulate(scenario, runs=10, backend="dask", scheduler=cluster)


def test_worker_with_other_code_is_a_clear_error(scenario, client, monkeypatch):
    monkeypatch.setattr(dsd, "code_fingerprint", lambda: "something else")
    with pytest.raises(dsd.BackendError, match="runs different disruptsim .* code"):
        ds.simulate(scenario, runs=10, backend="dask", scheduler=client)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_a_clear_error_within_seconds(scenario):
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    with pytest.raises(dsd.BackendError, match="cannot connect to the Dask scheduler at") as info:
        ds.simulate(scenario, runs=10, backend="dask", scheduler=address)
    assert time.monotonic() - t0 < 20
    assert address in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, RuntimeError)


def test_missing_dask_says_how_to_install(scenario, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(dsd.BackendError, match=r'pip install "disruptsim\[dask\]"'):
        ds.simulate(scenario, runs=10, backend="dask")


def test_bad_backend_arguments(scenario):
    with pytest.raises(ValueError, match="backend must be"):
        ds.simulate(scenario, runs=10, backend="spark")
    with pytest.raises(ValueError, match="only used with backend='dask'"):
        ds.simulate(scenario, runs=10, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(TypeError, match="scheduler must be"):
        ds.simulate(scenario, runs=10, backend="dask", scheduler=8786)


NO_DASK = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("dask", "distributed"):
                raise ImportError(f"blocked {name}")

    sys.meta_path.insert(0, Block())
    import disruptsim as ds
    from disruptsim.synthetic import synthetic_scenario

    sc = ds.load_scenario(synthetic_scenario(n_products=3, n_countries=2, horizon_days=30))
    ds.simulate(sc, runs=20)
    assert not any(m.split(".")[0] in ("dask", "distributed") for m in sys.modules)
    try:
        ds.simulate(sc, runs=20, backend="dask")
    except RuntimeError as error:
        print(type(error).__name__, error)
    """
)


def test_disruptsim_imports_and_runs_locally_without_dask():
    out = subprocess.run(
        [sys.executable, "-c", NO_DASK], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("BackendError")
    assert 'pip install "disruptsim[dask]"' in out.stdout


def test_dask_equals_local_from_a_situation(scenario, client):
    """Bit-identical from a situation too: a hazard in force of unknown end, stocks drawn down."""
    hazard = scenario.baseline.hazards[0].name
    stocked = [n for n, p in scenario.baseline.products.items() if p.stockpile is not None]
    today = ds.load_situation(
        {
            "day": 50,
            "events": [{"hazard": hazard, "started_day": 20}],
            "stocks": {n: {"days": 1} for n in stocked},
            "disrupted_since": {n: 21 for n in stocked},
        },
        scenario,
    )
    local = ds.simulate(scenario, runs=RUNS, seed=SEED, trace_runs=TRACE, situation=today)
    remote = ds.simulate(
        scenario,
        runs=RUNS,
        seed=SEED,
        trace_runs=TRACE,
        situation=today,
        backend="dask",
        scheduler=client,
        batch_runs=150,
    )
    assert_identical(local, remote)
