"""The numba simulation kernel: daily dynamics and per-run metrics (``docs/model.md``).

Numba code only: no RNG, no Python objects. Every function here is a deterministic
function of records of arrays (a :class:`~disruptsim.model.compiler.KernelModel`, an
:class:`~disruptsim.model.shocks.EventBatch`, a lane's :class:`LaneState`), parallel over
runs with ``prange`` in :func:`run_batch`. The dynamics are those of ``docs/model.md``;
one run is :func:`simulate_run`, split into its steps (events in force, quiet stretch,
the steps of one product-day, finalise).

On a day with events in force, a product is cleared only when something it depends on
has changed; otherwise it is *steady* and its days are booked later, in day order
(:func:`_replay`). Its supply is recomputed only when an event that exposes it or an
input's fulfilment changed (the lane's per-product cache, :func:`_cached_supply`), and a
country's availability only when an event that hits it changed (:class:`DayCache`). Every
cached or replayed value is computed with the same operations in the same order as
afresh, so results are bit-identical to the frozen kernels (``tests/test_kernel_frozen.py``).
Hot loops index with unsigned copies of the model's index arrays (:class:`Reach`).

Per-run metrics are written into ``out[run, product, metric]``, the last product row
being the system. The daily mean over all runs is accumulated in int64 fixed point
(``FIXED`` units per 1.0) per lane, so that it is exact, order-independent and
bit-identical for any thread count or batch size.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .. import conventions as _conventions
from ..conventions import (  # module-level constants: numba compiles them in
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
    TOL,
    UNIT_INDEX,
    ramp_share,
)

#: A fingerprint of conventions.py. Numba freezes the constants imported above into its
#: cached machine code and re-validates that cache only against this file, so the
#: fingerprint is compiled in too and checked at import (:func:`_drop_stale_cache`).
_CONVENTIONS_STAMP = float(
    int.from_bytes(hashlib.sha256(Path(_conventions.__file__).read_bytes()).digest()[:6], "big")
)


@njit(cache=True)
def _compiled_stamp():
    """The fingerprint of conventions.py as compiled into this module's cached code."""
    return _CONVENTIONS_STAMP


_ramp = njit(cache=True, inline="always")(ramp_share)


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
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


class DayCache(NamedTuple):
    """The events in force today and what the lane has derived from them (lane memory).

    A country's availability is valid while its stamp equals the country's, which changes
    whenever an event that hits the country changes (starts, ends or moves along its
    recovery); a product's exposure test is valid while its stamp equals the lane's,
    which changes whenever the events in force change. Values are computed on first use
    after a change and read afterwards; a value is recomputed from the events in force,
    in their order, with the very operations of computing it afresh, so caching changes
    no bit.

    Attributes
    ----------
    act_h, act_sev, act_prof : int64[E], float64[E], float64[E]
        The events in force today: hazard index, severity and profile.
    av, av_stamp : float64[G, C], int64[G, C]
        Availability of country ``c`` to the products of hazard group ``g``
        (``KernelModel.haz_group``: products covered by the same hazards).
    cstamp : int64[C]
        Each country's stamp.
    exposed, ex_stamp : bool[P], int64[P]
        Whether some event in force exposes the product (``KernelModel.haz_exposes``).
    """

    act_h: np.ndarray
    act_sev: np.ndarray
    act_prof: np.ndarray
    av: np.ndarray
    av_stamp: np.ndarray
    cstamp: np.ndarray
    exposed: np.ndarray
    ex_stamp: np.ndarray


@njit(cache=True, inline="always")
def _group_availability(m, rg, dc, g, c, na):
    """Country ``c``'s availability to hazard group ``g`` today, from the cache."""
    if dc.av_stamp[g, c] != dc.cstamp[c]:
        dc.av[g, c] = _availability(
            c, rg.group_rep[g], na, dc.act_h, dc.act_sev, dc.act_prof, m.haz_mult, m.haz_products
        )
        dc.av_stamp[g, c] = dc.cstamp[c]
    return dc.av[g, c]


@njit(cache=True, inline="always")
def _exposure_availability(m, rg, dc, ptr0, ptr1, country, weight, g, na):
    """Weighted availability of exposure entries ``ptr0:ptr1`` to hazard group ``g``."""
    x = 0.0
    for e in range(ptr0, ptr1):
        x += weight[e] * _group_availability(m, rg, dc, g, country[e], na)
    return x


@njit(cache=True, inline="always")
def _exposed(m, dc, i, na, stamp):
    """Whether an event in force exposes product ``i`` today, from the cache."""
    if dc.ex_stamp[i] != stamp:
        hit = False
        for q in range(na):
            if m.haz_exposes[dc.act_h[q], i]:
                hit = True
                break
        dc.exposed[i] = hit
        dc.ex_stamp[i] = stamp
    return dc.exposed[i]


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
    av, av_stamp, cstamp, exposed, ex_stamp
        The lane's :class:`DayCache` (with ``act_*``).
    clock : int64[1]
        The lane's current cache stamp (it only grows, run after run).
    ev_prof : float64[E]
        Each event's profile yesterday (0: not in force), to find the events that change.
    pint : int64[P, N_PINT]
        Per product: the day its supply was last computed into ``pflt`` (-1: none), the
        last day something it depends on changed, its steady stretch (columns
        ``CACHED, DIRTY, STEADY, ...``; docs/architecture.md, "The kernel's caches").
    pflt : float64[P, 7]
        Per product, the supply computed on day ``pint[i, 0]``: ``b``, premium share,
        reshored share, recycled share, the reshoring and recycling fractions it used,
        and 1.0 when the product was untouched.
    inc : float64[P, N_INC]
        Per product, the amounts its day adds to its metrics (``INC_METRIC``): today's,
        or for a steady product, those of each of its steady days.
    sys_day : bool[T]
        The days of the run on which the system is short (final demand unmet).
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
    av: np.ndarray
    av_stamp: np.ndarray
    cstamp: np.ndarray
    exposed: np.ndarray
    ex_stamp: np.ndarray
    clock: np.ndarray
    ev_prof: np.ndarray
    pint: np.ndarray
    pflt: np.ndarray
    inc: np.ndarray
    sys_day: np.ndarray


#: Columns of a lane's per-product integers ``LaneState.pint``: the day the product's
#: supply was cached, the last day something its supply depends on changed, the first
#: day of its steady stretch (-1: not steady), the day a steady product must be cleared
#: again (a qualification day), and of its steady day: the fixed-point gap and stock
#: deficit, whether it is short, whether it is untouched, whether its stock refills
#: (:func:`_replay`).
CACHED, DIRTY, STEADY, WAKE, S_GAP, S_STOCK, S_SHORT, S_UNTOUCHED, S_REFILL = range(9)
N_PINT = 9
#: One as an unsigned integer: ``uint64 + 1`` would be a float in numba.
U1 = np.uint64(1)
#: Columns of a lane's per-product increments of the day ``LaneState.inc`` and the
#: metrics they are added to (``INC_METRIC``).
I_PREMIUM, I_OPEX, I_RECYCLED, I_RC_OPEX, I_DIV_COST, I_DIV_UNITS = 0, 1, 2, 3, 4, 5
I_SUB_COST, I_SUB_UNITS, I_UNMET, I_SHORTAGE_COST, I_SHORT_DAYS, I_HOLDING = 6, 7, 8, 9, 10, 11
I_RELEASED = 12
N_INC = 13
INC_METRIC = np.array(
    [
        M_PREMIUM, M_OPEX, M_RECYCLED, M_RC_OPEX, M_DIV_COST, M_DIV_UNITS, M_SUB_COST,
        M_SUB_UNITS, M_UNMET, M_SHORTAGE_COST, M_SHORT_DAYS, M_HOLDING, M_RELEASED,
    ],
    dtype=np.uint64,
)  # fmt: skip
#: Columns of ``LaneState.pflt``: the cached supply ratio, premium, reshored and recycled
#: shares, the reshored fraction and recycling capacity they were computed with, and
#: 1.0 for an untouched product.
F_B, F_PREMIUM, F_RESHORED, F_RECYCLED, F_RF, F_RC, F_UNTOUCHED = 0, 1, 2, 3, 4, 5, 6


class Reach(NamedTuple):
    """The model's index arrays as unsigned integers, and who depends on what.

    Numba wraps negative array indices around (``a[-1]``) unless the index is unsigned;
    the kernel's hot loops index with these ``uint64`` copies of the model's CSR arrays
    (built once per batch by :func:`_reach`), which saves that check on every access.

    Attributes
    ----------
    src_ptr, exp_ptr, exp_country, in_ptr, in_product, rx_exp_ptr, rx_exp_country : uint64[...]
        ``KernelModel``'s arrays of the same names.
    haz_group, group_rep : uint64[P], uint64[G]
        ``KernelModel``'s arrays of the same names.
    resh_from, resh_dom : uint64[P]
        ``KernelModel``'s, with -1 (no source) as the largest uint64 (no source index).
    home : uint64
        ``KernelModel.home``.
    hx_ptr, hx_product : uint64[H+1], uint64[X]
        CSR: the products that hazard ``h`` exposes (``KernelModel.haz_exposes``).
    hc_ptr, hc_country : uint64[H+1], uint64[Y]
        CSR: the countries that hazard ``h`` hits (``KernelModel.haz_mult > 0``).
    use_ptr, use_product : uint64[P+1], uint64[I]
        CSR: the products that use product ``j`` as an input.
    settle : int64[P]
        The day from which the product's requirement, reshored fraction and recycling
        capacity no longer change.
    """

    src_ptr: np.ndarray
    exp_ptr: np.ndarray
    exp_country: np.ndarray
    in_ptr: np.ndarray
    in_product: np.ndarray
    rx_exp_ptr: np.ndarray
    rx_exp_country: np.ndarray
    haz_group: np.ndarray
    group_rep: np.ndarray
    resh_from: np.ndarray
    resh_dom: np.ndarray
    home: np.uint64
    hx_ptr: np.ndarray
    hx_product: np.ndarray
    hc_ptr: np.ndarray
    hc_country: np.ndarray
    use_ptr: np.ndarray
    use_product: np.ndarray
    settle: np.ndarray


@njit(cache=True)
def _csr(mask):
    """CSR (uint64) of the ``True`` columns of each row of a boolean matrix."""
    R, K = mask.shape
    ptr = np.zeros(R + 1, dtype=np.uint64)
    for r in range(R):
        ptr[r + 1] = ptr[r] + np.uint64(np.sum(mask[r]))
    col = np.empty(np.int64(ptr[R]), dtype=np.uint64)
    k = 0
    for r in range(R):
        for j in range(K):
            if mask[r, j]:
                col[k] = j
                k += 1
    return ptr, col


@njit(cache=True)
def _unsigned_or_max(a):
    """``a`` as uint64, its negative entries (-1: none) as the largest uint64."""
    u = np.empty(a.shape[0], dtype=np.uint64)
    for k in range(a.shape[0]):
        u[k] = np.uint64(a[k]) if a[k] >= 0 else ~np.uint64(0)
    return u


@njit(cache=True)
def _reach(m):
    """The arrays of the model's :class:`Reach`, in its order (once per batch)."""
    T, P = m.requirement.shape
    hx_ptr, hx_product = _csr(m.haz_exposes)
    hc_ptr, hc_country = _csr(m.haz_mult > 0.0)
    uses = np.zeros((P, P), dtype=np.bool_)
    for i in range(P):
        for k in range(m.in_ptr[i], m.in_ptr[i + 1]):
            uses[m.in_product[k], i] = True
    use_ptr, use_product = _csr(uses)
    settle = np.zeros(P, dtype=np.int64)
    for i in range(P):
        for d in range(T - 1, 0, -1):
            if (
                m.requirement[d, i] != m.requirement[d - 1, i]
                or m.resh_frac[d, i] != m.resh_frac[d - 1, i]
                or m.rc_frac[d, i] != m.rc_frac[d - 1, i]
            ):
                settle[i] = d
                break
    return (
        m.src_ptr.astype(np.uint64),
        m.exp_ptr.astype(np.uint64),
        m.exp_country.astype(np.uint64),
        m.in_ptr.astype(np.uint64),
        m.in_product.astype(np.uint64),
        m.rx_exp_ptr.astype(np.uint64),
        m.rx_exp_country.astype(np.uint64),
        m.haz_group.astype(np.uint64),
        m.group_rep.astype(np.uint64),
        _unsigned_or_max(m.resh_from),
        _unsigned_or_max(m.resh_dom),
        np.uint64(m.home),
        hx_ptr,
        hx_product,
        hc_ptr,
        hc_country,
        use_ptr,
        use_product,
        settle,
    )


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


@njit(cache=True, inline="always")
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
        ls.pint[i, CACHED] = -1
        ls.pint[i, DIRTY] = -1
        ls.pint[i, STEADY] = -1
    ls.ev_prof[:] = 0.0
    for d in range(start.day, ls.sys_day.shape[0]):
        ls.sys_day[d] = False
    return sys_first


@njit(cache=True, inline="always")
def _events_in_force(
    ev, e0, e1, t, T, act_h, act_sev, act_prof, prev_na, ev_prof, rg, pint, cstamp, new_stamp
):
    """Collect the events of a run in force on day ``t`` into ``act_*``; mark the products
    that an event whose profile changed since yesterday exposes.

    Parameters
    ----------
    ev : EventBatch
        The batch's events; the run's are ``e0:e1``.
    t, T : int
        Today and the horizon.
    act_h, act_sev, act_prof : int64[E], float64[E], float64[E]
        Receive the events in force (hazard, severity, profile) in ``[:na]``; they hold
        the ``prev_na`` events of the previous call.
    prev_na : int
        Number of events of the previous call (-1: none this run).
    ev_prof : float64[E]
        Each event's profile on the previous call (0: not in force); updated.
    rg : Reach
        Which products each hazard exposes.
    pint : int64[P, N_PINT]
        The lane's per-product integers: ``pint[i, DIRTY]`` is set to ``t`` for every
        product that an event whose profile changed exposes.
    cstamp : int64[C]
        The countries' stamps (:class:`DayCache`): set to ``new_stamp`` (the lane's stamp
        after today's change) for every country such an event hits.

    Returns
    -------
    na : int
        Number of events in force today (with a positive profile and severity).
    next_start : int
        The first start day after today (``T`` if none).
    changed : bool
        Today's events differ from the previous call's (in number, hazard, severity or
        profile), or an event started, ended or moved along its recovery (one event can
        end as another with the same values starts: the values are the same, but the
        country stamps set for them must be new).
    """
    na = 0
    next_start = T
    changed = False
    u0 = np.uint64(e0)  # unsigned indices: no wraparound check (see Reach)
    for e in range(u0, np.uint64(e1)):
        s = ev.start[e]
        if s > t:
            if s < next_start:
                next_start = s
            continue
        pr = _profile(t, s, ev.end[e], ev.recovery[e])
        sev = ev.severity[e]
        now = 0.0
        if pr > 0.0 and sev > 0.0:
            h = ev.hazard[e]
            if na >= prev_na or act_h[na] != h or act_sev[na] != sev or act_prof[na] != pr:
                changed = True
            act_h[na] = h
            act_sev[na] = sev
            act_prof[na] = pr
            na += 1
            now = pr
        if now != ev_prof[e - u0]:
            changed = True  # (also when another event takes over identical values)
            ev_prof[e - u0] = now
            h = ev.hazard[e]
            for k in range(rg.hx_ptr[h], rg.hx_ptr[h + 1]):
                pint[rg.hx_product[k], DIRTY] = t
            for k in range(rg.hc_ptr[h], rg.hc_ptr[h + 1]):
                cstamp[rg.hc_country[k]] = new_stamp
    if na != prev_na:
        changed = True
    return na, next_start, changed


@njit(cache=True, inline="always")
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
        if m.rc_count > 0:
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


@njit(cache=True, inline="always")
def _supply(m, rg, phi, dc, stamp, i, t, na, rho, rf, rc):
    """Baseline supply of product ``i`` on day ``t`` (nothing is booked).

    A product that no event in force exposes and whose inputs are all fulfilled is
    *untouched*: full supply at the quiet-day costs. Otherwise every source delivers its
    share times the availability of its exposure countries (domestic production also times
    the fulfilment of its inputs, Leontief).

    Recycling (``rc > 0``) displaces every source pro rata and is exposed to home
    hazards only: ``b = (1 - rc) * b + rc * A_home`` (docs/model.md, "Recycling").

    ``rho < 1``: the requirement is restrained to ``rho`` of the normal one today (demand
    restraint, docs/model.md): domestic production needs only ``rho`` of its inputs, and
    when supply exceeds ``rho`` every source sells ``rho / b`` of what it could (premiums
    and opex follow purchases).

    Parameters
    ----------
    rf, rc : float
        Today's reshored fraction and recycling capacity of the product (0.0 when off).

    Returns
    -------
    untouched : bool
    b : float
        The supply ratio (share of the normal requirement).
    premium, reshored, recycled : float
        Shares of the requirement bought at source premiums (weighted by premium),
        reshored, and recycled (booked by :func:`_book_supply`).
    """
    untouched = rho == 1.0 and not _exposed(m, dc, i, na, stamp)
    if untouched:
        for k in range(rg.in_ptr[i], rg.in_ptr[i + 1]):
            if phi[rg.in_product[k]] < 1.0:
                untouched = False
                break
    if untouched:
        return True, 1.0, 0.0, 0.0, 0.0
    g = rg.haz_group[i]
    b = 0.0
    premium = 0.0
    reshored = 0.0
    for s in range(rg.src_ptr[i], rg.src_ptr[i + 1]):
        w = m.src_share[s]
        if s == rg.resh_from[i]:
            w -= rf
        elif s == rg.resh_dom[i]:
            w += rf
        if w <= 0.0:
            continue
        if na == 0:
            x = 1.0
        else:
            x = _exposure_availability(
                m, rg, dc, rg.exp_ptr[s], rg.exp_ptr[s + U1], rg.exp_country, m.exp_weight, g, na
            )
        if m.src_domestic[s]:
            for k in range(rg.in_ptr[i], rg.in_ptr[i + 1]):
                fj = phi[rg.in_product[k]]
                if rho < 1.0:
                    fj *= rho
                if fj < x:
                    x = fj
        b += w * x
        if s == rg.resh_dom[i]:
            premium += (w - rf) * x * m.src_premium[s]
            reshored += rf * x
        else:
            premium += w * x * m.src_premium[s]
    recycled = 0.0
    if rc > 0.0:  # recycling displaces every source pro rata; home hazards only
        x_rc = 1.0
        if na > 0:
            x_rc = _group_availability(m, rg, dc, g, rg.home, na)
        b = (1.0 - rc) * b + rc * x_rc
        premium *= 1.0 - rc
        reshored *= 1.0 - rc
        recycled = rc * x_rc
    if rho < 1.0 and b > rho:
        premium *= rho / b
        reshored *= rho / b
        recycled *= rho / b
    return False, b, premium, reshored, recycled


@njit(cache=True, inline="always")
def _quiet_day_costs(m, out, i, d):
    """Book product ``i``'s supply costs of a day ``d`` on which it is untouched: the
    quiet-day source premiums, reshoring opex, recycled units and recycling opex."""
    out[i, M_PREMIUM] += m.quiet_premium[d + 1, i] - m.quiet_premium[d, i]
    if m.resh_on[i]:  # otherwise the day's opex is 0.0: adding it changes no bit
        out[i, M_OPEX] += m.quiet_opex[d + 1, i] - m.quiet_opex[d, i]
    if m.rc_on[i]:
        out[i, M_RECYCLED] += m.quiet_recycled[d + 1, i] - m.quiet_recycled[d, i]
        out[i, M_RC_OPEX] += m.quiet_rc_opex[d + 1, i] - m.quiet_rc_opex[d, i]


@njit(cache=True, inline="always")
def _book_supply(m, out, inc, i, t, untouched, premium, reshored, recycled, rc):
    """Book the supply costs of product ``i``'s day ``t`` (from :func:`_supply`): the
    quiet-day costs into ``out`` when it is untouched, else into its increments ``inc``."""
    if untouched:
        _quiet_day_costs(m, out, i, t)
        return
    D = m.requirement[t, i]
    v = m.unit_value[i]
    inc[i, I_PREMIUM] += premium * D * v
    inc[i, I_OPEX] += reshored * D * v * m.resh_premium[i]
    if rc > 0.0:
        inc[i, I_RECYCLED] += recycled * D
        inc[i, I_RC_OPEX] += recycled * D * v * m.rc_premium[i]


@njit(cache=True, inline="always")
def _commit(out, inc, i):
    """Add product ``i``'s increments of the day to its metrics."""
    for k in range(N_INC):
        out[i, INC_METRIC[k]] += inc[i, k]


@njit(cache=True, inline="always")
def _replay(m, ls, out, i, t0, t1, tr_phi, tr_stock, traced):
    """Book the deferred days ``t0..t1-1`` of a steady product ``i``.

    A steady product's day is the same as the day it became steady (the increments
    ``ls.inc[i]``, its fulfilment, stock, fixed-point sums and shortage), except for the
    quiet-day costs of an untouched product, which are read per day. Each metric receives
    the same additions in the same (day) order as day-by-day booking; metrics are summed
    one after the other, which changes no bit (each is a sum of its own).

    A product whose stock refills (no gap, stock below target) is replayed day by day for
    what the stock changes: the refill (:func:`_stock_refill`, with each day's
    requirement), the holding cost of the day's stock, its stock deficit and trace.
    """
    if t1 <= t0:
        return
    pint = ls.pint
    refill = pint[i, S_REFILL] != 0
    if pint[i, S_UNTOUCHED]:
        for d in range(t0, t1):
            _quiet_day_costs(m, out, i, d)
    for k in range(N_INC):
        x = ls.inc[i, k]
        if x != 0.0 and not (refill and k == I_HOLDING):  # adding 0.0 changes no bit
            c = INC_METRIC[k]
            for _ in range(t0, t1):
                out[i, c] += x
    a_gap = pint[i, S_GAP]
    if a_gap != 0:
        for d in range(t0, t1):
            ls.acc_gap[d, i] += a_gap
    if refill:
        for d in range(t0, t1):
            _stock_refill(m, ls.stock, i, d)
            st = ls.stock[i]
            out[i, M_HOLDING] += _holding_cost(m, i, st)
            _accumulate_day(m, ls.acc_gap, ls.acc_stock, i, d, 0.0, st)
            if traced:
                tr_phi[d, i] = 1.0
                tr_stock[d, i] = st
        return  # no gap: nothing else to book
    a_stock = pint[i, S_STOCK]
    if a_stock != 0:
        for d in range(t0, t1):
            ls.acc_stock[d, i] += a_stock
    if pint[i, S_SHORT]:
        for d in range(t0, t1):
            ls.acc_short[d, i] += 1
        if m.final_demand[i] > 0.0:
            for d in range(t0, t1):
                ls.sys_day[d] = True
        ls.last_short[i] = t1 - 1
    if traced:
        f = ls.phi[i]
        st = ls.stock[i]
        for d in range(t0, t1):
            tr_phi[d, i] = f
            tr_stock[d, i] = st


@njit(cache=True, inline="always")
def _cached_supply(m, rg, phi, dc, stamp, pint, pflt, out, inc, i, t, na, rho, cache):
    """Product ``i``'s baseline supply on day ``t``, from the lane's supply cache when it
    still holds (``cache``: not a restrained day), booked; returns ``(untouched, b)``.

    The cache entry of day ``pint[i, CACHED]`` holds while nothing the supply depends on
    has changed since: no event that exposes the product changed its profile and no input
    changed its fulfilment (``pint[i, DIRTY]`` is not later), and today's reshored
    fraction and recycling capacity equal the cached ones. The value is then the one
    :func:`_supply` would compute afresh, bit for bit (docs/architecture.md).
    """
    rf = m.resh_frac[t, i] if m.resh_on[i] else 0.0  # the same 0.0 without the read
    rc = m.rc_frac[t, i] if m.rc_on[i] else 0.0
    day = pint[i, CACHED]
    if cache and day >= 0 and pint[i, DIRTY] <= day and pflt[i, F_RF] == rf and pflt[i, F_RC] == rc:
        untouched = pflt[i, F_UNTOUCHED] > 0.0
        b = pflt[i, F_B]
        premium = pflt[i, F_PREMIUM]
        reshored = pflt[i, F_RESHORED]
        recycled = pflt[i, F_RECYCLED]
    else:
        untouched, b, premium, reshored, recycled = _supply(
            m, rg, phi, dc, stamp, i, t, na, rho, rf, rc
        )
        if cache:
            pint[i, CACHED] = t
            pflt[i, F_B] = b
            pflt[i, F_PREMIUM] = premium
            pflt[i, F_RESHORED] = reshored
            pflt[i, F_RECYCLED] = recycled
            pflt[i, F_RF] = rf
            pflt[i, F_RC] = rc
            pflt[i, F_UNTOUCHED] = 1.0 if untouched else 0.0
    _book_supply(m, out, inc, i, t, untouched, premium, reshored, recycled, rc)
    return untouched, b


@njit(cache=True, inline="always")
def _end_steady(m, ls, out, tr_phi, tr_stock, traced, t):
    """Book every steady product's deferred days up to ``t`` (before a quiet stretch or the
    end of the run) and forget the supply cache: a quiet stretch fulfils every product
    without marking its consumers."""
    P = m.requirement.shape[1]
    pint = ls.pint
    for i in range(P):
        if pint[i, STEADY] >= 0:
            _replay(m, ls, out, i, pint[i, STEADY], t, tr_phi, tr_stock, traced)
            pint[i, STEADY] = -1
        pint[i, CACHED] = -1


@njit(cache=True, inline="always")
def _reactive_supply(m, rg, qual, dc, inc, i, t, na, g):
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
            k0 = rg.rx_exp_ptr[kind * P + i]
            k1 = rg.rx_exp_ptr[kind * P + i + 1]
            if k1 > k0 and na > 0:
                cap *= _exposure_availability(
                    m, rg, dc, k0, k1, rg.rx_exp_country, m.rx_exp_weight, rg.haz_group[i], na
                )
            dlv = g if g < cap else cap
            g -= dlv
            if kind == 0:
                inc[i, I_DIV_COST] += dlv * D * v * m.rx_premium[kind, i]
                inc[i, I_DIV_UNITS] += dlv * D
            else:
                inc[i, I_SUB_COST] += dlv * D * v * m.rx_premium[kind, i]
                inc[i, I_SUB_UNITS] += dlv * D
    return g


@njit(cache=True, inline="always")
def _stock_release(m, stock, inc, i, t, g):
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
        inc[i, I_RELEASED] += rel
    return g


@njit(cache=True, inline="always")
def _stock_refill(m, stock, i, t):
    """On a day without a gap, refill ``min(refill D, target - stock)``."""
    target = m.stock_target[i]
    if stock[i] < target:
        fill = m.stock_refill[i] * m.requirement[t, i]
        if target - stock[i] < fill:
            stock[i] = target
        else:
            stock[i] += fill


@njit(cache=True, inline="always")
def _qualify(m, qual, success, i, t):
    """On product ``i``'s first disruption (day ``t``), schedule the qualification of its
    reactive options whose success draw succeeded: on day ``t + lag``."""
    for kind in range(2):
        if m.rx_active[kind, i] and success[kind, i]:
            qual[kind, i] = t + m.rx_lag[kind, i]


@njit(cache=True, inline="always")
def _holding_cost(m, i, stock_i):
    """Product ``i``'s holding cost of a day that ends with ``stock_i`` units in stock."""
    return m.stock_holding[i] * m.unit_value[i] * stock_i / DAYS_PER_YEAR


@njit(cache=True, inline="always")
def _book_product_day(m, out, inc, i, t, g, u, d_today, stock_i):
    """Add product ``i``'s day to its metrics: remaining gap ``g`` (of the normal
    requirement), unmet share ``u`` of today's requirement, today's final demand
    ``d_today``, end-of-day stock.

    Unmet units, shortage cost (on final demand only), shortage days, minima of
    fulfilment and stock, holding cost on the end-of-day stock.
    """
    D = m.requirement[t, i]
    f = 1.0 - u
    if g > 0.0:  # g = u = 0 would add 0.0 (or -0.0), which changes no bit of a sum
        inc[i, I_UNMET] += g * D
        inc[i, I_SHORTAGE_COST] += u * d_today * m.shortage_cost[i]
    if g > TOL:
        inc[i, I_SHORT_DAYS] += 1.0
    if f < out[i, M_MIN_FULFIL]:
        out[i, M_MIN_FULFIL] = f
    if stock_i < out[i, M_MIN_STOCK]:
        out[i, M_MIN_STOCK] = stock_i
    inc[i, I_HOLDING] += _holding_cost(m, i, stock_i)


@njit(cache=True, inline="always")
def _accumulate_day(m, acc_gap, acc_stock, i, t, g, stock_i):
    """Add product ``i``'s gap and relative stock deficit of day ``t`` to the lane's sums
    (fixed point, ``FIXED`` per 1.0); returns the two amounts added."""
    a_gap = 0
    a_stock = 0
    if g > 0.0:  # g = 0 and a full stock add 0: the memory is left alone
        a_gap = np.int64(g * FIXED + 0.5)
        acc_gap[t, i] += a_gap
    target = m.stock_target[i]
    if target > 0.0 and stock_i != target:
        a_stock = np.int64((target - stock_i) / target * FIXED + 0.5)
        acc_stock[t, i] += a_stock
    return a_gap, a_stock


@njit(cache=True)
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


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
def _try_steady(m, rg, qual, pint, i, t, untouched, short, a_gap, a_stock, stock_i, refill):
    """After clearing product ``i`` on day ``t`` (not restrained; its stock unchanged, or
    ``refill``: refilling without a gap), make it steady from tomorrow when its next days
    will be the same as today (a refilling stock is replayed day by day, :func:`_replay`).

    They are, until something its supply depends on changes (``DIRTY``), a restrained
    day, or a qualification day (``WAKE``), when: its requirement, reshored fraction and
    recycling capacity no longer change (``Reach.settle``; an untouched product with a
    full or refilling stock need not: its day does not depend on them), and each
    qualified reactive option has finished its ramp. Anything a day adds although the
    stock does not move (a release or refill too small to change it) is in its
    increments, and the same stock and inputs give the same amounts tomorrow.
    """
    if t < rg.settle[i] and not (untouched and (refill or stock_i >= m.stock_target[i])):
        return  # its requirement may still change (and with it its day)
    wake = m.requirement.shape[0]
    for kind in range(2):
        q = qual[kind, i]
        if q > t:
            if q < wake:
                wake = q
        elif q >= 0 and _ramp(t - q, m.rx_ramp[kind, i]) < 1.0:
            return
    pint[i, STEADY] = t + 1
    pint[i, WAKE] = wake
    pint[i, S_GAP] = a_gap
    pint[i, S_STOCK] = a_stock
    pint[i, S_SHORT] = 1 if short else 0
    pint[i, S_UNTOUCHED] = 1 if untouched else 0
    pint[i, S_REFILL] = 1 if refill else 0


@njit(cache=True, _nrt=False, error_model="numpy")
def simulate_run(m, rg, ev, e0, e1, success, ls, tr, out, start):
    """Simulate one run of one strategy (docs/model.md) and write its metrics.

    Day by day: the events in force (:func:`_events_in_force`); a stretch of days with
    none is handled at once (:func:`_quiet_stretch`); otherwise every product is cleared
    in topological order (steady ones skipped): baseline supply (:func:`_cached_supply`),
    and on a day with a gap, qualification on the first one (:func:`_qualify`), reactive
    supply (:func:`_reactive_supply`) and stock release (:func:`_stock_release`); on a
    day without, stock refill (:func:`_stock_refill`). The remaining gap is booked
    (:func:`_book_product_day`, :func:`_accumulate_day`), then the product may become
    steady (:func:`_try_steady`); the system's days are counted at the end of the run;
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
    rs_start, rs_share, req = ls[12:15]
    dc = DayCache(
        act_h, act_sev, act_prof, ls.av, ls.av_stamp, ls.cstamp, ls.exposed, ls.ex_stamp,
    )  # fmt: skip
    clock = ls.clock
    stamp = clock[0]
    for c in range(dc.cstamp.shape[0]):
        dc.cstamp[c] = stamp + 1  # every availability of an earlier run is stale
    ev_prof, pint, pflt, inc, sys_day = ls.ev_prof, ls.pint, ls.pflt, ls.inc, ls.sys_day
    na = -1  # no events collected yet this run
    tr_phi, tr_stock, traced, snap_day, snap = tr
    sys_first = _start_run(m, ls, out, start, success)
    sys_min = 1.0
    t = start.day
    while t < T:
        if t == snap_day:
            _end_steady(m, ls, out, tr_phi, tr_stock, traced, t)  # a refilling stock moves
            for i in range(P):
                snap[i] = stock[i]
        na, next_start, changed = _events_in_force(
            ev, e0, e1, t, T, act_h, act_sev, act_prof, na, ev_prof, rg, pint, dc.cstamp, stamp + 1
        )
        if changed:
            stamp += 1  # every cached value of dc is stale
        restrained = False
        if m.rs_count > 0:
            restrained, next_start = _restraint_today(
                m, rs_start, rs_share, req, out, t, next_start
            )
        if na == 0 and not restrained:
            _end_steady(m, ls, out, tr_phi, tr_stock, traced, t)
            _quiet_stretch(
                m, stock, phi, acc_stock, tr_phi, tr_stock, traced, snap_day, snap, out, t,
                next_start,
            )  # fmt: skip
            t = next_start
            continue
        for i in range(P):
            since = pint[i, STEADY]
            if since >= 0:
                if pint[i, DIRTY] != t and t < pint[i, WAKE] and not restrained:
                    continue  # still steady: its days are booked when it wakes
                _replay(m, ls, out, i, since, t, tr_phi, tr_stock, traced)
                pint[i, STEADY] = -1
            for k in range(N_INC):
                inc[i, k] = 0.0
            D = m.requirement[t, i]
            stock_before = stock[i]
            refill = False
            rho = 1.0
            if restrained and D > 0.0:
                rho = req[i] / D
            untouched, b = _cached_supply(
                m, rg, phi, dc, stamp, pint, pflt, out, inc, i, t, na, rho, not restrained
            )
            g = rho - b
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
                g = _reactive_supply(m, rg, qual, dc, inc, i, t, na, g)
                g = _stock_release(m, stock, inc, i, t, g)
            else:
                refill = stock_before < m.stock_target[i]
                _stock_refill(m, stock, i, t)
            if g <= TOL:
                g = 0.0  # a remainder within the tolerance is met
            u = g  # unmet share of today's requirement
            d_today = m.final_demand[i]
            if rho < 1.0:
                u = g / rho if rho > 0.0 else 0.0  # rho = 0: nothing required, g = 0
                d_today = m.final_demand[i] * (1.0 - rs_share[i])
            f = 1.0 - u
            if f != phi[i]:  # the products that use this one must recompute their supply
                for k in range(rg.use_ptr[i], rg.use_ptr[i + 1]):
                    pint[rg.use_product[k], DIRTY] = t
            phi[i] = f
            _book_product_day(m, out, inc, i, t, g, u, d_today, stock[i])
            _commit(out, inc, i)
            a_gap, a_stock = _accumulate_day(m, acc_gap, acc_stock, i, t, u, stock[i])
            short = g > TOL
            if short:
                acc_short[t, i] += 1
                if first_short[i] < 0:
                    first_short[i] = t
                last_short[i] = t
                if m.final_demand[i] > 0.0:
                    sys_day[t] = True
            if m.final_demand[i] > 0.0 and f < sys_min:
                sys_min = f
            if traced:
                tr_phi[t, i] = f
                tr_stock[t, i] = stock[i]
            if not restrained and (stock[i] == stock_before or refill):
                _try_steady(
                    m, rg, qual, pint, i, t, untouched, short, a_gap, a_stock, stock[i], refill
                )
        t += 1
    _end_steady(m, ls, out, tr_phi, tr_stock, traced, T)
    sys_first_short = -1
    sys_last_short = -1
    sys_short_days = 0
    for d in range(start.day, T):
        if sys_day[d]:
            sys_short_days += 1
            acc_short[d, P] += 1
            if sys_first_short < 0:
                sys_first_short = d
            sys_last_short = d
    clock[0] = stamp
    _finalise_run(m, ls, out, sys_first, sys_first_short, sys_last_short, sys_short_days, sys_min)


@njit(cache=True, parallel=True, error_model="numpy")
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
    T, P = m.requirement.shape
    G = m.group_rep.shape[0]
    C = m.haz_mult.shape[1]
    max_events = 1
    for k in range(n):
        ne = ev.ptr[k + 1] - ev.ptr[k]
        if ne > max_events:
            max_events = ne
    r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15, r16, r17, r18 = _reach(m)
    for lane in prange(lanes):
        rg = Reach(
            r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15, r16, r17, r18
        )
        ls = LaneState(
            np.empty(P),
            np.empty(P),
            np.empty(P, dtype=np.int64),
            np.empty(P, dtype=np.int64),
            np.empty(P, dtype=np.int64),
            np.empty((2, P), dtype=np.int64),
            np.empty(max_events, dtype=np.uint64),
            np.empty(max_events),
            np.empty(max_events),
            acc_gap[lane],
            acc_short[lane],
            acc_stock[lane],
            np.empty(P, dtype=np.int64),
            np.empty(P),
            np.empty(P),
            np.empty((G, C)),
            np.full((G, C), -1, dtype=np.int64),
            np.empty(C, dtype=np.int64),
            np.empty(P, dtype=np.bool_),
            np.full(P, -1, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
            np.zeros(max_events),
            np.empty((P, N_PINT), dtype=np.int64),
            np.empty((P, 7)),
            np.zeros((P, N_INC)),
            np.zeros(T, dtype=np.bool_),
        )
        for k in range(lane, n, lanes):
            traced = k < n_trace
            kt = k if traced else 0
            ks = 0
            if snap_day >= 0:
                ks = k
            tr = RunTrace(trace_phi[kt], trace_stock[kt], traced, snap_day, snap_stock[ks])
            simulate_run(m, rg, ev, ev.ptr[k], ev.ptr[k + 1], success[k], ls, tr, out[k], start)


def _drop_stale_cache() -> bool:
    """When ``conventions.py`` changed since this module's cache was written, drop every
    cached function of this module so that it is compiled again with today's constants."""
    if _compiled_stamp() == _CONVENTIONS_STAMP:
        return False
    for obj in list(globals().values()):
        cache = getattr(obj, "_cache", None)
        if cache is not None and hasattr(cache, "flush"):
            cache.flush()
    _compiled_stamp.recompile()
    return True


#: True when this import found the cache stale and dropped it.
STALE_CACHE_DROPPED = _drop_stale_cache()
