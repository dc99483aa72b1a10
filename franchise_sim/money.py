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
    draw``, which is exactly the change in the cash balance.
    """

    revenue_usd: float
    operating_costs_usd: float
    interest_usd: float
    principal_usd: float
    owner_injection_usd: float
    owner_draw_usd: float

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
        return self.cash_flow_before_owner_usd + self.owner_injection_usd - self.owner_draw_usd


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
    liquidation_value_usd: float,
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
