"""Pure statistical functions on per-run samples: estimates, intervals, risk measures.

Everything here takes NumPy arrays (one value per Monte Carlo run) and returns numbers
or small frozen records; nothing depends on the simulation. Definitions are precise so
that the numbers in :meth:`disruptsim.results.result.SimulationResult.summary` can be
reproduced by hand (see ``docs/results.md``).

Conventions
-----------
* ``confidence`` is the two-sided coverage of an interval, 0.95 by default.
* Costs are losses: larger is worse. Tail measures (:func:`cvar`) look at the upper tail.
* A sample that is empty gives NaN estimates; a sample of one gives a NaN interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "ConditionalEstimate",
    "Estimate",
    "benefit_cost_ratio",
    "conditional_mean",
    "cvar",
    "mean_ci",
    "paired_difference",
    "pareto_front",
    "proportion_ci",
    "quantiles",
    "runs_to_separate",
]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval.

    Attributes
    ----------
    estimate : float
        The point estimate (NaN for an empty sample).
    low, high : float
        Bounds of the confidence interval (NaN when it cannot be computed).
    n : int
        Number of observations the estimate is based on.
    std_error : float
        Standard error of the estimate (NaN where not defined, e.g. exact intervals).
    confidence : float
        Two-sided coverage of ``[low, high]``.
    """

    estimate: float
    low: float
    high: float
    n: int
    std_error: float = math.nan
    confidence: float = 0.95

    @property
    def half_width(self) -> float:
        """Half the interval's width (for symmetric intervals: estimate +/- half_width)."""
        return (self.high - self.low) / 2.0

    def excludes(self, value: float = 0.0) -> bool:
        """True when ``value`` lies outside ``[low, high]`` (False when the CI is NaN)."""
        return bool(value < self.low or value > self.high)


@dataclass(frozen=True)
class ConditionalEstimate:
    """A conditional mean ``E[value | condition]`` with its interval and censoring.

    Attributes
    ----------
    estimate, low, high : float
        Mean over the *uncensored* runs that meet the condition and its confidence
        interval (Student t).
    n_condition : int
        Runs that meet the condition.
    n_observed : int
        Of those, runs with an observed (not NaN) value: the mean's sample size.
    share_censored : float
        ``(n_condition - n_observed) / n_condition``; NaN when no run meets the condition.
    confidence : float
        Two-sided coverage of ``[low, high]``.
    """

    estimate: float
    low: float
    high: float
    n_condition: int
    n_observed: int
    share_censored: float
    confidence: float = 0.95


def _as_sample(x: np.ndarray | list[float], name: str = "x") -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN; select the observed values first")
    return a


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def mean_ci(x: np.ndarray | list[float], confidence: float = 0.95, method: str = "t") -> Estimate:
    """Sample mean with a confidence interval for the expectation.

    Parameters
    ----------
    x : array_like of float, shape (n,)
        One value per run; NaN is an error (filter censored values first).
    confidence : float, default 0.95
        Two-sided coverage.
    method : {"t", "normal"}, default "t"
        ``"t"``: ``mean +/- t_{(1+c)/2, n-1} * s / sqrt(n)`` with ``s`` the sample
        standard deviation (``ddof=1``); ``"normal"``: the same with the normal quantile
        ``z_{(1+c)/2}``. Both rest on the central limit theorem; for Monte Carlo
        samples of thousands of runs they agree to several digits.

    Returns
    -------
    Estimate
        ``estimate`` is the mean; ``std_error`` is ``s / sqrt(n)``. For ``n == 0``
        everything is NaN; for ``n == 1`` the interval is NaN. A sample with no spread
        gives the degenerate interval ``[mean, mean]``.

    Examples
    --------
    >>> e = mean_ci([1.0, 2.0, 3.0])
    >>> round(e.estimate, 6), round(e.low, 4), round(e.high, 4)
    (2.0, -0.4841, 4.4841)
    """
    _check_confidence(confidence)
    a = _as_sample(x)
    n = a.size
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, math.nan, confidence)
    mean = float(a.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1, math.nan, confidence)
    se = float(a.std(ddof=1)) / math.sqrt(n)
    if method == "t":
        q = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1))
    elif method == "normal":
        q = float(stats.norm.ppf(0.5 + confidence / 2.0))
    else:
        raise ValueError(f"method must be 't' or 'normal', got {method!r}")
    return Estimate(mean, mean - q * se, mean + q * se, n, se, confidence)


def quantiles(x: np.ndarray | list[float], q: float | list[float] | np.ndarray) -> np.ndarray:
    """Sample quantiles by linear interpolation of the order statistics.

    The definition is NumPy's default (``method="linear"``, Hyndman & Fan type 7): with
    sorted values ``x_(0) <= ... <= x_(n-1)``, the q-quantile is the value at the
    fractional position ``h = q * (n - 1)``, interpolated between ``x_(floor h)`` and
    ``x_(ceil h)``. So the median of an even sample is the mean of its middle two values.

    Parameters
    ----------
    x : array_like of float, shape (n,)
        No NaN.
    q : float or array_like of float
        Probabilities in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        One quantile per ``q`` (NaN for an empty sample).
    """
    a = _as_sample(x)
    qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if ((qs < 0) | (qs > 1)).any():
        raise ValueError("quantile probabilities must be in [0, 1]")
    if a.size == 0:
        return np.full(qs.shape, np.nan)
    return np.quantile(a, qs, method="linear")


def _tail_weight(n: int, alpha: float) -> float:
    w = n * (1.0 - alpha)
    r = round(w)
    # n * 0.05 is not exact in binary (100 * 0.05 = 5.000000000000004): snap to integers.
    if abs(w - r) <= 1e-9 * max(1.0, w):
        w = float(r)
    return w


def cvar(x: np.ndarray | list[float], alpha: float = 0.95) -> float:
    """Conditional value at risk: the mean of the worst ``1 - alpha`` share of outcomes.

    For a sample ``x_1..x_n`` (losses: larger is worse) sorted so that
    ``x_(1) >= x_(2) >= ... >= x_(n)``, let ``w = n * (1 - alpha)`` be the tail's weight
    in runs and ``k = floor(w)``. Then

    ``CVaR_alpha = (x_(1) + ... + x_(k) + (w - k) * x_(k+1)) / w``

    i.e. the exact expected loss in the upper ``1 - alpha`` tail of the empirical
    distribution (Acerbi & Tasche 2002), giving the boundary run a fractional weight.
    With 1,000 runs and ``alpha = 0.95`` it is the mean of the 50 largest values; with
    10 runs (``w = 0.5``) it is the largest value. It equals the minimum over ``c`` of
    ``c + E[(X - c)+] / (1 - alpha)`` (Rockafellar & Uryasev 2000) on the sample, it is
    never below the mean nor above the maximum, and it is a coherent risk measure.

    Parameters
    ----------
    x : array_like of float, shape (n,)
        Losses, one per run; no NaN.
    alpha : float, default 0.95
        Confidence level in ``[0, 1)``; ``alpha = 0`` gives the mean.

    Returns
    -------
    float
        NaN for an empty sample.
    """
    if not 0.0 <= alpha < 1.0:
        raise ValueError(f"alpha must be in [0, 1), got {alpha!r}")
    a = _as_sample(x)
    n = a.size
    if n == 0:
        return math.nan
    w = _tail_weight(n, alpha)
    k = int(math.floor(w))
    desc = -np.sort(-a)  # largest first
    total = float(desc[:k].sum())
    if w > k:
        total += (w - k) * float(desc[k])
    return total / w


def proportion_ci(
    successes: int, n: int, confidence: float = 0.95, method: str = "wilson"
) -> Estimate:
    """A probability estimated by ``successes / n``, with a binomial confidence interval.

    Parameters
    ----------
    successes, n : int
        Runs in which the event happened, and runs in all.
    confidence : float, default 0.95
    method : {"wilson", "exact"}, default "wilson"
        ``"wilson"``: the Wilson score interval (no continuity correction),
        ``(p + z^2/2n +/- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``, which keeps good
        coverage near 0 and 1 (unlike the normal approximation) and never leaves
        ``[0, 1]``; ``"exact"``: Clopper-Pearson, from beta quantiles, conservative
        (coverage at least ``confidence``). Both match :func:`scipy.stats.binomtest`.

    Returns
    -------
    Estimate
        ``std_error`` is ``sqrt(p (1 - p) / n)``; all NaN when ``n == 0``.
    """
    _check_confidence(confidence)
    successes, n = int(successes), int(n)
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, math.nan, confidence)
    p = successes / n
    se = math.sqrt(p * (1.0 - p) / n)
    if method == "wilson":
        z = float(stats.norm.ppf(0.5 + confidence / 2.0))
        z2 = z * z
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        low, high = max(0.0, centre - half), min(1.0, centre + half)
    elif method == "exact":
        tail = (1.0 - confidence) / 2.0
        low = 0.0 if successes == 0 else float(stats.beta.ppf(tail, successes, n - successes + 1))
        high = 1.0 if successes == n else float(stats.beta.isf(tail, successes + 1, n - successes))
    else:
        raise ValueError(f"method must be 'wilson' or 'exact', got {method!r}")
    return Estimate(p, low, high, n, se, confidence)


def conditional_mean(
    values: np.ndarray, condition: np.ndarray, confidence: float = 0.95
) -> ConditionalEstimate:
    """Mean of ``values`` over the runs meeting ``condition``, NaN values being censored.

    Used for ``E[tts_days | disrupted]``: a disrupted run that never runs short has
    ``tts_days = NaN`` - it survived to the horizon, so its time-to-survive is only known
    to exceed ``horizon - first_disruption_day`` (right-censored). Censored runs are
    **excluded** from the mean and counted in ``share_censored``; the estimate is then
    the mean time-to-survive *of the runs that did run short*. When ``share_censored`` is
    large, say so: the unconditional time-to-survive is longer than this mean.

    Parameters
    ----------
    values : array_like of float, shape (n,)
        One value per run; NaN marks a censored run.
    condition : array_like of bool, shape (n,)
        Runs to condition on (e.g. ``disrupted``). Runs outside it are ignored whatever
        their value.
    confidence : float, default 0.95

    Returns
    -------
    ConditionalEstimate
        The interval is Student t over the ``n_observed`` uncensored runs.
    """
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(condition, dtype=bool)
    if v.shape != c.shape or v.ndim != 1:
        raise ValueError(
            f"values and condition must be 1-D of equal length, got {v.shape} and {c.shape}"
        )
    selected = v[c]
    observed = selected[~np.isnan(selected)]
    n_cond, n_obs = int(selected.size), int(observed.size)
    e = mean_ci(observed, confidence)
    share = (n_cond - n_obs) / n_cond if n_cond else math.nan
    return ConditionalEstimate(e.estimate, e.low, e.high, n_cond, n_obs, share, confidence)


def paired_difference(x: np.ndarray, baseline: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Mean paired difference ``E[x - baseline]`` over the same runs, with its interval.

    Every strategy is simulated over the same sampled futures (common random numbers),
    so the difference is taken run by run, ``d_r = x_r - baseline_r``, and its mean gets
    the Student t interval of :func:`mean_ci`. Because the two samples are strongly
    positively correlated, this interval is much narrower than the one obtained by
    comparing two independent means. A negative estimate means ``x`` is lower (for a cost:
    cheaper) than the baseline.

    Parameters
    ----------
    x, baseline : array_like of float, shape (n,)
        Values of the same runs under two strategies (no NaN).
    confidence : float, default 0.95

    Returns
    -------
    Estimate
        ``std_error`` is ``sd(d) / sqrt(n)``; ``sd(d)`` (needed by
        :func:`runs_to_separate`) is ``std_error * sqrt(n)``.
    """
    a, b = _as_sample(x, "x"), _as_sample(baseline, "baseline")
    if a.shape != b.shape:
        raise ValueError(f"paired samples must have equal length, got {a.size} and {b.size}")
    return mean_ci(a - b, confidence)


def runs_to_separate(
    mean_difference: float,
    sd_difference: float,
    confidence: float = 0.95,
    power: float = 0.8,
) -> float:
    """Runs needed for a paired difference's confidence interval to exclude zero.

    If the true mean paired difference is ``delta`` and the per-run differences have
    standard deviation ``sigma``, the interval ``mean +/- z_{(1+c)/2} sigma / sqrt(n)``
    excludes zero with probability ``power`` once

    ``n >= ((z_{(1+c)/2} + z_{power}) * sigma / |delta|)^2``.

    Plugging in the current estimates gives a rough planning figure (it is itself
    uncertain, the more so the fewer runs it is computed from). With ``power = 0.5`` it
    is the ``n`` at which the *current* estimate's interval would just exclude zero.

    Parameters
    ----------
    mean_difference : float
        Estimated mean paired difference ``delta``.
    sd_difference : float
        Estimated standard deviation of the per-run differences ``sigma`` (``ddof=1``).
    confidence : float, default 0.95
    power : float, default 0.8
        Probability of separation at that ``n`` if the estimates are right.

    Returns
    -------
    float
        An integer-valued count (at least 2), ``inf`` when ``delta == 0`` (no number of
        runs separates identical strategies), NaN when an input is NaN.
    """
    _check_confidence(confidence)
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power!r}")
    if math.isnan(mean_difference) or math.isnan(sd_difference):
        return math.nan
    if mean_difference == 0.0:
        return math.inf
    z = float(stats.norm.ppf(0.5 + confidence / 2.0) + stats.norm.ppf(power))
    n = (z * sd_difference / abs(mean_difference)) ** 2
    return float(max(2, math.ceil(n)))


def benefit_cost_ratio(
    shortage_cost: float,
    mitigation_cost: float,
    baseline_shortage_cost: float,
    baseline_mitigation_cost: float,
    *,
    rtol: float = 1e-12,
) -> float:
    """Expected shortage cost avoided per euro of extra expected mitigation cost.

    ``benefit = E[shortage cost of the baseline] - E[shortage cost of the strategy]``
    (positive when the strategy avoids shortage cost) and
    ``extra = E[mitigation cost of the strategy] - E[mitigation cost of the baseline]``
    (positive when the strategy costs more to carry out). Then:

    ========================  =================  ======================================
    extra mitigation cost     benefit            ratio
    ========================  =================  ======================================
    ``> 0``                   any                ``benefit / extra`` (negative: the
                                                 strategy costs more *and* adds shortage)
    ``<= 0`` (none or saved)  ``> 0``            ``+inf``: more resilience at no extra
                                                 cost (dominant)
    ``< 0`` (saved)           ``0``              ``+inf``: same shortage, cheaper
    ``0``                     ``0``              NaN: no difference (e.g. the baseline)
    ``0``                     ``< 0``            ``-inf``: more shortage at no saving
    ``< 0`` (saved)           ``< 0``            NaN: a saving bought with more shortage;
                                                 compare total costs instead
    ========================  =================  ======================================

    A ratio above 1 means each extra euro of mitigation avoids more than a euro of
    expected shortage cost, i.e. the strategy lowers the expected total cost. "Zero" is
    ``|value| <= rtol * max(1, |terms|)`` to absorb rounding in sums of euros.

    Parameters
    ----------
    shortage_cost, mitigation_cost : float
        Expected (mean) costs of the strategy, in euros.
    baseline_shortage_cost, baseline_mitigation_cost : float
        Expected costs of the baseline over the same runs.
    rtol : float, default 1e-12

    Returns
    -------
    float
    """
    benefit = baseline_shortage_cost - shortage_cost
    extra = mitigation_cost - baseline_mitigation_cost
    if any(math.isnan(v) for v in (benefit, extra)):
        return math.nan
    scale_b = rtol * max(1.0, abs(baseline_shortage_cost), abs(shortage_cost))
    scale_e = rtol * max(1.0, abs(baseline_mitigation_cost), abs(mitigation_cost))
    b_sign = 0 if abs(benefit) <= scale_b else (1 if benefit > 0 else -1)
    e_sign = 0 if abs(extra) <= scale_e else (1 if extra > 0 else -1)
    if e_sign > 0:
        return benefit / extra
    if b_sign > 0:
        return math.inf
    if e_sign < 0 and b_sign == 0:
        return math.inf
    if e_sign == 0 and b_sign < 0:
        return -math.inf
    return math.nan


def pareto_front(points: np.ndarray) -> np.ndarray:
    """Flags of the non-dominated points, every objective being minimised.

    Point ``a`` dominates ``b`` when ``a <= b`` in every objective and ``a < b`` in at
    least one. A point is on the Pareto front when no other point dominates it, so equal
    points are all on it. Rows with a NaN are not on the front and dominate nothing.

    Parameters
    ----------
    points : array_like of float, shape (n, k)
        One row per alternative (strategy), one column per objective.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"points must be 2-D (alternatives x objectives), got shape {p.shape}")
    valid = ~np.isnan(p).any(axis=1)
    front = valid.copy()
    for i in np.flatnonzero(valid):
        others = p[valid]
        dominated = np.all(others <= p[i], axis=1) & np.any(others < p[i], axis=1)
        if dominated.any():
            front[i] = False
    return front
