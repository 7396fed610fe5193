"""Whole-scenario checks: what needs more than one value at a time.

Shares and exposure weights that sum to 1, known products, no cycle in the bill of
materials, valid country codes, unique hazard names, reshoring that replaces a source,
and the keys a strategy may set. Each check returns *issues*: ``(key path, message)``
pairs; the loader turns them into :class:`~disruptsim.errors.Problem` objects with the
file, line and column of the path. Pydantic's own errors are worded in
:mod:`disruptsim.scenario.schema_errors`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pycountry

from ..conventions import DOMESTIC
from . import schema
from .messages import KeyPath, describe, did_you_mean, format_number, quoted_list, unknown
from .schema import STRATEGY_KEYS, World
from .schema_errors import Issue

SHARE_TOLERANCE = 1e-6
"""Shares and exposure weights must sum to 1 within this tolerance."""
BUILTIN_REGIONS = {"EU27": "European Union (27 member states)", "ROW": "rest of the world"}
"""Region codes valid in every scenario, besides ISO 3166-1 alpha-3 codes."""
ISO_CODES = frozenset(c.alpha_3 for c in pycountry.countries)
"""ISO 3166-1 alpha-3 codes (pycountry, offline)."""
WORLD_KEYS = tuple(World.model_fields)
"""Top-level keys that make up a world (what a strategy can change)."""


def finite_issues(data: Any, path: KeyPath = ()) -> list[Issue]:
    """Every non-finite number (``.nan``, ``.inf``) in the data."""
    if isinstance(data, float) and not math.isfinite(data):
        return [(path, f"expected a finite number, found {describe(data)}")]
    if isinstance(data, dict):
        items: Iterable[tuple[Any, Any]] = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return []
    return [issue for key, value in items for issue in finite_issues(value, (*path, key))]


class Countries:
    """The country and region codes valid in one scenario."""

    def __init__(self, regions: Iterable[str] = ()):
        self.regions = set(BUILTIN_REGIONS) | {r for r in regions if isinstance(r, str)}

    def __contains__(self, code: object) -> bool:
        return code in ISO_CODES or code in self.regions

    def unknown(self, code: str) -> str:
        message = f"unknown country code {code!r}"
        if code == DOMESTIC:
            return f"{message}: 'domestic' is only valid as a source of a product"
        guess = self.suggest(code)
        if guess is not None:
            country = pycountry.countries.get(alpha_3=guess)
            named = f" ({country.name})" if country is not None else ""
            return f"{message}; did you mean {guess!r}{named}?"
        return (
            f"{message}; expected an ISO 3166-1 alpha-3 code such as 'DEU', "
            "'EU27', 'ROW' or a region declared under regions"
        )

    def suggest(self, code: str) -> str | None:
        """A valid code the user probably meant: same letters in another case or order,
        an alpha-2 code or country name, or a near miss of a region's name."""
        if code.upper() in self:
            return code.upper()
        try:
            return pycountry.countries.lookup(code).alpha_3
        except LookupError:
            pass
        letters = sorted(code.upper())
        anagrams = sorted(c for c in ISO_CODES | self.regions if sorted(c.upper()) == letters)
        if anagrams:
            return anagrams[0]
        # Near misses among 3-letter ISO codes are too many to guess from; regions are few.
        return did_you_mean(code, sorted(self.regions))


def top_issues(data: Mapping[str, Any]) -> list[Issue]:
    """Checks of ``home`` and ``regions`` (on the raw data, valid or not)."""
    issues: list[Issue] = []
    regions = data.get("regions")
    regions = regions if isinstance(regions, dict) else {}
    for code in regions:
        if code in ISO_CODES:
            name = pycountry.countries.get(alpha_3=code).name
            issues.append(
                (
                    ("regions", code),
                    f"region {code!r} clashes with the ISO 3166-1 code of {name}; "
                    "choose another name",
                )
            )
        elif code == DOMESTIC:
            issues.append((("regions", code), "'domestic' is reserved for home production"))
    home = data.get("home", "EU27")
    if isinstance(home, str) and home not in Countries(regions):
        message = Countries(regions).unknown(home)
        if home == DOMESTIC:
            message = "home cannot be 'domestic': name the region whose supply is studied"
        issues.append((("home",), message))
    return issues


def strategy_key_issues(name: str, override: Mapping[str, Any]) -> list[Issue]:
    """Keys a strategy may not set, and a description that is not text."""
    base: KeyPath = ("strategies", name)
    issues: list[Issue] = []
    for key in override:
        if key not in STRATEGY_KEYS:
            issues.append(((*base, key), unknown("strategy key", key, STRATEGY_KEYS)))
    description = override.get("description")
    if description is not None and not isinstance(description, str):
        issues.append(((*base, "description"), f"expected a string, found {describe(description)}"))
    return issues


def world_issues(world: World, countries: Countries) -> list[Issue]:
    """Checks that need the whole world: shares, products, countries, cycles.

    ``world`` may be partial (see the loader): ``None`` stands for a product, hazard
    or shock that failed validation; it is skipped here but its name is still known.
    """
    issues: list[Issue] = []
    names = list(world.products)

    def country(path: KeyPath, code: str) -> None:
        if code not in countries:
            issues.append((path, countries.unknown(code)))

    def exposure(path: KeyPath, weights: Mapping[str, float] | None) -> None:
        if weights is None:
            return
        for code in weights:
            country((*path, code), code)
        issues.extend(_sum_issue(path, "exposure weights", weights))

    def products(path: KeyPath, listed: Iterable[str] | None) -> None:
        for i, product in enumerate(listed or ()):
            if product not in world.products:
                issues.append(((*path, i), unknown("product", product, names)))

    for name, product in world.products.items():
        if product is None:
            continue
        at: KeyPath = ("products", name)
        shares = {code: source.share for code, source in product.sources.items()}
        issues.extend(_sum_issue((*at, "sources"), "shares of the sources", shares))
        for code, source in product.sources.items():
            if code != DOMESTIC:
                country((*at, "sources", code), code)
            elif source.exposure is not None:
                issues.append(
                    (
                        (*at, "sources", code, "exposure"),
                        "a domestic source has no exposure: domestic production depends on "
                        "the home region and on the product's inputs",
                    )
                )
                continue
            exposure((*at, "sources", code, "exposure"), source.exposure)
        for product_input in product.inputs:
            if product_input not in world.products:
                message = unknown("product", product_input, names)
                issues.append(((*at, "inputs", product_input), message))
        for reactive in ("diversification", "substitution"):
            option = getattr(product, reactive)
            if option is not None:
                exposure((*at, reactive, "exposure"), option.exposure)
        if product.reshoring is not None:
            issues.extend(_reshoring_issues(at, product))
        if product.demand_restraint is not None:
            issues.extend(_restraint_issues(at, product, world))
    issues.extend(_cycle_issues(world))

    seen: dict[str, int] = {}
    for i, hazard in enumerate(world.hazards):
        if hazard is None:
            continue
        if hazard.name in seen:
            issues.append(
                (
                    ("hazards", i, "name"),
                    f"duplicate hazard name {hazard.name!r} (also hazards[{seen[hazard.name]}])",
                )
            )
        seen.setdefault(hazard.name, i)
    for group, events in (("hazards", world.hazards), ("shocks", world.shocks)):
        for i, event in enumerate(events):
            if event is None:
                continue
            for code in event.countries:
                country((group, i, "countries", code), code)
            products((group, i, "products"), event.products)
    return issues


def _sum_issue(path: KeyPath, what: str, parts: Mapping[str, float]) -> list[Issue]:
    total = math.fsum(parts.values())
    if abs(total - 1.0) <= SHARE_TOLERANCE:
        return []
    listed = ", ".join(f"{k}: {format_number(v)}" for k, v in parts.items())
    return [(path, f"{what} sum to {format_number(total)}, expected 1 ({listed})")]


def _reshoring_issues(at: KeyPath, product: schema.Product) -> list[Issue]:
    reshoring = product.reshoring
    path = (*at, "reshoring", "from")
    code = reshoring.from_
    if code == DOMESTIC:
        message = "expected an import source to move to domestic production, found 'domestic'"
        return [(path, message)]
    if code not in product.sources:
        sources = [s for s in product.sources if s != DOMESTIC]
        guess = did_you_mean(code, sources)
        hint = f"did you mean {guess!r}?" if guess else f"expected one of: {quoted_list(sources)}"
        return [(path, f"{code!r} is not a source of this product; {hint}")]
    share = product.sources[code].share
    if reshoring.share > share + SHARE_TOLERANCE:
        return [
            (
                (*at, "reshoring", "share"),
                f"expected a share <= {format_number(share)} (the share of source {code!r}), "
                f"found {format_number(reshoring.share)}",
            )
        ]
    return []


def restraint_unit_cost(product: schema.Product) -> float:
    """Euros per unit of final demand forgone under the product's demand restraint."""
    r = product.demand_restraint
    if r.unit_cost is not None:
        return r.unit_cost
    return (r.unit_cost_relative or 0.0) * product.unit_value


def _restraint_issues(at: KeyPath, product: schema.Product, world: World) -> list[Issue]:
    restraint = product.demand_restraint
    path = (*at, "demand_restraint")
    if product.final_demand_per_day <= 0:
        return [(path, "demand restraint lowers final demand: expected final_demand_per_day > 0")]
    if (restraint.unit_cost is None) == (restraint.unit_cost_relative is None):
        return [(path, "expected exactly one of unit_cost (euros per unit forgone) and "
                       "unit_cost_relative (a fraction of unit_value)")]  # fmt: skip
    shortage = product.shortage_cost_per_unit
    if shortage is None:
        shortage = world.defaults.shortage_cost_multiplier * product.unit_value
    cost = restraint_unit_cost(product)
    if not cost < shortage:
        key = "unit_cost" if restraint.unit_cost is not None else "unit_cost_relative"
        return [
            (
                (*path, key),
                f"expected a cost per unit forgone below the shortage cost per unit "
                f"({format_number(shortage)}), found {format_number(cost)}",
            )
        ]
    return []


def _cycle_issues(world: World) -> list[Issue]:
    """One issue per cycle in the bill of materials (per strongly connected component)."""
    graph = {
        name: [i for i in product.inputs if i in world.products] if product is not None else []
        for name, product in world.products.items()
    }
    issues = []
    for component in _strongly_connected(graph):
        first = component[0]
        if len(component) == 1 and first not in graph[first]:
            continue
        cycle = _cycle_through(graph, first, set(component))
        text = " -> ".join([*cycle, cycle[0]])
        issues.append(
            (("products", cycle[0], "inputs", cycle[1 % len(cycle)]), f"cycle in inputs: {text}")
        )
    return issues


def _strongly_connected(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components listed in the graph's order."""
    order = {name: i for i, name in enumerate(graph)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component, key=order.__getitem__))
    return sorted(components, key=lambda c: order[c[0]])


def _cycle_through(graph: Mapping[str, list[str]], start: str, members: set[str]) -> list[str]:
    """A shortest cycle from ``start`` back to itself within one component (BFS)."""
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in graph[node]:
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return path[::-1]
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    return [start]  # pragma: no cover - a component always has a cycle
