"""Timing of the simulation kernel against the SimPy reference engine (``disruptsim bench``).

The functions here measure; the scripts in ``benchmarks/`` and the ``bench`` command
(:mod:`disruptsim.cli.bench`, which prints the report) call them. Every figure is a throughput in **product-days per second**: runs x products x days
simulated, divided by the wall time of the engine alone (sampling of shocks and numba
compilation excluded: a warm-up call comes first). Ratios are taken between engines timed
in the same process, one after the other, on the same scenario and the same sampled events,
so that they hold on a busy machine where absolute figures do not.

The NumPy engine is a benchmark, not part of the library: ``benchmarks/compare.py`` times
it (``benchmarks/numpy_engine.py``), ``disruptsim bench`` does not.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numba
import numpy as np

from .. import __version__
from ..scenario import load_scenario
from ..synthetic import synthetic_scenario
from . import engine

#: Tolerances of the agreement checks between engines (per-run metrics).
RTOL, ATOL = 1e-9, 1e-6
BENCH_PRODUCTS = 50
HORIZON_DAYS = 730
COUNTRIES = 15


@dataclass
class Timing:
    """Throughput of one engine on one configuration."""

    engine: str
    n_products: int
    horizon_days: int
    runs: int
    threads: int
    wall_s: float
    cpu_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def product_days(self) -> float:
        return float(self.runs) * self.n_products * self.horizon_days

    @property
    def rate(self) -> float:
        """Product-days per second of wall time."""
        return self.product_days / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def rate_cpu(self) -> float:
        """Product-days per CPU-second (all threads): steadier than wall time on a busy
        machine, where a process gets only part of a core."""
        return self.product_days / self.cpu_s if self.cpu_s > 0 else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "product_days": self.product_days,
            "product_days_per_s": self.rate,
            "product_days_per_cpu_s": self.rate_cpu,
        }


def synthetic_plan(
    n_products: int, horizon_days: int = HORIZON_DAYS, *, seed: int = 0, study_seed: int = 1
) -> engine.BatchPlan:
    """A batch plan of the baseline of a synthetic scenario (random DAG, 15 countries)."""
    mapping = synthetic_scenario(n_products, COUNTRIES, horizon_days, seed=seed, strategies=False)
    return engine.BatchPlan.build(load_scenario(mapping), study_seed, ["baseline"], trace_runs=0)


def sample(plan: engine.BatchPlan, run_start: int, run_stop: int, strategy: str = "baseline"):
    """Events and success draws of runs ``run_start..run_stop-1`` of one strategy."""
    world = plan.scenario.world(strategy)
    events = plan.sampler.events(world, run_start, run_stop)
    return events, plan.sampler.success(plan.models[strategy], run_start, run_stop)


def max_threads() -> int:
    """The most numba threads this process can use."""
    return int(numba.config.NUMBA_NUM_THREADS)


def thread_counts(limit: int | None = None) -> list[int]:
    """1, 2, 4, ... up to the most numba threads (and that number itself)."""
    top = max_threads() if limit is None else min(limit, max_threads())
    counts = [1]
    while counts[-1] * 2 <= top:
        counts.append(counts[-1] * 2)
    if counts[-1] != top:
        counts.append(top)
    return counts


def warm_up(plan: engine.BatchPlan, strategy: str = "baseline") -> float:
    """Compile (or load from cache) the kernel with a tiny batch; returns the seconds taken."""
    t0 = time.perf_counter()
    events, success = sample(plan, 0, 2, strategy)
    engine.run_strategy_batch(plan.models[strategy], events, success, 0)
    return time.perf_counter() - t0


def time_kernel(
    plan: engine.BatchPlan,
    runs: int,
    *,
    threads: int | None = None,
    batch_runs: int = engine.DEFAULT_BATCH_RUNS,
    strategy: str = "baseline",
) -> Timing:
    """Stream ``runs`` runs through the kernel batch by batch, discarding the outputs.

    Only :func:`disruptsim.run.engine.run_strategy_batch` is timed (no traces); sampling is timed
    apart and reported in ``extra['sampling_s']``.
    """
    warm_up(plan, strategy)
    model = plan.models[strategy]
    kernel_s = cpu_s = sampling_s = 0.0
    with engine.numba_threads(threads):
        used = numba.get_num_threads()
        for r0, r1 in engine.batch_bounds(runs, batch_runs):
            t0 = time.perf_counter()
            events, success = sample(plan, r0, r1, strategy)
            t1, c1 = time.perf_counter(), time.process_time()
            engine.run_strategy_batch(model, events, success, 0)
            kernel_s += time.perf_counter() - t1
            cpu_s += time.process_time() - c1
            sampling_s += t1 - t0
    return Timing(
        "numba kernel",
        model.n_products,
        model.horizon_days,
        runs,
        used,
        kernel_s,
        cpu_s,
        {"sampling_s": sampling_s, "batch_runs": batch_runs},
    )


def agreement(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """How closely two arrays of per-run metrics agree (NaN where both are NaN)."""
    close = np.isclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True)
    both = np.isfinite(a) & np.isfinite(b)
    diff = float(np.max(np.abs(a - b)[both], initial=0.0))
    return {"agree": bool(close.all()), "mismatches": int((~close).sum()), "max_abs_diff": diff}


def time_reference(plan: engine.BatchPlan, runs: int, strategy: str = "baseline") -> Timing:
    """Simulate ``runs`` runs with the SimPy reference engine, checked against the kernel."""
    from ..model.reference import reference_metrics

    warm_up(plan, strategy)
    events, success = sample(plan, 0, runs, strategy)
    model = plan.models[strategy]
    kernel_out = engine.run_strategy_batch(model, events, success, 0).metrics
    t0, c0 = time.perf_counter(), time.process_time()
    out = np.stack(
        [reference_metrics(plan.scenario, strategy, events, success, r) for r in range(runs)]
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return Timing(
        "SimPy reference",
        model.n_products,
        model.horizon_days,
        runs,
        1,
        wall,
        cpu,
        agreement(kernel_out, out),
    )


def blas_threads() -> str:
    """The BLAS thread setting of the environment (the NumPy engine does not call BLAS)."""
    return os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``getrusage`` ``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)


def _proc_status_mb(key: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` (Linux) in MiB, or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    return None


def current_rss_mb() -> float:
    """Current resident set size of this process, in MiB (Linux ``/proc``; else the peak)."""
    rss = _proc_status_mb("VmRSS")
    return rss if rss is not None else peak_rss_mb()


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux: ``clear_refs`` 5), so that
    :func:`window_peak_rss_mb` gives the peak since now. False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def window_peak_rss_mb() -> float | None:
    """Peak RSS since :func:`reset_peak_rss` (``VmHWM``), in MiB; None off Linux."""
    return _proc_status_mb("VmHWM")


def streamed_memory(
    n_products: int, runs: int, horizon_days: int, batch_runs: int
) -> dict[str, Any]:
    """Peak RSS of a streamed loop over batches that discards the outputs (run it in a fresh
    process). ``loop_peak_rss_mb`` is the peak during the loop alone where the OS can reset
    the counter (Linux), ``peak_rss_mb`` the peak of the whole process (imports, compilation)."""
    import gc

    plan = synthetic_plan(n_products, horizon_days)
    warm_up(plan)
    gc.collect()
    before = current_rss_mb()
    reset = reset_peak_rss()
    t0 = time.perf_counter()
    for r0, r1 in engine.batch_bounds(runs, batch_runs):
        events, success = sample(plan, r0, r1)
        engine.run_strategy_batch(plan.models["baseline"], events, success, 0)
    wall = time.perf_counter() - t0
    loop_peak = window_peak_rss_mb() if reset else None
    peak = max(peak_rss_mb(), current_rss_mb())
    return {
        "n_products": n_products,
        "runs": runs,
        "horizon_days": horizon_days,
        "batch_runs": batch_runs,
        "threads": numba.get_num_threads(),
        "rss_after_warm_up_mb": before,
        "loop_peak_rss_mb": loop_peak,
        "loop_growth_mb": None if loop_peak is None else loop_peak - before,
        "peak_rss_mb": peak,
        "wall_s": wall,
    }


def system_info() -> dict[str, Any]:
    """What the figures were measured on (load average included: figures from a busy
    machine are noisy)."""
    info: dict[str, Any] = {
        "disruptsim": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numba_max_threads": max_threads(),
        "blas_threads": blas_threads(),
    }
    try:
        info["threading_layer"] = numba.threading_layer()
    except ValueError:  # no parallel function has run yet
        info["threading_layer"] = None
    try:
        info["load_average"] = list(os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        info["load_average"] = None
    return info


@dataclass(frozen=True)
class BenchSizes:
    """How much work each part of ``disruptsim bench`` does."""

    n_products: int = BENCH_PRODUCTS
    horizon_days: int = HORIZON_DAYS
    kernel_runs: int = 65_536
    reference_runs: int = 4

    @classmethod
    def quick(cls) -> BenchSizes:
        return cls(kernel_runs=4096, reference_runs=2)


#: Targets of the kernel (issue "Benchmarks: prove the speed"), as ratios within one run.
TARGET_RATE = 5e7
TARGET_VS_REFERENCE = 1000.0


@dataclass
class BenchReport:
    """Timings of one ``disruptsim bench`` and the ratios between them."""

    sizes: BenchSizes
    timings: list[Timing]
    targets: list[dict[str, Any]]
    info: dict[str, Any]
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sizes": asdict(self.sizes),
            "timings": [t.as_dict() for t in self.timings],
            "targets": self.targets,
            "system": self.info,
            "notes": self.notes,
        }


def run_bench(sizes: BenchSizes | None = None, *, say=None) -> BenchReport:
    """Kernel throughput with 1 and all threads, then the SimPy reference engine on the
    same scenario; ratios against the kernel's best figure."""
    sizes = sizes or BenchSizes()
    say = say or (lambda message: None)
    info = system_info()
    notes: list[str] = []
    plan = synthetic_plan(sizes.n_products, sizes.horizon_days)
    say(f"compiling / loading the kernel ({sizes.n_products} products, {sizes.horizon_days} days)")
    info["warm_up_s"] = warm_up(plan)
    timings = []
    for threads in sorted({1, max_threads()}):
        say(f"kernel, {threads} thread(s), {sizes.kernel_runs:,} runs")
        timings.append(time_kernel(plan, sizes.kernel_runs, threads=threads))
    best = max(timings, key=lambda t: t.rate)
    single = timings[0]
    how_best = f"{best.threads} thread(s)"
    targets = [
        _target("kernel product-days/s", best.rate, TARGET_RATE, how_best),
        _target("kernel product-days/s", single.rate, TARGET_RATE, "1 thread", single.rate_cpu),
    ]

    def compare(name: str, other: Timing, target: float) -> None:
        timings.append(other)
        targets.append(_target(name, best.rate / other.rate, target, how_best))
        ratio_cpu = single.rate_cpu / other.rate_cpu
        targets.append(_target(name, single.rate / other.rate, target, "1 thread each", ratio_cpu))
        if not other.extra["agree"]:
            notes.append(f"{other.engine} disagrees with the kernel: {other.extra}")

    try:
        say(f"SimPy reference engine, {sizes.reference_runs} runs")
        other = time_reference(plan, sizes.reference_runs)
    except ImportError as error:
        notes.append(f"SimPy reference engine unavailable: {error}")
    else:
        compare("kernel / SimPy", other, TARGET_VS_REFERENCE)
    end = system_info()
    info["load_average_end"] = end["load_average"]
    info["threading_layer"] = end["threading_layer"]
    if info["load_average"] and info["load_average"][0] > 0.5 * (os.cpu_count() or 1):
        notes.append(
            f"load average {info['load_average'][0]:.1f} on {os.cpu_count()} CPUs: the machine "
            "was busy, absolute figures are noisy (ratios less so)"
        )
    return BenchReport(sizes, timings, targets, info, notes)


def _target(
    name: str, measured: float, target: float, how: str, cpu: float | None = None
) -> dict[str, Any]:
    """A target row; ``cpu`` is the same measure from CPU times (a check on a busy machine)."""
    return {
        "name": name,
        "how": how,
        "measured": measured,
        "measured_cpu": cpu,
        "target": target,
        "met": bool(measured >= target),
    }
