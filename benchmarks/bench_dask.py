"""Dask backend: overhead per task and parallel efficiency against the local engine.

Two measurements, each the best of ``--repeat`` timings:

1. **Overhead per task.** A tiny scenario, ``--tiny-tasks`` batches of one run each, on
   a LocalCluster of one worker: ``(dask wall - local wall) / tasks``, where the local
   engine runs the very same batches with one numba thread. This is the cost of one
   round trip (submit, schedule, run the wrapper, send the outputs back, merge); batches
   should be long compared with it.
2. **Efficiency.** A synthetic scenario, ``--runs`` runs in batches of ``--batch-runs``,
   on LocalClusters of 1 and 2 worker processes (one thread each):
   ``efficiency = local_1_thread / (workers x dask_wall)``. The dask wall is that of the
   tasks (submission to last merge); connecting, scattering the plan and warming the
   workers are reported apart (paid once per study). Local with 2 numba threads is
   shown for comparison.

Every dask result is checked to be bit-identical to the local one.

Run: ``python benchmarks/bench_dask.py [--quick]``; prints a table and writes
``benchmarks/results/dask.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import disruptsim as ds
from disruptsim.run import distributed as dsd
from disruptsim.run.engine import simulate_local
from disruptsim.synthetic import synthetic_scenario

OUT = Path(__file__).parent / "results" / "dask.json"


def client_on(cluster):
    """A client that fetches results straight from the workers (as simulate's own do)."""
    return dsd._distributed().Client(cluster, set_as_default=False, direct_to_workers=True)


def best_of(repeat: int, run):
    """Smallest wall time of ``repeat`` calls of ``run()`` and the last value it returned."""
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - t0)
    return best, value


def same(a: dict, b: dict) -> bool:
    return all(
        np.array_equal(a[n].metrics, b[n].metrics, equal_nan=True)
        and np.array_equal(a[n].sum_gap, b[n].sum_gap)
        for n in a
    )


def run_dask(client, scenario, runs, seed, names, batch_runs, repeat):
    """Best tasks wall and the study's one-off costs (connect excluded: client given)."""
    best = {"tasks": float("inf")}
    acc = None
    for _ in range(repeat):
        acc, timings = dsd.simulate_distributed(
            scenario, runs, seed, names, scheduler=client, batch_runs=batch_runs
        )
        if timings.extra["tasks"] < best["tasks"]:
            best = dict(timings.extra)
    return best, acc


def overhead(args, seed: int) -> dict:
    scenario = ds.load_scenario(
        synthetic_scenario(n_products=2, n_countries=2, horizon_days=30, strategies=False)
    )
    names = list(scenario.strategy_names)
    n = args.tiny_tasks
    simulate_local(scenario, 1, seed, names, threads=1)  # load the compiled kernel
    t_local, (local, _) = best_of(
        args.repeat,
        lambda: simulate_local(scenario, n, seed, names, batch_runs=1, trace_runs=0, threads=1),
    )
    rows = {}
    for workers in (1, 2):
        with (
            dsd.local_cluster(workers) as cluster,
            client_on(cluster) as client,
        ):
            extra, acc = run_dask(client, scenario, n, seed, names, 1, args.repeat)
        assert same(local, acc), "dask result differs from local"
        rows[workers] = {
            "workers": workers,
            "tasks": n,
            "dask_tasks_s": extra["tasks"],
            "local_same_batches_s": t_local,
            "overhead_per_task_ms": 1e3 * (extra["tasks"] - t_local) / n,
            "wall_per_task_ms": 1e3 * extra["tasks"] / n,
        }
    return {"scenario": "2 products, 30 days, baseline only, 1 run per task", "by_workers": rows}


def efficiency(args, seed: int) -> dict:
    scenario = ds.load_scenario(
        synthetic_scenario(n_products=args.products, horizon_days=args.horizon_days, seed=1)
    )
    names = list(scenario.strategy_names)
    runs, batch = args.runs, args.batch_runs
    simulate_local(scenario, 8, seed, names, threads=1)
    t1, (local, _) = best_of(
        args.repeat,
        lambda: simulate_local(scenario, runs, seed, names, batch_runs=batch, threads=1),
    )
    t2, _ = best_of(
        args.repeat,
        lambda: simulate_local(scenario, runs, seed, names, batch_runs=batch, threads=2),
    )
    rows = [
        {"backend": "local", "workers": 1, "threads": 1, "wall_s": t1, "efficiency": 1.0},
        {"backend": "local", "workers": 1, "threads": 2, "wall_s": t2, "efficiency": t1 / (2 * t2)},
    ]
    for workers in (1, 2):
        t0 = time.perf_counter()
        with (
            dsd.local_cluster(workers) as cluster,
            client_on(cluster) as client,
        ):
            client.wait_for_workers(workers)
            start = time.perf_counter() - t0
            extra, acc = run_dask(client, scenario, runs, seed, names, batch, args.repeat)
        assert same(local, acc), "dask result differs from local"
        rows.append(
            {
                "backend": "dask",
                "workers": workers,
                "threads": 1,
                "wall_s": extra["tasks"],
                "efficiency": t1 / (workers * extra["tasks"]),
                "cluster_start_s": start,
                "scatter_s": extra["scatter"],
                "warmup_s": extra["warmup"],
                "tasks": int(extra["n_tasks"]),
            }
        )
    return {
        "scenario": f"synthetic {args.products} products, {args.horizon_days} days, "
        f"{len(names)} strategies",
        "runs": runs,
        "batch_runs": batch,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--batch-runs", type=int, default=250)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--horizon-days", type=int, default=365)
    parser.add_argument("--tiny-tasks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.batch_runs, args.tiny_tasks, args.repeat = 600, 100, 50, 1
    seed = 7
    load = os.getloadavg()
    over = overhead(args, seed)
    eff = efficiency(args, seed)
    print(f"\nOverhead per task ({over['scenario']}; {args.tiny_tasks} tasks)")
    print(f"{'workers':>8} {'dask s':>8} {'local s':>8} {'ms/task':>8} {'overhead ms':>12}")
    for r in over["by_workers"].values():
        print(
            f"{r['workers']:>8} {r['dask_tasks_s']:>8.2f} {r['local_same_batches_s']:>8.2f} "
            f"{r['wall_per_task_ms']:>8.1f} {r['overhead_per_task_ms']:>12.1f}"
        )
    print(f"\nEfficiency ({eff['scenario']}; {eff['runs']} runs, batches of {eff['batch_runs']})")
    print(f"{'backend':>8} {'workers':>8} {'threads':>8} {'wall s':>8} {'efficiency':>11}")
    for r in eff["rows"]:
        print(
            f"{r['backend']:>8} {r['workers']:>8} {r['threads']:>8} {r['wall_s']:>8.2f} "
            f"{r['efficiency']:>11.2f}"
        )
    for r in eff["rows"]:
        if r["backend"] == "dask":
            print(
                f"dask {r['workers']} worker(s), once per study: cluster start "
                f"{r['cluster_start_s']:.1f} s, scatter {r['scatter_s']:.2f} s, "
                f"warm-up {r['warmup_s']:.2f} s"
            )
    import dask
    import numba

    record = {
        "benchmark": "bench_dask",
        "disruptsim": ds.__version__,
        "dask": dask.__version__,
        "numba": numba.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": load,
        "repeat": args.repeat,
        "overhead": over,
        "efficiency": eff,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
