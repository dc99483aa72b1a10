"""Statistics and the headline comparison, checked against direct computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from franchise_sim import SimulationResults, simulate
from franchise_sim.analysis.comparison import compare
from franchise_sim.analysis.statistics import (
    lower_rank,
    mean_interval,
    median_interval,
    paired_difference,
    probability_better,
    spread,
    survival_at,
    survival_curve,
    unpaired_difference,
)
from franchise_sim.scenario.schema import Scenario


def test_mean_interval_is_the_student_t_interval() -> None:
    sample = np.array([2.0, 4.0, 4.0, 5.0, 7.0, 9.0])
    got = mean_interval(sample)
    low, high = stats.t.interval(0.95, len(sample) - 1, sample.mean(), stats.sem(sample))
    assert got.estimate == pytest.approx(31 / 6)
    assert (got.low, got.high) == pytest.approx((low, high))


def test_mean_interval_drops_nan_and_handles_tiny_samples() -> None:
    assert mean_interval(np.array([1.0, np.nan, 3.0])).estimate == 2.0
    one = mean_interval(np.array([5.0]))
    assert one.estimate == 5.0
    assert math.isnan(one.low)
    assert math.isnan(mean_interval(np.array([np.nan])).estimate)


def test_spread_is_median_and_deciles() -> None:
    values = np.arange(1.0, 102.0)  # 1..101
    s = spread(np.append(values, np.nan))
    assert (s.median, s.p10, s.p90) == (51.0, 11.0, 91.0)
    assert math.isnan(spread(np.array([np.nan])).median)


def test_paired_and_unpaired_differences() -> None:
    base = np.array([10.0, 20.0, 30.0, 40.0])
    shifted = base + 5.0
    paired = paired_difference(shifted, base)
    assert (paired.estimate, paired.low, paired.high) == (5.0, 5.0, 5.0)
    welch = unpaired_difference(shifted, base)
    expected = stats.ttest_ind(shifted, base, equal_var=False).confidence_interval(0.95)
    assert welch.estimate == 5.0
    assert (welch.low, welch.high) == pytest.approx((expected.low, expected.high))


def test_survival_and_probability_better() -> None:
    alive = np.array([[[1, 1, 0], [1, 1, 1]], [[1, 0, 0], [0, 0, 0]]], dtype=float)
    np.testing.assert_array_equal(survival_curve(alive), [[1.0, 1.0, 0.5], [0.5, 0.0, 0.0]])
    np.testing.assert_array_equal(survival_at(alive, 2), [1.0, 0.0])
    assert probability_better(np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 4.0])) == 1 / 3


def test_median_interval_is_the_order_statistic_interval() -> None:
    # n = 10: P(Binomial(10, 1/2) <= 1) = 11/1024 <= 2.5% < P(<= 2) = 56/1024, so the bounds
    # are the 2nd smallest and the 2nd largest value, covering 1 - 2 * 11/1024 = 97.9%.
    sample = np.array([7.0, 3.0, 10.0, 1.0, 9.0, 2.0, 8.0, 4.0, 6.0, 5.0, np.nan])
    got = median_interval(sample)
    assert (got.estimate, got.low, got.high) == (5.5, 2.0, 9.0)
    # n = 100: the textbook ranks 40 and 61.
    hundred = median_interval(np.arange(1.0, 101.0))
    assert (hundred.estimate, hundred.low, hundred.high) == (50.5, 40.0, 61.0)
    # n = 6 is the smallest sample with a 95% interval (2 / 64 = 3.1% outside): the range.
    six = median_interval(np.arange(1.0, 7.0))
    assert (six.low, six.high) == (1.0, 6.0)
    five = median_interval(np.arange(1.0, 6.0))
    assert five.estimate == 3.0
    assert math.isnan(five.low)
    assert math.isnan(five.high)
    assert math.isnan(median_interval(np.array([np.nan])).estimate)


@pytest.mark.parametrize("level", [0.5, 0.9, 0.95, 0.99, 0.999])
def test_lower_rank_is_the_binomial_quantile_scipy_stats_gives(level: float) -> None:
    tail = (1.0 - level) / 2
    ns = np.unique(np.geomspace(1, 1_000_000, 400).astype(int))
    for n in [*range(1, 80), *ns.tolist()]:
        k = int(stats.binom.ppf(tail, n, 0.5))  # as the interval was found with scipy.stats
        if stats.binom.cdf(k, n, 0.5) > tail:
            k -= 1
        assert lower_rank(n, tail) == k, n
    # By hand: P(Binomial(6, 1/2) <= 0) = 1/64 <= 2.5% < P(<= 1) = 7/64; 1/32 > 2.5% at n = 5.
    assert (lower_rank(6, 0.025), lower_rank(5, 0.025)) == (0, -1)


@pytest.fixture(scope="module")
def small_run(auto_repair: Scenario) -> SimulationResults:
    return simulate(auto_repair, runs=150, seed=4, workers=1)


def test_comparison_matches_direct_computations(small_run: SimulationResults) -> None:
    comparison = compare(small_run)
    assert [a.arm for a in comparison.arms] == ["independent", "franchise"]
    alive = small_run.series("alive")
    for i, arm in enumerate(comparison.arms):
        assert set(arm.survival) == {12, 36, 60}
        assert arm.survival[60] == alive[i, :, 59].mean()
        assert arm.npv.median == np.median(small_run.outcomes["npv"][i])
        open_at_end = small_run.outcomes["survived"][i] > 0.5
        assert arm.final_customers.p90 == np.percentile(
            small_run.outcomes["final_customers"][i][open_at_end], 90
        )
    (contrast,) = comparison.contrasts
    gap = small_run.outcomes["survived"][1] - small_run.outcomes["survived"][0]
    assert contrast.survival_points[60].estimate == pytest.approx(100 * gap.mean())
    year_one = alive[1, :, 11] - alive[0, :, 11]
    assert contrast.survival_points[12].estimate == pytest.approx(100 * year_one.mean())
    assert set(contrast.survival_points) == {12, 36, 60}
    npv = small_run.outcomes["npv"]
    assert contrast.npv.estimate == pytest.approx((npv[1] - npv[0]).mean())
    assert contrast.probability_npv_better == np.mean(npv[1] > npv[0])


def test_comparison_text_and_table(small_run: SimulationResults) -> None:
    comparison = compare(small_run)
    text = comparison.to_text()
    assert "Independent shop" in text
    assert "Automotive-service franchise minus Independent shop" in text
    for line in ("Open after 1 year", "Open after 3 years", "Open after 5 years"):
        assert line in text
    table = comparison.to_frame()
    row = table[(table.arm == "franchise") & (table.metric == "difference_npv")]
    assert set(row.statistic) == {"estimate", "low", "high", "probability_better"}
    assert row[row.statistic == "estimate"].value.item() == pytest.approx(
        comparison.contrasts[0].npv.estimate
    )


def test_comparison_for_a_short_horizon(auto_repair: Scenario) -> None:
    results = simulate(auto_repair, runs=20, seed=4, workers=1, horizon_months=18)
    comparison = compare(results)
    assert set(comparison.arms[0].survival) == {12, 18}
    assert "Open after 18 months" in comparison.to_text()


def test_proportion_interval_is_wilsons() -> None:
    from franchise_sim.analysis.statistics import proportion_interval

    half = proportion_interval(np.r_[np.ones(50), np.zeros(50)])
    assert half.estimate == 0.5
    assert half.low == pytest.approx(0.40383, abs=1e-5)
    assert half.high == pytest.approx(0.59617, abs=1e-5)
    none = proportion_interval(np.zeros(20))
    assert none.low == 0.0
    assert none.high == pytest.approx(0.16113, abs=1e-5)


def test_runs_to_resolve_is_the_closed_form() -> None:
    from franchise_sim.analysis.statistics import runs_to_resolve

    gaps = np.array([3.0, -1.0, 2.0, -2.0, 1.5])
    z = 1.959963984540054
    assert runs_to_resolve(gaps) == math.ceil((z * gaps.std(ddof=1) / gaps.mean()) ** 2)
    assert runs_to_resolve(np.array([1.0, -1.0])) == math.inf
    assert math.isnan(runs_to_resolve(np.array([1.0])))
