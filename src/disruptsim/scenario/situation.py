"""Typed models of the situation format: the state of the world today (docs/scenario-reference.md).

A situation is a file of its own or a ``situation:`` block inside a scenario. These models
check types, ranges and unknown keys only; the checks against the scenario (known products
and hazards, days before today, stocks within their targets) are made by
:func:`disruptsim.load_situation`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .schema import CountryMultipliers, NonNegative, _Model

Day = Annotated[int, Field(ge=0)]
REACTIVE_KINDS = ("diversification", "substitution")


class StockLevel(_Model):
    """A stock level today: in days of the product's requirement, or in units."""

    days: NonNegative | None = None
    units: NonNegative | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.days is None) == (self.units is None):
            raise ValueError("expected exactly one of days or units")
        return self


class SituationEventSpec(_Model):
    """An event in force today: a hazard of the scenario by name, or an explicit shock."""

    hazard: str | None = None
    countries: CountryMultipliers | None = None
    products: Annotated[tuple[str, ...], Field(strict=False)] | None = None
    started_day: Day
    severity: NonNegative | None = None
    ends_day: Day | None = None
    recovery_days: NonNegative | None = None

    @model_validator(mode="after")
    def _kind(self):
        if self.hazard is None and self.countries is None:
            raise ValueError("expected hazard (a hazard's name) or countries (an explicit shock)")
        if self.hazard is not None and (self.countries is not None or self.products is not None):
            raise ValueError(
                "a hazard's event takes its countries and products from the hazard; "
                "give either hazard or countries/products"
            )
        return self


class SituationFile(_Model):
    """The top level of a situation (file or ``situation:`` block)."""

    day: Day
    decided_day: Day | None = None
    events: Annotated[tuple[SituationEventSpec, ...], Field(strict=False)] = ()
    stocks: dict[str, StockLevel] = Field(default_factory=dict)
    disrupted_since: dict[str, Day] = Field(default_factory=dict)
    qualified: dict[str, dict[Literal["diversification", "substitution"], Day | None]] = Field(
        default_factory=dict
    )
