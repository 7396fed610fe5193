"""Hostile and extreme input (issue 16): what ``validate`` accepts, ``run`` must run.

Holes 1 (bounds the model needs), 2 (nonsense accepted silently), 3 (CLI options and API
arguments), 7 (text neutralised in the terminal) and 8 (YAML limits).
"""

from __future__ import annotations

import math
import textwrap
import time

import numpy as np
import pytest
from typer.testing import CliRunner

import disruptsim as ds
from disruptsim import cli
from disruptsim.errors import ArgumentError, ScenarioError
from disruptsim.run.simulation import max_threads
from disruptsim.safetext import terminal_markup, terminal_text
from disruptsim.scenario import bounds, yamlio

runner = CliRunner()

TEMPLATE = """\
name: t
horizon_days: {horizon}
defaults: {{holding_cost_rate: {rate}}}
hazards:
  - name: hz
    countries: [CHN]
    annual_probability: {p}
    severity: {severity}
    duration_days: {duration}
    recovery_days: {recovery}
products:
  {product}:
    unit: kg
    unit_value: {value}
    final_demand_per_day: {demand}
    sources: {{CHN: 0.5, domestic: 0.5}}
"""
GOOD = dict(
    horizon=365, rate=0.1, p=0.1, severity=0.5, duration=30, recovery=0, product="widget",
    value=10, demand=5,
)  # fmt: skip


def scenario_text(**changes) -> str:
    return TEMPLATE.format(**{**GOOD, **changes})


def problems(write_yaml, **changes) -> list[str]:
    path = write_yaml(scenario_text(**changes))
    with pytest.raises(ScenarioError) as info:
        ds.load_scenario(path)
    return [p.message for p in info.value.problems]


def test_template_is_valid_and_simulates(write_yaml):
    sc = ds.load_scenario(write_yaml(scenario_text()))
    assert sc.warnings == ()
    result = ds.simulate(sc, runs=20, seed=1)
    assert np.isfinite(result.runs("baseline")["total_cost"]).all()


# -- hole 1: accepted by validate, then run died ----------------------------------------


def test_annual_probability_one_is_refused_with_the_reason(write_yaml):
    (message,) = problems(write_yaml, p=1)
    assert "below 1" in message and "-ln(1 - p)" in message and "shock" in message


def test_annual_probability_just_below_one_simulates(write_yaml):
    sc = ds.load_scenario(write_yaml(scenario_text(p=0.999999)))
    costs = ds.simulate(sc, runs=10, seed=0).runs("baseline")["total_cost"]
    assert np.isfinite(costs).all()


@pytest.mark.parametrize("key", ["recovery"])
def test_huge_days_are_refused(write_yaml, key):
    (message,) = problems(write_yaml, **{key: "1e30"})
    assert f"at most {bounds.MAX_DAYS:,} days" in message


def test_huge_lags_and_start_days_are_refused(write_yaml):
    text = scenario_text() + textwrap.indent(
        "diversification: {lag_days: 1e30, max_share: 0.2}\n", "    "
    )
    text += "shocks:\n  - {countries: [CHN], start_day: 100000000000, duration_days: 5, severity: 0.5}\n"
    path = write_yaml(text)
    with pytest.raises(ScenarioError) as info:
        ds.load_scenario(path)
    paths = sorted(p.path for p in info.value.problems)
    assert paths == ["products.widget.diversification.lag_days", "shocks[0].start_day"]


def test_horizon_is_bounded(write_yaml):
    (message,) = problems(write_yaml, horizon=100_000_000_000)
    assert f"at most {bounds.MAX_HORIZON_DAYS:,} days" in message


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"value": "1e308"}, "size at most 1e+100"),
        ({"demand": "1e300"}, "size at most 1e+100"),
        ({"value": "1e60", "demand": "1e60"}, "costs over the horizon could reach"),
        ({"value": "0", "demand": "1e99"}, "requirement x horizon"),
    ],
)
def test_money_and_quantities_that_would_overflow_are_refused(write_yaml, changes, expected):
    found = problems(write_yaml, **changes)
    assert any(expected in m for m in found), found


def test_requirements_through_inputs_are_bounded(write_yaml):
    chain = "\n".join(
        f"  p{i}:\n    unit: kg\n    unit_value: 1\n    sources: {{domestic: 1}}\n"
        f"    inputs: {{p{i + 1}: 1e30}}"
        for i in range(5)
    )
    text = (
        "name: chain\nhorizon_days: 10\nproducts:\n"
        "  top:\n    unit: kg\n    unit_value: 1\n    final_demand_per_day: 1\n"
        "    sources: {domestic: 1}\n    inputs: {p0: 1}\n"
        f"{chain}\n  p5:\n    unit: kg\n    unit_value: 1\n    sources: {{CHN: 1}}\n"
    )
    with pytest.raises(ScenarioError) as info:
        ds.load_scenario(write_yaml(text))
    assert [p.path for p in info.value.problems] == ["products.p4", "products.p5"]


def test_product_named_system_is_reserved(write_yaml):
    (message,) = problems(write_yaml, product="system")
    assert "'system' is reserved" in message


# -- hole 2: nonsense accepted silently ------------------------------------------------


def test_negative_severity_is_refused(write_yaml):
    (message,) = problems(write_yaml, severity=-0.5)
    assert message == "expected a fraction of supply lost in [0, 1], found -0.5"


def test_negative_duration_is_refused(write_yaml):
    (message,) = problems(write_yaml, duration=-10)
    assert "at least 0 days" in message


def test_huge_uniform_severity_is_refused_not_clamped(write_yaml):
    found = problems(write_yaml, severity="{dist: uniform, low: -1e308, high: 1e308}")
    assert any("every value of the severity in [0, 1]" in m for m in found), found


def test_severity_given_as_a_percentage_gets_a_hint(write_yaml):
    (message,) = problems(write_yaml, severity=80)
    assert message.endswith("if it is a percentage, give it as 0.8")
    (message,) = problems(write_yaml, severity="{dist: uniform, low: 10, high: 40}")
    assert "divide them by 100" in message
    (message,) = problems(write_yaml, severity=1.2)  # above 100%, not a percentage
    assert message == "expected a fraction of supply lost in [0, 1], found 1.2"


def test_shock_severity_above_one_is_refused(write_yaml):
    text = scenario_text() + (
        "shocks:\n  - {countries: [CHN], start_day: 1, duration_days: 5, severity: 80}\n"
    )
    with pytest.raises(ScenarioError, match="give it as 0.8"):
        ds.load_scenario(write_yaml(text))


def test_lognormal_severity_is_refused(write_yaml):
    (message,) = problems(write_yaml, severity="{dist: lognormal, median: 0.3, p95: 0.6}")
    assert "lognormal severity can exceed 1" in message


def test_holding_rate_above_one_is_a_warning_shown_by_validate_and_run(write_yaml, tmp_path):
    path = write_yaml(scenario_text(rate=1.5))
    sc = ds.load_scenario(path)  # not an error
    (warning,) = sc.warnings
    assert warning.path == "defaults.holding_cost_rate" and (warning.line, warning.column) == (
        3,
        12,
    )
    assert warning.message.startswith("warning: holding cost rate 1.5 per year")
    result = runner.invoke(cli.app, ["validate", str(path)])
    assert result.exit_code == 0 and "warning: holding cost rate" in result.stderr
    out = tmp_path / "res"
    result = runner.invoke(
        cli.app, ["run", str(path), "--runs", "10", "--out", str(out), "--no-report"]
    )
    assert result.exit_code == 0, result.output
    assert "warning: holding cost rate" in result.stderr


def test_strategy_warning_is_reported_once_at_the_strategy(write_yaml):
    text = scenario_text() + (
        "strategies:\n  stock:\n    products:\n      widget:\n"
        "        stockpile: {initial_days: 10, holding_cost_rate: 20}\n"
    )
    (warning,) = ds.load_scenario(write_yaml(text)).warnings
    assert warning.path == "strategies.stock.products.widget.stockpile.holding_cost_rate"


# -- hole 3: CLI options and API arguments -----------------------------------------------


def test_negative_seed_exits_2(write_yaml):
    result = runner.invoke(cli.app, ["run", str(write_yaml(scenario_text())), "--seed", "-1"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--seed" in result.output


def test_more_threads_than_numba_allows_exits_2(write_yaml, tmp_path):
    out = tmp_path / "res"
    args = ["run", str(write_yaml(scenario_text())), "--out", str(out)]
    result = runner.invoke(cli.app, [*args, "--threads", str(max_threads() + 1)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"at most {max_threads()}" in result.stderr and not out.exists()


@pytest.mark.parametrize("text", ["lots", "-1G", "0"])
def test_bad_max_memory_exits_2(write_yaml, text):
    result = runner.invoke(cli.app, ["run", str(write_yaml(scenario_text())), "--max-memory", text])
    assert result.exit_code == 2 and "--max-memory" in result.output


@pytest.mark.parametrize(
    "arguments, argument",
    [
        ({"seed": 1.7}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": -1}, "seed"),
        ({"seed": "1"}, "seed"),
        ({"runs": 10.0}, "runs"),
        ({"threads": 10_000}, "threads"),
        ({"trace_runs": 2.5}, "trace_runs"),
        ({"batch_runs": "8"}, "batch_runs"),
        ({"strategies": "baseline"}, "strategies"),
        ({"strategies": [1, 2]}, "strategies"),
        ({"max_memory": 1.5e9}, "max_memory"),
        ({"max_memory": 0}, "max_memory"),
        ({"progress": 3}, "progress"),
    ],
)
def test_api_arguments_are_type_checked(write_yaml, arguments, argument):
    sc = ds.load_scenario(write_yaml(scenario_text()))
    with pytest.raises(ArgumentError) as info:  # a ValueError naming the parameter
        ds.simulate(sc, **{"runs": 5, **arguments})
    assert info.value.argument == argument and argument in str(info.value)


def test_api_scenario_must_be_a_scenario(write_yaml):
    with pytest.raises(ArgumentError, match="load_scenario"):
        ds.simulate({"name": "a mapping is not loaded"}, runs=5)


def test_api_accepts_numpy_integers(write_yaml):
    sc = ds.load_scenario(write_yaml(scenario_text()))
    a = ds.simulate(sc, runs=np.int64(5), seed=np.int32(3))
    b = ds.simulate(sc, runs=5, seed=3)
    np.testing.assert_array_equal(
        a.runs("baseline")["total_cost"], b.runs("baseline")["total_cost"]
    )


# -- hole 7: terminal neutralisation --------------------------------------------------------


def test_terminal_text_escapes_control_and_format_characters():
    assert terminal_text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert terminal_text("x\ry\u202ez\x9b") == "x\\x0dy\\u202ez\\x9b"
    assert terminal_text("Café 中文") == "Café 中文"
    assert terminal_markup("[bold]x\x07") == "\\[bold]x\\x07"


def test_escape_sequences_in_names_never_reach_the_terminal(write_yaml, tmp_path):
    evil = "\\e[31mred\\e]0;title\\a"  # YAML escapes of ESC and BEL
    text = scenario_text().replace("name: t\n", f'name: "t{evil}"\ndescription: "d{evil}"\n')
    text = text.replace("- name: hz", f'- name: "hz{evil}"')
    text += f'strategies:\n  "s{evil}[bold]":\n    description: "{evil}"\n'
    path = write_yaml(text)
    result = runner.invoke(cli.app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b[31mred" in result.stdout
    out = tmp_path / "res"
    result = runner.invoke(
        cli.app, ["run", str(path), "--runs", "10", "--out", str(out), "--no-report"]
    )
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "[bold]" in result.stdout  # rich markup shown as text, not applied


def test_escape_sequences_in_error_messages_are_neutralised(write_yaml):
    path = write_yaml(scenario_text().replace("CHN: 0.5, domestic", '"C\x1b[2JN": 0.5, domestic'))
    result = runner.invoke(cli.app, ["validate", str(path)])
    assert result.exit_code == 2 and "\x1b" not in result.output


# -- hole 8: YAML limits --------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_large_flat_list_is_refused_fast_with_a_position(tmp_path):
    path = tmp_path / "flat.yaml"
    head = "name: x\nhorizon_days: 1\nlist:\n"
    path.write_text(head + "- 1\n" * 240_000)  # just under 1 MB: within the size limit
    assert path.stat().st_size < yamlio.MAX_FILE_BYTES
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        ds.load_scenario(path)
    elapsed = time.perf_counter() - started
    (problem,) = info.value.problems
    assert problem.message.startswith(f"the document holds more than {yamlio.MAX_NODES:,} values")
    assert problem.line == yamlio.MAX_NODES - 3 and problem.column == 3  # 7 values before
    assert elapsed < 5  # about 0.5 s; it took 33 s before the pre-pass


@pytest.mark.parametrize("flow", [True, False])
def test_deep_nesting_is_reported_with_its_position(tmp_path, flow):
    path = tmp_path / "deep.yaml"
    if flow:
        body = "products: " + "[" * 3000 + "]" * 3000 + "\n"
    else:
        body = "products:\n" + "".join("  " * i + "- \n" for i in range(1, 200))
    path.write_text("name: x\nhorizon_days: 1\n" + body)
    with pytest.raises(ScenarioError) as info:
        ds.load_scenario(path)
    (problem,) = info.value.problems
    assert problem.message == f"nesting is too deep; the limit is {yamlio.MAX_DEPTH} levels"
    assert problem.line is not None and problem.column is not None
    if not flow:
        assert problem.line == 3 + yamlio.MAX_DEPTH  # depth 2 on line 4


def test_limits_leave_shipped_scenarios_far_below(tmp_path):
    from pathlib import Path

    for path in sorted((Path(__file__).parents[1] / "scenarios").glob("*.yaml")):
        ds.load_scenario(path)  # none is near MAX_NODES or MAX_DEPTH


def test_bounds_are_finite_and_consistent():
    assert bounds.MAX_HORIZON_DAYS <= bounds.MAX_DAYS < 2**62 / 3
    assert math.isfinite(bounds.MAX_EUROS**2 * 1e9)  # a variance over a billion runs


def test_api_scenario_path_that_is_no_file_names_it(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ArgumentError, match="there is no file"):
        ds.simulate(missing, runs=5)
