"""Regenerate the stored result snapshots of the shipped scenarios.

Usage (from the repository root)::

    python scripts/update_snapshots.py            # every scenario in scenarios/
    python scripts/update_snapshots.py solar-pv   # only scenarios/solar-pv.yaml

Each snapshot ``tests/snapshots/<name>.csv`` holds columns ``SNAPSHOT_COLUMNS`` of
``result.summary()`` (one row per strategy and final product plus the system) of a
``SNAPSHOT_RUNS``-run study with seed ``SNAPSHOT_SEED``. ``tests/test_scenarios.py``
recomputes it and compares with ``rtol=SNAPSHOT_RTOL``: the same scenario, runs and seed
give bit-identical results, so any difference means that the model, the summary statistics
or the scenario changed. Run this script only after such a change was intended, and commit
the new snapshots with it. A subset of the summary is stored so that adding a column to the
summary does not invalidate the snapshots; renaming one of these does, on purpose.
"""

from __future__ import annotations

import sys
from pathlib import Path

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
NOT_SNAPSHOTTED = {"example-minimal"}
"""Scenarios without a snapshot: example-minimal illustrates the format and may change."""


SNAPSHOT_COLUMNS = (
    "strategy",
    "product",
    "runs",
    "total_cost_mean",
    "total_cost_p95",
    "mitigation_cost_mean",
    "shortage_cost_mean",
    "unmet_units_mean",
    "p_shortage",
    "p_disrupted",
    "tts_days_disrupted_mean",
    "ttr_days_disrupted_mean",
    "ttr_days_p95",
    "diff_total_cost_mean",
    "diff_total_cost_ci_low",
    "diff_total_cost_ci_high",
)
"""Summary columns stored in a snapshot (see docs/results.md for their definitions)."""


def snapshot_table(result: ds.SimulationResult) -> pd.DataFrame:
    """The stored part of ``result.summary()``, in a fixed row order: strategies in the
    scenario's order, each with its final products and then the system (the summary
    itself is ranked, and a ranking may change with the numbers)."""
    summary = result.summary()
    missing = [c for c in SNAPSHOT_COLUMNS if c not in summary.columns]
    if missing:
        raise KeyError(f"summary() has no column(s) {missing}; update SNAPSHOT_COLUMNS")
    products = [*result.final_products(), "system"]
    order = summary["strategy"].map(list(result.strategies).index) * len(products) + summary[
        "product"
    ].map(products.index)
    summary = summary.iloc[order.argsort(kind="stable")]
    return summary.loc[:, list(SNAPSHOT_COLUMNS)].reset_index(drop=True)


def compute(path: Path) -> pd.DataFrame:
    """The snapshot table of one scenario file."""
    result = ds.simulate(ds.load_scenario(path), runs=SNAPSHOT_RUNS, seed=SNAPSHOT_SEED)
    return snapshot_table(result)


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
