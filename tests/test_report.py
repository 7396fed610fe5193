"""The HTML report and its figures render, are self-contained, and format numbers sanely."""

from __future__ import annotations

import base64
import math
import re

import pytest

import disruptsim as ds
from disruptsim.report import format as fmt
from disruptsim.run.simulation import simulate
from disruptsim.synthetic import synthetic_scenario

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result():
    sc = ds.load_scenario(synthetic_scenario(n_products=5, n_countries=4, horizon_days=90, seed=3))
    return simulate(sc, runs=200, seed=4, trace_runs=40)


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "res"
    result.save(out)
    return out


def test_report_files(written):
    html = (written / "report.html").read_text(encoding="utf-8")
    pngs = sorted((written / "figures").glob("*.png"))
    names = {p.stem for p in pngs}
    assert {"total_cost", "pareto", "shortage_probability"} <= names
    assert any(n.startswith("fulfilment_") for n in names)
    assert "stock" in names  # the synthetic strategies include stockpiles
    for p in pngs:
        assert p.read_bytes().startswith(PNG)
    # every figure is embedded, identical to the file beside the report
    embedded = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(embedded) == len(pngs)
    assert {base64.b64decode(e) for e in embedded} == {p.read_bytes() for p in pngs}


def test_report_is_self_contained(written):
    html = (written / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=['"]?(https?:|//|file:)""", html)
    assert "<script" not in html
    assert "Strategies compared" in html and "How to read this report" in html


def test_report_table_has_every_strategy(result, written):
    html = (written / "report.html").read_text(encoding="utf-8")
    for name in result.strategies:
        assert f"<td class=name>{name}</td>" in html


def test_figures_are_legible_sizes(result):
    from disruptsim.report import make_figures

    for f in make_figures(result):
        w, h = f.figure.get_size_inches()
        assert 5 <= w <= 20 and 2.5 <= h <= 20, f.name
        for ax in f.figure.axes:
            if ax.get_visible() and ax.get_xlabel():
                assert "(" in ax.get_xlabel(), (
                    f"{f.name}: x label without unit: {ax.get_xlabel()!r}"
                )


def test_names_are_escaped(tmp_path):
    m = synthetic_scenario(n_products=3, n_countries=3, horizon_days=30, seed=1)
    m["name"] = "<b>bold</b> & co"
    m["strategies"]["<script>x</script>"] = {}
    r = simulate(ds.load_scenario(m), runs=20, seed=0, trace_runs=5)
    from disruptsim.report import write_report

    path = write_report(r, tmp_path)
    html = path.read_text(encoding="utf-8")
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html


def test_single_strategy_and_no_stock(tmp_path):
    m = {
        "name": "one",
        "horizon_days": 30,
        "shocks": [{"countries": ["CHN"], "start_day": 3, "duration_days": 5, "severity": 0.5}],
        "products": {
            "x": {
                "unit": "t",
                "unit_value": 5.0,
                "final_demand_per_day": 2.0,
                "sources": {"CHN": 1.0},
            }
        },
    }
    r = simulate(ds.load_scenario(m), runs=5, seed=0)
    from disruptsim.report import write_report

    write_report(r, tmp_path)
    assert not (tmp_path / "figures" / "stock.png").exists()
    assert (tmp_path / "figures" / "pareto.png").is_file()


class TestFormat:
    def test_euros(self):
        assert fmt.format_euros(0) == "€0"
        assert fmt.format_euros(999) == "€999"
        assert fmt.format_euros(1234) == "€1.23\u00a0k"
        assert fmt.format_euros(-2_482_450) == "−€2.48\u00a0m"
        assert fmt.format_euros(1.2e10) == "€12.0\u00a0bn"
        assert fmt.format_euros(math.nan) == "–"
        assert fmt.format_euros(math.inf) == "∞"

    def test_interval_on_one_scale(self):
        assert fmt.format_interval(-1.63, 642.2) == "[−€2, €642]"
        assert fmt.format_interval(1.5e6, 2.5e6) == "[€1.50\u00a0m, €2.50\u00a0m]"
        assert fmt.format_interval(0.1, 0.2, "percent") == "[10.0%, 20.0%]"

    def test_percent_days_ratio_runs(self):
        assert fmt.format_percent(0.079) == "7.9%"
        assert fmt.format_percent(0.0005) == "0.05%"
        assert fmt.format_percent(1.0) == "100%"
        assert fmt.format_days(12.34) == "12.3 d"
        assert fmt.format_days(1234.0) == "1,234 d"
        assert fmt.format_ratio(math.inf) == "∞" and fmt.format_ratio(math.nan) == "–"
        assert fmt.format_ratio(2.954) == "2.95"
        assert fmt.format_ratio(0.0043) == "0.0043" and fmt.format_ratio(0.71) == "0.71"
        assert fmt.format_ratio(31.25) == "31" and fmt.format_ratio(0.0) == "0"
        assert fmt.format_runs(247) == "250" and fmt.format_runs(12_345) == "13,000"
        assert fmt.format_runs(math.inf) == "no finite number"


def test_one_euro_scale_for_tables_and_figures():
    from disruptsim.report.figures import axis_euro_scale
    from disruptsim.report.format import euro_scale, format_euros

    assert euro_scale(2.5e9) == (1e9, "bn", "billion")
    assert euro_scale(-999.0) == (1.0, "", "")
    assert axis_euro_scale([1.0, 3e6, float("nan")]) == (1e6, "€ million")
    assert axis_euro_scale([12.0]) == (1.0, "€")
    assert format_euros(3.2e6) == "€3.20\u00a0m"
