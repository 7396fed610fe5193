"""Validation of a scenario: pydantic errors in the user's words, and whole-scenario checks.

Each check returns *issues*: ``(key path, message)`` pairs. The loader turns them into
:class:`~disruptsim.errors.Problem` objects with the file, line and column of the path.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import annotated_types
import pycountry
from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic.fields import FieldInfo

from . import schema
from .distributions import Distribution
from .messages import (
    KeyPath,
    describe,
    did_you_mean,
    format_number,
    kind_of,
    quoted_list,
    unknown,
)
from .schema import STRATEGY_KEYS, World

Issue = tuple[KeyPath, str]

SHARE_TOLERANCE = 1e-6
"""Shares and exposure weights must sum to 1 within this tolerance."""
DOMESTIC = "domestic"
"""Source key for home production."""
BUILTIN_REGIONS = {"EU27": "European Union (27 member states)", "ROW": "rest of the world"}
"""Region codes valid in every scenario, besides ISO 3166-1 alpha-3 codes."""
ISO_CODES = frozenset(c.alpha_3 for c in pycountry.countries)
WORLD_KEYS = tuple(World.model_fields)
DISTRIBUTIONS = tuple(
    typing.get_args(member.model_fields["dist"].annotation)[0]
    for member in typing.get_args(typing.get_args(Distribution)[0])
)


# -- pydantic errors ----------------------------------------------------------------------


def schema_issues(error: ValidationError, root: type[BaseModel], data: Any) -> list[Issue]:
    """Every error of a failed ``root.model_validate(data)``, as issues."""
    errors = error.errors(include_url=False)
    suggested: set[KeyPath] = set()  # missing keys an unknown key probably meant
    for e in errors:
        if e["type"] == "extra_forbidden":
            loc = tuple(e["loc"])
            guess = did_you_mean(str(loc[-1]), _allowed_keys(root, loc[:-1]))
            if guess is not None:
                suggested.add((*loc[:-1], guess))
    issues = []
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "missing" and loc in suggested:
            continue
        value = e.get("input")
        if isinstance(value, float) and not math.isfinite(value):
            continue  # reported by finite_issues
        path = data_path(data, loc)
        issue = _schema_issue(e, loc, path, root)
        if issue is not None:
            issues.append(issue)
    return issues


def _schema_issue(e: Mapping[str, Any], loc: tuple, path: KeyPath, root: type) -> Issue | None:
    kind, value, ctx = e["type"], e.get("input"), e.get("ctx") or {}
    if kind == "extra_forbidden":
        return path, unknown("key", loc[-1], _allowed_keys(root, loc[:-1]))
    if kind == "missing":
        return path[:-1], f"missing required key {str(loc[-1])!r}"
    if loc and loc[-1] == "[key]":
        return path, f"expected a string as key, found {describe(value)}"
    if kind in _EXPECTED:
        return path, f"expected {_expected(kind, root, loc, ctx)}, found {describe(value)}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        lower, upper = _bounds(root, loc)
        if lower == 0 and upper == 1:
            return path, f"expected a probability in [0, 1], found {describe(value)}"
        op, bound = {
            "greater_than_equal": (">=", "ge"),
            "greater_than": (">", "gt"),
            "less_than_equal": ("<=", "le"),
            "less_than": ("<", "lt"),
        }[kind]
        return path, f"expected a number {op} {format_number(ctx[bound])}, found {describe(value)}"
    if kind == "too_short":
        return path, f"expected at least one entry, found an empty {kind_of(value)[2:]}"
    if kind == "union_tag_invalid":
        dist_path = (*path, "dist") if isinstance(value, dict) and "dist" in value else path
        return dist_path, unknown("distribution", ctx.get("tag"), DISTRIBUTIONS)
    if kind == "union_tag_not_found":
        return path, (
            "missing key 'dist': expected a number or a mapping with dist: one of "
            f"{quoted_list(DISTRIBUTIONS)}"
        )
    if kind == "literal_error":
        return path, f"expected {ctx.get('expected')}, found {describe(value)}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return path, str(ctx["error"])
    return path, f"{e['msg']}, found {describe(value)}"


_EXPECTED = {
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "tuple_type": "a list",
    "list_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _expected(kind: str, root: type, loc: tuple, ctx: Mapping[str, Any]) -> str:
    _, meta = _type_at(root, loc)
    validators = {m.func for m in meta if isinstance(m, BeforeValidator)}
    if schema._countries_as_mapping in validators:
        return "a list of country codes or a mapping of country code to severity multiplier"
    if schema._number_as_fixed in validators:
        return f"a number or a distribution (a mapping with dist: {quoted_list(DISTRIBUTIONS)})"
    if schema._share_as_source in validators or ctx.get("class_name") == "Source":
        return "a share (a number) or a mapping with a share"
    return _EXPECTED[kind]


def data_path(data: Any, loc: tuple) -> KeyPath:
    """The error location as a path in the user's data: union tags dropped, ``[key]`` too."""
    path: list[Any] = []
    node = data
    for element in loc:
        if element == "[key]":
            break
        if isinstance(node, dict):
            if element in node:
                node = node[element]
            elif node.get("dist") == element:  # discriminated-union tag
                continue
            else:
                node = None
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            node = node[element]
        else:
            node = None
        path.append(element)
    return tuple(path)


def existing_prefix(data: Any, path: KeyPath) -> KeyPath:
    """The longest start of ``path`` that exists in ``data``.

    A key looked up in a list of strings becomes the index of that string, so that
    ``hazards[0].countries.CHN`` finds ``CHN`` in ``countries: [DEU, CHN]``.
    """
    node = data
    out: list[Any] = []
    for element in path:
        if isinstance(node, dict) and element in node:
            node = node[element]
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            node = node[element]
        elif isinstance(node, list) and isinstance(element, str) and element in node:
            element = node.index(element)
            node = node[element]
        else:
            break
        out.append(element)
    return tuple(out)


def _unwrap(tp: Any, meta: list[Any]) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp, *extra = typing.get_args(tp)
            for m in extra:
                meta.extend(m.metadata if isinstance(m, FieldInfo) else [m])
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _field(model: type[BaseModel], key: Any) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key == (info.alias or name) or key == name:
            return info
    return None


def _type_at(root: type, loc: Iterable[Any]) -> tuple[Any, list[Any]]:
    """The declared type at a pydantic error location and its metadata (constraints)."""
    tp, meta = root, []
    for element in loc:
        meta = []
        tp = _unwrap(tp, meta)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = _field(tp, element)
            if info is None:
                return None, []
            tp = info.annotation
            meta = list(info.metadata)
            continue
        origin = typing.get_origin(tp)
        if origin is dict:
            tp = typing.get_args(tp)[1]
        elif origin is tuple:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = {
                typing.get_args(m.model_fields["dist"].annotation)[0]: m
                for m in typing.get_args(tp)
                if isinstance(m, type) and issubclass(m, BaseModel) and "dist" in m.model_fields
            }
            if element not in members:
                return None, []
            tp = members[element]
        else:
            return None, []
    tp = _unwrap(tp, meta)
    return tp, meta


def _allowed_keys(root: type, loc: tuple) -> list[str]:
    tp, _ = _type_at(root, loc)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [info.alias or name for name, info in tp.model_fields.items()]
    return []


def _bounds(root: type, loc: tuple) -> tuple[float | None, float | None]:
    _, meta = _type_at(root, loc)
    lower = next((m.ge for m in meta if isinstance(m, annotated_types.Ge)), None)
    upper = next((m.le for m in meta if isinstance(m, annotated_types.Le)), None)
    return lower, upper


# -- whole-scenario checks ----------------------------------------------------------------


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
