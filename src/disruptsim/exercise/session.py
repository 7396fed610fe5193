"""``ds.Exercise``: a table-top exercise session (``docs/exercise.md``).

The realised future is played by the SimPy twin day by day and paused at turn
boundaries (:class:`~disruptsim.exercise.realised.RealisedPath`); injects of the MSEL
arrive at their turn or day, or when the facilitator sends them; decisions change the
world from the day they are taken; a look-ahead simulates N futures from what
participants know today with the numba kernel. Everything goes to the journal, from
which :meth:`Exercise.replay` rebuilds the session bit for bit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from .._version import __version__
from ..errors import Problem, ScenarioError
from ..model.reference import ShockEvent
from ..scenario.messages import unknown
from .journal import Journal, JournalError, read_journal
from .levers import ALLOWED_PARAMETERS, REACTIVE, lever_patch
from .loader import ExerciseSpec, load_exercise
from .lookahead import (
    FAN_RUNS,
    NO_DECISIONS,
    LookAhead,
    public_situation,
    summarise,
    with_empty_stocks,
)
from .realised import RealisedPath, hazard_events
from .schema import InjectSpec, StoryShock
from .worlds import DECIDED, decided_override, exercise_scenario, merge_override

__all__ = ["Exercise"]


class Exercise:
    """A table-top exercise session.

    Build one with :meth:`from_file` (or :meth:`replay`); then :meth:`advance`,
    :meth:`inject`, :meth:`decide`, :meth:`lookahead`, :meth:`note`, :meth:`finish`,
    and :meth:`report` for the after-action report.

    Parameters
    ----------
    spec : ExerciseSpec
        A validated exercise (:func:`disruptsim.exercise.load_exercise`).
    journal : str, path-like or Journal, optional
        Where to record the session (a new JSON-lines file); default: in memory only.

    Examples
    --------
    >>> import disruptsim as ds
    >>> ex = ds.Exercise.from_file("exercises/antibiotics-api.yaml")
    >>> ex.advance(2)
    >>> ex.day
    28
    >>> la = ex.lookahead(["ration_stock"], runs=200)
    >>> list(la.table().index)
    ['as_decided', 'ration_stock', 'baseline']
    """

    def __init__(
        self,
        spec: ExerciseSpec,
        journal: str | os.PathLike[str] | Journal | None = None,
        *,
        replayed_from: str | None = None,
    ):
        self.spec = spec
        self.scenario = spec.scenario
        self.journal = journal if isinstance(journal, Journal) else Journal(journal)
        f = spec.file
        self.public_ends: set[tuple[str, int]] = set()
        events = [self._event(s, s.start_day) for s in f.truth.shocks]
        events += hazard_events(self.scenario, f.seed, hazards=f.truth.random_hazards)
        self.path = RealisedPath(self.scenario, f.seed, events)
        self.delivered: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []
        self.lookaheads: list[LookAhead] = []
        self.notes: list[dict[str, Any]] = []
        self.turn_outcomes: list[dict[str, Any]] = []
        self.contexts: list[
            dict[str, Any]
        ] = []  # per decision: what the report's counterfactual needs
        self.finished = False
        self._adhoc = 0
        self.journal.append(
            "start",
            version=__version__,
            name=f.name,
            exercise=str(spec.path.resolve()),
            exercise_sha256=spec.sha256,
            scenario=str(self.scenario.path.resolve()) if self.scenario.path else None,
            scenario_sha256=self.scenario.sha256,
            seed=f.seed,
            replayed_from=replayed_from,
        )
        self._deliver_due(0)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], journal: str | os.PathLike[str] | Journal | None = None
    ) -> Exercise:
        """Load an exercise file and start a session (see :func:`disruptsim.exercise.load_exercise`).

        Raises
        ------
        ScenarioError
            The exercise file (or its scenario) is invalid; every problem with its position.
        """
        return cls(load_exercise(path), journal)

    # -- time -----------------------------------------------------------------------------

    @property
    def day(self) -> int:
        """Today: the next day to simulate."""
        return self.path.day

    @property
    def turn(self) -> int:
        """The current turn (1-based; ``turns + 1`` once the last turn is played)."""
        return self.day // self.spec.file.turn_days + 1

    @property
    def over(self) -> bool:
        """Whether every turn is played."""
        return self.day >= self.spec.last_day

    def advance(self, turns: int = 1) -> None:
        """Play ``turns`` turns of the realised future (stops at the exercise's end).

        Injects due on the way arrive on their day (a ``day`` inject) or at the start of
        their turn; their news is shown at the pause.
        """
        if not isinstance(turns, int) or isinstance(turns, bool) or turns < 1:
            raise ValueError(f"turns must be a whole number >= 1, got {turns!r}")
        self._open()
        f = self.spec.file
        target = min(self.spec.last_day, (self.turn - 1 + turns) * f.turn_days)
        while self.day < target:
            due = [
                self.spec.inject_day(k) for k in range(len(f.injects)) if not self._is_delivered(k)
            ]
            stop = min([d for d in due if self.day < d <= target], default=target)
            self.path.advance_to(stop)
            if stop < self.spec.last_day:
                self._deliver_due(stop)
        outcome = self.outcome()
        self.turn_outcomes.append({"day": self.day, **outcome})
        self.journal.append(
            "advance",
            turns=turns,
            day=self.day,
            total_cost=outcome["total_cost"],
            unmet_units=outcome["unmet_units"],
        )

    def _is_delivered(self, index: int) -> bool:
        inject_id = self.spec.file.injects[index].id
        return any(d["id"] == inject_id for d in self.delivered)

    def _deliver_due(self, day: int) -> None:
        for k, inject in enumerate(self.spec.file.injects):
            if not self._is_delivered(k) and self.spec.inject_day(k) <= day:
                self._apply(inject, scheduled=True)

    # -- injects --------------------------------------------------------------------------

    def inject(self, id_or_event: str | Mapping[str, Any]) -> dict[str, Any]:
        """Send an inject now: one of the MSEL by id, or an ad-hoc one.

        Parameters
        ----------
        id_or_event : str or Mapping
            An inject id of the exercise file, or a mapping in the MSEL's form (``title``,
            ``narrative``, ``effect``, ``hidden``, ...; ``id``, ``turn`` and ``day`` are
            optional: it arrives today).

        Returns
        -------
        dict
            The delivered inject as shown in the console.

        Raises
        ------
        KeyError
            Unknown inject id, or an inject already delivered.
        ScenarioError
            An ad-hoc inject that is not valid.
        """
        self._open()
        if isinstance(id_or_event, str):
            ids = [i.id for i in self.spec.file.injects]
            if id_or_event not in ids:
                raise KeyError(unknown("inject", id_or_event, ids))
            if any(d["id"] == id_or_event for d in self.delivered):
                raise KeyError(f"inject {id_or_event!r} was already delivered")
            inject = self.spec.file.injects[ids.index(id_or_event)]
            self._apply(inject, scheduled=False)
        else:
            inject = self._adhoc_inject(id_or_event)
            self._apply(inject, scheduled=False, event=dict(id_or_event))
        return self.delivered[-1]

    def _adhoc_inject(self, data: Mapping[str, Any]) -> InjectSpec:
        self._adhoc += 1
        fields = {"id": f"adhoc-{self._adhoc}", **dict(data), "day": self.day}
        fields.pop("turn", None)
        try:
            inject = InjectSpec.model_validate(fields)
        except ValidationError as error:
            problems = [
                Problem(None, None, None, ".".join(map(str, e["loc"])), e["msg"])
                for e in error.errors(include_url=False)
            ]
            raise ScenarioError(problems) from None
        change = inject.change
        if change is not None and change.shock is not None:
            shock = change.shock
            hazards = [h.name for h in self.scenario.baseline.hazards]
            if shock.hazard is not None and shock.hazard not in hazards:
                raise ScenarioError(
                    Problem(
                        None,
                        None,
                        None,
                        "effect.shock.hazard",
                        unknown("hazard", shock.hazard, hazards),
                    )
                )
            if shock.hazard is None and not shock.public_end:
                raise ScenarioError(
                    Problem(
                        None,
                        None,
                        None,
                        "effect.shock.public_end",
                        "an explicit shock needs public_end: true",
                    )
                )
        if (
            change is not None
            and change.demand is not None
            and change.demand.product not in self.scenario.baseline.products
        ):
            raise ScenarioError(
                Problem(
                    None,
                    None,
                    None,
                    "effect.demand.product",
                    unknown(
                        "product", change.demand.product, list(self.scenario.baseline.products)
                    ),
                )
            )
        return inject

    def _event(self, shock: StoryShock, start: int) -> ShockEvent:
        if shock.hazard is not None:
            h = next(h for h in self.scenario.baseline.hazards if h.name == shock.hazard)
            countries, products = dict(h.countries), h.products
            recovery = h.recovery_days if shock.recovery_days is None else shock.recovery_days
        else:
            countries, products = dict(shock.countries), shock.products
            recovery = shock.recovery_days or 0.0
        if shock.public_end and shock.hazard is not None:
            self.public_ends.add((shock.hazard, start))
        return ShockEvent(
            countries=countries,
            products=None if products is None else frozenset(products),
            start=int(start),
            end=int(start + shock.duration_days),
            recovery=int(np.floor(recovery + 0.5)),
            severity=float(shock.severity),
            hazard=shock.hazard,
        )

    def _apply(
        self, inject: InjectSpec, *, scheduled: bool, event: dict[str, Any] | None = None
    ) -> None:
        day = self.day
        change = inject.change
        effect = "information only"
        if change is not None and change.shock is not None:
            start = change.shock.start_day if change.shock.start_day is not None else day
            self.path.add_event(self._event(change.shock, start))
            effect = f"shock from day {start}"
        elif change is not None and change.demand is not None:
            self.path.change(demand=(change.demand.product, change.demand.factor))
            effect = f"demand of {change.demand.product} x{change.demand.factor:g}"
        self.delivered.append(
            {
                "id": inject.id,
                "title": inject.title,
                "narrative": inject.narrative,
                "day": day,
                "turn": day // self.spec.file.turn_days + 1,
                "effect": effect,
                "hidden": inject.hidden,
                "expected_action": inject.expected_action,
                "expected_decisions": list(inject.expected_decisions),
                "evaluator_notes": inject.evaluator_notes,
                "scheduled": scheduled,
            }
        )
        self.journal.append("inject", id=inject.id, day=day, scheduled=scheduled, event=event)

    # -- decisions ------------------------------------------------------------------------

    def decide(
        self, decision_id: str, parameters: Mapping[str, Any] | None = None, note: str = ""
    ) -> dict[str, Any]:
        """Take a decision of the menu today.

        Parameters
        ----------
        decision_id : str
            A decision of the exercise file's menu.
        parameters : Mapping, optional
            Parameters that replace the menu's (e.g. another ``max_share``).
        note : str
            The group's reasoning, kept in the journal and the after-action report.

        Returns
        -------
        dict
            The decision as recorded.

        Raises
        ------
        KeyError
            Unknown decision id or parameter.
        ScenarioError
            The parameters make an invalid world.
        """
        self._open()
        d = self.spec.decision(decision_id)
        day = self.day
        key, patch = self._patch(decision_id, parameters, day)
        replaces = (d.product, REACTIVE[d.lever]) if d.lever in REACTIVE else None
        self.contexts.append(
            {
                "log_index": len(self.path.log),
                "situation": public_situation(
                    self.path.situation(), self.public_ends, self.scenario
                ),
                "demand": dict(self.path.demand),
                "before": decided_override(self.path.patches),
                "patch": (d.product, key, patch),
                "cost": d.cost,
            }
        )
        self.path.change(patch=(d.product, key, patch), replaces=replaces, cost=d.cost)
        record = {
            "id": d.id,
            "title": d.title,
            "day": day,
            "turn": self.turn,
            "parameters": dict(parameters or {}),
            "cost": d.cost,
            "note": note,
            "lever": d.lever,
            "product": d.product,
        }
        self.decisions.append(record)
        self.journal.append(
            "decide", id=d.id, day=day, parameters=dict(parameters or {}), note=note
        )
        return record

    def _patch(
        self,
        decision_id: str,
        parameters: Mapping[str, Any] | None,
        day: int,
        *,
        check: bool = True,
    ) -> tuple[str, dict[str, Any]]:
        d = self.spec.decision(decision_id)
        allowed = ALLOWED_PARAMETERS[d.lever]
        for name in parameters or {}:
            if allowed is not None and name not in allowed:
                raise KeyError(unknown(f"parameter of lever {d.lever!r}", name, allowed))
        values = {**d.parameters, **(parameters or {})}
        since = self.path.situation().disrupted_since.get(d.product)
        key, patch = lever_patch(
            d.lever, values, day=day, lead_time_days=d.lead_time_days, disrupted_since=since
        )
        if check:
            trial = merge_override(
                decided_override(self.path.patches), decided_override([(d.product, key, patch)])
            )
            exercise_scenario(
                self.scenario, self.path.demand, {DECIDED: trial}
            )  # raises if invalid
        return key, patch

    # -- look-ahead -----------------------------------------------------------------------

    def lookahead(
        self,
        options: Sequence[str | Mapping[str, Any]] = (),
        runs: int | None = None,
        seed: int | None = None,
    ) -> LookAhead:
        """Simulate N futures from today: "as decided so far" against each option.

        Parameters
        ----------
        options : sequence of str or Mapping
            Decision ids of the menu, or ``{"id": ..., "parameters": {...}}``.
        runs : int, optional
            Futures (default: the exercise file's ``lookahead_runs``, 2,000).
        seed : int, optional
            Seed of the futures (default: derived from the exercise's seed, the day and
            the number of look-aheads so far; recorded in the journal).

        Returns
        -------
        LookAhead
            Per option: P(shortage), expected cost, unmet units, time-to-recover, paired
            differences with 95% CIs, fan charts (``docs/exercise.md``).
        """
        import disruptsim as ds

        runs = self.spec.file.lookahead_runs if runs is None else int(runs)
        if runs < 2:
            raise ValueError(f"runs must be at least 2, got {runs}")
        if seed is None:
            state = np.random.SeedSequence([self.spec.file.seed, self.day, len(self.lookaheads)])
            seed = int(state.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
        chosen = [
            (o, {}) if isinstance(o, str) else (o["id"], dict(o.get("parameters") or {}))
            for o in options
        ]
        decided = decided_override(self.path.patches)
        strategies = {DECIDED: decided}
        titles = {DECIDED: "As decided so far", NO_DECISIONS: "No decisions (scenario baseline)"}
        costs = {}
        for name, params in chosen:
            d = self.spec.decision(name)
            key, patch = self._patch(name, params, self.day, check=False)  # checked below
            strategies[name] = merge_override(decided, decided_override([(d.product, key, patch)]))
            titles[name], costs[name] = d.title, d.cost
        world = exercise_scenario(self.scenario, self.path.demand, strategies)
        today = ds.load_situation(
            with_empty_stocks(
                public_situation(self.path.situation(), self.public_ends, self.scenario), world
            ),
            world,
        )
        order = [DECIDED, *[n for n, _ in chosen], NO_DECISIONS]
        result = ds.simulate(
            world,
            runs=runs,
            seed=seed,
            strategies=order,
            situation=today,
            trace_runs=min(runs, FAN_RUNS),
            keep="all",
        )
        la = summarise(result, self.day, self.spec.file.fan_days, titles, costs, order)
        self.lookaheads.append(la)
        self.journal.append(
            "lookahead",
            day=self.day,
            options=[{"id": n, "parameters": p} for n, p in chosen],
            runs=runs,
            seed=seed,
            digest=la.digest,
            figures=_finite(la.as_dict()["options"]),
        )
        return la

    # -- situation, notes, end ------------------------------------------------------------

    def situation(self, *, truth: bool = False):
        """Today's situation: what participants know (default), or the truth.

        The public situation hides the end of a hazard's event in force (the look-ahead
        draws it); ``truth=True`` gives the realised path's own state (facilitator only).
        """
        import disruptsim as ds

        true = self.path.situation()
        if truth:
            return true
        world = exercise_scenario(
            self.scenario, self.path.demand, {DECIDED: decided_override(self.path.patches)}
        )
        return ds.load_situation(public_situation(true, self.public_ends, self.scenario), world)

    def outcome(self) -> dict[str, float]:
        """The realised outcome so far: costs, unmet units, shortage days, one-off costs."""
        return {k: float(v) for k, v in self.path.outcome().items()}

    def realised_chart(self) -> bytes:
        """SVG of the realised path so far (fulfilment and days of stock, final products)."""
        from .charts import realised_chart

        products = self.path.products
        finals = [
            j
            for j, n in enumerate(products)
            if self.scenario.baseline.products[n].final_demand_per_day > 0
        ]
        marks = [(d["day"], "decision") for d in self.decisions] + [
            (i["day"], "inject") for i in self.delivered if i["day"] > 0
        ]
        return realised_chart(self.path.daily, products, finals, self.path.recorded, marks)

    def note(self, text: str, *, author: str = "") -> None:
        """Record a hot-wash or facilitator note."""
        text = str(text).strip()
        if not text:
            raise ValueError("a note needs some text")
        entry = {"day": self.day, "text": text[:20_000], "author": str(author)[:200]}
        self.notes.append(entry)
        self.journal.append("note", **entry)

    def finish(self) -> None:
        """End the session (no more turns, injects or decisions; notes still allowed)."""
        if not self.finished:
            self.finished = True
            self.journal.append("finish", day=self.day)

    def _open(self) -> None:
        if self.finished:
            raise RuntimeError("the session is finished")

    def report(self, path: str | os.PathLike[str], *, runs: int = 1000) -> Path:
        """Write the after-action report (one self-contained HTML file).

        Parameters
        ----------
        path : str or path-like
            The HTML file to write (atomically).
        runs : int, default 1000
            Futures of each decision's counterfactual (paired, from its day).
        """
        from .aar import write_report

        return write_report(self, Path(path), runs=runs)

    # -- replay ---------------------------------------------------------------------------

    @classmethod
    def replay(
        cls,
        journal: str | os.PathLike[str],
        *,
        exercise: str | os.PathLike[str] | None = None,
        record: str | os.PathLike[str] | None = None,
    ) -> Exercise:
        """Rebuild a session from its journal, bit for bit.

        Parameters
        ----------
        journal : str or path-like
            A journal written by a session (a partial last line, from a killed session,
            is dropped).
        exercise : str or path-like, optional
            The exercise file, if it moved (default: the path recorded in the journal).
        record : str or path-like, optional
            A new journal file for the replayed session (default: in memory).

        Raises
        ------
        JournalError
            The exercise or scenario file changed since the session (SHA-256 differs), or
            a replayed turn or look-ahead does not give what was recorded.
        """
        records, _ = read_journal(journal)
        start = records[0]
        spec = load_exercise(exercise if exercise is not None else start["exercise"])
        for what, now, then in (
            ("exercise file", spec.sha256, start.get("exercise_sha256")),
            ("scenario file", spec.scenario.sha256, start.get("scenario_sha256")),
        ):
            if now != then:
                raise JournalError(
                    f"{journal}: the {what} changed since the session was recorded "
                    f"(SHA-256 {then} then, {now} now); replay needs the same inputs"
                )
        session = cls(spec, record, replayed_from=str(journal))
        for number, r in enumerate(records[1:], start=2):
            kind = r["kind"]
            if kind == "advance":
                session.advance(r["turns"])
                if session.day != r["day"] or session.outcome()["total_cost"] != r["total_cost"]:
                    raise JournalError(
                        f"{journal}:{number}: the replayed turn differs from the recorded one"
                    )
            elif kind == "inject" and not r["scheduled"]:
                session.inject(r["event"] if r.get("event") else r["id"])
            elif kind == "decide":
                session.decide(r["id"], r.get("parameters") or None, r.get("note", ""))
            elif kind == "lookahead":
                la = session.lookahead(r["options"], runs=r["runs"], seed=r["seed"])
                if la.digest != r["digest"]:
                    raise JournalError(
                        f"{journal}:{number}: the replayed look-ahead differs from the recorded one"
                    )
            elif kind == "note":
                session.note(r["text"], author=r.get("author", ""))
            elif kind == "finish":
                session.finish()
        return session


def _finite(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities as None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
