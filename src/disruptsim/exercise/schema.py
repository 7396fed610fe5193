"""Typed models of the exercise file (``docs/exercise.md``).

These models check types, ranges and unknown keys. The checks against the scenario
(known products, hazards and countries, decision menus that give a valid world, injects
within the exercise's turns) are made by :func:`disruptsim.exercise.loader.load_exercise`.
Units: days, euros.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from ..scenario.schema import CountryMultipliers, NonNegative, _Model

__all__ = [
    "LEVERS",
    "DecisionSpec",
    "DemandChange",
    "Effect",
    "ExerciseFile",
    "InjectSpec",
    "StoryShock",
    "Truth",
]

Day = Annotated[int, Field(ge=0)]
Text = Annotated[str, Field(max_length=20_000)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]

LEVERS = (
    "stock_release",
    "stock_target",
    "diversification",
    "joint_purchase",
    "substitution",
    "demand_restraint",
    "reshoring",
)
"""Levers a decision can pull (see :mod:`disruptsim.exercise.levers`)."""


class StoryShock(_Model):
    """A scripted shock of the realised future (the storyline), or an inject's effect.

    Either ``hazard`` (one of the scenario's hazards: its countries and products, and
    participants do not know its end, which the look-ahead draws from the hazard's
    duration distribution) or ``countries`` (an explicit shock, whose end participants
    are told: ``public_end`` must then be true).
    """

    name: str = ""
    hazard: str | None = None
    countries: CountryMultipliers | None = None
    products: Annotated[tuple[str, ...], Field(strict=False)] | None = None
    start_day: Day | None = None
    duration_days: Annotated[int, Field(ge=1)]
    severity: NonNegative
    recovery_days: NonNegative | None = None
    public_end: bool = False

    @model_validator(mode="after")
    def _kind(self):
        if (self.hazard is None) == (self.countries is None):
            raise ValueError("expected exactly one of hazard (a hazard's name) or countries")
        if self.hazard is not None and self.products is not None:
            raise ValueError("a hazard's shock takes its products from the hazard; drop products")
        return self


class DemandChange(_Model):
    """A change of a product's final demand from the inject's day on."""

    product: str
    factor: Annotated[float, Field(gt=0.0, le=100.0)]


class Effect(_Model):
    """What an inject changes in the realised future: a shock or a demand change."""

    shock: StoryShock | None = None
    demand: DemandChange | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.shock is None) == (self.demand is None):
            raise ValueError("expected exactly one of shock or demand (or effect: none)")
        return self


def _none_as_null(value: Any) -> Any:
    return None if value == "none" else value


class InjectSpec(_Model):
    """One inject of the master scenario events list (MSEL)."""

    id: Identifier
    turn: Annotated[int, Field(ge=1)] | None = None
    day: Day | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)]
    narrative: Text
    effect: Effect | Literal["none"] | None = None
    hidden: Text = ""
    expected_action: Text = ""
    expected_decisions: Annotated[tuple[str, ...], Field(strict=False)] = ()
    evaluator_notes: Text = ""

    @model_validator(mode="after")
    def _when(self):
        if (self.turn is None) == (self.day is None):
            raise ValueError("expected exactly one of turn or day")
        return self

    @property
    def change(self) -> Effect | None:
        """The effect, None for information only."""
        return None if self.effect == "none" else self.effect


class DecisionSpec(_Model):
    """One entry of the decision menu: a lever with its parameters, cost and lead time."""

    id: Identifier
    title: Annotated[str, Field(min_length=1, max_length=200)]
    lever: Literal[LEVERS]  # type: ignore[valid-type]
    product: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    cost: NonNegative = 0.0
    lead_time_days: Day = 0
    description: Text = ""


class Truth(_Model):
    """How the one realised future is made."""

    random_hazards: bool = False
    shocks: Annotated[tuple[StoryShock, ...], Field(strict=False)] = ()


class ExerciseFile(_Model):
    """The top level of an exercise file."""

    schema_version: Literal[1] = 1
    name: Identifier
    title: Annotated[str, Field(max_length=200)] = ""
    description: Text = ""
    scenario: Annotated[str, Field(min_length=1)]
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    turn_days: Annotated[int, Field(ge=1, le=365)]
    turns: Annotated[int, Field(ge=1, le=200)]
    start_date: str | None = None
    objectives: Annotated[tuple[Text, ...], Field(strict=False, min_length=1)]
    truth: Truth = Field(default_factory=Truth)
    injects: Annotated[tuple[InjectSpec, ...], Field(strict=False)] = ()
    decisions: Annotated[tuple[DecisionSpec, ...], Field(strict=False)] = ()
    lookahead_runs: Annotated[int, Field(ge=10, le=1_000_000)] = 2000
    fan_days: Annotated[int, Field(ge=7, le=3650)] = 182
