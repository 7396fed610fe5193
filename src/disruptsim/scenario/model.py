"""The resolved scenario: what :func:`disruptsim.load_scenario` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem
from .schema import World


@dataclass(frozen=True)
class Strategy:
    """One strategy, fully resolved: the baseline with the strategy's overrides merged in.

    Attributes
    ----------
    name : str
        Strategy name (``"baseline"`` for the baseline).
    description : str
        Free text from the scenario file.
    world : World
        The validated products, hazards, shocks and defaults this strategy simulates,
        with every default applied (``shortage_cost_per_unit`` and ``holding_cost_rate``
        filled in on every product).
    """

    name: str
    description: str
    world: World


@dataclass(frozen=True)
class Scenario:
    """A validated, immutable scenario with every strategy resolved.

    Attributes
    ----------
    name, description : str
        From the scenario file.
    home : str
        Region whose supply security is studied; ``domestic`` sources are produced here.
    horizon_days : int
        Number of simulated days.
    regions : Mapping[str, str]
        Region codes the scenario declares (atomic pseudo-countries), with descriptions.
    strategies : Mapping[str, Strategy]
        Every strategy, ``baseline`` first.
    path : Path or None
        File the scenario was read from (None when built from a mapping).
    sha256 : str or None
        SHA-256 of the file's bytes (None when built from a mapping).
    data : Mapping
        The scenario as plain data (the parsed file), for ``scenario.resolved.yaml``.
    situation_positions : Mapping
        Line and column of every key of the file's ``situation:`` block (paths inside
        the block), for the errors of :func:`disruptsim.load_situation`.
    warnings : tuple of Problem
        Legal values that are probably a unit mistake (e.g. a holding cost rate above 1
        per year), each located like an error; ``disruptsim validate`` and ``run`` print
        them. See ``docs/scenario-reference.md``.
    """

    name: str
    description: str
    home: str
    horizon_days: int
    regions: Mapping[str, str]
    strategies: Mapping[str, Strategy]
    path: Path | None = None
    sha256: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)
    situation_positions: Mapping[Any, tuple[int, int]] = field(
        default_factory=dict, repr=False, compare=False
    )
    warnings: tuple[Problem, ...] = field(default=(), repr=False)

    @property
    def situation(self) -> Mapping[str, Any] | None:
        """The file's ``situation:`` block as plain data (None: the scenario has none)."""
        return self.data.get("situation")

    @property
    def baseline(self) -> World:
        """The baseline world."""
        return self.strategies["baseline"].world

    @property
    def strategy_names(self) -> tuple[str, ...]:
        """Strategy names, baseline first."""
        return tuple(self.strategies)

    def world(self, strategy: str = "baseline") -> World:
        """The resolved world of one strategy."""
        try:
            return self.strategies[strategy].world
        except KeyError:
            known = ", ".join(self.strategies)
            raise KeyError(f"unknown strategy {strategy!r}; this scenario has: {known}") from None
