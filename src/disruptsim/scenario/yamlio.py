"""Safe YAML reading with positions, in bounded time and memory.

The file is only *composed* (parsed into a node graph; no constructor runs, so no tag
can create an object or call anything), then converted here to plain data: dict, list,
str, int, float, bool and None. Any other tag is an error. Along the way every mapping
key and list item gets its 1-based (line, column), keyed by its path in the data.

Limits: the file size (:data:`MAX_FILE_BYTES`; the pure-Python parser reads about
30 kB/s), the number of values written (:data:`MAX_NODES`) and the nesting depth
(:data:`MAX_DEPTH`), both checked first by a fast pass over libyaml's parse events (about
0.5 s per MB; no recursion, so any depth is reported with its position), and the number
of values after aliases are expanded (:data:`MAX_VALUES`, which stops "billion laughs"
alias bombs early).
"""

from __future__ import annotations

import hashlib
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Problem, ScenarioError
from .messages import KeyPath, describe, format_path, kind_of

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_VALUES",
    "Document",
    "from_mapping",
    "parse_text",
    "read_file",
]

MAX_FILE_BYTES = 1_000_000
"""Largest scenario file read (bytes). Realistic scenarios are well under 100 kB."""
MAX_NODES = 50_000
"""Most values (scalars, lists, mappings) a file may write, aliases counted once: about
100 times the largest shipped scenario, and about 2 s of parsing."""
MAX_VALUES = 250_000
"""Most values (scalars, lists, mappings) a document may hold once aliases are expanded."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings (scenarios need about 8 levels)."""

SCENARIO_KEYS = "name, horizon_days and products"
"""The keys a scenario must have, named when a file is empty or not a mapping."""
EMPTY_MESSAGE = f"file is empty; expected a mapping with at least {SCENARIO_KEYS}"

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}


@dataclass(frozen=True)
class Document:
    """Plain data read from a scenario file or mapping, with positions.

    Attributes
    ----------
    data : dict
        The top-level mapping as plain Python data.
    positions : dict
        Key path -> (line, column), 1-based, for every mapping key and list item
        (empty for data that did not come from a file). ``()`` is the document start.
    file : str or None
        Name of the file (as given), None for a mapping.
    sha256 : str or None
        SHA-256 of the file's bytes, None for a mapping.
    """

    data: dict[str, Any]
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict, repr=False)
    file: str | None = None
    sha256: str | None = None


def read_file(
    path: str | Path, *, max_bytes: int = MAX_FILE_BYTES, required: str = SCENARIO_KEYS
) -> Document:
    """Read and safely parse a YAML scenario file (or another disruptsim input file:
    ``required`` names its required keys in the messages for an empty file or one that
    is not a mapping).

    Raises
    ------
    OSError
        If the file cannot be read.
    ScenarioError
        If it is too large, not UTF-8, not valid YAML, or not a mapping.
    """
    name = str(path)
    with open(path, "rb") as stream:  # OSError is the caller's to report
        raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        try:
            size = f"{Path(path).stat().st_size:,} bytes"
        except OSError:  # pragma: no cover - vanished meanwhile
            size = f"more than {max_bytes:,} bytes"
        if size == "0 bytes":  # a device or pipe with no size
            size = f"more than {max_bytes:,} bytes"
        raise ScenarioError(
            Problem(name, None, None, "", f"file is {size}; the limit is {max_bytes:,} bytes")
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _line_column(raw, error.start)
        message = f"file is not UTF-8 text (byte 0x{raw[error.start]:02x} cannot be decoded)"
        raise ScenarioError(Problem(name, line, column, "", message)) from None
    document = parse_text(text, file=name, required=required)
    return Document(document.data, document.positions, name, hashlib.sha256(raw).hexdigest())


def parse_text(
    text: str,
    *,
    file: str | None = None,
    max_values: int = MAX_VALUES,
    required: str = SCENARIO_KEYS,
) -> Document:
    """Safely parse YAML text holding one mapping (see :func:`read_file`)."""
    _prescan(text, file)
    yaml = YAML(typ="safe", pure=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a reused anchor: legal YAML
            root = yaml.compose(text)
    except MarkedYAMLError as error:
        raise ScenarioError(_syntax_problem(error, file)) from None
    except YAMLError as error:
        line = column = None
        position = getattr(error, "position", None)
        if isinstance(position, int):
            line, column = _line_column(text, position)
        raise ScenarioError(Problem(file, line, column, "", f"invalid YAML: {error}")) from None
    except RecursionError:
        message = f"invalid YAML: nesting is too deep; the limit is {MAX_DEPTH} levels"
        raise ScenarioError(Problem(file, None, None, "", message)) from None
    if root is None or (isinstance(root, ScalarNode) and root.tag == _CORE + "null"):
        message = f"file is empty; expected a mapping with at least {required}"
        raise ScenarioError(Problem(file, None, None, "", message))
    converter = _NodeConverter(file, max_values)
    converter.required = required
    data = converter.convert(root)
    return Document(data, converter.positions, file, None)


def _prescan(text: str, file: str | None, max_nodes: int = MAX_NODES) -> None:
    """Refuse, quickly and with a position, a document with too many values or too deep
    a nesting, before the slow (and recursive) composition.

    Uses libyaml's event parser through PyYAML when it is built with it; a syntax error
    here is left to the full parse, which reports it in its own words.
    """
    import yaml as pyyaml

    if not getattr(pyyaml, "__with_libyaml__", False):  # pragma: no cover - no libyaml
        return
    starts = (pyyaml.SequenceStartEvent, pyyaml.MappingStartEvent)
    ends = (pyyaml.SequenceEndEvent, pyyaml.MappingEndEvent)
    nodes = depth = 0
    try:
        for event in pyyaml.parse(text, Loader=pyyaml.CSafeLoader):
            if isinstance(event, ends):
                depth -= 1
                continue
            if isinstance(event, starts):
                depth += 1
                if depth > MAX_DEPTH:
                    message = f"nesting is too deep; the limit is {MAX_DEPTH} levels"
                    raise ScenarioError(_event_problem(file, event, message))
            elif not isinstance(event, pyyaml.ScalarEvent | pyyaml.AliasEvent):
                continue
            nodes += 1
            if nodes > max_nodes:
                message = (
                    f"the document holds more than {max_nodes:,} values; the limit is "
                    f"{max_nodes:,} (scenarios hold a few hundred)"
                )
                raise ScenarioError(_event_problem(file, event, message))
    except pyyaml.MarkedYAMLError as error:
        mark = error.problem_mark
        if "nesting depth" in str(error.problem) and mark is not None:  # libyaml stops at 1000
            message = f"nesting is too deep; the limit is {MAX_DEPTH} levels"
            raise ScenarioError(
                Problem(file, mark.line + 1, mark.column + 1, "", message)
            ) from None
    except pyyaml.YAMLError:
        pass  # reported by the full parse


def _event_problem(file: str | None, event: Any, message: str) -> Problem:
    mark = event.start_mark
    return Problem(file, mark.line + 1, mark.column + 1, "", message)


def from_mapping(mapping: Mapping[str, Any], *, max_values: int = MAX_VALUES) -> Document:
    """Plain deep copy of a mapping given in Python, checked like a parsed file."""
    converter = _ObjectConverter(max_values)
    data = converter.convert(mapping)
    return Document(data, {}, None, None)


# -- YAML nodes ---------------------------------------------------------------------------


def _line_column(text: str | bytes, index: int) -> tuple[int, int]:
    newline = "\n" if isinstance(text, str) else b"\n"
    line = text.count(newline, 0, index) + 1
    column = index - (text.rfind(newline, 0, index) + 1) + 1
    return line, column


def _syntax_problem(error: MarkedYAMLError, file: str | None) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    problem = error.problem or error.context or "unreadable YAML"
    message = f"invalid YAML: {problem}"
    if error.problem and error.context:
        cmark = error.context_mark
        if cmark is not None and cmark is not mark:
            message += f" ({error.context} at line {cmark.line + 1}, column {cmark.column + 1})"
        else:
            message += f" ({error.context})"
    return Problem(file, line, column, "", message)


def _short_tag(tag: Any) -> str:
    tag = str(tag)
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


class _Stop(Exception):
    """Conversion cannot go on (limit reached); the problem is already recorded."""


class _Converter:
    """Shared bookkeeping: value count, nesting depth, recursion, problems."""

    required = SCENARIO_KEYS

    def __init__(self, file: str | None, max_values: int):
        self.file = file
        self.max_values = max_values
        self.count = 0
        self.positions: dict[KeyPath, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self._active: set[int] = set()

    def problem(self, path: KeyPath, message: str, mark: Any = None) -> None:
        if mark is not None:
            line, column = mark.line + 1, mark.column + 1
        else:
            line, column = self.position(path)
        self.problems.append(Problem(self.file, line, column, format_path(path), message))

    def position(self, path: KeyPath) -> tuple[int | None, int | None]:
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return None, None

    def enter(self, obj: Any, path: KeyPath, mark: Any = None) -> None:
        self.count += 1
        if self.count > self.max_values:
            message = (
                f"the document holds more than {self.max_values:,} values"
                f"{self.expansion_hint()}; the limit is {self.max_values:,}"
            )
            self.problem(path, message, mark)
            raise _Stop
        if len(path) > MAX_DEPTH:
            self.problem(path, f"nesting is too deep; the limit is {MAX_DEPTH} levels", mark)
            raise _Stop
        if id(obj) in self._active:
            self.problem(path, self.recursion_message(obj), mark)
            raise _Stop
        self._active.add(id(obj))

    def leave(self, obj: Any) -> None:
        self._active.discard(id(obj))

    def expansion_hint(self) -> str:
        return ""

    def recursion_message(self, obj: Any) -> str:
        return "value contains itself"

    def finish(self, data: Any) -> dict[str, Any]:
        if self.problems:
            raise ScenarioError(self.problems)
        if not isinstance(data, dict):
            message = (
                f"expected a mapping at the top level (with {self.required}), "
                f"found {describe(data)}"
            )
            line, column = self.positions.get((), (None, None))
            raise ScenarioError(Problem(self.file, line, column, "", message))
        return data


class _NodeConverter(_Converter):
    """Composed YAML nodes -> plain data, refusing every non-core tag."""

    def __init__(self, file: str | None, max_values: int):
        super().__init__(file, max_values)
        self._constructor = YAML(typ="safe", pure=True).constructor
        self._seen: set[int] = set()
        self._aliases: list[str] = []

    def convert(self, root: Node) -> dict[str, Any]:
        self.positions[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
        try:
            data = self.node(root, ())
        except _Stop:
            raise ScenarioError(self.problems) from None
        return self.finish(data)

    def expansion_hint(self) -> str:
        if not self._aliases:
            return ""
        names = ", ".join(f"*{a}" for a in self._aliases[:3])
        return f" once aliases ({names}{', ...' if len(self._aliases) > 3 else ''}) are expanded"

    def recursion_message(self, node: Any) -> str:
        anchor = getattr(node, "anchor", None)
        return f"alias *{anchor} refers to a value that contains it (a recursive alias)"

    def node(self, node: Node, path: KeyPath) -> Any:
        if id(node) in self._seen and node.anchor and node.anchor not in self._aliases:
            self._aliases.append(node.anchor)
        self._seen.add(id(node))
        self.enter(node, path, node.start_mark)
        try:
            if isinstance(node, ScalarNode):
                return self.scalar(node, path)
            if isinstance(node, SequenceNode):
                return self.sequence(node, path)
            return self.mapping(node, path)
        finally:
            self.leave(node)

    def bad_tag(self, node: Node, path: KeyPath) -> None:
        self.problem(
            path,
            f"tag {_short_tag(node.tag)!r} is not allowed: a scenario holds only mappings, "
            "lists, strings, numbers, true/false and null (nothing is constructed or run)",
            node.start_mark,
        )

    def scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        tag = str(node.tag)
        if tag not in _SCALAR_TAGS:
            self.bad_tag(node, path)
            return None
        kind = tag[len(_CORE) :]
        if kind in ("str", "timestamp"):  # dates stay text: no field is a date
            return str(node.value)
        c = self._constructor
        build = {
            "int": c.construct_yaml_int,
            "float": c.construct_yaml_float,
            "bool": c.construct_yaml_bool,
            "null": c.construct_yaml_null,
        }[kind]
        try:
            return build(node)
        except Exception:  # explicit tag on text that is not of that kind, e.g. !!int abc
            self.problem(path, f"cannot read {node.value!r} as {_short_tag(tag)}", node.start_mark)
            return None

    def sequence(self, node: SequenceNode, path: KeyPath) -> list[Any]:
        if str(node.tag) != _CORE + "seq":
            self.bad_tag(node, path)
            return []
        out = []
        for index, item in enumerate(node.value):
            self.positions[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            out.append(self.node(item, (*path, index)))
        return out

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        if str(node.tag) != _CORE + "map":
            self.bad_tag(node, path)
            return {}
        pairs: list[tuple[Node, Node]] = list(node.value)
        own: dict[str, Node] = {}
        first_line: dict[str, int] = {}
        for key_node, _ in pairs:
            if str(key_node.tag) == _CORE + "merge":
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            if key in own:
                self.problem(
                    (*path, key),
                    f"duplicate key {key!r} (first at line {first_line[key]})",
                    key_node.start_mark,
                )
                continue
            own[key] = key_node
            first_line[key] = key_node.start_mark.line + 1
        # Merged mappings first, so that the positions of the mapping's own keys win.
        merges = {
            id(value_node): self.merged(value_node, path)
            for key_node, value_node in pairs
            if str(key_node.tag) == _CORE + "merge"
        }
        out: dict[str, Any] = {}
        for key_node, value_node in pairs:
            if str(key_node.tag) == _CORE + "merge":
                for key, value in merges[id(value_node)].items():
                    if key not in own and key not in out:
                        out[key] = value
                continue
            key = self.key(key_node, path, report=False)
            if key is None or own.get(key) is not key_node:
                continue
            self.positions[(*path, key)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            out[key] = self.node(value_node, (*path, key))
        return out

    def key(self, node: Node, path: KeyPath, report: bool = True) -> str | None:
        if isinstance(node, ScalarNode) and str(node.tag) in (_CORE + "str", _CORE + "timestamp"):
            return str(node.value)
        if report:
            if isinstance(node, ScalarNode) and str(node.tag) in _SCALAR_TAGS:
                value = self.scalar(node, path)
                message = (
                    f"a key must be a string, found {describe(value)}; "
                    f"put it in quotes: '{node.value}'"
                )
            elif isinstance(node, ScalarNode):
                message = f"a key must be a string, found a tagged value {_short_tag(node.tag)!r}"
            else:
                message = f"a key must be a string, found {kind_of([] if isinstance(node, SequenceNode) else {})}"
            self.problem(path, message, node.start_mark)
        return None

    def merged(self, node: Node, path: KeyPath) -> dict[str, Any]:
        """The keys a merge key ``<<`` brings in (earlier mappings take precedence)."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        out: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problem(
                    path, "merge key '<<' expects a mapping or a list of mappings", node.start_mark
                )
                continue
            for key, value in self.node(source, path).items():
                out.setdefault(key, value)
        return out


# -- Python objects -----------------------------------------------------------------------


class _ObjectConverter(_Converter):
    """A mapping given in Python -> plain data (deep copy, same limits as a file)."""

    def __init__(self, max_values: int):
        super().__init__(None, max_values)

    def convert(self, mapping: Any) -> dict[str, Any]:
        try:
            data = self.value(mapping, ())
        except _Stop:
            raise ScenarioError(self.problems) from None
        return self.finish(data)

    def value(self, obj: Any, path: KeyPath) -> Any:
        if obj is None or isinstance(obj, bool | str):
            return obj
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, numbers.Real):
            return float(obj)
        if isinstance(obj, Mapping):
            self.enter(obj, path)
            try:
                out = {}
                for key, item in obj.items():
                    if not isinstance(key, str):
                        self.problem(path, f"a key must be a string, found {describe(key)}")
                        continue
                    out[key] = self.value(item, (*path, key))
                return out
            finally:
                self.leave(obj)
        if isinstance(obj, list | tuple):
            self.enter(obj, path)
            try:
                return [self.value(item, (*path, i)) for i, item in enumerate(obj)]
            finally:
                self.leave(obj)
        self.problem(
            path,
            f"unsupported value of type {type(obj).__name__}; expected a mapping, list, "
            "string, number, boolean or None",
        )
        return None
