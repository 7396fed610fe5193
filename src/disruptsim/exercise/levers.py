"""Decisions as strategy patches: each lever of the decision menu changes one product.

A decision taken on day ``d`` becomes a patch of the product's entry in the scenario
(the same deep merge as a scenario's strategies, ``docs/scenario-reference.md``), applied
from day ``d`` on, so the SimPy twin (the realised path) and the numba kernel (the
look-ahead) simulate exactly the same thing. Lead times are expressed in the model's own
clocks (``docs/exercise.md``, "Levers"):

- ``stock_release`` (release faster or ration the stock: ``max_release_days_per_day``)
  and ``stock_target`` (``initial_days``, ``refill_days_per_day``; the stock refills on
  days without a gap) take effect at once: their lead time must be 0;
- ``diversification``, ``joint_purchase`` (emergency sourcing pooled with other buyers:
  the diversification lever on pooled terms) and ``substitution`` are reactive options
  qualified ``lag_days`` after the product's first disruption: the lag is set so that
  the option is usable ``lead_time_days`` after the decision, or after the first
  disruption if that comes later;
- ``reshoring`` starts building ``lead_time_days`` after the decision
  (``build_days`` = decision day + lead time, as the exercise's worlds are decided on
  day 0);
- ``demand_restraint`` (the scenario's demand-restraint lever, where this version has it)
  is also decided on the product's first disruption and acts ``lag_days`` later: its lag is
  set from the lead time in the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ALLOWED_PARAMETERS", "IMMEDIATE", "REACTIVE", "lever_patch"]

REACTIVE = {
    "diversification": "diversification",
    "joint_purchase": "diversification",
    "substitution": "substitution",
}
"""Reactive levers and the product key each one sets."""
IMMEDIATE = ("stock_release", "stock_target")
"""Levers that act from the day of the decision (no lead time in the model)."""

_REACTIVE_KEYS = (
    "ramp_days",
    "max_share",
    "unit_cost_premium",
    "success_probability",
    "exposure",
    "fixed_cost",
)
ALLOWED_PARAMETERS: dict[str, tuple[str, ...] | None] = {
    "stock_release": ("max_release_days_per_day",),
    "stock_target": ("initial_days", "refill_days_per_day", "max_release_days_per_day"),
    "diversification": _REACTIVE_KEYS,
    "joint_purchase": _REACTIVE_KEYS,
    "substitution": _REACTIVE_KEYS,
    "reshoring": ("from", "share", "ramp_days", "capex", "unit_cost_premium"),
    "demand_restraint": (
        "ramp_days",
        "max_share",
        "duration_days",
        "unit_cost",
        "unit_cost_relative",
    ),
}
"""Parameters each lever accepts (lead times and build days come from ``lead_time_days``)."""


def lever_patch(
    lever: str,
    parameters: Mapping[str, Any],
    *,
    day: int,
    lead_time_days: int,
    disrupted_since: int | None,
) -> tuple[str, dict[str, Any]]:
    """The product key a decision sets and the mapping merged into it.

    Parameters
    ----------
    lever : str
        One of :data:`disruptsim.exercise.schema.LEVERS`.
    parameters : Mapping
        The lever's parameters (keys of :data:`ALLOWED_PARAMETERS`).
    day : int
        Day of the decision.
    lead_time_days : int
        Days from the decision until the lever acts.
    disrupted_since : int or None
        The product's first disruption, if it came before the decision (reactive levers
        count their lag from it).

    Returns
    -------
    (key, patch) : tuple
        E.g. ``("stockpile", {"max_release_days_per_day": 0.5})``.
    """
    values = dict(parameters)
    if lever in IMMEDIATE:
        return "stockpile", values
    if lever in REACTIVE or lever == "demand_restraint":
        ready = day + lead_time_days
        since = disrupted_since if disrupted_since is not None and disrupted_since <= day else None
        values["lag_days"] = float(lead_time_days if since is None else ready - since)
        return REACTIVE.get(lever, lever), values
    if lever == "reshoring":
        values["build_days"] = float(day + lead_time_days)
        return "reshoring", values
    raise ValueError(f"unknown lever {lever!r}")
