"""Unit tests for franchise_sim.model.money: loans, fees, owner cash moves, ledger and returns."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from franchise_sim.model.money import (
    HALF_CENT_USD,
    LoanInstalment,
    MonthLedger,
    loan_instalment,
    loan_payment,
    local_marketing_usd,
    monthly_discount_factor,
    monthly_rate,
    npv,
    owner_draw_usd,
    owner_injection_usd,
    share_of_sales,
    terminal_value_usd,
)

principals = st.floats(min_value=1_000.0, max_value=5_000_000.0)
rates = st.floats(min_value=0.0, max_value=0.30)
terms = st.integers(min_value=1, max_value=360)
amounts = st.floats(min_value=-1e7, max_value=1e7)
non_negative = st.floats(min_value=0.0, max_value=1e7)


# --- loans -------------------------------------------------------------------------------------


def test_monthly_rate_is_nominal_rate_over_twelve() -> None:
    assert monthly_rate(0.06) == pytest.approx(0.005, rel=1e-15)
    assert monthly_rate(0.0) == 0.0
    assert monthly_rate(0.12) == pytest.approx(0.01, rel=1e-15)


@pytest.mark.parametrize(
    ("principal", "rate", "term", "expected"),
    [
        # r = 0.005, (1.005)^120 = 1.8193967340..., 500 / (1 - 1/1.8193967...) = 1110.2050194...
        (100_000.0, 0.06, 120, 1110.2050194164947),
        # Textbook 30-year mortgage payments at 6%.
        (300_000.0, 0.06, 360, 1798.6515754582708),
        (100_000.0, 0.06, 360, 599.5505251527569),
        # r = 0.01 over 12 months: 1000 * 0.01 / (1 - 1.01^-12) = 88.84878867834...
        (1_000.0, 0.12, 12, 88.84878867834166),
        # One payment repays principal plus one month of interest.
        (10_000.0, 0.12, 1, 10_100.0),
    ],
)
def test_loan_payment_hand_computed(
    principal: float, rate: float, term: int, expected: float
) -> None:
    assert loan_payment(principal, rate, term) == pytest.approx(expected, rel=1e-12)


def test_loan_payment_zero_rate_is_principal_over_term() -> None:
    assert loan_payment(120_000.0, 0.0, 120) == 1_000.0
    assert loan_payment(1_000.0, 0.0, 3) == pytest.approx(1_000.0 / 3, rel=1e-15)


@pytest.mark.parametrize("rate", [1e-20, 1e-300, 5e-324])
def test_loan_payment_tiny_rate_tends_to_principal_over_term(rate: float) -> None:
    # (1 + r) rounds to 1.0 here: the payment must still be finite and equal P / n.
    assert loan_payment(1_200.0, rate, 12) == pytest.approx(100.0, rel=1e-14)


def test_loan_payment_no_principal_means_no_payment() -> None:
    assert loan_payment(0.0, 0.06, 120) == 0.0
    assert loan_payment(-5_000.0, 0.06, 120) == 0.0


@pytest.mark.parametrize("term", [0, -12])
def test_loan_payment_rejects_non_positive_term(term: int) -> None:
    with pytest.raises(ValueError, match="term_months"):
        loan_payment(100_000.0, 0.06, term)


@settings(max_examples=150, deadline=None)
@given(principal=principals, rate=rates, term=terms)
def test_loan_payment_matches_high_precision_annuity_formula(
    principal: float, rate: float, term: int
) -> None:
    with localcontext() as ctx:
        ctx.prec = 60
        p = Decimal(principal)
        r = Decimal(rate) / 12
        if r == 0:
            exact = p / term
        else:
            # P r (1+r)^n / ((1+r)^n - 1), the denominator expanded binomially (no cancellation).
            growth = sum((math.comb(term, k) * r**k for k in range(1, term + 1)), Decimal(0))
            exact = p * r * (1 + r) ** term / growth
    assert loan_payment(principal, rate, term) == pytest.approx(float(exact), rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(principal=principals, rate=rates, term=terms)
def test_present_value_of_payments_is_principal(principal: float, rate: float, term: int) -> None:
    payment = loan_payment(principal, rate, term)
    r = rate / 12
    pv = sum(payment / (1 + r) ** k for k in range(1, term + 1))
    assert pv == pytest.approx(principal, rel=1e-10)


@settings(max_examples=120, deadline=None)
@given(principal=principals, rate=rates, term=terms)
def test_schedule_repays_principal_in_term(principal: float, rate: float, term: int) -> None:
    payment = loan_payment(principal, rate, term)
    balance = principal
    interest_paid = 0.0
    principal_paid = 0.0
    for _ in range(term):
        due = loan_instalment(balance, rate, payment)
        assert due.interest_usd == pytest.approx(balance * rate / 12, rel=1e-15)
        # The last instalment also settles any sub-cent remainder.
        assert due.interest_usd + due.principal_usd <= payment * (1 + 1e-12) + HALF_CENT_USD
        assert due.balance_after_usd == balance - due.principal_usd
        assert 0.0 <= due.balance_after_usd <= balance
        balance = due.balance_after_usd
        interest_paid += due.interest_usd
        principal_paid += due.principal_usd
    # Paid off after exactly `term` payments, up to floating-point rounding of the payment.
    assert balance == pytest.approx(0.0, abs=1e-9 * principal)
    assert principal_paid + balance == pytest.approx(principal, rel=1e-12)
    assert interest_paid == pytest.approx(term * payment - principal, abs=1e-9 * term * payment)
    # Any rounding residue is cleared, never overshot, by one capped payment.
    last = loan_instalment(balance, rate, payment)
    assert last.balance_after_usd == 0.0
    assert last.principal_usd == balance


def test_schedule_hand_case() -> None:
    # 1,000 at 12%/yr over 2 months: r = 1%, payment = 1000 * 0.01 / (1 - 1.01^-2) = 507.5124378...
    payment = loan_payment(1_000.0, 0.12, 2)
    assert payment == pytest.approx(1_000.0 * 1.01**2 * 0.01 / (1.01**2 - 1), rel=1e-14)
    first = loan_instalment(1_000.0, 0.12, payment)
    assert first.interest_usd == pytest.approx(10.0, rel=1e-14)
    assert first.principal_usd == pytest.approx(payment - 10.0, rel=1e-14)
    second = loan_instalment(first.balance_after_usd, 0.12, payment)
    assert second.interest_usd == pytest.approx(0.01 * first.balance_after_usd, rel=1e-14)
    assert second.balance_after_usd == pytest.approx(0.0, abs=1e-9)
    assert first.interest_usd + second.interest_usd == pytest.approx(2 * payment - 1_000.0)


def test_instalment_caps_last_payment_at_balance() -> None:
    due = loan_instalment(100.0, 0.12, 500.0)
    assert due == LoanInstalment(interest_usd=1.0, principal_usd=100.0, balance_after_usd=0.0)


@pytest.mark.parametrize("balance", [0.0, -10.0])
def test_instalment_on_repaid_loan_is_zero(balance: float) -> None:
    assert loan_instalment(balance, 0.06, 1_000.0) == LoanInstalment(0.0, 0.0, 0.0)


def test_zero_rate_schedule_is_level_principal() -> None:
    payment = loan_payment(1_200.0, 0.0, 12)
    balance = 1_200.0
    for month in range(1, 13):
        due = loan_instalment(balance, 0.0, payment)
        assert due.interest_usd == 0.0
        assert due.principal_usd == 100.0
        balance = due.balance_after_usd
        assert balance == 1_200.0 - 100.0 * month


# --- fees --------------------------------------------------------------------------------------


def test_share_of_sales_hand_cases() -> None:
    assert share_of_sales(10_000.0, 0.0625) == 625.0
    assert share_of_sales(20_000.0, 0.06) == pytest.approx(1_200.0, rel=1e-15)
    assert share_of_sales(0.0, 0.08) == 0.0
    assert share_of_sales(50_000.0, 0.0) == 0.0


@settings(max_examples=100, deadline=None)
@given(revenue=non_negative, rate=st.floats(min_value=0.0, max_value=1.0))
def test_share_of_sales_is_linear(revenue: float, rate: float) -> None:
    assert share_of_sales(revenue, rate) == revenue * rate
    assert share_of_sales(2 * revenue, rate) == pytest.approx(2 * share_of_sales(revenue, rate))


def test_local_marketing_hand_cases() -> None:
    # 2% of 20,000 is 400: the plan of 500 stands.
    assert local_marketing_usd(500.0, 20_000.0, 0.02) == 500.0
    # 2% of 40,000 is 800: the contract raises the spend.
    assert local_marketing_usd(500.0, 40_000.0, 0.02) == pytest.approx(800.0, rel=1e-15)
    assert local_marketing_usd(500.0, 0.0, 0.02) == 500.0
    assert local_marketing_usd(0.0, 10_000.0, 0.25) == 2_500.0


@settings(max_examples=100, deadline=None)
@given(planned=non_negative, revenue=non_negative, rate=st.floats(min_value=0.0, max_value=0.2))
def test_local_marketing_is_the_larger_of_plan_and_contract(
    planned: float, revenue: float, rate: float
) -> None:
    spend = local_marketing_usd(planned, revenue, rate)
    assert spend >= planned
    assert spend >= revenue * rate
    assert spend in (planned, revenue * rate)


# --- owner cash moves -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cash", "target", "floor", "ceiling", "expected"),
    [
        (10_000.0, 3_000.0, 2_000.0, 50_000.0, 3_000.0),  # plenty of cash: the target
        (4_000.0, 3_000.0, 2_000.0, 50_000.0, 2_000.0),  # only what stands above the floor
        (2_000.0, 3_000.0, 2_000.0, 50_000.0, 0.0),  # at the floor: nothing
        (1_000.0, 3_000.0, 2_000.0, 50_000.0, 0.0),  # below the floor: nothing
        (-5_000.0, 3_000.0, 2_000.0, 50_000.0, 0.0),  # overdrawn: nothing
        (60_000.0, 3_000.0, 2_000.0, 50_000.0, 10_000.0),  # target + 7,000 swept above ceiling
        (60_000.0, 0.0, 2_000.0, 50_000.0, 10_000.0),  # no target: only the sweep
        (10_000.0, 1_000.0, 5_000.0, 3_000.0, 5_000.0),  # ceiling below floor acts as the floor
        (10_000.0, 3_000.0, 0.0, 0.0, 10_000.0),  # no floor, no ceiling: everything
    ],
)
def test_owner_draw_hand_cases(
    cash: float, target: float, floor: float, ceiling: float, expected: float
) -> None:
    assert owner_draw_usd(cash, target, floor, ceiling) == expected


@settings(max_examples=300, deadline=None)
@given(cash=amounts, target=non_negative, floor=non_negative, ceiling=non_negative)
def test_owner_draw_invariants(cash: float, target: float, floor: float, ceiling: float) -> None:
    draw = owner_draw_usd(cash, target, floor, ceiling)
    left = cash - draw
    tol = 1e-9 * max(1.0, abs(cash), target, floor, ceiling)
    assert draw >= 0.0
    # Never takes cash below the floor; when already at or below it, takes nothing.
    if cash <= floor:
        assert draw == 0.0
    else:
        assert left >= floor - tol
    # The target is honoured as far as cash above the floor allows.
    assert draw >= min(target, max(0.0, cash - floor)) - tol
    # Nothing is left above the ceiling (or the floor, if the ceiling is below it).
    assert left <= max(ceiling, floor) + tol
    # Below the ceiling the owner takes exactly the (affordable) target, nothing more.
    if cash - min(target, max(0.0, cash - floor)) <= max(ceiling, floor):
        assert draw == min(target, max(0.0, cash - floor))


@settings(max_examples=100, deadline=None)
@given(
    cash=st.floats(min_value=0.0, max_value=1e6),
    floor=st.floats(min_value=0.0, max_value=1e5),
    extra=st.floats(min_value=0.0, max_value=1e6),
)
def test_owner_draw_is_monotone_in_cash(cash: float, floor: float, extra: float) -> None:
    ceiling = floor + 50_000.0
    assert owner_draw_usd(cash + extra, 3_000.0, floor, ceiling) >= owner_draw_usd(
        cash, 3_000.0, floor, ceiling
    )


@pytest.mark.parametrize(
    ("cash", "reserve", "expected"),
    [
        (-5_000.0, 20_000.0, 5_000.0),  # the reserve covers the hole
        (-5_000.0, 3_000.0, 3_000.0),  # only what is left of the reserve
        (-5_000.0, 0.0, 0.0),  # savings exhausted
        (0.0, 20_000.0, 0.0),  # nothing to cover
        (100.0, 20_000.0, 0.0),
    ],
)
def test_owner_injection_hand_cases(cash: float, reserve: float, expected: float) -> None:
    assert owner_injection_usd(cash, reserve) == expected


@settings(max_examples=200, deadline=None)
@given(cash=amounts, reserve=non_negative)
def test_owner_injection_invariants(cash: float, reserve: float) -> None:
    injection = owner_injection_usd(cash, reserve)
    assert 0.0 <= injection <= reserve
    assert cash + injection <= max(cash, 0.0)  # never lifts cash above zero
    if cash >= 0.0:
        assert injection == 0.0
    elif reserve >= -cash:
        assert cash + injection == 0.0  # exactly back to zero
    else:
        assert injection == reserve  # everything that is left


# --- the monthly ledger -----------------------------------------------------------------------


def test_month_ledger_hand_case() -> None:
    ledger = MonthLedger(
        revenue_usd=30_000.0,
        operating_costs_usd=22_000.0,
        interest_usd=500.0,
        principal_usd=700.0,
        owner_injection_usd=0.0,
        owner_draw_usd=4_000.0,
    )
    assert ledger.operating_profit_usd == 8_000.0
    assert ledger.cash_flow_before_owner_usd == 6_800.0
    assert ledger.cash_flow_usd == 2_800.0

    rescued = MonthLedger(10_000.0, 18_000.0, 400.0, 600.0, 9_000.0, 0.0)
    assert rescued.operating_profit_usd == -8_000.0
    assert rescued.cash_flow_before_owner_usd == -9_000.0
    assert rescued.cash_flow_usd == 0.0


@settings(max_examples=200, deadline=None)
@given(
    revenue=non_negative,
    costs=non_negative,
    interest=non_negative,
    principal=non_negative,
    injection=non_negative,
    draw=non_negative,
    opening_cash=amounts,
)
def test_month_ledger_identities(
    revenue: float,
    costs: float,
    interest: float,
    principal: float,
    injection: float,
    draw: float,
    opening_cash: float,
) -> None:
    ledger = MonthLedger(revenue, costs, interest, principal, injection, draw)
    tol = 1e-9 * max(1.0, revenue, costs, interest, principal, injection, draw)
    assert ledger.operating_profit_usd == revenue - costs
    assert ledger.cash_flow_before_owner_usd == pytest.approx(
        revenue - costs - interest - principal, abs=tol
    )
    assert ledger.cash_flow_usd == pytest.approx(
        revenue - costs - interest - principal + injection - draw, abs=tol
    )
    # Moving cash item by item lands on the same closing balance.
    cash = opening_cash + revenue - costs - interest - principal + injection - draw
    assert opening_cash + ledger.cash_flow_usd == pytest.approx(
        cash, abs=tol + 1e-9 * abs(opening_cash)
    )


# --- discounting and milestones ---------------------------------------------------------------


def test_monthly_discount_factor_compounds_to_annual_rate() -> None:
    assert monthly_discount_factor(0.10) ** 12 == pytest.approx(1 / 1.10, rel=1e-14)
    assert monthly_discount_factor(0.0) == 1.0
    assert monthly_discount_factor(0.10) == pytest.approx(0.992088943446991, rel=1e-14)


def test_npv_hand_computed() -> None:
    # d = 1.1^(-1/12) = 0.9920889434...: -1000 + 500 d + 600 d^2 = 86.5887547...
    assert npv([-1_000.0, 500.0, 600.0], 0.10) == pytest.approx(86.58875474935564, rel=1e-12)
    assert npv([-1_000.0, 500.0, 600.0], 0.0) == 100.0
    assert npv([], 0.10) == 0.0
    assert npv([250.0], 0.10) == 250.0  # month 0 is not discounted


def test_npv_discounts_with_an_effective_annual_rate() -> None:
    one_year = [0.0] * 12 + [1_100.0]
    two_years = [0.0] * 24 + [1_210.0]
    assert npv(one_year, 0.10) == pytest.approx(1_000.0, rel=1e-13)
    assert npv(two_years, 0.10) == pytest.approx(1_000.0, rel=1e-13)


@settings(max_examples=100, deadline=None)
@given(
    payment=st.floats(min_value=-1e5, max_value=1e5),
    months=st.integers(min_value=1, max_value=240),
    rate=st.floats(min_value=0.001, max_value=0.5),
)
def test_npv_of_level_flows_is_annuity_due(payment: float, months: int, rate: float) -> None:
    d = (1 + rate) ** (-1 / 12)
    closed_form = payment * (1 - d**months) / (1 - d)
    assert npv([payment] * months, rate) == pytest.approx(closed_form, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    a=st.lists(st.floats(min_value=-1e5, max_value=1e5), min_size=1, max_size=30),
    rate=st.floats(min_value=0.0, max_value=0.5),
)
def test_npv_is_linear_and_matches_definition(a: list[float], rate: float) -> None:
    d = (1 + rate) ** (-1 / 12)
    expected = sum(cf * d**m for m, cf in enumerate(a))
    assert npv(a, rate) == pytest.approx(expected, rel=1e-12, abs=1e-6)
    doubled = [2 * x for x in a]
    assert npv(doubled, rate) == pytest.approx(2 * npv(a, rate), rel=1e-12, abs=1e-6)


# --- terminal value ---------------------------------------------------------------------------


def _tv(
    cash: float | list[float],
    debt: float | list[float],
    profit: float | list[float],
    *,
    alive: bool | list[bool],
    guarantee: bool,
) -> NDArray[np.float64]:
    return terminal_value_usd(
        cash,
        debt,
        profit,
        2.5,
        alive=alive,
        liquidation_value_usd=20_000.0,
        personal_guarantee=guarantee,
    )


@pytest.mark.parametrize("guarantee", [True, False])
def test_terminal_value_of_going_business(guarantee: bool) -> None:
    # 50k cash - 100k debt + 2.5 x 40k profit.
    assert float(_tv(50_000.0, 100_000.0, 40_000.0, alive=True, guarantee=guarantee)) == 50_000.0
    # A loss-making year counts as zero profit, and the value is not floored at zero.
    assert float(_tv(5_000.0, 30_000.0, -10_000.0, alive=True, guarantee=guarantee)) == -25_000.0


def test_terminal_value_of_liquidated_business() -> None:
    # 5k cash + 20k liquidation - 100k debt = -75k, owed by the owner under a guarantee.
    assert float(_tv(5_000.0, 100_000.0, 40_000.0, alive=False, guarantee=True)) == -75_000.0
    assert float(_tv(5_000.0, 100_000.0, 40_000.0, alive=False, guarantee=False)) == 0.0
    # Positive proceeds are kept either way; profit plays no part once closed.
    for guarantee in (True, False):
        value = _tv(30_000.0, 10_000.0, 99_000.0, alive=False, guarantee=guarantee)
        assert float(value) == 40_000.0


def test_terminal_value_is_element_wise() -> None:
    cash = [50_000.0, 5_000.0, 5_000.0, 30_000.0]
    debt = [100_000.0, 100_000.0, 30_000.0, 10_000.0]
    profit = [40_000.0, 40_000.0, -10_000.0, 99_000.0]
    alive = [True, False, True, False]
    with_pg = _tv(cash, debt, profit, alive=alive, guarantee=True)
    without_pg = _tv(cash, debt, profit, alive=alive, guarantee=False)
    assert with_pg.dtype == np.float64
    assert with_pg.shape == (4,)
    np.testing.assert_array_equal(with_pg, [50_000.0, -75_000.0, -25_000.0, 40_000.0])
    np.testing.assert_array_equal(without_pg, [50_000.0, 0.0, -25_000.0, 40_000.0])


def test_terminal_value_broadcasts_scalar_alive_flag() -> None:
    cash = np.array([10_000.0, 0.0])
    debt = np.array([0.0, 50_000.0])
    profit = np.array([1_000.0, 2_000.0])
    value = terminal_value_usd(
        cash, debt, profit, 3.0, alive=False, liquidation_value_usd=5_000.0, personal_guarantee=True
    )
    np.testing.assert_array_equal(value, [15_000.0, -45_000.0])
    value = terminal_value_usd(
        cash, debt, profit, 3.0, alive=True, liquidation_value_usd=5_000.0, personal_guarantee=True
    )
    np.testing.assert_array_equal(value, [13_000.0, -44_000.0])


def test_schedule_ends_in_exactly_n_payments_with_nothing_left() -> None:
    for principal, rate, term in (
        (123_456.78, 0.1125, 120),
        (80_000.0, 0.12, 60),
        (5e5, 0.07, 300),
    ):
        payment = loan_payment(principal, rate, term)
        balance, payments = principal, 0
        while balance > 0:
            balance = loan_instalment(balance, rate, payment).balance_after_usd
            payments += 1
        assert payments == term
        assert balance == 0.0
