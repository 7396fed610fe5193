"""The command line: validate, schema, --version, exit codes and error output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import MINIMAL_YAML
from typer.testing import CliRunner

import disruptsim as ds
from disruptsim import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "example-minimal.yaml"

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(cli.app, [str(a) for a in args])


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"disruptsim {ds.__version__}\n"


def test_validate_valid_file_prints_an_overview():
    result = invoke("validate", EXAMPLE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"{EXAMPLE}: valid" in out
    assert "example-minimal" in out
    assert "horizon 365 days; home EU27" in out
    assert "api (kg): intermediate; sources CHN 60%, IND 30%, domestic 10%" in out
    assert "antibiotics (pack): final demand 50000/day" in out
    assert "countries: CHE, CHN, IND, PAK, USA" in out
    assert "hazards (2):" in out and "cn_export_restriction: CHN, p=0.05 per year" in out
    assert "shocks (0):" in out
    assert "strategies (4): baseline, stockpile_api, diversify_api, stockpile_and_diversify" in out
    assert result.stderr == ""


def test_validate_invalid_file_lists_problems_on_stderr_and_exits_2(write_yaml):
    path = write_yaml(
        MINIMAL_YAML.replace("CHN: 0.8", "CHN: 0.7").replace(
            "unit: kg", "unit: kg\n    colour: red"
        )
    )
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:6:5: products.part.colour: unknown key 'colour'; expected one of: 'unit', "
        "'unit_value', 'final_demand_per_day', 'shortage_cost_per_unit', 'holding_cost_rate', "
        "'sources', 'inputs', 'stockpile', 'diversification', 'substitution', 'reshoring', "
        "'demand_restraint', 'recycling', 'description'",
        f"{path}:8:5: products.part.sources: shares of the sources sum to 0.9, expected 1 "
        "(CHN: 0.7, domestic: 0.2)",
        f"{path}: invalid (2 problems)",
    ]
    assert "Traceback" not in result.output


def test_validate_several_files_reports_each(write_yaml):
    bad = write_yaml("name: [unclosed\n", "bad.yaml")
    result = invoke("validate", EXAMPLE, bad)
    assert result.exit_code == 2
    assert f"{EXAMPLE}: valid" in result.stdout
    assert result.stderr.splitlines()[-1] == f"{bad}: invalid (1 problem)"


def test_validate_missing_file(tmp_path):
    missing = tmp_path / "missing.yaml"
    result = invoke("validate", missing)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{missing}: cannot read file: No such file or directory",
        f"{missing}: invalid (1 problem)",
    ]
    assert "Traceback" not in result.output


def test_validate_directory(tmp_path):
    result = invoke("validate", tmp_path)
    assert result.exit_code == 2
    assert "cannot read file" in result.stderr and "Traceback" not in result.output


def test_validate_without_files_is_a_usage_error():
    result = invoke("validate")
    assert result.exit_code == 2


def test_unexpected_error_exits_1(monkeypatch):
    def broken(path):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli.validate, "load_scenario", broken)
    result = invoke("validate", EXAMPLE)
    assert result.exit_code == 1
    assert "RuntimeError: boom" in result.stderr
    assert "internal error" in result.stderr


def test_reports_errors_turns_input_errors_into_exit_2():
    @cli.reports_errors
    def command():
        ds.load_scenario({"name": "x"})

    with pytest.raises(typer.Exit) as info:
        command()
    assert info.value.exit_code == 2


def test_schema_is_a_json_schema():
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "disruptsim scenario"
    assert {"name", "horizon_days", "products"} <= set(schema["required"])
    assert "from" in schema["$defs"]["Reshoring"]["properties"]
    sources = schema["$defs"]["Product"]["properties"]["sources"]
    assert {"maximum": 1.0, "minimum": 0.0, "type": "number"} in sources["additionalProperties"][
        "anyOf"
    ]


def run_module(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "disruptsim", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_python_m_disruptsim_exit_codes(write_yaml):
    ok = run_module("validate", str(EXAMPLE))
    assert ok.returncode == 0, ok.stderr
    assert "valid" in ok.stdout
    bad = write_yaml("- not a mapping\n")
    failed = run_module("validate", str(bad))
    assert failed.returncode == 2
    assert failed.stderr.splitlines()[0] == (
        f"{bad}:1:1: expected a mapping at the top level (with name, horizon_days and "
        "products), found a list"
    )
    assert "Traceback" not in failed.stderr
