"""Situations: the state of the world today, to simulate from (docs/how-to-situation.md).

A :class:`Situation` says which day it is, which events are in force (with a known or
unknown severity and end), how full the stocks are, since when products are disrupted and
which reactive options are already qualified. :func:`load_situation` reads and checks one
against a scenario (errors with file, line and column, like scenarios); :func:`start_state`
turns it into the kernel's start state of one compiled strategy; the SimPy twin starts
from the same object and exports one (:meth:`disruptsim.model.reference.ReferenceRun.situation`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from pydantic import ValidationError

from ..scenario.bounds import day_issues, magnitude_issues, severity_issues
from ..scenario.checks import Countries, finite_issues
from ..scenario.distributions import Fixed
from ..scenario.frozen import thaw
from ..scenario.loader import Report
from ..scenario.messages import KeyPath, format_number, unknown
from ..scenario.schema import Hazard, World
from ..scenario.schema_errors import schema_issues
from ..scenario.situation import REACTIVE_KINDS, SituationFile
from ..scenario.yamlio import Document, from_mapping, read_file
from .compiler import CompiledModel, compile_strategy

__all__ = ["Situation", "SituationEvent", "StartState", "load_situation", "start_state"]

FAILED = -2
"""Start-state code of a reactive option known not to qualify (``qualified: {kind: null}``)."""
STOCK_TOLERANCE = 1e-9
"""Relative tolerance of the check that a stock is within its target."""


@dataclass(frozen=True)
class SituationEvent:
    """An event in force today, resolved for one strategy's world.

    Attributes
    ----------
    name : str
        The hazard's name, or ``situation event <k>`` for an explicit shock.
    hazard : Hazard or None
        The hazard (None for an explicit shock): its distributions draw an unknown
        severity or end.
    countries : Mapping[str, float]
        Severity multiplier per country.
    products : tuple of str or None
        Products hit (None: every product).
    started_day : int
    severity : float or None
        None: unknown, drawn in every run.
    ends_day : int or None
        First day after the event at full severity; None: unknown, the remaining
        duration is drawn in every run (residual life).
    recovery_days : float
    """

    name: str
    hazard: Hazard | None
    countries: Mapping[str, float]
    products: tuple[str, ...] | None
    started_day: int
    severity: float | None
    ends_day: int | None
    recovery_days: float


@dataclass(frozen=True)
class Situation:
    """The state of the world on day :attr:`day` (see ``docs/scenario-reference.md``).

    Build one with :func:`load_situation` (checked against a scenario), or export one
    from a run of the SimPy twin. Pass it to :func:`disruptsim.simulate`.

    Attributes
    ----------
    day : int
        Today: runs simulate days ``day..T-1``.
    decided_day : int
        Day the strategies are decided (reshoring builds from then); default ``day``.
    events : tuple of dict
        Events in force: ``{"hazard": name}`` or ``{"countries": ..., "products": ...}``,
        with ``started_day``, ``severity`` (None: unknown), ``ends_day`` (None: unknown)
        and ``recovery_days`` (None: the hazard's).
    stocks : Mapping[str, tuple[str, float]]
        Product -> ``("days", value)`` or ``("units", value)``; others are full.
    disrupted_since : Mapping[str, int]
        First-disruption day per product.
    qualified : Mapping[str, Mapping[str, int | None]]
        Product -> ``{"diversification" or "substitution": day, or None if it failed}``.
    """

    day: int
    decided_day: int
    events: tuple[Mapping[str, Any], ...] = ()
    stocks: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    disrupted_since: Mapping[str, int] = field(default_factory=dict)
    qualified: Mapping[str, Mapping[str, int | None]] = field(default_factory=dict)

    def events_for(self, world: World, baseline: World) -> tuple[SituationEvent, ...]:
        """The events in force, resolved for one world (its own hazard of that name if it
        has one, else the baseline's)."""
        out = []
        for k, e in enumerate(self.events):
            name = e.get("hazard")
            hazard = None
            if name is not None:
                hazard = _hazard(world, name) or _hazard(baseline, name)
                assert hazard is not None, "checked by load_situation"
                countries, products = hazard.countries, hazard.products
                recovery = hazard.recovery_days
            else:
                name = f"situation event {k}"
                countries = e["countries"]
                products = None if e.get("products") is None else tuple(e["products"])
                recovery = 0.0
            if e.get("recovery_days") is not None:
                recovery = float(e["recovery_days"])
            out.append(
                SituationEvent(
                    name=name,
                    hazard=hazard,
                    countries=dict(countries),
                    products=products,
                    started_day=int(e["started_day"]),
                    severity=None if e.get("severity") is None else float(e["severity"]),
                    ends_day=None if e.get("ends_day") is None else int(e["ends_day"]),
                    recovery_days=recovery,
                )
            )
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """The situation as plain data, in the file format (YAML- and JSON-ready)."""
        out: dict[str, Any] = {"day": self.day, "decided_day": self.decided_day}
        out["events"] = [
            {k: _plain(v) for k, v in e.items() if v is not None or k in ("severity", "ends_day")}
            for e in self.events
        ]
        out["stocks"] = {p: {kind: _plain(value)} for p, (kind, value) in self.stocks.items()}
        out["disrupted_since"] = dict(self.disrupted_since)
        out["qualified"] = {p: dict(kinds) for p, kinds in self.qualified.items()}
        return out

    def compile(self, scenario, strategy: str) -> CompiledModel:
        """Compile one strategy for this situation (decided on :attr:`decided_day`, with
        the events in force as further event kinds)."""
        world = scenario.world(strategy)
        return compile_strategy(
            scenario,
            strategy,
            decided_day=self.decided_day,
            extra_events=self.events_for(world, scenario.baseline),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _hazard(world: World, name: str) -> Hazard | None:
    return next((h for h in world.hazards if h.name == name), None)


class StartState(NamedTuple):
    """The kernel's start state of one strategy (arrays in the model's product order).

    ``qual[kind, i]``: the day the option is qualified; ``-1``: by the model's rule (on
    ``first + lag`` if the run's success draw succeeds); ``FAILED``: never.
    """

    day: int
    stock: np.ndarray  # f8[P], units
    first: np.ndarray  # i8[P], first-disruption day or -1
    qual: np.ndarray  # i8[2, P]


def start_state(situation: Situation | None, model: CompiledModel) -> StartState:
    """The start state of a compiled strategy: day 0, full stocks (None), or the situation's.

    ``model`` must be compiled for the situation (:meth:`Situation.compile`).
    """
    a = model.arrays
    P = model.n_products
    stock = np.array(a.stock_target, dtype=np.float64)
    first = np.full(P, -1, dtype=np.int64)
    qual = np.full((2, P), -1, dtype=np.int64)
    if situation is None:
        return StartState(0, stock, first, qual)
    day = situation.day
    for i, name in enumerate(model.products):
        if name in situation.stocks and stock[i] > 0.0:
            stock[i] = min(stock[i], stock_units(situation.stocks[name], a.requirement[day, i]))
        first[i] = situation.disrupted_since.get(name, -1)
        for kind, option in enumerate(REACTIVE_KINDS):
            known = situation.qualified.get(name, {})
            if option in known:
                qual[kind, i] = FAILED if known[option] is None else known[option]
    return StartState(day, stock, first, qual)


def stock_units(level: tuple[str, float], requirement_today: float) -> float:
    """A stock level in units (``("days", x)``: x days of today's requirement)."""
    kind, value = level
    return float(value) * requirement_today if kind == "days" else float(value)


# -- loading and checking ------------------------------------------------------------------


def load_situation(source: str | os.PathLike[str] | Mapping[str, Any], scenario) -> Situation:
    """Read a situation and check it against a scenario.

    Parameters
    ----------
    source : str, path-like or Mapping
        A YAML file holding the situation (see ``docs/scenario-reference.md``), or the
        same content as a mapping.
    scenario : Scenario
        The scenario the situation belongs to (from :func:`disruptsim.load_scenario`).

    Returns
    -------
    Situation

    Raises
    ------
    ScenarioError
        With every problem found, each with file, line, column and key path: an event
        that starts after ``day`` or is over, a stock above its target, an unknown product,
        hazard, country or reactive option, ...
    OSError
        If the file cannot be read.

    Examples
    --------
    >>> import disruptsim as ds
    >>> sc = ds.load_scenario("scenarios/solar-pv.yaml")  # doctest: +SKIP
    >>> today = ds.load_situation({"day": 120, "stocks": {"pv_modules": {"days": 12}}}, sc)  # doctest: +SKIP
    >>> result = ds.simulate(sc, runs=1000, seed=1, situation=today)  # doctest: +SKIP
    """
    if isinstance(source, Mapping):
        document = from_mapping(source)
    elif isinstance(source, str | os.PathLike):
        document = read_file(source, required="day")
    else:
        raise TypeError(f"load_situation expects a path or a mapping, got {type(source).__name__}")
    return _check(document, (), scenario)


def scenario_situation(scenario) -> Situation | None:
    """The situation of a scenario's own ``situation:`` block, checked (None if it has none)."""
    block = scenario.situation
    if block is None:
        return None
    positions = {("situation", *k): v for k, v in scenario.situation_positions.items()}
    data = {"situation": thaw(block)}
    file = str(scenario.path) if scenario.path is not None else None
    return _check(Document(data, positions, file, None), ("situation",), scenario)


def _check(document: Document, at: KeyPath, scenario) -> Situation:
    report = Report(document)
    data = document.data
    for key in at:
        data = data[key]
    if not isinstance(data, dict):
        report.put(at, "expected a mapping with at least day")
        report.raise_if_any()

    def put(path: KeyPath, message: str) -> None:
        report.put((*at, *path), message)

    for path, message in finite_issues(data) + magnitude_issues(data):
        put(path, message)
    try:
        spec = SituationFile.model_validate(data)
    except ValidationError as error:
        for path, message in schema_issues(error, SituationFile, data):
            put(path, message)
        report.raise_if_any()
        raise AssertionError("unreachable") from None  # pragma: no cover
    for k, e in enumerate(spec.events):  # the bounds scenarios have (docs/scenario-reference.md)
        for path, message in day_issues(("events", k), e, ("ends_day", "recovery_days")):
            put(path, message)
        if e.severity is not None:
            for path, message in severity_issues(
                ("events", k, "severity"), Fixed(value=float(e.severity))
            ):
                put(path, message)
    report.raise_if_any()

    T = scenario.horizon_days
    day = spec.day
    if day >= T:
        put(("day",), f"expected a day before the horizon ({T} days), found {day}")
        report.raise_if_any()
    decided = day if spec.decided_day is None else spec.decided_day
    if decided > day:
        put(("decided_day",), f"expected a day on or before today ({day}), found {decided}")

    worlds = {name: scenario.world(name) for name in scenario.strategy_names}
    products = list(scenario.baseline.products)
    hazards = {h.name: h for h in scenario.baseline.hazards}
    countries = Countries(scenario.regions)

    def product(path: KeyPath, name: str) -> bool:
        if name not in scenario.baseline.products:
            put(path, unknown("product", name, products))
            return False
        return True

    events = []
    for k, e in enumerate(spec.events):
        here: KeyPath = ("events", k)
        if e.started_day > day:
            put(
                (*here, "started_day"),
                f"expected a day on or before today ({day}), found {e.started_day}",
            )
        if e.ends_day is not None and e.ends_day <= e.started_day:
            put(
                (*here, "ends_day"),
                f"expected a day after started_day ({e.started_day}), found {e.ends_day}",
            )
        if e.hazard is not None:
            hazard = hazards.get(e.hazard)
            if hazard is None:
                put((*here, "hazard"), unknown("hazard", e.hazard, sorted(hazards)))
                continue
            recovery = hazard.recovery_days if e.recovery_days is None else e.recovery_days
            elapsed = day - e.started_day
            if e.ends_day is None and elapsed >= 1 and e.started_day <= day:
                if hazard.duration_days.below(elapsed + 0.5) >= 1.0:
                    put(
                        (*here, "ends_day"),
                        f"hazard {e.hazard!r} cannot last {elapsed + 1} days or more (its "
                        "duration distribution ends before), so an event that started on day "
                        f"{e.started_day} is over by today; give ends_day, or remove the event",
                    )
        else:
            recovery = e.recovery_days or 0.0
            for code in e.countries or {}:
                if code not in countries:
                    put((*here, "countries", code), countries.unknown(code))
            for j, name in enumerate(e.products or ()):
                product((*here, "products", j), name)
            if e.severity is None:
                put(
                    (*here, "severity"),
                    "an explicit shock needs a severity (only a hazard's can be drawn)",
                )
            if e.ends_day is None:
                put(
                    (*here, "ends_day"),
                    "an explicit shock needs ends_day (only a hazard's end can be drawn)",
                )
        if e.ends_day is not None and e.ends_day + recovery <= day:
            put(
                (*here, "ends_day"),
                f"the event is over by today (ends on day {e.ends_day}, "
                f"recovered {format_number(recovery)} days later): remove it",
            )
        events.append(
            {
                **({"hazard": e.hazard} if e.hazard is not None else {}),
                **({"countries": dict(e.countries)} if e.countries is not None else {}),
                **({"products": list(e.products)} if e.products is not None else {}),
                "started_day": e.started_day,
                "severity": e.severity,
                "ends_day": e.ends_day,
                **({"recovery_days": e.recovery_days} if e.recovery_days is not None else {}),
            }
        )

    stocks = {}
    for name, level in spec.stocks.items():
        if not product(("stocks", name), name):
            continue
        with_stock = [s for s, w in worlds.items() if w.products[name].stockpile is not None]
        if not with_stock:
            put(("stocks", name), f"product {name!r} has no stockpile in any strategy")
            continue
        stocks[name] = ("days", level.days) if level.days is not None else ("units", level.units)
    for name, since in spec.disrupted_since.items():
        if product(("disrupted_since", name), name) and since > day:
            put(
                ("disrupted_since", name),
                f"expected a day on or before today ({day}), found {since}",
            )
    qualified = {}
    for name, kinds in spec.qualified.items():
        if not product(("qualified", name), name):
            continue
        since = spec.disrupted_since.get(name)
        for kind, when in kinds.items():
            path = ("qualified", name, kind)
            if all(getattr(w.products[name], kind) is None for w in worlds.values()):
                put(path, f"product {name!r} has no reactive {kind} in any strategy")
            elif since is None:
                put(
                    path,
                    f"a qualified option needs the product's first disruption: add disrupted_since.{name}",
                )
            elif when is not None and not since <= when <= day:
                put(
                    path,
                    f"expected a day from disrupted_since ({since}) to today ({day}), found {when}",
                )
        qualified[name] = dict(kinds)
    report.raise_if_any()

    situation = Situation(
        day, decided, tuple(events), stocks, dict(spec.disrupted_since), qualified
    )
    for strategy in scenario.strategy_names:  # stocks within every strategy's target
        model = situation.compile(scenario, strategy)
        for name, level in stocks.items():
            i = model.products.index(name)
            target = model.arrays.stock_target[i]
            units = stock_units(level, model.arrays.requirement[day, i])
            if target > 0.0 and units > target * (1.0 + STOCK_TOLERANCE):
                put(
                    ("stocks", name),
                    f"stock of {format_number(units)} units is above the target of "
                    f"{format_number(target)} units (strategy {strategy!r}); "
                    "expected at most the target",
                )
    report.raise_if_any()
    return situation
