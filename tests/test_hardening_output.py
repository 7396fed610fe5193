"""Hostile and extreme input (issue 16): the output side.

Holes 4 (``--force``, symbolic links, stale partial directories), 5 (write errors said
"cannot read file", after the simulation), 6 (memory not bounded) and 7 (CSV formulas).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import disruptsim as ds
from disruptsim import cli
from disruptsim.results import io as results_io
from disruptsim.results.outdir import (
    PARTIAL_MARKER,
    OutputExistsError,
    OutputWriteError,
    check_output_dir,
    check_writable,
    clean_stale_partials,
)
from disruptsim.run import memory
from disruptsim.run.memory import MemoryBudgetError, parse_size, plan_memory
from disruptsim.run.simulation import MemoryBudgetWarning
from disruptsim.safetext import csv_cell

runner = CliRunner()

SCENARIO = """\
name: out-test
horizon_days: 30
hazards:
  - {name: hz, countries: [CHN], annual_probability: 0.5, severity: 0.5, duration_days: 10}
products:
  widget:
    unit: kg
    unit_value: 10
    final_demand_per_day: 5
    sources: {CHN: 0.5, domestic: 0.5}
strategies:
  baseline: {}
  stock:
    products: {widget: {stockpile: {initial_days: 5}}}
"""


@pytest.fixture(scope="module")
def scenario_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("sc") / "out-test.yaml"
    path.write_text(SCENARIO)
    return path


@pytest.fixture(scope="module")
def result(scenario_path):
    return ds.simulate(ds.load_scenario(scenario_path), runs=20, seed=1)


def run(*args):
    return runner.invoke(cli.app, ["run", *[str(a) for a in args]])


# -- hole 4: --force, links, stale partial directories ----------------------------------


def test_force_refuses_a_directory_holding_the_scenario_and_other_files(scenario_path):
    folder = scenario_path.parent
    (folder / "notes.txt").write_text("mine")
    before = sorted(p.name for p in folder.iterdir())
    result = run(scenario_path, "--runs", 10, "--out", folder, "--force", "--no-report")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no disruptsim result" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == before
    (folder / "notes.txt").unlink()


def test_force_refuses_a_result_with_foreign_files(result, tmp_path):
    target = result.save(tmp_path / "res", report=False)
    (target / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match=r"other files \(notes.txt\)"):
        result.save(target, force=True, report=False)
    assert (target / "notes.txt").read_text() == "mine"


def test_force_refuses_a_fake_manifest(result, tmp_path):
    target = tmp_path / "res"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(OutputExistsError, match="no disruptsim result"):
        result.save(target, force=True, report=False)
    assert (target / "manifest.json").exists()


def test_not_empty_message_names_the_option_of_each_interface(result, scenario_path, tmp_path):
    target = result.save(tmp_path / "res", report=False)
    with pytest.raises(FileExistsError) as info:
        result.save(target, report=False)
    assert "force=True" in str(info.value) and "--force" not in str(info.value)
    cli_result = run(scenario_path, "--runs", 10, "--out", target, "--no-report")
    assert cli_result.exit_code == 2
    assert "--force" in cli_result.stderr and "force=True" not in cli_result.stderr


@pytest.mark.parametrize("force", [False, True])
def test_symbolic_link_is_refused_and_left_alone(result, scenario_path, tmp_path, force):
    real = tmp_path / "real"
    result.save(real, report=False)
    before = sorted(p.name for p in real.iterdir())
    link = tmp_path / "link"
    link.symlink_to(real)
    extra = ["--force"] if force else []
    cli_result = run(scenario_path, "--runs", 10, "--out", link, "--no-report", *extra)
    assert cli_result.exit_code == 2 and "symbolic link" in cli_result.stderr
    with pytest.raises(OutputExistsError, match="symbolic link"):
        result.save(link, force=force, report=False)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert sorted(p.name for p in real.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_dangling_link_is_refused(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputExistsError, match="symbolic link"):
        check_output_dir(tmp_path / "link", force=True)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _partial(parent, name, pid, host=None, marker=True):
    d = parent / name
    d.mkdir()
    (d / "summary.csv").write_text("half")
    if marker:
        info = {"pid": pid, "host": host or socket.gethostname()}
        (d / PARTIAL_MARKER).write_text(json.dumps(info))
    return d


def test_stale_partials_are_cleaned_only_when_ours_and_dead(tmp_path):
    dead = _dead_pid()
    stale = _partial(tmp_path, ".res.partial-abc123", dead)
    alive = _partial(tmp_path, ".res.partial-def456", os.getpid())
    elsewhere = _partial(tmp_path, ".res.partial-ghi789", dead, host="another-host")
    unmarked = _partial(tmp_path, ".res.partial-jkl000", dead, marker=False)
    misnamed = _partial(tmp_path, "res.partial-mno111", dead)
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / ".lnk.partial-pqr222"
    link.symlink_to(target)
    assert clean_stale_partials(tmp_path) == [stale]
    assert not stale.exists()
    for kept in (alive, elsewhere, unmarked, misnamed, link, target):
        assert kept.exists()


def test_save_reports_and_removes_a_stale_partial(result, tmp_path):
    stale = _partial(tmp_path, ".res.partial-zzz999", _dead_pid())
    with pytest.warns(UserWarning, match="left by a stopped run"):
        result.save(tmp_path / "res", report=False)
    assert not stale.exists()
    manifest = json.loads((tmp_path / "res" / "manifest.json").read_text())
    assert PARTIAL_MARKER not in manifest["files"]
    assert not (tmp_path / "res" / PARTIAL_MARKER).exists()


def test_run_reports_a_stale_partial(scenario_path, tmp_path):
    stale = _partial(tmp_path, ".res.partial-yyy888", _dead_pid())
    cli_result = run(scenario_path, "--runs", 10, "--out", tmp_path / "res", "--no-report")
    assert cli_result.exit_code == 0, cli_result.output
    assert "partial result left by a stopped run" in cli_result.stderr and not stale.exists()


def test_long_names_get_a_partial_name_within_limits(result, tmp_path):
    target = tmp_path / ("r" * 250)
    result.save(target, report=False)
    assert (target / "manifest.json").is_file()


# -- hole 5: write errors, checked before simulating -------------------------------------


def _fail_if_simulated(monkeypatch):
    import disruptsim.run.simulation as simulation

    def boom(*args, **kwargs):
        raise AssertionError("simulated although the output cannot be written")

    monkeypatch.setattr(simulation, "simulate", boom)


def test_file_where_a_directory_is_expected(scenario_path, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    _fail_if_simulated(monkeypatch)
    cli_result = run(scenario_path, "--out", tmp_path / "file" / "res", "--no-report")
    assert cli_result.exit_code == 2 and "Traceback" not in cli_result.output
    assert "cannot write" in cli_result.stderr and "is not a directory" in cli_result.stderr
    assert "cannot read" not in cli_result.stderr


def test_name_too_long(scenario_path, tmp_path, monkeypatch):
    _fail_if_simulated(monkeypatch)
    cli_result = run(scenario_path, "--out", tmp_path / ("x" * 300), "--no-report")
    assert cli_result.exit_code == 2
    assert "cannot write" in cli_result.stderr and "file name too long" in cli_result.stderr


def test_read_only_directory(scenario_path, tmp_path, monkeypatch):
    # Tests may run as root, who may write anywhere: the permission check is simulated.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real_access(p, mode)
    )
    with pytest.raises(OutputWriteError, match="cannot write: .*permission denied"):
        check_writable(tmp_path / "res")
    _fail_if_simulated(monkeypatch)
    cli_result = run(scenario_path, "--out", tmp_path / "res", "--no-report")
    assert cli_result.exit_code == 2 and "cannot write" in cli_result.stderr


def test_disk_full_while_saving(result, scenario_path, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results_io, "_write_npz", full)
    with pytest.raises(OutputWriteError, match="cannot write: No space left on device"):
        result.save(tmp_path / "res", report=False)
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    cli_result = run(scenario_path, "--runs", 10, "--out", tmp_path / "res", "--no-report")
    assert cli_result.exit_code == 2 and "Traceback" not in cli_result.output
    assert "cannot write: No space left on device" in cli_result.stderr
    assert list(tmp_path.iterdir()) == []


# -- hole 6: memory pre-flight ----------------------------------------------------------------


def long_scenario(days: int):
    return ds.load_scenario(
        {
            "name": "long",
            "horizon_days": days,
            "hazards": [
                {"name": "h", "countries": ["CHN"], "annual_probability": 0.1,
                 "severity": 0.5, "duration_days": 30}
            ],
            "products": {
                "a": {"unit": "k", "unit_value": 1, "final_demand_per_day": 1,
                      "sources": {"CHN": 0.5, "domestic": 0.5}},
                "b": {"unit": "k", "unit_value": 1, "final_demand_per_day": 1,
                      "sources": {"CHN": 1}},
            },
        }
    )  # fmt: skip


def test_estimate_of_the_reported_case_is_in_gigabytes():
    # 100,000 days x 2 products x 2,000 runs peaked at 5.9 GB before the pre-flight.
    sc = long_scenario(100_000)
    plan = plan_memory(sc, ["baseline"], 2000, 1000, batch_runs=4096, lanes=8, budget=1 << 40)
    assert 1.6e9 < plan.estimate < 6e9 and not plan.reduced
    small = plan_memory(sc, ["baseline"], 2000, 1000, batch_runs=4096, lanes=8, budget=1 << 30)
    assert small.reduced and 0 < small.trace_runs < 1000 and small.estimate <= 1 << 30
    assert "keeping daily traces of" in small.message()
    with pytest.raises(MemoryBudgetError, match="even without daily traces"):
        plan_memory(sc, ["baseline"], 2000, 1000, batch_runs=4096, lanes=8, budget=10 << 20)


def test_simulate_keeps_fewer_traces_and_says_so():
    sc = long_scenario(20_000)
    budget = plan_memory(sc, ["baseline"], 50, 50, batch_runs=4096, lanes=8).estimate
    with pytest.warns(MemoryBudgetWarning, match="keeping daily traces of"):
        reduced = ds.simulate(sc, runs=50, seed=2, max_memory=budget // 2, threads=1)
    full = ds.simulate(sc, runs=50, seed=2, threads=1)
    kept = reduced.strategies["baseline"].trace_fulfilment.shape[0]
    assert 0 < kept < 50 and full.strategies["baseline"].trace_fulfilment.shape[0] == 50
    np.testing.assert_array_equal(  # per-run results do not depend on the traces kept
        reduced.runs("baseline")["total_cost"], full.runs("baseline")["total_cost"]
    )


def test_simulate_stops_before_allocating(monkeypatch):
    sc = long_scenario(200_000)
    monkeypatch.setattr(memory, "available_memory", lambda: 64 << 20)
    with pytest.raises(MemoryBudgetError, match="more than its memory budget"):
        ds.simulate(sc, runs=5000)


def test_run_stops_with_exit_2_and_max_memory_changes_the_budget(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(SCENARIO.replace("horizon_days: 30", "horizon_days: 200000"))
    result = run(path, "--runs", 5000, "--out", tmp_path / "res", "--max-memory", "64M")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "more than its memory budget of 64.0 MiB" in result.stderr
    assert not (tmp_path / "res").exists()


def test_run_says_when_it_keeps_fewer_traces(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(SCENARIO.replace("horizon_days: 30", "horizon_days: 20000"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryBudgetWarning)  # the CLI plans, no warning
        result = run(path, "--runs", 100, "--out", tmp_path / "res", "--max-memory", "40M",
                     "--no-report", "--threads", 1)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "memory: keeping daily traces of" in result.stderr


@pytest.mark.parametrize(
    "text, size", [("4G", 4 << 30), ("512M", 512 << 20), ("2.5GiB", int(2.5 * (1 << 30))),
                   ("1000", 1000), ("64kb", 64 << 10)]
)  # fmt: skip
def test_parse_size(text, size):
    assert parse_size(text) == size


# -- hole 7: CSV formulas ------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cell_neutralises_formula_starts(start):
    assert csv_cell(start + "cmd|' /C calc'!A0") == "'" + start + "cmd|' /C calc'!A0"
    assert csv_cell(-1.5) == -1.5 and csv_cell("plain") == "plain"


def test_summary_csv_holds_no_formula(tmp_path):
    text = SCENARIO.replace("widget", "=HYPERLINK(1)").replace("  stock:", "  '@SUM(A1)':")
    text = text.replace("{=HYPERLINK(1)", "{'=HYPERLINK(1)'")
    path = tmp_path / "evil.yaml"
    path.write_text(text.replace("  =HYPERLINK(1):", "  '=HYPERLINK(1)':"))
    sc = ds.load_scenario(path)
    assert "=HYPERLINK(1)" in sc.baseline.products and "@SUM(A1)" in sc.strategies
    out = ds.simulate(sc, runs=10, seed=0).save(tmp_path / "res", report=False)
    summary = pd.read_csv(out / "summary.csv", dtype=str, keep_default_na=False)
    cells = summary.to_numpy().ravel().tolist() + list(summary.columns)
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert "'=HYPERLINK(1)" in summary["product"].tolist()
    assert "'@SUM(A1)" in summary["strategy"].tolist()
    numbers = pd.read_csv(out / "summary.csv")
    assert np.issubdtype(numbers["total_cost_mean"].dtype, np.floating)  # numbers untouched
