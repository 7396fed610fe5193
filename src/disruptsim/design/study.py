"""Many variants of a scenario as one Monte Carlo study, over the same futures.

Every (variant, strategy) pair is an *arm*. The arms of a study are compiled into one
batch plan (:class:`disruptsim.run.engine.BatchPlan`) and run as one stream of batches, on
the local engine or on Dask, exactly as :func:`disruptsim.simulate` runs strategies:

- the random numbers of run ``r`` depend only on ``(seed, r)`` and the hazard's name, and
  the per-run event cap of each hazard is the largest any arm needs, so every arm sees
  the same futures (common random numbers) and a hazard whose probability, severity or
  duration varies keeps its events coupled through the same uniforms;
- a variant changes arrays, never code: the numba kernel is compiled once;
- arms whose resolved world is identical (a variant that does not touch a strategy
  that sets the same key itself) are simulated once.

Per arm and run the study keeps the per-run metrics of the system and of the products
asked for (see :data:`disruptsim.conventions.METRICS`), not daily trajectories.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..conventions import METRICS, N_METRICS, SYSTEM
from ..errors import ArgumentError
from ..run.engine import BatchOutput, BatchPlan, Timings, default_batch_runs, numba_threads
from ..scenario.frozen import FrozenDict
from ..scenario.model import Scenario, Strategy

METRIC_INDEX = {name: k for k, name in enumerate(METRICS)}


@dataclass
class _Arm:
    """Per-run metrics of one simulated arm: ``f8[runs, rows, M]``."""

    metrics: np.ndarray


MAX_VARIANTS = 10_000
"""Most variants (parameter sets) one study simulates: a sweep's grid, Morris
trajectories x (parameters + 1) or Sobol samples x (parameters + 2). A larger study is
refused before anything runs (each variant simulates every strategy compared)."""


def check_variant_count(count: int, what: str) -> None:
    """Refuse (:class:`~disruptsim.design.paths.DesignError`) a study of more than
    :data:`MAX_VARIANTS` variants; ``what`` says how the count arises."""
    from .paths import DesignError

    if count > MAX_VARIANTS:
        raise DesignError(
            f"the study has {count:,} variants ({what}); the limit is {MAX_VARIANTS:,}"
        )


def _merge(arm: _Arm, batch: BatchOutput, run_start: int) -> None:
    arm.metrics[run_start : run_start + batch.metrics.shape[0]] = batch.metrics


@dataclass
class StudyRuns:
    """Per-run metrics of every (variant, strategy) of a study.

    Attributes
    ----------
    variants : list of Scenario
        The variants, in order.
    strategies : tuple of str
        Strategies simulated in every variant.
    rows : tuple of str
        Products kept per run, then ``"system"``.
    runs, seed : int
        The study's size and seed.
    timings : dict
        Wall seconds per stage (``compile``, ``sampling``, ``kernel``, ``variants``).
    """

    variants: list[Scenario]
    strategies: tuple[str, ...]
    rows: tuple[str, ...]
    runs: int
    seed: int
    arms: dict[tuple[int, str], np.ndarray]
    timings: dict[str, float] = field(default_factory=dict)
    n_simulated: int = 0

    def metric(self, variant: int, strategy: str, name: str, row: str = SYSTEM) -> np.ndarray:
        """Per-run values ``f8[runs]`` of one metric of one arm."""
        return self.arms[(variant, strategy)][:, self.rows.index(row), METRIC_INDEX[name]]


def _arm_scenario(base: Scenario, worlds: dict[str, Any]) -> Scenario:
    """One scenario whose 'strategies' are the distinct arms (named ``a0``, ``a1``, ...)."""
    strategies = FrozenDict((name, Strategy(name, "", world)) for name, world in worlds.items())
    return Scenario(
        name=base.name,
        description=base.description,
        home=base.home,
        horizon_days=base.horizon_days,
        regions=base.regions,
        strategies=strategies,
        path=base.path,
        sha256=base.sha256,
    )


def run_variants(
    variants: Sequence[Scenario],
    runs: int,
    seed: int,
    *,
    strategies: Sequence[str] | None = None,
    products: Sequence[str] = (),
    batch_runs: int | None = None,
    threads: int | None = None,
    backend: str = "local",
    scheduler: Any = None,
    progress: Callable[[int], None] | None = None,
) -> StudyRuns:
    """Simulate every strategy of every variant over the same futures, as one stream.

    Parameters
    ----------
    variants : sequence of Scenario
        Scenarios with the same home, horizon, products and strategies.
    runs, seed : int
        Monte Carlo runs and the study's seed (as for :func:`disruptsim.simulate`).
    strategies : sequence of str, optional
        Strategies to simulate (default all; the baseline always).
    products : sequence of str
        Products whose per-run metrics are kept besides the system's.
    batch_runs, threads, backend, scheduler, progress
        As for :func:`disruptsim.simulate`; results do not depend on them.

    Returns
    -------
    StudyRuns
    """
    from ..run.simulation import check_arguments, select_strategies

    check_arguments(
        runs, batch_runs, 0, threads, backend, scheduler, "system", seed=seed,
        strategies=strategies, progress=progress,
    )  # fmt: skip
    base = variants[0]
    names = tuple(select_strategies(base, strategies))
    for v in variants[1:]:
        if v.horizon_days != base.horizon_days or v.home != base.home:
            raise ArgumentError(
                "variants", "variants of one study must share the horizon and the home region"
            )
    t0 = time.perf_counter()
    worlds: dict[str, Any] = {}
    index: dict[Any, str] = {}
    arm_of: dict[tuple[int, str], str] = {}
    for v, scenario in enumerate(variants):
        for name in names:
            world = scenario.world(name)
            key = _world_key(world)
            arm = index.get(key)
            if arm is None:
                arm = index[key] = f"a{len(worlds)}"
                worlds[arm] = world
            arm_of[(v, name)] = arm
    combined = _arm_scenario(base, worlds)
    arm_names = tuple(worlds)
    plan = BatchPlan.build(combined, seed, arm_names, trace_runs=0, keep="system", runs=runs)
    plan.daily = False
    first = plan.models[arm_names[0]]
    for p in products:
        if p not in first.products:
            raise ArgumentError("products", f"unknown product {p!r}")
    rows = np.array([first.products.index(p) for p in products] + [first.n_products])
    plan.rows = {name: rows for name in arm_names}
    acc = {name: _Arm(np.empty((runs, len(rows), N_METRICS))) for name in arm_names}
    timings = Timings()
    timings.compile = time.perf_counter() - t0
    if backend == "dask":
        from ..run.distributed import stream_distributed

        batch = batch_runs or default_batch_runs(runs, backend)
        stream_distributed(
            plan,
            acc,
            runs,
            timings,
            scheduler=scheduler,
            batch_runs=batch,
            threads=threads,
            progress=progress,
            merge=_merge,
        )
    else:
        from ..run.engine import stream_local

        with numba_threads(threads):
            stream_local(
                plan,
                acc,
                runs,
                batch_runs or default_batch_runs(runs),
                timings,
                progress=progress,
                merge=_merge,
            )
    return StudyRuns(
        variants=list(variants),
        strategies=names,
        rows=(*products, SYSTEM),
        runs=runs,
        seed=int(seed),
        arms={key: acc[arm].metrics for key, arm in arm_of.items()},
        timings=timings.as_dict(),
        n_simulated=len(arm_names),
    )


def _world_key(world: Any) -> Any:
    """A hashable identity of a resolved world (equal worlds simulate identically)."""
    try:
        hash(world)
        return world
    except TypeError:
        return world.model_dump_json()
