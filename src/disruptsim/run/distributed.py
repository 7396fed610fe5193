"""Runs on Dask distributed: batches of runs become tasks, merged deterministically.

The client builds the :class:`~disruptsim.run.engine.BatchPlan` (scenario, compiled
strategies, sampler) once and scatters it to every worker. Each task carries only its
run range ``[run_start, run_stop)`` and a reference to the plan; it returns the
batch's outputs for every strategy, which the client merges into the accumulators by
run range (:func:`~disruptsim.run.engine.merge_batch`) as soon as it arrives, in whatever
order tasks finish. Run ``r``'s random numbers depend only on ``(seed, r)`` and the
daily sums are int64, so the result is bit-identical to the local backend's for any
batch size, number of workers, completion order or retried task.

Dask is an optional dependency: it is imported inside the functions of this module,
never when :mod:`disruptsim` is imported.

Pitfalls of numba on Dask workers, and what this module does about them:

* tasks are plain Python functions of this module (:func:`run_batch_task`), pickled by
  reference; the worker imports the kernel itself (a pickled jitted function would be
  recompiled on every worker, every time);
* ``numba.set_num_threads`` is called inside each task (the setting is per thread,
  and ``NUMBA_NUM_THREADS`` set through a cluster's environment arrives too late);
* a worker process runs one batch at a time (a process-wide lock), so workers with
  several Dask threads neither oversubscribe cores nor launch concurrent parallel
  kernels (unsafe with numba's ``workqueue`` threading layer);
* before anything is scattered, every worker reports (``client.run``) whether it can
  import disruptsim, its version and a fingerprint of its core sources: a mismatch is a
  :class:`BackendError`, not a failure in the middle of the study;
* every worker is then warmed once per study with a one-run batch, which loads (or
  compiles) the kernel before the study's tasks start.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..model.situation import Situation
from ..scenario.model import Scenario
from .engine import (
    DEFAULT_BATCH_RUNS,
    DEFAULT_TRACE_RUNS,
    BatchOutput,
    BatchPlan,
    StrategyAccumulator,
    Timings,
    batch_bounds,
    merge_batch,
    prepare_study,
)

__all__ = [
    "BackendError",
    "CONNECT_TIMEOUT_S",
    "IN_FLIGHT_PER_THREAD",
    "INSTALL_HINT",
    "LOCAL_WORKERS",
    "TASK_RETRIES",
    "WORKER_TIMEOUT_S",
    "code_fingerprint",
    "connect",
    "local_cluster",
    "run_batch_task",
    "simulate_distributed",
]

INSTALL_HINT = 'pip install "disruptsim[dask]"'
"""How to install the optional Dask dependency."""
CONNECT_TIMEOUT_S = 5.0
"""Seconds to wait for a scheduler to answer before giving up."""
WORKER_TIMEOUT_S = 60.0
"""Seconds to wait for a first worker to join a scheduler that has none."""
LOCAL_WORKERS = 2
"""Worker processes of the embedded LocalCluster (one thread each)."""
IN_FLIGHT_PER_THREAD = 2
"""Tasks submitted but not yet merged, per worker thread (bounds client memory)."""
TASK_RETRIES = 3
"""Times a failed task is resubmitted (a dead worker's tasks are rescheduled anyway)."""

_LIMIT_REFRESH_S = 2.0
# Clients opened here fetch results straight from the workers: through the scheduler
# (distributed's default) a traced batch took 10x longer, and the scheduler's event loop
# would carry every result of the study.
_CLIENT_OPTIONS = {"set_as_default": False, "direct_to_workers": True}
_BATCH_LOCK = threading.Lock()


class BackendError(RuntimeError):
    """The distributed backend cannot run the study.

    Raised when Dask is not installed, the scheduler cannot be reached, no worker
    joins, workers run another version of disruptsim, or workers keep dying on a task.
    The message is one line a user can act on; the CLI prints it and exits with status 2.
    """


def _distributed() -> Any:
    """The ``distributed`` package, or a :class:`BackendError` that says how to get it."""
    try:
        import distributed
    except ImportError as error:
        raise BackendError(
            f"the 'dask' backend needs Dask distributed, which is not installed: {INSTALL_HINT}"
        ) from error
    return distributed


# --------------------------------------------------------------------------- worker side


def _numba_threads_for_task(threads: int | None) -> int:
    """Numba threads of a task: ``threads``, else the worker's Dask threads (at least 1)."""
    import numba

    if threads is None:
        try:
            from distributed import get_worker

            threads = int(get_worker().state.nthreads)
        except (ImportError, ValueError, AttributeError):
            threads = 1
    return max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS))


def run_batch_task(
    plan: BatchPlan, run_start: int, run_stop: int, threads: int | None = None
) -> tuple[int, int, dict[str, BatchOutput], tuple[float, float]]:
    """The task: simulate runs ``run_start..run_stop-1`` of every strategy on a worker.

    A plain Python function, pickled by reference: the worker imports
    :mod:`disruptsim.run.engine` (and with it the numba kernel) from its own installation.

    Returns
    -------
    tuple
        ``(run_start, run_stop, {strategy: BatchOutput}, (sampling_s, kernel_s))``.
    """
    from . import engine

    timings = engine.Timings()
    with _BATCH_LOCK, engine.numba_threads(_numba_threads_for_task(threads)):
        outputs = engine.simulate_batch(plan, run_start, run_stop, timings)
    return run_start, run_stop, outputs, (timings.sampling, timings.kernel)


_CORE_SOURCES = ("conventions.py", "model", "run/engine.py", "scenario")
"""Files (under the package) whose code decides the numbers; hashed by :func:`code_fingerprint`."""


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of this installation's core sources (conventions, model, engine, scenario).

    Compared between the client and every worker: two installations with the same
    version string but different code (a development install, a stale worker) would
    otherwise give different numbers or fail in the middle of a study. Computed once
    per process, from the files on disk at the first call.
    """
    root = Path(__file__).parent.parent  # the package
    h = hashlib.sha256()
    for name in _CORE_SOURCES:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
        for file in files:
            h.update(file.relative_to(root).as_posix().encode())
            h.update(file.read_bytes())
    return h.hexdigest()


def worker_report() -> dict[str, Any]:
    """Versions and code fingerprint of this process (run on every worker by ``client.run``)."""
    import os

    import numba
    import numpy

    from .. import __version__

    return {
        "disruptsim": __version__,
        "numba": numba.__version__,
        "numpy": numpy.__version__,
        "pid": os.getpid(),
        "code": code_fingerprint(),
    }


def warm_worker(plan: BatchPlan, threads: int | None = None) -> int:
    """Load (or compile) the kernel on a worker with a one-run batch; return its pid."""
    import os

    run_batch_task(plan, 0, 1, threads)
    return os.getpid()


# --------------------------------------------------------------------------- client side


def local_cluster(n_workers: int = LOCAL_WORKERS, **kwargs: Any) -> Any:
    """A ``LocalCluster`` of ``n_workers`` processes with one thread each, no dashboard.

    Extra keyword arguments go to ``distributed.LocalCluster``. Start it under
    ``if __name__ == "__main__":`` in a script (worker processes are spawned).
    """
    dd = _distributed()
    options: dict[str, Any] = {
        "n_workers": n_workers,
        "threads_per_worker": 1,
        "processes": True,
        # Port 0: never collide with another cluster's 8787; no dashboard (needs bokeh).
        "dashboard_address": ":0",
        "scheduler_kwargs": {"dashboard": False},
    }
    return dd.LocalCluster(**{**options, **kwargs})


@contextmanager
def connect(
    scheduler: Any = None,
    *,
    n_workers: int = LOCAL_WORKERS,
    timeout: float = CONNECT_TIMEOUT_S,
) -> Iterator[Any]:
    """A Dask client for ``scheduler``, closed afterwards if this function opened it.

    Parameters
    ----------
    scheduler : None, str, distributed.Client or a Dask cluster object
        None: start a ``LocalCluster`` of ``n_workers`` processes with one thread each,
        closed on exit. A string: the address of a running scheduler
        (``"tcp://host:8786"``). A ``Client``: used as is and left open. A cluster
        object (``LocalCluster``, dask-jobqueue's ``SLURMCluster``...): a client on it.
        Clients opened here fetch results directly from the workers; a ``Client``
        passed in keeps its own ``direct_to_workers`` setting (True is much faster
        for large batches; False when only the scheduler is reachable from here).
    n_workers : int, default 2
        Worker processes of the LocalCluster started when ``scheduler`` is None.
    timeout : float, default 5
        Seconds to wait for the scheduler to answer.

    Raises
    ------
    BackendError
        Dask is not installed, or the scheduler does not answer within ``timeout``.
    """
    dd = _distributed()
    if isinstance(scheduler, dd.Client):
        yield scheduler
        return
    if scheduler is None:
        with (
            local_cluster(n_workers) as cluster,
            dd.Client(cluster, **_CLIENT_OPTIONS) as client,
        ):
            yield client
        return
    if isinstance(scheduler, dd.deploy.Cluster):
        with dd.Client(scheduler, **_CLIENT_OPTIONS) as client:
            yield client
        return
    if not isinstance(scheduler, str):
        raise TypeError(
            "scheduler must be None, an address such as 'tcp://host:8786', "
            f"a distributed.Client or a Dask cluster; got {type(scheduler).__name__}"
        )
    try:
        client = dd.Client(scheduler, timeout=timeout, **_CLIENT_OPTIONS)
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise BackendError(
            f"cannot connect to the Dask scheduler at {scheduler!r} within {timeout:g} s "
            f"({reason}); is a scheduler running there and reachable from here?"
        ) from error
    try:
        yield client
    finally:
        client.close()


class _InFlightLimit:
    """Most tasks in flight: ``IN_FLIGHT_PER_THREAD`` per worker thread, refreshed as
    workers come and go (adaptive clusters)."""

    def __init__(self, client: Any, fixed: int | None):
        self.client, self.fixed = client, fixed
        self.value, self.checked = 2, -float("inf")

    def __call__(self) -> int:
        if self.fixed is not None:
            return self.fixed
        now = time.monotonic()
        if now - self.checked > _LIMIT_REFRESH_S:
            threads = sum(self.client.nthreads().values())
            self.value = max(2, IN_FLIGHT_PER_THREAD * threads)
            self.checked = now
        return self.value


def _wait_for_workers(client: Any, timeout: float) -> dict[str, int]:
    nthreads = client.nthreads()
    if nthreads:
        return nthreads
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError as error:
        raise BackendError(
            f"no Dask worker joined the scheduler at {client.scheduler.address} within "
            f"{timeout:g} s; start workers with `dask worker {client.scheduler.address}`"
        ) from error
    return client.nthreads()


def _check_workers(client: Any) -> dict[str, dict]:
    """Every worker imports disruptsim, with the same version and core code as here."""
    from .. import __version__

    def report() -> dict[str, Any]:
        # Nested, so pickled by value: it runs even where disruptsim cannot be imported.
        import os

        try:
            from disruptsim.run.distributed import worker_report
        except ImportError as error:
            return {"error": f"{type(error).__name__}: {error}", "pid": os.getpid()}
        return worker_report()

    reports = client.run(report)
    for address, info in reports.items():
        if "error" in info:
            raise BackendError(
                f"the Dask worker {address} cannot import disruptsim ({info['error']}); "
                "install disruptsim in the workers' environment (the same version as here)"
            )
        if info["disruptsim"] != __version__:
            raise BackendError(
                f"the Dask worker {address} runs disruptsim {info['disruptsim']}, this "
                f"process {__version__}: install the same version everywhere"
            )
        if info["code"] != code_fingerprint():
            raise BackendError(
                f"the Dask worker {address} runs different disruptsim {__version__} code "
                "than this process (the kernel, engine or scenario sources differ): install "
                "the same build everywhere and restart whichever side is stale (workers "
                "started before an update, or this process if its files changed since)"
            )
    _warn_on_version_mismatch(list(reports.values()))
    return reports


def _warm(
    client: Any, plan_future: Any, addresses: Sequence[str], threads: int | None, token: str
) -> None:
    """One warm-up task per worker (preferably on it): load the compiled kernel."""
    futures = [
        client.submit(
            warm_worker,
            plan_future,
            threads,
            key=f"disruptsim-warm-{token}-{k}",
            workers=[address],
            allow_other_workers=True,
            retries=TASK_RETRIES,
        )
        for k, address in enumerate(addresses)
    ]
    try:
        client.gather(futures)
    finally:
        for future in futures:
            future.release()


def _warn_on_version_mismatch(reports: list[dict]) -> None:
    import numba
    import numpy

    here = {"numba": numba.__version__, "numpy": numpy.__version__}
    for name, version in here.items():
        other = {r[name] for r in reports} - {version}
        if other:
            warnings.warn(
                f"Dask workers run {name} {', '.join(sorted(other))}, this process {version}: "
                "results are bit-identical to local runs only with the same versions",
                RuntimeWarning,
                stacklevel=4,
            )


def _run_tasks(
    client: Any,
    plan_future: Any,
    acc: dict[str, StrategyAccumulator],
    bounds: Sequence[tuple[int, int]],
    *,
    threads: int | None,
    progress: Callable[[int], None] | None,
    retries: int,
    max_in_flight: int | None,
    timings: Timings,
    token: str,
    merge: Callable[[Any, Any, int], None] = merge_batch,
) -> int:
    """Submit the batches, at most a bounded number at a time; merge each as it finishes.

    Returns the number of tasks.
    """
    dd = _distributed()
    pending = iter(bounds)
    limit = _InFlightLimit(client, max_in_flight)
    # with_results: the client's event loop fetches each result as its task finishes,
    # while this thread merges the previous one (no second round trip per task).
    done = dd.as_completed(loop=client.loop, with_results=True, raise_errors=False)
    in_flight: set[Any] = set()

    def top_up() -> None:
        while len(in_flight) < limit():
            nxt = next(pending, None)
            if nxt is None:
                return
            r0, r1 = nxt
            future = client.submit(
                run_batch_task,
                plan_future,
                r0,
                r1,
                threads,
                key=f"disruptsim-batch-{token}-{r0}",
                retries=retries,
            )
            in_flight.add(future)
            done.add(future)

    n_tasks = 0
    try:
        top_up()
        for future, result in done:
            in_flight.discard(future)
            r0, r1, outputs, (sampling, kernel_s) = _batch_result(dd, future, result)
            future.release()
            del future, result
            for name, batch in outputs.items():
                merge(acc[name], batch, r0)
            del outputs
            timings.sampling += sampling
            timings.kernel += kernel_s
            n_tasks += 1
            if progress is not None:
                progress(r1 - r0)
            top_up()
    finally:
        if in_flight:
            client.cancel(list(in_flight))
        done.clear()
    return n_tasks


def _batch_result(dd: Any, future: Any, result: Any) -> Any:
    """The value of a finished task, or its error (cluster failures as BackendError)."""
    if future.status == "error":
        _, error, traceback = result
        if isinstance(error, dd.KilledWorker):
            raise BackendError(
                f"Dask workers died repeatedly while running a batch ({error}); "
                "check the workers' memory limit and logs"
            ) from error
        raise error.with_traceback(traceback)
    if future.status == "cancelled" or isinstance(result, BaseException):
        raise BackendError(
            f"a batch was cancelled on the cluster ({result}); were all workers holding "
            "the scattered scenario lost, or was the client closed?"
        )
    return result


def simulate_distributed(
    scenario: Scenario,
    runs: int,
    seed: int,
    strategies: Sequence[str],
    *,
    scheduler: Any = None,
    batch_runs: int = DEFAULT_BATCH_RUNS,
    trace_runs: int = DEFAULT_TRACE_RUNS,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    retries: int = TASK_RETRIES,
    max_in_flight: int | None = None,
    n_workers: int = LOCAL_WORKERS,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    worker_timeout: float = WORKER_TIMEOUT_S,
    keep: str = "all",
    situation: Situation | None = None,
) -> tuple[dict[str, StrategyAccumulator], Timings]:
    """Simulate ``runs`` runs of every strategy on a Dask cluster.

    The same contract as :func:`disruptsim.run.engine.simulate_local`, whose results it
    reproduces bit for bit; :func:`disruptsim.simulate` with ``backend="dask"`` calls it.

    Parameters
    ----------
    scenario, runs, seed, strategies, batch_runs, trace_runs, keep, situation
        As for :func:`disruptsim.run.engine.simulate_local`; each batch is one task.
    scheduler : None, str, distributed.Client or cluster, optional
        Where to run (see :func:`connect`); None starts and stops a LocalCluster.
    threads : int, optional
        Numba threads per task (default: the worker's Dask threads, 1 on the LocalCluster).
    progress : callable, optional
        Called with the run count of each batch as it is merged.
    retries : int, default 3
        Resubmissions of a task that raised (tasks of a dead worker are rescheduled by
        the scheduler, up to its ``allowed-failures``).
    max_in_flight : int, optional
        Most tasks submitted and not yet merged (default: 2 per worker thread); bounds
        the memory of results waiting on the cluster and in this process.
    n_workers : int, default 2
        Worker processes of the embedded LocalCluster.
    connect_timeout, worker_timeout : float
        Seconds to wait for the scheduler to answer, and for a first worker to join.

    Returns
    -------
    (dict of str to StrategyAccumulator, Timings)
        ``Timings.extra`` holds ``connect``, ``check``, ``scatter``, ``warmup`` and ``tasks``
        (wall seconds) and ``n_tasks``; ``sampling`` and ``kernel`` are summed over tasks.

    Raises
    ------
    BackendError
        Dask missing, scheduler unreachable, no worker, version mismatch, workers dying.
    """
    _distributed()
    plan, acc, timings = prepare_study(
        scenario, runs, seed, strategies, trace_runs, keep, situation
    )
    stream_distributed(
        plan,
        acc,
        runs,
        timings,
        scheduler=scheduler,
        batch_runs=batch_runs,
        threads=threads,
        progress=progress,
        retries=retries,
        max_in_flight=max_in_flight,
        n_workers=n_workers,
        connect_timeout=connect_timeout,
        worker_timeout=worker_timeout,
    )
    return acc, timings


def stream_distributed(
    plan: BatchPlan,
    acc: dict,
    runs: int,
    timings: Timings,
    *,
    scheduler: Any = None,
    batch_runs: int = DEFAULT_BATCH_RUNS,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    retries: int = TASK_RETRIES,
    max_in_flight: int | None = None,
    n_workers: int = LOCAL_WORKERS,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    worker_timeout: float = WORKER_TIMEOUT_S,
    merge: Callable[[Any, Any, int], None] = merge_batch,
) -> None:
    """Run a prepared plan on a Dask cluster, one task per batch, merging each strategy's
    output into ``acc`` as its batch finishes (see :func:`simulate_distributed`)."""
    _distributed()
    token = uuid.uuid4().hex[:12]
    t = time.perf_counter()
    with connect(scheduler, n_workers=n_workers, timeout=connect_timeout) as client:
        nthreads = _wait_for_workers(client, worker_timeout)
        timings.extra["connect"] = time.perf_counter() - t
        t = time.perf_counter()
        _check_workers(client)
        timings.extra["check"] = time.perf_counter() - t
        t = time.perf_counter()
        plan_future = client.scatter(plan, broadcast=True, hash=False)
        timings.extra["scatter"] = time.perf_counter() - t
        try:
            t = time.perf_counter()
            _warm(client, plan_future, list(nthreads), threads, token)
            timings.extra["warmup"] = time.perf_counter() - t
            t = time.perf_counter()
            n_tasks = _run_tasks(
                client,
                plan_future,
                acc,
                batch_bounds(runs, batch_runs),
                threads=threads,
                progress=progress,
                retries=retries,
                max_in_flight=max_in_flight,
                timings=timings,
                token=token,
                merge=merge,
            )
            timings.extra["tasks"] = time.perf_counter() - t
            timings.extra["n_tasks"] = float(n_tasks)
        finally:
            plan_future.release()
