"""Scenario -> flat NumPy arrays for the kernel (the quantities of ``docs/model.md``).

:func:`compile_strategy` turns one resolved strategy of a scenario into a
:class:`CompiledModel`: products in topological order (upstream first), sources,
exposures and inputs in CSR form, integer country codes, and the deterministic
day-by-day quantities (requirements, reshoring shift, quiet-day costs) that do not
depend on the sampled shocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..conventions import DAYS_PER_YEAR, DOMESTIC, ramp, whole_days
from ..scenario.checks import restraint_unit_cost
from ..scenario.model import Scenario
from ..scenario.schema import Product, Reactive, World

#: Largest deviation from 1 of a product's shares that the kernel accepts.
SHARE_TOLERANCE = 1e-9

#: Index of diversification and substitution in the reactive arrays.
DIVERSIFICATION, SUBSTITUTION = 0, 1


class KernelModel(NamedTuple):
    """The arrays the numba kernel reads (one strategy). See :class:`CompiledModel`."""

    final_demand: np.ndarray  # f8[P]
    unit_value: np.ndarray  # f8[P]
    shortage_cost: np.ndarray  # f8[P], per unit of unmet final demand
    requirement: np.ndarray  # f8[T, P]
    src_ptr: np.ndarray  # i8[P+1]
    src_share: np.ndarray  # f8[S], share on day 0
    src_premium: np.ndarray  # f8[S]
    src_domestic: np.ndarray  # b1[S]
    exp_ptr: np.ndarray  # i8[S+1]
    exp_country: np.ndarray  # i8[E]
    exp_weight: np.ndarray  # f8[E]
    in_ptr: np.ndarray  # i8[P+1]
    in_product: np.ndarray  # i8[I]
    home: int
    resh_from: np.ndarray  # i8[P], source index or -1
    resh_dom: np.ndarray  # i8[P], domestic source index or -1
    resh_frac: np.ndarray  # f8[T, P], share moved from `from` to domestic
    resh_premium: np.ndarray  # f8[P]
    resh_capex: np.ndarray  # f8[P]
    stock_target: np.ndarray  # f8[P], units
    stock_release: np.ndarray  # f8[P], days of requirement per day
    stock_refill: np.ndarray  # f8[P], days of requirement per day
    stock_holding: np.ndarray  # f8[P], per year, fraction of value
    stock_fixed: np.ndarray  # f8[P]
    rx_active: np.ndarray  # b1[2, P]
    rx_lag: np.ndarray  # i8[2, P]
    rx_ramp: np.ndarray  # f8[2, P]
    rx_max: np.ndarray  # f8[2, P]
    rx_premium: np.ndarray  # f8[2, P]
    rx_fixed: np.ndarray  # f8[2, P]
    rx_exp_ptr: np.ndarray  # i8[2*P+1], CSR over k = kind*P + product
    rx_exp_country: np.ndarray  # i8[R]
    rx_exp_weight: np.ndarray  # f8[R]
    haz_mult: np.ndarray  # f8[H, C], severity multiplier per country (hazards then shocks)
    haz_products: np.ndarray  # b1[H, P]
    haz_exposes: np.ndarray  # b1[H, P], the hazard can reduce the product's supply directly
    haz_group: np.ndarray  # i8[P], products covered by the same hazards share a group
    group_rep: np.ndarray  # i8[G], a product of each group
    resh_on: np.ndarray  # b1[P], resh_frac[:, i] has a nonzero day
    rc_on: np.ndarray  # b1[P], rc_frac[:, i] has a nonzero day
    quiet_premium: np.ndarray  # f8[T+1, P], prefix sums of quiet-day source premiums
    quiet_opex: np.ndarray  # f8[T+1, P], prefix sums of quiet-day reshoring opex
    quiet_holding: np.ndarray  # f8[P], holding cost per quiet day (full stock)
    in_amount: np.ndarray  # f8[I], units of the input per unit of domestic production
    dom_share: np.ndarray  # f8[T, P], domestic production share (reshoring included)
    rs_count: int  # products with demand restraint (0: the kernel skips it)
    rs_lag: np.ndarray  # i8[P], days from the first disruption to the start (>= 1)
    rs_duration: np.ndarray  # i8[P], days in force
    rs_ramp: np.ndarray  # f8[P]
    rs_max: np.ndarray  # f8[P], share of final demand (0: no restraint)
    rs_unit_cost: np.ndarray  # f8[P], euros per unit of final demand forgone
    rc_count: int  # products with recycling (0: the kernel skips it)
    rc_frac: np.ndarray  # f8[T, P], recycling capacity, share of requirement
    rc_premium: np.ndarray  # f8[P], per recycled unit, fraction of unit_value
    rc_capex: np.ndarray  # f8[P]
    quiet_recycled: np.ndarray  # f8[T+1, P], prefix sums of quiet-day recycled units
    quiet_rc_opex: np.ndarray  # f8[T+1, P], prefix sums of quiet-day recycling opex


@dataclass(frozen=True)
class CompiledModel:
    """One strategy of a scenario as flat arrays.

    Attributes
    ----------
    strategy : str
        Strategy name.
    products : tuple of str
        Product names in topological order (every product after its inputs).
    countries : tuple of str
        Country codes; integer codes index this tuple.
    horizon_days : int
        Number of simulated days ``T``.
    hazard_names : tuple of str
        Hazards then shocks, indexing the first axis of ``arrays.haz_mult``.
    arrays : KernelModel
        The arrays the kernel reads.
    success_probability : numpy.ndarray
        ``f8[2, P]``: probability that reactive diversification (row 0) and
        substitution (row 1) succeed in a run.
    """

    strategy: str
    products: tuple[str, ...]
    countries: tuple[str, ...]
    horizon_days: int
    hazard_names: tuple[str, ...]
    arrays: KernelModel
    success_probability: np.ndarray

    @property
    def n_products(self) -> int:
        return len(self.products)


def topological_order(world: World) -> list[str]:
    """Products ordered so that every product comes after its inputs.

    Ties keep the order of the scenario file. Cycles are rejected when the scenario
    is loaded, so they cannot occur here.
    """
    names = list(world.products)
    pending = {n: set(world.products[n].inputs) for n in names}
    order: list[str] = []
    while pending:
        ready = [n for n in names if n in pending and not pending[n]]
        if not ready:  # pragma: no cover - guarded by scenario validation
            raise ValueError(f"cycle in inputs among {sorted(pending)}")
        for n in ready:
            order.append(n)
            del pending[n]
        for deps in pending.values():
            deps.difference_update(ready)
    return order


def scenario_countries(scenario: Scenario) -> tuple[str, ...]:
    """Every country code used by any strategy, home first, then sorted."""
    codes: set[str] = set()
    for strategy in scenario.strategies.values():
        w = strategy.world
        for p in w.products.values():
            for code, src in p.sources.items():
                if code != DOMESTIC:
                    codes.add(code)
                codes.update((src.exposure or {}).keys())
            for rx in (p.diversification, p.substitution):
                if rx is not None:
                    codes.update((rx.exposure or {}).keys())
        for h in (*w.hazards, *w.shocks):
            codes.update(h.countries)
    codes.discard(scenario.home)
    return (scenario.home, *sorted(codes))


def _csr(rows: list[list]) -> tuple[np.ndarray, list]:
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    return ptr, [x for r in rows for x in r]


def restraint_arrays(products: list[Product], T: int) -> dict[str, Any]:
    """The ``rs_*`` arrays of demand restraint (docs/model.md, "Demand restraint")."""
    P = len(products)
    out: dict[str, Any] = {
        "rs_lag": np.ones(P, dtype=np.int64),
        "rs_duration": np.zeros(P, dtype=np.int64),
        "rs_ramp": np.zeros(P),
        "rs_max": np.zeros(P),
        "rs_unit_cost": np.zeros(P),
    }
    count = 0
    for i, p in enumerate(products):
        r = p.demand_restraint
        if r is None or r.max_share <= 0:
            continue
        count += 1
        out["rs_lag"][i] = max(1, whole_days(r.lag_days))
        out["rs_duration"][i] = T if r.duration_days is None else whole_days(r.duration_days)
        out["rs_ramp"][i] = r.ramp_days
        out["rs_max"][i] = r.max_share
        out["rs_unit_cost"][i] = restraint_unit_cost(p)
    out["rs_count"] = count
    return out


def recycling_share(products: list[Product], T: int, decided_day: int = 0) -> np.ndarray:
    """``rc_frac[t, i]``: recycling capacity of product i on day t, a share of requirement
    ramping to ``share`` from day ``decided_day + build_days`` (docs/model.md, "Recycling")."""
    days = np.arange(T, dtype=np.float64)
    frac = np.zeros((T, len(products)))
    for i, p in enumerate(products):
        r = p.recycling
        if r is not None:
            start = decided_day + whole_days(r.build_days)
            frac[:, i] = r.share * ramp(days - start, r.ramp_days)
    return frac


def compile_strategy(
    scenario: Scenario,
    strategy: str = "baseline",
    *,
    decided_day: int = 0,
    extra_events: Sequence[Any] = (),
) -> CompiledModel:
    """Compile one strategy of a scenario into flat arrays.

    Parameters
    ----------
    scenario : Scenario
        A scenario from :func:`disruptsim.load_scenario`.
    strategy : str, default "baseline"
        Name of the strategy to compile.
    decided_day : int, default 0
        Day the strategy is decided: reshoring starts building then, and stock targets
        are set from that day's requirement (simulating from a situation,
        ``docs/scenario-reference.md``).
    extra_events : sequence, default ()
        Further event kinds after the hazards and shocks (the events in force of a
        situation), each with ``countries`` (multiplier per country), ``products``
        (None: every product) and ``name``.

    Returns
    -------
    CompiledModel
        Arrays in topological product order with integer country codes.

    Examples
    --------
    >>> import disruptsim as ds
    >>> sc = ds.load_scenario("scenarios/example-minimal.yaml")  # doctest: +SKIP
    >>> cm = ds.compile(sc, "baseline")  # doctest: +SKIP
    >>> cm.arrays.requirement.shape == (sc.horizon_days, cm.n_products)  # doctest: +SKIP
    True
    """
    world = scenario.world(strategy)
    T = scenario.horizon_days
    order = topological_order(world)
    index = {name: i for i, name in enumerate(order)}
    P = len(order)
    countries = scenario_countries(scenario)
    cidx = {c: i for i, c in enumerate(countries)}
    home = cidx[scenario.home]
    days = np.arange(T, dtype=np.float64)

    def exposure_rows(exposure: dict[str, float] | None, own: str) -> list[tuple[int, float]]:
        if exposure:
            return [(cidx[c], float(w)) for c, w in exposure.items() if w > 0]
        return [(cidx[scenario.home if own == DOMESTIC else own], 1.0)]

    products = [world.products[n] for n in order]
    src_rows, exp_rows, in_rows = [], [], []
    resh_from = np.full(P, -1, dtype=np.int64)
    resh_dom = np.full(P, -1, dtype=np.int64)
    resh_frac = np.zeros((T, P))
    resh_premium = np.zeros(P)
    resh_capex = np.zeros(P)
    n_src = 0
    for i, p in enumerate(products):
        row = []
        for code, src in p.sources.items():
            row.append((code, src.share, src.unit_cost_premium, code == DOMESTIC))
            exp_rows.append(exposure_rows(src.exposure, code))
        if p.reshoring is not None:
            codes = [r[0] for r in row]
            resh_from[i] = n_src + codes.index(p.reshoring.from_)
            if DOMESTIC not in codes:
                row.append((DOMESTIC, 0.0, 0.0, True))
                exp_rows.append(exposure_rows(None, DOMESTIC))
                codes.append(DOMESTIC)
            resh_dom[i] = n_src + codes.index(DOMESTIC)
            r = p.reshoring
            build = decided_day + whole_days(r.build_days)
            resh_frac[:, i] = r.share * ramp(days - build, r.ramp_days)
            resh_premium[i] = r.unit_cost_premium
            resh_capex[i] = r.capex
        src_rows.append(row)
        in_rows.append([(index[j], a) for j, a in p.inputs.items()])
        n_src += len(row)

    for i, row in enumerate(src_rows):
        total = sum(r[1] for r in row)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(
                f"shares of {order[i]!r} sum to {total!r}; the kernel needs them to sum to 1 "
                "(load scenarios with disruptsim.load_scenario, which rescales them)"
            )
    src_ptr, srcs = _csr(src_rows)
    src_share = np.array([s[1] for s in srcs], dtype=np.float64)
    src_premium = np.array([s[2] for s in srcs], dtype=np.float64)
    src_domestic = np.array([s[3] for s in srcs], dtype=np.bool_)
    exp_ptr, exps = _csr(exp_rows)
    in_ptr, ins = _csr(in_rows)
    in_product = np.array([j for j, _ in ins], dtype=np.int64)

    # Domestic share of each product per day, then requirements downstream-to-upstream.
    # Recycling displaces every source pro rata and needs no inputs.
    rc_frac = recycling_share(products, T, decided_day)
    recycles = [i for i, p in enumerate(products) if p.recycling is not None]
    dom_share = np.zeros((T, P))
    for i in range(P):
        for s in range(src_ptr[i], src_ptr[i + 1]):
            if src_domestic[s]:
                dom_share[:, i] += src_share[s]
        if resh_dom[i] >= 0:
            dom_share[:, i] += resh_frac[:, i]
    for i in recycles:
        dom_share[:, i] *= 1.0 - rc_frac[:, i]
    final_demand = np.array([p.final_demand_per_day for p in products], dtype=np.float64)
    requirement = np.tile(final_demand, (T, 1))
    for h in reversed(range(P)):
        for j, a in in_rows[h]:
            requirement[:, j] += a * requirement[:, h] * dom_share[:, h]

    unit_value = np.array([p.unit_value for p in products], dtype=np.float64)
    shortage_cost = np.array([p.shortage_cost_per_unit for p in products], dtype=np.float64)

    stock_target = np.zeros(P)
    stock_release = np.zeros(P)
    stock_refill = np.zeros(P)
    stock_holding = np.zeros(P)
    stock_fixed = np.zeros(P)
    for i, p in enumerate(products):
        sp = p.stockpile
        if sp is not None:
            stock_target[i] = sp.initial_days * requirement[min(decided_day, T - 1), i]
            stock_release[i] = sp.max_release_days_per_day
            stock_refill[i] = sp.refill_days_per_day
            stock_holding[i] = sp.holding_cost_rate
            stock_fixed[i] = sp.fixed_cost

    rx_active = np.zeros((2, P), dtype=np.bool_)
    rx_lag = np.zeros((2, P), dtype=np.int64)
    rx_ramp = np.zeros((2, P))
    rx_max = np.zeros((2, P))
    rx_premium = np.zeros((2, P))
    rx_fixed = np.zeros((2, P))
    rx_success = np.ones((2, P))
    rx_exp_rows: list[list[tuple[int, float]]] = [[] for _ in range(2 * P)]
    for i, p in enumerate(products):
        for kind, rx in ((DIVERSIFICATION, p.diversification), (SUBSTITUTION, p.substitution)):
            if rx is None:
                continue
            assert isinstance(rx, Reactive)
            rx_active[kind, i] = True
            rx_lag[kind, i] = whole_days(rx.lag_days)
            rx_ramp[kind, i] = rx.ramp_days
            rx_max[kind, i] = rx.max_share
            rx_premium[kind, i] = rx.unit_cost_premium
            rx_fixed[kind, i] = rx.fixed_cost
            rx_success[kind, i] = rx.success_probability
            if rx.exposure:
                rx_exp_rows[kind * P + i] = [(cidx[c], w) for c, w in rx.exposure.items() if w > 0]
    rx_exp_ptr, rx_exps = _csr(rx_exp_rows)

    events = (*world.hazards, *world.shocks, *extra_events)
    haz_mult = np.zeros((len(events), len(countries)))
    haz_products = np.zeros((len(events), P), dtype=np.bool_)
    for h, ev in enumerate(events):
        for c, m in ev.countries.items():
            if c in cidx:  # a country no source draws on (an explicit situation event)
                haz_mult[h, cidx[c]] = m
        if ev.products is None:
            haz_products[h, :] = True
        else:
            for name in ev.products:
                haz_products[h, index[name]] = True

    # Products covered by the same hazards (equal columns of haz_products) share their
    # availability per country and day: the kernel caches it per group (docs/architecture.md).
    groups: dict[bytes, int] = {}
    haz_group = np.array(
        [groups.setdefault(haz_products[:, i].tobytes(), len(groups)) for i in range(P)],
        dtype=np.int64,
    )
    group_rep = np.array(
        [int(np.argmax(haz_group == g)) for g in range(len(groups))], dtype=np.int64
    )

    # A hazard exposes a product directly when it covers the product and hits a country the
    # product's sources or reactive options draw on (home for domestic production).
    reach = np.zeros((len(countries), P), dtype=np.bool_)
    for i in range(P):
        for s in range(src_ptr[i], src_ptr[i + 1]):
            for e in range(exp_ptr[s], exp_ptr[s + 1]):
                reach[exps[e][0], i] = True
        for kind in (DIVERSIFICATION, SUBSTITUTION):
            for c, _ in rx_exp_rows[kind * P + i]:
                reach[c, i] = True
    reach[home, recycles] = True
    haz_exposes = haz_products & ((haz_mult > 0) @ reach)

    # Quiet days (no shock active anywhere, every stock full): everything is delivered
    # by the baseline mix, so premiums and opex are deterministic; keep prefix sums.
    # Reshored units pay the reshoring premium, not the domestic source's.
    premium_day = np.zeros((T, P))
    for i in range(P):
        for s in range(src_ptr[i], src_ptr[i + 1]):
            share = np.full(T, src_share[s])
            if s == resh_from[i]:
                share = np.maximum(share - resh_frac[:, i], 0.0)
            premium_day[:, i] += share * src_premium[s]
    premium_day *= requirement * unit_value
    opex_day = resh_frac * requirement * unit_value * resh_premium
    quiet_premium = np.zeros((T + 1, P))
    quiet_premium[1:] = np.cumsum(premium_day, axis=0)
    quiet_opex = np.zeros((T + 1, P))
    quiet_opex[1:] = np.cumsum(opex_day, axis=0)
    rc_premium = np.array([p.recycling.unit_cost_premium if p.recycling else 0.0 for p in products])
    recycled_day = rc_frac * requirement
    for i in recycles:
        quiet_premium[1:, i] = np.cumsum(premium_day[:, i] * (1.0 - rc_frac[:, i]))
        quiet_opex[1:, i] = np.cumsum(opex_day[:, i] * (1.0 - rc_frac[:, i]))
    quiet_recycled = np.zeros((T + 1, P))
    quiet_recycled[1:] = np.cumsum(recycled_day, axis=0)
    quiet_rc_opex = np.zeros((T + 1, P))
    quiet_rc_opex[1:] = np.cumsum(recycled_day * unit_value * rc_premium, axis=0)
    quiet_holding = stock_holding * unit_value * stock_target / DAYS_PER_YEAR

    f8 = np.float64
    arrays = KernelModel(
        final_demand=final_demand,
        unit_value=unit_value,
        shortage_cost=shortage_cost,
        requirement=np.ascontiguousarray(requirement),
        src_ptr=src_ptr,
        src_share=src_share,
        src_premium=src_premium,
        src_domestic=src_domestic,
        exp_ptr=exp_ptr,
        exp_country=np.array([c for c, _ in exps], dtype=np.int64),
        exp_weight=np.array([w for _, w in exps], dtype=f8),
        in_ptr=in_ptr,
        in_product=in_product,
        home=home,
        resh_from=resh_from,
        resh_dom=resh_dom,
        resh_frac=np.ascontiguousarray(resh_frac),
        resh_premium=resh_premium,
        resh_capex=resh_capex,
        stock_target=stock_target,
        stock_release=stock_release,
        stock_refill=stock_refill,
        stock_holding=stock_holding,
        stock_fixed=stock_fixed,
        rx_active=rx_active,
        rx_lag=rx_lag,
        rx_ramp=rx_ramp,
        rx_max=rx_max,
        rx_premium=rx_premium,
        rx_fixed=rx_fixed,
        rx_exp_ptr=rx_exp_ptr,
        rx_exp_country=np.array([c for c, _ in rx_exps], dtype=np.int64),
        rx_exp_weight=np.array([w for _, w in rx_exps], dtype=f8),
        haz_mult=haz_mult,
        haz_products=haz_products,
        haz_exposes=haz_exposes,
        haz_group=haz_group,
        group_rep=group_rep,
        resh_on=(resh_frac != 0.0).any(axis=0),
        rc_on=(rc_frac != 0.0).any(axis=0),
        quiet_premium=quiet_premium,
        quiet_opex=quiet_opex,
        quiet_holding=quiet_holding,
        in_amount=np.array([a for _, a in ins], dtype=f8),
        dom_share=np.ascontiguousarray(dom_share),
        **restraint_arrays(products, T),
        rc_count=len(recycles),
        rc_frac=np.ascontiguousarray(rc_frac),
        rc_premium=rc_premium,
        rc_capex=np.array([p.recycling.capex if p.recycling else 0.0 for p in products]),
        quiet_recycled=quiet_recycled,
        quiet_rc_opex=quiet_rc_opex,
    )
    hazard_names = (
        tuple(h.name for h in world.hazards)
        + tuple(s.name or f"shock {k}" for k, s in enumerate(world.shocks))
        + tuple(e.name for e in extra_events)
    )
    return CompiledModel(
        strategy=strategy,
        products=tuple(order),
        countries=countries,
        horizon_days=T,
        hazard_names=hazard_names,
        arrays=arrays,
        success_probability=rx_success,
    )
