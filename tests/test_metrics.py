"""Statistical functions against hand-computed values, scipy and analytic results."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from disruptsim.results import stats as mx


class TestMeanCI:
    def test_hand_computed(self):
        # mean 2, s = 1, se = 1/sqrt(3), t_{0.975, 2} = 4.3026527297 (tables)
        e = mx.mean_ci([1.0, 2.0, 3.0])
        half = 4.302652729749464 / math.sqrt(3)
        assert e.estimate == 2.0
        assert e.low == pytest.approx(2.0 - half, rel=1e-12)
        assert e.high == pytest.approx(2.0 + half, rel=1e-12)
        assert e.n == 3
        assert e.std_error == pytest.approx(1 / math.sqrt(3))
        assert e.half_width == pytest.approx(half)

    def test_matches_scipy_t_interval(self):
        x = np.random.default_rng(1).lognormal(size=57)
        e = mx.mean_ci(x, confidence=0.9)
        low, high = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert (e.low, e.high) == pytest.approx((low, high), rel=1e-12)

    def test_normal_method(self):
        x = np.arange(10.0)
        e = mx.mean_ci(x, method="normal")
        se = x.std(ddof=1) / math.sqrt(10)
        assert e.high - e.estimate == pytest.approx(1.959963984540054 * se)

    def test_degenerate_samples(self):
        assert math.isnan(mx.mean_ci([]).estimate)
        one = mx.mean_ci([5.0])
        assert one.estimate == 5.0 and math.isnan(one.low) and math.isnan(one.high)
        flat = mx.mean_ci([4.0] * 5)
        assert (flat.low, flat.estimate, flat.high) == (4.0, 4.0, 4.0)

    def test_rejects_nan_and_bad_arguments(self):
        with pytest.raises(ValueError, match="NaN"):
            mx.mean_ci([1.0, math.nan])
        with pytest.raises(ValueError, match="confidence"):
            mx.mean_ci([1.0, 2.0], confidence=1.0)
        with pytest.raises(ValueError, match="method"):
            mx.mean_ci([1.0, 2.0], method="bootstrap")

    def test_estimate_near_known_mean(self):
        # |mean - mu| < 4 sigma / sqrt(n) (fixed seed, tolerance from the sampling error).
        rng = np.random.default_rng(7)
        x = rng.exponential(2.0, size=20_000)
        e = mx.mean_ci(x)
        assert abs(e.estimate - 2.0) < 4 * 2.0 / math.sqrt(x.size)
        sd = x.std(ddof=1) / math.sqrt(x.size)
        assert e.half_width == pytest.approx(stats.t.ppf(0.975, x.size - 1) * sd, rel=1e-12)

    def test_coverage_of_known_mean(self):
        # 400 studies of 200 exponential draws: the 95% interval holds the true mean in
        # about 95% of them (binomial sd 1.1 points; the t-interval of a skewed law runs a
        # little under nominal at n=200), and it is not trivially wide.
        rng = np.random.default_rng(11)
        estimates = [mx.mean_ci(rng.exponential(2.0, size=200)) for _ in range(400)]
        coverage = np.mean([e.low < 2.0 < e.high for e in estimates])
        assert 0.91 <= coverage <= 0.98, coverage
        assert np.mean([e.half_width for e in estimates]) < 0.3  # ~1.96 * 2 / sqrt(200)


class TestQuantiles:
    def test_hand_computed(self):
        x = [4.0, 1.0, 3.0, 2.0]  # sorted 1 2 3 4; h = q * 3
        assert mx.quantiles(x, [0.0, 0.5, 0.9, 1.0]) == pytest.approx([1.0, 2.5, 3.7, 4.0])

    def test_matches_scipy_mquantiles_type7(self):
        x = np.random.default_rng(2).normal(size=101)
        q = [0.5, 0.9, 0.95, 0.99]
        expected = stats.mstats.mquantiles(x, q, alphap=1, betap=1)
        assert mx.quantiles(x, q) == pytest.approx(np.asarray(expected), rel=1e-12)

    def test_empty_and_bad(self):
        assert np.isnan(mx.quantiles([], 0.5)).all()
        with pytest.raises(ValueError):
            mx.quantiles([1.0], 1.5)


class TestCVaR:
    def test_mean_of_worst_five_percent(self):
        x = np.arange(1.0, 101.0)  # 100 runs: the worst 5 are 96..100
        assert mx.cvar(x, 0.95) == pytest.approx(98.0, rel=1e-15)

    def test_fractional_boundary_weight(self):
        # n = 30, w = 1.5: (30 + 0.5 * 29) / 1.5
        x = np.arange(1.0, 31.0)
        assert mx.cvar(x, 0.95) == pytest.approx((30 + 0.5 * 29) / 1.5)
        # n = 10, w = 0.5: the maximum
        assert mx.cvar(np.arange(10.0), 0.95) == 9.0
        assert mx.cvar([3.0], 0.95) == 3.0

    def test_alpha_zero_is_mean(self):
        x = np.random.default_rng(3).gamma(2.0, size=333)
        assert mx.cvar(x, 0.0) == pytest.approx(x.mean())

    def test_equals_rockafellar_uryasev_minimum(self):
        x = np.random.default_rng(4).lognormal(size=337)
        alpha = 0.95

        def objective(c):
            return c + np.maximum(x - c, 0.0).mean() / (1 - alpha)

        # The minimum is at the alpha-quantile of the sample (piecewise linear objective).
        best = min(objective(c) for c in x)
        res = optimize.minimize_scalar(objective, bounds=(x.min(), x.max()), method="bounded")
        assert mx.cvar(x, alpha) == pytest.approx(best, rel=1e-12)
        assert mx.cvar(x, alpha) <= res.fun + 1e-9

    def test_normal_analytic(self):
        # CVaR_0.95 of N(0, 1) = phi(z_0.95) / 0.05 = 2.0627...
        x = np.random.default_rng(5).normal(size=400_000)
        exact = stats.norm.pdf(stats.norm.ppf(0.95)) / 0.05
        assert mx.cvar(x, 0.95) == pytest.approx(exact, abs=0.02)

    def test_bounds(self):
        x = np.random.default_rng(6).pareto(2.5, size=999)
        c = mx.cvar(x)
        assert x.mean() <= c <= x.max()
        assert c >= mx.quantiles(x, 0.95)[0]

    def test_empty_and_bad(self):
        assert math.isnan(mx.cvar([]))
        with pytest.raises(ValueError):
            mx.cvar([1.0], 1.0)


class TestProportionCI:
    @pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 20), (20, 20), (47, 1000), (1, 1)])
    @pytest.mark.parametrize("method", ["wilson", "exact"])
    def test_matches_scipy_binomtest(self, k, n, method):
        e = mx.proportion_ci(k, n, method=method)
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method=method)
        assert e.estimate == k / n
        assert e.low == pytest.approx(ci.low, abs=1e-12)
        assert e.high == pytest.approx(ci.high, abs=1e-12)

    def test_hand_computed_wilson(self):
        # k = 5, n = 10, z = 1.96: centre 0.5, half = z sqrt(0.025 + z^2/400) / (1 + z^2/10)
        z = stats.norm.ppf(0.975)
        half = z * math.sqrt(0.025 + z * z / 400) / (1 + z * z / 10)
        e = mx.proportion_ci(5, 10)
        assert (e.low, e.high) == pytest.approx((0.5 - half, 0.5 + half))

    def test_empty_and_bad(self):
        assert math.isnan(mx.proportion_ci(0, 0).estimate)
        with pytest.raises(ValueError):
            mx.proportion_ci(3, 2)
        with pytest.raises(ValueError):
            mx.proportion_ci(1, 2, method="agresti")


class TestConditionalMean:
    def test_censored_runs_are_excluded_and_counted(self):
        tts = np.array([10.0, np.nan, 20.0, np.nan, 99.0, 30.0])
        disrupted = np.array([True, True, True, True, False, True])
        e = mx.conditional_mean(tts, disrupted)
        assert e.estimate == 20.0
        assert e.n_condition == 5 and e.n_observed == 3
        assert e.share_censored == pytest.approx(2 / 5)
        ref = mx.mean_ci([10.0, 20.0, 30.0])
        assert (e.low, e.high) == (ref.low, ref.high)

    def test_nothing_meets_the_condition(self):
        e = mx.conditional_mean(np.array([1.0, 2.0]), np.array([False, False]))
        assert math.isnan(e.estimate) and math.isnan(e.share_censored)
        assert e.n_condition == 0

    def test_all_censored(self):
        e = mx.conditional_mean(np.array([np.nan, np.nan]), np.array([True, True]))
        assert math.isnan(e.estimate) and e.share_censored == 1.0

    def test_shape_mismatch(self):
        with pytest.raises(ValueError):
            mx.conditional_mean(np.zeros(3), np.ones(2, dtype=bool))


class TestPairedDifference:
    def test_hand_computed(self):
        a = np.array([10.0, 12.0, 14.0])
        b = np.array([11.0, 12.0, 16.0])  # d = -1, 0, -2: mean -1, sd 1
        e = mx.paired_difference(a, b)
        half = stats.t.ppf(0.975, 2) / math.sqrt(3)
        assert e.estimate == pytest.approx(-1.0)
        assert (e.low, e.high) == pytest.approx((-1 - half, -1 + half))
        assert e.std_error * math.sqrt(3) == pytest.approx(1.0)

    def test_matches_scipy_paired_t(self):
        rng = np.random.default_rng(8)
        common = rng.lognormal(size=500)
        a, b = common + rng.normal(0, 0.1, 500), common + 0.05
        e = mx.paired_difference(a, b)
        ci = stats.ttest_rel(a, b).confidence_interval(0.95)
        assert (e.low, e.high) == pytest.approx((ci.low, ci.high), rel=1e-10)
        # Pairing is what makes the difference visible: the independent CIs overlap.
        assert mx.mean_ci(a).high > mx.mean_ci(b).low

    def test_identical_strategies(self):
        x = np.arange(5.0)
        e = mx.paired_difference(x, x)
        assert (e.estimate, e.low, e.high) == (0.0, 0.0, 0.0)

    def test_length_mismatch(self):
        with pytest.raises(ValueError):
            mx.paired_difference(np.zeros(3), np.zeros(4))


class TestRunsToSeparate:
    def test_formula(self):
        z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
        assert mx.runs_to_separate(1.0, 10.0) == math.ceil((z * 10) ** 2)
        # power 0.5: the n at which the current CI just excludes zero.
        assert mx.runs_to_separate(-2.0, 10.0, power=0.5) == math.ceil((1.959963984540054 * 5) ** 2)

    def test_edge_cases(self):
        assert mx.runs_to_separate(0.0, 1.0) == math.inf
        assert mx.runs_to_separate(1.0, 0.0) == 2
        assert math.isnan(mx.runs_to_separate(math.nan, 1.0))

    def test_separates_in_simulation(self):
        # At the suggested n, the 95% CI excludes zero in about 80% of repetitions.
        rng = np.random.default_rng(9)
        n = int(mx.runs_to_separate(0.5, 5.0))
        hits = sum(mx.mean_ci(rng.normal(0.5, 5.0, n)).excludes(0.0) for _ in range(400))
        p = hits / 400
        assert abs(p - 0.8) < 4 * math.sqrt(0.8 * 0.2 / 400)


class TestBenefitCostRatio:
    def test_ordinary(self):
        # baseline: shortage 100, mitigation 0; strategy: shortage 40, mitigation 20
        assert mx.benefit_cost_ratio(40.0, 20.0, 100.0, 0.0) == 3.0
        # costs more and adds shortage: negative
        assert mx.benefit_cost_ratio(110.0, 20.0, 100.0, 0.0) == -0.5

    def test_zero_and_negative_extra_cost(self):
        assert mx.benefit_cost_ratio(50.0, 5.0, 100.0, 5.0) == math.inf
        assert mx.benefit_cost_ratio(50.0, 3.0, 100.0, 5.0) == math.inf
        assert mx.benefit_cost_ratio(100.0, 3.0, 100.0, 5.0) == math.inf
        assert mx.benefit_cost_ratio(120.0, 5.0, 100.0, 5.0) == -math.inf
        assert math.isnan(mx.benefit_cost_ratio(100.0, 5.0, 100.0, 5.0))
        assert math.isnan(mx.benefit_cost_ratio(120.0, 3.0, 100.0, 5.0))

    def test_rounding_counts_as_zero(self):
        base = 1.0e9
        assert math.isnan(mx.benefit_cost_ratio(base, base, base * (1 + 1e-15), base))


class TestParetoFront:
    def test_hand_computed(self):
        pts = np.array(
            [
                [1.0, 5.0],  # front
                [2.0, 2.0],  # front
                [3.0, 3.0],  # dominated by (2, 2)
                [5.0, 1.0],  # front
                [2.0, 2.0],  # equal to a front point: front
                [1.0, 6.0],  # dominated by (1, 5) (weakly in x)
                [np.nan, 0.0],  # NaN: not on the front, dominates nothing
            ]
        )
        assert mx.pareto_front(pts).tolist() == [True, True, False, True, True, False, False]

    def test_single_and_one_dimensional_objective(self):
        assert mx.pareto_front(np.array([[3.0, 4.0]])).tolist() == [True]
        assert mx.pareto_front(np.array([[3.0], [1.0], [1.0]])).tolist() == [False, True, True]

    def test_brute_force_agreement(self):
        rng = np.random.default_rng(10)
        pts = rng.integers(0, 6, size=(40, 3)).astype(float)
        front = mx.pareto_front(pts)
        for i, p in enumerate(pts):
            dominated = any(np.all(q <= p) and np.any(q < p) for q in pts)
            assert front[i] == (not dominated)

    def test_bad_shape(self):
        with pytest.raises(ValueError):
            mx.pareto_front(np.zeros(3))
