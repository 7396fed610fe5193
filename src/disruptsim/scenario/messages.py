"""Wording of validation messages: key paths, values, did-you-mean suggestions.

Every message about a user's input is built from these helpers, so that all of them
read the same way: what was expected, then what was found.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from typing import Any

KeyPath = tuple[str | int, ...]
"""Path of a value in the scenario data: mapping keys (str) and list indices (int)."""


def format_path(path: Sequence[Any]) -> str:
    """``('hazards', 0, 'severity')`` -> ``'hazards[0].severity'``."""
    out = ""
    for element in path:
        if isinstance(element, int) and not isinstance(element, bool):
            out += f"[{element}]"
        else:
            out += ("." if out else "") + str(element)
    return out


def format_number(value: float) -> str:
    """A number as a user wrote it: ``5`` rather than ``5.0``, ``.inf`` for infinity."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.12g}"
    return str(value)


def kind_of(value: Any) -> str:
    """What sort of YAML value ``value`` is, with an article: ``'a string'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def describe(value: Any) -> str:
    """A found value for a message: ``'abc' (a string)``, ``-5``, ``a mapping``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{format_number(value)} (a boolean)"
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)  # as written: 730.0 is not a whole number in YAML
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"{shown!r} (a string)"
    return kind_of(value)


def quoted_list(options: Iterable[Any]) -> str:
    """``['a', 'b']`` -> ``"'a', 'b'"``."""
    return ", ".join(repr(str(o)) for o in options)


def did_you_mean(word: str, options: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The option closest to ``word`` (case-insensitive), or None if none is close."""
    options = [str(o) for o in options]
    if not options:
        return None
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[match[0]] if match else None


def unknown(what: str, word: Any, options: Iterable[str], *, list_all: bool = True) -> str:
    """``unknown key 'x'; did you mean 'y'?`` or ``unknown key 'x'; allowed: 'a', 'b'``."""
    options = list(options)
    message = f"unknown {what} {str(word)!r}"
    suggestion = did_you_mean(str(word), options) if isinstance(word, str) else None
    if suggestion is not None:
        return f"{message}; did you mean {suggestion!r}?"
    if list_all and options:
        return f"{message}; expected one of: {quoted_list(options)}"
    return message
