"""Regenerate the stored result snapshots of the shipped scenarios.

Usage (from the repository root)::

    python scripts/update_snapshots.py            # every scenario in scenarios/
    python scripts/update_snapshots.py solar-pv   # only scenarios/solar-pv.yaml

Each snapshot ``tests/snapshots/<name>.csv`` is a small table per strategy computed from
``result.runs(strategy)`` of a ``SNAPSHOT_RUNS``-run study with seed ``SNAPSHOT_SEED``:
mean system total, mitigation and shortage cost, the probability of a system shortage,
the mean system time to recover over disrupted runs, and the mean unmet units of every
final product. ``tests/test_scenarios.py`` recomputes the same table and compares it with
``rtol=SNAPSHOT_RTOL``: the same scenario, runs and seed give bit-identical results, so
any difference means that the model or the scenario changed. Run this script only after
such a change was intended, and commit the new snapshots with it.

The table is computed from the per-run frames rather than from ``result.summary()`` so
that snapshots do not change when summary columns are added or renamed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import disruptsim as ds

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SNAPSHOTS = ROOT / "tests" / "snapshots"
SNAPSHOT_RUNS = 200
"""Runs per strategy of a snapshot study (small: the tests recompute it)."""
SNAPSHOT_SEED = 1
SNAPSHOT_RTOL = 1e-9
"""Relative tolerance of the comparison: identical inputs give identical numbers."""
SYSTEM = "system"
NOT_SNAPSHOTTED = {"example-minimal"}
"""Scenarios without a snapshot: example-minimal illustrates the format and may change."""


def final_products(scenario: ds.Scenario) -> list[str]:
    """Products with final demand in the baseline, in file order."""
    products = scenario.baseline.products
    return [name for name, p in products.items() if p.final_demand_per_day > 0]


def snapshot_table(scenario: ds.Scenario, result: ds.SimulationResult) -> pd.DataFrame:
    """One row per strategy: the numbers a snapshot stores (see the module docstring)."""
    rows = []
    finals = final_products(scenario)
    for strategy in result.strategy_names:
        frame = result.runs(strategy)
        system = frame[frame["product"] == SYSTEM]
        disrupted = system[system["disrupted"].astype(bool)]
        row = {
            "strategy": strategy,
            "total_cost_mean": system["total_cost"].mean(),
            "mitigation_cost_mean": system["mitigation_cost"].mean(),
            "shortage_cost_mean": system["shortage_cost"].mean(),
            "p_shortage": float((system["shortage_days"] > 0).mean()),
            "ttr_days_disrupted_mean": (disrupted["ttr_days"].mean() if len(disrupted) else np.nan),
        }
        for product in finals:
            unmet = frame.loc[frame["product"] == product, "unmet_units"]
            row[f"unmet_units_mean:{product}"] = unmet.mean()
        rows.append(row)
    return pd.DataFrame(rows)


def compute(path: Path) -> pd.DataFrame:
    """The snapshot table of one scenario file."""
    scenario = ds.load_scenario(path)
    result = ds.simulate(scenario, runs=SNAPSHOT_RUNS, seed=SNAPSHOT_SEED)
    return snapshot_table(scenario, result)


def snapshot_path(scenario_path: Path) -> Path:
    """Where the snapshot of a scenario file is stored."""
    return SNAPSHOTS / f"{scenario_path.stem}.csv"


def read_snapshot(path: Path) -> pd.DataFrame:
    """Read a stored snapshot."""
    return pd.read_csv(path)


def write_snapshot(table: pd.DataFrame, path: Path) -> None:
    """Write a snapshot with every digit of every number (17 significant digits)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, float_format="%.17g", lineterminator="\n")


def main(argv: list[str]) -> int:
    names = argv or sorted(
        p.stem for p in SCENARIOS.glob("*.yaml") if p.stem not in NOT_SNAPSHOTTED
    )
    for name in names:
        scenario_path = SCENARIOS / f"{name}.yaml"
        if not scenario_path.is_file():
            print(f"no such scenario: {scenario_path}", file=sys.stderr)
            return 2
        target = snapshot_path(scenario_path)
        write_snapshot(compute(scenario_path), target)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
