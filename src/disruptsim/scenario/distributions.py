"""Probability distributions for hazard severity and duration.

Each distribution is a frozen pydantic model with a vectorised inverse CDF
(:meth:`ppf`), so that sampling is inverse-transform sampling from uniforms:
the same uniforms give coupled draws when a strategy changes a parameter
(common random numbers, ``docs/model.md`` section 8).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

#: z-score of the 95th percentile of the standard normal distribution.
Z95 = NormalDist().inv_cdf(0.95)


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Inverse CDF evaluated at uniforms ``u`` in [0, 1)."""
        raise NotImplementedError

    def below(self, x: float) -> float:  # pragma: no cover - abstract
        """``P(X < x)``: the probability of a value below ``x`` (residual lives, situations)."""
        raise NotImplementedError

    def mean(self) -> float:  # pragma: no cover - abstract
        """Mean of the distribution."""
        raise NotImplementedError

    def var(self) -> float:  # pragma: no cover - abstract
        """Variance of the distribution."""
        raise NotImplementedError

    def support(self) -> tuple[float, float]:  # pragma: no cover - abstract
        """Smallest and largest value the distribution can take."""
        raise NotImplementedError


class Fixed(_Dist):
    """A fixed value (a plain number in YAML is read as this)."""

    dist: Literal["fixed"] = "fixed"
    value: float

    def ppf(self, u):
        return np.full(np.shape(u), self.value, dtype=np.float64)

    def below(self, x):
        return 1.0 if self.value < x else 0.0

    def mean(self):
        return self.value

    def var(self):
        return 0.0

    def support(self):
        return (self.value, self.value)


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _check(self):
        if not self.low <= self.high:
            raise ValueError(f"expected low <= high, found low={self.low} and high={self.high}")
        return self

    def ppf(self, u):
        return self.low + (self.high - self.low) * np.asarray(u, dtype=np.float64)

    def below(self, x):
        if x <= self.low:
            return 0.0
        if x >= self.high:
            return 1.0
        return (x - self.low) / (self.high - self.low)

    def mean(self):
        return 0.5 * (self.low + self.high)

    def var(self):
        return (self.high - self.low) ** 2 / 12.0

    def support(self):
        return (self.low, self.high)


class Triangular(_Dist):
    """Triangular on [low, high] with peak at ``mode``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _check(self):
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                "expected low <= mode <= high and low < high, found "
                f"low={self.low}, mode={self.mode}, high={self.high}"
            )
        return self

    def ppf(self, u):
        u = np.asarray(u, dtype=np.float64)
        a, c, b = self.low, self.mode, self.high
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    def below(self, x):
        a, c, b = self.low, self.mode, self.high
        if x <= a:
            return 0.0
        if x >= b:
            return 1.0
        if x <= c:
            return (x - a) ** 2 / ((b - a) * (c - a))
        return 1.0 - (b - x) ** 2 / ((b - a) * (b - c))

    def mean(self):
        return (self.low + self.mode + self.high) / 3.0

    def var(self):
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0

    def support(self):
        return (self.low, self.high)


class Beta(_Dist):
    """Beta distribution given by its mean and standard deviation, scaled to [low, high]."""

    dist: Literal["beta"]
    mean_: float = Field(alias="mean")
    sd: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check(self):
        if not self.low < self.high:
            raise ValueError(f"expected low < high, found low={self.low} and high={self.high}")
        m = (self.mean_ - self.low) / (self.high - self.low)
        s = self.sd / (self.high - self.low)
        if not 0 < m < 1:
            raise ValueError(
                f"expected low < mean < high, found mean={self.mean_} on [{self.low}, {self.high}]"
            )
        if s * s >= m * (1 - m):
            limit = math.sqrt(m * (1 - m)) * (self.high - self.low)
            raise ValueError(
                f"expected sd < {limit:.6g} for a beta distribution with mean {self.mean_}, "
                f"found sd={self.sd}"
            )
        return self

    def shape(self) -> tuple[float, float]:
        """The (alpha, beta) shape parameters on the unit interval."""
        m = (self.mean_ - self.low) / (self.high - self.low)
        s = self.sd / (self.high - self.low)
        k = m * (1 - m) / (s * s) - 1.0
        return m * k, (1 - m) * k

    def ppf(self, u):
        a, b = self.shape()
        from scipy import stats  # deferred: scipy.stats is slow to import

        return self.low + (self.high - self.low) * stats.beta.ppf(
            np.asarray(u, dtype=np.float64), a, b
        )

    def below(self, x):
        from scipy import stats

        a, b = self.shape()
        return float(stats.beta.cdf((x - self.low) / (self.high - self.low), a, b))

    def mean(self):
        return self.mean_

    def var(self):
        return self.sd**2

    def support(self):
        return (self.low, self.high)


class LogNormal(_Dist):
    """Log-normal distribution given by its median and 95th percentile."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    p95: float = Field(gt=0)

    @model_validator(mode="after")
    def _check(self):
        if not self.p95 > self.median:
            raise ValueError(
                f"expected p95 > median, found median={self.median} and p95={self.p95}"
            )
        return self

    def sigma(self) -> float:
        """Standard deviation of the underlying normal."""
        return math.log(self.p95 / self.median) / Z95

    def ppf(self, u):
        u = np.asarray(u, dtype=np.float64)
        from scipy.special import ndtri  # inverse of the standard normal CDF

        return self.median * np.exp(self.sigma() * ndtri(u))

    def below(self, x):
        if x <= 0:
            return 0.0
        return NormalDist().cdf(math.log(x / self.median) / self.sigma())

    def mean(self):
        return self.median * math.exp(0.5 * self.sigma() ** 2)

    def var(self):
        s2 = self.sigma() ** 2
        return (math.exp(s2) - 1.0) * self.median**2 * math.exp(s2)

    def support(self):
        return (0.0, math.inf)


Distribution = Annotated[
    Fixed | Uniform | Triangular | Beta | LogNormal, Field(discriminator="dist")
]
"""A distribution given as a mapping with a ``dist`` key."""
