"""FROZEN copy of the numba kernel as of commit afa1f40 (before the structured-input
refactor), kept unchanged as the yardstick of kernel benchmarks.

Do not edit the dynamics here: ``benchmarks/bench_kernel_vs_frozen.py`` times the current
kernel against this one in one process. :func:`run_strategy_batch_v0` is the frozen
counterpart of :func:`disruptsim.run.engine.run_strategy_batch` (same arguments and output
arrays), so a benchmark can call either with the same compiled model and events.

Compiled without numba's on-disk cache (``cache=False``, the only change to the copied
code): a cache written when ``KernelModel`` lived in another module fails to load.

It reads the fields of :class:`disruptsim.model.compiler.KernelModel` by name, so it keeps
working when fields are added to the model (a field it reads must not be renamed).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Tolerance on gaps, as a fraction of requirement.
TOL = 1e-9
#: Fixed-point scale of the daily accumulators (2**32 units per 1.0).
FIXED = 4294967296.0

METRICS = (
    "disrupted",
    "first_disruption_day",
    "unmet_units",
    "shortage_days",
    "min_fulfilment",
    "min_stock",
    "tts_days",
    "ttr_days",
    "shortage_cost",
    "holding_cost",
    "stockpile_fixed_cost",
    "source_premium_cost",
    "diversification_cost",
    "substitution_cost",
    "reshoring_capex",
    "reshoring_opex",
    "mitigation_cost",
    "total_cost",
    "diversified_units",
    "substituted_units",
    "stock_released_units",
)
"""Per-run metrics, in the order of the last axis of the kernel's output."""
(
    M_DISRUPTED,
    M_FIRST,
    M_UNMET,
    M_SHORT_DAYS,
    M_MIN_FULFIL,
    M_MIN_STOCK,
    M_TTS,
    M_TTR,
    M_SHORTAGE_COST,
    M_HOLDING,
    M_STOCK_FIXED,
    M_PREMIUM,
    M_DIV_COST,
    M_SUB_COST,
    M_CAPEX,
    M_OPEX,
    M_MITIGATION,
    M_TOTAL,
    M_DIV_UNITS,
    M_SUB_UNITS,
    M_RELEASED,
) = range(len(METRICS))
N_METRICS = len(METRICS)
MITIGATION_PARTS = METRICS[M_HOLDING : M_OPEX + 1]
"""The parts that add up to ``mitigation_cost``."""


@njit(cache=False, inline="always")
def _ramp(k, ramp_days):
    if k < 0:
        return 0.0
    v = (k + 1.0) / (ramp_days + 1.0)
    return 1.0 if v > 1.0 else v


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


@njit(cache=False)
def simulate_run(
    m,
    ev_hazard,
    ev_start,
    ev_end,
    ev_recovery,
    ev_severity,
    e0,
    e1,
    success,
    out,
    trace_phi,
    trace_stock,
    do_trace,
    acc_gap,
    acc_short,
    acc_stock,
    stock,
    phi,
    first,
    first_short,
    last_short,
    qual,
    act_h,
    act_sev,
    act_prof,
):
    """Simulate one run of one strategy; write its metrics into ``out[P+1, N_METRICS]``."""
    T, P = m.requirement.shape
    out[:, :] = 0.0
    for i in range(P):
        stock[i] = m.stock_target[i]
        phi[i] = 1.0
        first[i] = -1
        first_short[i] = -1
        last_short[i] = -1
        qual[0, i] = -1
        qual[1, i] = -1
        out[i, M_MIN_FULFIL] = 1.0
        out[i, M_MIN_STOCK] = m.stock_target[i]
    sys_first = -1
    sys_first_short = -1
    sys_last_short = -1
    sys_short_days = 0
    sys_min = 1.0
    t = 0
    while t < T:
        # Events in force today; the next start after today.
        na = 0
        next_start = T
        for e in range(e0, e1):
            s = ev_start[e]
            if s > t:
                if s < next_start:
                    next_start = s
                continue
            pr = _profile(t, s, ev_end[e], ev_recovery[e])
            if pr > 0.0 and ev_severity[e] > 0.0:
                act_h[na] = ev_hazard[e]
                act_sev[na] = ev_severity[e]
                act_prof[na] = pr
                na += 1
        if na == 0:
            # No shock in force until next_start: every gap is zero, so supply costs are
            # the deterministic quiet-day costs; only stocks below target change (refill).
            t1 = next_start
            for i in range(P):
                out[i, M_PREMIUM] += m.quiet_premium[t1, i] - m.quiet_premium[t, i]
                out[i, M_OPEX] += m.quiet_opex[t1, i] - m.quiet_opex[t, i]
                phi[i] = 1.0
                target = m.stock_target[i]
                if stock[i] < target:
                    hv = m.stock_holding[i] * m.unit_value[i] / 365.0
                    for d in range(t, t1):
                        if stock[i] < target:
                            fill = m.stock_refill[i] * m.requirement[d, i]
                            if target - stock[i] < fill:
                                stock[i] = target
                            else:
                                stock[i] += fill
                            acc_stock[d, i] += np.int64((target - stock[i]) / target * FIXED + 0.5)
                        out[i, M_HOLDING] += hv * stock[i]
                        if do_trace:
                            trace_stock[d, i] = stock[i]
                else:
                    out[i, M_HOLDING] += m.quiet_holding[i] * (t1 - t)
                    if do_trace:
                        for d in range(t, t1):
                            trace_stock[d, i] = stock[i]
            if do_trace:
                for d in range(t, t1):
                    for i in range(P):
                        trace_phi[d, i] = 1.0
            t = t1
            continue

        sys_short_today = False
        for i in range(P):
            D = m.requirement[t, i]
            v = m.unit_value[i]
            rf = m.resh_frac[t, i]
            # Unexposed to today's events, with every input fulfilled: full supply.
            untouched = True
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
                    )
                if m.src_domestic[s]:
                    for k in range(m.in_ptr[i], m.in_ptr[i + 1]):
                        fj = phi[m.in_product[k]]
                        if fj < x:
                            x = fj
                b += w * x
                if s == m.resh_dom[i]:
                    premium += (w - rf) * x * m.src_premium[s]
                    reshored += rf * x
                else:
                    premium += w * x * m.src_premium[s]
            if not untouched:
                out[i, M_PREMIUM] += premium * D * v
                out[i, M_OPEX] += reshored * D * v * m.resh_premium[i]
            g = 1.0 - b
            if g <= TOL or D <= 0.0:
                g = 0.0  # a gap within the tolerance is no gap

            target = m.stock_target[i]
            if g > TOL:
                if first[i] < 0:
                    first[i] = t
                    for kind in range(2):
                        if m.rx_active[kind, i] and success[kind, i]:
                            qual[kind, i] = t + m.rx_lag[kind, i]
                if sys_first < 0:
                    sys_first = t
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
                            )
                        dlv = g if g < cap else cap
                        g -= dlv
                        if kind == 0:
                            out[i, M_DIV_COST] += dlv * D * v * m.rx_premium[kind, i]
                            out[i, M_DIV_UNITS] += dlv * D
                        else:
                            out[i, M_SUB_COST] += dlv * D * v * m.rx_premium[kind, i]
                            out[i, M_SUB_UNITS] += dlv * D
                if stock[i] > 0.0 and g > 0.0:
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
            elif stock[i] < target:
                fill = m.stock_refill[i] * D
                if target - stock[i] < fill:
                    stock[i] = target
                else:
                    stock[i] += fill

            if g <= TOL:
                g = 0.0  # a remainder within the tolerance is met
            f = 1.0 - g
            phi[i] = f
            out[i, M_UNMET] += g * D
            out[i, M_SHORTAGE_COST] += g * m.final_demand[i] * m.shortage_cost[i]
            if g > TOL:
                out[i, M_SHORT_DAYS] += 1.0
                if first_short[i] < 0:
                    first_short[i] = t
                last_short[i] = t
                if m.final_demand[i] > 0.0:
                    sys_short_today = True
            if f < out[i, M_MIN_FULFIL]:
                out[i, M_MIN_FULFIL] = f
            if m.final_demand[i] > 0.0 and f < sys_min:
                sys_min = f
            if stock[i] < out[i, M_MIN_STOCK]:
                out[i, M_MIN_STOCK] = stock[i]
            out[i, M_HOLDING] += m.stock_holding[i] * v * stock[i] / 365.0
            acc_gap[t, i] += np.int64(g * FIXED + 0.5)
            if g > TOL:
                acc_short[t, i] += 1
            if target > 0.0:
                acc_stock[t, i] += np.int64((target - stock[i]) / target * FIXED + 0.5)
            if do_trace:
                trace_phi[t, i] = f
                trace_stock[t, i] = stock[i]
        if sys_short_today:
            sys_short_days += 1
            acc_short[t, P] += 1
            if sys_first_short < 0:
                sys_first_short = t
            sys_last_short = t
        t += 1

    # Finalise per product.
    for i in range(P):
        out[i, M_STOCK_FIXED] = m.stock_fixed[i]
        out[i, M_DIV_COST] += m.rx_fixed[0, i]
        out[i, M_SUB_COST] += m.rx_fixed[1, i]
        out[i, M_CAPEX] = m.resh_capex[i]
        _finalise(out, i, first[i], first_short[i], last_short[i])
    # System row: costs summed; shortage means unmet final demand of any product.
    S = P
    for i in range(P):
        for k in range(M_SHORTAGE_COST, M_TOTAL):
            out[S, k] += out[i, k]
    out[S, M_SHORT_DAYS] = sys_short_days
    out[S, M_MIN_FULFIL] = sys_min
    out[S, M_UNMET] = np.nan
    out[S, M_MIN_STOCK] = np.nan
    out[S, M_DIV_UNITS] = np.nan
    out[S, M_SUB_UNITS] = np.nan
    out[S, M_RELEASED] = np.nan
    _finalise(out, S, sys_first, sys_first_short, sys_last_short)


@njit(cache=False)
def _finalise(out, i, f, first_short, last_short):
    out[i, M_MITIGATION] = 0.0
    for k in range(M_HOLDING, M_OPEX + 1):
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


@njit(cache=False, parallel=True)
def run_batch(
    m,
    ev_ptr,
    ev_hazard,
    ev_start,
    ev_end,
    ev_recovery,
    ev_severity,
    success,
    out,
    n_trace,
    trace_phi,
    trace_stock,
    acc_gap,
    acc_short,
    acc_stock,
):
    """Simulate a batch of runs of one strategy in parallel.

    Parameters
    ----------
    m : KernelModel
    ev_* : arrays of an EventBatch (CSR over the batch's runs)
    success : bool[n, 2, P]
    out : float64[n, P+1, N_METRICS], written
    n_trace : int, runs k < n_trace are traced
    trace_phi, trace_stock : float32[max(n_trace, 1), T, P], written for traced runs
    acc_gap, acc_stock : int64[lanes, T, P]; acc_short : int64[lanes, T, P+1]; added to
    """
    n = out.shape[0]
    lanes = acc_gap.shape[0]
    T, P = m.requirement.shape
    max_events = 1
    for k in range(n):
        ne = ev_ptr[k + 1] - ev_ptr[k]
        if ne > max_events:
            max_events = ne
    for lane in prange(lanes):
        stock = np.empty(P)
        phi = np.empty(P)
        first = np.empty(P, dtype=np.int64)
        first_short = np.empty(P, dtype=np.int64)
        last_short = np.empty(P, dtype=np.int64)
        qual = np.empty((2, P), dtype=np.int64)
        act_h = np.empty(max_events, dtype=np.int64)
        act_sev = np.empty(max_events)
        act_prof = np.empty(max_events)
        for k in range(lane, n, lanes):
            traced = k < n_trace
            kt = k if traced else 0
            simulate_run(
                m, ev_hazard, ev_start, ev_end, ev_recovery, ev_severity,
                ev_ptr[k], ev_ptr[k + 1], success[k], out[k],
                trace_phi[kt], trace_stock[kt], traced,
                acc_gap[lane], acc_short[lane], acc_stock[lane],
                stock, phi, first, first_short, last_short, qual, act_h, act_sev, act_prof,
            )



def run_strategy_batch_v0(model, events, success, n_trace):
    """The frozen kernel on one batch: ``(metrics, sum_gap, sum_short, sum_stock_deficit)``.

    Same allocation and lane rule as ``engine.run_strategy_batch`` at commit afa1f40.
    """
    import numba

    n = events.n_runs
    T, P = model.horizon_days, model.n_products
    lanes = max(1, min(n, 4 * numba.get_num_threads()))
    out = np.empty((n, P + 1, N_METRICS))
    trace_phi = np.empty((max(n_trace, 1), T, P), dtype=np.float32)
    trace_stock = np.empty((max(n_trace, 1), T, P), dtype=np.float32)
    acc_gap = np.zeros((lanes, T, P), dtype=np.int64)
    acc_short = np.zeros((lanes, T, P + 1), dtype=np.int64)
    acc_stock = np.zeros((lanes, T, P), dtype=np.int64)
    run_batch(
        model.arrays, events.ptr, events.hazard, events.start, events.end, events.recovery,
        events.severity, success, out, n_trace, trace_phi, trace_stock, acc_gap, acc_short,
        acc_stock,
    )  # fmt: skip
    return out, acc_gap.sum(axis=0), acc_short.sum(axis=0), acc_stock.sum(axis=0)
