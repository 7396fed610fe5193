"""FROZEN copy of the numba kernel as of commit 68da504 (structured inputs, situations,
demand restraint and recycling; before the per-day availability cache of issue #17), kept
unchanged as the yardstick of ``benchmarks/bench_kernel_vs_frozen.py`` and of
``tests/test_kernel_frozen.py``.

Do not edit the dynamics here. Changes to the copied code: imports are absolute; it is
compiled without numba's on-disk cache (``cache=False``: its constants come from
``disruptsim.conventions``, which numba would not re-validate); the conventions stamp is
dropped. :func:`run_strategy_batch_v1` is the frozen counterpart of
:func:`disruptsim.run.engine.run_strategy_batch` (same arguments and output arrays).

It reads the fields of :class:`disruptsim.model.compiler.KernelModel` and
:class:`disruptsim.model.situation.StartState` by name, so it keeps working when fields
are added (a field it reads must not be renamed).

The original docstring follows.

The numba simulation kernel: daily dynamics and per-run metrics (``docs/model.md``).

Numba code only: no RNG, no Python objects. Every function here is a deterministic
function of records of arrays (a :class:`~disruptsim.model.compiler.KernelModel`, an
:class:`~disruptsim.model.shocks.EventBatch`, a lane's :class:`LaneState`), parallel over
runs with ``prange`` in :func:`run_batch`. The dynamics are those of ``docs/model.md``;
one run is :func:`simulate_run`, split into its steps (events in force, quiet stretch,
the steps of one product-day, finalise).

Per-run metrics are written into ``out[run, product, metric]``, the last product row
being the system. The daily mean over all runs is accumulated in int64 fixed point
(``FIXED`` units per 1.0) per lane, so that it is exact, order-independent and
bit-identical for any thread count or batch size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from disruptsim.conventions import (  # module-level constants: numba compiles them in
    COST_INDEX,
    COST_PART_INDEX,
    DAYS_PER_YEAR,
    FIXED,
    M_CAPEX,
    M_DISRUPTED,
    M_DIV_COST,
    M_DIV_UNITS,
    M_FIRST,
    M_HOLDING,
    M_MIN_FULFIL,
    M_MIN_STOCK,
    M_MITIGATION,
    M_OPEX,
    M_PREMIUM,
    M_RC_CAPEX,
    M_RC_OPEX,
    M_RECYCLED,
    M_RELEASED,
    M_RESTRAINED,
    M_RESTRAINT_COST,
    M_SHORT_DAYS,
    M_SHORTAGE_COST,
    M_STOCK_FIXED,
    M_SUB_COST,
    M_SUB_UNITS,
    M_TOTAL,
    M_TTR,
    M_TTS,
    M_UNMET,
    N_METRICS,
    TOL,
    UNIT_INDEX,
    ramp_share,
)

_ramp = njit(cache=False, inline="always")(ramp_share)


@njit(cache=False, inline="always")
def _profile(t, start, end, recovery):
    """Fraction of an event's loss in force on day t (1 during it, linear recovery after)."""
    if t < start:
        return 0.0
    if t < end:
        return 1.0
    k = t - end
    if k >= recovery:
        return 0.0
    return 1.0 - (k + 1.0) / (recovery + 1.0)


@njit(cache=False, inline="always")
def _availability(c, i, na, act_h, act_sev, act_prof, haz_mult, haz_products):
    """Share of country c's supply of product i available today (overlapping events multiply)."""
    a = 1.0
    for q in range(na):
        h = act_h[q]
        if haz_products[h, i]:
            m = haz_mult[h, c]
            if m > 0.0:
                loss = act_sev[q] * m
                if loss > 1.0:
                    loss = 1.0
                a *= 1.0 - loss * act_prof[q]
    return a


@njit(cache=False, inline="always")
def _exposure_availability(ptr0, ptr1, country, weight, i, na, act_h, act_sev, act_prof, m):
    x = 0.0
    for e in range(ptr0, ptr1):
        x += weight[e] * _availability(
            country[e], i, na, act_h, act_sev, act_prof, m.haz_mult, m.haz_products
        )
    return x


class LaneState(NamedTuple):
    """Working memory of one lane of :func:`run_batch`, reused run after run.

    A lane simulates runs ``lane, lane + lanes, ...`` one after the other; nothing in it
    carries over from one run to the next except the daily accumulators, which sum over
    the lane's runs.

    Attributes
    ----------
    stock : float64[P]
        Stock level of each product (units).
    phi : float64[P]
        Fulfilment of each product today (yesterday's until the product is cleared).
    first, first_short, last_short : int64[P]
        First day with a gap, first and last day with unmet requirement (-1: none yet).
    qual : int64[2, P]
        Day on which reactive diversification (row 0) and substitution (row 1) are
        qualified (-1: not qualified).
    act_h, act_sev, act_prof : int64[E], float64[E], float64[E]
        The events in force today: hazard index, severity and profile (E: the most events
        of any run of the batch).
    acc_gap, acc_stock : int64[T, P]
        Sums over the lane's runs of the daily gap and stock deficit, fixed point.
    acc_short : int64[T, P+1]
        Counts over the lane's runs of shortage days (last column: the system).
    rs_start : int64[P]
        First day of each product's demand restraint (-1: not triggered).
    rs_share : float64[P]
        Share of final demand restrained today.
    req : float64[P]
        Requirement today under the restraints in force (valid on restrained days).
    """

    stock: np.ndarray
    phi: np.ndarray
    first: np.ndarray
    first_short: np.ndarray
    last_short: np.ndarray
    qual: np.ndarray
    act_h: np.ndarray
    act_sev: np.ndarray
    act_prof: np.ndarray
    acc_gap: np.ndarray
    acc_short: np.ndarray
    acc_stock: np.ndarray
    rs_start: np.ndarray
    rs_share: np.ndarray
    req: np.ndarray


class RunTrace(NamedTuple):
    """Where one run writes its daily trajectory (``on`` False: it is not traced).

    Attributes
    ----------
    phi, stock : float32[T, P]
        Daily fulfilment and stock level, written only when ``on``.
    on : bool
    snap_day : int
        A day whose starting stocks are kept (-1: none): with the first disruptions and
        the events, the run's state that day (docs/how-to-situation.md).
    snap_stock : float64[P]
        Written when the run reaches ``snap_day``: the stocks at the start of that day.
    """

    phi: np.ndarray
    stock: np.ndarray
    on: bool
    snap_day: int
    snap_stock: np.ndarray


@njit(cache=False, inline="always")
def _start_run(m, ls, out, start, success):
    """Reset the lane's state and ``out`` for a new run from ``start``.

    ``start`` is a :class:`~disruptsim.model.situation.StartState`: the first day, stocks,
    first disruptions and qualification days (>= 0: known; -1: by the model's rule, on
    ``first + lag`` if the run's success draw succeeds; -2: never).

    Returns the system's first-disruption day (the earliest of the products', -1: none).
    """
    P = m.requirement.shape[1]
    out[:, :] = 0.0
    sys_first = -1
    for i in range(P):
        ls.stock[i] = start.stock[i]
        ls.phi[i] = 1.0
        ls.first[i] = start.first[i]
        ls.first_short[i] = -1
        ls.last_short[i] = -1
        for kind in range(2):
            q = start.qual[kind, i]
            if q == -1 and ls.first[i] >= 0 and m.rx_active[kind, i] and success[kind, i]:
                q = ls.first[i] + m.rx_lag[kind, i]
            ls.qual[kind, i] = q if q >= 0 else -1
        ls.rs_start[i] = -1
        if ls.first[i] >= 0 and m.rs_max[i] > 0.0:
            ls.rs_start[i] = ls.first[i] + m.rs_lag[i]
        if ls.first[i] >= 0 and (sys_first < 0 or ls.first[i] < sys_first):
            sys_first = ls.first[i]
        out[i, M_MIN_FULFIL] = 1.0
        out[i, M_MIN_STOCK] = ls.stock[i]
    return sys_first


@njit(cache=False, inline="always")
def _events_in_force(ev, e0, e1, t, T, act_h, act_sev, act_prof):
    """Collect the events of a run in force on day ``t`` into ``act_*``.

    Parameters
    ----------
    ev : EventBatch
        The batch's events; the run's are ``e0:e1``.
    t, T : int
        Today and the horizon.
    act_h, act_sev, act_prof : int64[E], float64[E], float64[E]
        Receive the events in force (hazard, severity, profile) in ``[:na]``.

    Returns
    -------
    na : int
        Number of events in force today (with a positive profile and severity).
    next_start : int
        The first start day after today (``T`` if none).
    """
    na = 0
    next_start = T
    for e in range(e0, e1):
        s = ev.start[e]
        if s > t:
            if s < next_start:
                next_start = s
            continue
        pr = _profile(t, s, ev.end[e], ev.recovery[e])
        if pr > 0.0 and ev.severity[e] > 0.0:
            act_h[na] = ev.hazard[e]
            act_sev[na] = ev.severity[e]
            act_prof[na] = pr
            na += 1
    return na, next_start


@njit(cache=False, inline="always")
def _quiet_stretch(m, stock, phi, acc_stock, tr_phi, tr_stock, traced, snap_day, snap, out, t, t1):
    """Days ``t..t1-1`` with no event in force: every gap is zero.

    Supply costs are the deterministic quiet-day costs (prefix sums of the model); only
    stocks below target change (they refill); holding cost is charged on the end-of-day
    level (docs/model.md). The stocks at the start of ``snap_day`` go to ``snap``.
    """
    P = m.requirement.shape[1]
    for i in range(P):
        out[i, M_PREMIUM] += m.quiet_premium[t1, i] - m.quiet_premium[t, i]
        out[i, M_OPEX] += m.quiet_opex[t1, i] - m.quiet_opex[t, i]
        out[i, M_RECYCLED] += m.quiet_recycled[t1, i] - m.quiet_recycled[t, i]
        out[i, M_RC_OPEX] += m.quiet_rc_opex[t1, i] - m.quiet_rc_opex[t, i]
        phi[i] = 1.0
        target = m.stock_target[i]
        if stock[i] < target:
            hv = m.stock_holding[i] * m.unit_value[i] / DAYS_PER_YEAR
            for d in range(t, t1):
                if d == snap_day:
                    snap[i] = stock[i]
                if stock[i] < target:
                    fill = m.stock_refill[i] * m.requirement[d, i]
                    if target - stock[i] < fill:
                        stock[i] = target
                    else:
                        stock[i] += fill
                    acc_stock[d, i] += np.int64((target - stock[i]) / target * FIXED + 0.5)
                out[i, M_HOLDING] += hv * stock[i]
                if traced:
                    tr_stock[d, i] = stock[i]
        else:
            if t <= snap_day < t1:
                snap[i] = stock[i]
            out[i, M_HOLDING] += m.quiet_holding[i] * (t1 - t)
            if traced:
                for d in range(t, t1):
                    tr_stock[d, i] = stock[i]
    if traced:
        for d in range(t, t1):
            for i in range(P):
                tr_phi[d, i] = 1.0


@njit(cache=False, inline="always")
def _baseline_supply(m, phi, act_h, act_sev, act_prof, out, i, t, na, rho):
    """Baseline supply ratio ``b`` of product ``i`` on day ``t``; books source premiums and
    reshoring opex.

    A product that no event in force exposes and whose inputs are all fulfilled gets full
    supply at the quiet-day costs. Otherwise every source delivers its share times the
    availability of its exposure countries (domestic production also times the fulfilment
    of its inputs, Leontief).

    Recycling (``rc_frac > 0``) displaces every source pro rata and is exposed to home
    hazards only: ``b = (1 - rc) * b + rc * A_home`` (docs/model.md, "Recycling").

    ``rho < 1``: the requirement is restrained to ``rho`` of the normal one today (demand
    restraint, docs/model.md): domestic production needs only ``rho`` of its inputs, and
    when supply exceeds ``rho`` every source sells ``rho / b`` of what it could (premiums
    and opex follow purchases).
    """
    D = m.requirement[t, i]
    v = m.unit_value[i]
    rf = m.resh_frac[t, i]
    untouched = rho == 1.0
    for q in range(na):
        if m.haz_exposes[act_h[q], i]:
            untouched = False
            break
    if untouched:
        for k in range(m.in_ptr[i], m.in_ptr[i + 1]):
            if phi[m.in_product[k]] < 1.0:
                untouched = False
                break
    b = 0.0
    premium = 0.0
    reshored = 0.0
    s_end = m.src_ptr[i + 1]
    if untouched:
        b = 1.0
        s_end = m.src_ptr[i]  # skip the sources: quiet-day costs instead
        out[i, M_PREMIUM] += m.quiet_premium[t + 1, i] - m.quiet_premium[t, i]
        out[i, M_OPEX] += m.quiet_opex[t + 1, i] - m.quiet_opex[t, i]
        out[i, M_RECYCLED] += m.quiet_recycled[t + 1, i] - m.quiet_recycled[t, i]
        out[i, M_RC_OPEX] += m.quiet_rc_opex[t + 1, i] - m.quiet_rc_opex[t, i]
    for s in range(m.src_ptr[i], s_end):
        w = m.src_share[s]
        if s == m.resh_from[i]:
            w -= rf
        elif s == m.resh_dom[i]:
            w += rf
        if w <= 0.0:
            continue
        if na == 0:
            x = 1.0
        else:
            x = _exposure_availability(
                m.exp_ptr[s], m.exp_ptr[s + 1], m.exp_country, m.exp_weight,
                i, na, act_h, act_sev, act_prof, m,
            )  # fmt: skip
        if m.src_domestic[s]:
            for k in range(m.in_ptr[i], m.in_ptr[i + 1]):
                fj = phi[m.in_product[k]]
                if rho < 1.0:
                    fj *= rho
                if fj < x:
                    x = fj
        b += w * x
        if s == m.resh_dom[i]:
            premium += (w - rf) * x * m.src_premium[s]
            reshored += rf * x
        else:
            premium += w * x * m.src_premium[s]
    if not untouched:
        rc = m.rc_frac[t, i]
        recycled = 0.0
        if rc > 0.0:  # recycling displaces every source pro rata; home hazards only
            x_rc = 1.0
            if na > 0:
                x_rc = _availability(
                    m.home, i, na, act_h, act_sev, act_prof, m.haz_mult, m.haz_products
                )
            b = (1.0 - rc) * b + rc * x_rc
            premium *= 1.0 - rc
            reshored *= 1.0 - rc
            recycled = rc * x_rc
        if rho < 1.0 and b > rho:
            premium *= rho / b
            reshored *= rho / b
            recycled *= rho / b
        out[i, M_PREMIUM] += premium * D * v
        out[i, M_OPEX] += reshored * D * v * m.resh_premium[i]
        if rc > 0.0:
            out[i, M_RECYCLED] += recycled * D
            out[i, M_RC_OPEX] += recycled * D * v * m.rc_premium[i]
    return b


@njit(cache=False, inline="always")
def _reactive_supply(m, qual, act_h, act_sev, act_prof, out, i, t, na, g):
    """Reactive diversification, then substitution, close what they can of the gap ``g``.

    Each, once qualified (``qual``), has a capacity ramping to ``rx_max`` times the
    availability of its exposure countries, and delivers ``min(g, capacity)`` at its
    premium. Returns the remaining gap (fraction of requirement).
    """
    P = m.requirement.shape[1]
    D = m.requirement[t, i]
    v = m.unit_value[i]
    for kind in range(2):
        q = qual[kind, i]
        if q >= 0 and t >= q and g > 0.0:
            cap = m.rx_max[kind, i] * _ramp(t - q, m.rx_ramp[kind, i])
            k0 = m.rx_exp_ptr[kind * P + i]
            k1 = m.rx_exp_ptr[kind * P + i + 1]
            if k1 > k0 and na > 0:
                cap *= _exposure_availability(
                    k0, k1, m.rx_exp_country, m.rx_exp_weight,
                    i, na, act_h, act_sev, act_prof, m,
                )  # fmt: skip
            dlv = g if g < cap else cap
            g -= dlv
            if kind == 0:
                out[i, M_DIV_COST] += dlv * D * v * m.rx_premium[kind, i]
                out[i, M_DIV_UNITS] += dlv * D
            else:
                out[i, M_SUB_COST] += dlv * D * v * m.rx_premium[kind, i]
                out[i, M_SUB_UNITS] += dlv * D
    return g


@njit(cache=False, inline="always")
def _stock_release(m, stock, out, i, t, g):
    """Release ``min(g D, max_release D, stock)`` from the stock; returns the remaining gap."""
    if stock[i] > 0.0 and g > 0.0:
        D = m.requirement[t, i]
        rel = g * D
        lim = m.stock_release[i] * D
        if lim < rel:
            rel = lim
        if stock[i] < rel:
            rel = stock[i]
        stock[i] -= rel
        g -= rel / D
        if g < 0.0:
            g = 0.0
        out[i, M_RELEASED] += rel
    return g


@njit(cache=False, inline="always")
def _stock_refill(m, stock, i, t):
    """On a day without a gap, refill ``min(refill D, target - stock)``."""
    target = m.stock_target[i]
    if stock[i] < target:
        fill = m.stock_refill[i] * m.requirement[t, i]
        if target - stock[i] < fill:
            stock[i] = target
        else:
            stock[i] += fill


@njit(cache=False, inline="always")
def _qualify(m, qual, success, i, t):
    """On product ``i``'s first disruption (day ``t``), schedule the qualification of its
    reactive options whose success draw succeeded: on day ``t + lag``."""
    for kind in range(2):
        if m.rx_active[kind, i] and success[kind, i]:
            qual[kind, i] = t + m.rx_lag[kind, i]


@njit(cache=False, inline="always")
def _book_product_day(m, out, i, t, g, u, d_today, stock_i):
    """Add product ``i``'s day to its metrics: remaining gap ``g`` (of the normal
    requirement), unmet share ``u`` of today's requirement, today's final demand
    ``d_today``, end-of-day stock.

    Unmet units, shortage cost (on final demand only), shortage days, minima of
    fulfilment and stock, holding cost on the end-of-day stock.
    """
    D = m.requirement[t, i]
    f = 1.0 - u
    out[i, M_UNMET] += g * D
    out[i, M_SHORTAGE_COST] += u * d_today * m.shortage_cost[i]
    if g > TOL:
        out[i, M_SHORT_DAYS] += 1.0
    if f < out[i, M_MIN_FULFIL]:
        out[i, M_MIN_FULFIL] = f
    if stock_i < out[i, M_MIN_STOCK]:
        out[i, M_MIN_STOCK] = stock_i
    out[i, M_HOLDING] += m.stock_holding[i] * m.unit_value[i] * stock_i / DAYS_PER_YEAR


@njit(cache=False, inline="always")
def _accumulate_day(m, acc_gap, acc_stock, i, t, g, stock_i):
    """Add product ``i``'s gap and relative stock deficit of day ``t`` to the lane's sums
    (fixed point, ``FIXED`` per 1.0)."""
    acc_gap[t, i] += np.int64(g * FIXED + 0.5)
    target = m.stock_target[i]
    if target > 0.0:
        acc_stock[t, i] += np.int64((target - stock_i) / target * FIXED + 0.5)


@njit(cache=False)
def _finalise(out, i, f, first_short, last_short):
    """Sum ``mitigation_cost`` and ``total_cost`` of row ``i``; set its day metrics."""
    out[i, M_MITIGATION] = 0.0
    for k in COST_PART_INDEX:
        out[i, M_MITIGATION] += out[i, k]
    out[i, M_TOTAL] = out[i, M_SHORTAGE_COST] + out[i, M_MITIGATION]
    out[i, M_DISRUPTED] = 1.0 if f >= 0 else 0.0
    out[i, M_FIRST] = f if f >= 0 else np.nan
    if first_short >= 0:
        out[i, M_TTS] = first_short - f
        out[i, M_TTR] = last_short - f + 1
    else:
        out[i, M_TTS] = np.nan
        out[i, M_TTR] = 0.0 if f >= 0 else np.nan


@njit(cache=False, inline="always")
def _finalise_run(m, ls, out, sys_first, sys_first_short, sys_last_short, sys_short_days, sys_min):
    """Add the run's fixed costs, finalise every product row, then the system row.

    The system row sums the costs; its shortage means unmet final demand of any product;
    unit metrics are NaN there.
    """
    P = m.requirement.shape[1]
    for i in range(P):
        out[i, M_STOCK_FIXED] = m.stock_fixed[i]
        out[i, M_DIV_COST] += m.rx_fixed[0, i]
        out[i, M_SUB_COST] += m.rx_fixed[1, i]
        out[i, M_CAPEX] = m.resh_capex[i]
        out[i, M_RC_CAPEX] = m.rc_capex[i]
        _finalise(out, i, ls.first[i], ls.first_short[i], ls.last_short[i])
    S = P
    for i in range(P):
        for k in COST_INDEX:
            out[S, k] += out[i, k]
    out[S, M_SHORT_DAYS] = sys_short_days
    out[S, M_MIN_FULFIL] = sys_min
    for k in UNIT_INDEX:
        out[S, k] = np.nan
    _finalise(out, S, sys_first, sys_first_short, sys_last_short)


@njit(cache=False, inline="always")
def _restraint_today(m, rs_start, rs_share, req, out, t, next_start):
    """Demand restraint on day ``t`` (docs/model.md, "Demand restraint").

    A product's restraint, started on day ``q = rs_start``, is in force on days
    ``q <= t < q + duration`` at ``rs_share = max_share * ramp(t - q)`` of final demand;
    the units forgone and their cost are booked. When any is in force, today's
    requirement ``req`` is computed downstream to upstream from the restrained final
    demand, as the compiler computes the normal one.

    Returns
    -------
    restrained : bool
        Some restraint is in force today.
    next_start : int
        The given next event start, or an earlier day on which a restraint starts.
    """
    P = m.requirement.shape[1]
    restrained = False
    for i in range(P):
        rs_share[i] = 0.0
        q = rs_start[i]
        if q < 0:
            continue
        if t < q:
            if q < next_start:
                next_start = q
        elif t < q + m.rs_duration[i]:
            rs_share[i] = m.rs_max[i] * _ramp(t - q, m.rs_ramp[i])
            forgone = m.final_demand[i] * rs_share[i]
            out[i, M_RESTRAINED] += forgone
            out[i, M_RESTRAINT_COST] += forgone * m.rs_unit_cost[i]
            restrained = True
    if restrained:
        for i in range(P):
            req[i] = m.final_demand[i] * (1.0 - rs_share[i])
        for h in range(P - 1, -1, -1):
            for k in range(m.in_ptr[h], m.in_ptr[h + 1]):
                req[m.in_product[k]] += m.in_amount[k] * req[h] * m.dom_share[t, h]
    return restrained, next_start


@njit(cache=False, _nrt=False)
def simulate_run(m, ev, e0, e1, success, ls, tr, out, start):
    """Simulate one run of one strategy (docs/model.md) and write its metrics.

    Day by day: the events in force (:func:`_events_in_force`); a stretch of days with
    none is handled at once (:func:`_quiet_stretch`); otherwise every product is cleared
    in topological order: baseline supply (:func:`_baseline_supply`), and on a day with
    a gap, qualification on the first one (:func:`_qualify`), reactive supply
    (:func:`_reactive_supply`) and stock release (:func:`_stock_release`); on a day
    without, stock refill (:func:`_stock_refill`). The remaining gap is booked
    (:func:`_book_product_day`, :func:`_accumulate_day`), then the system's day;
    :func:`_finalise_run` closes the run.

    Compiled without numba's reference counting (``_nrt=False``; it allocates nothing):
    with it, each inlined step that takes the model record increfs and decrefs every
    array of the record on every product-day, which made the kernel 10-20x slower.
    The lane state is unpacked into local names once per run.

    Parameters
    ----------
    m : KernelModel
        The compiled strategy.
    ev : EventBatch
        The batch's events; this run's are ``e0:e1``.
    e0, e1 : int
    success : bool[2, P]
        This run's success draws of diversification and substitution.
    ls : LaneState
        The lane's working memory; its daily sums are added to.
    tr : RunTrace
        Where the daily trajectory goes, if traced.
    out : float64[P+1, N_METRICS]
        Written: the run's metrics, products then the system.
    start : StartState
        The day and state the run starts from (:func:`disruptsim.model.situation.start_state`;
        day 0 with full stocks is a fresh run).
    """
    T, P = m.requirement.shape
    stock, phi, first, first_short, last_short, qual = ls[:6]
    act_h, act_sev, act_prof, acc_gap, acc_short, acc_stock = ls[6:12]
    rs_start, rs_share, req = ls[12:]
    tr_phi, tr_stock, traced, snap_day, snap = tr
    sys_first = _start_run(m, ls, out, start, success)
    sys_first_short = -1
    sys_last_short = -1
    sys_short_days = 0
    sys_min = 1.0
    t = start.day
    while t < T:
        if t == snap_day:
            for i in range(P):
                snap[i] = stock[i]
        na, next_start = _events_in_force(ev, e0, e1, t, T, act_h, act_sev, act_prof)
        restrained = False
        if m.rs_count > 0:
            restrained, next_start = _restraint_today(
                m, rs_start, rs_share, req, out, t, next_start
            )
        if na == 0 and not restrained:
            _quiet_stretch(
                m, stock, phi, acc_stock, tr_phi, tr_stock, traced, snap_day, snap, out, t,
                next_start,
            )  # fmt: skip
            t = next_start
            continue
        sys_short_today = False
        for i in range(P):
            D = m.requirement[t, i]
            rho = 1.0
            if restrained and D > 0.0:
                rho = req[i] / D
            g = rho - _baseline_supply(m, phi, act_h, act_sev, act_prof, out, i, t, na, rho)
            if g <= TOL or D <= 0.0:
                g = 0.0  # a gap within the tolerance is no gap
            if g > TOL:
                if first[i] < 0:
                    first[i] = t
                    _qualify(m, qual, success, i, t)
                    if m.rs_max[i] > 0.0:
                        rs_start[i] = t + m.rs_lag[i]
                if sys_first < 0:
                    sys_first = t
                g = _reactive_supply(m, qual, act_h, act_sev, act_prof, out, i, t, na, g)
                g = _stock_release(m, stock, out, i, t, g)
            else:
                _stock_refill(m, stock, i, t)
            if g <= TOL:
                g = 0.0  # a remainder within the tolerance is met
            u = g  # unmet share of today's requirement
            d_today = m.final_demand[i]
            if rho < 1.0:
                u = g / rho if rho > 0.0 else 0.0  # rho = 0: nothing required, g = 0
                d_today = m.final_demand[i] * (1.0 - rs_share[i])
            f = 1.0 - u
            phi[i] = f
            _book_product_day(m, out, i, t, g, u, d_today, stock[i])
            _accumulate_day(m, acc_gap, acc_stock, i, t, u, stock[i])
            if g > TOL:
                acc_short[t, i] += 1
                if first_short[i] < 0:
                    first_short[i] = t
                last_short[i] = t
                if m.final_demand[i] > 0.0:
                    sys_short_today = True
            if m.final_demand[i] > 0.0 and f < sys_min:
                sys_min = f
            if traced:
                tr_phi[t, i] = f
                tr_stock[t, i] = stock[i]
        if sys_short_today:
            sys_short_days += 1
            acc_short[t, P] += 1
            if sys_first_short < 0:
                sys_first_short = t
            sys_last_short = t
        t += 1
    _finalise_run(m, ls, out, sys_first, sys_first_short, sys_last_short, sys_short_days, sys_min)


@njit(cache=False, parallel=True)
def run_batch(
    m, ev, success, out, n_trace, trace_phi, trace_stock, acc_gap, acc_short, acc_stock,
    start, snap_day, snap_stock,
):  # fmt: skip
    """Simulate a batch of runs of one strategy, in parallel over lanes.

    Runs are dealt to ``lanes`` lanes (run ``k`` to lane ``k % lanes``); each lane owns its
    working memory and daily accumulators, so the result is the same for any thread count;
    summing the lanes' accumulators (integers) is exact in any order.

    Parameters
    ----------
    m : KernelModel
        The compiled strategy (:func:`disruptsim.compiler.compile_strategy`).
    ev : EventBatch
        The batch's events, CSR over its runs (:class:`disruptsim.shocks.EventBatch`).
    success : bool[n, 2, P]
        Per run, whether diversification (0) and substitution (1) succeed.
    out : float64[n, P+1, N_METRICS]
        Written: per-run metrics, products (topological order) then the system.
    n_trace : int
        Runs ``k < n_trace`` write their daily trajectories.
    trace_phi, trace_stock : float32[max(n_trace, 1), T, P]
        Written for traced runs: daily fulfilment and stock.
    acc_gap, acc_stock : int64[lanes, T, P]
        Added to: per lane, the sum over its runs of the daily gap and relative stock
        deficit, in fixed point (``FIXED`` per 1.0).
    acc_short : int64[lanes, T, P+1]
        Added to: per lane, the number of its runs short on each day (last column: system).
    start : StartState
        The state every run starts from (:func:`disruptsim.model.situation.start_state`;
        day 0 with full stocks for a fresh study).
    snap_day : int
        A day whose starting stocks each run keeps (-1: none).
    snap_stock : float64[n, P] (or [1, P] with no ``snap_day``)
        Written: the stocks of run ``k`` at the start of ``snap_day``.
    """
    n = out.shape[0]
    lanes = acc_gap.shape[0]
    P = m.requirement.shape[1]
    max_events = 1
    for k in range(n):
        ne = ev.ptr[k + 1] - ev.ptr[k]
        if ne > max_events:
            max_events = ne
    for lane in prange(lanes):
        ls = LaneState(
            np.empty(P),
            np.empty(P),
            np.empty(P, dtype=np.int64),
            np.empty(P, dtype=np.int64),
            np.empty(P, dtype=np.int64),
            np.empty((2, P), dtype=np.int64),
            np.empty(max_events, dtype=np.int64),
            np.empty(max_events),
            np.empty(max_events),
            acc_gap[lane],
            acc_short[lane],
            acc_stock[lane],
            np.empty(P, dtype=np.int64),
            np.empty(P),
            np.empty(P),
        )
        for k in range(lane, n, lanes):
            traced = k < n_trace
            kt = k if traced else 0
            ks = 0
            if snap_day >= 0:
                ks = k
            tr = RunTrace(trace_phi[kt], trace_stock[kt], traced, snap_day, snap_stock[ks])
            simulate_run(m, ev, ev.ptr[k], ev.ptr[k + 1], success[k], ls, tr, out[k], start)


def run_strategy_batch_v1(model, events, success, n_trace, start=None, snap_day=-1):
    """The frozen kernel on one batch: ``(metrics, sum_gap, sum_short, sum_stock_deficit)``,
    plus ``(trace_phi, trace_stock)`` of the ``n_trace`` first runs when ``n_trace > 0``,
    plus every run's stocks at the start of ``snap_day`` when ``snap_day >= 0``.

    Same allocation and lane rule as ``engine.run_strategy_batch`` at commit 68da504
    (traced days before the start are left as the kernel wrote them).
    """
    from disruptsim.model.situation import start_state
    from disruptsim.run.engine import lanes_for

    if start is None:
        start = start_state(None, model)
    n = events.n_runs
    T, P = model.horizon_days, model.n_products
    lanes = lanes_for(n)
    out = np.empty((n, P + 1, N_METRICS))
    trace_phi = np.full((max(n_trace, 1), T, P), np.nan, dtype=np.float32)
    trace_stock = np.full((max(n_trace, 1), T, P), np.nan, dtype=np.float32)
    acc_gap = np.zeros((lanes, T, P), dtype=np.int64)
    acc_short = np.zeros((lanes, T, P + 1), dtype=np.int64)
    acc_stock = np.zeros((lanes, T, P), dtype=np.int64)
    snap_stock = np.full((n if snap_day >= 0 else 1, P), np.nan)
    run_batch(
        model.arrays, events, success, out, n_trace, trace_phi, trace_stock, acc_gap,
        acc_short, acc_stock, start, snap_day, snap_stock,
    )  # fmt: skip
    sums = (out, acc_gap.sum(axis=0), acc_short.sum(axis=0), acc_stock.sum(axis=0))
    if n_trace > 0:
        sums += (trace_phi[:n_trace], trace_stock[:n_trace])
    return (*sums, snap_stock) if snap_day >= 0 else sums
