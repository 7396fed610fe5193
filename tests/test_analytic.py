"""Analytic cases (FACTS.md, last section) reproduced exactly or within sampling error."""

from __future__ import annotations

import math

import numpy as np
import pytest

import disruptsim as ds


def single_product(days: int, demand: float, stock_days: float, backup_share: float, outage_start: int, outage_days: int):
    product = {
        "unit": "t",
        "unit_value": 100.0,
        "final_demand_per_day": demand,
        "sources": {"CHN": 1.0},
        "stockpile": {"initial_days": stock_days, "max_release_days_per_day": 1.0, "refill_days_per_day": 0.0},
    }
    if backup_share > 0:
        product["diversification"] = {"lag_days": 0, "ramp_days": 0, "max_share": backup_share}
    return ds.load_scenario(
        {
            "name": "tts",
            "horizon_days": days,
            "shocks": [{"countries": ["CHN"], "start_day": outage_start, "duration_days": outage_days, "severity": 1.0}],
            "products": {"a": product},
        }
    )


@pytest.mark.parametrize(
    ("d", "c", "s", "L"),
    [
        (10.0, 4.0, 60.0, 30),  # tts = 60 / 6 = 10
        (10.0, 0.0, 50.0, 20),  # no backup: tts = 5
        (8.0, 2.0, 36.0, 12),  # tts = 6
        (10.0, 4.0, 240.0, 30),  # stock outlasts the outage: no shortage
        (10.0, 4.0, 0.0, 7),  # no stock: shortage from the first day
    ],
)
def test_time_to_survive_and_lost_units_closed_form(d, c, s, L):
    start = 20
    sc = single_product(120, d, s / d, c / d, start, L)
    row = ds.simulate(sc, runs=2, seed=0).runs().query("product == 'a'").iloc[0]
    unmet = max(0.0, (d - c) * L - s)
    assert row.unmet_units == pytest.approx(unmet, rel=1e-12, abs=1e-9)
    assert row.first_disruption_day == start
    if unmet > 0:
        assert row.tts_days == pytest.approx(s / (d - c))
        assert row.ttr_days == L  # shortage lasts until the supplier is back
        assert row.min_fulfilment == pytest.approx(c / d)
    else:
        assert math.isnan(row.tts_days)
        assert row.ttr_days == 0
    assert row.shortage_cost == pytest.approx(unmet * 3 * 100.0)


def expected_covered_days(rate_per_day: float, duration: int, horizon: int) -> float:
    """E[days covered by at least one event], Poisson starts per day, fixed duration.

    A day t is free when no event started on days t-k, k = 0..min(t, duration-1):
    P(free) = exp(-rate * min(t + 1, duration)).
    """
    t = np.arange(horizon)
    return float(np.sum(1.0 - np.exp(-rate_per_day * np.minimum(t + 1, duration))))


def test_two_state_availability_limit():
    """Frequent short outages: the share of disrupted days converges to the steady state.

    Events of one hazard arrive as a Poisson process and may overlap, so the long-run
    share of days with at least one event in force is 1 - exp(-lambda * E[D]) (an
    M/G/infinity busy fraction). FACTS' two-state formula lambda / (lambda + mu), for a
    process in which a new outage can only start while supply is up, is the same to
    first order in lambda / mu; both are checked.
    """
    horizon, duration, p = 3650, 4, 0.95
    lam = -math.log1p(-p) / 365.0  # events per day
    sc = ds.load_scenario(
        {
            "name": "two-state",
            "horizon_days": horizon,
            "hazards": [{"name": "h", "countries": ["CHN"], "annual_probability": p, "severity": 1.0, "duration_days": duration}],
            "products": {"a": {"unit": "t", "unit_value": 1.0, "final_demand_per_day": 1.0, "sources": {"CHN": 1.0}}},
        }
    )
    runs = ds.simulate(sc, runs=2000, seed=3).runs().query("product == 'a'")
    days = runs.shortage_days.to_numpy(dtype=float)
    expected = expected_covered_days(lam, duration, horizon)
    assert abs(days.mean() - expected) < 4 * days.std() / math.sqrt(len(days))
    share = days.mean() / horizon
    mu = 1.0 / duration
    rho = lam / mu
    assert abs(share - lam / (lam + mu)) < rho * rho + 4 * days.std() / math.sqrt(len(days)) / horizon
