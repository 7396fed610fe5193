"""``disruptsim run``: exit codes, files, numbers equal to the API's, clean interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

import disruptsim as ds
from disruptsim import cli
from disruptsim.cli.run import default_output_dir, parse_strategies, run_study
from disruptsim.run.simulation import simulate
from disruptsim.synthetic import synthetic_scenario

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args])


def write_scenario(path: Path, mapping: dict) -> Path:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with open(path, "w", encoding="utf-8") as f:
        yaml.dump(mapping, f)
    return path


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    m = synthetic_scenario(n_products=4, n_countries=3, horizon_days=60, seed=8)
    m = json.loads(json.dumps(m, default=str))  # plain types for YAML
    m["name"] = "cli-small"
    return write_scenario(tmp_path_factory.mktemp("sc") / "small.yaml", m)


@pytest.fixture(scope="module")
def ran(scenario_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "res"
    result = invoke("run", scenario_file, "--runs", 300, "--seed", 7, "--out", out, "--no-report")
    return result, out


def test_run_exit_code_output_and_files(ran):
    result, out = ran
    assert result.exit_code == 0, result.output
    for name in (
        "summary.csv",
        "runs.parquet",
        "timeseries.parquet",
        "manifest.json",
        "scenario.resolved.yaml",
    ):
        assert (out / name).is_file(), name
    assert "Strategies, whole value chain" in result.stdout
    for strategy in ("baseline", "stock_60d", "diversify", "reshore"):
        assert strategy in result.stdout
    assert "Wrote" in result.stdout
    assert "apart" in result.stdout  # the sentence on the two cheapest strategies
    assert [p.name for p in out.parent.iterdir()] == ["res"]


def test_run_numbers_equal_the_api(ran, scenario_file):
    _, out = ran
    api = simulate(ds.load_scenario(scenario_file), runs=300, seed=7).summary()
    csv = pd.read_csv(out / "summary.csv")
    pd.testing.assert_frame_equal(csv, api, check_dtype=False, check_exact=True)
    runs = pd.read_parquet(out / "runs.parquet")
    base = runs[runs["strategy"] == "baseline"].drop(columns="strategy").reset_index(drop=True)
    ref = simulate(ds.load_scenario(scenario_file), runs=300, seed=7).runs("baseline")
    np.testing.assert_array_equal(base["total_cost"].to_numpy(), ref["total_cost"].to_numpy())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["runs"] == 300
    assert manifest["scenario"]["sha256"] == ds.load_scenario(scenario_file).sha256


def test_existing_directory_exits_2_without_traceback(ran, scenario_file):
    _, out = ran
    before = sorted(p.name for p in out.iterdir())
    result = invoke("run", scenario_file, "--runs", 10, "--out", out)
    assert result.exit_code == 2
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == before


def test_force_replaces_a_previous_result(scenario_file, tmp_path):
    out = tmp_path / "res"
    args = ("run", scenario_file, "--runs", 20, "--out", out, "--no-report", "--threads", 1)
    assert invoke(*args).exit_code == 0
    (out / "summary.csv").write_text("old")
    result = invoke(*args, "--force")
    assert result.exit_code == 0, result.output
    assert (out / "summary.csv").read_text() != "old"


def test_force_refuses_a_directory_that_is_not_a_result(scenario_file, tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    (out / "old.txt").write_text("old")
    result = invoke("run", scenario_file, "--runs", 20, "--out", out, "--force", "--no-report")
    assert result.exit_code == 2
    assert "no disruptsim result" in result.stderr and "Traceback" not in result.output
    assert [p.name for p in out.iterdir()] == ["old.txt"]


def test_strategies_subset_and_default_directory(scenario_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", scenario_file, "--runs", 20, "--strategies", "reshore", "--no-report")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "cli-small"
    summary = pd.read_csv(out / "summary.csv")
    assert list(dict.fromkeys(summary["strategy"])) == ["baseline", "reshore"]


def test_unknown_strategy_exits_2(scenario_file, tmp_path):
    result = invoke(
        "run", scenario_file, "--runs", 5, "--strategies", "nope", "--out", tmp_path / "x"
    )
    assert result.exit_code == 2
    assert "unknown strategy 'nope'" in result.stderr and "reshore" in result.stderr
    assert not (tmp_path / "x").exists()


def test_bad_scenario_exits_2_with_location(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nhorizon_days: 10\nproducts:\n  x: {unit: t, unit_value: -1, sources: {CHN: 1}}\n"
    )
    result = invoke("run", path, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert f"{path}:4:" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_missing_file_and_bad_runs(tmp_path):
    assert invoke("run", tmp_path / "missing.yaml").exit_code == 2
    assert invoke("run", ROOT / "scenarios" / "example-minimal.yaml", "--runs", 0).exit_code == 2


def test_helpers():
    assert parse_strategies(None) is None and parse_strategies(" a, b ,") == ["a", "b"]
    assert default_output_dir("solar pv/2030") == Path("out") / "solar_pv_2030"


def test_run_study_reports_the_library_checks(tmp_path, capsys):
    # disruptsim run has no checks of its own: simulate's ArgumentError becomes exit 2.
    from rich.console import Console

    err = Console(stderr=True, highlight=False, soft_wrap=True, width=200)
    scenario = ROOT / "scenarios" / "example-minimal.yaml"
    kwargs = {"out": tmp_path / "o", "report": False, "err_console": err}
    assert run_study(scenario, runs=0, **kwargs) == 2
    assert "--runs: runs must be a positive integer, got 0" in capsys.readouterr().err
    assert run_study(scenario, runs=10, threads=0, **kwargs) == 2
    assert "--threads: threads must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def _interrupt(tmp_path: Path, signum: int) -> tuple[subprocess.CompletedProcess, Path]:
    m = synthetic_scenario(n_products=3, n_countries=3, horizon_days=365, seed=1)
    m = json.loads(json.dumps(m, default=str))
    path = write_scenario(tmp_path / "long.yaml", m)
    out = tmp_path / "res"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "disruptsim",
            "run",
            str(path),
            "--runs",
            "100000",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    # Wait until the simulation has started, then give it a moment to be mid-run.
    line = proc.stderr.readline()
    assert "Simulating" in line, line
    time.sleep(1.5)
    proc.send_signal(signum)
    try:
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, line + stderr), out


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)]
)
def test_interrupt_leaves_nothing(tmp_path, signum):
    done, out = _interrupt(tmp_path, signum)
    assert done.returncode == 128 + signum, done.stderr
    assert "Interrupted" in done.stderr and "nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yaml"]  # no temporary directory


def test_backend_arguments(scenario_file, tmp_path):
    result = invoke("run", scenario_file, "--scheduler", "tcp://x:1", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "--scheduler" in result.stderr and "backend='dask'" in result.stderr
    result = invoke("run", scenario_file, "--backend", "spark", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "local" in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_dask_backend_gives_the_same_numbers(scenario_file, tmp_path):
    out = tmp_path / "dask"
    result = invoke(
        "run",
        scenario_file,
        "--runs",
        300,
        "--seed",
        7,
        "--out",
        out,
        "--backend",
        "dask",
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    api = simulate(ds.load_scenario(scenario_file), runs=300, seed=7).summary()
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "summary.csv"), api, check_dtype=False, check_exact=True
    )


def test_command_line_imports_stay_light():
    # --help, --version and validate must not pay for pandas, numba or matplotlib.
    light = (
        "import sys, disruptsim.cli;"
        "heavy = [m for m in ('pandas', 'numba', 'matplotlib') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", light], check=True, timeout=120)
