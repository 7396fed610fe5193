"""Typed, frozen models of the scenario format (``docs/scenario-reference.md``).

These models check types, ranges and unknown keys. Checks that need the whole
scenario (shares summing to one, known products and countries, cycles in the
bill of materials, strategies) live in :mod:`disruptsim.scenario.checks`.
Units: days, units of product, euros.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .distributions import Distribution


def _number_as_fixed(value: Any) -> Any:
    """Read a plain number as a fixed distribution."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "fixed", "value": float(value)}
    return value


def _countries_as_mapping(value: Any) -> Any:
    """Read a list of countries as a mapping country -> severity multiplier 1."""
    if isinstance(value, list | tuple):
        return {str(c): 1.0 for c in value}
    return value


def _share_as_source(value: Any) -> Any:
    """Read a plain number as a source with that share."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"share": float(value)}
    return value


DistributionOrNumber = Annotated[
    Distribution, BeforeValidator(_number_as_fixed, json_schema_input_type=float | Distribution)
]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
CountryMultipliers = Annotated[
    dict[str, NonNegative],
    BeforeValidator(
        _countries_as_mapping, json_schema_input_type=list[str] | dict[str, NonNegative]
    ),
    Field(min_length=1),
]
Exposure = dict[str, NonNegative]
"""Mapping country -> weight (weights sum to 1): where a supply really comes from."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


class Defaults(_Model):
    """Scenario-wide defaults."""

    shortage_cost_multiplier: NonNegative = 3.0
    """Shortage cost per unit = multiplier x unit_value, unless set per product."""
    holding_cost_rate: NonNegative = 0.10
    """Per year, fraction of the stock's value."""


class Hazard(_Model):
    """A stochastic shock sampled in every Monte Carlo run."""

    name: str
    countries: CountryMultipliers
    products: Annotated[tuple[str, ...], Field(strict=False)] | None = None
    annual_probability: Probability
    severity: DistributionOrNumber
    duration_days: DistributionOrNumber
    recovery_days: NonNegative = 0.0
    description: str = ""


class Shock(_Model):
    """A deterministic event present in every run (stress test)."""

    name: str = ""
    countries: CountryMultipliers
    products: Annotated[tuple[str, ...], Field(strict=False)] | None = None
    start_day: Annotated[int, Field(ge=0)]
    duration_days: Annotated[int, Field(ge=1)]
    severity: NonNegative
    recovery_days: NonNegative = 0.0
    description: str = ""


class Source(_Model):
    """One supplier of a product in the baseline (or a strategy's) supply mix."""

    share: Probability
    exposure: Exposure | None = None
    unit_cost_premium: NonNegative = 0.0


class Stockpile(_Model):
    """A strategic stock of the product, starting full."""

    initial_days: NonNegative
    max_release_days_per_day: NonNegative = 1.0
    refill_days_per_day: NonNegative = 0.1
    fixed_cost: NonNegative = 0.0
    holding_cost_rate: NonNegative | None = None


class Reactive(_Model):
    """Reactive emergency supply (diversification or substitution)."""

    lag_days: NonNegative = 0.0
    ramp_days: NonNegative = 0.0
    max_share: Probability
    unit_cost_premium: NonNegative = 0.0
    success_probability: Probability = 1.0
    exposure: Exposure | None = None
    fixed_cost: NonNegative = 0.0


class Reshoring(_Model):
    """Domestic capacity built from day 0, replacing part of one source."""

    from_: str = Field(alias="from")
    share: Probability
    build_days: NonNegative
    ramp_days: NonNegative = 0.0
    capex: NonNegative = 0.0
    unit_cost_premium: NonNegative = 0.0


class Recycling(_Model):
    """A domestic secondary source (docs/model.md, "Recycling"): capacity ramping to
    ``share`` of requirement from day ``build_days``, exposed to home hazards only."""

    share: Probability
    build_days: NonNegative = 0.0
    ramp_days: NonNegative = 0.0
    capex: NonNegative = 0.0
    unit_cost_premium: NonNegative = 0.0


class DemandRestraint(_Model):
    """Reactive lowering of the product's final demand (docs/model.md, "Demand restraint").

    Decided on the product's first disruption, in force from ``max(1, lag_days)`` days
    later for ``duration_days`` (default: to the horizon), ramping to ``max_share`` of final
    demand over ``ramp_days``; each unit forgone costs ``unit_cost`` euros, or
    ``unit_cost_relative`` times ``unit_value`` (one of the two; below the shortage cost).
    """

    lag_days: NonNegative = 1.0
    ramp_days: NonNegative = 0.0
    max_share: Probability
    duration_days: NonNegative | None = None
    unit_cost: NonNegative | None = None
    unit_cost_relative: NonNegative | None = None


SourceOrShare = Annotated[
    Source, BeforeValidator(_share_as_source, json_schema_input_type=Probability | Source)
]


class Product(_Model):
    """A good in the value chain."""

    unit: str
    unit_value: NonNegative
    final_demand_per_day: NonNegative = 0.0
    shortage_cost_per_unit: NonNegative | None = None
    holding_cost_rate: NonNegative | None = None
    sources: Annotated[dict[str, SourceOrShare], Field(min_length=1)]
    inputs: dict[str, NonNegative] = Field(default_factory=dict)
    stockpile: Stockpile | None = None
    diversification: Reactive | None = None
    substitution: Reactive | None = None
    reshoring: Reshoring | None = None
    demand_restraint: DemandRestraint | None = None
    recycling: Recycling | None = None
    description: str = ""


class World(_Model):
    """Everything a strategy can change: the part of a scenario that is simulated."""

    defaults: Defaults = Field(default_factory=Defaults)
    hazards: Annotated[tuple[Hazard, ...], Field(strict=False)] = ()
    shocks: Annotated[tuple[Shock, ...], Field(strict=False)] = ()
    products: Annotated[dict[str, Product], Field(min_length=1)]


class ScenarioFile(World):
    """The top level of a scenario file."""

    schema_version: Literal[1] = 1
    name: str
    description: str = ""
    home: str = "EU27"
    horizon_days: Annotated[int, Field(ge=1)]
    regions: dict[str, str] = Field(default_factory=dict)
    """Region codes the scenario declares, with a description each (atomic pseudo-countries)."""
    strategies: dict[str, dict[str, Any] | None] = Field(default_factory=lambda: {"baseline": {}})
    situation: dict[str, Any] | None = None
    """The state of the world today, to simulate from (checked by ``disruptsim.load_situation``)."""


STRATEGY_KEYS = ("description", "defaults", "hazards", "shocks", "products")
"""Keys a strategy may override (deep merge over the baseline)."""
