"""Parameter paths of a study: ``products.pv_modules.stockpile.initial_days = 60``.

A *path* names one number of a scenario, as a dotted key path:

- ``products.NAME.KEY...`` (``products.api.stockpile.initial_days``,
  ``products.api.sources.CHN`` for a source's share, ``products.api.reshoring.share``);
- ``hazards.NAME.KEY...`` (hazards by name: ``hazards.cn_export_controls.annual_probability``,
  ``hazards.cn_export_controls.duration_days.median``);
- ``shocks.NAME_OR_INDEX.KEY...`` and ``defaults.KEY``;
- ``strategies.STRATEGY.<one of the above>``: the value inside that strategy only.

A path set on the scenario applies to every strategy that does not set the same key
itself (strategies are deep merges over the scenario, see ``docs/scenario-reference.md``).
Paths are checked against the scenario format before anything runs: a typo gets a
did-you-mean, and a value the scenario format refuses is reported with the path and the
value (:class:`DesignError`, exit status 2 on the command line). See
``docs/design-the-response.md``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..errors import ScenarioError
from ..scenario import load_scenario, thaw
from ..scenario.messages import describe, unknown
from ..scenario.model import Scenario
from ..scenario.schema import Defaults, Hazard, Product, Shock

__all__ = ["DesignError", "ParameterPath", "parse_path", "variant"]

_SECTIONS = ("products", "hazards", "shocks", "defaults", "strategies")


class DesignError(ValueError):
    """A bad path, value or distribution in a sweep, a sizing or a sensitivity study."""


@dataclass(frozen=True)
class ParameterPath:
    """A validated path: where the number lives in the scenario file's data.

    Attributes
    ----------
    text : str
        The path as the user wrote it.
    keys : tuple
        Keys into the scenario data (list positions as integers).
    share_of_source : bool
        The path ends at a source (its share): a source written as a mapping gets its
        ``share`` set.
    """

    text: str
    keys: tuple[Any, ...]
    share_of_source: bool = False

    def __str__(self) -> str:
        return self.text


def _unwrap(annotation: Any) -> tuple[str, Any]:
    """What a field holds: ``("model", cls)``, ``("mapping", value annotation)`` or ``("leaf", None)``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [_unwrap(a) for a in typing.get_args(annotation) if a is not type(None)]
        for kind in kinds:
            if kind[0] != "leaf":
                return kind
        return ("leaf", None)
    if origin is dict:
        return ("mapping", typing.get_args(annotation)[1])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if "dist" in annotation.model_fields or annotation.__name__.endswith("Dist"):
            return ("leaf", None)
        return ("model", annotation)
    return ("leaf", None)


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """Field annotations by the name users write (aliases: ``from``)."""
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def _named(items: Any, key: str, what: str, text: str) -> int:
    """Position of the item called ``key`` in a list of named mappings (or ``key`` as an index)."""
    items = items if isinstance(items, list) else []
    names = [i.get("name") if isinstance(i, dict) else None for i in items]
    if key in names:
        return names.index(key)
    if key.isdigit() and int(key) < len(items):
        return int(key)
    known = [n for n in names if isinstance(n, str) and n]
    raise DesignError(f"{text}: {unknown(what, key, known)}")


def parse_path(scenario: Scenario, text: str) -> ParameterPath:
    """Check a path against a scenario and the scenario format.

    Parameters
    ----------
    scenario : Scenario
        The scenario the path refers to.
    text : str
        A dotted path such as ``products.api.stockpile.initial_days``.

    Returns
    -------
    ParameterPath

    Raises
    ------
    DesignError
        Unknown section, product, hazard, source or key (with a did-you-mean), or a path
        that does not end at a number.
    """
    if not isinstance(text, str) or not text.strip():
        raise DesignError(
            f"expected a parameter path such as 'products.NAME.stockpile.initial_days', found {describe(text)}"
        )
    data = thaw(scenario.data)
    parts = text.strip().split(".")
    keys: list[Any] = []
    node: Any = data
    if parts[0] == "strategies":
        if len(parts) < 3:
            raise DesignError(
                f"{text}: expected strategies.STRATEGY.<path>, e.g. strategies.stock.products.NAME.stockpile.initial_days"
            )
        name = parts[1]
        names = [s for s in scenario.strategy_names if s != "baseline"]
        if name not in names:
            if name == "baseline":
                raise DesignError(
                    f"{text}: the baseline is the scenario itself: drop 'strategies.baseline.' from the path"
                )
            raise DesignError(f"{text}: {unknown('strategy', name, names)}")
        keys = ["strategies", name]
        node = (data.get("strategies") or {}).get(name) or {}
        parts = parts[2:]
    section = parts[0]
    if section not in _SECTIONS[:-1]:
        if section in ("horizon_days", "home", "name"):
            raise DesignError(
                f"{text}: {section!r} cannot vary: every variant of a study simulates the same days and home region"
            )
        raise DesignError(f"{text}: {unknown('section', section, _SECTIONS[:-1])}")
    keys.append(section)
    rest = parts[1:]
    model: type[BaseModel]
    base = data
    if section == "defaults":
        model = Defaults
    else:
        if not rest:
            raise DesignError(f"{text}: expected {section}.NAME.<key>")
        key, rest = rest[0], rest[1:]
        if section == "products":
            products = scenario.baseline.products
            if key not in products:
                raise DesignError(f"{text}: {unknown('product', key, list(products))}")
            keys.append(key)
            model = Product
        else:
            listed = node.get(section) if isinstance(node, dict) else None
            if keys[0] == "strategies" and section == "hazards" and not isinstance(listed, list):
                # a strategy patches hazards by name: strategies.S.hazards.NAME.key
                _named(base.get("hazards"), key, "hazard", text)
                keys.append(key)
            else:
                source = listed if isinstance(listed, list) else base.get(section)
                keys.append(_named(source, key, section[:-1], text))
            model = Hazard if section == "hazards" else Shock
    share = False
    while rest:
        key, rest = rest[0], rest[1:]
        fields = _fields(model)
        if key not in fields:
            raise DesignError(f"{text}: {unknown('key', key, list(fields))}")
        keys.append(key)
        kind, inner = _unwrap(fields[key])
        if kind == "model":
            model = inner
            continue
        if kind == "mapping":
            if key != "sources":
                raise DesignError(
                    f"{text}: {key!r} is a mapping of weights; vary one of its numbers in a strategy instead"
                )
            if not rest:
                raise DesignError(f"{text}: expected sources.CODE (the share of a source)")
            code, rest = rest[0], rest[1:]
            product = scenario.baseline.products[keys[keys.index("products") + 1]]
            if code not in product.sources:
                raise DesignError(f"{text}: {unknown('source', code, list(product.sources))}")
            keys.append(code)
            from ..scenario.schema import Source

            model = Source
            share = not rest
            continue
        # a leaf: a number, or a distribution whose parameter follows
        if rest:
            if key in ("severity", "duration_days"):
                keys.extend(rest)
                rest = []
                break
            raise DesignError(f"{text}: {key!r} is a number; nothing follows it")
        break
    else:
        if not share:
            raise DesignError(
                f"{text}: ends at a group of keys; name one number, e.g. {text}.{next(iter(_fields(model)))}"
            )
    return ParameterPath(text.strip(), tuple(keys), share)


def _set(data: dict[str, Any], path: ParameterPath, value: Any) -> None:
    node: Any = data
    previous: Any = None
    for key in path.keys[:-1]:
        if isinstance(node, list):
            node, previous = node[key], key
            continue
        nxt = node.get(key)
        if nxt is None:
            nxt = node[key] = {}
        elif isinstance(nxt, int | float) and not isinstance(nxt, bool):
            if previous == "sources":  # a source written as its share
                nxt = node[key] = {"share": nxt}
            else:  # a number written for a distribution: its parameters cannot vary
                raise DesignError(
                    f"{path.text}: {key!r} is a fixed number ({nxt:g}) in the scenario, not a "
                    f"distribution; vary {'.'.join(path.text.split('.')[:-1])} itself"
                )
        node, previous = nxt, key
    last = path.keys[-1]
    if path.share_of_source and isinstance(node.get(last), dict):
        node[last]["share"] = value
    else:
        node[last] = value  # a number replaces a whole distribution too


def variant(scenario: Scenario, values: Mapping[ParameterPath, Any]) -> Scenario:
    """The scenario with every path set to its value, validated like a scenario file.

    Raises
    ------
    DesignError
        A value the scenario format refuses, with the paths and values of the variant.
    """
    if not values:
        return scenario
    data = thaw(scenario.data)
    for path, value in values.items():
        _set(data, path, _plain(value))
    try:
        out = load_scenario(data)
    except ScenarioError as error:
        setting = ", ".join(f"{p}={_plain(v)!r}" for p, v in values.items())
        lines = [f"{p.path}: {p.message}" if p.path else p.message for p in error.problems]
        raise DesignError(
            f"the variant {setting} is not a valid scenario: " + "; ".join(lines)
        ) from None
    return _relocated(out, scenario)


def _plain(value: Any) -> Any:
    """NumPy scalars as Python numbers (the scenario format is strict about types)."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    return value


def _relocated(variant_scenario: Scenario, base: Scenario) -> Scenario:
    """Keep the base scenario's file and hash on a variant (for reports and manifests)."""
    from dataclasses import replace

    return replace(variant_scenario, path=base.path, sha256=base.sha256)


def parse_values(text: str, what: str) -> list[float]:
    """``"0,30,60"`` -> ``[0.0, 30.0, 60.0]`` (the values of ``--set PATH=V1,V2``)."""
    out = []
    for item in text.split(","):
        item = item.strip()
        try:
            out.append(float(item))
        except ValueError:
            raise DesignError(
                f"{what}: expected numbers separated by commas, found {item!r}"
            ) from None
        if out[-1] != out[-1] or out[-1] in (float("inf"), float("-inf")):
            raise DesignError(f"{what}: expected finite numbers, found {item!r}")
    return out


def values_of(settings: Sequence[str]) -> dict[str, list[float]]:
    """``["PATH=V1,V2", ...]`` -> ``{PATH: [V1, V2]}`` (command-line ``--set``)."""
    out: dict[str, list[float]] = {}
    for setting in settings:
        path, sep, values = setting.partition("=")
        if not sep or not path.strip() or not values.strip():
            raise DesignError(
                f"--set {setting!r}: expected PATH=V1,V2,... e.g. products.api.stockpile.initial_days=0,30,60"
            )
        if path.strip() in out:
            raise DesignError(f"--set: {path.strip()!r} is given twice")
        out[path.strip()] = parse_values(values, f"--set {path.strip()}")
    return out
