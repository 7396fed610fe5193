"""The scenario as the exercise has changed it: demand changes of injects and decisions.

Every world the exercise simulates (the realised path, the look-ahead's options, the
after-action report's counterfactuals) is the scenario with

- the demand changes of the injects delivered so far merged into its products (in every
  strategy), with the stock targets kept in units: a target is written in days of the
  scenario's planning demand, whatever the demand does later;
- the decisions as strategies (deep merges over the baseline, as in a scenario file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..scenario import Scenario, load_scenario, thaw

__all__ = ["DECIDED", "decided_override", "exercise_scenario", "merge_override"]

DECIDED = "as_decided"
"""Name of the strategy holding the decisions taken so far."""


def decided_override(patches: list[tuple[str, str, Mapping[str, Any]]]) -> dict[str, Any]:
    """A strategy override from decision patches ``(product, key, patch)``, in order
    (a later patch of the same key merges over an earlier one)."""
    override: dict[str, Any] = {}
    for product, key, patch in patches:
        override = merge_override(override, {"products": {product: {key: dict(patch)}}})
    return override


def merge_override(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Like a strategy's deep merge, but a ``None`` stays (it deletes in the scenario)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_override(out[key], value)
        else:
            out[key] = merge_override({}, value) if isinstance(value, Mapping) else value
    return out


def exercise_scenario(
    scenario: Scenario,
    demand: Mapping[str, float],
    strategies: Mapping[str, Mapping[str, Any]],
    *,
    keep_strategies: bool = False,
) -> Scenario:
    """The scenario with demand factors applied and the given strategies.

    Parameters
    ----------
    scenario : Scenario
        The exercise's scenario as loaded.
    demand : Mapping[str, float]
        Product -> factor on its final demand (products with final demand only).
    strategies : Mapping[str, Mapping]
        Strategy overrides by name (``baseline`` is always there, unchanged).
    keep_strategies : bool, default False
        Keep the scenario's own strategies too (the pre-planned ones).

    Raises
    ------
    ScenarioError
        If an override makes an invalid world (the problems name the strategy).
    """
    data = thaw(scenario.data)
    data.pop("situation", None)
    own = data.get("strategies") or {}
    out: dict[str, Any] = {"baseline": {}}
    if keep_strategies:
        out.update({k: (v or {}) for k, v in own.items() if k != "baseline"})
    out.update({k: dict(v) for k, v in strategies.items()})
    for product, factor in demand.items():
        _scale_demand(data["products"][product], factor)
        for override in out.values():
            entry = override.get("products", {}).get(product)
            if isinstance(entry, dict):
                override["products"] = dict(override["products"])
                override["products"][product] = _scaled_override(entry, factor)
    data["strategies"] = out
    return load_scenario(data)


def _scale_demand(product: dict[str, Any], factor: float) -> None:
    product["final_demand_per_day"] = product.get("final_demand_per_day", 0.0) * factor
    stock = product.get("stockpile")
    if isinstance(stock, dict) and "initial_days" in stock:
        product["stockpile"] = {**stock, "initial_days": stock["initial_days"] / factor}


def _scaled_override(entry: Mapping[str, Any], factor: float) -> dict[str, Any]:
    entry = dict(entry)
    stock = entry.get("stockpile")
    if isinstance(stock, Mapping) and stock.get("initial_days") is not None:
        entry["stockpile"] = {**stock, "initial_days": stock["initial_days"] / factor}
    return entry
