"""Load an exercise file: parse with positions, validate, check against its scenario.

:func:`load_exercise` reports every problem in one :class:`~disruptsim.ScenarioError`,
each with file, line, column and key path, like a scenario (``docs/exercise.md``).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ..errors import ScenarioError
from ..scenario import Scenario, load_scenario
from ..scenario.bounds import day_issues, magnitude_issues, severity_issues
from ..scenario.checks import Countries, finite_issues
from ..scenario.distributions import Fixed
from ..scenario.loader import Report
from ..scenario.messages import KeyPath, unknown
from ..scenario.schema_errors import schema_issues
from ..scenario.yamlio import Document, read_file
from .levers import ALLOWED_PARAMETERS, IMMEDIATE, lever_patch
from .schema import DecisionSpec, ExerciseFile, StoryShock
from .worlds import decided_override, exercise_scenario

__all__ = ["ExerciseSpec", "load_exercise"]


@dataclass(frozen=True)
class ExerciseSpec:
    """A validated exercise: the file's content, its scenario and their hashes.

    Attributes
    ----------
    file : ExerciseFile
        The validated content.
    scenario : Scenario
        The scenario it plays.
    path : Path
        The exercise file.
    sha256 : str
        SHA-256 of the exercise file's bytes.
    """

    file: ExerciseFile
    scenario: Scenario
    path: Path
    sha256: str

    @property
    def last_day(self) -> int:
        """The first day after the exercise: ``turns * turn_days`` (capped by the horizon)."""
        return min(self.file.turns * self.file.turn_days, self.scenario.horizon_days)

    def inject_day(self, index: int) -> int:
        """The day an inject of the MSEL is due."""
        inject = self.file.injects[index]
        if inject.day is not None:
            return inject.day
        return (inject.turn - 1) * self.file.turn_days

    def decision(self, decision_id: str) -> DecisionSpec:
        """A decision of the menu by id (``KeyError`` with the known ids otherwise)."""
        for d in self.file.decisions:
            if d.id == decision_id:
                return d
        raise KeyError(unknown("decision", decision_id, [d.id for d in self.file.decisions]))


def load_exercise(path: str | os.PathLike[str]) -> ExerciseSpec:
    """Read and check an exercise file and load its scenario.

    Parameters
    ----------
    path : str or path-like
        The exercise file (YAML, ``docs/exercise.md``). Its ``scenario`` is a path
        relative to the exercise file's folder.

    Returns
    -------
    ExerciseSpec

    Raises
    ------
    ScenarioError
        Every problem found, each with file, line, column and key path (problems of the
        scenario file itself name the scenario file).
    OSError
        If the exercise file cannot be read.
    """
    document = read_file(path, required="name, scenario, seed, turn_days, turns and objectives")
    report = Report(document)
    data = document.data
    report.add(finite_issues(data) + magnitude_issues(data))
    try:
        spec = ExerciseFile.model_validate(data)
    except ValidationError as error:
        report.add(schema_issues(error, ExerciseFile, data))
        report.raise_if_any()
        raise AssertionError("unreachable") from None  # pragma: no cover
    scenario_path = Path(path).parent / spec.scenario
    try:
        scenario = load_scenario(scenario_path)
    except OSError as error:
        report.put(
            ("scenario",),
            f"cannot read the scenario {str(scenario_path)!r}: {error.strerror or error}",
        )
        report.raise_if_any()
        raise AssertionError("unreachable") from None  # pragma: no cover
    _Checks(document, report, spec, scenario).run()
    report.raise_if_any()
    return ExerciseSpec(spec, scenario, Path(path), document.sha256 or "")


class _Checks:
    def __init__(self, document: Document, report: Report, spec: ExerciseFile, scenario: Scenario):
        self.report, self.spec, self.scenario = report, spec, scenario
        self.data = document.data
        self.world = scenario.baseline
        self.products = list(self.world.products)
        self.hazards = {h.name: h for h in self.world.hazards}
        self.countries = Countries(scenario.regions)

    def put(self, path: KeyPath, message: str) -> None:
        self.report.put(path, message)

    def run(self) -> None:
        spec = self.spec
        if spec.start_date is not None:
            try:
                dt.date.fromisoformat(spec.start_date)
            except ValueError:
                self.put(
                    ("start_date",), f"expected a date as YYYY-MM-DD, found {spec.start_date!r}"
                )
        last = spec.turns * spec.turn_days
        if last > self.scenario.horizon_days:
            self.put(
                ("turns",),
                f"{spec.turns} turns of {spec.turn_days} days run past the scenario's horizon "
                f"({self.scenario.horizon_days} days); expected at most "
                f"{self.scenario.horizon_days // spec.turn_days} turns",
            )
        for k, shock in enumerate(spec.truth.shocks):
            at = ("truth", "shocks", k)
            if shock.start_day is None:
                self.put(at, "a storyline shock needs start_day")
            self.shock(at, shock)
        self.injects(last)
        self.decisions()

    def shock(self, at: KeyPath, shock: StoryShock) -> None:
        # the bounds a scenario's shocks have (docs/scenario-reference.md, "Bounds")
        self.report.add(day_issues(at, shock, ("start_day", "duration_days", "recovery_days")))
        self.report.add(severity_issues((*at, "severity"), Fixed(value=float(shock.severity))))
        if shock.hazard is not None:
            if shock.hazard not in self.hazards:
                self.put((*at, "hazard"), unknown("hazard", shock.hazard, list(self.hazards)))
            return
        for code in shock.countries or {}:
            if code not in self.countries:
                self.put((*at, "countries", code), self.countries.unknown(code))
        for j, name in enumerate(shock.products or ()):
            if name not in self.world.products:
                self.put((*at, "products", j), unknown("product", name, self.products))
        if not shock.public_end:
            self.put(
                (*at, "public_end"),
                "an explicit shock (countries, no hazard) needs public_end: true, because the "
                "look-ahead can only draw the unknown end of a hazard's event; name a hazard "
                "of the scenario to keep the end hidden",
            )
        if shock.start_day is not None and shock.start_day >= self.scenario.horizon_days:
            self.put(
                (*at, "start_day"),
                f"expected a day before the horizon ({self.scenario.horizon_days})",
            )

    def injects(self, last: int) -> None:
        seen: set[str] = set()
        menu = [d.id for d in self.spec.decisions]
        for k, inject in enumerate(self.spec.injects):
            at: KeyPath = ("injects", k)
            if inject.id in seen:
                self.put((*at, "id"), f"duplicate inject id {inject.id!r}")
            seen.add(inject.id)
            if inject.turn is not None and inject.turn > self.spec.turns:
                self.put(
                    (*at, "turn"),
                    f"expected a turn from 1 to {self.spec.turns}, found {inject.turn}",
                )
            if inject.day is not None and inject.day >= last:
                self.put(
                    (*at, "day"),
                    f"expected a day before the end of the exercise ({last}), found {inject.day}",
                )
            for j, name in enumerate(inject.expected_decisions):
                if name not in menu:
                    self.put((*at, "expected_decisions", j), unknown("decision", name, menu))
            effect = inject.change
            if effect is None:
                continue
            if effect.shock is not None:
                self.shock((*at, "effect", "shock"), effect.shock)
            elif effect.demand is not None:
                self.demand((*at, "effect", "demand", "product"), effect.demand.product)

    def demand(self, at: KeyPath, name: str) -> None:
        if name not in self.world.products:
            self.put(at, unknown("product", name, self.products))
            return
        if self.world.products[name].final_demand_per_day <= 0:
            self.put(at, f"product {name!r} has no final demand to change")
        elif any(name in p.inputs for p in self.world.products.values()):
            self.put(
                at,
                f"product {name!r} is an input of other products: change the demand of a final product",
            )

    def decisions(self) -> None:
        seen: set[str] = set()
        for k, d in enumerate(self.spec.decisions):
            at: KeyPath = ("decisions", k)
            if d.id in seen:
                self.put((*at, "id"), f"duplicate decision id {d.id!r}")
            seen.add(d.id)
            self.report.add(day_issues(at, d, ("lead_time_days",)))
            if d.product not in self.world.products:
                self.put((*at, "product"), unknown("product", d.product, self.products))
                continue
            allowed = ALLOWED_PARAMETERS[d.lever]
            bad = [key for key in d.parameters if allowed is not None and key not in allowed]
            for key in bad:
                self.put(
                    (*at, "parameters", key),
                    unknown(f"parameter of lever {d.lever!r}", key, allowed or ()),
                )
            if d.lever in IMMEDIATE and d.lead_time_days:
                self.put(
                    (*at, "lead_time_days"),
                    f"lever {d.lever!r} acts from the day of the decision in the model; expected 0",
                )
            if (
                d.lever in IMMEDIATE
                and d.lever == "stock_release"
                and self.world.products[d.product].stockpile is None
            ):
                self.put((*at, "product"), f"product {d.product!r} has no stockpile to release")
            if not bad:
                self.patch(at, d)

    def patch(self, at: KeyPath, d: DecisionSpec) -> None:
        """The decision, taken on day 0, must give a valid world."""
        key, patch = lever_patch(
            d.lever, d.parameters, day=0, lead_time_days=d.lead_time_days, disrupted_since=None
        )
        override = decided_override([(d.product, key, patch)])
        try:
            exercise_scenario(self.scenario, {}, {d.id: override})
        except ScenarioError as error:
            for problem in error.problems:
                where = problem.path.split(f"strategies.{d.id}.products.{d.product}.", 1)[-1]
                message = problem.message.replace(f"strategy {d.id!r}: ", "")
                self.put((*at, "parameters"), f"{where}: {message}")
