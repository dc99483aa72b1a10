"""The simulation as a whole: money conservation, closure, Bass, CRN, directions of effect."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from franchise_sim import SimulationResults, simulate
from franchise_sim.analysis.reference import bls_survival
from franchise_sim.analysis.statistics import paired_difference, unpaired_difference
from franchise_sim.engine.runner import batches_here
from franchise_sim.model.books import CLOSURE_REASONS
from franchise_sim.model.customers import bass_share
from franchise_sim.scenario.schema import Scenario
from tests.books import assert_books_balance
from tests.conftest import Variant


@pytest.fixture(scope="module")
def stochastic(shipped_auto_repair: Scenario) -> SimulationResults:
    """The shipped auto repair scenario, every model v2 mechanism on."""
    return simulate(shipped_auto_repair, runs=300, workers=1)


def test_cash_changes_by_exactly_the_months_cash_flow(stochastic: SimulationResults) -> None:
    assert_books_balance(stochastic)


def test_cash_flow_is_the_sum_of_its_lines(stochastic: SimulationResults) -> None:
    s = stochastic.series
    assert_books_balance(stochastic, opening=False)
    assert np.isfinite(s("cash_flow")).all()


def test_loan_is_repaid_by_principal_payments(stochastic: SimulationResults) -> None:
    for i, arm in enumerate(stochastic.arms):
        loan = stochastic.scenario.arm(arm).loan_usd()
        balance = stochastic.series("loan_balance")[i]
        paid = np.cumsum(stochastic.series("principal")[i], axis=-1)
        np.testing.assert_allclose(balance, loan - paid, rtol=1e-9, atol=1e-6)


def test_closed_businesses_have_no_flows(stochastic: SimulationResults) -> None:
    alive = stochastic.series("alive")
    closed = stochastic.outcomes["closed_month"]
    assert np.isnan(closed).any(), "need survivors"
    assert (~np.isnan(closed)).any(), "need closures"
    for column in ("customers", "revenue", "cash_flow", "operating_costs", "owner_draw"):
        values = stochastic.series(column)
        for i in range(len(stochastic.arms)):
            for r in np.flatnonzero(~np.isnan(closed[i])):
                month = int(closed[i, r])
                assert alive[i, r, month - 1] == 0
                assert alive[i, r, : month - 1].all()
                assert not alive[i, r, month:].any()
                assert (values[i, r, month:] == 0).all(), column
    cash = stochastic.series("cash")
    for i in range(len(stochastic.arms)):
        for r in np.flatnonzero(~np.isnan(closed[i])):
            month = int(closed[i, r])
            assert (cash[i, r, month - 1 :] == cash[i, r, month - 1]).all()


def test_survivors_and_closures_agree_with_reasons(stochastic: SimulationResults) -> None:
    survived = stochastic.outcomes["survived"] > 0.5
    reasons = stochastic.closure_reasons
    assert ((reasons == "") == survived).all()
    assert set(np.unique(reasons)) <= {"", *CLOSURE_REASONS}
    # A business closed as insolvent had used up every dollar of the owner's savings first.
    injected = stochastic.series("owner_injection").sum(axis=-1)
    for i, arm in enumerate(stochastic.arms):
        reserve = stochastic.scenario.arm(arm).owner.reserve_usd
        insolvent = reasons[i] == "insolvent"
        assert insolvent.any()
        assert (injected[i][insolvent] >= reserve - 1e-6).all()


def test_customers_and_service_stay_physical(stochastic: SimulationResults) -> None:
    s = stochastic.series
    assert (s("customers") >= 0).all()
    assert (s("visits_served") <= s("visits_demanded") + 1e-9).all()
    for i, arm in enumerate(stochastic.arms):
        capacity = stochastic.scenario.arm(arm).operations.capacity_visits_per_month
        assert isinstance(capacity, float)
        assert (s("visits_served")[i] <= capacity + 1e-9).all()
    customers = s("customers")
    previous = np.concatenate([np.zeros((*customers.shape[:-1], 1)), customers[..., :-1]], -1)
    alive = s("alive") > 0.5
    # Customers change by new minus lost, except when a competitor takes some away.
    delta = customers - previous - s("new_customers") + s("lost_customers")
    assert (delta[alive] <= 1e-9).all()


def _bass_scenario(variant: Variant) -> Scenario:
    """Perfect retention, full satisfaction, no advertising and no events."""
    return variant(
        {
            "customers.loyal_retention_per_year": 1.0,
            "customers.casual_retention_per_year": 1.0,
            "customers.innovation_p_per_month": 0.02,
            "customers.imitation_q_per_month": 0.15,
            "operations.capacity_visits_per_month": 1e9,
            "operations.marketing_usd_per_month": 0,
            "concept.quality": 1.0,
            "concept.starting_quality_share": 1.0,
            "concept.starting_mismatch": 0.0,
            "market.households": 30000,
            "market.addressable_share": 0.05,
            "events.enabled": False,
            "owner.personal_exit_rate_per_year": 0.0,
            "owner.reserve_usd": 1e9,
            "owner.patience_months": 1000,
            "owner.review": None,  # nobody gives up: the pure diffusion
            "market.size_trend_per_year": 0.0,
        }
    )


def test_expected_customers_follow_the_closed_form_bass_curve(variant: Variant) -> None:
    results = simulate(_bass_scenario(variant), runs=1, workers=1, deterministic=True)
    i = results.arm_index("independent")
    m = 30000 * 0.05
    expected = [m * bass_share(t, 0.02, 0.15) for t in range(1, 61)]
    np.testing.assert_allclose(results.series("customers")[i, 0], expected, rtol=1e-9)


def test_mean_simulated_customers_follow_the_bass_curve(variant: Variant) -> None:
    results = simulate(_bass_scenario(variant), runs=400, workers=1)
    i = results.arm_index("independent")
    assert results.outcomes["survived"][i].all()
    customers = results.series("customers")[i]
    m = 30000 * 0.05
    for month in (3, 6, 12, 24, 36, 60):
        expected = m * bass_share(month, 0.02, 0.15)
        mean = customers[:, month - 1].mean()
        se = customers[:, month - 1].std(ddof=1) / math.sqrt(customers.shape[0])
        assert abs(mean - expected) < 4 * se + 0.005 * expected, (month, mean, expected)


def test_common_random_numbers_reduce_the_variance_of_differences(
    stochastic: SimulationResults,
) -> None:
    franchise = stochastic.arm_index("franchise")
    independent = stochastic.arm_index("independent")
    for name in ("npv", "final_customers", "final_cash"):
        a, b = stochastic.outcomes[name][franchise], stochastic.outcomes[name][independent]
        paired = np.var(a - b, ddof=1)
        unpaired = np.var(a, ddof=1) + np.var(b, ddof=1)  # variance if drawn independently
        assert paired < 0.8 * unpaired, name
        # So the paired confidence interval is narrower than the unpaired (Welch) one.
        tight, loose = paired_difference(a, b), unpaired_difference(a, b)
        assert tight.estimate == pytest.approx(loose.estimate)
        assert tight.high - tight.low < loose.high - loose.low, name


def test_arms_meet_the_same_market_and_events(stochastic: SimulationResults) -> None:
    counts = stochastic.shock_counts
    summary = stochastic.summary
    for name, per_replication in counts.items():
        by_arm = summary.pivot(index="replication", columns="arm", values=name)
        assert (by_arm["franchise"] == by_arm["independent"]).all()
        assert (by_arm["independent"].to_numpy() == per_replication).all()


def test_higher_royalty_lowers_franchise_npv(variant: Variant) -> None:
    npv = []
    for royalty in (0.04, 0.07, 0.10):
        scenario = variant({"arms.franchise.franchise.royalty_rate": royalty})
        results = simulate(scenario, runs=300, workers=1)
        npv.append(results.outcomes["npv"][results.arm_index("franchise")].mean())
    assert npv[0] > npv[1] > npv[2]


def test_more_starting_capital_does_not_lower_survival(variant: Variant) -> None:
    # The owner brings more money and keeps it as working capital: same loan, more cash.
    survival = []
    for extra in (0, 20000, 40000):
        scenario = variant(
            {
                "investment.working_capital_usd": 50000 + extra,
                "financing.owner_equity_usd": 55000 + extra,
                "arms.franchise.investment.working_capital_usd": 65000 + extra,
                "arms.franchise.financing.owner_equity_usd": 80000 + extra,
            }
        )
        results = simulate(scenario, runs=300, workers=1)
        survival.append(results.outcomes["survived"].mean(axis=1))
    assert (survival[1] >= survival[0]).all()
    assert (survival[2] >= survival[1]).all()
    assert (survival[2] > survival[0]).all()


def test_same_seed_same_results_and_other_seed_differs(auto_repair: Scenario) -> None:
    a = simulate(auto_repair, runs=40, seed=5, workers=1)
    b = simulate(auto_repair, runs=40, seed=5, workers=1)
    c = simulate(auto_repair, runs=40, seed=6, workers=1)
    np.testing.assert_array_equal(a.trajectories, b.trajectories)
    assert not np.array_equal(a.trajectories, c.trajectories)


def test_a_run_of_one_round_runs_its_first_batch_in_the_calling_process(
    auto_repair: Scenario,
) -> None:
    two = simulate(auto_repair, runs=20, seed=3, workers=2, horizon_months=6)
    assert os.getpid() in two.worker_pids
    assert len(two.worker_pids) == 2
    assert [batches_here(b, p) for b, p in ((2, 2), (4, 4), (1, 1), (3, 2), (40, 2))] == [
        1,
        1,
        0,  # in-process already: no pool
        0,  # more than one round: this process takes the batches in as they come
        0,
    ]


def test_one_and_two_workers_give_identical_results(auto_repair: Scenario) -> None:
    one = simulate(auto_repair, runs=64, seed=3, workers=1)
    two = simulate(auto_repair, runs=64, seed=3, workers=2)
    assert set(two.worker_pids) - {os.getpid()}, "the pool did not run"
    assert one.worker_pids == (os.getpid(),)
    np.testing.assert_array_equal(one.trajectories, two.trajectories)
    np.testing.assert_array_equal(one.closure_reasons, two.closure_reasons)
    for name in one.outcomes:
        np.testing.assert_array_equal(one.outcomes[name], two.outcomes[name])


def test_a_replication_does_not_depend_on_the_run_size(auto_repair: Scenario) -> None:
    small = simulate(auto_repair, runs=5, seed=9, workers=1)
    large = simulate(auto_repair, runs=30, seed=9, workers=1)
    np.testing.assert_array_equal(small.trajectories, large.trajectories[:, :5])


@pytest.fixture(scope="module")
def calibration_run(shipped_auto_repair: Scenario) -> SimulationResults:
    """The shipped auto repair scenario at 4,000 paired runs on all cores."""
    return simulate(shipped_auto_repair, runs=4000)


@pytest.mark.slow
def test_independent_survival_tracks_bls_other_services(
    calibration_run: SimulationResults,
) -> None:
    # BLS BED, establishments born March 2013, Other services (NAICS 81), years 1-5.
    assert calibration_run.scenario.bls_sector == "other_services_naics81"
    bls = bls_survival("other_services_naics81")
    assert bls[1] == pytest.approx(0.825)
    assert bls[5] == pytest.approx(0.569)
    results = calibration_run
    alive = results.series("alive")[results.arm_index("independent")]
    for year in range(1, 6):
        simulated = alive[:, 12 * year - 1].mean()
        assert abs(simulated - bls[year]) <= 0.04, (year, simulated, bls[year])


@pytest.mark.slow
def test_franchise_gap_stays_within_the_evidence(calibration_run: SimulationResults) -> None:
    # evidence.md: franchise-minus-independent closure gaps in 1-4-year studies span about
    # -7 points (franchise worse, Bates 1995) to +15 points (franchise better, Parsa).
    results = calibration_run
    alive = results.series("alive")
    gap = 100 * (
        alive[results.arm_index("franchise")].mean(axis=0)
        - alive[results.arm_index("independent")].mean(axis=0)
    )
    for month in (12, 24, 36, 48):
        assert -7.0 <= gap[month - 1] <= 15.0, (month, gap[month - 1])


def test_the_plan_on_paper_is_one_path_however_often_it_is_run(variant: Variant) -> None:
    # Personal exits and the franchisor's fate are events at random times: the plan on paper
    # has none, so every run of it is the same path, open to the horizon at these rates.
    scenario = variant(
        {
            "owner.personal_exit_rate_per_year": 0.9,
            "arms.franchise.franchise.franchisor.failure_rate_per_year": 0.9,
            "arms.franchise.franchise.franchisor.brand_shock_rate_per_year": 5.0,
        }
    )
    plan = simulate(scenario, runs=12, workers=1, horizon_months=36, deterministic=True)
    books = plan.trajectories
    np.testing.assert_array_equal(books, np.broadcast_to(books[:, :1], books.shape))
    assert (plan.closure_reasons != "owner_exit").all()
    assert (plan.outcomes["franchisor_failed_month"] == 0).all()
    assert (plan.outcomes["brand_shocks"] == 0).all()
