"""The current kernel against frozen copies of earlier kernels, timed in one process.

The yardsticks (``benchmarks/frozen/``): ``v1``, the kernel as it was before the
caches of issue #17 (commit 68da504, with every lever), and ``v0``, an older
kernel from before the structured inputs (no demand restraint, recycling or situations:
it is timed on these scenarios only because none of them uses those levers).

Main comparison: the hazard-heavy synthetic scenario
(:func:`disruptsim.synthetic.hazard_heavy_scenario`: 50 products, 15 countries, a hazard
on every country at 2-30% a year with lognormal durations of months), and for contrast
the ordinary 50-product synthetic scenario. Events and success draws of every batch are
sampled once, up front. Each repetition times the kernels back to back on the same
batches (no traces, 4,096 runs per batch), in an order that rotates from one repetition
to the next, and takes the ratio ``old time / new time`` of that repetition (above 1: the
new kernel is faster). The figure is the median of these one-repetition ratios (wall
time, and CPU time of all threads beside it).

Scaling curves (hazard-heavy scenario, v1 against the new kernel, fewer runs): products,
countries, events per run (every hazard's annual probability scaled) and horizon.

Before timing, the kernels' per-run metrics and daily sums are compared on the first batch
of every configuration; the script exits 1 unless they are bit-identical (v0: on its 21
metrics).

    python benchmarks/bench_kernel_vs_frozen.py --quick    # ~3 minutes
    python benchmarks/bench_kernel_vs_frozen.py            # ~7 minutes
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import _common
import numpy as np
from frozen.kernel_v0 import run_strategy_batch_v0
from frozen.kernel_v1 import run_strategy_batch_v1

from disruptsim.run import bench, engine
from disruptsim.scenario import load_scenario
from disruptsim.synthetic import hazard_heavy_scenario, synthetic_scenario

QUICK = {"runs": 8_192, "repeats": 5, "curve_runs": 2_048, "curve_repeats": 3}
FULL = {"runs": 32_768, "repeats": 9, "curve_runs": 4_096, "curve_repeats": 5}
PRODUCTS = 50
CURVES = {
    "products": [5, 20, 50, 200],
    "countries": [3, 8, 15],
    "hazard_factor": [0.25, 0.5, 1.0, 2.0, 4.0],
    "horizon_days": [365, 730, 1460],
}


def new_kernel(model, events, success, n_trace):
    """The current kernel, as the benchmark calls it."""
    out = engine.run_strategy_batch(model, events, success, n_trace)
    return out.metrics, out.sum_gap, out.sum_short, out.sum_stock_deficit


KERNELS: dict[str, Callable] = {"v1": run_strategy_batch_v1, "v0": run_strategy_batch_v0}


def heavy(
    n_products: int = PRODUCTS,
    n_countries: int = 15,
    horizon_days: int = 730,
    factor: float = 1.0,
) -> dict[str, Any]:
    """The hazard-heavy scenario, every hazard's annual probability times ``factor``."""
    sc = hazard_heavy_scenario(n_products, n_countries, horizon_days, seed=0)
    hazards = [
        {**h, "annual_probability": min(0.99, h["annual_probability"] * factor)}
        for h in sc["hazards"]
    ]
    return {**sc, "hazards": hazards}


def plan_of(mapping: dict[str, Any]) -> engine.BatchPlan:
    return engine.BatchPlan.build(load_scenario(mapping), 1, ["baseline"], trace_runs=0)


def _time(fn: Callable, model, batches) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    for events, success in batches:
        fn(model, events, success, 0)
    return time.perf_counter() - t0, time.process_time() - c0


def _identical(new, old) -> bool:
    n = old[0].shape[-1]  # v0 has 21 metrics, the first 21 of today's
    same = np.array_equal(new[0][..., :n], old[0], equal_nan=True)
    return same and all(np.array_equal(a, b) for a, b in zip(new[1:], old[1:4], strict=True))


def compare(plan: engine.BatchPlan, runs: int, repeats: int, old: list[str]) -> dict[str, Any]:
    """Time the new kernel against each ``old`` frozen kernel on the same batches.

    Returns per-kernel wall and CPU times of every repetition, the one-repetition ratios
    ``old / new`` and their medians, whether the outputs on the first batch are
    bit-identical, and the mean number of events per run.
    """
    model = plan.models["baseline"]
    bounds = engine.batch_bounds(runs, engine.DEFAULT_BATCH_RUNS)
    batches = [bench.sample(plan, r0, r1) for r0, r1 in bounds]
    kernels = {"new": new_kernel, **{k: KERNELS[k] for k in old}}
    first = {n: f(model, *batches[0], 0) for n, f in kernels.items()}  # also compiles
    identical = {k: _identical(first["new"], first[k]) for k in old}
    names = list(kernels)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(repeats):
        shift = rep % len(names)
        for n in names[shift:] + names[:shift]:
            w, c = _time(kernels[n], model, batches)
            wall[n].append(w)
            cpu[n].append(c)
    ratios = {k: [o / n for o, n in zip(wall[k], wall["new"], strict=True)] for k in old}
    ratios_cpu = {k: [o / n for o, n in zip(cpu[k], cpu["new"], strict=True)] for k in old}
    n_events = sum(int(ev.ptr[-1]) for ev, _ in batches) / runs
    return {
        "runs": runs,
        "repeats": repeats,
        "events_per_run": n_events,
        "product_days": float(runs) * model.n_products * model.horizon_days,
        "bit_identical": identical,
        "wall_s": wall,
        "cpu_s": cpu,
        "ratio_wall": ratios,
        "ratio_cpu": ratios_cpu,
        "median_ratio_wall": {k: statistics.median(v) for k, v in ratios.items()},
        "median_ratio_cpu": {k: statistics.median(v) for k, v in ratios_cpu.items()},
        "new_pd_per_s": float(runs)
        * model.n_products
        * model.horizon_days
        / statistics.median(wall["new"]),
    }


def curves(cfg: dict[str, int], out) -> dict[str, list[dict[str, Any]]]:
    """v1 against the new kernel over products, countries, events per run and horizon."""
    results: dict[str, list[dict[str, Any]]] = {}
    for axis, values in CURVES.items():
        rows = []
        for v in values:
            kw = {"n_products" if axis == "products" else axis: v}
            if axis == "hazard_factor":
                kw = {"factor": v}
            elif axis == "countries":
                kw = {"n_countries": v}
            r = compare(plan_of(heavy(**kw)), cfg["curve_runs"], cfg["curve_repeats"], ["v1"])
            rows.append({axis: v, **r})
            out.print(
                f"  {axis}={v}: {r['events_per_run']:.1f} events/run, v1/new "
                f"{r['median_ratio_wall']['v1']:.2f} wall, {r['median_ratio_cpu']['v1']:.2f} CPU; "
                f"bit-identical {r['bit_identical']['v1']}"
            )
        results[axis] = rows
    return results


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=None, help="runs per repetition")
    p.add_argument("--repeats", type=int, default=None, help="repetitions")
    p.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    p.add_argument("--no-curves", action="store_true", help="skip the scaling curves")
    args = p.parse_args()
    cfg = dict(QUICK if args.quick else FULL)
    cfg["runs"] = args.runs or cfg["runs"]
    cfg["repeats"] = args.repeats or cfg["repeats"]
    out = _common.console()
    info = bench.system_info()
    note = _common.busy_note(info)
    if note:
        out.print(f"[yellow]note:[/yellow] {note}")
    base = synthetic_scenario(PRODUCTS, bench.COUNTRIES, bench.HORIZON_DAYS, strategies=False)
    results: dict[str, Any] = {}
    with engine.numba_threads(args.threads):
        for name, mapping in (("hazard-heavy-50", heavy()), ("synthetic-50", base)):
            r = compare(plan_of(mapping), cfg["runs"], cfg["repeats"], ["v1", "v0"])
            results[name] = r
            for k in ("v1", "v0"):
                out.print(
                    f"{name} ({r['events_per_run']:.1f} events/run): {k}/new median of "
                    f"{r['repeats']} one-repetition ratios {r['median_ratio_wall'][k]:.3f} wall, "
                    f"{r['median_ratio_cpu'][k]:.3f} CPU ({r['runs']:,} runs); "
                    f"bit-identical: {r['bit_identical'][k]}"
                )
        curve = {} if args.no_curves else curves(cfg, out)
    _common.write_json(
        "bench_kernel_vs_frozen",
        args,
        {
            **_common.run_header(info, note),
            "config": cfg,
            "results": results,
            "curves": curve,
        },
    )
    checks = [r["bit_identical"] for r in results.values()]
    checks += [row["bit_identical"] for rows in curve.values() for row in rows]
    if not all(all(c.values()) for c in checks):
        out.print("[red]the kernels disagree[/red]")
        sys.exit(1)


if __name__ == "__main__":
    main()
