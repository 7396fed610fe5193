"""Every per-run metric and exact daily mean of every shipped scenario is bit-identical to
the digests stored before the renovation (``scripts/update_run_hashes.py``).

A metric added since has no stored digest and is not compared; every stored one must match.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STORED = json.loads((ROOT / "tests" / "snapshots" / "run_hashes.json").read_text())


def _module():
    spec = importlib.util.spec_from_file_location(
        "update_run_hashes", ROOT / "scripts" / "update_run_hashes.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hashes = _module()


@pytest.mark.parametrize("name", sorted(STORED["scenarios"]))
def test_per_run_metrics_bit_identical(name):
    assert STORED["runs"] == hashes.RUNS and STORED["seed"] == hashes.SEED
    now = hashes.scenario_digests(hashes.SCENARIOS / f"{name}.yaml")
    stored = STORED["scenarios"][name]
    assert set(stored) <= set(now), "a strategy disappeared"
    changed = [
        f"{strategy}/{key}"
        for strategy, entries in stored.items()
        for key, value in entries.items()
        if now[strategy].get(key) != value
    ]
    assert not changed, f"results changed: {changed}"
