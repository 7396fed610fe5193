"""The kernel side by side with the SimPy reference, a NumPy implementation and BoARIO.

All in one process, one after the other, so that the ratios are measured on the same
machine state (the kernel is timed before and after the others, and the mean is used):

(a) the SimPy reference engine (``disruptsim.model.reference``) on the same scenario and the
    same sampled events: a few runs, extrapolated per product-day;
(b) ``benchmarks/numpy_engine.py``: the same dynamics in NumPy, vectorised over runs,
    checked to agree with the kernel's per-run metrics on every batch (the script fails
    if they do not);
(c) BoARIO (the Python ARIO model) on pymrio's bundled test MRIO (6 regions x 8 sectors),
    365 daily steps, one shock: sector-days per second against our product-days per second.
    A ratio of throughput, not of equal work (see benchmarks/README.md).

    python benchmarks/compare.py --quick     # a minute or two
    python benchmarks/compare.py             # full
"""

from __future__ import annotations

import os

# The NumPy engine uses no BLAS; keep BLAS single-threaded all the same, so that NumPy
# work cannot spin extra threads against the kernel's (set before NumPy is imported).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from typing import Any  # noqa: E402

import _common  # noqa: E402
import numpy as np  # noqa: E402
import numpy_engine  # noqa: E402  (benchmarks/numpy_engine.py, beside this script)

from disruptsim.run import bench, engine  # noqa: E402

FULL = {
    "n_products": 50,
    "kernel_runs": 65_536,
    "numpy_batches": [1024, 4096, 16384, 32768],
    "numpy_runs": 32768,
    "reference_runs": 10,
    "boario_repeats": 3,
    "quiet_runs": 1000,
}
QUICK = {
    "n_products": 50,
    "kernel_runs": 8192,
    "numpy_batches": [4096],
    "numpy_runs": 4096,
    "reference_runs": 2,
    "boario_repeats": 1,
    "quiet_runs": 500,
}
BOARIO_STEPS = 365
TARGET_VS_NUMPY = 5.0
"""Target of the kernel against the NumPy engine (best batch), as a ratio within one run."""


def time_numpy(
    plan: engine.BatchPlan,
    runs: int,
    *,
    batch_runs: int = 4096,
    strategy: str = "baseline",
) -> bench.Timing:
    """Simulate ``runs`` runs with the NumPy engine (batches of ``batch_runs``), checked
    against the kernel on every batch."""
    bench.warm_up(plan, strategy)
    model = plan.models[strategy]
    layout = numpy_engine.Layout.build(model)
    wall = cpu = 0.0
    worst = {"agree": True, "mismatches": 0, "max_abs_diff": 0.0}
    for r0, r1 in engine.batch_bounds(runs, batch_runs):
        events, success = bench.sample(plan, r0, r1, strategy)
        t0, c0 = time.perf_counter(), time.process_time()
        out = numpy_engine.run_batch_numpy(model, events, success, layout)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        check = bench.agreement(
            engine.run_strategy_batch(model, events, success, 0).metrics, out.metrics
        )
        worst["agree"] &= check["agree"]
        worst["mismatches"] += check["mismatches"]
        worst["max_abs_diff"] = max(worst["max_abs_diff"], check["max_abs_diff"])
    extra = {**worst, "batch_runs": batch_runs, "blas_threads": bench.blas_threads()}
    return bench.Timing(
        "NumPy engine",
        model.n_products,
        model.horizon_days,
        runs,
        1,
        wall,
        cpu,
        extra,
    )


def quiet_share(plan: engine.BatchPlan, runs: int) -> float:
    """Share of run-days the kernel skips as quiet (no event in force, every stock full).

    From kernel traces of ``runs`` runs (stocks in float32: an approximation).
    """
    events, success = bench.sample(plan, 0, runs)
    model = plan.models["baseline"]
    out = engine.run_strategy_batch(model, events, success, runs)
    T = model.horizon_days
    target = model.arrays.stock_target.astype(np.float32)
    full = np.ones((runs, T), dtype=bool)
    full[:, 1:] = (out.trace_stock[:, :-1, :] >= target).all(axis=2)
    active = np.zeros((runs, T), dtype=bool)
    run_of = np.repeat(np.arange(runs), np.diff(events.ptr))
    for r, s, e in zip(run_of, events.start, events.end + events.recovery, strict=True):
        active[r, s : min(e, T)] = True
    return float((full & ~active).mean())


def time_boario(repeats: int) -> dict[str, Any]:
    """BoARIO on pymrio's test MRIO: one recovery event, 365 daily steps."""
    import logging
    import warnings

    t0 = time.perf_counter()
    try:
        warnings.filterwarnings("ignore")
        logging.getLogger("boario").setLevel(logging.ERROR)
        import boario
        import pandas as pd
        import pymrio
        from boario.event import from_scalar_regions_sectors
        from boario.extended_models import ARIOPsiModel
        from boario.simulation import Simulation
    except Exception as error:  # noqa: BLE001 - report whatever stops it
        return {"ok": False, "error": f"import failed: {error!r}"}
    import_s = time.perf_counter() - t0
    try:
        mrio = pymrio.load_test().calc_all()
        setups, loops = [], []
        for _ in range(repeats):
            t1 = time.perf_counter()
            model = ARIOPsiModel(mrio)
            capital = pd.Series(model.productive_capital, index=model.industries)
            hit = capital.loc["reg1"].loc[["manufactoring", "mining"]]
            sim = Simulation(
                model,
                n_temporal_units_to_sim=BOARIO_STEPS,
                boario_output_dir=tempfile.mkdtemp(prefix="boario-bench-"),
            )
            sim.add_event(
                from_scalar_regions_sectors(
                    impact=0.3 * float(hit.sum()) * model.monetary_factor,
                    event_type="recovery",
                    affected_regions=["reg1"],
                    affected_sectors=list(hit.index),
                    impact_regional_distrib="equal",
                    impact_sectoral_distrib=hit / hit.sum(),
                    occurrence=5,
                    duration=30,
                    recovery_tau=90,
                )
            )
            t2 = time.perf_counter()
            sim.loop()
            loops.append(time.perf_counter() - t2)
            setups.append(t2 - t1)
        production = sim.production_realised.sum(axis=1)
        dip = float(production.min() / production.iloc[0])
    except Exception:  # noqa: BLE001
        return {"ok": False, "error": traceback.format_exc(limit=3)}
    regions, sectors = len(mrio.get_regions()), len(mrio.get_sectors())
    sector_days = regions * sectors * BOARIO_STEPS
    loop_s = float(np.median(loops))
    setup_s = float(np.median(setups))
    return {
        "ok": True,
        "boario": boario.__version__,
        "pymrio": pymrio.__version__,
        "regions": regions,
        "sectors": sectors,
        "steps": BOARIO_STEPS,
        "repeats": repeats,
        "import_s": import_s,
        "setup_s": setup_s,
        "loop_s": loop_s,
        "loops_s": loops,
        "sector_days_per_s": sector_days / loop_s,
        "sector_days_per_s_with_setup": sector_days / (loop_s + setup_s),
        "lowest_total_production_share": dip,
    }


def main() -> None:
    args = _common.parser(__doc__.splitlines()[0]).parse_args()
    cfg = QUICK if args.quick else FULL
    out = _common.console()
    info = bench.system_info()
    note = _common.busy_note(info)
    if note:
        out.print(f"[yellow]note:[/yellow] {note}")
    P = cfg["n_products"]
    plan = bench.synthetic_plan(P)
    bench.warm_up(plan)
    top = bench.max_threads()
    failures: list[str] = []

    def kernel(threads: int) -> bench.Timing:
        t = bench.time_kernel(plan, cfg["kernel_runs"], threads=threads)
        out.print(f"kernel, {t.threads} thread(s): {t.rate:.3g} product-days/s")
        return t

    kernel_before = {th: kernel(th) for th in sorted({1, top})}

    numpy_timings = []
    for batch in cfg["numpy_batches"]:
        t = time_numpy(plan, max(cfg["numpy_runs"], batch), batch_runs=batch)
        numpy_timings.append(t)
        out.print(
            f"NumPy, batches of {batch}: {t.rate:.3g} product-days/s, agrees: {t.extra['agree']}"
        )
        if not t.extra["agree"]:
            failures.append(f"NumPy engine disagrees with the kernel: {t.extra}")
    numpy_best = max(numpy_timings, key=lambda t: t.rate)

    try:
        reference = bench.time_reference(plan, cfg["reference_runs"])
    except ImportError as error:
        reference = None
        failures.append(f"SimPy reference engine unavailable: {error}")
    else:
        out.print(
            f"SimPy reference: {reference.wall_s / reference.runs:.2f} s per run, {reference.rate:.3g} product-days/s"
        )
        if not reference.extra["agree"]:
            failures.append(f"SimPy reference disagrees with the kernel: {reference.extra}")

    boario = time_boario(cfg["boario_repeats"])
    if boario["ok"]:
        out.print(
            f"BoARIO: {boario['loop_s']:.2f} s per 365-step run, {boario['sector_days_per_s']:.3g} sector-days/s"
        )
    else:
        out.print(f"[red]BoARIO failed:[/red] {boario['error']}")

    kernel_after = {th: kernel(th) for th in sorted({1, top})}
    kernel_rate = {th: (kernel_before[th].rate + kernel_after[th].rate) / 2 for th in kernel_before}
    kernel_cpu_rate = {
        th: (kernel_before[th].rate_cpu + kernel_after[th].rate_cpu) / 2 for th in kernel_before
    }
    best_threads = max(kernel_rate, key=kernel_rate.get)
    best = kernel_rate[best_threads]
    quiet = quiet_share(plan, cfg["quiet_runs"])

    ratios = {
        "kernel_best_vs_numpy": best / numpy_best.rate,
        "kernel_1thread_vs_numpy": kernel_rate[1] / numpy_best.rate,
        "kernel_1thread_vs_numpy_cpu": kernel_cpu_rate[1] / numpy_best.rate_cpu,
    }
    if reference is not None:
        ratios |= {
            "kernel_best_vs_simpy": best / reference.rate,
            "kernel_1thread_vs_simpy": kernel_rate[1] / reference.rate,
            "kernel_1thread_vs_simpy_cpu": kernel_cpu_rate[1] / reference.rate_cpu,
        }
    if boario["ok"]:
        ratios |= {
            "kernel_best_pd_vs_boario_sector_days": best / boario["sector_days_per_s"],
            "kernel_1thread_pd_vs_boario_sector_days": kernel_rate[1] / boario["sector_days_per_s"],
        }
    targets = [
        {"name": "kernel >= 5e7 product-days/s", "measured": best, "met": best >= bench.TARGET_RATE},
        {"name": "kernel >= 5x NumPy", "measured": ratios["kernel_best_vs_numpy"],
         "met": ratios["kernel_best_vs_numpy"] >= TARGET_VS_NUMPY},
    ]  # fmt: skip
    if reference is not None:
        r = ratios["kernel_best_vs_simpy"]
        targets.append(
            {"name": "kernel >= 1000x SimPy", "measured": r, "met": r >= bench.TARGET_VS_REFERENCE}
        )

    rows = [
        [
            f"numba kernel ({th} thread{'s' * (th > 1)})",
            "product-days",
            kernel_rate[th],
            kernel_cpu_rate[th],
            best / kernel_rate[th],
        ]
        for th in kernel_rate
    ]
    rows.append(
        [
            f"NumPy (batches of {numpy_best.extra['batch_runs']})",
            "product-days",
            numpy_best.rate,
            numpy_best.rate_cpu,
            best / numpy_best.rate,
        ]
    )
    if reference is not None:
        rows.append(
            [
                "SimPy reference",
                "product-days",
                reference.rate,
                reference.rate_cpu,
                best / reference.rate,
            ]
        )
    if boario["ok"]:
        rows.append(
            [
                "BoARIO (not equal work)",
                "sector-days",
                boario["sector_days_per_s"],
                None,
                best / boario["sector_days_per_s"],
            ]
        )
    out.print(
        _common.table(
            f"Side by side ({P} products, 730 days; BoARIO: 48 sectors, 365 days)",
            ["engine", "unit", "per s", "per CPU-s", "kernel best / this"],
            rows,
        )
    )
    out.print(
        _common.table(
            "Targets",
            ["target", "measured", "met"],
            [[t["name"], t["measured"], "yes" if t["met"] else "NO"] for t in targets],
        )
    )
    out.print(f"share of run-days the kernel skips as quiet: {quiet:.1%}")
    for f in failures:
        out.print(f"[red]{f}[/red]")

    _common.write_json(
        "compare",
        args,
        {
            **_common.run_header(info, note),
            "config": cfg,
            "kernel_before": [t.as_dict() for t in kernel_before.values()],
            "kernel_after": [t.as_dict() for t in kernel_after.values()],
            "kernel_rate_mean": kernel_rate,
            "numpy": [t.as_dict() for t in numpy_timings],
            "reference": reference.as_dict() if reference is not None else None,
            "boario": boario,
            "ratios": ratios,
            "targets": targets,
            "quiet_share_of_run_days": quiet,
            "failures": failures,
        },
    )  # fmt: skip
    if any("disagrees" in f for f in failures):
        sys.exit(1)


if __name__ == "__main__":
    main()
