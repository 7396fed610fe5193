"""Pydantic validation errors in the user's words.

:func:`schema_issues` turns each error of a failed ``model_validate`` into an issue:
the key path in the user's data (union tags dropped) and a message saying what was
expected and what was found, with a did-you-mean for unknown keys.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import annotated_types
from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic.fields import FieldInfo

from . import schema
from .distributions import Distribution
from .messages import KeyPath, describe, did_you_mean, format_number, kind_of, quoted_list, unknown

Issue = tuple[KeyPath, str]
"""A problem before it is located in a file: key path and message."""

DISTRIBUTIONS = tuple(
    typing.get_args(member.model_fields["dist"].annotation)[0]
    for member in typing.get_args(typing.get_args(Distribution)[0])
)
"""Names accepted for ``dist``."""


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
