"""Store sha256 digests of every per-run metric and daily accumulator of the shipped scenarios.

Usage (from the repository root)::

    python scripts/update_run_hashes.py

Writes ``tests/snapshots/run_hashes.json``: for each shipped scenario (``RUNS`` runs, seed
``SEED``, every strategy), the digest of each per-run metric column (``float64[runs, P+1]``,
every product and the system) and of each exact daily mean (fulfilment, stock, P(shortage)).
``tests/test_bit_identity.py`` recomputes them: a refactoring or a faster kernel must leave
every digest unchanged. A metric added later has no stored digest and is not compared; a
metric whose digest changes is a change of results, to be named in the closing note and the
digests regenerated with this script on purpose.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

import disruptsim as ds

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
TARGET = ROOT / "tests" / "snapshots" / "run_hashes.json"
RUNS = 300
SEED = 7


def digest(array: np.ndarray) -> str:
    """sha256 of an array's float64 bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.float64).tobytes()).hexdigest()


def scenario_digests(path: Path) -> dict[str, dict[str, str]]:
    """``{strategy: {key: digest}}`` for one scenario."""
    scenario = ds.load_scenario(path)
    result = ds.simulate(scenario, runs=RUNS, seed=SEED, keep="all")
    out: dict[str, dict[str, str]] = {}
    for name in result.strategy_names:
        frame = result.runs(name)
        labels = list(frame["product"].cat.categories)
        entry = {}
        for column in frame.columns:
            if column in ("run", "product"):
                continue
            values = frame[column].to_numpy(dtype=np.float64).reshape(RUNS, len(labels))
            entry[f"metric:{column}"] = digest(values)
        ts = result.timeseries()
        ts = ts[ts["strategy"] == name]
        for column in ("mean_fulfilment", "mean_stock", "p_shortage"):
            entry[f"daily:{column}"] = digest(ts[column].to_numpy(dtype=np.float64))
        out[name] = entry
    return out


def compute_all() -> dict[str, dict[str, dict[str, str]]]:
    return {p.stem: scenario_digests(p) for p in sorted(SCENARIOS.glob("*.yaml"))}


def main() -> int:
    data = {"runs": RUNS, "seed": SEED, "scenarios": compute_all()}
    TARGET.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
