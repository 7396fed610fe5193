"""What a reader sees: the terminal table at 80 columns, the executive summary, the
assumptions, the time-to-recover figure, the result's repr and the shipped examples."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

import disruptsim as ds
from disruptsim.cli.run import separation_line, strategy_table
from disruptsim.conventions import DEFAULT_RUNS, SYSTEM
from disruptsim.report import narrative
from disruptsim.report.assumptions import assumptions_html, strategy_changes
from disruptsim.report.recovery import recovery_curve
from disruptsim.report.table import html_table
from disruptsim.results import stats as mx
from disruptsim.results.result import Comparison

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped_results():
    """Every shipped scenario, 300 runs: enough for the table's layout."""
    return {
        name: ds.simulate(ds.examples.path(name), runs=300, seed=5, trace_runs=20)
        for name in ds.examples.names()
    }


def _render(result, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(strategy_table(result, result.summary(), width=width))
    return console.export_text()


@pytest.mark.parametrize("name", ds.examples.names())
def test_terminal_table_at_80_columns_keeps_every_strategy_name(shipped_results, name):
    result = shipped_results[name]
    text = _render(result, 80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    table_lines = [line for line in lines if line.startswith("│")]
    for strategy in result.strategies:
        # the whole name in one cell of one line, never cut or folded
        assert any(re.search(rf"│ {re.escape(strategy)} +│", line) for line in table_lines), (
            f"{name}: {strategy!r} not found whole in\n{text}"
        )
    s = result.summary()
    rows = s[s["product"] == SYSTEM]
    header = "".join(line for line in lines if line.startswith("┃"))
    if "disrupted" in header and (rows["ttr_censored_share"] > 0).any():
        assert "≥" in text  # censored recoveries are marked, not shown as a plain number


def test_terminal_table_drops_columns_and_says_which(shipped_results):
    result = shipped_results["solar-pv"]
    wide = " ".join(_render(result, 200).split())
    narrow_text = _render(result, 60)
    narrow = " ".join(narrow_text.split())
    assert "Not shown at this width" not in wide
    assert "BCR" in wide and "Front" in wide
    assert "Not shown at this width" in narrow
    assert max(len(line) for line in narrow_text.splitlines()) <= 60
    for strategy in result.strategies:
        assert strategy in narrow


def test_censored_recoveries_are_marked(shipped_results):
    result = shipped_results["russian-gas-2022"]  # the baseline is short to the horizon
    s = result.summary()
    base = s[(s["product"] == SYSTEM) & (s["strategy"] == "baseline")].iloc[0]
    assert base["ttr_censored_share"] > 0.5
    text = _render(result, 200)
    line = next(line for line in text.splitlines() if "│ baseline " in line)
    assert "≥" in line
    html = html_table(s, baseline="baseline")
    assert "≥ 7" in html and "Short at horizon" in html


def test_executive_summary_recommends_from_the_numbers(shipped_results):
    result = shipped_results["russian-gas-2022"]
    s = result.summary()
    text = " ".join(narrative.executive_summary(result, s))
    best = s[(s["product"] == SYSTEM) & (s["rank"] == 1)].iloc[0]
    assert f"On these assumptions, {best['strategy']} (" in text
    assert "less in expectation" in text and "95% CI" in text
    assert "Caveats" in text and "300 simulated futures" in text
    assert narrative.separation_sentence(result) in text  # the one sentence, reused


def test_executive_summary_says_when_doing_nothing_is_best(write_yaml):
    path = write_yaml(
        """\
        name: calm
        horizon_days: 60
        products:
          widget:
            unit: piece
            unit_value: 100
            final_demand_per_day: 5
            sources: {CHN: 1}
        strategies:
          baseline: {}
          costly_stock:
            description: A stock that no hazard ever needs
            products:
              widget:
                stockpile: {initial_days: 30, fixed_cost: 1000}
        """
    )
    result = ds.simulate(path, runs=50, seed=1)
    paragraphs = narrative.executive_summary(result, result.summary())
    assert paragraphs[0].startswith("On these assumptions no strategy pays for itself")


def test_separation_sentence_when_the_top_two_cannot_be_told_apart(shipped_results):
    result = shipped_results["solar-pv"]
    d = mx.Estimate(estimate=-1e6, low=-3e6, high=1e6, n=300, std_error=1e6)
    c = Comparison("a", "b", "total_cost", SYSTEM, d, 1.7e7, False, 1200.0, 300, 0)
    result_stub = type(
        "Stub", (), {"compare_top_two": lambda self, product=SYSTEM: c, "n_runs": 300}
    )()
    text = narrative.separation_sentence(result_stub)
    assert "cannot be told apart" in text and "About 1,200 runs" in text
    # the summary leads with it rather than with a recommendation it cannot back
    stub = type(result)(**{**vars(result)})
    stub.compare_top_two = lambda product=SYSTEM, confidence=0.95: c
    paragraphs = narrative.executive_summary(stub, result.summary())
    assert paragraphs[0].startswith("On these assumptions the two cheapest options, a and b,")
    assert "cannot be told apart" in paragraphs[2]
    assert separation_line(result) == narrative.separation_sentence(result)


def test_assumptions_list_hazards_supply_and_what_each_strategy_changes():
    scenario = ds.load_scenario(ds.examples.path("solar-pv"))
    html = assumptions_html(scenario)
    for hazard in scenario.baseline.hazards:
        assert hazard.name in html and f"{hazard.annual_probability:.3g}/year" in html
    for name, strategy in scenario.strategies.items():
        assert name in html and strategy.description in html
    assert "CHN 88%" in html  # polysilicon's supply share
    assert "pv_modules stockpile: initial_days 90" in html
    assert strategy_changes({"products": {"x": {"sources": {"CHN": 0.5}}}}) == [
        "x sources: CHN 0.5"
    ]


def test_assumptions_escape_input_text(write_yaml):
    path = write_yaml(
        """\
        name: esc
        horizon_days: 30
        hazards:
          - name: h
            description: "<script>alert(1)</script>"
            countries: [CHN]
            annual_probability: 0.1
            severity: 0.5
            duration_days: 10
        products:
          widget: {unit: piece, unit_value: 1, final_demand_per_day: 1, sources: {CHN: 1}}
        """
    )
    html = assumptions_html(ds.load_scenario(path))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_recovery_curve_keeps_censored_runs_unrecovered():
    ttr = np.array([0.0, 0.0, 10.0, 20.0, 50.0, 50.0])
    censored = np.array([False, False, False, False, True, True])
    x, survival = recovery_curve(ttr, censored)
    assert survival[0] == pytest.approx(4 / 6)  # two runs recover at once (no shortage)
    assert survival[-1] == pytest.approx(2 / 6)  # the censored runs never count as recovered
    assert np.all(np.diff(survival) <= 0)


def test_report_has_summary_assumptions_and_recovery(shipped_results, tmp_path):
    result = shipped_results["solar-pv"]
    out = result.save(tmp_path / "res")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.index("<h2>Summary</h2>") < html.index("Strategies compared")
    assert "id=assumptions" in html and "cn_export_controls" in html
    assert (out / "figures" / "time_to_recover.png").is_file()
    assert "Kaplan–Meier" in html  # the figure's definition of recovery stands beside it


def test_result_api_polish(shipped_results):
    result = shipped_results["russian-gas-2022"]
    assert len(repr(result)) < 300 and "russian-gas-2022" in repr(result)
    assert len(repr(result.strategies["baseline"])) < 200
    c = result.compare("response_2022", metric="ttr_days")
    assert np.isfinite(c.difference.estimate)
    assert 0 < c.runs_compared <= result.n_runs
    assert c.runs_censored > 0  # the baseline is often still short at the horizon
    assert "ttr_days" in str(c) and "censored" in str(c)
    assert inspect.signature(ds.simulate).parameters["runs"].default == DEFAULT_RUNS
    with pytest.raises(ValueError, match="path of a scenario file"):
        ds.simulate(42)


def test_examples_are_reachable_and_copied_without_overwriting(tmp_path):
    assert "solar-pv" in ds.examples.names()
    assert ds.examples.path("solar-pv").is_file()
    with pytest.raises(KeyError, match="solar-pv"):
        ds.examples.path("no-such-scenario")
    written = ds.examples.copy(tmp_path, ["solar-pv"])
    assert [p.name for p in written] == ["solar-pv.yaml"]
    assert ds.examples.copy(tmp_path, ["solar-pv"]) == []  # the same file: left as it is
    (tmp_path / "solar-pv.yaml").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match="other content"):
        ds.examples.copy(tmp_path, ["solar-pv", "example-minimal"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["solar-pv.yaml"]
    assert (tmp_path / "solar-pv.yaml").read_text(encoding="utf-8") == "mine"


def test_examples_command(tmp_path):
    run = [sys.executable, "-m", "disruptsim", "examples"]
    listed = subprocess.run(run, capture_output=True, text=True, check=True)
    assert "solar-pv" in listed.stdout
    copied = subprocess.run([*run, "solar-pv", "--copy", str(tmp_path)], capture_output=True)
    assert copied.returncode == 0 and (tmp_path / "solar-pv.yaml").is_file()
    (tmp_path / "solar-pv.yaml").write_text("mine", encoding="utf-8")
    again = subprocess.run([*run, "solar-pv", "--copy", str(tmp_path)], capture_output=True)
    assert again.returncode == 2 and b"not overwritten" in again.stderr


@pytest.mark.slow
def test_wheel_carries_the_shipped_scenarios(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path), "-q"],
        check=True,
    )
    (wheel,) = tmp_path.glob("disruptsim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for scenario in (ROOT / "scenarios").glob("*.yaml"):
        assert f"disruptsim/_scenarios/{scenario.name}" in names


def test_executive_summary_does_not_claim_an_unchanged_risk_changes(shipped_results):
    result = shipped_results["solar-pv"]
    s = result.summary().copy()
    system = s["product"] == SYSTEM
    best = system & (s["strategy"] == "stock_modules_90d")
    s.loc[system, "rank"] += 1
    s.loc[best, "rank"] = 1
    base = s[system & (s["strategy"] == "baseline")].iloc[0]
    for column in ("p_shortage", "p_shortage_ci_low", "p_shortage_ci_high"):
        s.loc[best, column] = base[column]
    first = narrative.executive_summary(result, s)
    text = " ".join(first)
    assert "stock_modules_90d (strategic stock" in text
    assert "about where it is" in text and "changes the chance" not in text
