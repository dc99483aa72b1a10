"""Money arithmetic: loan payments, fees, the monthly ledger and the owner's returns.

Small pure functions on plain floats, tested without SimPy. Amounts are US dollars; rates are
shares (0.06 is 6%); periods are months unless a name says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from franchise_sim.scenario.sba_rules import (
    SBA_GUARANTEE_FEE_ABOVE_1M,
    SBA_GUARANTEE_FEE_TIERS,
    sba_guaranteed_share,
    sba_tier,
)

FloatLike = float | ArrayLike
"""A float or an array of them."""
BoolLike = bool | ArrayLike
"""A bool or an array of them."""


HALF_CENT_USD = 0.005
"""Balances below this are settled: money is paid in cents."""


def monthly_rate(rate_per_year: float) -> float:
    """Nominal annual rate to the monthly rate a US term loan charges (``rate / 12``)."""
    return rate_per_year / 12.0


def loan_payment(principal_usd: float, rate_per_year: float, term_months: int) -> float:
    """Level monthly payment that fully amortises a loan (standard annuity formula).

    ``payment = P r / (1 - (1 + r)^-n)`` with ``r`` the monthly rate; ``P / n`` when ``r = 0``.

    Args:
        principal_usd: Amount borrowed.
        rate_per_year: Nominal annual interest rate.
        term_months: Number of monthly payments.

    Returns:
        The monthly payment in USD.
    """
    if term_months <= 0:
        raise ValueError("term_months must be positive")
    if principal_usd <= 0:
        return 0.0
    r = monthly_rate(rate_per_year)
    if r == 0:
        return principal_usd / term_months
    # 1 - (1 + r)^-n via expm1/log1p: exact for tiny r, where (1 + r) rounds to 1.0.
    return principal_usd * r / -math.expm1(-term_months * math.log1p(r))


@dataclass(frozen=True, slots=True)
class LoanInstalment:
    """One month's loan payment split into interest and principal."""

    interest_usd: float
    principal_usd: float
    balance_after_usd: float


def loan_instalment(balance_usd: float, rate_per_year: float, payment_usd: float) -> LoanInstalment:
    """Split a scheduled payment on an outstanding balance into interest and principal.

    The last payment is capped at what is still owed, so the balance never goes negative, and
    a remainder below half a cent (floating-point dust of the annuity formula) is paid off with
    it rather than left for a spurious extra instalment.
    """
    if balance_usd <= 0:
        return LoanInstalment(0.0, 0.0, 0.0)
    interest = balance_usd * monthly_rate(rate_per_year)
    principal = min(balance_usd, payment_usd - interest)
    if balance_usd - principal < HALF_CENT_USD:
        principal = balance_usd
    return LoanInstalment(interest, principal, balance_usd - principal)


def share_of_sales(revenue_usd: float, rate: float) -> float:
    """A fee charged as a share of gross sales (royalty, ad fund)."""
    return revenue_usd * rate


def local_marketing_usd(planned_usd: float, revenue_usd: float, minimum_rate: float) -> float:
    """Local marketing spend: the owner's plan, raised to a contractual share of sales if higher."""
    return max(planned_usd, revenue_usd * minimum_rate)


def owner_draw_usd(
    cash_usd: float, target_usd: float, cash_floor_usd: float, cash_ceiling_usd: float
) -> float:
    """What the owner takes home this month.

    The target draw, as far as cash above the floor allows, plus whatever cash would still
    stand above the ceiling afterwards (profits are paid out rather than hoarded).
    """
    draw = min(target_usd, max(0.0, cash_usd - cash_floor_usd))
    return draw + max(0.0, cash_usd - draw - max(cash_ceiling_usd, cash_floor_usd))


def owner_injection_usd(cash_usd: float, reserve_left_usd: float) -> float:
    """Personal savings the owner puts in to bring a negative cash balance back to zero."""
    return min(reserve_left_usd, max(0.0, -cash_usd))


@dataclass(frozen=True, slots=True)
class MonthLedger:
    """A month's books for one business, from sales to the change in cash.

    ``operating_profit = revenue - operating costs`` (fees included; debt service and the
    owner's draw excluded). ``cash_flow = operating_profit - interest - principal + injection -
    draw + asset_sale - closure_costs``, which is exactly the change in the cash balance. The
    last two are zero except in a closing month settled in the books: what selling the
    business or its assets brings in, and what the lease and the wind-down cost.
    """

    revenue_usd: float
    operating_costs_usd: float
    interest_usd: float
    principal_usd: float
    owner_injection_usd: float
    owner_draw_usd: float
    asset_sale_usd: float = 0.0
    closure_costs_usd: float = 0.0

    @property
    def operating_profit_usd(self) -> float:
        """Sales less operating costs and franchise fees."""
        return self.revenue_usd - self.operating_costs_usd

    @property
    def cash_flow_before_owner_usd(self) -> float:
        """Operating profit less debt service: what the business itself generates."""
        return self.operating_profit_usd - self.interest_usd - self.principal_usd

    @property
    def cash_flow_usd(self) -> float:
        """The change in the business's cash balance this month."""
        return (
            self.cash_flow_before_owner_usd
            + self.owner_injection_usd
            - self.owner_draw_usd
            + self.asset_sale_usd
            - self.closure_costs_usd
        )


def monthly_discount_factor(discount_rate_per_year: float) -> float:
    """One month's discount factor for an effective annual rate."""
    return float((1.0 + discount_rate_per_year) ** (-1.0 / 12.0))


def npv(cash_flows_usd: Sequence[float], discount_rate_per_year: float) -> float:
    """Net present value of monthly cash flows, the first at month 0 (undiscounted)."""
    factor = monthly_discount_factor(discount_rate_per_year)
    return float(sum(cf * factor**m for m, cf in enumerate(cash_flows_usd)))


def terminal_value_usd(
    cash_usd: FloatLike,
    loan_balance_usd: FloatLike,
    trailing_year_profit_usd: FloatLike,
    valuation_multiple: float,
    *,
    alive: BoolLike,
    liquidation_value_usd: FloatLike,
    personal_guarantee: bool,
) -> NDArray[np.float64]:
    """What the owner walks away with at the horizon or at closure (element-wise).

    A going business is worth its cash less its debt plus a multiple of the last twelve months'
    operating profit (never below zero profit). A closed one is liquidated: cash plus what the
    equipment and stock fetch, less the debt; with a personal guarantee the owner covers any
    shortfall, without one the loss stops at zero.
    """
    cash = np.asarray(cash_usd, dtype=float)
    debt = np.asarray(loan_balance_usd, dtype=float)
    going = cash - debt + valuation_multiple * np.maximum(0.0, trailing_year_profit_usd)
    liquidated = cash + liquidation_value_usd - debt
    if not personal_guarantee:
        liquidated = np.maximum(0.0, liquidated)
    return np.asarray(np.where(alive, going, liquidated), dtype=float)


# --- Closing, selling and valuing the business ---------------------------------------------------


def lease_settlement_usd(
    rent_usd_per_month: float,
    months_open: int,
    lease_months: int | None,
    break_fee_usd: float | None,
) -> float:
    """What closing costs under the lease: the rent still owed on the current term, or a fee.

    The lease runs from opening for ``lease_months`` and renews for as long again at each end,
    so after ``months_open`` months ``(-months_open) mod lease_months`` months of rent are still
    owed (none when a term has just ended). A stated break fee caps that: the tenant pays the
    smaller. With only a break fee, the fee is owed; with neither, nothing.

    Args:
        rent_usd_per_month: The rent.
        months_open: Months traded, the closing month included.
        lease_months: Length of each lease term, or None.
        break_fee_usd: Fee that ends the lease early, or None.

    Returns:
        The settlement in USD.
    """
    if lease_months is None:
        return break_fee_usd or 0.0
    owed = rent_usd_per_month * ((-months_open) % lease_months)
    return owed if break_fee_usd is None else min(owed, break_fee_usd)


def annual_earnings_usd(monthly_profit_usd: Sequence[float]) -> float:
    """The yearly run rate of the last twelve months' operating profit (fewer if younger).

    ``sum(last 12) * 12 / len(last 12)``: a business open five months is valued on its five
    months scaled to a year. Zero for no months.
    """
    last = list(monthly_profit_usd)[-12:]
    return sum(last) * 12.0 / len(last) if last else 0.0


@dataclass(frozen=True, slots=True)
class SalePrice:
    """A going business sold: what a buyer pays and what selling it costs."""

    price_usd: float
    costs_usd: float

    @property
    def proceeds_usd(self) -> float:
        """What the seller receives: the price less the costs."""
        return self.price_usd - self.costs_usd


def sale_price(
    annual_earnings_usd: float,
    multiple_of_earnings: float,
    broker_fee_rate: float,
    other_costs_usd: float,
) -> SalePrice:
    """A business sold as a going concern at a multiple of its yearly earnings, less costs.

    ``price = multiple * max(0, earnings)``; ``costs = broker_fee_rate * price + other costs``
    (the franchisor's transfer fee, legal fees).
    """
    price = multiple_of_earnings * max(0.0, annual_earnings_usd)
    return SalePrice(price, broker_fee_rate * price + other_costs_usd)


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a closing business's books are squared in its last month.

    Attributes:
        principal_usd: Loan principal repaid out of the business's cash.
        guarantee_call_usd: Personal money the owner pays in to settle what the business
            cannot (the personal guarantee called).
        distribution_usd: Cash left over, paid out to the owner.
        unpaid_debt_usd: Loan balance left unpaid (no personal guarantee): the lender's loss.
    """

    principal_usd: float
    guarantee_call_usd: float
    distribution_usd: float
    unpaid_debt_usd: float


def settle(cash_usd: float, loan_balance_usd: float, *, personal_guarantee: bool) -> Settlement:
    """Pay off the loan from the cash a closing business holds, and hand the owner the rest.

    ``cash_usd`` is the cash once the month's trading, any sale or liquidation proceeds and
    the closing costs are booked. With a personal guarantee the owner pays in whatever the
    business cannot pay (a negative cash balance and the loan), so the business ends at zero
    cash and no debt. Without one, the business pays what its cash allows and the lender and
    other creditors bear the rest; the owner never pays in.
    """
    balance = max(0.0, loan_balance_usd)
    if personal_guarantee:
        call = max(0.0, balance - cash_usd)
        return Settlement(balance, call, max(0.0, cash_usd - balance), 0.0)
    paid = min(balance, max(0.0, cash_usd))
    return Settlement(paid, 0.0, max(0.0, cash_usd - balance), balance - paid)


def capitalised_value_usd(
    annual_earnings_usd: FloatLike, discount_rate_per_year: float, growth_rate_per_year: float
) -> NDArray[np.float64]:
    """Going-concern value of earnings growing at ``g`` discounted at ``r`` (Gordon growth).

    ``value = E (1 + g) / (r - g)``, with next year's earnings ``E (1 + g)`` and never below
    zero earnings; the implied multiple of this year's earnings is ``(1 + g) / (r - g)``.

    Raises:
        ValueError: ``g >= r``: the value would be infinite.
    """
    if growth_rate_per_year >= discount_rate_per_year:
        raise ValueError("the growth rate must be below the discount rate")
    earnings = np.maximum(0.0, np.asarray(annual_earnings_usd, dtype=float))
    return np.asarray(
        earnings * (1.0 + growth_rate_per_year) / (discount_rate_per_year - growth_rate_per_year),
        dtype=float,
    )


def implied_capitalisation_rate(multiple_of_earnings: float) -> float:
    """The yearly return a buyer earns paying ``multiple`` times earnings: ``1 / multiple``."""
    return math.inf if multiple_of_earnings <= 0 else 1.0 / multiple_of_earnings


def outside_wage_present_value_usd(
    wage_usd_per_month: FloatLike, months: FloatLike, discount_rate_per_year: float
) -> NDArray[np.float64]:
    """Present value of a wage forgone in months ``1..months`` (element-wise).

    ``w * sum_{m=1}^{n} f^m = w f (1 - f^n) / (1 - f)`` with ``f`` the monthly discount factor
    (``w n`` at a zero rate).
    """
    f = monthly_discount_factor(discount_rate_per_year)
    n = np.asarray(months, dtype=float)
    w = np.asarray(wage_usd_per_month, dtype=float)
    annuity = n if f == 1.0 else f * (1.0 - f**n) / (1.0 - f)
    return np.asarray(w * annuity, dtype=float)


# --- The loan: variable rates and the SBA guarantee fee ------------------------------------------


def guarantee_fee_usd(
    loan_usd: float, guaranteed_share: float | None = None, fee_rate: float | None = None
) -> float:
    """Up-front SBA guarantee fee: a rate on the guaranteed portion of the loan.

    Args:
        loan_usd: The loan before the fee.
        guaranteed_share: Share guaranteed; the SBA's 85% / 75% by size if None.
        fee_rate: Fee rate on the guaranteed portion; the SBA's tiers by size if None (with
            3.75% on a guaranteed portion beyond 1M USD).

    Returns:
        The fee in USD.
    """
    if loan_usd <= 0:
        return 0.0
    share = sba_guaranteed_share(loan_usd) if guaranteed_share is None else guaranteed_share
    guaranteed = share * loan_usd
    if fee_rate is not None:
        return fee_rate * guaranteed
    rate = sba_tier(loan_usd, SBA_GUARANTEE_FEE_TIERS)
    if rate == SBA_GUARANTEE_FEE_TIERS[-1][1] and guaranteed > 1e6:
        return rate * 1e6 + SBA_GUARANTEE_FEE_ABOVE_1M * (guaranteed - 1e6)
    return rate * guaranteed


def prime_rate_path(
    start_per_year: float,
    long_run_per_year: float,
    reversion_per_year: float,
    volatility_per_year: float,
    floor_per_year: float,
    cap_per_year: float,
    normals: Sequence[float],
) -> list[float]:
    """Monthly prime rates: a mean-reverting random walk from ``start``, kept in [floor, cap].

    Month 1 has ``start``; each later month ``p_t = clip(p_{t-1} + k (mu - p_{t-1}) / 12 +
    s z_t / sqrt(12))`` with ``z_t`` the given standard normals, one per month after the first
    (zeros give the expected path, the plan on paper).
    """
    p = start_per_year
    rates = [p]
    step = volatility_per_year / math.sqrt(12.0)
    for z in normals:
        p += reversion_per_year * (long_run_per_year - p) / 12.0 + step * z
        p = min(cap_per_year, max(floor_per_year, p))
        rates.append(p)
    return rates


def floating_rate_schedule(
    principal_usd: float,
    spread_per_year: float,
    term_months: int,
    reset_months: int,
    prime_per_year: Sequence[float],
) -> list[tuple[float, LoanInstalment]]:
    """The instalments of a variable-rate loan at a given path of the prime rate.

    The rate is prime plus the spread, set in month 1 and reset every ``reset_months``
    months at that month's prime; at each reset the payment is re-amortised over the months
    left, ``loan_payment(balance, rate, term - payments made)``, so the loan is still repaid
    in ``term_months``. Between resets the payment stays level.

    Args:
        principal_usd: Amount borrowed.
        spread_per_year: Margin over prime.
        term_months: Number of monthly payments.
        reset_months: Months between rate resets (1 monthly, 3 quarterly).
        prime_per_year: Prime rate in each month, from month 1 (at least ``term_months`` of
            them, or as many months as are wanted).

    Returns:
        Per month, the rate charged and the instalment, until the loan is repaid or the path
        ends.
    """
    schedule: list[tuple[float, LoanInstalment]] = []
    balance, rate, payment = principal_usd, 0.0, 0.0
    for month, prime in enumerate(prime_per_year[:term_months], start=1):
        if balance <= 0:
            break
        if (month - 1) % reset_months == 0:
            rate = prime + spread_per_year
            payment = loan_payment(balance, rate, term_months - month + 1)
        due = loan_instalment(balance, rate, payment)
        schedule.append((rate, due))
        balance = due.balance_after_usd
    return schedule
