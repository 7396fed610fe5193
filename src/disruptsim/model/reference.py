"""The readable reference engine: the dynamics of ``docs/model.md`` as SimPy processes.

One :class:`ReferenceRun` simulates one run of one strategy, day by day:

- every shock event is a SimPy process that switches its loss on at the start of its
  first day, off at its end, and ramps it down day by day over its recovery;
- a market process clears once a day (at mid-day, after the shocks of the day have
  moved), visiting products upstream to downstream: baseline supply, then reactive
  diversification and substitution, then the stockpile, then the unmet rest;
- stocks are :class:`simpy.Container` objects;
- a qualification process per reactive option starts at the product's first disruption
  and fires at the start of day ``first + lag_days``.

It reads the resolved :class:`~disruptsim.scenario.schema.World` of the strategy
(products by name, sources by country) and the same sampled inputs as the numba kernel
(an :class:`~disruptsim.model.shocks.EventBatch` and the success draws), and it is written to
be read, not to be fast: it is the twin the kernel is tested against, and the engine of
exercise mode, where decisions are injected between days (:meth:`ReferenceRun.step`,
:meth:`ReferenceRun.run_until`, :meth:`ReferenceRun.inject_event`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy

from ..conventions import (
    DAYS_PER_YEAR,
    DOMESTIC,
    METRICS,
    MITIGATION_PARTS,
    SYSTEM,
    TOL,
    ramp,
    whole_days,
)
from ..scenario.checks import restraint_unit_cost
from ..scenario.model import Scenario
from ..scenario.schema import Product, Reactive
from .compiler import topological_order
from .reference_situation import SituationSteps
from .shocks import EventBatch
from .situation import Situation, stock_units

MIDDAY = 0.5
UNIT_METRICS = (
    "diversified_units",
    "substituted_units",
    "stock_released_units",
    "restrained_units",
    "recycled_units",
)
UNITS = {"diversification": "diversified_units", "substitution": "substituted_units"}
"""Shocks move at the start of a day (time ``t``); the market clears at ``t + MIDDAY``."""
DAILY = (
    "requirement",
    "supply_ratio",
    "gap",
    "supplied_units",
    "diversified_units",
    "substituted_units",
    "released_units",
    "unmet_units",
    "fulfilment",
    "shortage",
    "stock",
    "restrained_units",
    "restrained_requirement",
)
"""Daily records of a run (:attr:`ReferenceRun.daily`), each an array ``[T, P]``."""


@dataclass(frozen=True)
class ShockEvent:
    """One shock event of a run: who it hits, how hard, and when (whole days)."""

    countries: Mapping[str, float]  # severity multiplier per country
    products: frozenset[str] | None  # None: every product
    start: int
    end: int  # first day after the event
    recovery: int  # days of linear recovery after `end`
    severity: float
    hazard: str | None = None  # name of the hazard it is an event of (None: a shock)

    def loss(self, country: str) -> float:
        """Share of the country's supply this event takes while in full force."""
        return min(1.0, self.severity * self.countries.get(country, 0.0))

    def hits(self, product: str) -> bool:
        return self.products is None or product in self.products


@dataclass
class ReactiveOption:
    """Reactive diversification or substitution of one product in one run."""

    kind: str  # "diversification" or "substitution"
    spec: Reactive
    succeeds: bool  # this run's success draw
    qualified_day: int | None = None  # set by the qualification process


@dataclass
class Supplier:
    """One source of a product: a country (or domestic production) with a share."""

    code: str
    share: float
    unit_cost_premium: float
    exposure: Mapping[str, float]  # where its supply really comes from

    @property
    def domestic(self) -> bool:
        return self.code == DOMESTIC


@dataclass
class ProductState:
    """A product's configuration and its state in the run."""

    name: str
    spec: Product
    requirement: np.ndarray  # D(t), units per day
    suppliers: list[Supplier]
    reshored: np.ndarray  # share moved from `reshoring.from` to domestic, per day
    options: list[ReactiveOption]
    stock: simpy.Container | None  # None: no stock (target 0)
    target: float
    fulfilment: float = 1.0  # today's (or the last cleared day's) fulfilment
    first_disruption: int | None = None
    restraint_start: int | None = None  # first day of its demand restraint, once triggered
    first_shortage: int | None = None
    last_shortage: int | None = None
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def stock_level(self) -> float:
        return self.stock.level if self.stock is not None else 0.0


class ReferenceRun(SituationSteps):
    """One run of one strategy, simulated day by day with SimPy.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    strategy : str
        Name of the strategy to simulate.
    events : EventBatch
        Sampled events of a batch (sampled for this strategy's world).
    success : numpy.ndarray
        ``bool[n, 2, P]`` success draws of the batch (diversification, substitution), products
        in topological order as in :class:`~disruptsim.model.compiler.CompiledModel`.
    run : int
        Index of the run within the batch.
    situation : Situation, optional
        Start from this state of the world (``docs/how-to-situation.md``) rather than
        from day 0 with full stocks; ``events`` must then be sampled for it (the events in
        force are the kinds after the hazards and shocks).

    Notes
    -----
    State can be read (and changed) between days: :attr:`products` by name, each with its
    stock container, options and fulfilment; :attr:`daily` holds the records of the days
    cleared so far. :meth:`metrics` gives the per-run metrics of those days.
    """

    def __init__(
        self,
        scenario: Scenario,
        strategy: str,
        events: EventBatch,
        success: np.ndarray,
        run: int,
        situation: Situation | None = None,
    ):
        world = scenario.world(strategy)
        self.horizon_days = T = scenario.horizon_days
        self.home = scenario.home
        self.order: tuple[str, ...] = tuple(topological_order(world))
        start = 0 if situation is None else situation.day
        self.decided_day = 0 if situation is None else situation.decided_day
        self.env = simpy.Environment(initial_time=start)
        self.in_force: dict[int, float] = {}  # event id -> share of its loss in force today
        self.events: list[ShockEvent] = []
        self.day = start  # next day to clear
        self.start_day = start

        requirement, reshored, self.domestic_share, self.recycled = _requirements(
            world.products, self.order, T, self.decided_day
        )
        self.products: dict[str, ProductState] = {}
        for i, name in enumerate(self.order):
            spec = world.products[name]
            suppliers = [
                Supplier(code, s.share, s.unit_cost_premium, self._exposure(code, s.exposure))
                for code, s in spec.sources.items()
            ]
            if spec.reshoring is not None and not any(s.domestic for s in suppliers):
                suppliers.append(Supplier(DOMESTIC, 0.0, 0.0, {self.home: 1.0}))
            options = [
                ReactiveOption(kind, rx, bool(success[run, k, i]))
                for k, (kind, rx) in enumerate(
                    (("diversification", spec.diversification), ("substitution", spec.substitution))
                )
                if rx is not None
            ]
            basis = requirement[name][min(self.decided_day, T - 1)]
            target = spec.stockpile.initial_days * basis if spec.stockpile else 0.0
            level = target
            if situation is not None and name in situation.stocks and target > 0:
                level = min(target, stock_units(situation.stocks[name], requirement[name][start]))
            stock = simpy.Container(self.env, capacity=target, init=level) if target > 0 else None
            self.products[name] = ProductState(
                name, spec, requirement[name], suppliers, reshored[name], options, stock, target
            )
            self.products[name].totals["min_stock"] = level
        self.daily = {key: np.full((T, len(self.order)), np.nan) for key in DAILY}

        self.system_first: int | None = None
        self.system_shortage_days = 0
        self.system_first_shortage: int | None = None
        self.system_last_shortage: int | None = None
        self.system_min_fulfilment = 1.0

        if situation is not None:
            self._resume(situation)
        in_force = () if situation is None else situation.events_for(world, scenario.baseline)
        hazards = (*world.hazards, *world.shocks, *in_force)
        n_hazards = len(world.hazards)
        for e in range(events.ptr[run], events.ptr[run + 1]):
            k = int(events.hazard[e])
            h = hazards[k]
            if k < n_hazards:
                name = h.name
            elif k >= n_hazards + len(world.shocks):
                name = h.hazard.name if h.hazard is not None else None
            else:
                name = None
            self.inject_event(
                ShockEvent(
                    countries=dict(h.countries),
                    products=None if h.products is None else frozenset(h.products),
                    start=int(events.start[e]),
                    end=int(events.end[e]),
                    recovery=int(events.recovery[e]),
                    severity=float(events.severity[e]),
                    hazard=name,
                )
            )
        self.env.process(self._market())

    # -- processes --------------------------------------------------------------------

    def inject_event(self, event: ShockEvent) -> None:
        """Add a shock event to the run (before its start day, for it to take full effect)."""
        self.events.append(event)
        self.env.process(self._shock(len(self.events) - 1, event))

    def _shock(self, eid: int, event: ShockEvent):
        """Switch an event's loss on at its start, off at its end, then ramp it out.

        Days are absolute, so an event injected late joins in its current phase.
        """
        if event.severity <= 0.0:
            return
        yield self._until(event.start)
        self.in_force[eid] = 1.0
        for k in range(event.recovery):
            yield self._until(event.end + k)
            self.in_force[eid] = 1.0 - (k + 1.0) / (event.recovery + 1.0)
        yield self._until(event.end + event.recovery)
        del self.in_force[eid]

    def _until(self, day: int) -> simpy.Timeout:
        """A timeout to the start of ``day`` (at once if that is past)."""
        return self.env.timeout(max(0.0, day - self.env.now))

    def _qualify(self, option: ReactiveOption, day: int):
        """Qualification of a reactive option: it is usable from the start of ``day``."""
        yield self._until(day)
        option.qualified_day = day

    def _market(self):
        yield self.env.timeout(MIDDAY)
        while True:
            self._clear_day(int(self.env.now))
            yield self.env.timeout(1)

    # -- stepping ---------------------------------------------------------------------

    def step(self) -> None:
        """Simulate the next day."""
        if self.day >= self.horizon_days:
            raise RuntimeError(f"the run is over: all {self.horizon_days} days are simulated")
        self.env.run(until=self.day + 1)

    def run_until(self, day: int) -> None:
        """Simulate every day before ``day`` (at most the horizon)."""
        while self.day < min(day, self.horizon_days):
            self.step()

    def run(self) -> ReferenceRun:
        """Simulate the whole horizon; returns ``self``."""
        self.run_until(self.horizon_days)
        return self

    # -- the day ----------------------------------------------------------------------

    def availability(self, country: str, product: str) -> float:
        """Share of a country's supply of a product available today (events multiply)."""
        a = 1.0
        for eid, in_force in self.in_force.items():
            event = self.events[eid]
            if event.hits(product):
                a *= 1.0 - event.loss(country) * in_force
        return a

    def exposure_availability(self, exposure: Mapping[str, float], product: str) -> float:
        return sum(w * self.availability(c, product) for c, w in exposure.items())

    def _exposure(self, code: str, exposure: Mapping[str, float] | None) -> dict[str, float]:
        if exposure:
            return {c: w for c, w in exposure.items() if w > 0}
        return {self.home if code == DOMESTIC else code: 1.0}

    def _restraint(self, t: int) -> dict[str, float] | None:
        """Demand restraint on day ``t``: today's requirement of every product, or None
        when no restraint is in force (docs/model.md, "Demand restraint").

        A restraint started on day ``q`` is in force on ``q <= t < q + duration`` at
        ``max_share * ramp(t - q)`` of final demand; units forgone and their cost are
        booked here.
        """
        shares = {}
        for i, name in enumerate(self.order):
            p = self.products[name]
            r = p.spec.demand_restraint
            if p.restraint_start is None:
                continue
            q = p.restraint_start
            duration = self.horizon_days if r.duration_days is None else whole_days(r.duration_days)
            if q <= t < q + duration:
                share = r.max_share * ramp(t - q, r.ramp_days)
                forgone = p.spec.final_demand_per_day * share
                _add(p.totals, "restrained_units", forgone)
                _add(p.totals, "demand_restraint_cost", forgone * restraint_unit_cost(p.spec))
                self._record(t, i, restrained_units=forgone)
                shares[name] = share
        if not shares:
            return None
        products = {name: self.products[name].spec for name in self.order}
        req = {n: products[n].final_demand_per_day * (1.0 - shares.get(n, 0.0)) for n in self.order}
        for h in reversed(self.order):  # downstream to upstream, as the normal requirement
            for j, a in products[h].inputs.items():
                req[j] = req[j] + a * req[h] * self.domestic_share[h][t]
        return req

    def _clear_day(self, t: int) -> None:
        system_short = False
        restrained = self._restraint(t)
        for i, name in enumerate(self.order):
            p = self.products[name]
            rho = 1.0
            if restrained is not None and p.requirement[t] > 0:
                rho = restrained[name] / p.requirement[t]
            short = self._clear_product(t, i, p, rho)
            if p.spec.final_demand_per_day > 0:
                system_short |= short
                self.system_min_fulfilment = min(self.system_min_fulfilment, p.fulfilment)
        if system_short:
            self.system_shortage_days += 1
            if self.system_first_shortage is None:
                self.system_first_shortage = t
            self.system_last_shortage = t
        self.day = t + 1

    def _clear_product(self, t: int, i: int, p: ProductState, rho: float = 1.0) -> bool:
        """Clear one product's market on day ``t``; returns whether it is in shortage.

        ``rho``: today's requirement as a share of the normal one (below 1 under demand
        restraint). Quantities are fractions of the normal requirement ``D``; the
        fulfilment is the share of today's requirement ``rho * D`` delivered.
        """
        spec, D, v = p.spec, p.requirement[t], p.spec.unit_value
        totals = p.totals

        # 1. Baseline supply: each source delivers share x availability of its exposure.
        # Domestic production needs only `rho` of its inputs (Leontief).
        inputs = min((self.products[j].fulfilment * rho for j in spec.inputs), default=1.0)
        reshored = p.reshored[t]
        resh_from = spec.reshoring.from_ if spec.reshoring is not None else None
        b = 0.0
        bought = []  # (supplier's premium base, reshored extra) per source
        for s in p.suppliers:
            x = self.exposure_availability(s.exposure, p.name)
            base = s.share
            extra = 0.0
            if s.domestic:
                x = min(x, inputs)  # Leontief: capacity or inputs, whichever binds
                extra = reshored
            elif s.code == resh_from:
                base -= reshored
            b += (base + extra) * x
            bought.append((s, base * x, extra * x))
        # Recycling displaces every source pro rata; it is exposed to home hazards only.
        rc = self.recycled[p.name][t]
        recycled = 0.0
        if rc > 0:
            x_rc = self.availability(self.home, p.name)
            b = (1.0 - rc) * b + rc * x_rc
            bought = [
                (s, base_x * (1.0 - rc), extra_x * (1.0 - rc)) for s, base_x, extra_x in bought
            ]
            recycled = rc * x_rc
        # Premiums and opex are paid on purchases: under restraint, when supply exceeds
        # today's requirement, every source sells rho / b of what it could.
        kappa = rho / b if rho < 1.0 and b > rho else 1.0
        for s, base_x, extra_x in bought:
            _add(totals, "source_premium_cost", base_x * kappa * D * v * s.unit_cost_premium)
            if extra_x:
                opex = extra_x * kappa * D * v * spec.reshoring.unit_cost_premium
                _add(totals, "reshoring_opex", opex)
        if recycled:
            _add(totals, "recycled_units", recycled * kappa * D)
            opex = recycled * kappa * D * v * spec.recycling.unit_cost_premium
            _add(totals, "recycling_opex", opex)
        gap = max(0.0, rho - b) if D > 0 else 0.0
        if gap <= TOL:
            gap = 0.0  # a gap within the tolerance is no gap
        g = gap
        self._record(
            t, i, requirement=D, supply_ratio=b, gap=gap, supplied_units=(rho - g) * D,
            restrained_requirement=rho * D,
        )  # fmt: skip

        # 2-3. Reactive options and the stockpile on a gap day; refill otherwise.
        delivered = {"diversification": 0.0, "substitution": 0.0}
        released = 0.0
        if g > TOL:
            if p.first_disruption is None:
                self._first_disruption(t, p)
            for option in p.options:
                if option.qualified_day is None:
                    continue
                capacity = option.spec.max_share * ramp(
                    t - option.qualified_day, option.spec.ramp_days
                )
                if option.spec.exposure:
                    capacity *= self.exposure_availability(option.spec.exposure, p.name)
                share = min(g, capacity)
                g -= share
                delivered[option.kind] = share * D
                _add(totals, f"{option.kind}_cost", share * D * v * option.spec.unit_cost_premium)
                _add(totals, UNITS[option.kind], share * D)
            if p.stock is not None and g > 0:
                release = spec.stockpile.max_release_days_per_day * D
                released = min(g * D, release, p.stock.level)
                if released > 0:
                    _take(p.stock, released)
                    g = max(0.0, g - released / D)
                    _add(totals, "stock_released_units", released)
        elif p.stock is not None and p.stock.level < p.target:
            refill = min(spec.stockpile.refill_days_per_day * D, p.target - p.stock.level)
            if refill > 0:
                _put(p.stock, refill)

        # 4. The rest is unmet (a remainder within the tolerance is met); under restraint
        # the shortage is a share of today's (restrained) requirement and final demand.
        if g <= TOL:
            g = 0.0
        unmet_share = g / rho if rho > 0 else 0.0  # rho = 0: nothing is required, g = 0
        p.fulfilment = 1.0 - unmet_share
        final_today = spec.final_demand_per_day
        if rho < 1.0:
            final_today *= 1.0 - self._restrained_share(p, t)
        _add(totals, "unmet_units", g * D)
        _add(totals, "shortage_cost", unmet_share * final_today * spec.shortage_cost_per_unit)
        short = g > TOL
        if short:
            _add(totals, "shortage_days", 1.0)
            if p.first_shortage is None:
                p.first_shortage = t
            p.last_shortage = t
        totals["min_fulfilment"] = min(totals.get("min_fulfilment", 1.0), p.fulfilment)
        totals["min_stock"] = min(totals.get("min_stock", p.target), p.stock_level)
        if spec.stockpile is not None:
            holding = spec.stockpile.holding_cost_rate * v * p.stock_level / DAYS_PER_YEAR
            _add(totals, "holding_cost", holding)
        self._record(
            t,
            i,
            diversified_units=delivered["diversification"],
            substituted_units=delivered["substitution"],
            released_units=released,
            unmet_units=g * D,
            fulfilment=p.fulfilment,
            shortage=float(short),
            stock=p.stock_level,
        )
        return short

    def _restrained_share(self, p: ProductState, t: int) -> float:
        """Share of the product's final demand restrained on day ``t`` (0 if none)."""
        forgone = self.daily["restrained_units"][t, self.order.index(p.name)]
        if np.isnan(forgone) or p.spec.final_demand_per_day <= 0:
            return 0.0
        return forgone / p.spec.final_demand_per_day

    def _first_disruption(self, t: int, p: ProductState) -> None:
        """The product's first gap: start qualifying its reactive options and decide its
        demand restraint (in force from ``max(1, lag)`` days later)."""
        p.first_disruption = t
        r = p.spec.demand_restraint
        if r is not None and r.max_share > 0:
            p.restraint_start = t + max(1, whole_days(r.lag_days))
        if self.system_first is None:
            self.system_first = t
        for option in p.options:
            if option.succeeds:
                self._schedule_qualification(option, t + whole_days(option.spec.lag_days))

    def _schedule_qualification(self, option: ReactiveOption, day: int) -> None:
        if day <= self.env.now:
            option.qualified_day = day  # no lag, or qualified before a situation's day
        else:
            self.env.process(self._qualify(option, day))

    def _record(self, t: int, i: int, **values: float) -> None:
        for key, value in values.items():
            self.daily[key][t, i] = value

    # -- results ----------------------------------------------------------------------

    def metrics(self) -> dict[str, dict[str, float]]:
        """Per-run metrics of the days simulated so far: ``{product or 'system': {metric: value}}``."""
        rows: dict[str, dict[str, float]] = {}
        system = dict.fromkeys(METRICS, 0.0)
        for name in self.order:
            p = self.products[name]
            spec = p.spec
            row = dict.fromkeys(METRICS, 0.0)
            row["min_fulfilment"] = 1.0
            row["min_stock"] = p.target
            row.update(p.totals)
            row["stockpile_fixed_cost"] = spec.stockpile.fixed_cost if spec.stockpile else 0.0
            for kind in ("diversification", "substitution"):
                rx = getattr(spec, kind)
                if rx is not None:
                    row[f"{kind}_cost"] += rx.fixed_cost
            row["reshoring_capex"] = spec.reshoring.capex if spec.reshoring else 0.0
            row["recycling_capex"] = spec.recycling.capex if spec.recycling else 0.0
            _timing(row, p.first_disruption, p.first_shortage, p.last_shortage)
            _totals(row)
            rows[name] = row
            for k in ("shortage_cost", *MITIGATION_PARTS):
                system[k] += row[k]
        system["shortage_days"] = float(self.system_shortage_days)
        system["min_fulfilment"] = self.system_min_fulfilment
        for k in ("unmet_units", "min_stock", *UNIT_METRICS):
            system[k] = math.nan
        _timing(system, self.system_first, self.system_first_shortage, self.system_last_shortage)
        _totals(system)
        rows[SYSTEM] = system
        return rows

    def metrics_array(self, products: Sequence[str] | None = None) -> np.ndarray:
        """The metrics as an array ``[P+1, len(METRICS)]`` like one run of the kernel's output.

        ``products`` gives the row order (default: topological order, as the kernel's);
        the last row is the system.
        """
        rows = self.metrics()
        names = [*(products if products is not None else self.order), SYSTEM]
        return np.array([[rows[n][m] for m in METRICS] for n in names], dtype=np.float64)


# -- helpers ----------------------------------------------------------------------------


def _requirements(
    products: Mapping[str, Product], order: Sequence[str], T: int, decided_day: int = 0
) -> tuple[dict[str, np.ndarray], ...]:
    """Requirement D(t) of every product, and per product and day: the reshored share, the
    domestic production share and the recycled share (reshoring and recycling decided on
    ``decided_day``; recycling displaces every source pro rata and needs no inputs)."""
    days = range(T)
    reshored = {}
    domestic_share = {}
    recycled = {}
    for name in order:
        p = products[name]
        r = p.reshoring
        if r is None:
            reshored[name] = np.zeros(T)
        else:
            start = decided_day + whole_days(r.build_days)
            reshored[name] = np.array([r.share * ramp(t - start, r.ramp_days) for t in days])
        base = sum(s.share for code, s in p.sources.items() if code == DOMESTIC)
        domestic_share[name] = base + reshored[name]
        if p.recycling is None:
            recycled[name] = np.zeros(T)
        else:
            start = decided_day + whole_days(p.recycling.build_days)
            rc = p.recycling
            recycled[name] = np.array([rc.share * ramp(t - start, rc.ramp_days) for t in days])
            domestic_share[name] = domestic_share[name] * (1.0 - recycled[name])
    requirement = {name: np.full(T, products[name].final_demand_per_day) for name in order}
    for h in reversed(order):  # downstream to upstream
        for j, a in products[h].inputs.items():
            requirement[j] = requirement[j] + a * requirement[h] * domestic_share[h]
    return requirement, reshored, domestic_share, recycled


def _add(totals: dict[str, float], key: str, value: float) -> None:
    totals[key] = totals.get(key, 0.0) + value


def _take(stock: simpy.Container, amount: float) -> None:
    event = stock.get(amount)
    assert event.triggered, "a release never exceeds the stock level"


def _put(stock: simpy.Container, amount: float) -> None:
    event = stock.put(amount)
    assert event.triggered, "a refill never exceeds the target"


def _timing(
    row: dict[str, float], first: int | None, first_short: int | None, last_short: int | None
) -> None:
    row["disrupted"] = 0.0 if first is None else 1.0
    row["first_disruption_day"] = math.nan if first is None else float(first)
    if first_short is not None:
        row["tts_days"] = float(first_short - first)
        row["ttr_days"] = float(last_short - first + 1)
    else:
        row["tts_days"] = math.nan
        row["ttr_days"] = math.nan if first is None else 0.0


def _totals(row: dict[str, float]) -> None:
    row["mitigation_cost"] = sum(row[k] for k in MITIGATION_PARTS)
    row["total_cost"] = row["shortage_cost"] + row["mitigation_cost"]


# -- entry points -----------------------------------------------------------------------


def simulate_reference(
    scenario: Scenario, strategy: str, events: EventBatch, success: np.ndarray, run: int
) -> dict[str, dict[str, float]]:
    """Simulate one run with the reference engine; per-run metrics by product and ``'system'``.

    Parameters are those of :class:`ReferenceRun`. The metrics are those of
    :data:`disruptsim.conventions.METRICS`, with the same conventions as the kernel's output.
    """
    return ReferenceRun(scenario, strategy, events, success, run).run().metrics()


def reference_metrics(
    scenario: Scenario, strategy: str, events: EventBatch, success: np.ndarray, run: int
) -> np.ndarray:
    """Like :func:`simulate_reference`, as an array ``[P+1, M]`` shaped like the kernel's ``out[run]``."""
    return ReferenceRun(scenario, strategy, events, success, run).run().metrics_array()
