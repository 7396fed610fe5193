"""Bounds the model needs, and likely unit mistakes.

Every value that validation accepts must simulate to finite results. The schema checks
types and signs; the checks here add the bounds the arithmetic needs, each with its
reason (``docs/scenario-reference.md``, "Bounds"):

- ``annual_probability`` below 1: the event rate is ``-ln(1 - p)``, infinite at 1;
- days (durations, lags, ramps, start days) at most :data:`MAX_DAYS` and the horizon at
  most :data:`MAX_HORIZON_DAYS`: days become whole 64-bit integers and per-day arrays;
- every number at most :data:`MAX_MAGNITUDE` in size, and per product the units and the
  euros over the horizon at most :data:`MAX_UNITS` and :data:`MAX_EUROS`, so that sums,
  products and variances of costs stay finite;
- severities within [0, 1] (a severity of 80 is a percentage: an error with a hint) and
  durations at least 0 for every value a distribution can take;
- ``system`` is not a product name: it labels the rows of the whole value chain.

Warnings (not errors) flag values that are legal but probably a unit mistake, such as a
holding cost rate above 1 per year. Each check returns issues, ``(key path, message)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..conventions import SYSTEM
from .distributions import Beta, Fixed, LogNormal, Triangular, Uniform
from .messages import KeyPath, format_number
from .schema import World
from .schema_errors import Issue

__all__ = [
    "MAX_DAYS",
    "MAX_EUROS",
    "MAX_HORIZON_DAYS",
    "MAX_MAGNITUDE",
    "MAX_UNITS",
    "bound_issues",
    "day_issues",
    "magnitude_issues",
    "severity_issues",
    "top_bound_issues",
    "warning_issues",
]

MAX_HORIZON_DAYS = 1_000_000
"""Longest horizon (about 2,700 years): every per-day array has this many rows."""
MAX_DAYS = 10_000_000
"""Longest duration, lag, ramp or start day: they become whole 64-bit day counts, and
sums of three of them must not overflow."""
MAX_MAGNITUDE = 1e100
"""Largest size of any number: products of three such numbers stay finite."""
MAX_UNITS = 1e100
"""Most units of a product over the horizon (requirement x days, stocks)."""
MAX_EUROS = 1e100
"""Most euros a product can cost over the horizon: means and variances over runs of
sums of such costs stay finite (a variance squares them)."""
HOLDING_RATE_WARNING = 1.0
"""A holding cost rate above this (per year) is probably a percentage or a daily rate."""

_DAY_FIELDS = {
    "hazards": ("recovery_days",),
    "shocks": ("start_day", "duration_days", "recovery_days"),
    "stockpile": ("initial_days",),
    "diversification": ("lag_days", "ramp_days"),
    "substitution": ("lag_days", "ramp_days"),
    "reshoring": ("build_days", "ramp_days"),
}


def magnitude_issues(data: Any, path: KeyPath = ()) -> list[Issue]:
    """Every number larger in size than :data:`MAX_MAGNITUDE` (non-finite ones are
    reported by :func:`~disruptsim.scenario.checks.finite_issues`)."""
    if isinstance(data, int | float) and not isinstance(data, bool):
        try:
            size = abs(float(data))
        except OverflowError:  # an integer beyond the float range
            size = math.inf
        if (math.isfinite(size) or isinstance(data, int)) and size > MAX_MAGNITUDE:
            return [
                (
                    path,
                    f"expected a number of size at most {MAX_MAGNITUDE:g}, found "
                    f"{_short(data)}: larger values overflow the model's sums of costs",
                )
            ]
        return []
    if isinstance(data, dict):
        items: Iterable[tuple[Any, Any]] = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return []
    return [issue for key, value in items for issue in magnitude_issues(value, (*path, key))]


def _short(value: int | float) -> str:
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= 20 else f"a whole number of {len(text)} digits"
    return format_number(value)


def top_bound_issues(data: Mapping[str, Any]) -> list[Issue]:
    """The horizon's bound (on the raw data)."""
    horizon = data.get("horizon_days")
    if isinstance(horizon, int) and not isinstance(horizon, bool) and horizon > MAX_HORIZON_DAYS:
        return [
            (
                ("horizon_days",),
                f"expected at most {MAX_HORIZON_DAYS:,} days (about 2,700 years), found "
                f"{_short(horizon)}: every run keeps arrays with one row per day",
            )
        ]
    return []


def bound_issues(world: World, horizon_days: Any) -> list[Issue]:
    """Bounds of one (possibly partial) world; ``None`` items are skipped."""
    issues: list[Issue] = []
    for name, product in world.products.items():
        at: KeyPath = ("products", name)
        if name == SYSTEM:
            issues.append(
                (
                    at,
                    f"{SYSTEM!r} is reserved: it labels the rows of the whole value chain "
                    "in results; choose another product name",
                )
            )
        if product is None:
            continue
        for part in ("stockpile", "diversification", "substitution", "reshoring"):
            option = getattr(product, part)
            if option is not None:
                issues += day_issues((*at, part), option, _DAY_FIELDS[part])
    for i, hazard in enumerate(world.hazards):
        if hazard is None:
            continue
        at = ("hazards", i)
        if hazard.annual_probability >= 1.0:
            issues.append(
                (
                    (*at, "annual_probability"),
                    "expected a probability below 1, found 1: the event rate -ln(1 - p) is "
                    "infinite at 1; for an event certain to happen, use a shock",
                )
            )
        issues += day_issues(at, hazard, _DAY_FIELDS["hazards"])
        issues += severity_issues((*at, "severity"), hazard.severity)
        issues += _duration_issues((*at, "duration_days"), hazard.duration_days)
    for i, shock in enumerate(world.shocks):
        if shock is None:
            continue
        at = ("shocks", i)
        issues += day_issues(at, shock, _DAY_FIELDS["shocks"])
        issues += severity_issues((*at, "severity"), Fixed(value=float(shock.severity)))
    if isinstance(horizon_days, int) and 1 <= horizon_days <= MAX_HORIZON_DAYS:
        issues += _scale_issues(world, horizon_days)
    return issues


def day_issues(at: KeyPath, model: Any, fields: Iterable[str]) -> list[Issue]:
    """Days (attributes ``fields`` of ``model``, None skipped) above :data:`MAX_DAYS`."""
    issues = []
    for key in fields:
        value = getattr(model, key)
        if value is not None and value > MAX_DAYS:
            issues.append(
                (
                    (*at, key),
                    f"expected at most {MAX_DAYS:,} days, found {_short(value)}: days are "
                    "counted as whole 64-bit numbers",
                )
            )
    return issues


def severity_issues(path: KeyPath, dist: Any) -> list[Issue]:
    """A severity (a distribution, or a :class:`Fixed` value) that can leave [0, 1]; a
    fixed value from 2 to 100 gets a percentage hint."""
    if isinstance(dist, LogNormal):
        return [
            (
                path,
                "a lognormal severity can exceed 1 (all supply lost); use a beta, "
                "triangular or uniform distribution within [0, 1]",
            )
        ]
    low, high = dist.support()
    if low >= 0.0 and high <= 1.0:
        return []
    if isinstance(dist, Fixed):
        found = format_number(dist.value)
        if 2.0 <= dist.value <= 100.0:
            return [
                (
                    path,
                    f"expected a fraction of supply lost in [0, 1], found {found}; "
                    f"if it is a percentage, give it as {format_number(dist.value / 100)}",
                )
            ]
        return [(path, f"expected a fraction of supply lost in [0, 1], found {found}")]
    hint = ""
    if low >= 0.0 and 2.0 <= high <= 100.0:
        hint = "; if these are percentages, divide them by 100"
    return [
        (
            path,
            "expected every value of the severity in [0, 1] (a fraction of supply lost), "
            f"found a {_dist_name(dist)} from {format_number(low)} to {format_number(high)}" + hint,
        )
    ]


def _duration_issues(path: KeyPath, dist: Any) -> list[Issue]:
    low, high = dist.support()
    if isinstance(dist, LogNormal):  # (0, inf): the tail is cut at 10 horizons
        high = dist.p95
    if low < 0.0:
        return [
            (
                path,
                f"expected durations of at least 0 days, found a {_dist_name(dist)} "
                f"reaching {format_number(low)}",
            )
        ]
    if high > MAX_DAYS:
        which = "95th percentile" if isinstance(dist, LogNormal) else "largest value"
        return [
            (
                path,
                f"expected at most {MAX_DAYS:,} days, found a {_dist_name(dist)} whose "
                f"{which} is {format_number(high)}",
            )
        ]
    return []


def _dist_name(dist: Any) -> str:
    names = {Fixed: "fixed value", Uniform: "uniform", Triangular: "triangular"}
    names |= {Beta: "beta", LogNormal: "lognormal"}
    return names.get(type(dist), type(dist).__name__)


def _requirements(world: World) -> dict[str, float] | None:
    """Daily requirement of every product: final demand plus what users need as input
    (an upper bound: every user's whole requirement made at home). None with a cycle."""
    products = {n: p for n, p in world.products.items() if p is not None}
    users: dict[str, int] = dict.fromkeys(products, 0)
    for product in products.values():
        for name in product.inputs:
            if name in users:
                users[name] += 1
    need = {n: p.final_demand_per_day for n, p in products.items()}
    ready = [n for n, count in users.items() if count == 0]
    done = 0
    while ready:
        name = ready.pop()
        done += 1
        for child, per_unit in products[name].inputs.items():
            if child not in users:
                continue
            need[child] += need[name] * per_unit
            users[child] -= 1
            if users[child] == 0:
                ready.append(child)
    return need if done == len(products) else None


def _scale_issues(world: World, horizon_days: int) -> list[Issue]:
    """Units and euros of each product over the horizon within :data:`MAX_UNITS` and
    :data:`MAX_EUROS` (upper bounds of what the kernel can add up)."""
    need = _requirements(world)
    if need is None:
        return []  # a cycle, reported elsewhere
    defaults = world.defaults
    issues: list[Issue] = []
    for name, product in world.products.items():
        if product is None:
            continue
        stock = product.stockpile
        days = horizon_days + (stock.initial_days if stock is not None else 0.0)
        units = need[name] * days
        at: KeyPath = ("products", name)
        if not units <= MAX_UNITS:
            issues.append(
                (
                    at,
                    f"requirement x horizon is {format_number(units)} units (daily "
                    f"requirement {format_number(need[name])} including inputs of other "
                    f"products, over {days:,g} days); the limit is {MAX_UNITS:g}",
                )
            )
            continue
        premiums = [s.unit_cost_premium for s in product.sources.values()]
        for option in (product.diversification, product.substitution, product.reshoring):
            if option is not None:
                premiums.append(option.unit_cost_premium)
        shortage = product.shortage_cost_per_unit
        if shortage is None:
            shortage = defaults.shortage_cost_multiplier * product.unit_value
        rate = product.holding_cost_rate
        rate = defaults.holding_cost_rate if rate is None else rate
        if stock is not None and stock.holding_cost_rate is not None:
            rate = max(rate, stock.holding_cost_rate)
        refill = 1.0 + (stock.refill_days_per_day + stock.max_release_days_per_day if stock else 0)
        per_unit = product.unit_value * (1.0 + max(premiums, default=0.0)) * refill
        euros = units * (shortage + per_unit + product.unit_value * rate * days / 365.0)
        fixed = [o.fixed_cost for o in (stock, product.diversification, product.substitution) if o]
        euros += math.fsum(fixed) + (product.reshoring.capex if product.reshoring else 0.0)
        if not euros <= MAX_EUROS:
            issues.append(
                (
                    at,
                    f"costs over the horizon could reach {format_number(euros)} euros "
                    f"(values x requirement x {days:,g} days); the limit is {MAX_EUROS:g}: "
                    "check the units of unit_value, costs and demand",
                )
            )
    return issues


def warning_issues(world: World) -> list[Issue]:
    """Legal values that are probably a unit mistake (warnings, not errors)."""
    issues: list[Issue] = []

    def rate(path: KeyPath, value: float | None) -> None:
        if value is not None and value > HOLDING_RATE_WARNING:
            issues.append(
                (
                    path,
                    f"holding cost rate {format_number(value)} per year is more than the "
                    "stock's whole value each year; a percentage (give 25% as 0.25) or "
                    "a daily rate?",
                )
            )

    rate(("defaults", "holding_cost_rate"), world.defaults.holding_cost_rate)
    for name, product in world.products.items():
        if product is None:
            continue
        rate(("products", name, "holding_cost_rate"), product.holding_cost_rate)
        if product.stockpile is not None:
            rate(
                ("products", name, "stockpile", "holding_cost_rate"),
                product.stockpile.holding_cost_rate,
            )
    return issues
