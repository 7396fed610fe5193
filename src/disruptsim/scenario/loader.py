"""Load a scenario: parse, validate, resolve strategies, apply defaults, freeze.

:func:`load_scenario` is the one entry point. It reports every problem it finds in one
:class:`~disruptsim.errors.ScenarioError`, each with file, line, column and key path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Problem, ScenarioError
from .bounds import bound_issues, magnitude_issues, top_bound_issues, warning_issues
from .checks import (
    WORLD_KEYS,
    Countries,
    finite_issues,
    strategy_key_issues,
    top_issues,
    world_issues,
)
from .frozen import FrozenDict, freeze, freeze_model
from .messages import KeyPath, describe, format_path, unknown
from .model import Scenario, Strategy
from .schema import Hazard, Product, ScenarioFile, Shock, World
from .schema_errors import Issue, existing_prefix, schema_issues
from .yamlio import Document, from_mapping, read_file

__all__ = ["BASELINE", "deep_merge", "load_scenario"]

BASELINE = "baseline"
BASELINE_DESCRIPTION = "The scenario as written, without any strategy"


def load_scenario(source: str | os.PathLike[str] | Mapping[str, Any]) -> Scenario:
    """Read, validate and resolve a scenario.

    Parameters
    ----------
    source : str, path-like or Mapping
        A YAML file (see ``docs/scenario-reference.md``) or the same content as a
        mapping. A mapping is deep-copied; it is never changed.

    Returns
    -------
    Scenario
        Immutable; every strategy resolved (baseline first) and every default applied.

    Raises
    ------
    ScenarioError
        With every problem found, each with file, line, column and key path.
    OSError
        If the file cannot be read.
    """
    if isinstance(source, Mapping):
        document, path = from_mapping(source), None
    elif isinstance(source, str | os.PathLike):
        document, path = read_file(source), Path(source)
    else:
        raise TypeError(f"load_scenario expects a path or a mapping, got {type(source).__name__}")
    return _resolve(document, path)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in: mappings merge recursively, other values
    replace, and ``None`` deletes the key. Neither argument is changed."""
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = deep_merge({}, value) if isinstance(value, Mapping) else value
    return out


def patch_hazards(hazards: Any, patches: Mapping[str, Any]) -> tuple[list[Any], list[Issue]]:
    """The baseline's hazard list with ``patches`` (hazard name -> override) merged in.

    Each patch is deep-merged into the hazard of that name (see :func:`deep_merge`); a
    patch of ``None`` removes the hazard. The hazard keeps its name, hence its random
    numbers: its events stay coupled to the baseline's (common random numbers).

    Returns
    -------
    (list, list of issues)
        The patched list, and one issue per unknown name or patch that is not a mapping,
        at ``("hazards", NAME)``.
    """
    items = list(hazards) if isinstance(hazards, list) else []
    names = [h.get("name") if isinstance(h, dict) else None for h in items]
    known = [n for n in names if isinstance(n, str)]
    issues: list[Issue] = []
    removed: set[int] = set()
    for hazard_name, patch in patches.items():
        if hazard_name not in names:
            message = unknown("hazard", hazard_name, known)
            issues.append(
                (
                    ("hazards", hazard_name),
                    f"{message} (a strategy patches the scenario's hazards by name; "
                    "to add a hazard, give the full list of hazards)",
                )
            )
            continue
        i = names.index(hazard_name)
        if patch is None:
            removed.add(i)
        elif isinstance(patch, dict):
            if "name" in patch and patch["name"] != hazard_name:
                issues.append(
                    (
                        ("hazards", hazard_name, "name"),
                        "a patch cannot rename a hazard (its name keys its random numbers)",
                    )
                )
                continue
            items[i] = deep_merge(items[i], patch)
        else:
            issues.append(
                (
                    ("hazards", hazard_name),
                    f"expected a mapping of the hazard's keys to change, "
                    f"or null to remove the hazard, found {describe(patch)}",
                )
            )
    return [h for i, h in enumerate(items) if i not in removed], issues


def _by_hazard_name(
    changes: dict[str, Any], merged: dict[str, Any], issues: list[Issue], patches: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], list[Issue]]:
    """Re-key the merged hazard list by name, so that problems inside a patch are reported
    at the patch (``strategies.S.hazards.NAME.key``) rather than at the baseline's list."""
    hazards = merged.get("hazards")
    if not isinstance(hazards, list):
        return changes, merged, issues
    names = [h.get("name") if isinstance(h, dict) else None for h in hazards]
    view_hazards: dict[Any, Any] = {}
    index: dict[int, Any] = {}
    for i, (hazard, hazard_name) in enumerate(zip(hazards, names, strict=True)):
        key = hazard_name if hazard_name in patches and names.count(hazard_name) == 1 else i
        view_hazards[key] = hazard
        index[i] = key
    renamed = [
        (("hazards", index.get(path[1], path[1]), *path[2:]), message)
        if len(path) >= 2 and path[0] == "hazards" and isinstance(path[1], int)
        else (path, message)
        for path, message in issues
    ]
    view_changes = {**changes, "hazards": {k: v for k, v in patches.items() if isinstance(v, dict)}}
    return view_changes, {**merged, "hazards": view_hazards}, renamed


class Report:
    """Collects issues as :class:`Problem` objects located in the document."""

    def __init__(self, document: Document):
        self.document = document
        self.problems: list[Problem] = []

    def position(self, path: KeyPath) -> tuple[int | None, int | None]:
        positions = self.document.positions
        for end in range(len(path), -1, -1):
            if path[:end] in positions:
                return positions[path[:end]]
        return None, None

    def add(self, issues: list[Issue], prefix: str = "") -> None:
        for path, message in issues:
            path = existing_prefix(self.document.data, path)
            self.put(path, prefix + message)

    def put(self, path: KeyPath, message: str) -> None:
        line, column = self.position(path)
        problem = Problem(self.document.file, line, column, format_path(path), message)
        if problem not in self.problems:
            self.problems.append(problem)

    def add_strategy(
        self, name: str, override: Any, merged: Any, issues: list[Issue], inherited: bool = True
    ) -> None:
        """Issues of one strategy, at the override if it holds the path, else the baseline
        (``inherited=False``: only those the override holds)."""
        known = {(p.path, p.message) for p in self.problems}
        base = ("strategies", name)
        for path, message in issues:
            path = existing_prefix(merged, path)
            in_override = existing_prefix(override, path)
            in_baseline = existing_prefix(self.document.data, path)
            if in_override == path or (
                in_baseline != path and len(in_override) >= len(in_baseline)
            ):
                if " sum to " in message:
                    message += _merge_hint(_get(self.document.data, path), _get(override, path))
                self.put((*base, *path), f"strategy {name!r}: {message}")
            elif inherited and (format_path(path), message) not in known:  # from the baseline
                self.put(path, f"strategy {name!r}: {message}")

    def raise_if_any(self) -> None:
        if self.problems:
            far = (float("inf"), float("inf"))
            ordered = sorted(
                self.problems,
                key=lambda p: (p.line, p.column or 0) if p.line is not None else far,
            )
            raise ScenarioError(ordered)


def _get(data: Any, path: KeyPath) -> Any:
    for element in path:
        try:
            data = data[element]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _merge_hint(baseline: Any, override: Any) -> str:
    """Explain the deep merge when a strategy's mapping kept some of the baseline's keys."""
    if not isinstance(baseline, dict) or not isinstance(override, dict):
        return ""
    kept = [key for key in baseline if key not in override]
    if not kept:
        return ""
    listed = ", ".join(kept)
    return (
        f"; note that a strategy's mapping is merged into the baseline's, which adds {listed}:"
        " set a key to null in the strategy to remove it"
    )


def _validate(model: type[World], data: Mapping[str, Any]) -> tuple[Any, list[Issue]]:
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, schema_issues(error, model, data)


# Keys the whole-world checks read: an item whose error is in one of them is skipped.
_CHECKED_KEYS = {"sources", "inputs", "countries", "products", "reshoring", "name"}
# Neutral values for required keys the whole-world checks do not read.
_PLACEHOLDERS = {
    "unit": "",
    "unit_value": 0.0,
    "annual_probability": 0.0,
    "severity": 0.0,
    "duration_days": 1.0,
    "start_day": 0,
}


def _best_effort_world(data: Mapping[str, Any]) -> tuple[World | None, list[Issue]]:
    """The validated world, or, if it is invalid, a partial one for the whole-world checks.

    The partial world (built without validation) holds every product, hazard and shock
    that is valid on its own and ``None`` in place of the others, so that the checks of
    shares, countries and cycles still run where they can and paths keep their indices.
    """
    world, issues = _validate(World, data)
    if world is not None or not isinstance(data.get("products"), dict):
        return world, issues

    def each(model: type, value: Any, repaired: bool = False) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError as error:
            errors = error.errors(include_url=False)
        if repaired or not isinstance(value, dict):
            return None
        # The errors are reported already: check the rest as if the failing keys were
        # absent, with a neutral value for the required ones the whole-world checks ignore.
        failing = {e["loc"][0] for e in errors if e["loc"]}
        if failing & _CHECKED_KEYS:
            return None
        stripped = {k: v for k, v in value.items() if k not in failing}
        for key in failing:
            if key in _PLACEHOLDERS and key in model.model_fields:
                stripped[key] = _PLACEHOLDERS[key]
        return each(model, stripped, repaired=True)

    pieces = {"products": {k: each(Product, v) for k, v in data["products"].items()}}
    for key, model in (("hazards", Hazard), ("shocks", Shock)):
        if isinstance(data.get(key), list):
            pieces[key] = tuple(each(model, v) for v in data[key])
    return World.model_construct(**pieces), issues


def _resolve(document: Document, path: Path | None) -> Scenario:
    data = document.data
    report = Report(document)
    number_issues = finite_issues(data) + magnitude_issues(data)
    report.add(number_issues)
    scenario_file, issues = _validate(ScenarioFile, data)
    report.add(issues)
    report.add(top_issues(data))
    report.add(top_bound_issues(data))
    # The scale of costs is only checked when every number is finite and of bounded size.
    horizon = data.get("horizon_days") if not number_issues else None
    cautions = Report(document)

    regions = data.get("regions")
    countries = Countries(regions if isinstance(regions, dict) else ())
    world_data = {key: data[key] for key in WORLD_KEYS if key in data}
    baseline, _ = _best_effort_world(world_data)  # its errors are among the file's
    if baseline is not None:
        report.add(world_issues(baseline, countries))
        report.add(bound_issues(baseline, horizon))
        cautions.add(warning_issues(baseline))

    worlds: dict[str, tuple[str, World | None]] = {BASELINE: (BASELINE_DESCRIPTION, baseline)}
    strategies = data.get("strategies")
    for name, override in (strategies if isinstance(strategies, dict) else {}).items():
        if name == BASELINE:
            if override not in (None, {}):
                report.put(
                    ("strategies", BASELINE),
                    "the baseline strategy is the scenario itself and cannot change anything; "
                    "leave it empty ({}) and change the scenario instead",
                )
            continue
        if override is None:
            override = {}
        if not isinstance(override, dict):
            continue  # reported by the schema
        report.add(strategy_key_issues(name, override))
        changes = {key: value for key, value in override.items() if key in WORLD_KEYS}
        patches = changes.get("hazards")
        if isinstance(patches, dict):  # patch hazards by name (docs/scenario-reference.md)
            changes["hazards"], patch_issues = patch_hazards(world_data.get("hazards"), patches)
            report.add(
                [(("strategies", name, *p), f"strategy {name!r}: {m}") for p, m in patch_issues]
            )
        merged = deep_merge(world_data, changes)
        world, issues = _best_effort_world(merged)
        if world is not None:
            issues += world_issues(world, countries) + bound_issues(world, horizon)
            warnings = warning_issues(world)
        if isinstance(patches, dict):  # report problems inside a patch at the patch
            if world is not None:
                warnings = _by_hazard_name(changes, merged, warnings, patches)[2]
            changes, merged, issues = _by_hazard_name(changes, merged, issues, patches)
        if world is not None:
            cautions.add_strategy(name, changes, merged, warnings, inherited=False)
        report.add_strategy(name, changes, merged, issues)
        description = override.get("description", "")
        worlds[name] = (description if isinstance(description, str) else "", world)

    report.raise_if_any()
    assert scenario_file is not None  # no problem reported means it validated
    resolved = FrozenDict(
        (name, Strategy(name, description, freeze_model(_apply_defaults(world))))
        for name, (description, world) in worlds.items()
    )
    return Scenario(
        name=scenario_file.name,
        description=scenario_file.description,
        home=scenario_file.home,
        horizon_days=scenario_file.horizon_days,
        regions=FrozenDict(scenario_file.regions),
        strategies=resolved,
        path=path,
        sha256=document.sha256,
        data=freeze(data),
        situation_positions=FrozenDict(
            (key[1:], position)
            for key, position in document.positions.items()
            if key[:1] == ("situation",)
        ),
        warnings=tuple(replace(p, message=f"warning: {p.message}") for p in cautions.problems),
    )


_EXACT = 1e-12
"""Sums this close to 1 are left as written (rounding only); others are rescaled."""


def _normalised(weights: Mapping[str, float] | None) -> dict[str, float] | None:
    """Weights rescaled to sum to 1 (they already do within the validation tolerance)."""
    if weights is None:
        return None
    total = math.fsum(weights.values())
    if abs(total - 1.0) <= _EXACT:
        return dict(weights)
    return {key: value / total for key, value in weights.items()}


def _normalise_sources(product: Product) -> dict[str, Any]:
    """Updates that make shares and exposure weights sum to 1 up to rounding, not just 1e-6."""
    total = math.fsum(source.share for source in product.sources.values())
    if abs(total - 1.0) <= _EXACT:
        total = 1.0  # keep the values as written when only rounding separates them from 1
    sources = {
        code: source.model_copy(
            update={"share": source.share / total, "exposure": _normalised(source.exposure)}
        )
        for code, source in product.sources.items()
    }
    update: dict[str, Any] = {"sources": sources}
    for name in ("diversification", "substitution"):
        option = getattr(product, name)
        if option is not None and option.exposure is not None:
            update[name] = option.model_copy(update={"exposure": _normalised(option.exposure)})
    return update


def _apply_defaults(world: World) -> World:
    """Fill in ``shortage_cost_per_unit`` and ``holding_cost_rate`` from the defaults, and
    rescale shares and exposure weights to sum to 1 exactly (up to rounding)."""
    defaults = world.defaults
    products = {}
    for name, product in world.products.items():
        rate = product.holding_cost_rate
        if rate is None:
            rate = defaults.holding_cost_rate
        update: dict[str, Any] = {"holding_cost_rate": rate, **_normalise_sources(product)}
        if product.shortage_cost_per_unit is None:
            update["shortage_cost_per_unit"] = (
                defaults.shortage_cost_multiplier * product.unit_value
            )
        if product.stockpile is not None and product.stockpile.holding_cost_rate is None:
            update["stockpile"] = product.stockpile.model_copy(update={"holding_cost_rate": rate})
        products[name] = product.model_copy(update=update)
    return world.model_copy(update={"products": products})
