"""Batches of runs through the kernel, for every strategy, with common random numbers.

The engine compiles each strategy once, samples each batch's events once per distinct
set of hazards (strategies that do not change hazards share the very same events),
runs the kernel per strategy and merges the batch into the result in run order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numba
import numpy as np

from ..conventions import N_METRICS, SYSTEM
from ..model import kernel
from ..model.compiler import CompiledModel, compile_strategy
from ..model.shocks import EventBatch, ShockSampler
from ..model.situation import Situation, StartState, start_state
from ..scenario.model import Scenario

DEFAULT_BATCH_RUNS = 4096
"""Default batch of the local backend (runs per kernel call); the largest default on Dask."""
MIN_BATCH_RUNS = 256
"""Smallest default batch on Dask."""
TASKS_PER_STUDY = 32
"""Default number of Dask tasks of a study, between those bounds."""
DEFAULT_TRACE_RUNS = 1000
KEEP_CHOICES = ("auto", "all", "final", "system")
KEEP_BUDGET_BYTES = 1 << 30
"""With ``keep="auto"``, per-run metrics of every product are kept while they fit in this."""


def kept_rows(model: CompiledModel, keep: str) -> np.ndarray:
    """Rows of the kernel output (products, then the system) kept per run.

    ``"all"``: every product and the system; ``"final"``: products with final demand and
    the system; ``"system"``: the system only.
    """
    P = model.n_products
    if keep == "all":
        return np.arange(P + 1)
    if keep == "final":
        return np.append(np.flatnonzero(model.arrays.final_demand > 0), P)
    if keep == "system":
        return np.array([P])
    raise ValueError(f"keep must be one of {', '.join(KEEP_CHOICES)}; got {keep!r}")


def resolve_keep(keep: str, models: dict[str, CompiledModel], runs: int) -> str:
    """Turn ``keep="auto"`` into the most detailed choice whose per-run metrics fit the budget."""
    if keep != "auto":
        kept_rows(next(iter(models.values())), keep)  # validates the choice
        return keep
    for choice in ("all", "final"):
        rows = sum(len(kept_rows(m, choice)) for m in models.values())
        if runs * rows * N_METRICS * 8 <= KEEP_BUDGET_BYTES:
            return choice
    return "system"


@dataclass
class StrategyAccumulator:
    """Everything the engine keeps for one strategy while it runs."""

    model: CompiledModel
    row_labels: tuple[str, ...]  # products (and "system") of the metrics' second axis
    metrics: np.ndarray  # f8[runs, len(row_labels), M]
    trace_phi: np.ndarray  # f4[trace, T, P]
    trace_stock: np.ndarray  # f4[trace, T, P]
    sum_gap: np.ndarray  # i8[T, P], fixed point
    sum_short: np.ndarray  # i8[T, P+1], counts
    sum_stock_deficit: np.ndarray  # i8[T, P], fixed point

    @classmethod
    def empty(
        cls, model: CompiledModel, runs: int, trace_runs: int, rows: np.ndarray
    ) -> StrategyAccumulator:
        T, P = model.horizon_days, model.n_products
        n_trace = min(trace_runs, runs)
        labels = (*model.products, SYSTEM)
        return cls(
            model=model,
            row_labels=tuple(labels[r] for r in rows),
            metrics=np.empty((runs, len(rows), N_METRICS)),
            trace_phi=np.empty((n_trace, T, P), dtype=np.float32),
            trace_stock=np.empty((n_trace, T, P), dtype=np.float32),
            sum_gap=np.zeros((T, P), dtype=np.int64),
            sum_short=np.zeros((T, P + 1), dtype=np.int64),
            sum_stock_deficit=np.zeros((T, P), dtype=np.int64),
        )


@dataclass
class BatchOutput:
    """What one batch of one strategy produces (see :func:`run_strategy_batch`)."""

    metrics: np.ndarray
    trace_phi: np.ndarray
    trace_stock: np.ndarray
    sum_gap: np.ndarray
    sum_short: np.ndarray
    sum_stock_deficit: np.ndarray
    snap_stock: np.ndarray | None = None  # f8[n, P], stocks at the start of snap_day


def lanes_for(n_runs: int) -> int:
    """Independent accumulator lanes for a batch (several per thread for load balance)."""
    return max(1, min(n_runs, 4 * numba.get_num_threads()))


def run_strategy_batch(
    model: CompiledModel,
    events: EventBatch,
    success: np.ndarray,
    n_trace: int,
    start: StartState | None = None,
    snap_day: int = -1,
    trace_into: tuple[np.ndarray, np.ndarray] | None = None,
) -> BatchOutput:
    """Run the kernel on one batch of one strategy; runs ``k < n_trace`` are traced.

    ``start``: the start state (default: day 0, full stocks); traced days before it are NaN.
    ``snap_day``: also keep every run's stocks at the start of that day
    (:attr:`BatchOutput.snap_stock`, NaN for a run that starts after it).
    ``trace_into``: float32 arrays ``[n_trace, T, P]`` (views of the study's traces) that the
    traced runs write into directly, saving a copy of the largest outputs.
    """
    if start is None:
        start = start_state(None, model)
    n = events.n_runs
    T, P = model.horizon_days, model.n_products
    lanes = lanes_for(n)
    out = np.empty((n, P + 1, N_METRICS))
    if trace_into is not None and n_trace > 0:
        trace_phi, trace_stock = trace_into
        assert trace_phi.shape == trace_stock.shape == (n_trace, T, P)
    else:
        trace_phi = np.empty((max(n_trace, 1), T, P), dtype=np.float32)
        trace_stock = np.empty((max(n_trace, 1), T, P), dtype=np.float32)
    acc_gap = np.zeros((lanes, T, P), dtype=np.int64)
    acc_short = np.zeros((lanes, T, P + 1), dtype=np.int64)
    acc_stock = np.zeros((lanes, T, P), dtype=np.int64)
    snap_stock = np.full((n if snap_day >= 0 else 1, P), np.nan)
    kernel.run_batch(
        model.arrays,
        events,
        success,
        out,
        n_trace,
        trace_phi,
        trace_stock,
        acc_gap,
        acc_short,
        acc_stock,
        start,
        snap_day,
        snap_stock,
    )
    if start.day:
        trace_phi[:, : start.day] = np.nan
        trace_stock[:, : start.day] = np.nan
    return BatchOutput(
        metrics=out,
        trace_phi=trace_phi[:n_trace],
        trace_stock=trace_stock[:n_trace],
        sum_gap=acc_gap.sum(axis=0),
        sum_short=acc_short.sum(axis=0),
        sum_stock_deficit=acc_stock.sum(axis=0),
        snap_stock=snap_stock if snap_day >= 0 else None,
    )


@contextmanager
def numba_threads(threads: int | None):
    """Use ``threads`` numba threads inside the block (None: leave as is)."""
    if threads is None:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(int(threads))
    try:
        yield
    finally:
        numba.set_num_threads(before)


@dataclass
class Timings:
    """Wall time in seconds spent in each stage."""

    compile: float = 0.0
    sampling: float = 0.0
    kernel: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {
            "compile": self.compile,
            "sampling": self.sampling,
            "kernel": self.kernel,
            **self.extra,
        }


def default_batch_runs(runs: int, backend: str = "local") -> int:
    """Default runs per batch: 4096 locally; on Dask ``runs / 32`` rounded up and clamped
    to 256..4096, so that every worker gets several tasks.

    The one rule for :func:`~disruptsim.run.simulation.simulate` and ``disruptsim run``.
    Results do not depend on it, speed does: every batch has a fixed cost (on the 2-core
    development machine, semiconductors at 10,000 runs took 1.0 s in batches of 4096 and
    3.4 s in batches of 313), so the local backend takes the largest batch.
    """
    if backend == "local":
        return DEFAULT_BATCH_RUNS
    return min(DEFAULT_BATCH_RUNS, max(MIN_BATCH_RUNS, -(-runs // TASKS_PER_STUDY)))


def batch_bounds(runs: int, batch_runs: int) -> list[tuple[int, int]]:
    """Run ranges ``[start, stop)`` of the batches."""
    return [(r, min(r + batch_runs, runs)) for r in range(0, runs, batch_runs)]


@dataclass
class BatchPlan:
    """What every batch of a study needs: the scenario, its compiled strategies, the sampler."""

    scenario: Scenario
    strategies: tuple[str, ...]
    models: dict[str, CompiledModel]
    sampler: ShockSampler
    trace_runs: int
    keep: str = "all"
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    situation: Situation | None = None
    starts: dict[str, StartState] = field(default_factory=dict)
    daily: bool = True
    """False: batches return per-run metrics only (no daily sums), for studies of many
    variants that keep statistics per run (``disruptsim.design``)."""

    @classmethod
    def build(
        cls,
        scenario: Scenario,
        seed: int,
        strategies: Sequence[str],
        trace_runs: int,
        keep: str = "all",
        runs: int = 0,
        situation: Situation | None = None,
    ) -> BatchPlan:
        """Compile the strategies and resolve which per-run rows to keep (see :func:`kept_rows`).

        With a ``situation``, strategies are compiled as decided on its ``decided_day`` and
        every run starts from its state (:func:`disruptsim.situation.start_state`).
        """
        names = tuple(strategies)
        if situation is None:
            models = {name: compile_strategy(scenario, name) for name in names}
        else:
            models = {name: situation.compile(scenario, name) for name in names}
        keep = resolve_keep(keep, models, runs)
        rows = {name: kept_rows(models[name], keep) for name in names}
        starts = {name: start_state(situation, models[name]) for name in names}
        sampler = ShockSampler(scenario, seed)
        return cls(scenario, names, models, sampler, trace_runs, keep, rows, situation, starts)


def simulate_batch(
    plan: BatchPlan,
    run_start: int,
    run_stop: int,
    timings: Timings | None = None,
    acc: dict[str, StrategyAccumulator] | None = None,
) -> dict[str, BatchOutput]:
    """Simulate runs ``run_start..run_stop-1`` of every strategy (a pure function of its inputs).

    Events are sampled once per distinct set of hazards and shocks, so strategies that do
    not change hazards see the very same events (common random numbers). With ``acc`` (in
    this process), traced runs write their trajectories straight into the accumulators.
    """
    timings = timings if timings is not None else Timings()
    shared: list[tuple[object, EventBatch]] = []
    situation = plan.situation
    day = 0 if situation is None else situation.day
    n_trace = max(0, min(run_stop, plan.trace_runs) - run_start)
    outputs = {}
    for name in plan.strategies:
        t1 = time.perf_counter()
        world = plan.scenario.world(name)
        key = (world.hazards, world.shocks)
        events = next((ev for k, ev in shared if k == key), None)
        if events is None:
            in_force = (
                () if situation is None else situation.events_for(world, plan.scenario.baseline)
            )
            events = plan.sampler.events(world, run_start, run_stop, day, in_force)
            shared.append((key, events))
        success = plan.sampler.success(plan.models[name], run_start, run_stop)
        t2 = time.perf_counter()
        into = None
        if acc is not None and n_trace > 0:
            into = tuple(
                a[run_start : run_start + n_trace]
                for a in (acc[name].trace_phi, acc[name].trace_stock)
            )
        out = run_strategy_batch(
            plan.models[name], events, success, n_trace, plan.starts.get(name), trace_into=into
        )
        rows = plan.rows.get(name)
        if rows is not None and len(rows) < out.metrics.shape[1]:
            out.metrics = np.ascontiguousarray(out.metrics[:, rows, :])
        if not plan.daily:
            out.sum_gap = out.sum_short = out.sum_stock_deficit = None
        outputs[name] = out
        timings.sampling += t2 - t1
        timings.kernel += time.perf_counter() - t2
    return outputs


def new_accumulators(plan: BatchPlan, runs: int) -> dict[str, StrategyAccumulator]:
    """Empty accumulators for every strategy of a study of ``runs`` runs."""
    return {
        name: StrategyAccumulator.empty(
            plan.models[name],
            runs,
            plan.trace_runs,
            plan.rows.get(name, kept_rows(plan.models[name], "all")),
        )
        for name in plan.strategies
    }


def prepare_study(
    scenario: Scenario,
    runs: int,
    seed: int,
    strategies: Sequence[str],
    trace_runs: int,
    keep: str,
    situation: Situation | None = None,
) -> tuple[BatchPlan, dict[str, StrategyAccumulator], Timings]:
    """Compile the plan and allocate the accumulators of a study (timed as ``compile``)."""
    timings = Timings()
    t0 = time.perf_counter()
    plan = BatchPlan.build(scenario, seed, strategies, trace_runs, keep, runs, situation)
    acc = new_accumulators(plan, runs)
    timings.compile = time.perf_counter() - t0
    return plan, acc, timings


def simulate_local(
    scenario: Scenario,
    runs: int,
    seed: int,
    strategies: Sequence[str],
    *,
    batch_runs: int = DEFAULT_BATCH_RUNS,
    trace_runs: int = DEFAULT_TRACE_RUNS,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    keep: str = "all",
    situation: Situation | None = None,
) -> tuple[dict[str, StrategyAccumulator], Timings]:
    """Simulate ``runs`` runs of every strategy in this process (numba threads).

    With a ``situation``, every run starts from it (see :class:`BatchPlan`).
    """
    plan, acc, timings = prepare_study(
        scenario, runs, seed, strategies, trace_runs, keep, situation
    )
    stream_local(plan, acc, runs, batch_runs, timings, threads=threads, progress=progress)
    return acc, timings


def stream_local(
    plan: BatchPlan,
    acc: dict,
    runs: int,
    batch_runs: int,
    timings: Timings,
    *,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    merge: Callable[[object, BatchOutput, int], None] | None = None,
) -> None:
    """Run a prepared plan batch by batch, merging each strategy's output into ``acc``
    (with :func:`merge_batch`, or ``merge(acc[name], batch, run_start)``)."""
    direct = acc if merge is None else None  # traces straight into StrategyAccumulators
    merge = merge_batch if merge is None else merge
    with numba_threads(threads):
        for r0, r1 in batch_bounds(runs, batch_runs):
            for name, batch in simulate_batch(plan, r0, r1, timings, direct).items():
                merge(acc[name], batch, r0)
            if progress is not None:
                progress(r1 - r0)


def merge_batch(acc: StrategyAccumulator, batch: BatchOutput, run_start: int) -> None:
    """Merge one batch's output into a strategy's accumulator (order-independent sums)."""
    n = batch.metrics.shape[0]
    acc.metrics[run_start : run_start + n] = batch.metrics
    k = batch.trace_phi.shape[0]
    if k and not np.may_share_memory(acc.trace_phi, batch.trace_phi):  # else written in place
        acc.trace_phi[run_start : run_start + k] = batch.trace_phi
        acc.trace_stock[run_start : run_start + k] = batch.trace_stock
    acc.sum_gap += batch.sum_gap
    acc.sum_short += batch.sum_short
    acc.sum_stock_deficit += batch.sum_stock_deficit
