"""The look-ahead: N futures from today's situation, "as decided so far" against options.

What participants know becomes a situation (``docs/how-to-situation.md``): the events in
force with their observed severity, and the end of a hazard's event unknown (drawn in
every future from the hazard's duration given how long it has lasted); stocks, first
disruptions and qualified options as they are. The numba kernel simulates the futures
(:func:`disruptsim.simulate` with ``situation=``), every option over the same futures
(common random numbers), so the paired differences are tight (``docs/exercise.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..conventions import SYSTEM, TOL
from ..results import stats as mx
from .worlds import DECIDED

__all__ = [
    "FAN_QUANTILES",
    "FAN_RUNS",
    "NO_DECISIONS",
    "LookAhead",
    "OptionOutcome",
    "public_situation",
    "with_empty_stocks",
    "summarise",
]

NO_DECISIONS = "baseline"
"""The scenario's baseline (no decision at all), always simulated as a reference."""
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles of the fan charts."""
FAN_RUNS = 1000
"""The fan charts' quantiles come from the daily trajectories of the first futures (at most
this many); every other figure uses all futures."""


def public_situation(true: Any, public_ends: set[tuple[str, int]], scenario) -> dict[str, Any]:
    """What participants know today, as situation data for :func:`disruptsim.load_situation`.

    ``true`` is the realised path's situation (with true ends). The end of a hazard's
    event still in full force is hidden (``ends_day: null``) unless it is public
    (``(hazard, started_day)`` in ``public_ends``) or the hazard cannot last that long.
    """
    data = true.to_dict()
    hazards = {h.name: h for h in scenario.baseline.hazards}
    day = true.day
    events = []
    for e in data["events"]:
        e = dict(e)
        name = e.get("hazard")
        if name is not None and e["ends_day"] > day and (name, e["started_day"]) not in public_ends:
            elapsed = day - e["started_day"]
            if elapsed < 1 or hazards[name].duration_days.below(elapsed + 0.5) < 1.0:
                e["ends_day"] = None
        events.append(e)
    data["events"] = events
    return data


def with_empty_stocks(data: dict[str, Any], world) -> dict[str, Any]:
    """Situation data with an empty stock for each product that has none today but a
    stockpile in some strategy of ``world`` (a stock decided today starts empty)."""
    stocks = dict(data.get("stocks") or {})
    for strategy in world.strategy_names:
        for name, product in world.world(strategy).products.items():
            if product.stockpile is not None and name not in stocks:
                stocks[name] = {"units": 0.0}
    return {**data, "stocks": stocks}


@dataclass(frozen=True)
class OptionOutcome:
    """The look-ahead's figures for one option (or "as decided so far").

    Costs count the days from today to the scenario's horizon, plus the option's
    one-off cost; differences are paired, against "as decided so far", over the same
    futures, with 95% confidence intervals.
    """

    name: str
    title: str
    p_shortage: mx.Estimate
    cost: mx.Estimate
    unmet_units: mx.Estimate
    ttr_days: float
    cost_difference: mx.Estimate | None
    unmet_difference: mx.Estimate | None
    shortage_difference: mx.Estimate | None
    fan: dict[str, dict[str, list[float]]] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for the journal and the console)."""

        def est(e: mx.Estimate | None) -> list[float] | None:
            return None if e is None else [e.estimate, e.low, e.high]

        return {
            "name": self.name,
            "title": self.title,
            "p_shortage": est(self.p_shortage),
            "cost": est(self.cost),
            "unmet_units": est(self.unmet_units),
            "ttr_days": self.ttr_days,
            "cost_difference": est(self.cost_difference),
            "unmet_difference": est(self.unmet_difference),
            "shortage_difference": est(self.shortage_difference),
        }


@dataclass(frozen=True)
class LookAhead:
    """A look-ahead: the outcome of every option, and the futures' fan charts.

    Attributes
    ----------
    day : int
        Today (the first simulated day).
    runs, seed : int
        Futures simulated, and their seed.
    options : tuple of OptionOutcome
        "As decided so far" first, then the options, then "no decisions" (the baseline).
    fan_days : numpy.ndarray
        Days of the fan charts.
    final_products : tuple of str
        Products whose fulfilment and stock days the fans show.
    digest : str
        SHA-256 of every per-run metric and of the traced days of the fans: equal
        digests, identical look-aheads.
    """

    day: int
    runs: int
    seed: int
    options: tuple[OptionOutcome, ...]
    fan_days: np.ndarray
    final_products: tuple[str, ...]
    digest: str

    def __repr__(self) -> str:
        names = ", ".join(o.name for o in self.options)
        return f"<LookAhead day {self.day}: {self.runs:,d} futures, seed {self.seed}; options: {names}>"

    def table(self):
        """One row per option: P(shortage), expected cost, unmet units, time-to-recover and
        the paired differences against "as decided so far" (a pandas DataFrame)."""
        import pandas as pd

        rows = []
        for o in self.options:
            row = {"option": o.name, "title": o.title}
            for key in ("p_shortage", "cost", "unmet_units"):
                e = getattr(o, key)
                row[key], row[f"{key}_low"], row[f"{key}_high"] = e.estimate, e.low, e.high
            row["ttr_days"] = o.ttr_days
            for key in ("cost_difference", "unmet_difference", "shortage_difference"):
                e = getattr(o, key)
                row[key] = np.nan if e is None else e.estimate
                row[f"{key}_low"] = np.nan if e is None else e.low
                row[f"{key}_high"] = np.nan if e is None else e.high
            rows.append(row)
        return pd.DataFrame(rows).set_index("option")

    def as_dict(self) -> dict[str, Any]:
        """Plain data of the figures (no fans)."""
        return {
            "day": self.day,
            "runs": self.runs,
            "seed": self.seed,
            "digest": self.digest,
            "options": [o.as_dict() for o in self.options],
        }


def summarise(
    result,
    day: int,
    fan_days: int,
    titles: Mapping[str, str],
    costs: Mapping[str, float],
    order: Sequence[str],
) -> LookAhead:
    """Turn a simulation result from today's situation into a :class:`LookAhead`."""
    import hashlib

    decided = result.strategies[DECIDED]
    T = decided.horizon_days
    days = np.arange(day, min(T, day + fan_days))
    finals = decided.final_products()
    digest = hashlib.sha256()
    base = _per_run(decided, costs.get(DECIDED, 0.0))
    outcomes = []
    for name in order:
        s = result.strategies[name]
        digest.update(np.ascontiguousarray(s.metrics).tobytes())
        digest.update(np.ascontiguousarray(s.trace_fulfilment[:, days]).tobytes())
        digest.update(np.ascontiguousarray(s.trace_stock[:, days]).tobytes())
        x = _per_run(s, costs.get(name, 0.0))
        paired = name != DECIDED
        ttr = s.metric("ttr_days", SYSTEM)
        disrupted = s.metric("disrupted", SYSTEM) > 0
        ttr_mean = (
            float(np.nanmean(ttr[disrupted]))
            if np.any(disrupted & ~np.isnan(ttr))
            else float("nan")
        )
        outcomes.append(
            OptionOutcome(
                name=name,
                title=titles.get(name, name),
                p_shortage=mx.proportion_ci(int(x["short"].sum()), len(x["short"])),
                cost=mx.mean_ci(x["cost"]),
                unmet_units=mx.mean_ci(x["unmet"]),
                ttr_days=ttr_mean,
                cost_difference=mx.paired_difference(x["cost"], base["cost"]) if paired else None,
                unmet_difference=mx.paired_difference(x["unmet"], base["unmet"])
                if paired
                else None,
                shortage_difference=mx.paired_difference(x["short"], base["short"])
                if paired
                else None,
                fan=_fans(s, finals, days),
            )
        )
    return LookAhead(
        day, result.n_runs, result.seed, tuple(outcomes), days, finals, digest.hexdigest()
    )


def _per_run(s, extra_cost: float) -> dict[str, np.ndarray]:
    finals = s.final_products()
    unmet = sum(s.metric("unmet_units", p) for p in finals)
    return {
        "cost": s.metric("total_cost", SYSTEM) + extra_cost,
        "unmet": np.asarray(unmet, dtype=np.float64),
        "short": (s.metric("shortage_days", SYSTEM) > 0).astype(np.float64),
    }


def _fans(s, finals: Sequence[str], days: np.ndarray) -> dict[str, dict[str, list[float]]]:
    out = {}
    for name in finals:
        i = s.products.index(name)
        phi = np.asarray(s.trace_fulfilment[:, days, i], dtype=np.float64)
        fan = {"fulfilment": np.quantile(phi, FAN_QUANTILES, axis=0).tolist()}
        demand = s.final_demand[i] if s.final_demand is not None else 0.0
        if s.stock_target[i] > 0 and demand > TOL:
            stock = np.asarray(s.trace_stock[:, days, i], dtype=np.float64) / demand
            fan["stock_days"] = np.quantile(stock, FAN_QUANTILES, axis=0).tolist()
        out[name] = fan
    return out
