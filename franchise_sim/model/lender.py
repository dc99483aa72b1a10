"""The lender: disburses the start-up loan and collects a monthly instalment."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import simpy

from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.money import floating_rate_schedule, loan_instalment, loan_payment


class Lender:
    """An amortising term loan (SBA 7(a) style): interest on the balance, level payments.

    At a fixed rate the payment is level for the whole term. At a floating rate (prime plus a
    spread) the rate is reset every few months at the prime rate of the replication's path,
    shared by every arm, and the payment re-amortised over the months left.
    """

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        prime_per_year: Sequence[float] = (),
    ) -> None:
        plan = business.plan
        self.calendar = calendar
        self.business = business
        self.rate_per_year = plan.loan_rate_per_year
        self.payment_usd = (
            loan_payment(plan.loan_usd, plan.loan_rate_per_year, plan.loan_term_months)
            if plan.loan_usd > 0
            else 0.0
        )
        floating = plan.floating_rate
        if floating is None or plan.loan_usd <= 0:
            env.process(self.collect())
        else:
            schedule = floating_rate_schedule(
                plan.loan_usd,
                floating.spread_per_year,
                plan.loan_term_months,
                floating.reset_months,
                prime_per_year,
            )
            env.process(self.collect_floating([due for _, due in schedule]))

    def collect(self) -> Generator[simpy.Event, Any, None]:
        """Each month, collect the instalment until the loan is repaid or the business closes."""
        business = self.business
        while business.is_open and business.loan_balance > 0:
            yield self.calendar.next(Phase.SETTLE)
            due = loan_instalment(business.loan_balance, self.rate_per_year, self.payment_usd)
            business.pay_debt(due.interest_usd, due.principal_usd, due.balance_after_usd)

    def collect_floating(self, schedule: Sequence[Any]) -> Generator[simpy.Event, Any, None]:
        """Each month, collect the variable-rate instalment while the business is open."""
        business = self.business
        for due in schedule:
            if not (business.is_open and business.loan_balance > 0):
                return
            yield self.calendar.next(Phase.SETTLE)
            business.pay_debt(due.interest_usd, due.principal_usd, due.balance_after_usd)
