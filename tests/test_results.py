"""SimulationResult: summary and timeseries on a deterministic scenario whose numbers are
known by hand; consistency with the per-run frames; save/load round trip; atomic writes."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest

import disruptsim as ds
from disruptsim.conventions import MITIGATION_PARTS, SYSTEM
from disruptsim.results import stats as mx
from disruptsim.results.io import check_output_dir
from disruptsim.results.result import SimulationResult
from disruptsim.results.summary import SUMMARY_COLUMNS
from disruptsim.run.simulation import simulate
from disruptsim.synthetic import synthetic_scenario

# One final product (widget, 100 pcs/day at EUR 10, shortage EUR 30/pcs) half from CHN, half
# made at home from a domestic intermediate (part). CHN is cut on days 5-8 of 20: a gap of
# 50 pcs/day. Holding rate 0.365/year = 0.001/day of the stock's value.
DETERMINISTIC = {
    "name": "deterministic",
    "horizon_days": 20,
    "shocks": [{"countries": ["CHN"], "start_day": 5, "duration_days": 4, "severity": 1.0}],
    "products": {
        "part": {
            "unit": "kg",
            "unit_value": 2.0,
            "holding_cost_rate": 0.365,
            "sources": {"domestic": 1.0},
        },
        "widget": {
            "unit": "pcs",
            "unit_value": 10.0,
            "final_demand_per_day": 100.0,
            "holding_cost_rate": 0.365,
            "sources": {"CHN": 0.5, "domestic": 0.5},
            "inputs": {"part": 1.0},
        },
    },
    "strategies": {
        "baseline": {},
        # 100 pcs of stock: covers days 5-6, short on 7-8; refills 50/day on days 9-10.
        "stock": {
            "products": {
                "widget": {
                    "stockpile": {
                        "initial_days": 1.0,
                        "max_release_days_per_day": 1.0,
                        "refill_days_per_day": 0.5,
                        "fixed_cost": 1000.0,
                    }
                },
                # An intermediate's stockpile: a system cost, not the widget's.
                "part": {"stockpile": {"initial_days": 2.0, "fixed_cost": 500.0}},
            }
        },
        # 1,000 pcs: no shortage at all (tts censored, ttr 0).
        "big_stock": {
            "products": {
                "widget": {"stockpile": {"initial_days": 10.0, "refill_days_per_day": 0.5}}
            }
        },
        # 20% from USA at +10%: EUR 20/day of premium, gap 30 pcs/day.
        "diversify": {
            "products": {
                "widget": {"sources": {"CHN": 0.3, "USA": {"share": 0.2, "unit_cost_premium": 0.1}}}
            }
        },
    },
}

# Expected per-run values (identical in every run), by hand:
EXPECTED = {
    # strategy: (widget total, widget mitigation, system mitigation, shortage, unmet, shortage days, tts, ttr)
    "baseline": (6000.0, 0.0, 0.0, 6000.0, 200.0, 4, 0.0, 4.0),
    # holding: 5 days x 1 + 0.5 (day 5) + 0 x 3 + 0.5 (day 9) + 10 x 1 = 16; part: 20 x 0.2 = 4
    "stock": (4016.0, 1016.0, 1520.0, 3000.0, 100.0, 2, 2.0, 4.0),
    # holding at 0.01 EUR/pcs/day: 50 + 9.5 + 9 + 8.5 + 8 + 8.5 + 9 + 9.5 + 10 + 70 = 192
    "big_stock": (192.0, 192.0, 192.0, 0.0, 0.0, 0, math.nan, 0.0),
    "diversify": (4000.0, 400.0, 400.0, 3600.0, 120.0, 4, 0.0, 4.0),
}
RUNS = 8


@pytest.fixture(scope="module")
def det_result() -> SimulationResult:
    return simulate(ds.load_scenario(DETERMINISTIC), runs=RUNS, seed=3, trace_runs=5)


@pytest.fixture(scope="module")
def det_summary(det_result) -> pd.DataFrame:
    return det_result.summary()


@pytest.fixture(scope="module")
def random_result() -> SimulationResult:
    sc = ds.load_scenario(synthetic_scenario(n_products=6, n_countries=5, horizon_days=120, seed=2))
    return simulate(sc, runs=300, seed=11, trace_runs=50)


def _row(summary: pd.DataFrame, strategy: str, product: str) -> pd.Series:
    rows = summary[(summary["strategy"] == strategy) & (summary["product"] == product)]
    assert len(rows) == 1
    return rows.iloc[0]


class TestSummaryDeterministic:
    def test_shape_and_columns(self, det_summary):
        assert tuple(det_summary.columns) == SUMMARY_COLUMNS
        # one row per strategy and per final product (widget), plus the system; the
        # system first, then the products, each ranked as the command line's table
        pairs = list(zip(det_summary["strategy"], det_summary["product"], strict=True))
        assert sorted(pairs) == sorted((s, p) for s in EXPECTED for p in ("widget", SYSTEM))
        assert [p for _, p in pairs] == [SYSTEM] * len(EXPECTED) + ["widget"] * len(EXPECTED)
        for product in (SYSTEM, "widget"):
            rows = det_summary[det_summary["product"] == product]
            assert rows["rank"].is_monotonic_increasing
            assert rows["total_cost_mean"].is_monotonic_increasing
        assert (det_summary["runs"] == RUNS).all()

    @pytest.mark.parametrize("strategy", list(EXPECTED))
    def test_costs_and_times(self, det_summary, strategy):
        total, mit, sys_mit, shortage, unmet, days, tts, ttr = EXPECTED[strategy]
        w = _row(det_summary, strategy, "widget")
        s = _row(det_summary, strategy, SYSTEM)
        assert w["total_cost_mean"] == pytest.approx(total, rel=1e-12)
        assert w["mitigation_cost_mean"] == pytest.approx(mit, rel=1e-12, abs=1e-9)
        assert s["mitigation_cost_mean"] == pytest.approx(sys_mit, rel=1e-12, abs=1e-9)
        assert s["total_cost_mean"] == pytest.approx(shortage + sys_mit, rel=1e-12)
        assert w["shortage_cost_mean"] == s["shortage_cost_mean"] == pytest.approx(shortage)
        for col in (
            "total_cost_p50",
            "total_cost_p90",
            "total_cost_p95",
            "total_cost_p99",
            "total_cost_cvar95",
        ):
            assert w[col] == pytest.approx(total, rel=1e-12)
        assert w["total_cost_ci_low"] == pytest.approx(total) and w[
            "total_cost_ci_high"
        ] == pytest.approx(total)
        assert w["unmet_units_mean"] == pytest.approx(unmet)
        assert math.isnan(s["unmet_units_mean"])  # units of different products do not add
        assert w["shortage_days_mean"] == days
        assert w["p_shortage"] == (1.0 if days else 0.0)
        assert w["p_disrupted"] == 1.0
        if math.isnan(tts):
            assert math.isnan(w["tts_days_disrupted_mean"]) and w["tts_censored_share"] == 1.0
        else:
            assert w["tts_days_disrupted_mean"] == tts and w["tts_censored_share"] == 0.0
        assert w["ttr_days_disrupted_mean"] == ttr and w["ttr_censored_share"] == 0.0
        assert w["ttr_days_p95"] == ttr

    def test_mitigation_parts(self, det_summary):
        w, s = _row(det_summary, "stock", "widget"), _row(det_summary, "stock", SYSTEM)
        assert w["holding_cost_mean"] == pytest.approx(16.0)
        assert w["stockpile_fixed_cost_mean"] == 1000.0
        assert s["holding_cost_mean"] == pytest.approx(20.0)
        assert s["stockpile_fixed_cost_mean"] == 1500.0
        d = _row(det_summary, "diversify", SYSTEM)
        assert d["source_premium_cost_mean"] == pytest.approx(400.0)
        parts = [
            c
            for c in SUMMARY_COLUMNS
            if c.endswith("_mean") and c.split("_mean")[0] in MITIGATION_PARTS
        ]
        assert len(parts) == len(MITIGATION_PARTS)
        assert det_summary[parts].sum(axis=1).to_numpy() == pytest.approx(
            det_summary["mitigation_cost_mean"].to_numpy()
        )

    def test_probability_intervals_are_wilson(self, det_summary):
        w = _row(det_summary, "baseline", "widget")
        e = mx.proportion_ci(RUNS, RUNS)
        assert (w["p_shortage_ci_low"], w["p_shortage_ci_high"]) == (e.low, e.high)
        b = _row(det_summary, "big_stock", "widget")
        assert b["p_shortage_ci_low"] == 0.0 and b["p_shortage_ci_high"] == pytest.approx(1 - e.low)

    def test_paired_difference_and_bcr(self, det_summary):
        base = _row(det_summary, "baseline", SYSTEM)
        assert base["diff_total_cost_mean"] == 0.0 and math.isnan(base["benefit_cost_ratio"])
        expected = {
            "stock": (-1480.0, 3000 / 1520),
            "big_stock": (-5808.0, 6000 / 192),
            "diversify": (-2000.0, 6.0),
        }
        for name, (diff, bcr) in expected.items():
            s = _row(det_summary, name, SYSTEM)
            assert s["diff_total_cost_mean"] == pytest.approx(diff)
            assert s["diff_total_cost_ci_low"] == pytest.approx(diff)
            assert s["benefit_cost_ratio"] == pytest.approx(bcr)
        assert _row(det_summary, "stock", "widget")["benefit_cost_ratio"] == pytest.approx(
            3000 / 1016
        )

    def test_rank_and_pareto(self, det_summary):
        s = det_summary[det_summary["product"] == SYSTEM].set_index("strategy")
        assert s["rank"].to_dict() == {"baseline": 4, "stock": 3, "big_stock": 1, "diversify": 2}
        # (mitigation, shortage): baseline (0, 6000) and big_stock (192, 0) dominate the rest.
        assert s["pareto_mitigation_shortage"].to_dict() == {
            "baseline": True, "stock": False, "big_stock": True, "diversify": False
        }  # fmt: skip
        # (total, p95 ttr): big_stock (192, 0) dominates everything.
        assert s["pareto_total_ttr95"].to_dict() == {
            "baseline": False, "stock": False, "big_stock": True, "diversify": False
        }  # fmt: skip

    def test_compare_top_two(self, det_result):
        c = det_result.compare_top_two()
        assert (c.strategy, c.other) == ("big_stock", "diversify")
        assert c.difference.estimate == pytest.approx(192.0 - 4000.0)
        assert c.separated and c.runs_needed == 2  # no spread at all

    def test_ttr_censored_at_horizon(self):
        m = {
            "name": "late",
            "horizon_days": 20,
            "shocks": [
                {"countries": ["CHN"], "start_day": 15, "duration_days": 10, "severity": 0.5}
            ],
            "products": {
                "x": {
                    "unit": "t",
                    "unit_value": 1.0,
                    "final_demand_per_day": 10.0,
                    "sources": {"CHN": 1.0},
                }
            },
        }
        r = simulate(ds.load_scenario(m), runs=3, seed=0)
        row = _row(r.summary(), "baseline", "x")
        assert row["ttr_days_disrupted_mean"] == 5.0  # days 15..19, still short at the end
        assert row["ttr_censored_share"] == 1.0
        assert row["tts_days_disrupted_mean"] == 0.0


class TestTimeseriesDeterministic:
    def test_values(self, det_result):
        ts = det_result.timeseries()
        assert len(ts) == 4 * 3 * 20  # strategies x (2 products + system) x days
        w = ts[(ts["strategy"] == "stock") & (ts["product"] == "widget")]
        stock = [100.0] * 5 + [50.0, 0.0, 0.0, 0.0, 50.0] + [100.0] * 10
        assert w["mean_stock"].tolist() == stock
        assert w["stock_p5"].tolist() == stock and w["stock_p95"].tolist() == stock
        fulfil = [1.0] * 7 + [0.5, 0.5] + [1.0] * 11
        assert w["mean_fulfilment"].tolist() == pytest.approx(fulfil, abs=1e-9)
        assert w["fulfilment_p50"].tolist() == fulfil
        assert w["p_shortage"].tolist() == [0.0] * 7 + [1.0, 1.0] + [0.0] * 11
        assert (w["stock_target"] == 100.0).all() and (w["traced_runs"] == 5).all()
        sysrows = ts[(ts["strategy"] == "baseline") & (ts["product"] == SYSTEM)]
        assert sysrows["mean_fulfilment"].tolist() == pytest.approx(
            [1.0] * 5 + [0.5] * 4 + [1.0] * 11, abs=1e-9
        )
        assert sysrows["mean_stock"].isna().all()

    def test_columns(self, det_result):
        ts = det_result.timeseries()
        for col in (
            "fulfilment_p5",
            "fulfilment_p25",
            "fulfilment_p50",
            "fulfilment_p75",
            "fulfilment_p95",
        ):
            assert col in ts.columns
        assert list(ts.columns[:3]) == ["strategy", "product", "day"]


class TestRandomScenario:
    def test_summary_matches_runs_frames(self, random_result):
        s = random_result.summary()
        for name in random_result.strategies:
            runs = random_result.runs(name)
            sysrows = runs[runs["product"] == SYSTEM]
            row = _row(s, name, SYSTEM)
            total = sysrows["total_cost"].to_numpy()
            assert row["total_cost_mean"] == pytest.approx(total.mean(), rel=1e-12)
            assert row["total_cost_p95"] == pytest.approx(np.quantile(total, 0.95), rel=1e-12)
            assert row["total_cost_cvar95"] == pytest.approx(mx.cvar(total), rel=1e-12)
            assert row["p_shortage"] == (sysrows["shortage_days"] > 0).mean()
            assert row["p_disrupted"] == sysrows["disrupted"].mean()
            assert row["total_cost_cvar95"] >= row["total_cost_p95"] - 1e-6
            dis = sysrows[sysrows["disrupted"]]
            if len(dis):
                assert row["ttr_days_disrupted_mean"] == pytest.approx(dis["ttr_days"].mean())

    def test_final_products(self, random_result):
        s = random_result.summary()
        finals = set(random_result.final_products())
        assert finals and set(s["product"]) == finals | {SYSTEM}

    def test_exact_means_agree_with_traces_when_all_traced(self):
        sc = ds.load_scenario(
            synthetic_scenario(n_products=4, n_countries=3, horizon_days=60, seed=5)
        )
        r = simulate(sc, runs=64, seed=1, trace_runs=64)
        s = r.strategies["baseline"]
        assert s.mean_fulfilment == pytest.approx(
            s.trace_fulfilment.astype(float).mean(axis=0), abs=1e-6
        )
        assert s.mean_stock == pytest.approx(
            s.trace_stock.astype(float).mean(axis=0), rel=1e-5, abs=1e-3
        )


class TestSaveLoad:
    def test_round_trip(self, random_result, tmp_path):
        out = random_result.save(tmp_path / "res", report=False)
        names = {p.name for p in out.iterdir()}
        assert {
            "summary.csv",
            "runs.parquet",
            "timeseries.parquet",
            "traces.npz",
            "scenario.resolved.yaml",
            "manifest.json",
        } <= names
        loaded = SimulationResult.load(out)
        pd.testing.assert_frame_equal(loaded.summary(), random_result.summary())
        pd.testing.assert_frame_equal(loaded.timeseries(), random_result.timeseries())
        for name in random_result.strategies:
            pd.testing.assert_frame_equal(loaded.runs(name), random_result.runs(name))
        assert (
            loaded.seed == 11
            and loaded.n_runs == 300
            and loaded.generator == random_result.generator
        )
        assert loaded.scenario is not None and loaded.scenario.name == random_result.scenario.name

    def test_files_are_readable_and_consistent(self, random_result, tmp_path):
        out = random_result.save(tmp_path / "res", report=False)
        csv = pd.read_csv(out / "summary.csv")
        expected = random_result.summary()
        assert list(csv.columns) == list(expected.columns)
        assert np.allclose(csv["total_cost_mean"], expected["total_cost_mean"], rtol=1e-15, atol=0)
        runs = pd.read_parquet(out / "runs.parquet")
        assert set(runs["strategy"]) == set(random_result.strategies)
        assert len(runs) == sum(
            s.metrics.shape[0] * s.metrics.shape[1] for s in random_result.strategies.values()
        )
        manifest = json.loads((out / "manifest.json").read_text())
        for key in (
            "disruptsim_version",
            "seed",
            "generator",
            "runs",
            "timings",
            "machine",
            "created",
        ):
            assert key in manifest
        assert manifest["seed"] == 11 and manifest["runs"] == 300
        assert {"platform", "cpu_count", "python", "numpy", "numba"} <= set(manifest["machine"])
        assert set(manifest["files"]) >= {"summary.csv", "runs.parquet"}
        text = (out / "scenario.resolved.yaml").read_text()
        assert ds.load_scenario(out / "scenario.resolved.yaml").name == random_result.scenario.name
        assert "!!python" not in text

    def test_manifest_records_scenario_file_hash(self, tmp_path):
        path = tmp_path / "det.yaml"
        from ruamel.yaml import YAML

        YAML(typ="safe", pure=True).dump(DETERMINISTIC, path)
        sc = ds.load_scenario(path)
        r = simulate(sc, runs=4, seed=0)
        out = r.save(tmp_path / "res", report=False)
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["scenario"]["sha256"] == sc.sha256 and len(sc.sha256) == 64
        loaded = SimulationResult.load(out)
        assert loaded.scenario.sha256 == sc.sha256 and str(loaded.scenario.path) == str(path)

    def test_refuses_non_empty_directory(self, det_result, tmp_path):
        target = tmp_path / "res"
        target.mkdir()
        (target / "keep.txt").write_text("mine")
        with pytest.raises(FileExistsError, match="not empty"):
            det_result.save(target, report=False)
        assert (target / "keep.txt").read_text() == "mine"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no temporary left

    def test_refuses_a_file(self, det_result, tmp_path):
        (tmp_path / "res").write_text("x")
        with pytest.raises(FileExistsError):
            det_result.save(tmp_path / "res", force=True, report=False)

    def test_empty_directory_is_used(self, det_result, tmp_path):
        (tmp_path / "res").mkdir()
        det_result.save(tmp_path / "res", report=False)
        assert (tmp_path / "res" / "summary.csv").is_file()

    def test_force_replaces_a_previous_result(self, det_result, tmp_path):
        target = tmp_path / "res"
        det_result.save(target, report=True)
        assert (target / "figures").is_dir()
        (target / "summary.csv").write_text("old")
        det_result.save(target, force=True, report=False)
        assert (target / "summary.csv").read_text() != "old"
        assert not (target / "figures").exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]

    def test_force_refuses_what_is_not_a_result(self, det_result, tmp_path):
        target = tmp_path / "res"
        target.mkdir()
        (target / "old.txt").write_text("old")
        with pytest.raises(FileExistsError, match="no disruptsim result"):
            det_result.save(target, force=True, report=False)
        assert (target / "old.txt").read_text() == "old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]

    @pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
    def test_failure_while_writing_leaves_nothing(self, det_result, tmp_path, monkeypatch, error):
        import disruptsim.results.io as results_io

        def boom(*args, **kwargs):
            raise error("stop")

        monkeypatch.setattr(results_io, "_write_npz", boom)
        with pytest.raises(error):
            det_result.save(tmp_path / "res", report=False)
        assert list(tmp_path.iterdir()) == []

    def test_failure_with_force_keeps_the_old_result(self, det_result, tmp_path, monkeypatch):
        import disruptsim.results.io as results_io

        target = tmp_path / "res"
        det_result.save(target, report=False)
        before = (target / "manifest.json").read_text()
        monkeypatch.setattr(
            results_io, "_write_npz", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x"))
        )
        with pytest.raises(RuntimeError):
            det_result.save(target, force=True, report=False)
        assert (target / "manifest.json").read_text() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]

    def test_directory_permissions_follow_umask(self, det_result, tmp_path):
        out = det_result.save(tmp_path / "res", report=False)
        mask = os.umask(0)
        os.umask(mask)
        assert (out.stat().st_mode & 0o777) == (0o777 & ~mask)

    def test_check_output_dir(self, tmp_path):
        check_output_dir(tmp_path / "missing")
        check_output_dir(tmp_path)  # empty
        (tmp_path / "f").write_text("x")
        with pytest.raises(FileExistsError):
            check_output_dir(tmp_path)
        with pytest.raises(FileExistsError):  # not a result: never replaced
            check_output_dir(tmp_path, force=True)

    def test_load_rejects_other_directories(self, tmp_path):
        with pytest.raises(FileNotFoundError):
            SimulationResult.load(tmp_path)


def test_loaded_result_without_its_scenario_still_works(random_result, tmp_path, monkeypatch):
    import disruptsim.results.io as results_io

    out = random_result.save(tmp_path / "a", report=False)
    monkeypatch.setattr(results_io, "_read_scenario", lambda d, manifest: None)
    loaded = SimulationResult.load(out)
    assert loaded.scenario is None
    assert loaded.scenario_name == random_result.scenario.name
    assert loaded.product_units() == random_result.product_units()
    pd.testing.assert_frame_equal(loaded.summary(), random_result.summary())
    again = loaded.save(tmp_path / "b")  # with the report
    assert (again / "report.html").is_file()
    assert (again / "scenario.resolved.yaml").read_text() == (
        out / "scenario.resolved.yaml"
    ).read_text()
    manifest = json.loads((again / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == random_result.scenario.name


def test_summary_frame_is_the_summary(det_result):
    from disruptsim.results.summary import ranked, summary_frame

    products = (*det_result.final_products(), SYSTEM)
    frame = ranked(summary_frame(det_result.strategies, det_result.baseline, products, 0.9))
    pd.testing.assert_frame_equal(frame, det_result.summary(confidence=0.9))
