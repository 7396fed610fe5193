"""Synthetic scenarios of any size, for benchmarks and tests.

:func:`synthetic_scenario` returns a plain mapping in the scenario format (load it
with :func:`disruptsim.load_scenario`): a random bill-of-materials DAG, 1-4 sources
per product with some indirect exposure, a hazard on every country, and mitigations
(stockpiles, reactive diversification, substitution, reshoring) spread over products.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conventions import DOMESTIC

COUNTRIES = (
    "CHN", "IND", "USA", "JPN", "KOR", "TWN", "MYS", "VNM",
    "BRA", "ZAF", "MAR", "ISR", "TUR", "MEX", "IDN",
)  # fmt: skip


def synthetic_scenario(
    n_products: int = 50,
    n_countries: int = 15,
    horizon_days: int = 730,
    seed: int = 0,
    strategies: bool = True,
) -> dict[str, Any]:
    """A random but valid scenario mapping.

    Parameters
    ----------
    n_products : int
        Number of products (a random DAG; about a third have final demand).
    n_countries : int
        Number of supplier countries (at most 15), each with its own hazard.
    horizon_days : int
        Simulated days.
    seed : int
        Seed of the scenario's construction (not of the simulation).
    strategies : bool
        Add four strategies (stock, diversify, reshore, combined) to the baseline.
    """
    if not 1 <= n_countries <= len(COUNTRIES):
        raise ValueError(f"n_countries must be in 1..{len(COUNTRIES)}")
    rng = np.random.default_rng(seed)
    countries = list(COUNTRIES[:n_countries])
    names = [f"p{i:03d}" for i in range(n_products)]
    products: dict[str, Any] = {}
    for i, name in enumerate(names):
        k = int(rng.integers(1, 5))
        chosen = [str(c) for c in rng.choice(countries, size=min(k, n_countries), replace=False)]
        if i > 0 and rng.random() < 0.5:
            chosen[-1] = DOMESTIC
        shares = np.round(rng.dirichlet(np.ones(len(chosen))), 6)
        shares[-1] = round(1.0 - float(shares[:-1].sum()), 6)
        sources: dict[str, Any] = {}
        for c, s in zip(chosen, shares, strict=True):
            if c != DOMESTIC and n_countries > 1 and rng.random() < 0.25:
                other = str(rng.choice([x for x in countries if x != c]))
                sources[c] = {"share": float(s), "exposure": {c: 0.5, other: 0.5}}
            else:
                sources[c] = float(s)
        product: dict[str, Any] = {
            "unit": "t",
            "unit_value": float(np.round(rng.uniform(100, 10_000), 2)),
            "final_demand_per_day": float(np.round(rng.uniform(1, 100), 2))
            if (i % 3 == 2 or i == n_products - 1)
            else 0.0,
            "sources": sources,
        }
        if DOMESTIC in sources and i > 0:
            ups = rng.choice(i, size=min(int(rng.integers(1, 4)), i), replace=False)
            product["inputs"] = {
                names[int(j)]: float(np.round(rng.uniform(0.1, 2.0), 3)) for j in sorted(ups)
            }
        if rng.random() < 0.3:
            product["stockpile"] = {
                "initial_days": float(rng.integers(10, 60)),
                "refill_days_per_day": 0.05,
            }
        if rng.random() < 0.3:
            product["diversification"] = {
                "lag_days": float(rng.integers(30, 180)),
                "ramp_days": float(rng.integers(30, 180)),
                "max_share": 0.3,
                "unit_cost_premium": 0.2,
                "success_probability": 0.7,
                "exposure": {str(rng.choice(countries)): 1.0},
            }
        if rng.random() < 0.2:
            product["substitution"] = {
                "lag_days": 30.0,
                "ramp_days": 90.0,
                "max_share": 0.1,
                "unit_cost_premium": 0.4,
            }
        products[name] = product

    hazards = [
        {
            "name": f"hazard_{c}",
            "countries": [c],
            "annual_probability": float(np.round(rng.uniform(0.03, 0.15), 3)),
            "severity": {"dist": "beta", "mean": 0.5, "sd": 0.2},
            "duration_days": {"dist": "lognormal", "median": 60, "p95": 240},
            "recovery_days": 30,
        }
        for c in countries
    ]
    scenario: dict[str, Any] = {
        "name": f"synthetic-{n_products}p-{n_countries}c",
        "description": "Synthetic scenario for benchmarks and tests",
        "home": "EU27",
        "horizon_days": horizon_days,
        "hazards": hazards,
        "products": products,
    }
    if strategies:
        finals = [n for n in names if products[n]["final_demand_per_day"] > 0]
        imported = [n for n in names if any(c != DOMESTIC for c in products[n]["sources"])]
        target = imported[-1]
        shares_of_target = {
            c: (v if isinstance(v, float) else v["share"])
            for c, v in products[target]["sources"].items()
            if c != DOMESTIC
        }
        top = max(shares_of_target, key=shares_of_target.__getitem__)
        reshore_share = round(min(0.2, shares_of_target[top]), 6)
        alternative = {"USA": 0.5, "JPN": 0.5} if n_countries >= 4 else {countries[0]: 1.0}
        scenario["strategies"] = {
            "baseline": {},
            "stock_60d": {
                "products": {
                    n: {"stockpile": {"initial_days": 60.0, "fixed_cost": 1.0e5}} for n in finals
                }
            },
            "diversify": {
                "products": {
                    n: {
                        "diversification": {
                            "lag_days": 60.0,
                            "ramp_days": 60.0,
                            "max_share": 0.5,
                            "unit_cost_premium": 0.15,
                            "success_probability": 0.8,
                            "exposure": _replace(
                                products[n].get("diversification", {}).get("exposure", {}),
                                alternative,
                            ),
                        }
                    }
                    for n in finals
                }
            },
            "reshore": {
                "products": {
                    target: {
                        "reshoring": {
                            "from": top,
                            "share": reshore_share,
                            "build_days": 365.0,
                            "ramp_days": 180.0,
                            "capex": 5.0e7,
                            "unit_cost_premium": 0.3,
                        }
                    }
                }
            },
        }
    return scenario


def hazard_heavy_scenario(
    n_products: int = 50,
    n_countries: int = 15,
    horizon_days: int = 730,
    seed: int = 0,
    filtered: bool = False,
) -> dict[str, Any]:
    """A baseline-only :func:`synthetic_scenario` whose every country is often disrupted.

    Each country's hazard has an annual probability drawn uniformly in 2-30%, a lognormal
    duration of months (median 90 days, 95th percentile 300) and 30-90 days of recovery:
    most days of a run have one or more events in force. The kernel's benchmark of
    ``benchmarks/bench_kernel_vs_frozen.py`` and the kernel's equivalence tests use it.

    Parameters
    ----------
    n_products, n_countries, horizon_days, seed
        As for :func:`synthetic_scenario` (``seed`` also draws the hazards).
    filtered : bool
        Also add three regional hazards over several countries that hit only some
        products (``products:`` filters), so that products differ in the events that
        reach them.
    """
    scenario = synthetic_scenario(n_products, n_countries, horizon_days, seed, strategies=False)
    rng = np.random.default_rng([seed, 17])
    countries = [h["countries"][0] for h in scenario["hazards"]]
    hazards: list[dict[str, Any]] = [
        {
            "name": f"hazard_{c}",
            "countries": [c],
            "annual_probability": float(np.round(rng.uniform(0.02, 0.30), 3)),
            "severity": {"dist": "beta", "mean": 0.5, "sd": 0.2},
            "duration_days": {"dist": "lognormal", "median": 90, "p95": 300},
            "recovery_days": int(rng.integers(30, 91)),
        }
        for c in countries
    ]
    if filtered:
        names = list(scenario["products"])
        for k in range(3):
            size = min(len(names), int(rng.integers(1, max(2, len(names) // 2) + 1)))
            hit = sorted(str(x) for x in rng.choice(names, size=size, replace=False))
            where = sorted(
                str(x) for x in rng.choice(countries, size=min(3, len(countries)), replace=False)
            )
            hazards.append(
                {
                    "name": f"regional_{k}",
                    "countries": where,
                    "products": hit,
                    "annual_probability": float(np.round(rng.uniform(0.1, 0.5), 3)),
                    "severity": {"dist": "beta", "mean": 0.4, "sd": 0.2},
                    "duration_days": {"dist": "lognormal", "median": 60, "p95": 200},
                    "recovery_days": 30,
                }
            )
    return {
        **scenario,
        "name": f"hazard-heavy-{n_products}p-{n_countries}c" + ("-filtered" if filtered else ""),
        "hazards": hazards,
    }


def _replace(old: dict[str, float], new: dict[str, float]) -> dict[str, float | None]:
    """A strategy override that replaces mapping ``old`` by ``new`` (null deletes a key)."""
    return {**{k: None for k in old if k not in new}, **new}
