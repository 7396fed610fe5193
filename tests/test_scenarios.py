"""The shipped scenarios: they load, run, match their stored snapshots, follow the
commenting rules (a source or an assumption next to every figure) and show what their
headers say they show."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import pandas as pd
import pytest

import disruptsim as ds

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = ROOT / "scenarios"
ALL_SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml"))
PRIORITY = (
    "phosphate-fertiliser",
    "generic-antibiotics",
    "solar-pv",
    "semiconductors",
    "rare-earth-magnets",
    "russian-gas-2022",
)
"""The six scenarios of the four priority areas."""
VALIDATION = ("validation-tucker-daskin",)
"""Scenarios that exist to validate the model (docs/validation.md)."""


def _load_snapshot_module():
    spec = importlib.util.spec_from_file_location(
        "update_snapshots", ROOT / "scripts" / "update_snapshots.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


snapshots = _load_snapshot_module()


def scenario_path(name: str) -> Path:
    return SCENARIO_DIR / f"{name}.yaml"


def test_every_priority_scenario_is_shipped():
    shipped = {p.stem for p in ALL_SCENARIOS}
    assert set(PRIORITY) <= shipped


@pytest.mark.parametrize("path", ALL_SCENARIOS, ids=lambda p: p.stem)
def test_scenario_loads_and_is_named_after_its_file(path):
    scenario = ds.load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.strategy_names[0] == "baseline"
    assert scenario.horizon_days <= 3 * 365, "keep shipped scenarios to about three years"
    assert len(scenario.baseline.products) <= 20, "keep shipped scenarios small"


# -- strategies ---------------------------------------------------------------------------


def _share(source) -> float:
    return float(source["share"] if isinstance(source, dict) else source)


def strategy_kinds(override, baseline_products) -> set[str]:
    """Which mitigation kinds a strategy override touches. A larger ``domestic`` share
    (e.g. recycled material made at home) counts as domestic supply, beside reshoring."""
    kinds = set()
    for name, product in (override or {}).get("products", {}).items():
        if "stockpile" in product:
            kinds.add("stockpile")
        if "sources" in product or "diversification" in product:
            kinds.add("diversification")
        if "reshoring" in product:
            kinds.add("reshoring")
        if "substitution" in product:
            kinds.add("substitution")
        before = baseline_products[name]["sources"].get("domestic", 0.0)
        after = product.get("sources", {}).get("domestic", before)
        if _share(after) > _share(before):
            kinds.add("domestic")
    return kinds


@pytest.mark.parametrize("name", PRIORITY)
def test_priority_scenario_has_the_four_kinds_of_strategy(name):
    """Baseline, a stockpile, a diversification, reshoring or substitution, a combination."""
    scenario = ds.load_scenario(scenario_path(name))
    overrides = scenario.data["strategies"]
    products = scenario.data["products"]
    kinds = {s: strategy_kinds(o, products) for s, o in overrides.items() if s != "baseline"}
    assert len(scenario.strategy_names) >= 5
    assert any("stockpile" in k for k in kinds.values())
    assert any("diversification" in k for k in kinds.values())
    assert any(k & {"reshoring", "substitution", "domestic"} for k in kinds.values())
    assert any(len(k) >= 2 for k in kinds.values()), "no combination strategy"
    for strategy in scenario.strategy_names:
        assert scenario.strategies[strategy].description, f"{strategy} has no description"


# -- snapshots ----------------------------------------------------------------------------

SNAPSHOTTED = [p for p in ALL_SCENARIOS if p.stem not in snapshots.NOT_SNAPSHOTTED]


@pytest.mark.parametrize("path", SNAPSHOTTED, ids=lambda p: p.stem)
def test_scenario_matches_its_snapshot(path):
    """Same scenario, runs and seed -> the stored numbers (regenerate them only with
    ``python scripts/update_snapshots.py`` after an intended change)."""
    stored_path = snapshots.snapshot_path(path)
    assert stored_path.is_file(), (
        f"no snapshot; run: python scripts/update_snapshots.py {path.stem}"
    )
    stored = snapshots.read_snapshot(stored_path)
    current = snapshots.compute(path)
    assert list(current.columns) == list(stored.columns)
    pd.testing.assert_frame_equal(
        current,
        stored,
        check_exact=False,
        rtol=snapshots.SNAPSHOT_RTOL,
        atol=0.0,
        check_dtype=False,
    )


def test_snapshot_roundtrip_is_exact(tmp_path):
    table = pd.DataFrame({"strategy": ["a"], "x": [0.1 + 0.2], "y": [math.pi * 1e11]})
    snapshots.write_snapshot(table, tmp_path / "t.csv")
    back = snapshots.read_snapshot(tmp_path / "t.csv")
    assert back["x"].iloc[0] == table["x"].iloc[0]
    assert back["y"].iloc[0] == table["y"].iloc[0]


# -- commenting rules ---------------------------------------------------------------------

NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
KEY_LINE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:(.*)$")
TEXT_KEYS = {"name", "description", "unit", "from", "schema_version"}


def figure_lines_without_comment(text: str) -> list[tuple[int, str]]:
    """Lines that set a number with no comment on the line or directly above."""
    missing = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        match = KEY_LINE.match(line)
        if match is None or match.group(1) in TEXT_KEYS:
            continue
        value = match.group(2).split("#", 1)[0]
        if not NUMBER.search(value):
            continue
        if "#" in line:
            continue
        previous = lines[number - 2].strip() if number >= 2 else ""
        if previous.startswith("#"):
            continue
        missing.append((number, line.strip()))
    return missing


def assumptions_without_reason(text: str) -> list[tuple[int, str]]:
    """ASSUMPTION comments that do not say why (`because`), counting their continuation lines."""
    lines = text.splitlines()
    missing = []
    for number, line in enumerate(lines, start=1):
        if "ASSUMPTION" not in line or "#" not in line:
            continue
        comment = line.split("#", 1)[1]
        following = number
        while following < len(lines) and lines[following].strip().startswith("#"):
            comment += " " + lines[following].strip().lstrip("#")
            following += 1
        # The reason belongs to this assumption: up to the next ASSUMPTION, if any.
        own = comment.split("ASSUMPTION", 1)[1].split("ASSUMPTION", 1)[0]
        if "because" not in own:
            missing.append((number, line.strip()))
    return missing


@pytest.mark.parametrize("name", PRIORITY + VALIDATION)
def test_every_figure_has_a_source_or_an_assumption(name):
    text = scenario_path(name).read_text(encoding="utf-8")
    assert figure_lines_without_comment(text) == []
    assert assumptions_without_reason(text) == []
    assert "FACTS" in text


def test_comment_rules_catch_violations():
    text = "a:\n  x: 1.5\n  y: 2   # FACTS: y\n  # ASSUMPTION: z is 3\n  z: 3\n"
    assert figure_lines_without_comment(text) == [(2, "x: 1.5")]
    assert assumptions_without_reason(text) == [(4, "# ASSUMPTION: z is 3")]


# -- what the headers say ------------------------------------------------------------------


def replay(name: str, shocks: list[dict], strategies: tuple[str, ...] = ("baseline",)):
    """The scenario without random hazards and with the given deterministic shocks: one run."""
    scenario = ds.load_scenario(scenario_path(name))
    data = {
        **scenario.data,
        "hazards": [],
        "shocks": shocks,
        "strategies": {s: scenario.data["strategies"][s] for s in strategies},
    }
    return ds.simulate(ds.load_scenario(data), runs=1, seed=0)


def unmet_share(result, product: str, demand_units: float, strategy: str = "baseline") -> float:
    frame = result.runs(strategy)
    return float(frame.loc[frame["product"] == product, "unmet_units"].iloc[0]) / demand_units


def test_phosphate_dependency_on_china_is_far_below_the_import_share():
    """A full Chinese export ban of 180 days: the P2O5 import share (59%) overstates it."""
    ban = [{"countries": ["CHN"], "start_day": 30, "duration_days": 180, "severity": 1.0}]
    result = replay("phosphate-fertiliser", ban)
    p2o5 = unmet_share(result, "p2o5", 5 * 180)
    fertiliser = unmet_share(result, "phosphate_fertiliser", 30 * 180)
    assert p2o5 == pytest.approx(0.0817, abs=5e-4)  # substitution closes the gap in ~5 weeks
    assert fertiliser == pytest.approx(0.016 * 0.5, rel=1e-9)  # Chinese share of fertiliser
    assert p2o5 < 0.59 / 5
    israel = replay("phosphate-fertiliser", [{**ban[0], "countries": ["ISR"]}])
    assert unmet_share(israel, "phosphate_fertiliser", 30 * 180) > 0.25


def test_russian_gas_replay_matches_the_2022_outcome():
    """Without extra hazards: the pre-war set-up runs short, the 2022 response does not."""
    scenario = ds.load_scenario(scenario_path("russian-gas-2022"))
    result = replay(
        "russian-gas-2022", list(scenario.data["shocks"]), ("baseline", "response_2022")
    )
    demand = 9.43 * 730
    assert unmet_share(result, "natural_gas", demand) > 0.05
    assert unmet_share(result, "natural_gas", demand, "response_2022") < 1e-9


def test_solar_reshoring_modules_alone_keeps_the_chinese_dependency():
    """EU module plants need cells; cells need wafers: without them a Chinese stop still bites."""
    ban = [{"countries": ["CHN"], "start_day": 1000, "duration_days": 60, "severity": 1.0}]
    result = replay("solar-pv", ban, ("baseline", "reshore_modules", "reshore_chain"))
    base = unmet_share(result, "pv_modules", 150 * 60)
    modules_only = unmet_share(result, "pv_modules", 150 * 60, "reshore_modules")
    chain = unmet_share(result, "pv_modules", 150 * 60, "reshore_chain")
    assert modules_only == pytest.approx(base, abs=0.02)
    assert chain <= modules_only
