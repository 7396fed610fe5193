"""Bad exercise files: every problem with file, line, column and key path; exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import disruptsim as ds
from disruptsim.exercise import load_exercise

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "exercises" / "antibiotics-api.yaml"
SCENARIO = (ROOT / "scenarios" / "generic-antibiotics.yaml").as_posix()

GOOD = f"""\
name: t
scenario: {SCENARIO}
seed: 1
turn_days: 14
turns: 4
objectives: [Test]
truth:
  shocks:
    - {{hazard: cn_export_restriction, start_day: 5, duration_days: 60, severity: 0.5}}
injects:
  - id: A
    turn: 1
    title: News
    narrative: Something happens.
    effect: none
decisions:
  - id: ration
    title: Ration
    lever: stock_release
    product: antibiotics
    parameters: {{max_release_days_per_day: 0.2}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ex.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ds.ScenarioError) as info:
        load_exercise(write(tmp_path, text))
    return [str(p) for p in info.value.problems]


def test_the_good_file_and_the_shipped_exercise_load(tmp_path):
    assert load_exercise(write(tmp_path, GOOD)).last_day == 56
    spec = load_exercise(SHIPPED)
    assert 8 <= len(spec.file.injects) <= 12


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "turn_days: 14",
            "turn_dayz: 14",
            "ex.yaml:4:1: turn_dayz: unknown key 'turn_dayz'; did you mean 'turn_days'?",
        ),
        (
            "    turn: 1\n",
            "    turn: 9\n",
            "ex.yaml:12:5: injects[0].turn: expected a turn from 1 to 4, found 9",
        ),
        (
            "    turn: 1\n",
            "    turn: 1\n    day: 3\n",
            "injects[0]: expected exactly one of turn or day",
        ),
        (
            "hazard: cn_export_restriction",
            "hazard: cn_export_restrictions",
            "did you mean 'cn_export_restriction'?",
        ),
        (
            "lever: stock_release",
            "lever: stock_relase",
            "ex.yaml:19:5: decisions[0].lever: expected 'stock_release'",
        ),
        (
            "max_release_days_per_day: 0.2",
            "max_release: 0.2",
            "decisions[0].parameters.max_release: unknown parameter of lever 'stock_release' 'max_release'; did you mean 'max_release_days_per_day'?",
        ),
        (
            "product: antibiotics",
            "product: antibiotic",
            "ex.yaml:20:5: decisions[0].product: unknown product 'antibiotic'; did you mean 'antibiotics'?",
        ),
        (
            "    effect: none\n",
            "    effect: {demand: {product: api, factor: 1.2}}\n",
            "injects[0].effect.demand.product: product 'api' has no final demand to change",
        ),
        (
            "    effect: none\n",
            "    effect: {shock: {countries: [CHN], duration_days: 5, severity: 1}}\n",
            "needs public_end: true",
        ),
        (
            "    effect: none\n",
            "    effect: {shock: {countries: [CHX], duration_days: 5, severity: 1, public_end: true}}\n",
            "unknown country code 'CHX'",
        ),
        (
            "turns: 4",
            "turns: 100",
            "ex.yaml:5:1: turns: 100 turns of 14 days run past the scenario's horizon (1095 days); expected at most 78 turns",
        ),
        ("seed: 1", "seed: -1", "ex.yaml:3:1: seed"),
    ],
)
def test_bad_files_name_file_line_and_key(tmp_path, old, new, expected):
    assert old in GOOD
    found = problems(tmp_path, GOOD.replace(old, new, 1))
    assert any(expected in p for p in found), found


def test_a_decision_that_breaks_the_world_points_at_its_parameters(tmp_path):
    text = GOOD.replace("max_release_days_per_day: 0.2", "max_release_days_per_day: -3")
    found = problems(tmp_path, text)
    assert any(
        p.startswith(f"{tmp_path / 'ex.yaml'}:21:5") and "decisions[0].parameters" in p
        for p in found
    ), found
    text = GOOD.replace(
        "    lever: stock_release\n    product: antibiotics\n    parameters: {max_release_days_per_day: 0.2}",
        "    lever: diversification\n    product: api\n    parameters: {max_share: 0.2, exposure: {USA: 0.5}}",
    )
    found = problems(tmp_path, text)
    assert any(
        "decisions[0].parameters: diversification.exposure: exposure weights sum to" in p
        for p in found
    ), found


def test_missing_scenario_and_several_problems_at_once(tmp_path):
    found = problems(tmp_path, GOOD.replace(SCENARIO, "nowhere.yaml"))
    assert any("scenario: cannot read the scenario" in p for p in found), found
    text = GOOD.replace("turns: 4", "turns: 100").replace("product: antibiotics", "product: nope")
    assert len(problems(tmp_path, text)) == 2


def test_cli_exits_2_without_traceback(tmp_path):
    path = write(tmp_path, GOOD.replace("turn_days: 14", "turn_dayz: 14"))
    proc = subprocess.run(
        [sys.executable, "-m", "disruptsim", "exercise", str(path), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "ex.yaml:4:1: turn_dayz: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "disruptsim", "exercise", str(SHIPPED), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and "valid" in ok.stdout
