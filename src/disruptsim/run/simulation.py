"""The public entry point :func:`simulate`."""

from __future__ import annotations

import functools
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..conventions import DEFAULT_RUNS
from ..errors import ArgumentError
from ..model.shocks import GENERATOR
from ..model.situation import Situation, load_situation, scenario_situation
from ..results.result import SimulationResult, StrategyResult
from ..scenario.model import Scenario
from .engine import DEFAULT_TRACE_RUNS, KEEP_CHOICES, default_batch_runs, simulate_local
from .memory import plan_memory

BACKENDS = ("local", "dask")


class MemoryBudgetWarning(UserWarning):
    """A study keeps fewer daily traces than asked, to fit its memory budget."""


def max_threads() -> int:
    """Most numba threads this process can use (``NUMBA_NUM_THREADS``)."""
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def select_strategies(scenario: Scenario, strategies: Sequence[str] | None) -> list[str]:
    """The strategies to simulate, baseline first; an unknown name is an ``ArgumentError``
    (shared by :func:`simulate` and the design studies)."""
    if strategies is None:
        return list(scenario.strategy_names)
    names = list(dict.fromkeys(strategies))
    unknown = [s for s in names if s not in scenario.strategies]
    if unknown:
        known = ", ".join(scenario.strategy_names)
        raise ArgumentError(
            "strategies", f"unknown strategy {unknown[0]!r}; this scenario has: {known}"
        )
    if "baseline" not in names:
        names.insert(0, "baseline")
    return names


def _positive_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ArgumentError(name, f"{name} must be {what}, got {value!r}")


def check_arguments(
    runs: Any,
    batch_runs: Any,
    trace_runs: Any,
    threads: Any,
    backend: Any,
    scheduler: Any,
    keep: Any,
    seed: Any = 0,
    max_memory: Any = None,
    strategies: Any = None,
    progress: Any = None,
) -> None:
    """Raise :class:`~disruptsim.errors.ArgumentError` on the first bad argument of
    :func:`simulate` (``disruptsim run`` calls it before loading anything heavy)."""
    _positive_int("runs", runs)
    _positive_int("seed", seed, minimum=0)
    if batch_runs is not None:
        _positive_int("batch_runs", batch_runs)
    _positive_int("trace_runs", trace_runs, minimum=0)
    if threads is not None:
        _positive_int("threads", threads)
        if backend == "local" and threads > max_threads():
            raise ArgumentError(
                "threads",
                f"threads must be at most {max_threads()} on this machine (numba's "
                f"NUMBA_NUM_THREADS, the number of cores by default), got {threads!r}",
            )
    if max_memory is not None:
        _positive_int("max_memory", max_memory)
    if isinstance(strategies, str) or (
        strategies is not None
        and (
            not isinstance(strategies, Sequence | set | frozenset)
            or not all(isinstance(s, str) for s in strategies)
        )
    ):
        raise ArgumentError(
            "strategies", f"strategies must be a list of strategy names, got {strategies!r}"
        )
    if progress is not None and not callable(progress):
        raise ArgumentError("progress", f"progress must be callable, got {progress!r}")
    if backend not in BACKENDS:
        raise ArgumentError("backend", f"backend must be 'local' or 'dask', got {backend!r}")
    if backend == "local" and scheduler is not None:
        raise ArgumentError("scheduler", "scheduler is only used with backend='dask'")
    if keep not in KEEP_CHOICES:
        raise ArgumentError("keep", f"keep must be one of {', '.join(KEEP_CHOICES)}; got {keep!r}")


def simulate(
    scenario: Scenario | str | Path,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    *,
    strategies: Sequence[str] | None = None,
    batch_runs: int | None = None,
    trace_runs: int = DEFAULT_TRACE_RUNS,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    backend: str = "local",
    scheduler: Any = None,
    keep: str = "auto",
    situation: Situation | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    max_memory: int | None = None,
) -> SimulationResult:
    """Simulate every strategy of a scenario over the same sampled futures.

    Parameters
    ----------
    scenario : Scenario, str or Path
        From :func:`disruptsim.load_scenario`, or the path of a scenario file (loaded
        with it; an invalid file raises :class:`disruptsim.ScenarioError`).
    runs : int, default 10000
        Number of Monte Carlo runs (futures); the same default as ``disruptsim run``
        (:data:`disruptsim.conventions.DEFAULT_RUNS`).
    seed : int, default 0
        Seed of the study. Run ``r`` depends only on ``(seed, r)``: the first 1,000 runs
        of a larger study are exactly a 1,000-run study.
    strategies : sequence of str, optional
        Strategies to simulate (default: all); the baseline is always included.
    batch_runs : int, optional
        Runs per batch (a Dask task each). Default: 4096 locally; with Dask, ``runs / 32``
        clamped to 256..4096 so that workers get several tasks
        (:func:`~disruptsim.run.engine.default_batch_runs`). Results do not depend on it.
    trace_runs : int, default 1000
        Daily trajectories are kept for the first ``trace_runs`` runs.
    threads : int, optional
        Numba threads (default: numba's setting); results do not depend on it.
    progress : callable, optional
        Called with the number of runs finished after each batch.
    backend : {"local", "dask"}, default "local"
        ``"local"``: numba threads in this process. ``"dask"``: batches become tasks on
        a Dask cluster (needs ``pip install "disruptsim[dask]"``); results are identical.
    scheduler : str, distributed.Client or Dask cluster, optional
        Only with ``backend="dask"``: a scheduler address (``"tcp://host:8786"``), a
        client or a cluster object; None starts a local cluster of 2 worker processes
        for this call. See ``docs/cluster.md``.
    keep : {"auto", "all", "final", "system"}, default "auto"
        Which per-run metric rows to keep in memory: every product and the system
        (``"all"``), final-demand products and the system (``"final"``), or the system
        only (``"system"``). ``"auto"`` keeps the most detail whose per-run metrics fit
        in 1 GiB (every product up to about 10^5 runs of a 50-product scenario with
        four strategies). Daily means and traces always cover every product.
    situation : Situation, mapping or path, optional
        Simulate from the state of the world on a day of the scenario (a
        :class:`~disruptsim.situation.Situation` from :func:`disruptsim.load_situation`,
        or what it reads). Default: the scenario's own ``situation:`` block, if any, else
        day 0 with full stocks. Strategies are decided that day (a reshoring starts
        building then), new hazard events are sampled from that day on, metrics count
        the days from that day to the horizon (daily means and traces are NaN before
        it) and times to recover are measured from each product's first disruption.
        See ``docs/how-to-situation.md``.
    max_memory : int, optional
        Memory budget of the study in bytes (default: half the memory available when it
        starts). Checked before anything is allocated: fewer runs are traced when the
        traces do not fit (with a :class:`MemoryBudgetWarning`); see ``docs/cli.md``
        ("Memory").

    Returns
    -------
    SimulationResult

    Raises
    ------
    disruptsim.errors.ArgumentError
        A bad argument (a :class:`ValueError` naming the parameter), e.g. ``runs=0``,
        ``seed=1.7``, ``seed=-1``, more threads than numba allows, or an unknown strategy.
    disruptsim.run.memory.MemoryBudgetError
        The study does not fit ``max_memory`` even without traces (a ``ValueError``),
        raised before anything is allocated.
    disruptsim.run.distributed.BackendError
        With ``backend="dask"``: Dask not installed, scheduler unreachable, no workers.

    Examples
    --------
    >>> import disruptsim as ds
    >>> sc = ds.load_scenario("scenarios/example-minimal.yaml")  # doctest: +SKIP
    >>> result = ds.simulate(sc, runs=1000, seed=1)  # doctest: +SKIP
    >>> result.runs("baseline").query("product == 'system'").total_cost.mean()  # doctest: +SKIP
    """
    if isinstance(scenario, str) and "\n" in scenario:
        raise ArgumentError(
            "scenario",
            "scenario must be a Scenario (disruptsim.load_scenario) or the path of a scenario "
            "file, got a string of several lines (YAML text?): write it to a file first",
        )
    if isinstance(scenario, str | Path):
        from ..scenario import load_scenario

        try:
            is_file = Path(scenario).is_file()
        except (OSError, ValueError):  # a name too long, or with a NUL byte
            is_file = False
        if not is_file:
            shown = str(scenario)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise ArgumentError(
                "scenario",
                "scenario must be a Scenario (disruptsim.load_scenario) or the path of a "
                f"scenario file; there is no file {shown!r}",
            )
        scenario = load_scenario(scenario)
    elif not isinstance(scenario, Scenario):
        raise ArgumentError(
            "scenario",
            "scenario must be a Scenario (disruptsim.load_scenario) or the path of a "
            f"scenario file, got {type(scenario).__name__}",
        )
    check_arguments(
        runs, batch_runs, trace_runs, threads, backend, scheduler, keep, seed, max_memory,
        strategies, progress,
    )  # fmt: skip
    runs, seed, trace_runs = int(runs), int(seed), int(trace_runs)
    if batch_runs is None:
        batch_runs = default_batch_runs(runs, backend)
    names = select_strategies(scenario, strategies)
    plan = plan_memory(
        scenario,
        names,
        runs,
        trace_runs,
        batch_runs=int(batch_runs),
        lanes=4 * (threads or max_threads()),
        budget=max_memory,
        keep=keep,
    )
    if plan.reduced:
        warnings.warn(plan.message(), MemoryBudgetWarning, stacklevel=2)
    trace_runs = plan.trace_runs
    if situation is None:
        situation = scenario_situation(scenario)
    elif isinstance(situation, Mapping | str | os.PathLike):
        situation = load_situation(situation, scenario)
    elif not isinstance(situation, Situation):
        raise ArgumentError(
            "situation",
            "situation must be a Situation (disruptsim.load_situation), a mapping or a path; "
            f"got {type(situation).__name__}",
        )
    if backend == "dask":
        from .distributed import simulate_distributed

        run = functools.partial(simulate_distributed, scheduler=scheduler)
    else:
        run = simulate_local
    acc, timings = run(
        scenario,
        runs,
        seed,
        names,
        batch_runs=batch_runs,
        trace_runs=trace_runs,
        threads=threads,
        progress=progress,
        keep=keep,
        situation=situation,
    )
    results = {n: StrategyResult.from_accumulator(acc[n], runs) for n in names}
    info: dict[str, Any] = {}
    if situation is not None:
        for s in results.values():
            _before_today(s, situation.day)
        info["situation"] = situation.to_dict()
    return SimulationResult(
        scenario=scenario,
        seed=int(seed),
        n_runs=runs,
        strategies=results,
        generator=GENERATOR,
        timings=timings.as_dict(),
        info=info,
    )


def _before_today(s: StrategyResult, day: int) -> None:
    """Daily means of days before a situation's day are not simulated: NaN."""
    for values in (s.mean_fulfilment, s.mean_stock, s.shortage_probability):
        values[:day] = np.nan
