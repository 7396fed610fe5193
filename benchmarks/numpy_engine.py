"""A plain NumPy implementation of the kernel's dynamics, vectorised over runs.

This is the baseline the numba kernel is compared with in ``benchmarks/compare.py``:
what a careful NumPy programmer would write without a compiler. It reads the same
:class:`~disruptsim.model.compiler.CompiledModel`, :class:`~disruptsim.model.shocks.EventBatch` and
success draws as :func:`disruptsim.model.kernel.run_batch` and returns the same per-run metrics
``f8[n, P+1, N_METRICS]`` and daily fixed-point accumulators (no traces).

How it is vectorised (no Python loop over runs):

- state is held product-major, ``(P, runs)``, with products permuted so that each level
  of the bill-of-materials DAG (products whose inputs are all in earlier levels) is a
  contiguous block of rows: a level is cleared by one set of array operations on views;
- each day, only the events in force are visited: their availability factors are
  multiplied per run with ``np.multiply.reduceat`` over those few events (sorted by run),
  and the availability of every source is ``1 - sum_c w_c (1 - A_c)`` over its exposure
  countries, a few row operations over all runs (no BLAS);
- within a level, products are sorted by their number of sources, so that the products
  having a j-th source are a prefix: sources are summed slot by slot through views
  (``np.add.reduceat`` along an axis, the obvious tool, is 10x slower here).

What it does not do, unlike the kernel: skip work on quiet days (no event in force and
every stock full), on days with only stocks refilling, or for products not exposed to the
day's events. It computes every product of every run on every day; on those days it gets
the same numbers (up to rounding) by the full formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from disruptsim import conventions as K
from disruptsim.model.compiler import CompiledModel
from disruptsim.model.shocks import EventBatch

TOL = K.TOL
FIXED = K.FIXED


@dataclass
class Level:
    """One level of the DAG: products ``lo:hi`` in layout order, and their sources by slot."""

    lo: int
    hi: int
    slots: list[tuple[int, int]]  # per slot j: (first source, count): products lo:lo+count
    dom: np.ndarray  # sources (absolute) of domestic production with inputs
    dom_inputs: np.ndarray  # i8[n_dom, max_in], input products (P = sentinel, phi 1)
    resh_src: np.ndarray  # reshoring's domestic source (absolute) ...
    resh_prod: np.ndarray  # ... of these products (absolute)
    stock: np.ndarray  # products (absolute) with a stock target
    rx: tuple[np.ndarray, np.ndarray]  # products (absolute) with diversification / substitution
    final: np.ndarray  # products (absolute) with final demand
    no_requirement: np.ndarray  # products whose requirement is 0 on some day


class Slot(NamedTuple):
    """The j-th exposure country of some rows: ``x[rows] -= weight * shortfall[country]``."""

    rows: np.ndarray
    country: np.ndarray
    weight: np.ndarray


def _slots(exposure: np.ndarray, rows: np.ndarray) -> list[Slot]:
    """Exposure ``f8[C, R]`` of the selected rows (mask over R) as a list of slots."""
    slots: list[Slot] = []
    for r in np.flatnonzero(rows):
        for j, c in enumerate(np.flatnonzero(exposure[:, r])):
            if j == len(slots):
                slots.append(Slot([], [], []))
            slots[j].rows.append(r)
            slots[j].country.append(c)
            slots[j].weight.append(exposure[c, r])
    return [
        Slot(
            np.array(s.rows, dtype=np.int64),
            np.array(s.country, dtype=np.int64),
            np.array(s.weight)[:, None],
        )
        for s in slots
    ]


def _exposed(x: np.ndarray, slots: list[Slot], shortfall: np.ndarray) -> None:
    """Availability of exposed rows: ``x = 1 - sum_c w_c (1 - A_c)`` (exactly 1 without events).

    This equals the kernel's ``sum_c w_c A_c`` for weights summing to 1, without BLAS.
    """
    for j, s in enumerate(slots):
        if j == 0 and len(s.rows) == len(x):
            np.multiply(s.weight, shortfall[s.country], out=x)
            np.subtract(1.0, x, out=x)
        elif j == 0:
            x[s.rows] = 1.0 - s.weight * shortfall[s.country]
        else:
            x[s.rows] -= s.weight * shortfall[s.country]


@dataclass
class Layout:
    """A compiled model rearranged for NumPy: products level by level, dense exposures.

    Products are permuted (``order``) so that every level of the bill-of-materials DAG is a
    contiguous block of rows, and sources follow their products; every product- or
    source-indexed array below is in that order.
    """

    P: int
    T: int
    order: np.ndarray  # layout position -> product index of the compiled model
    groups: list[np.ndarray]  # per group of products hit by the same hazards: b1[H]
    exposure_slots: list[list[Slot]]  # per group: sources' exposure, slot by slot
    rx_exposure_slots: list[list[Slot]]  # per group: reactive options' exposure (2P rows)
    weight: np.ndarray  # f8[T, S], share of each source (0 when not positive)
    premium_weight: np.ndarray  # f8[T, S], share paying the source's premium x premium
    p: dict[str, np.ndarray]  # per-product parameters, permuted
    levels: list[Level]

    @classmethod
    def build(cls, model: CompiledModel) -> Layout:
        m = model.arrays
        T, P = m.requirement.shape
        C = m.haz_mult.shape[1]
        depth = np.zeros(P, dtype=np.int64)
        for i in range(P):  # topological order: inputs come first
            ins = m.in_product[m.in_ptr[i] : m.in_ptr[i + 1]]
            depth[i] = 1 + depth[ins].max() if len(ins) else 0
        # Levels in turn; in a level, products with more sources first, so that the products
        # having a j-th source are a prefix of the level ("slot" j).
        n_src = np.diff(m.src_ptr)
        order = np.lexsort((-n_src, depth))
        pos = np.empty(P, dtype=np.int64)
        pos[order] = np.arange(P)
        bounds = np.searchsorted(depth[order], np.arange(int(depth.max(initial=0)) + 2))
        src, src_owner, level_slots = [], [], []
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            slots = []
            for j in range(int(n_src[order[lo]])):
                count = int((n_src[order[lo:hi]] > j).sum())
                slots.append((len(src), count))
                for q in range(lo, lo + count):
                    src.append(m.src_ptr[order[q]] + j)
                    src_owner.append(q)
            level_slots.append(slots)
        src = np.array(src, dtype=np.int64)
        src_owner = np.array(src_owner, dtype=np.int64)
        src_pos = np.empty(len(src), dtype=np.int64)
        src_pos[src] = np.arange(len(src))
        weight = np.tile(m.src_share, (T, 1))
        premium_weight = weight.copy()
        for i in range(P):
            if m.resh_from[i] >= 0:
                f, d = m.resh_from[i], m.resh_dom[i]
                weight[:, f] -= m.resh_frac[:, i]
                premium_weight[:, f] -= m.resh_frac[:, i]
                weight[:, d] += m.resh_frac[:, i]
                premium_weight[:, d] = weight[:, d] - m.resh_frac[:, i]
        positive = weight > 0.0
        weight = np.where(positive, weight, 0.0)[:, src]
        premium_weight = (np.where(positive, premium_weight, 0.0) * m.src_premium)[:, src]

        exposure = np.zeros((C, len(src)))
        for s_new, s in enumerate(src):
            for e in range(m.exp_ptr[s], m.exp_ptr[s + 1]):
                exposure[m.exp_country[e], s_new] += m.exp_weight[e]
        rx_exposure = np.zeros((C, 2 * P))
        for kind in (0, 1):
            for q, i in enumerate(order):
                k = kind * P + i
                for e in range(m.rx_exp_ptr[k], m.rx_exp_ptr[k + 1]):
                    rx_exposure[m.rx_exp_country[e], kind * P + q] += m.rx_exp_weight[e]

        # Products hit by the same set of hazards share one availability computation.
        masks, group = np.unique(m.haz_products.T[order], axis=0, return_inverse=True)
        group = group.reshape(-1)
        rx_group = np.concatenate([group, group])

        p = {
            "requirement": np.ascontiguousarray(m.requirement[:, order]),
            "resh_frac": np.ascontiguousarray(m.resh_frac[:, order]),
            "success_order": order,
        }
        for name in (
            "final_demand", "unit_value", "shortage_cost", "resh_premium", "resh_capex",
            "stock_target", "stock_release", "stock_refill", "stock_holding", "stock_fixed",
        ):  # fmt: skip
            p[name] = getattr(m, name)[order]
        for name in ("rx_active", "rx_lag", "rx_ramp", "rx_max", "rx_premium", "rx_fixed"):
            p[name] = getattr(m, name)[:, order]

        levels = []
        for d, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            lo, hi = int(lo), int(hi)
            slots = level_slots[d]
            dom, dom_inputs, resh_src, resh_prod = [], [], [], []
            for q in range(lo, hi):
                i = order[q]
                ins = [int(pos[j]) for j in m.in_product[m.in_ptr[i] : m.in_ptr[i + 1]]]
                for s in range(m.src_ptr[i], m.src_ptr[i + 1]):
                    if m.src_domestic[s] and ins:
                        dom.append(src_pos[s])
                        dom_inputs.append(ins)
                    if s == m.resh_dom[i]:
                        resh_src.append(src_pos[s])
                        resh_prod.append(q)
            width = max((len(x) for x in dom_inputs), default=1)
            padded = np.full((len(dom_inputs), width), P, dtype=np.int64)
            for r, ins in enumerate(dom_inputs):
                padded[r, : len(ins)] = ins
            block = np.arange(lo, hi)
            i64 = np.int64
            levels.append(
                Level(
                    lo=lo,
                    hi=hi,
                    slots=slots,
                    dom=np.array(dom, dtype=i64),
                    dom_inputs=padded,
                    resh_src=np.array(resh_src, dtype=i64),
                    resh_prod=np.array(resh_prod, dtype=i64),
                    stock=block[p["stock_target"][lo:hi] > 0.0],
                    rx=(block[p["rx_active"][0, lo:hi]], block[p["rx_active"][1, lo:hi]]),
                    final=block[p["final_demand"][lo:hi] > 0.0],
                    no_requirement=block[(p["requirement"][:, lo:hi] <= 0.0).any(axis=0)],
                )
            )
        return cls(
            P=P,
            T=T,
            order=order,
            groups=[mask.astype(bool) for mask in masks],
            exposure_slots=[_slots(exposure, group[src_owner] == g) for g in range(len(masks))],
            rx_exposure_slots=[_slots(rx_exposure, rx_group == g) for g in range(len(masks))],
            weight=np.ascontiguousarray(weight),
            premium_weight=np.ascontiguousarray(premium_weight),
            p=p,
            levels=levels,
        )


@dataclass
class NumpyOutput:
    """Per-run metrics and daily accumulators, as the kernel's batch output."""

    metrics: np.ndarray  # f8[n, P+1, N_METRICS]
    sum_gap: np.ndarray  # i8[T, P]
    sum_short: np.ndarray  # i8[T, P+1]
    sum_stock_deficit: np.ndarray  # i8[T, P]


def run_batch_numpy(
    model: CompiledModel, events: EventBatch, success: np.ndarray, layout: Layout | None = None
) -> NumpyOutput:
    """Simulate a batch of runs of one strategy (the kernel's dynamics, in NumPy).

    The NumPy engine is a benchmark comparison of the first four levers: a model using demand
    restraint or recycling is refused rather than simulated without them.
    """
    if model.arrays.rs_count > 0 or np.any(model.arrays.rc_frac):
        raise NotImplementedError(
            "the NumPy engine of the benchmarks has no demand restraint or recycling"
        )
    lay = layout if layout is not None else Layout.build(model)
    m, p = model.arrays, lay.p
    T, P = lay.T, lay.P
    n = events.n_runs
    S = lay.weight.shape[1]

    # Events: loss per event and country (0 where the hazard spares the country).
    e_run = np.repeat(np.arange(n), np.diff(events.ptr))
    e_start, e_end, e_rec, e_sev = events.start, events.end, events.recovery, events.severity
    e_last = e_end + e_rec  # first day the event is no longer in force
    mult = m.haz_mult[events.hazard]
    loss = np.where(mult > 0.0, np.minimum(1.0, e_sev[:, None] * mult), 0.0)
    e_hits = [g[events.hazard] for g in lay.groups]

    # State, product-major (P, n) in layout order; phi has a sentinel row P of ones.
    target = p["stock_target"]
    tgt = target[:, None]
    stock = np.repeat(tgt, n, axis=1)
    phi = np.ones((P + 1, n))
    first = np.full((P, n), -1, dtype=np.int64)
    first_short = np.full((P, n), -1, dtype=np.int64)
    last_short = np.full((P, n), -1, dtype=np.int64)
    qual = np.full((2, P, n), -1, dtype=np.int64)
    rx_ok = p["rx_active"][:, :, None] & np.transpose(success, (1, 2, 0))[:, lay.order]
    z = lambda: np.zeros((P, n))  # noqa: E731
    unmet, short_days, shortage_cost, holding, premium, opex = z(), z(), z(), z(), z(), z()
    rx_cost, rx_units = (z(), z()), (z(), z())
    released = z()
    min_f = np.ones((P, n))
    min_stock = stock.copy()
    sys_first = np.full(n, -1, dtype=np.int64)
    sys_first_short = np.full(n, -1, dtype=np.int64)
    sys_last_short = np.full(n, -1, dtype=np.int64)
    sys_short_days = np.zeros(n)
    sys_min = np.ones(n)
    acc_gap = np.zeros((T, P), dtype=np.int64)
    acc_short = np.zeros((T, P + 1), dtype=np.int64)
    acc_stock = np.zeros((T, P), dtype=np.int64)

    value = p["unit_value"][:, None]
    final_cost = (p["final_demand"] * p["shortage_cost"])[:, None]
    holding_rate = (p["stock_holding"] * p["unit_value"] / 365.0)[:, None]
    x_all = np.ones((S, n))
    xr_all = np.ones((2 * P, n))
    short_c = np.zeros((m.haz_mult.shape[1], n))  # 1 - availability per country and run
    b_all = np.empty((P, n))
    prem_all = np.empty((P, n))

    for t in range(T):
        D_all = p["requirement"][t][:, None]
        dv_all = D_all * value
        # Availability of every source (and reactive exposure) of runs with an event in force.
        # x = 1 - exposure' (1 - A): exactly 1 for runs with no event in force (as the kernel).
        act = np.flatnonzero((e_start <= t) & (t < e_last) & (e_sev > 0.0))
        if act.size:
            k = t - e_end[act]
            prof = np.where(k < 0, 1.0, 1.0 - (k + 1.0) / (e_rec[act] + 1.0))
            runs = e_run[act]
            bounds = np.flatnonzero(np.r_[True, runs[1:] != runs[:-1]])
            hit_runs = runs[bounds]
            for g, hits in enumerate(e_hits):
                factor = 1.0 - loss[act] * (prof * hits[act])[:, None]
                short_c.fill(0.0)
                short_c[:, hit_runs] = 1.0 - np.multiply.reduceat(factor, bounds, axis=0).T
                _exposed(x_all, lay.exposure_slots[g], short_c)
                _exposed(xr_all, lay.rx_exposure_slots[g], short_c)
        else:
            x_all.fill(1.0)
            xr_all.fill(1.0)
        sys_dis = np.zeros(n, dtype=bool)
        sys_short = np.zeros(n, dtype=bool)

        for lev in lay.levels:
            lo, hi = lev.lo, lev.hi
            D = D_all[lo:hi]
            if lev.dom.size:  # Leontief: domestic production limited by its inputs
                x_all[lev.dom] = np.minimum(x_all[lev.dom], phi[lev.dom_inputs].min(axis=1))
            # Sum over each product's sources, slot by slot (a product's j-th source).
            b, prem = b_all[lo:hi], prem_all[lo:hi]
            for j, (s0, count) in enumerate(lev.slots):
                xj = x_all[s0 : s0 + count]
                wj = lay.weight[t, s0 : s0 + count][:, None]
                pj = lay.premium_weight[t, s0 : s0 + count][:, None]
                if j == 0:  # every product has a first source
                    np.multiply(xj, wj, out=b)
                    np.multiply(xj, pj, out=prem)
                else:
                    b[:count] += xj * wj
                    prem[:count] += xj * pj
            dv = dv_all[lo:hi]
            premium[lo:hi] += prem * dv
            if lev.resh_src.size:
                rp = lev.resh_prod
                opex[rp] += (p["resh_frac"][t, rp][:, None] * x_all[lev.resh_src] * dv_all[rp]) * p[
                    "resh_premium"
                ][rp][:, None]
            g = 1.0 - b
            g[g <= TOL] = 0.0  # a gap within the tolerance is no gap
            if lev.no_requirement.size:
                g[(D[:, 0] <= 0.0)] = 0.0
            dis = g > TOL
            sys_dis |= dis.any(axis=0)

            fi = first[lo:hi]
            newly = dis & (fi < 0)
            if newly.any():
                fi[newly] = t
                for kind in (0, 1):
                    if lev.rx[kind].size:
                        np.copyto(
                            qual[kind, lo:hi],
                            t + p["rx_lag"][kind, lo:hi][:, None],
                            where=newly & rx_ok[kind, lo:hi],
                        )

            for kind in (0, 1):  # reactive diversification, then substitution
                rp = lev.rx[kind]
                if not rp.size:
                    continue
                q = qual[kind, rp]
                gk = g[rp - lo]
                on = dis[rp - lo] & (q >= 0) & (t >= q) & (gk > 0.0)
                if not on.any():
                    continue
                ramp = np.minimum(1.0, (t - q + 1.0) / (p["rx_ramp"][kind, rp][:, None] + 1.0))
                cap = p["rx_max"][kind, rp][:, None] * ramp * xr_all[kind * P + rp]
                dlv = np.minimum(gk, cap) * on
                g[rp - lo] = gk - dlv
                units = dlv * D_all[rp]
                rx_units[kind][rp] += units
                rx_cost[kind][rp] += (
                    units * (p["unit_value"][rp] * p["rx_premium"][kind, rp])[:, None]
                )

            if lev.stock.size:  # stockpile: release on a disrupted day, else refill
                sp = lev.stock
                st = stock[sp]
                gs = g[sp - lo]
                Ds = D_all[sp]
                ds = dis[sp - lo]
                on = ds & (st > 0.0) & (gs > 0.0)
                rel = np.minimum(np.minimum(gs * Ds, p["stock_release"][sp][:, None] * Ds), st) * on
                st -= rel
                g[sp - lo] = np.maximum(gs - rel / np.where(Ds > 0.0, Ds, 1.0), 0.0)
                released[sp] += rel
                ts = tgt[sp]
                fill = p["stock_refill"][sp][:, None] * Ds
                refill = ~ds & (st < ts)
                np.copyto(st, np.where(ts - st < fill, ts, st + fill), where=refill)
                stock[sp] = st
                min_stock[sp] = np.minimum(min_stock[sp], st)
                holding[sp] += holding_rate[sp] * st
                acc_stock[t, sp] += ((ts - st) / ts * FIXED + 0.5).astype(np.int64).sum(axis=1)

            g[g <= TOL] = 0.0  # a remainder within the tolerance is met
            np.subtract(1.0, g, out=phi[lo:hi])
            f = phi[lo:hi]
            unmet[lo:hi] += g * D
            shortage_cost[lo:hi] += g * final_cost[lo:hi]
            short = g > TOL
            short_days[lo:hi] += short
            fs = first_short[lo:hi]
            fs[short & (fs < 0)] = t
            last_short[lo:hi][short] = t
            np.minimum(min_f[lo:hi], f, out=min_f[lo:hi])
            if lev.final.size:
                sys_short |= short[lev.final - lo].any(axis=0)
                np.minimum(sys_min, f[lev.final - lo].min(axis=0), out=sys_min)
            acc_gap[t, lo:hi] += (g * FIXED + 0.5).astype(np.int64).sum(axis=1)
            acc_short[t, lo:hi] += short.sum(axis=1)

        sys_first[sys_dis & (sys_first < 0)] = t
        sys_short_days += sys_short
        acc_short[t, P] += int(sys_short.sum())
        sys_first_short[sys_short & (sys_first_short < 0)] = t
        sys_last_short[sys_short] = t

    out = np.zeros((n, P + 1, K.N_METRICS))
    cols = {
        K.M_UNMET: unmet,
        K.M_SHORT_DAYS: short_days,
        K.M_MIN_FULFIL: min_f,
        K.M_MIN_STOCK: min_stock,
        K.M_SHORTAGE_COST: shortage_cost,
        K.M_HOLDING: holding,
        K.M_PREMIUM: premium,
        K.M_DIV_COST: rx_cost[0] + p["rx_fixed"][0][:, None],
        K.M_SUB_COST: rx_cost[1] + p["rx_fixed"][1][:, None],
        K.M_OPEX: opex,
        K.M_DIV_UNITS: rx_units[0],
        K.M_SUB_UNITS: rx_units[1],
        K.M_RELEASED: released,
        K.M_STOCK_FIXED: np.broadcast_to(p["stock_fixed"][:, None], (P, n)),
        K.M_CAPEX: np.broadcast_to(p["resh_capex"][:, None], (P, n)),
    }
    rows = out[:, lay.order]  # layout order -> the compiled model's product order
    for k, v in cols.items():
        rows[:, :, k] = v.T
    _finalise(rows, first.T, first_short.T, last_short.T)
    out[:, lay.order] = rows
    sysrow = out[:, P]
    sysrow[:, K.COST_INDEX] = out[:, :P][:, :, K.COST_INDEX].sum(axis=1)
    sysrow[:, K.M_SHORT_DAYS] = sys_short_days
    sysrow[:, K.M_MIN_FULFIL] = sys_min
    sysrow[:, K.UNIT_INDEX] = np.nan
    _finalise(
        out[:, P : P + 1], sys_first[:, None], sys_first_short[:, None], sys_last_short[:, None]
    )
    unpermute = np.empty_like(lay.order)
    unpermute[lay.order] = np.arange(P)
    acc_short_out = acc_short.copy()
    acc_short_out[:, :P] = acc_short[:, unpermute]
    return NumpyOutput(out, acc_gap[:, unpermute], acc_short_out, acc_stock[:, unpermute])


def _finalise(
    out: np.ndarray, f: np.ndarray, first_short: np.ndarray, last_short: np.ndarray
) -> None:
    """Totals and timing metrics of rows ``out[n, rows, M]`` (``f`` etc. are ``[n, rows]``)."""
    out[..., K.M_MITIGATION] = out[..., K.COST_PART_INDEX].sum(axis=-1)
    out[..., K.M_TOTAL] = out[..., K.M_SHORTAGE_COST] + out[..., K.M_MITIGATION]
    disrupted = f >= 0
    shortage = first_short >= 0
    out[..., K.M_DISRUPTED] = disrupted
    out[..., K.M_FIRST] = np.where(disrupted, f, np.nan)
    out[..., K.M_TTS] = np.where(shortage, first_short - f, np.nan)
    out[..., K.M_TTR] = np.where(shortage, last_short - f + 1, np.where(disrupted, 0.0, np.nan))
