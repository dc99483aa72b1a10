"""Customers who left come back more slowly; quality learns from the work done.

Both are off when their fields are absent. On, a lapsed pool won back at the full rate is
today's model, a slower one keeps fewer customers, and learning by visits served follows the
hand-computed curve and is slower in a smaller market.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest

from franchise_sim import SimulationResults, simulate
from franchise_sim.model.customers import learning_curve
from tests import test_model
from tests.conftest import Variant

WINBACK = "customers.lapsed_winback_share"
VISITS = "concept.learning_visits"
PLAIN = {
    # Nothing but the learning curve moves satisfaction: no taste gap, no overload, no events.
    "concept.starting_mismatch": 0.0,
    "concept.quality": 0.8,
    "concept.starting_quality_share": 0.6,
    "customers.overload_penalty": 0.0,
    "operations.capacity_visits_per_month": 1e6,
    # and the owner carries on whatever the shop earns
    "owner.reserve_usd": 1e9,
    "owner.patience_months": 1000,
}


def _on_paper(variant: Variant, changes: dict[str, Any], months: int = 60) -> SimulationResults:
    return simulate(variant(changes), runs=1, workers=1, deterministic=True, horizon_months=months)


def _independent(results: SimulationResults, column: str) -> np.ndarray:
    values: np.ndarray = results.series(column)[results.arm_index("independent"), 0]
    return values


# --- lapsed customers -------------------------------------------------------------------------


def test_a_lapsed_pool_won_back_at_the_full_rate_is_todays_model(variant: Variant) -> None:
    today = _on_paper(variant, {})
    full = _on_paper(variant, {WINBACK: 1.0})
    np.testing.assert_allclose(full.series("customers"), today.series("customers"), rtol=1e-9)
    np.testing.assert_allclose(full.series("revenue"), today.series("revenue"), rtol=1e-9)


def test_lapsed_customers_won_back_more_slowly_leave_fewer_customers(variant: Variant) -> None:
    customers = {
        w: _independent(_on_paper(variant, {} if w is None else {WINBACK: w}), "customers")
        for w in (None, 0.5, 0.0)
    }
    # The first customers can leave in month 2, so no one is lapsed before month 3; from
    # then on the slower win-back keeps fewer.
    np.testing.assert_allclose(customers[0.5][:2], customers[None][:2], rtol=1e-12)
    assert (customers[0.5][2:] < customers[None][2:]).all()
    assert (customers[0.0][2:] < customers[0.5][2:]).all()


def test_slower_win_back_lowers_survival(variant: Variant) -> None:
    today = simulate(variant({}), runs=150, horizon_months=48, workers=1)
    slow = simulate(variant({WINBACK: 0.2}), runs=150, horizon_months=48, workers=1)
    assert (slow.outcomes["survived"].mean(axis=1) < today.outcomes["survived"].mean(axis=1)).all()
    assert (slow.outcomes["npv"].mean(axis=1) < today.outcomes["npv"].mean(axis=1)).all()


# --- learning by doing ------------------------------------------------------------------------


def test_learning_by_visits_follows_the_hand_computed_curve(variant: Variant) -> None:
    results = _on_paper(variant, PLAIN | {VISITS: 900.0}, months=24)
    served = _independent(results, "visits_served")
    satisfaction = _independent(results, "satisfaction")
    before = np.concatenate([[0.0], np.cumsum(served)[:-1]])  # visits served before each month
    expected = [0.8 * (1.0 - 0.4 * math.exp(-v / 900.0)) for v in before]
    np.testing.assert_allclose(satisfaction, expected, rtol=1e-12)
    assert satisfaction[0] == pytest.approx(0.48, rel=1e-12)  # opening day: 0.6 of 0.8
    assert expected == [learning_curve(0.8, 0.6, v, 900.0) for v in before]


def test_a_smaller_market_learns_more_slowly_by_visits_not_by_months(variant: Variant) -> None:
    def satisfaction(households: float, visits: float | None) -> np.ndarray:
        changes = PLAIN | {"market.households": households}
        if visits is not None:
            changes[VISITS] = visits
        return _independent(_on_paper(variant, changes, months=36), "satisfaction")

    small, large = satisfaction(12000, 900.0), satisfaction(36000, 900.0)
    assert small[0] == large[0]
    assert (small[1:] < large[1:]).all()
    np.testing.assert_array_equal(satisfaction(12000, None), satisfaction(36000, None))


def test_the_template_learns_by_visits_too(variant: Variant) -> None:
    template = "arms.franchise.franchise.template.learning_visits"
    today = _on_paper(variant, {})
    slow = _on_paper(variant, {template: 1e6})
    franchise = today.arm_index("franchise")
    assert (
        slow.series("satisfaction")[franchise, 0, 1:]
        < today.series("satisfaction")[franchise, 0, 1:]
    ).all()
    independent = today.arm_index("independent")
    np.testing.assert_array_equal(slow.trajectories[independent], today.trajectories[independent])


def test_a_franchise_arm_cannot_set_the_concepts_learning_visits(variant: Variant) -> None:
    from franchise_sim.scenario.errors import ScenarioError

    with pytest.raises((ScenarioError, ValueError), match="learning_visits"):
        variant({"arms.franchise.concept.learning_visits": 100.0})


# --- the books, and the same results for any number of workers --------------------------------


@pytest.fixture(scope="module")
def customers_on(variant: Variant) -> SimulationResults:
    return simulate(
        variant(
            {
                WINBACK: 0.4,
                VISITS: 1800.0,
                "arms.franchise.franchise.template.learning_visits": 800.0,
            }
        ),
        runs=120,
        horizon_months=60,
        workers=1,
    )


@pytest.mark.parametrize(
    "check",
    [
        test_model.test_cash_changes_by_exactly_the_months_cash_flow,
        test_model.test_cash_flow_is_the_sum_of_its_lines,
        test_model.test_closed_businesses_have_no_flows,
        test_model.test_customers_and_service_stay_physical,
    ],
    ids=lambda c: c.__name__,
)
def test_the_books_hold_with_lapsed_customers_and_learning_by_doing(
    customers_on: SimulationResults, check: Any
) -> None:
    check(customers_on)


def test_customers_stay_whole_with_a_lapsed_pool(customers_on: SimulationResults) -> None:
    customers = customers_on.series("customers")
    np.testing.assert_array_equal(customers, np.round(customers))
    assert (customers_on.series("new_customers") >= 0).all()


def test_one_and_two_workers_agree_with_lapsed_customers(variant: Variant) -> None:
    scenario = variant({WINBACK: 0.4, VISITS: 1800.0})
    one = simulate(scenario, runs=24, seed=8, horizon_months=48, workers=1)
    two = simulate(scenario, runs=24, seed=8, horizon_months=48, workers=2)
    assert set(two.worker_pids) - {os.getpid()}, "the pool did not run"
    np.testing.assert_array_equal(one.trajectories, two.trajectories)
