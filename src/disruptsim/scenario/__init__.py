"""Scenario files: schema, safe YAML loading with positions, validation, strategies."""

from .frozen import FrozenDict, thaw
from .loader import deep_merge, load_scenario
from .model import Scenario, Strategy
from .schema import (
    STRATEGY_KEYS,
    Defaults,
    Hazard,
    Product,
    Reactive,
    Reshoring,
    ScenarioFile,
    Shock,
    Source,
    Stockpile,
    World,
)

__all__ = [
    "STRATEGY_KEYS",
    "Defaults",
    "FrozenDict",
    "Hazard",
    "Product",
    "Reactive",
    "Reshoring",
    "Scenario",
    "ScenarioFile",
    "Shock",
    "Source",
    "Stockpile",
    "Strategy",
    "World",
    "deep_merge",
    "load_scenario",
    "thaw",
]
