"""The lender: disburses the start-up loan and collects a level monthly instalment."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from franchise_sim.business import Business
from franchise_sim.calendar import Calendar, Phase
from franchise_sim.money import loan_instalment, loan_payment


class Lender:
    """An amortising term loan (SBA 7(a) style): fixed payment, interest on the balance."""

    def __init__(self, env: simpy.Environment, calendar: Calendar, business: Business) -> None:
        plan = business.plan
        self.calendar = calendar
        self.business = business
        self.rate_per_year = plan.loan_rate_per_year
        self.payment_usd = (
            loan_payment(plan.loan_usd, plan.loan_rate_per_year, plan.loan_term_months)
            if plan.loan_usd > 0
            else 0.0
        )
        env.process(self.collect())

    def collect(self) -> Generator[simpy.Event, Any, None]:
        """Each month, collect the instalment until the loan is repaid or the business closes."""
        business = self.business
        while business.is_open and business.loan_balance > 0:
            yield self.calendar.next(Phase.SETTLE)
            due = loan_instalment(business.loan_balance, self.rate_per_year, self.payment_usd)
            business.pay_debt(due.interest_usd, due.principal_usd, due.balance_after_usd)
