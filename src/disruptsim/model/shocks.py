"""Sampling of shock events into flat arrays (``docs/model.md``, section 8).

Randomness is counter-based: every hazard (by name) and every product's success draw
has its own Philox stream, keyed from ``SeedSequence(seed)`` and the stream's name.
Run ``r`` owns a fixed block of ``stride`` uniforms in that stream, starting at
position ``r * stride``, so its draws depend only on ``(seed, r)``: not on the batch
size, the thread count, the backend, or how many runs are simulated.

Sampling is by inverse transform from those uniforms, so when a strategy changes a
hazard (its probability, severity or duration), its events stay coupled to the
baseline's through the same uniforms (common random numbers).

Per run and hazard the block holds ``[u_count, (u_start, u_severity, u_duration) * K]``
where ``K`` is the most events that hazard can have in one run: the count is
``min(N, K)`` with ``N ~ Poisson(rate * horizon_days / 365)``, ``rate = -ln(1 - p)``,
and ``K`` is chosen so that ``P(N > K) < 1e-15`` at the largest rate any strategy
gives that hazard.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import NamedTuple, Protocol

import numpy as np
from scipy import stats

from ..conventions import DAYS_PER_YEAR, whole_days
from ..scenario.distributions import Distribution
from ..scenario.model import Scenario
from ..scenario.schema import Hazard, World
from .compiler import CompiledModel

GENERATOR = "numpy.random.Philox (counter-based), keyed by SeedSequence(seed, spawn_key=stream)"
TRUNCATION = 1e-15
"""Probability mass of event counts beyond the per-run cap ``K``."""


class InForce(Protocol):
    """An event in force today (see :class:`disruptsim.situation.SituationEvent`)."""

    hazard: Hazard | None  # the distributions of an unknown severity or end
    started_day: int
    severity: float | None  # None: drawn from the hazard's severity
    ends_day: int | None  # None: drawn from the hazard's duration (residual life)
    recovery_days: float


class EventBatch(NamedTuple):
    """Shock events of a batch of runs, in CSR form over runs.

    Events of run ``k`` (batch-local) are ``ptr[k]:ptr[k+1]``. Days are integers:
    full severity on ``start <= t < end``, then a linear recovery over ``recovery`` days.
    """

    ptr: np.ndarray  # i8[n+1]
    hazard: np.ndarray  # i8[E], index into CompiledModel.hazard_names
    start: np.ndarray  # i8[E]
    end: np.ndarray  # i8[E]
    recovery: np.ndarray  # i8[E]
    severity: np.ndarray  # f8[E]

    @property
    def n_runs(self) -> int:
        return len(self.ptr) - 1


def annual_rate(annual_probability: float) -> float:
    """Poisson rate per year such that P(at least one event in a year) = p."""
    if annual_probability >= 1.0:
        raise ValueError(
            "annual_probability 1 means infinitely many events; "
            "use a deterministic shock or a probability below 1"
        )
    return -math.log1p(-annual_probability)


def stream_key(seed: int, name: str) -> np.ndarray:
    """The Philox key of a named stream: two uint64 words from SeedSequence(seed, name)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    spawn_key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in (0, 4))
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=spawn_key)
    return ss.generate_state(2, dtype=np.uint64)


def uniforms(seed: int, name: str, stride: int, run_start: int, run_stop: int) -> np.ndarray:
    """Uniforms of runs ``run_start..run_stop-1`` in a named stream, shape ``(n, stride)``.

    ``stride`` must be a multiple of 4 (Philox yields four 64-bit words per counter step).
    """
    if stride % 4:
        raise ValueError("stride must be a multiple of 4")
    bitgen = np.random.Philox(
        key=stream_key(seed, name), counter=[run_start * stride // 4, 0, 0, 0]
    )
    return np.random.Generator(bitgen).random((run_stop - run_start, stride))


def poisson_inverse(u: np.ndarray, mu: float, cap: int) -> np.ndarray:
    """Poisson(mu) counts by inverse transform, capped at ``cap``.

    The smallest ``k`` with ``CDF(k) >= u`` (as ``scipy.stats.poisson.ppf``), found by a
    binary search in the CDF table of ``0..cap``.
    """
    if mu <= 0:
        return np.zeros(len(u), dtype=np.int64)
    cdf = stats.poisson.cdf(np.arange(cap + 1), mu)
    return np.minimum(np.searchsorted(cdf, u, side="left"), cap).astype(np.int64)


def _expected_events(hazard: Hazard, horizon_days: int) -> float:
    return annual_rate(hazard.annual_probability) * horizon_days / DAYS_PER_YEAR


def whole_durations(raw: np.ndarray, horizon_days: int) -> np.ndarray:
    """Durations rounded to whole days (half up), at least 1 and at most ``10 * horizon_days``."""
    duration = np.maximum(np.floor(raw + 0.5), 1.0)
    return np.minimum(duration, 10.0 * horizon_days).astype(np.int64)


def residual_durations(
    duration: Distribution, elapsed: int, u: np.ndarray, horizon_days: int
) -> np.ndarray:
    """Whole-day durations of events still in force after lasting ``elapsed`` days.

    The duration ``D`` is drawn from ``duration`` conditional on the event being in force
    on its day ``elapsed`` (its whole-day duration is at least ``elapsed + 1``, i.e.
    ``D >= elapsed + 1/2`` before rounding): the residual life, by inverse transform,
    ``D = F^-1(F(c) + u (1 - F(c)))`` with ``c = elapsed + 1/2``. A fixed duration gives
    a fixed residual.

    Raises
    ------
    ValueError
        If the distribution cannot last that long (``P(D >= c) = 0``).
    """
    below = duration.below(elapsed + 0.5) if elapsed >= 1 else 0.0
    if below >= 1.0:
        raise ValueError(
            f"an event of this hazard cannot last more than {elapsed} days "
            "(its duration distribution ends before): give ends_day"
        )
    raw = duration.ppf(below + np.asarray(u, dtype=np.float64) * (1.0 - below))
    return np.maximum(whole_durations(raw, horizon_days), elapsed + 1)


class ShockSampler:
    """Samples events and success draws for any strategy of one scenario.

    Parameters
    ----------
    scenario : Scenario
        The scenario; its strategies fix the per-run event cap of each hazard.
    seed : int
        The study's seed.
    """

    def __init__(self, scenario: Scenario, seed: int):
        self.seed = int(seed)
        self.horizon_days = scenario.horizon_days
        most: dict[str, float] = {}
        for strategy in scenario.strategies.values():
            for h in strategy.world.hazards:
                mu = _expected_events(h, self.horizon_days)
                most[h.name] = max(most.get(h.name, 0.0), mu)
        self.cap = {
            name: max(1, int(stats.poisson.isf(TRUNCATION, mu))) for name, mu in most.items()
        }

    def stride(self, hazard_name: str) -> int:
        """Uniforms per run in a hazard's stream (a multiple of 4)."""
        need = 1 + 3 * self.cap[hazard_name]
        return -(-need // 4) * 4

    def events(
        self,
        world: World,
        run_start: int,
        run_stop: int,
        day: int = 0,
        in_force: Sequence[InForce] = (),
    ) -> EventBatch:
        """Sample the events of runs ``run_start..run_stop-1`` for one strategy's world.

        Parameters
        ----------
        world : World
            The strategy's world.
        run_start, run_stop : int
            The runs.
        day : int, default 0
            Today (simulating from a situation): new hazard events are sampled on days
            ``day..T-1`` only (the same uniforms, rescaled to the days left), and the
            scenario's shocks that started before ``day`` are left out (they are the past;
            a situation lists the events still in force).
        in_force : sequence of InForce, default ()
            The events in force today (a situation's, resolved for this world). Their
            kinds follow the hazards and shocks; an unknown severity or end is drawn from
            the run's own stream ``situation:<k>`` (k: the event's position).
        """
        n = run_stop - run_start
        T = self.horizon_days
        span = T - day
        parts: list[tuple[np.ndarray, ...]] = []
        for h_index, hazard in enumerate(world.hazards):
            cap = self.cap[hazard.name]
            u = uniforms(
                self.seed, "hazard:" + hazard.name, self.stride(hazard.name), run_start, run_stop
            )
            mu = _expected_events(hazard, span)
            counts = poisson_inverse(u[:, 0], mu, cap)
            for k in range(int(counts.max(initial=0))):
                runs = np.flatnonzero(counts > k)
                block = u[runs, 1 + 3 * k : 4 + 3 * k]
                start = day + np.minimum(np.floor(block[:, 0] * span), span - 1).astype(np.int64)
                severity = np.maximum(hazard.severity.ppf(block[:, 1]), 0.0)
                duration = whole_durations(hazard.duration_days.ppf(block[:, 2]), T)
                parts.append(
                    (
                        runs,
                        np.full(len(runs), h_index, dtype=np.int64),
                        start,
                        start + duration,
                        np.full(len(runs), whole_days(hazard.recovery_days), dtype=np.int64),
                        severity,
                    )
                )
        H = len(world.hazards)
        for k, shock in enumerate(world.shocks):
            if shock.start_day < day:
                continue
            runs = np.arange(n, dtype=np.int64)
            parts.append(
                (
                    runs,
                    np.full(n, H + k, dtype=np.int64),
                    np.full(n, shock.start_day, dtype=np.int64),
                    np.full(n, shock.start_day + shock.duration_days, dtype=np.int64),
                    np.full(n, whole_days(shock.recovery_days), dtype=np.int64),
                    np.full(n, float(shock.severity)),
                )
            )
        first = H + len(world.shocks)
        for k, event in enumerate(in_force):
            parts.append(self._in_force(first + k, k, event, day, run_start, run_stop))
        return _to_csr(parts, n)

    def _in_force(
        self, kind: int, k: int, event: InForce, day: int, run_start: int, run_stop: int
    ) -> tuple[np.ndarray, ...]:
        n = run_stop - run_start
        u = uniforms(self.seed, f"situation:{k}", 4, run_start, run_stop)
        if event.severity is not None:
            severity = np.full(n, float(event.severity))
        else:
            severity = np.maximum(event.hazard.severity.ppf(u[:, 0]), 0.0)
        if event.ends_day is not None:
            end = np.full(n, int(event.ends_day), dtype=np.int64)
        else:
            elapsed = day - event.started_day
            durations = residual_durations(
                event.hazard.duration_days, elapsed, u[:, 1], self.horizon_days
            )
            end = event.started_day + durations
        return (
            np.arange(n, dtype=np.int64),
            np.full(n, kind, dtype=np.int64),
            np.full(n, event.started_day, dtype=np.int64),
            end,
            np.full(n, whole_days(event.recovery_days), dtype=np.int64),
            severity,
        )

    def success(self, model: CompiledModel, run_start: int, run_stop: int) -> np.ndarray:
        """Success draws ``b1[n, 2, P]`` of reactive diversification and substitution."""
        n = run_stop - run_start
        out = np.ones((n, 2, model.n_products), dtype=np.bool_)
        for i, name in enumerate(model.products):
            p = model.success_probability[:, i]
            if np.all(p >= 1.0):
                continue
            u = uniforms(self.seed, "success:" + name, 4, run_start, run_stop)
            out[:, 0, i] = u[:, 0] < p[0]
            out[:, 1, i] = u[:, 1] < p[1]
        return out


def _to_csr(parts: list[tuple[np.ndarray, ...]], n: int) -> EventBatch:
    if parts:
        cols = [np.concatenate([p[j] for p in parts]) for j in range(6)]
    else:
        cols = [np.zeros(0, dtype=np.int64)] * 5 + [np.zeros(0)]
    order = np.argsort(cols[0], kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(cols[0], minlength=n))
    return EventBatch(
        ptr=ptr,
        hazard=np.ascontiguousarray(cols[1][order]),
        start=np.ascontiguousarray(cols[2][order]),
        end=np.ascontiguousarray(cols[3][order]),
        recovery=np.ascontiguousarray(cols[4][order]),
        severity=np.ascontiguousarray(cols[5][order], dtype=np.float64),
    )
