"""The realised path: the one future of an exercise, played by the SimPy twin day by day.

The truth (storyline shocks, the effects of injects, optionally the scenario's hazards
sampled with the exercise's seed) is a list of shock events. The world changes when a
decision is taken or an inject changes demand: the run is then continued, from its own
situation of that day (``docs/how-to-situation.md``), in the new world, with the same
events. Continuing a run from its own situation is exact (tested in the situations'
tests), so the path is one run whose world changes at the decision days.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..conventions import MITIGATION_PARTS, TOL
from ..model.compiler import compile_strategy
from ..model.reference import ReferenceRun, ShockEvent
from ..model.shocks import EventBatch, ShockSampler
from ..scenario import Scenario
from .worlds import DECIDED, decided_override, exercise_scenario, merge_override

__all__ = ["RECORDS", "Patch", "RealisedPath", "hazard_events"]

RECORDS = ("requirement", "fulfilment", "stock", "unmet_units", "shortage", "released_units")
"""Daily records kept of the realised path, each ``float64[T, P]``."""
_FLOWS = (
    "unmet_units",
    "shortage_days",
    "shortage_cost",
    *MITIGATION_PARTS,
    "stock_released_units",
)
Patch = tuple[str, str, Mapping[str, Any]]
"""A decision as ``(product, key, patch)`` (see :func:`disruptsim.exercise.levers.lever_patch`)."""

_NO_EVENTS = EventBatch(
    ptr=np.zeros(2, dtype=np.int64),
    hazard=np.zeros(0, dtype=np.int64),
    start=np.zeros(0, dtype=np.int64),
    end=np.zeros(0, dtype=np.int64),
    recovery=np.zeros(0, dtype=np.int64),
    severity=np.zeros(0),
)


def hazard_events(scenario: Scenario, seed: int, *, hazards: bool = True) -> list[ShockEvent]:
    """The scenario's shocks, and with ``hazards`` its hazards as sampled in run 0 of
    ``seed``: the part of the truth that comes from the scenario."""
    world = scenario.baseline
    batch = ShockSampler(scenario, seed).events(world, 0, 1)
    kinds = (*world.hazards, *world.shocks)
    out = []
    for e in range(batch.ptr[0], batch.ptr[1]):
        k = int(batch.hazard[e])
        if k < len(world.hazards) and not hazards:
            continue
        h = kinds[k]
        out.append(
            ShockEvent(
                countries=dict(h.countries),
                products=None if h.products is None else frozenset(h.products),
                start=int(batch.start[e]),
                end=int(batch.end[e]),
                recovery=int(batch.recovery[e]),
                severity=float(batch.severity[e]),
                hazard=h.name if k < len(world.hazards) else None,
            )
        )
    return out


class RealisedPath:
    """One run of the SimPy twin whose world changes with the exercise's decisions.

    Parameters
    ----------
    scenario : Scenario
        The exercise's scenario.
    seed : int
        The exercise's seed: the success draws of reactive options are those of run 0.
    events : sequence of ShockEvent
        The truth known in advance (storyline, sampled hazards); injects add more.
    base_override : Mapping, optional
        A strategy override the decisions build on (default: the baseline); used to play
        the same truth under a pre-planned strategy.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        events: Sequence[ShockEvent],
        *,
        base_override: Mapping[str, Any] | None = None,
    ):
        self.scenario = scenario
        self.seed = int(seed)
        self.events: list[ShockEvent] = list(events)
        self.demand: dict[str, float] = {}
        self.patches: list[Patch] = []
        self.base_override = dict(base_override or {})
        self.one_off_cost = 0.0
        T = scenario.horizon_days
        self.products = tuple(scenario.baseline.products)
        self.daily = {key: np.full((T, len(self.products)), np.nan) for key in RECORDS}
        self.flows = {name: dict.fromkeys(_FLOWS, 0.0) for name in self.products}
        self.recorded = 0  # days copied into `daily`
        self.log: list[tuple[int, str, Any]] = []  # (day, "event" | "change", arguments)
        self.run = self._start(None)

    # -- the world ------------------------------------------------------------------------

    def world(self) -> Scenario:
        """The scenario of the current world (strategy :data:`DECIDED`)."""
        override = merge_override(self.base_override, decided_override(self.patches))
        return exercise_scenario(self.scenario, self.demand, {DECIDED: override})

    def _start(self, situation) -> ReferenceRun:
        world = self.world()
        model = compile_strategy(world, DECIDED)
        success = ShockSampler(world, self.seed).success(model, 0, 1)
        run = ReferenceRun(world, DECIDED, _NO_EVENTS, success, 0, situation=situation)
        day = 0 if situation is None else situation.day
        for event in self.events:
            if event.end + event.recovery > day:
                run.inject_event(event)
        return run

    @property
    def day(self) -> int:
        """The next day to simulate."""
        return self.run.day

    def advance_to(self, day: int) -> None:
        """Simulate every day before ``day``."""
        self.run.run_until(day)
        self._record()

    def add_event(self, event: ShockEvent) -> None:
        """Add a shock event to the truth (an inject's effect)."""
        self.events.append(event)
        self.log.append((self.day, "event", event))
        self.run.inject_event(event)

    def change(
        self,
        *,
        demand: tuple[str, float] | None = None,
        patch: Patch | None = None,
        replaces: tuple[str, str] | None = None,
        cost: float = 0.0,
    ) -> None:
        """Change the world from today on: a demand factor, or a decision's patch.

        ``replaces``: ``(product, kind)`` of a reactive option the patch replaces (its
        qualification state is dropped: the new option qualifies by its own lag).
        """
        self.log.append(
            (
                self.day,
                "change",
                {"demand": demand, "patch": patch, "replaces": replaces, "cost": cost},
            )
        )
        situation = self.situation()
        self._close_segment()
        if demand is not None:
            product, factor = demand
            self.demand[product] = self.demand.get(product, 1.0) * factor
        if patch is not None:
            self.patches.append(patch)
        self.one_off_cost += cost
        qualified = {p: dict(k) for p, k in situation.qualified.items()}
        if replaces is not None:
            qualified.get(replaces[0], {}).pop(replaces[1], None)
        situation = dataclasses.replace(
            situation, qualified=qualified, stocks=self._stocks(situation)
        )
        self.run = self._start(situation)

    def situation(self):
        """The true situation today (events with their true ends)."""
        return self.run.situation()

    def _stocks(self, situation) -> dict[str, tuple[str, float]]:
        """Today's stock levels, with an empty stock for a product that has none yet."""
        stocks = dict(situation.stocks)
        world = self.world().world(DECIDED)
        for name, product in world.products.items():
            if product.stockpile is not None and name not in stocks:
                stocks[name] = ("units", 0.0)
        return stocks

    def _record(self) -> None:
        run, a, b = self.run, self.recorded, self.run.day
        if b <= a:
            return
        for j, name in enumerate(self.products):
            i = run.order.index(name)
            self.daily["requirement"][a:b, j] = run.daily["requirement"][a:b, i]
            self.daily["fulfilment"][a:b, j] = run.daily["fulfilment"][a:b, i]
            self.daily["stock"][a:b, j] = run.daily["stock"][a:b, i]
            self.daily["unmet_units"][a:b, j] = run.daily["unmet_units"][a:b, i]
            self.daily["shortage"][a:b, j] = run.daily["shortage"][a:b, i]
            self.daily["released_units"][a:b, j] = run.daily["released_units"][a:b, i]
        self.recorded = b

    def _close_segment(self) -> None:
        for name, p in self.run.products.items():
            for key in _FLOWS:
                self.flows[name][key] += p.totals.get(key, 0.0)

    def replayed(
        self,
        until: int,
        *,
        skip: int | None = None,
        base_override: Mapping[str, Any] | None = None,
        decisions: bool = True,
    ) -> RealisedPath:
        """This path played again up to ``until`` from the same truth: without the change
        at position ``skip`` of :attr:`log` (a counterfactual), or on another base
        strategy without any decision (a pre-planned one: ``decisions=False``)."""
        initial = self.events[
            : len(self.events) - sum(1 for _, kind, _ in self.log if kind == "event")
        ]
        other = RealisedPath(self.scenario, self.seed, initial, base_override=base_override)
        for k, (day, kind, args) in enumerate(self.log):
            other.advance_to(day)
            if k == skip or (not decisions and kind == "change" and args["patch"] is not None):
                continue
            if kind == "event":
                other.add_event(args)
            else:
                other.change(**args)
        other.advance_to(until)
        return other

    # -- outcome --------------------------------------------------------------------------

    def outcome(self) -> dict[str, float]:
        """Outcome of the days simulated so far: costs (euros), unmet units, shortage days.

        Costs count the flows of every day so far, the fixed costs of the current world
        once (stock set-up, reactive fixed costs, reshoring capex) and the decisions'
        one-off costs.
        """
        current = self.run.metrics()
        out = dict.fromkeys(("shortage_cost", *MITIGATION_PARTS, "unmet_units"), 0.0)
        for name in self.products:
            row = current[name]
            for key in out:
                out[key] += row[key] + self.flows[name].get(key, 0.0)
        final = [
            j
            for j, n in enumerate(self.products)
            if self.scenario.baseline.products[n].final_demand_per_day > 0
        ]
        short = self.daily["shortage"][: self.recorded][:, final]
        out["unmet_units"] = float(np.nansum(self.daily["unmet_units"][: self.recorded][:, final]))
        out["shortage_days"] = float(np.sum(np.nanmax(short, axis=1) > 0)) if self.recorded else 0.0
        fulfil = self.daily["fulfilment"][: self.recorded][:, final]
        out["min_fulfilment"] = float(np.nanmin(fulfil)) if self.recorded else 1.0
        out["one_off_cost"] = self.one_off_cost
        out["mitigation_cost"] = sum(out[k] for k in MITIGATION_PARTS) + self.one_off_cost
        out["total_cost"] = out["shortage_cost"] + out["mitigation_cost"]
        return out

    def stock_days(self) -> dict[str, float]:
        """Days of today's requirement in each stock (products with a stockpile)."""
        out = {}
        for name, p in self.run.products.items():
            if p.stock is not None:
                day = min(self.run.day, self.scenario.horizon_days - 1)
                need = p.requirement[day]
                out[name] = p.stock.level / need if need > TOL else float("nan")
        return out
