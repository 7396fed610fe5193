"""Designing the response: hazard patches, sweeps, sizing, sensitivity (docs/design-the-response.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import disruptsim as ds
from disruptsim.design.paths import DesignError, parse_path
from disruptsim.model import kernel
from disruptsim.model.shocks import ShockSampler
from disruptsim.scenario import thaw

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example-minimal.yaml"
HAZARD = "cn_export_restriction"


@pytest.fixture(scope="module")
def example():
    return ds.load_scenario(EXAMPLE)


def outage(remaining: float, days: int, demand: float = 100.0) -> ds.Scenario:
    """One product, a deterministic total outage of the import share for ``days`` days."""
    return ds.load_scenario(
        {
            "name": "outage",
            "horizon_days": 365,
            "shocks": [
                {"countries": ["CHN"], "start_day": 10, "duration_days": days, "severity": 1.0}
            ],
            "products": {
                "x": {
                    "unit": "t",
                    "unit_value": 100.0,
                    "final_demand_per_day": demand,
                    "sources": {"CHN": 1 - remaining / demand, "domestic": remaining / demand},
                    "stockpile": {"initial_days": 0.0},
                }
            },
        }
    )


# ----------------------------------------------------------------- hazard patches by name


def test_strategy_patches_one_hazard_by_name(example):
    data = thaw(example.data)
    data["strategies"]["coerced"] = {"hazards": {HAZARD: {"annual_probability": 0.3}}}
    sc = ds.load_scenario(data)
    base = {h.name: h for h in sc.world("baseline").hazards}
    patched = {h.name: h for h in sc.world("coerced").hazards}
    assert patched[HAZARD].annual_probability == 0.3
    assert patched[HAZARD].severity == base[HAZARD].severity
    assert patched["south_asia_disaster"] == base["south_asia_disaster"]


def test_unknown_hazard_in_a_patch_names_file_line_and_suggests(write_yaml):
    text = (
        EXAMPLE.read_text()
        + "  coerced:\n    hazards:\n      cn_export_restrction: {annual_probability: 0.3}\n"
    )
    path = write_yaml(text)
    with pytest.raises(ds.ScenarioError) as info:
        ds.load_scenario(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.line == len(text.splitlines())
    assert problem.path == "strategies.coerced.hazards.cn_export_restrction"
    assert "did you mean 'cn_export_restriction'" in problem.message


def test_bad_value_in_a_patch_is_reported_at_the_patch(write_yaml):
    text = (
        EXAMPLE.read_text()
        + "  coerced:\n    hazards:\n      cn_export_restriction: {annual_probability: 1.5}\n"
    )
    with pytest.raises(ds.ScenarioError) as info:
        ds.load_scenario(write_yaml(text))
    (problem,) = info.value.problems
    assert problem.path == "strategies.coerced.hazards.cn_export_restriction.annual_probability"
    assert problem.line == len(text.splitlines())


def test_raising_a_hazards_probability_only_adds_events(example):
    """Common random numbers: the patched hazard reuses the baseline's uniforms, so each
    run's events under the higher probability start with the baseline's events."""
    data = thaw(example.data)
    data["strategies"]["coerced"] = {"hazards": {HAZARD: {"annual_probability": 0.4}}}
    sc = ds.load_scenario(data)
    sampler = ShockSampler(sc, seed=3)
    low = sampler.events(sc.world("baseline"), 0, 5000)
    high = sampler.events(sc.world("coerced"), 0, 5000)
    added = 0
    for r in range(5000):
        a = slice(low.ptr[r], low.ptr[r + 1])
        b = slice(high.ptr[r], high.ptr[r + 1])
        ev_a = set(zip(low.hazard[a], low.start[a], low.end[a], low.severity[a], strict=True))
        ev_b = set(zip(high.hazard[b], high.start[b], high.end[b], high.severity[b], strict=True))
        assert ev_a <= ev_b
        added += len(ev_b) - len(ev_a)
    assert added > 100


# ----------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("products.antibiotcs.stockpile.initial_days", "did you mean 'antibiotics'"),
        ("products.antibiotics.stockpile.inital_days", "did you mean 'initial_days'"),
        ("hazards.cn_export_restrction.annual_probability", "did you mean 'cn_export_restriction'"),
        ("prodcts.x", "did you mean 'products'"),
        ("horizon_days", "cannot vary"),
        ("products.antibiotics.stockpile", "name one number"),
        (
            "strategies.stokpile_api.products.api.stockpile.initial_days",
            "did you mean 'stockpile_api'",
        ),
        ("products.api.sources.BRA", "unknown source 'BRA'"),
    ],
)
def test_bad_paths_are_clear_errors(example, path, expected):
    with pytest.raises(DesignError, match=expected):
        parse_path(example, path)


def test_bad_sweep_values_are_clear_errors(example):
    with pytest.raises(DesignError, match="finite numbers"):
        ds.sweep(
            example, {"products.antibiotics.stockpile.initial_days": [1, float("nan")]}, runs=10
        )
    with pytest.raises(DesignError, match="not a valid scenario.*annual_probability"):
        ds.sweep(example, {f"hazards.{HAZARD}.annual_probability": [0.1, 1.5]}, runs=10)


# ----------------------------------------------------------------- sweeps


def test_sweep_equals_separate_simulate_calls_and_does_not_recompile(example):
    path = "products.antibiotics.stockpile.initial_days"
    values = [0.0, 30.0, 90.0]
    res = ds.sweep(example, {path: values}, runs=600, seed=5)
    assert len(kernel.run_batch.signatures) == 1
    for v, x in enumerate(values):
        data = thaw(example.data)
        data["products"]["antibiotics"]["stockpile"] = {"initial_days": x}
        separate = ds.simulate(ds.load_scenario(data), runs=600, seed=5)
        for s in example.strategy_names:
            expected = separate.runs(s).query("product == 'system'")
            for metric in ("total_cost", "shortage_days", "ttr_days"):
                np.testing.assert_array_equal(
                    res.study.metric(v, s, metric), expected[metric].to_numpy()
                )
            row = res.frame[(res.frame.variant == v) & (res.frame.strategy == s)].iloc[0]
            assert row[path] == x
            assert row.total_cost == pytest.approx(expected.total_cost.mean(), rel=1e-12)
    assert set(res.best.best) <= set(example.strategy_names)
    assert res.frame.groupby("variant")["best"].sum().eq(1).all()


def test_sweep_over_a_hazard_probability_keeps_the_futures_coupled(example):
    res = ds.sweep(
        example, {f"hazards.{HAZARD}.annual_probability": [0.02, 0.1, 0.3]}, runs=2000, seed=1
    )
    disrupted = [res.study.metric(v, "baseline", "disrupted") > 0.5 for v in range(3)]
    assert (disrupted[0] <= disrupted[1]).all() and (disrupted[1] <= disrupted[2]).all()
    costs = res.frame[res.frame.strategy == "baseline"].total_cost.to_numpy()
    assert costs[0] < costs[1] < costs[2]


def test_sweep_page_is_self_contained_and_escaped(example, tmp_path):
    data = thaw(example.data)
    data["name"] = "<script>alert(1)</script>"
    sc = ds.load_scenario(data)
    res = ds.sweep(sc, {f"hazards.{HAZARD}.annual_probability": [0.02, 0.3]}, runs=200, seed=1)
    page = res.report(tmp_path / "sweep.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "data:image/png;base64," in page
    with pytest.raises(FileExistsError):
        res.report(tmp_path / "sweep.html")


@pytest.mark.slow
def test_sweep_on_dask_equals_local(example):
    distributed = pytest.importorskip("distributed")
    values = {
        f"hazards.{HAZARD}.annual_probability": [0.02, 0.3],
        "products.api.stockpile.initial_days": [0.0, 60.0],
    }
    local = ds.sweep(example, values, runs=1500, seed=2, batch_runs=512)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        remote = ds.sweep(
            example,
            values,
            runs=1500,
            seed=2,
            backend="dask",
            scheduler=cluster.scheduler_address,
            batch_runs=256,
        )
    for key, arr in local.study.arms.items():
        np.testing.assert_array_equal(arr, remote.study.arms[key])


# ----------------------------------------------------------------- sizing


@pytest.mark.parametrize(("remaining", "days"), [(40.0, 100), (75.0, 50), (0.0, 30)])
def test_stock_against_one_outage_has_the_closed_form(remaining, days):
    """Zero shortage needs stock days = (1 - c/d) x outage days."""
    sc = outage(remaining, days)
    res = ds.size(sc, "x", target="p_shortage<=0", runs=20, seed=1, tolerance=0.01)
    expected = (1 - remaining / 100.0) * days
    assert res.feasible
    assert expected <= res.level <= expected + 0.01
    assert res.units == pytest.approx(res.level * 100.0)
    assert res.net_import_days == pytest.approx(res.level / (1 - remaining / 100.0))
    assert res.tonnes == pytest.approx(res.units)


def test_cheapest_stock_against_one_outage_is_the_closed_form():
    # Shortage costs 3 x value per unit, holding 10%/year: covering the outage pays.
    res = ds.size(outage(40.0, 100), "x", target="total_cost", runs=10, seed=1, tolerance=0.05)
    assert res.level == pytest.approx(60.0, abs=0.1)


def test_infeasible_target_says_so():
    res = ds.size(outage(40.0, 100), "x", target="p_shortage<=0.01", runs=10, bounds=(0, 30))
    assert not res.feasible and np.isnan(res.level)
    assert res.message.startswith("no stock up to 30 days meets P(shortage) <= 0.01")
    assert "the best reached is 1" in res.message


def test_sizing_has_a_monte_carlo_interval(example):
    res = ds.size(example, "antibiotics", target="p_shortage<=0.02", runs=1000, seed=4)
    assert res.feasible and res.ci_low <= res.level <= res.ci_high
    assert res.ci_high > res.ci_low  # random outages: the answer is uncertain


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target": "p_shortage<0.1"}, "expected 'p_shortage<=ALPHA'"),
        ({"target": "p_shortage<=2"}, "<= 1 for p_shortage"),
        ({"lever": "stockpile.inital_days"}, "did you mean 'initial_days'"),
        ({"lever": "unit_value"}, "no default range"),
        ({"bounds": (10, 5)}, "low < high"),
    ],
)
def test_bad_sizing_arguments(example, kwargs, match):
    with pytest.raises(DesignError, match=match):
        ds.size(example, "antibiotics", runs=10, **kwargs)


# ----------------------------------------------------------------- sensitivity


def one_parameter_scenario() -> ds.Scenario:
    """Total cost depends on the stock days only (holding cost): no shock ever reaches
    the product, so refill speed and the USA hazard's probability change nothing."""
    return ds.load_scenario(
        {
            "name": "one-parameter",
            "horizon_days": 365,
            "hazards": [
                {
                    "name": "usa",
                    "countries": ["USA"],
                    "annual_probability": 0.2,
                    "severity": 1.0,
                    "duration_days": 30,
                }
            ],
            "products": {
                "x": {
                    "unit": "t",
                    "unit_value": 100.0,
                    "final_demand_per_day": 10.0,
                    "sources": {"CHN": 0.5, "domestic": 0.5},
                    "stockpile": {"initial_days": 30.0},
                },
            },
        }
    )


UNCERTAIN = {
    "products.x.stockpile.initial_days": [0, 90],
    "products.x.stockpile.refill_days_per_day": [0.01, 0.5],
    "hazards.usa.annual_probability": [0.01, 0.5],
}


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_sensitivity_ranks_the_only_parameter_that_matters_first(method):
    res = ds.sensitivity(
        one_parameter_scenario(),
        UNCERTAIN,
        outputs=["total_cost"],
        method=method,
        runs=50,
        seed=1,
        trajectories=10,
        samples=16,
    )
    f = res.indices.set_index("parameter")
    key, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
    assert f.loc["products.x.stockpile.initial_days", "rank"] == 1
    for other in list(UNCERTAIN)[1:]:
        assert abs(f.loc[other, key]) <= f.loc[other, conf] + 1e-9
    assert (res.flips.flips == 0).all()


def test_sensitivity_on_the_example_reports_noise_and_flips(example, tmp_path):
    res = ds.sensitivity(
        example,
        {
            f"hazards.{HAZARD}.annual_probability": [0.01, 0.3],
            "products.antibiotics.shortage_cost_per_unit": [5, 80],
        },
        runs=300,
        seed=2,
        trajectories=6,
    )
    assert set(res.noise.output) == {"total_cost", "p_shortage", "ttr_days"}
    assert (res.noise.noise_share >= 0).all()
    assert res.flips.steps.sum() == 6 * 2
    page = res.report(tmp_path / "s.html").read_text()
    assert "Ranking-flip map" in page and "Tornado chart" in page


@pytest.mark.parametrize(
    ("uncertain", "kwargs", "match"),
    [
        (
            {
                "products.x.stockpile.initial_days": [90, 0],
                "hazards.usa.annual_probability": [0, 1],
            },
            {},
            "low < high",
        ),
        (
            {
                "products.x.stockpile.initial_days": {"dist": "normal", "mean": 1},
                "hazards.usa.annual_probability": [0, 1],
            },
            {},
            "unsupported distribution",
        ),
        ({"products.x.stockpile.initial_days": [0, 90]}, {}, "at least two"),
        (UNCERTAIN, {"method": "fast"}, "'morris' or 'sobol'"),
        (UNCERTAIN, {"outputs": ["total_costs"]}, "output 'total_costs'"),
    ],
)
def test_bad_sensitivity_arguments(uncertain, kwargs, match):
    with pytest.raises(DesignError, match=match):
        ds.sensitivity(one_parameter_scenario(), uncertain, runs=10, **kwargs)


# ----------------------------------------------------------------- command line


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "disruptsim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "sweep",
                str(EXAMPLE),
                "--set",
                "hazards.cn_export_restrction.annual_probability=0.1,0.2",
            ],
            "did you mean 'cn_export_restriction'",
        ),
        (
            ["sweep", str(EXAMPLE), "--set", "products.api.stockpile.initial_days=0,abc"],
            "expected numbers",
        ),
        (
            ["sweep", str(EXAMPLE), "--set", "products.api.stockpile.initial_days=0,-5"],
            "not a valid scenario",
        ),
        (["size", str(EXAMPLE), "antibiotics", "--target", "p_shortage<=7"], "<= 1 for p_shortage"),
        (
            ["size", str(EXAMPLE), "antibiotics", "--strategy", "stokpile_api"],
            "did you mean 'stockpile_api'",
        ),
        (
            [
                "sensitivity",
                str(EXAMPLE),
                "--param",
                "products.api.stockpile.initial_days=0",
                "--param",
                "products.antibiotics.shortage_cost_per_unit=1,2",
            ],
            "expected LOW,HIGH",
        ),
    ],
)
def test_cli_bad_input_exits_2_with_a_clear_message(args, message):
    done = cli(*args, "--runs", "20")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_cli_sweep_writes_csv_and_page(tmp_path):
    done = cli(
        "sweep",
        str(EXAMPLE),
        "--set",
        f"hazards.{HAZARD}.annual_probability=0.02,0.3",
        "-n",
        "300",
        "-o",
        str(tmp_path / "o"),
    )
    assert done.returncode == 0, done.stderr
    assert "best" in done.stdout
    assert (tmp_path / "o" / "sweep.csv").exists() and (tmp_path / "o" / "sweep.html").exists()
    again = cli(
        "sweep",
        str(EXAMPLE),
        "--set",
        f"hazards.{HAZARD}.annual_probability=0.02",
        "-n",
        "50",
        "-o",
        str(tmp_path / "o"),
    )
    assert again.returncode == 2 and "--force" in again.stderr


def test_paths_into_distributions_and_sources(example):
    from disruptsim.design.paths import variant

    sc = variant(example, {parse_path(example, f"hazards.{HAZARD}.duration_days.median"): 45.0})
    assert sc.world().hazards[0].duration_days.median == 45.0
    sc = variant(example, {parse_path(example, f"hazards.{HAZARD}.severity"): 0.9})
    assert sc.world().hazards[0].severity.value == 0.9
    with pytest.raises(DesignError, match="is a fixed number"):
        variant(example, {parse_path(example, "hazards.south_asia_disaster.severity.mean"): 0.4})
    shares = {"products.api.sources.CHN": 0.5, "products.api.sources.domestic": 0.2}
    with pytest.raises(
        DesignError, match="strategy 'diversify_api': shares of the sources sum to 1.1"
    ):
        variant(example, {parse_path(example, p): v for p, v in shares.items()})
    data = thaw(example.data)
    del data["strategies"]
    alone = ds.load_scenario(data)
    sc = variant(alone, {parse_path(alone, p): v for p, v in shares.items()})
    api = sc.world().products["api"]
    assert api.sources["CHN"].share == 0.5 and api.sources["domestic"].share == 0.2
    assert api.sources["IND"].exposure == data["products"]["api"]["sources"]["IND"]["exposure"]


@pytest.mark.parametrize(
    ("lever", "option"),
    [
        ("reshoring.share", {"reshoring": {"from": "CHN", "share": 0.0, "build_days": 0.0}}),
        (
            "diversification.max_share",
            {"diversification": {"max_share": 0.0, "exposure": {"USA": 1.0}}},
        ),
    ],
)
def test_share_levers_against_one_outage_have_the_closed_form(lever, option):
    """With a stock of S days, zero shortage over an outage of L days needs the extra supply
    share s = 1 - c/d - S/L (here 1 - 0.4 - 30/100 = 0.3)."""
    data = thaw(outage(40.0, 100).data)
    product = data["products"]["x"]
    product["stockpile"] = {"initial_days": 30.0}
    data["strategies"] = {"lever": {"products": {"x": option}}}
    sc = ds.load_scenario(data)
    res = ds.size(
        sc, "x", lever=lever, strategy="lever", target="p_shortage<=0", runs=10, tolerance=1e-4
    )
    assert res.feasible
    assert 0.3 <= res.level <= 0.3 + 1e-4
