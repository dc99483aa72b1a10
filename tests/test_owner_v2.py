"""Model v2, the owner and the money: settlements, the sale, the review, floating loans, the NPV.

Hand-computed money cases without SimPy first; then the mechanisms in the simulation: the cash
identity with every one of them on, their directions of effect, their absence when switched
off, and identical results for 1 and 2 workers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from franchise_sim import SimulationResults, simulate
from franchise_sim.model.books import GAVE_UP, INSOLVENT, OWNER_EXIT, SOLD
from franchise_sim.model.money import (
    annual_earnings_usd,
    capitalised_value_usd,
    floating_rate_schedule,
    guarantee_fee_usd,
    implied_capitalisation_rate,
    lease_settlement_usd,
    loan_payment,
    monthly_discount_factor,
    outside_wage_present_value_usd,
    prime_rate_path,
    sale_price,
    settle,
)
from franchise_sim.model.plan import Draw, expected_earnings_path, plan_money
from franchise_sim.scenario.sba_rules import sba_max_spread
from franchise_sim.scenario.schema import Scenario
from tests.books import assert_books_balance
from tests.conftest import Variant

# --- hand-computed money ---------------------------------------------------------------------


def test_lease_settlement_owes_the_rest_of_the_term_or_the_smaller_break_fee() -> None:
    # 5,000 a month, 60-month lease, closed after 14 months: 46 months of rent are owed.
    assert lease_settlement_usd(5000.0, 14, 60, None) == 230_000.0
    assert lease_settlement_usd(5000.0, 14, 60, 20_000.0) == 20_000.0
    assert lease_settlement_usd(5000.0, 58, 60, 20_000.0) == 10_000.0  # two months < the fee
    assert lease_settlement_usd(5000.0, 60, 60, None) == 0.0  # the term has just ended
    assert lease_settlement_usd(5000.0, 62, 60, None) == 290_000.0  # renewed for 60 more
    assert lease_settlement_usd(5000.0, 14, None, 20_000.0) == 20_000.0
    assert lease_settlement_usd(5000.0, 14, None, None) == 0.0


def test_a_sale_is_a_multiple_of_the_yearly_run_rate_less_costs() -> None:
    # Five months of 1,000 is a run rate of 12,000 a year; only the last twelve months count.
    assert annual_earnings_usd([1000.0] * 5) == 12_000.0
    assert annual_earnings_usd([-50_000.0, -50_000.0] + [4000.0] * 12) == 48_000.0
    assert annual_earnings_usd([]) == 0.0
    sale = sale_price(48_000.0, 2.5, 0.10, 5000.0)
    assert (sale.price_usd, sale.costs_usd, sale.proceeds_usd) == (120_000.0, 17_000.0, 103_000.0)
    assert sale_price(-10_000.0, 2.5, 0.10, 0.0).price_usd == 0.0


def test_settlement_repays_the_loan_and_calls_the_guarantee_for_the_rest() -> None:
    owed = settle(30_000.0, 100_000.0, personal_guarantee=True)
    assert (owed.principal_usd, owed.guarantee_call_usd, owed.distribution_usd) == (
        100_000.0,
        70_000.0,
        0.0,
    )
    assert owed.unpaid_debt_usd == 0.0
    limited = settle(30_000.0, 100_000.0, personal_guarantee=False)
    assert (limited.principal_usd, limited.guarantee_call_usd, limited.unpaid_debt_usd) == (
        30_000.0,
        0.0,
        70_000.0,
    )
    rich = settle(150_000.0, 100_000.0, personal_guarantee=True)
    assert (rich.principal_usd, rich.guarantee_call_usd, rich.distribution_usd) == (
        100_000.0,
        0.0,
        50_000.0,
    )
    # Unpaid bills (negative cash) are the owner's too under the guarantee.
    short = settle(-10_000.0, 5000.0, personal_guarantee=True)
    assert (short.principal_usd, short.guarantee_call_usd) == (5000.0, 15_000.0)
    assert settle(-10_000.0, 5000.0, personal_guarantee=False).principal_usd == 0.0


def test_sba_guarantee_fee_by_tier_and_spread_caps() -> None:
    assert guarantee_fee_usd(100_000.0) == pytest.approx(0.85 * 100_000 * 0.02)  # 1,700
    assert guarantee_fee_usd(300_000.0) == pytest.approx(0.75 * 300_000 * 0.03)  # 6,750
    # 2M loan: 1.5M guaranteed, 3.5% on the first 1M and 3.75% on the 0.5M above.
    assert guarantee_fee_usd(2_000_000.0) == pytest.approx(35_000.0 + 18_750.0)
    assert guarantee_fee_usd(100_000.0, guaranteed_share=0.5, fee_rate=0.01) == 500.0
    assert guarantee_fee_usd(0.0) == 0.0
    assert [sba_max_spread(x) for x in (40e3, 100e3, 300e3, 1e6)] == [0.065, 0.06, 0.045, 0.03]


def test_floating_rate_schedule_resets_and_reamortises() -> None:
    # 12,000 over 12 months, prime + 2 points reset quarterly: prime 10% for the first
    # quarter, then 4%.
    schedule = floating_rate_schedule(12_000.0, 0.02, 12, 3, [0.10] * 3 + [0.04] * 9)
    rates = [rate for rate, _ in schedule]
    assert rates == pytest.approx([0.12] * 3 + [0.06] * 9)
    first = schedule[0][1]
    payment = 12_000.0 * 0.01 / (1 - 1.01**-12)  # 1,066.19
    assert first.interest_usd == pytest.approx(120.0)
    assert first.principal_usd == pytest.approx(payment - 120.0)
    balance = schedule[2][1].balance_after_usd
    assert balance == pytest.approx(9132.963425, abs=1e-6)
    reset = balance * 0.005 / (1 - 1.005**-9)  # re-amortised over the 9 months left
    fourth = schedule[3][1]
    assert fourth.interest_usd == pytest.approx(balance * 0.005)
    assert fourth.interest_usd + fourth.principal_usd == pytest.approx(reset)
    assert reset == pytest.approx(1040.311758, abs=1e-6)
    assert len(schedule) == 12
    assert schedule[-1][1].balance_after_usd == 0.0


def test_floating_rate_at_a_flat_prime_is_the_fixed_rate_loan() -> None:
    schedule = floating_rate_schedule(200_000.0, 0.0275, 120, 3, [0.085] * 120)
    payment = loan_payment(200_000.0, 0.1125, 120)
    assert all(
        due.interest_usd + due.principal_usd == pytest.approx(payment) for _, due in schedule
    )


def test_prime_path_reverts_and_stays_within_floor_and_cap() -> None:
    path = prime_rate_path(0.085, 0.065, 0.3, 0.015, 0.0325, 0.215, [0.0, 0.0])
    assert path[0] == 0.085
    assert path[1] == pytest.approx(0.085 + 0.3 * (0.065 - 0.085) / 12)  # 8.45%
    assert path[2] == pytest.approx(path[1] + 0.3 * (0.065 - path[1]) / 12)
    assert prime_rate_path(0.085, 0.065, 0.3, 0.015, 0.0325, 0.215, [1e3])[1] == 0.215
    assert prime_rate_path(0.085, 0.065, 0.3, 0.015, 0.0325, 0.215, [-1e3])[1] == 0.0325


def test_capitalised_value_and_implied_rates() -> None:
    # 60,000 a year growing 2%, discounted at 10%: 60,000 * 1.02 / 0.08.
    assert float(capitalised_value_usd(60_000.0, 0.10, 0.02)) == pytest.approx(765_000.0)
    assert float(capitalised_value_usd(-5.0, 0.10, 0.0)) == 0.0
    with pytest.raises(ValueError, match="growth"):
        capitalised_value_usd(1.0, 0.05, 0.05)
    assert implied_capitalisation_rate(2.0) == 0.5  # today's 2x: a 50% capitalisation rate
    assert implied_capitalisation_rate(0.0) == math.inf


def test_outside_wage_present_value_is_the_discounted_sum() -> None:
    assert float(outside_wage_present_value_usd(1000.0, 12.0, 0.0)) == 12_000.0
    f = monthly_discount_factor(0.10)
    expected = sum(1000.0 * f**m for m in range(1, 37))
    assert float(outside_wage_present_value_usd(1000.0, 36.0, 0.10)) == pytest.approx(expected)


def test_expected_earnings_ramp_from_opening_to_level() -> None:
    assert expected_earnings_path(5000.0, -12_000.0, 5.0, 7) == pytest.approx(
        (-12_000.0, -8600.0, -5200.0, -1800.0, 1600.0, 5000.0, 5000.0)
    )
    assert expected_earnings_path(5000.0, -12_000.0, 0.0, 2) == (5000.0, 5000.0)


# --- the schema ------------------------------------------------------------------------------


def test_review_needs_its_benchmark_and_growth_stays_below_the_discount_rate(
    variant: Variant,
) -> None:
    with pytest.raises(ValidationError, match="outside_wage_usd_per_month"):
        variant({"owner.review": {"benchmark": "outside_wage", "give_up_shortfall_usd": 1e4}})
    with pytest.raises(ValidationError, match="expected_earnings_usd_per_month"):
        variant({"owner.review": {"benchmark": "expected", "give_up_shortfall_usd": 1e4}})
    with pytest.raises(ValidationError, match="below the discount rate"):
        variant({"run.terminal_value": {"method": "capitalised", "growth_rate_per_year": 0.1}})


# --- in the simulation -----------------------------------------------------------------------

REVIEW = {
    "benchmark": "plan",
    "slack_usd_per_month": 3000,
    "give_up_shortfall_usd": {"dist": "uniform", "low": 10_000, "high": 60_000},
}
CLOSURE = {"lease_months": 60, "lease_break_fee_usd": 25_000, "wind_down_cost_usd": 8000}
SALE = {"multiple_of_earnings": {"dist": "uniform", "low": 2, "high": 3}, "other_costs_usd": 3000}
ALL_ON: dict[str, Any] = {
    "owner.outside_wage_usd_per_month": 4000,
    "owner.review": REVIEW,
    "owner.sale": SALE,
    "owner.personal_exit_rate_per_year": 0.15,  # enough sales to check
    "operations.closure": CLOSURE,
    "financing.floating_rate": {"spread_over_prime_per_year": 0.0275},
    "financing.guarantee_fee": {},
    "run.terminal_value": {"method": "capitalised", "growth_rate_per_year": 0.01},
}
RUNS, MONTHS = 200, 36


@pytest.fixture(scope="module")
def all_on(variant: Variant) -> SimulationResults:
    return simulate(variant(ALL_ON), runs=RUNS, workers=1, horizon_months=MONTHS, seed=11)


def _closed(results: SimulationResults, i: int) -> list[tuple[int, int]]:
    closed = results.outcomes["closed_month"][i]
    return [(int(r), int(closed[r])) for r in np.flatnonzero(~np.isnan(closed))]


def test_cash_identity_with_every_mechanism_on(all_on: SimulationResults) -> None:
    s = all_on.series
    assert_books_balance(all_on)
    cash, flow = s("cash"), s("cash_flow")
    draw = Draw(11, 0)
    for i, arm in enumerate(all_on.arms):
        loan = plan_money(all_on.scenario.arm(arm), draw).loan_usd  # the fee financed
        assert loan > all_on.scenario.arm(arm).loan_usd()
        paid = np.cumsum(s("principal")[i], axis=-1)
        np.testing.assert_allclose(s("loan_balance")[i], loan - paid, rtol=1e-9, atol=1e-6)
        # Under the personal guarantee every closure ends with no cash and no debt.
        for r, month in _closed(all_on, i):
            assert cash[i, r, month - 1] == pytest.approx(0.0, abs=1e-6)
            assert s("loan_balance")[i, r, month - 1] == pytest.approx(0.0, abs=1e-6)
            assert not s("alive")[i, r, month:].any()
            assert (flow[i, r, month:] == 0).all()


def test_each_closure_settles_lease_wind_down_and_assets_in_its_month(
    all_on: SimulationResults,
) -> None:
    s = all_on.series
    reasons = all_on.closure_reasons
    seen = set()
    for i, name in enumerate(all_on.arms):
        arm = all_on.scenario.arm(name)
        rent = arm.operations.rent_usd_per_month
        assert isinstance(rent, float)
        for r, month in _closed(all_on, i):
            reason = reasons[i, r]
            seen.add(reason)
            costs, sale = s("closure_costs")[i, r], s("asset_sale")[i, r]
            assert (costs[: month - 1] == 0).all()
            assert (sale[: month - 1] == 0).all()
            if reason == SOLD:
                assert costs[month - 1] == 0.0  # the buyer takes over the lease
                continue
            lease = min(rent * ((-month) % 60), 25_000.0)
            assert costs[month - 1] == pytest.approx(lease + 8000.0)
            assert sale[month - 1] == pytest.approx(arm.liquidation_value_usd())
    assert {INSOLVENT, GAVE_UP, SOLD} <= seen, seen


def test_a_sale_is_valued_on_the_run_rate_and_counts_as_an_exit(
    all_on: SimulationResults,
) -> None:
    s = all_on.series
    sold = all_on.closure_reasons == SOLD
    assert sold.sum() >= 5
    assert (all_on.outcomes["survived"][sold] == 0).all()
    for i, r in zip(*np.nonzero(sold), strict=True):
        month = int(all_on.outcomes["closed_month"][i, r])
        profit = s("operating_profit")[i, r, :month]
        sale = all_on.scenario.arm(all_on.arms[i]).owner.sale
        assert sale is not None
        multiple = Draw(11, int(r))(sale.multiple_of_earnings, "owner.sale.multiple_of_earnings")
        price = multiple * max(0.0, profit[-12:].sum() * 12 / len(profit[-12:]))
        assert s("asset_sale")[i, r, month - 1] == pytest.approx(0.9 * price - 3000.0)
        # The proceeds repay the loan; the rest goes to the owner.
        assert s("loan_balance")[i, r, month - 1] == pytest.approx(0.0, abs=1e-6)


def test_no_settlement_when_switched_off_and_an_empty_one_values_as_today(
    variant: Variant,
) -> None:
    today = simulate(variant({}), runs=120, workers=1, horizon_months=MONTHS, seed=5)
    empty = simulate(
        variant({"operations.closure": {}}), runs=120, workers=1, horizon_months=MONTHS, seed=5
    )
    assert (today.series("asset_sale") == 0).all()
    assert (today.series("closure_costs") == 0).all()
    np.testing.assert_array_equal(today.outcomes["closed_month"], empty.outcomes["closed_month"])
    np.testing.assert_array_equal(today.closure_reasons, empty.closure_reasons)
    # Settling in the books at no cost is worth what today's liquidation rule values it at.
    np.testing.assert_allclose(today.outcomes["npv"], empty.outcomes["npv"], rtol=1e-9, atol=1e-4)
    assert (empty.series("asset_sale") > 0).any()


def test_a_break_fee_lowers_the_npv_of_runs_that_close_by_its_present_value(
    variant: Variant,
) -> None:
    free = variant({"operations.closure": {}})
    fee = variant({"operations.closure": {"lease_break_fee_usd": 30_000}})
    a = simulate(free, runs=120, workers=1, horizon_months=MONTHS, seed=5)
    b = simulate(fee, runs=120, workers=1, horizon_months=MONTHS, seed=5)
    closed = a.outcomes["closed_month"]
    np.testing.assert_array_equal(closed, b.outcomes["closed_month"])
    f = monthly_discount_factor(a.scenario.run.discount_rate_per_year)
    lost = np.where(np.isnan(closed), 0.0, 30_000.0 * f ** np.nan_to_num(closed))
    assert (lost > 0).any()
    np.testing.assert_allclose(a.outcomes["npv"] - b.outcomes["npv"], lost, atol=1e-4)


def test_an_outside_wage_lowers_npv_by_exactly_its_present_value(variant: Variant) -> None:
    base: dict[str, Any] = {"owner.review": REVIEW, "operations.closure": CLOSURE}
    a = simulate(variant(base), runs=120, workers=1, horizon_months=MONTHS, seed=5)
    wage = variant(base | {"owner.outside_wage_usd_per_month": 4500})
    b = simulate(wage, runs=120, workers=1, horizon_months=MONTHS, seed=5)
    end = np.where(np.isnan(a.outcomes["closed_month"]), MONTHS, a.outcomes["closed_month"])
    pv = outside_wage_present_value_usd(4500.0, end, a.scenario.run.discount_rate_per_year)
    np.testing.assert_array_equal(a.trajectories, b.trajectories)
    np.testing.assert_allclose(a.outcomes["npv"] - b.outcomes["npv"], pv, rtol=1e-12)


def test_guarantee_fee_paid_at_signing_costs_the_owner_exactly_the_fee(variant: Variant) -> None:
    a = simulate(variant({}), runs=60, workers=1, horizon_months=24, seed=5)
    paid = variant({"financing.guarantee_fee": {"financed": False}})
    b = simulate(paid, runs=60, workers=1, horizon_months=24, seed=5)
    np.testing.assert_array_equal(a.trajectories, b.trajectories)
    fees = np.array([guarantee_fee_usd(a.scenario.arm(x).loan_usd()) for x in a.arms])
    assert (fees > 0).all()
    lost = np.broadcast_to(fees[:, None], a.outcomes["npv"].shape)
    np.testing.assert_allclose(a.outcomes["npv"] - b.outcomes["npv"], lost)


def test_floating_rate_first_month_interest_and_a_flat_prime_equals_fixed(
    variant: Variant,
) -> None:
    fixed = simulate(variant({}), runs=40, workers=1, horizon_months=24, seed=5)
    flat = {
        "financing.floating_rate": {
            "spread_over_prime_per_year": 0.1125 - 0.085,
            "reset_months": 1,
        },
        "prime_rate": {"volatility_per_year": 0.0, "reversion_per_year": 0.0},
    }
    same = simulate(variant(flat), runs=40, workers=1, horizon_months=24, seed=5)
    np.testing.assert_allclose(same.trajectories, fixed.trajectories, rtol=1e-9, atol=1e-6)
    moving = simulate(
        variant({"financing.floating_rate": {"spread_over_prime_per_year": 0.0275}}),
        runs=40,
        workers=1,
        horizon_months=24,
        seed=5,
    )
    interest = moving.series("interest")
    for i, arm in enumerate(moving.arms):
        loan = moving.scenario.arm(arm).loan_usd()
        np.testing.assert_allclose(interest[i, :, 0], loan * (0.085 + 0.0275) / 12)
    # The prime path moves, and both arms' rates move with the same path.
    rate = interest[..., 1:] / np.maximum(moving.series("loan_balance")[..., :-1], 1.0) * 12
    assert np.ptp(rate[0, :, -1]) > 0.005
    alive = (moving.series("alive")[..., -1] > 0.5).all(axis=0)
    np.testing.assert_allclose(rate[0, alive, -1], rate[1, alive, -1], atol=1e-9)


def test_terminal_value_capitalised_at_the_discount_rate(all_on: SimulationResults) -> None:
    survived = all_on.outcomes["survived"] > 0.5
    s = all_on.series
    trailing = s("operating_profit")[..., -12:].sum(axis=-1)
    multiple = 1.01 / (0.10 - 0.01)
    value = (
        s("cash")[..., -1]
        - s("loan_balance")[..., -1]
        + multiple * np.maximum(0.0, trailing - 12 * 4000.0)
    )
    np.testing.assert_allclose(all_on.outcomes["terminal_value"][survived], value[survived])
    closed = ~survived
    # Settled in the books: nothing is left to value (bar floating-point dust).
    np.testing.assert_allclose(all_on.outcomes["terminal_value"][closed], 0.0, atol=1e-6)


def test_the_review_front_loads_year_one_closures(variant: Variant) -> None:
    today = simulate(variant({}), runs=RUNS, workers=1, horizon_months=MONTHS, seed=3)
    review = simulate(
        variant({"owner.review": REVIEW}), runs=RUNS, workers=1, horizon_months=MONTHS, seed=3
    )

    def early_share(results: SimulationResults) -> float:
        m = results.outcomes["closed_month"]
        return float(np.sum(m <= 6) / np.sum(m <= 12))

    gave_up = today.closure_reasons == GAVE_UP
    assert (today.outcomes["closed_month"][gave_up] >= 12).all()  # the old window's floor
    early = (review.closure_reasons == GAVE_UP) & (review.outcomes["closed_month"] < 12)
    assert early.sum() > 0.05 * early.size
    assert early_share(review) > early_share(today) + 0.15


def test_the_review_against_an_outside_wage_closes_more_as_the_wage_rises(
    variant: Variant,
) -> None:
    def closures(wage: float) -> float:
        scenario = variant(
            {
                "owner.outside_wage_usd_per_month": wage,
                "owner.review": {
                    "benchmark": "outside_wage",
                    "opening_earnings_usd_per_month": -12_000,
                    "ramp_months": 5,
                    "give_up_shortfall_usd": 40_000,
                },
            }
        )
        res = simulate(scenario, runs=RUNS, workers=1, horizon_months=MONTHS, seed=3)
        return float(np.mean(res.closure_reasons == GAVE_UP))

    assert closures(7000) > closures(3000) + 0.05


def test_personal_exit_without_a_buyer_is_closed_not_sold(variant: Variant) -> None:
    # A multiple of zero beats no liquidation value: every personal exit closes instead.
    scenario = variant(
        {"owner.sale": {"multiple_of_earnings": 0}, "owner.personal_exit_rate_per_year": 0.3}
    )
    res = simulate(scenario, runs=60, workers=1, horizon_months=24, seed=5)
    assert (res.closure_reasons != SOLD).all()
    assert (res.closure_reasons == OWNER_EXIT).any()


def test_one_and_two_workers_agree_with_every_mechanism_on(variant: Variant) -> None:
    scenario = variant(ALL_ON)
    one = simulate(scenario, runs=24, workers=1, horizon_months=MONTHS, seed=9)
    two = simulate(scenario, runs=24, workers=2, horizon_months=MONTHS, seed=9)
    np.testing.assert_array_equal(one.trajectories, two.trajectories)
    np.testing.assert_array_equal(one.closure_reasons, two.closure_reasons)
    for name, values in one.outcomes.items():
        np.testing.assert_array_equal(values, two.outcomes[name], err_msg=name)


def test_switched_off_fields_give_todays_books(auto_repair: Scenario, variant: Variant) -> None:
    explicit = variant(
        {"owner.review": None, "owner.sale": None, "operations.closure": None, "prime_rate": None}
    )
    a = simulate(auto_repair, runs=30, workers=1, horizon_months=24, seed=5)
    b = simulate(explicit, runs=30, workers=1, horizon_months=24, seed=5)
    np.testing.assert_array_equal(a.trajectories, b.trajectories)
    for name, values in a.outcomes.items():
        np.testing.assert_array_equal(values, b.outcomes[name], err_msg=name)


# --- money inputs that may be uncertain ------------------------------------------------------


def test_uncertain_money_inputs_are_drawn_per_run_and_shared_by_arms(variant: Variant) -> None:
    scenario = variant(
        {
            "operations.other_fixed_usd_per_month": {"dist": "uniform", "low": 4000, "high": 5000},
            "financing.owner_equity_usd": {"dist": "uniform", "low": 40_000, "high": 70_000},
            "financing.loan_rate_per_year": {"dist": "uniform", "low": 0.10, "high": 0.12},
            "arms.franchise.franchise.royalty_rate": {"dist": "uniform", "low": 0.05, "high": 0.07},
            "investment.buildout_usd": {
                "dist": "triangular",
                "low": 50e3,
                "mode": 60e3,
                "high": 80e3,
            },
        }
    )
    res = simulate(scenario, runs=30, workers=1, horizon_months=6, seed=5)
    s = res.series
    other = s("other_fixed")[..., 0]
    assert np.ptp(other[0]) > 100  # varies between runs
    np.testing.assert_array_equal(other[0], other[1])  # the same draw in both arms
    independent = scenario.arm("independent")
    for r in range(30):
        draw = Draw(5, r)
        equity = draw(independent.financing.owner_equity_usd, "financing.owner_equity_usd")
        rate = draw(independent.financing.loan_rate_per_year, "financing.loan_rate_per_year")
        loan = independent.loan_usd(draw)
        assert loan == pytest.approx(independent.total_investment_usd(draw) - equity)
        assert s("interest")[0, r, 0] == pytest.approx(loan * rate / 12)
        assert res.outcomes["owner_money_in"][0, r] == pytest.approx(
            equity + s("owner_injection")[0, r].sum()
        )
        royalty = draw(
            scenario.arm("franchise").franchise.royalty_rate,  # type: ignore[union-attr]
            "franchise.royalty_rate",
        )
        np.testing.assert_allclose(s("royalty")[1, r], royalty * s("revenue")[1, r])
    assert np.ptp(s("royalty")[1, :, 0] / s("revenue")[1, :, 0]) > 0.005


def test_a_fixed_distribution_gives_the_same_books_as_the_number(
    auto_repair: Scenario, variant: Variant
) -> None:
    fixed = variant({"operations.rent_usd_per_month": {"dist": "fixed", "value": 5500}})
    a = simulate(auto_repair, runs=20, workers=1, horizon_months=12, seed=5)
    b = simulate(fixed, runs=20, workers=1, horizon_months=12, seed=5)
    np.testing.assert_array_equal(a.trajectories, b.trajectories)


def test_a_floating_spread_above_the_sba_cap_is_flagged(variant: Variant) -> None:
    from franchise_sim.scenario.schema import unusual_values

    wide = variant({"financing.floating_rate": {"spread_over_prime_per_year": 0.07}})
    notes = [n for n in unusual_values(wide) if "floating_rate" in n]
    assert len(notes) == 2  # both arms borrow 50-250k: a 6.00% cap
    assert "6.00%" in notes[0]
    assert not [n for n in unusual_values(variant({})) if "floating_rate" in n]


def test_terminal_value_rule_shows_the_implied_capitalisation_rate(
    auto_repair: Scenario, variant: Variant
) -> None:
    from franchise_sim.engine.outcomes import terminal_value_rule

    assert terminal_value_rule(auto_repair, "independent") == (
        "2x a year's operating profit (implied capitalisation rate 50% a year, against a 10% "
        "discount rate)"
    )
    capitalised = variant({"run.terminal_value": {"method": "capitalised"}})
    assert "10.0x (implied capitalisation rate 10.0%)" in terminal_value_rule(
        capitalised, "franchise"
    )


def test_a_capped_plan_expects_the_plan_but_never_more_than_the_wage() -> None:
    from franchise_sim.model.plan import capped_expectation

    assert capped_expectation((-9000.0, 2500.0, 7000.0, 4000.0), 4000.0) == (
        -9000.0,
        2500.0,
        4000.0,
        4000.0,
    )
    assert capped_expectation((), 4000.0) == ()


def _review_closures(variant: Variant, benchmark: str, changes: dict[str, Any]) -> np.ndarray:
    review = {**REVIEW, "benchmark": benchmark, "slack_usd_per_month": 1000}
    scenario = variant(
        {"owner.outside_wage_usd_per_month": 4000, "owner.review": review, **changes}
    )
    res = simulate(scenario, runs=RUNS, workers=1, horizon_months=MONTHS, seed=3)
    return np.asarray(res.closure_reasons == GAVE_UP)


def test_a_wage_above_the_plan_leaves_the_plan_review_unchanged(variant: Variant) -> None:
    high = {"owner.outside_wage_usd_per_month": 1e6}
    np.testing.assert_array_equal(
        _review_closures(variant, "plan_or_outside_wage", high),
        _review_closures(variant, "plan", high),
    )


def test_a_capped_plan_lets_a_more_profitable_business_survive_more(variant: Variant) -> None:
    # Against its own plan a business is judged only by how far it falls short of it, so lower
    # rent moves the plan with it; against a plan capped at the wage the cheaper one gives up less.
    cheap = {
        "operations.rent_usd_per_month": 500,
        "arms.franchise.operations.rent_usd_per_month": 500,
    }
    capped = _review_closures(variant, "plan_or_outside_wage", {})
    capped_cheap = _review_closures(variant, "plan_or_outside_wage", cheap)
    assert capped_cheap.mean() < capped.mean() - 0.03
    with pytest.raises(ValidationError, match="plan_or_outside_wage"):
        variant({"owner.review": {"benchmark": "plan_or_outside_wage", "give_up_shortfall_usd": 1}})


def test_a_scaled_review_gives_a_bigger_plan_proportionally_more_slack(variant: Variant) -> None:
    from franchise_sim.engine.batch import plans_on_paper
    from franchise_sim.model.plan import plan_replication

    review = {
        "benchmark": "plan",
        "slack_usd_per_month": 3000,
        "give_up_shortfall_usd": 20_000,
        "scaled_to_plan_sales_usd_per_month": 40_000,
    }
    scenario = variant({"owner.review": review})
    paper = plans_on_paper(scenario, 4, 6)  # shorter than a year: the plan still runs for one
    for _arm, planned in paper.items():
        assert len(planned.revenue_usd) == 12
        assert planned.first_year_sales_usd_per_month == pytest.approx(
            sum(planned.revenue_usd) / 12
        )
    plan = plan_replication(scenario, seed=4, replication=0, horizon_months=6, on_paper=paper)
    for unit in plan.units:
        assert unit.end is not None
        assert unit.end.review is not None
        scale = paper[unit.arm].first_year_sales_usd_per_month / 40_000
        assert unit.end.review.slack_usd_per_month == pytest.approx(3000 * scale)
        assert unit.end.review.give_up_shortfall_usd == pytest.approx(20_000 * scale)
    sizes = {arm: p.first_year_sales_usd_per_month for arm, p in paper.items()}
    assert sizes["franchise"] > sizes["independent"]  # the bigger format gets more slack
    with pytest.raises(ValidationError, match="needs a plan benchmark"):
        variant(
            {
                "owner.outside_wage_usd_per_month": 4000,
                "owner.review": {**review, "benchmark": "outside_wage"},
            }
        )
