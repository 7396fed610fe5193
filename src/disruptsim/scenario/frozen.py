"""Read-only containers for the resolved scenario.

:class:`FrozenDict` is a :class:`dict` that refuses every change. Being a real dict
subclass, pydantic validates and serialises it like any dict, and it pickles (for
worker processes); unlike :class:`types.MappingProxyType` it cannot be changed through
a hidden reference. Lists become tuples. :func:`thaw` gives back plain, mutable data
(for writing YAML, for instance).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from pydantic import BaseModel

__all__ = ["FrozenDict", "freeze", "freeze_model", "thaw"]


class FrozenDict(dict):
    """A dict that cannot be changed (``TypeError`` on every mutating method)."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("this mapping is read-only (part of a validated, immutable scenario)")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self):
        return (type(self), (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __repr__(self) -> str:
        return dict.__repr__(self)


def freeze(value: Any) -> Any:
    """Deep read-only copy: mappings become :class:`FrozenDict`, lists become tuples."""
    if isinstance(value, BaseModel):
        return freeze_model(value)
    if isinstance(value, Mapping):
        return FrozenDict((k, freeze(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def freeze_model(model: BaseModel) -> BaseModel:
    """Copy of a frozen pydantic model whose dict fields are :class:`FrozenDict`."""
    update = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        frozen = freeze(value)
        if frozen is not value:
            update[name] = frozen
    return model.model_copy(update=update) if update else model


def thaw(value: Any) -> Any:
    """Deep plain copy: mappings become dicts and tuples become lists."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value
