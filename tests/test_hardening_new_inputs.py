"""Hostile and extreme input to the newer inputs (issue 16, last bullet): situation files,
exercise files, trade files and the paths and values of sweeps, sizings and sensitivity
studies. Each case ends in a clean result or a clear error (exit 2), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import disruptsim as ds
from disruptsim import cli
from disruptsim.design.paths import DesignError
from disruptsim.design.sensitivity import sensitivity
from disruptsim.design.study import MAX_VARIANTS
from disruptsim.design.sweep import check_values
from disruptsim.errors import ScenarioError
from disruptsim.exercise import load_exercise
from disruptsim.screening import draft_scenario, screen

ROOT = Path(__file__).resolve().parents[1]
SOLAR = ROOT / "scenarios" / "solar-pv.yaml"
MINIMAL = ROOT / "scenarios" / "example-minimal.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def solar():
    return ds.load_scenario(SOLAR)


def situation_problems(data, scenario) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        ds.load_situation(data, scenario)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def event(**changes) -> dict:
    return {"hazard": "cn_export_controls", "started_day": 60, **changes}


# -- situations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # huge days used to crash simulate with OverflowError (C long)
        ({"events": [event(severity=0.5, ends_day=10**30)]}, "events[0].ends_day: expected at most 10,000,000 days"),
        ({"events": [event(severity=0.5, ends_day=200, recovery_days=1e30)]}, "events[0].recovery_days: expected at most 10,000,000 days"),
        # severities outside [0, 1] were taken silently (80 meant as 80 %)
        ({"events": [event(severity=80, ends_day=200)]}, "events[0].severity: expected a fraction of supply lost in [0, 1], found 80; if it is a percentage, give it as 0.8"),
        ({"events": [{"countries": {"CHN": 1}, "started_day": 60, "severity": 5, "ends_day": 200}]}, "events[0].severity: expected a fraction of supply lost in [0, 1]"),
        # numbers beyond the model's magnitude bound
        ({"events": [event(severity=1e308, ends_day=200)]}, "events[0].severity: expected a number of size at most 1e+100"),
        ({"events": [{"countries": {"CHN": 1e300}, "started_day": 60, "severity": 1, "ends_day": 200}]}, "events[0].countries.CHN: expected a number of size at most 1e+100"),
        ({"stocks": {"pv_modules": {"days": 1e308}}}, "stocks.pv_modules.days: expected a number of size at most 1e+100"),
    ],
)  # fmt: skip
def test_situation_values_beyond_the_bounds_are_refused(solar, data, expected):
    messages = situation_problems({"day": 120, **data}, solar)
    assert any(m.startswith(expected) for m in messages), messages


def test_situation_on_the_last_day_and_past_the_horizon(solar):
    assert situation_problems({"day": solar.horizon_days}, solar) == [
        "day: expected a day before the horizon (1095 days), found 1095"
    ]
    last = ds.load_situation({"day": solar.horizon_days - 1}, solar)
    result = ds.simulate(solar, runs=4, seed=1, situation=last)
    assert set(result.strategies) == set(solar.strategy_names)
    # an end beyond the horizon is legal (the event outlasts the study)
    later = ds.load_situation({"day": 120, "events": [event(severity=0.5, ends_day=10**6)]}, solar)
    ds.simulate(solar, runs=4, seed=1, situation=later)


def test_situation_file_messages_name_its_own_keys(tmp_path, solar):
    empty, listed = tmp_path / "empty.yaml", tmp_path / "list.yaml"
    empty.write_text("")
    listed.write_text("- 1\n")
    for path, message in [
        (empty, "file is empty; expected a mapping with at least day"),
        (listed, "expected a mapping at the top level (with day), found a list"),
    ]:
        with pytest.raises(ScenarioError) as info:
            ds.load_situation(path, solar)
        assert info.value.problems[0].message == message


def test_situation_cli_huge_end_exit_2_nothing_written(tmp_path):
    situation = tmp_path / "today.yaml"
    situation.write_text(
        "day: 120\nevents:\n  - hazard: cn_export_controls\n    started_day: 60\n"
        "    severity: 0.5\n    ends_day: 100000000000000000000\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(
        cli.app,
        ["run", str(SOLAR), "--situation", str(situation), "-n", "4", "--out", str(out)],
    )
    assert result.exit_code == 2, result.output
    assert "today.yaml:6:5: events[0].ends_day: expected at most 10,000,000 days" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


# -- exercise files --------------------------------------------------------------------------

EXERCISE = """\
name: t
scenario: {scenario}
seed: 1
turn_days: 14
turns: 4
objectives: [Test]
truth:
  shocks:
    - {{hazard: cn_export_restriction, start_day: {start}, duration_days: {duration}, severity: {severity}}}
decisions:
  - id: ration
    title: Ration
    lever: stock_release
    product: antibiotics
    cost: {cost}
    parameters: {{max_release_days_per_day: 0.2}}
"""
SCENARIO = (ROOT / "scenarios" / "generic-antibiotics.yaml").as_posix()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"severity": 70}, "ex.yaml:9:*: truth.shocks[0].severity: expected a fraction of supply lost in [0, 1], found 70; if it is a percentage, give it as 0.7"),
        ({"duration": 10**30}, "ex.yaml:9:*: truth.shocks[0].duration_days: expected at most 10,000,000 days"),
        ({"start": 10**20}, "ex.yaml:9:*: truth.shocks[0].start_day: expected at most 10,000,000 days"),
        ({"cost": 1e308}, "ex.yaml:15:*: decisions[0].cost: expected a number of size at most 1e+100"),
    ],
)  # fmt: skip
def test_exercise_values_beyond_the_bounds_are_refused(tmp_path, changes, expected):
    values = {"scenario": SCENARIO, "start": 5, "duration": 60, "severity": 0.5, "cost": 0}
    path = tmp_path / "ex.yaml"
    path.write_text(EXERCISE.format(**{**values, **changes}))
    with pytest.raises(ScenarioError) as info:
        load_exercise(path)
    shown = [str(p) for p in info.value.problems]
    place, message = expected.split(":*: ")
    assert any(f"{place}:" in s and f": {message}" in s for s in shown), shown


def test_exercise_file_not_a_mapping_names_its_keys(tmp_path):
    path = tmp_path / "ex.yaml"
    path.write_text("[1, 2]\n")
    with pytest.raises(ScenarioError) as info:
        load_exercise(path)
    assert "with name, scenario, seed, turn_days, turns and objectives" in str(info.value)


def test_exercise_out_on_a_file_says_cannot_write(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine\n")
    shipped = ROOT / "exercises" / "antibiotics-api.yaml"
    result = runner.invoke(cli.app, ["exercise", str(shipped), "--out", str(blocker)])
    assert result.exit_code == 2
    assert f"{blocker}: cannot write" in result.output and "cannot read" not in result.output
    assert blocker.read_text() == "mine\n"


# -- trade files -----------------------------------------------------------------------------

HEADER = "t,i,j,k,v,q\n"


def test_trade_values_that_overflow_sums_are_refused(tmp_path):
    path = tmp_path / "trade.csv"
    path.write_text(HEADER + "2023,156,276,854140,1e308,5\n2023,156,276,854140,1e308,5\n")
    with pytest.raises(ScenarioError) as info:
        screen(path, importer="DEU")
    assert str(info.value.problems[0]).endswith(
        "trade.csv:2:5: v: expected a number of size at most 1e+100, found 1e+308: "
        "larger values overflow the sums of trade"
    )
    negative = tmp_path / "neg.csv"
    negative.write_text(HEADER + "2023,156,276,854140,-5,1\n")
    with pytest.raises(ScenarioError) as info:
        screen(negative, importer="DEU")
    assert info.value.problems[0].message.endswith("expected a non-negative number, found -5")


def test_draft_beyond_the_model_bounds_is_bad_input_not_a_bug(tmp_path):
    path = tmp_path / "trade.csv"
    path.write_text(HEADER + "2023,156,276,854140,1e99,5\n2023,842,276,854140,1e99,1e99\n")
    out = tmp_path / "draft.yaml"
    result = runner.invoke(
        cli.app,
        ["draft", str(path), "--importer", "DEU", "--year", "2023", "-p", "854140", "-o", str(out)],
    )
    assert result.exit_code == 2, result.output
    assert "the trade rows and options give a scenario that does not validate" in result.output
    assert "the limit is 1e+100" in result.output
    assert "Traceback" not in result.output and not out.exists()
    with pytest.raises(ScenarioError, match="eur_per_usd"):
        draft_scenario(path, [854140], importer="DEU", eur_per_usd=1e308)


# -- sweeps, sizings, sensitivity --------------------------------------------------------


def test_sweep_values_distinct_and_grid_bounded():
    with pytest.raises(DesignError, match="expected distinct values, found 0.1 more than once"):
        check_values({"defaults.holding_cost_rate": [0.1, 0.2, 0.1]})
    side = int(MAX_VARIANTS**0.5) + 1
    with pytest.raises(DesignError, match=f"the limit is {MAX_VARIANTS:,}"):
        check_values({"a": list(range(side)), "b": list(range(side))})


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"method": "sobol", "samples": 3}, "samples: expected a power of 2 (Sobol's sequence), found 3; e.g. 2 or 4"),
        ({"trajectories": 100_000}, "the study has 300,000 variants (100000 trajectories x 3); the limit is 10,000"),
        ({"trajectories": True}, "trajectories: expected a whole number >= 2, found True"),
        ({"levels": 1}, "levels: expected a whole number >= 2, found 1"),
    ],
)  # fmt: skip
def test_sensitivity_counts_are_checked_before_running(options, expected):
    scenario = ds.load_scenario(MINIMAL)
    uncertain = {
        "defaults.holding_cost_rate": [0, 0.1],
        "products.api.stockpile.initial_days": [0, 10],
    }
    with pytest.raises(DesignError) as info:
        sensitivity(scenario, uncertain, ("total_cost",), runs=4, **options)
    assert str(info.value) == expected


SWEEP = ["sweep", str(MINIMAL), "--set", "defaults.holding_cost_rate=0.1,0.2", "-n", "4"]


def test_sweep_output_checked_before_the_study(tmp_path):
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "sweep.csv").write_text("mine\n")
    result = runner.invoke(cli.app, [*SWEEP, "--out", str(existing)])
    assert result.exit_code == 2
    assert "sweep.csv: exists; choose another --out or pass --force" in result.output
    assert "best" not in result.output  # refused before anything ran
    assert (existing / "sweep.csv").read_text() == "mine\n"
    folder = tmp_path / "folder"
    (folder / "sweep.csv").mkdir(parents=True)
    result = runner.invoke(cli.app, [*SWEEP, "--out", str(folder), "--force"])
    assert result.exit_code == 2 and "exists and is not a file" in result.output
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = runner.invoke(cli.app, [*SWEEP, "--out", str(blocker)])
    assert result.exit_code == 2 and "cannot write" in result.output
    assert "Traceback" not in result.output


def test_sweep_csv_and_terminal_text_neutralised(tmp_path):
    text = MINIMAL.read_text().replace("stockpile_api:", '"=HYPERLINK(1)\\e[2J":')
    assert "=HYPERLINK" in text
    path = tmp_path / "sc.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    result = runner.invoke(
        cli.app,
        ["sweep", str(path), "--set", "products.api.stockpile.initial_days=0,30", "-n", "4",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    cells = (out / "sweep.csv").read_text()
    assert "'=HYPERLINK(1)" in cells and ",=HYPERLINK" not in cells


def test_top_level_study_functions_survive_a_submodule_import():
    import importlib

    importlib.import_module("disruptsim.design.sweep")  # rebinds disruptsim.design.sweep
    importlib.import_module("disruptsim.design.sensitivity")
    assert callable(ds.sweep) and callable(ds.sensitivity) and callable(ds.size)
