"""The current kernel against a frozen copy of an earlier one, timed in one process.

Two scenarios: the 50-product synthetic scenario of ``bench_kernel.py``
(``synthetic_scenario(50, 15, 730)``, baseline) and a hazard-heavy variant of it (every
hazard's annual probability x4, capped at 0.6, so that far fewer days are quiet). The
events and success draws of every batch are sampled once, up front; then, ``--repeats``
times, each kernel runs all batches (4,096 runs each, no traces), the two kernels taking
turns in alternating order so that a change in the machine's load hits both alike. The
figure is the ratio of the medians of the wall times (and of the CPU times): frozen / new,
so above 1 means the current kernel is faster (throughput new / frozen).

Before timing, both kernels' per-run metrics (those both have, by name) and daily sums are
compared on the first batch; the script exits 1 if they are not bit-identical (they must be,
on scenarios that use no lever the frozen kernel lacks).

    python benchmarks/bench_kernel_vs_frozen.py --quick    # ~1 minute
    python benchmarks/bench_kernel_vs_frozen.py            # ~5 minutes

Reuse: :func:`compare` takes any two batch functions with the signature of
``engine.run_strategy_batch``; ``frozen/`` holds the yardstick (see its docstring).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import _common
import numpy as np
from frozen.kernel_v0 import METRICS as FROZEN_METRICS
from frozen.kernel_v0 import run_strategy_batch_v0

from disruptsim.conventions import METRICS
from disruptsim.run import bench, engine
from disruptsim.scenario import load_scenario
from disruptsim.synthetic import synthetic_scenario

QUICK = {"runs": 8_192, "repeats": 5}
FULL = {"runs": 32_768, "repeats": 9}
PRODUCTS = 50
HAZARD_FACTOR = 4.0
HAZARD_CAP = 0.6


def plans() -> dict[str, engine.BatchPlan]:
    """The two benchmark scenarios (baseline only, no traces)."""
    base = synthetic_scenario(
        PRODUCTS, bench.COUNTRIES, bench.HORIZON_DAYS, seed=0, strategies=False
    )
    heavy = {
        **base,
        "name": base["name"] + "-hazard-heavy",
        "hazards": [
            {**h, "annual_probability": min(HAZARD_CAP, h["annual_probability"] * HAZARD_FACTOR)}
            for h in base["hazards"]
        ],
    }
    return {
        name: engine.BatchPlan.build(load_scenario(m), 1, ["baseline"], trace_runs=0)
        for name, m in (("synthetic-50", base), ("hazard-heavy-50", heavy))
    }


def new_kernel(model, events, success, n_trace):
    """The current kernel, as the benchmark calls it."""
    out = engine.run_strategy_batch(model, events, success, n_trace)
    return out.metrics, out.sum_gap, out.sum_short, out.sum_stock_deficit


def _common_metrics(outputs: list[tuple], names: list[tuple[str, ...]]) -> list[tuple]:
    """The outputs with their metrics restricted to the metrics every kernel has, by name."""
    common = [m for m in names[0] if all(m in n for n in names[1:])]
    return [
        (out[0][..., [n.index(m) for m in common]], *out[1:])
        for out, n in zip(outputs, names, strict=True)
    ]


def _time(fn: Callable, model, batches) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    for events, success in batches:
        fn(model, events, success, 0)
    return time.perf_counter() - t0, time.process_time() - c0


def compare(
    plan: engine.BatchPlan,
    runs: int,
    repeats: int,
    kernels: dict[str, Callable] | None = None,
    batch_runs: int = engine.DEFAULT_BATCH_RUNS,
    metric_names: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """Time two batch functions on the same batches; check they agree bit for bit.

    Parameters
    ----------
    plan : BatchPlan
        One strategy (``baseline``) to run.
    runs, repeats : int
        Runs per repetition; repetitions per kernel (alternating order).
    kernels : dict, optional
        Two named callables ``f(model, events, success, n_trace)`` returning
        ``(metrics, sum_gap, sum_short, sum_stock_deficit)``; default new vs frozen.
    metric_names : dict, optional
        The metric names of each kernel's output (default: the frozen kernel's and
        the registry's); the agreement is checked on the metrics both have.

    Returns
    -------
    dict
        Per-kernel wall and CPU times of every repetition, their medians, the ratios
        (first / second kernel's median time: above 1 means the second is faster) and
        whether their outputs on the first batch are bit-identical.
    """
    kernels = kernels or {"frozen": run_strategy_batch_v0, "new": new_kernel}
    names = list(kernels)
    metric_names = metric_names or {"frozen": FROZEN_METRICS, "new": METRICS}
    model = plan.models["baseline"]
    batches = [bench.sample(plan, r0, r1) for r0, r1 in engine.batch_bounds(runs, batch_runs)]
    outputs = [kernels[n](model, *batches[0], 0) for n in names]  # also compiles
    if all(n in metric_names for n in names):
        outputs = _common_metrics(outputs, [metric_names[n] for n in names])
    identical = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(*outputs, strict=True))
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(repeats):
        for n in names if rep % 2 == 0 else names[::-1]:
            w, c = _time(kernels[n], model, batches)
            wall[n].append(w)
            cpu[n].append(c)
    med = {n: statistics.median(wall[n]) for n in names}
    med_cpu = {n: statistics.median(cpu[n]) for n in names}
    a, b = names
    return {
        "runs": runs,
        "repeats": repeats,
        "product_days": float(runs) * model.n_products * model.horizon_days,
        "bit_identical": identical,
        "wall_s": wall,
        "cpu_s": cpu,
        "median_wall_s": med,
        "median_cpu_s": med_cpu,
        "ratio_wall": med[a] / med[b],
        "ratio_cpu": med_cpu[a] / med_cpu[b],
    }


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=None, help="runs per repetition")
    p.add_argument("--repeats", type=int, default=None, help="repetitions per kernel")
    p.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    args = p.parse_args()
    cfg = dict(QUICK if args.quick else FULL)
    cfg["runs"] = args.runs or cfg["runs"]
    cfg["repeats"] = args.repeats or cfg["repeats"]
    out = _common.console()
    info = bench.system_info()
    note = _common.busy_note(info)
    if note:
        out.print(f"[yellow]note:[/yellow] {note}")
    results = {}
    with engine.numba_threads(args.threads):
        for name, plan in plans().items():
            r = compare(plan, cfg["runs"], cfg["repeats"])
            results[name] = r
            out.print(
                f"{name}: frozen {r['median_wall_s']['frozen']:.3f} s, new "
                f"{r['median_wall_s']['new']:.3f} s (median of {r['repeats']}, {r['runs']:,} runs); "
                f"throughput new/frozen {r['ratio_wall']:.3f} wall, {r['ratio_cpu']:.3f} CPU; "
                f"bit-identical: {r['bit_identical']}"
            )
    _common.write_json(
        "bench_kernel_vs_frozen",
        args,
        {**_common.run_header(info, note), "config": cfg, "results": results},
    )
    if not all(r["bit_identical"] for r in results.values()):
        out.print("[red]the kernels disagree[/red]")
        sys.exit(1)


if __name__ == "__main__":
    main()
