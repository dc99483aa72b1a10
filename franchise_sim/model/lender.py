"""The lender: collects each month's loan instalment from one arm's business, every replication."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from franchise_sim.model.business import LOAN_DUST_USD, Business, field
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.money import (
    floating_rate_schedule,
    loan_payment,
)


class Lender:
    """`lender.Lender` over a batch: an amortising loan, fixed or floating, per replication."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        prime_per_year: Sequence[Sequence[float]] | None,
    ) -> None:
        units = business.units
        self.calendar = calendar
        self.business = business
        self.rate_per_year = field(units, "loan_rate_per_year")
        self.payment_usd = np.array(
            [
                loan_payment(u.loan_usd, u.loan_rate_per_year, u.loan_term_months)
                if u.loan_usd > 0
                else 0.0
                for u in units
            ]
        )
        floating = [u.floating_rate is not None and u.loan_usd > 0 for u in units]
        self._floating = np.array(floating, dtype=bool)
        horizon = calendar.horizon_months
        self._due = np.zeros((len(units), horizon, 3))
        self._scheduled = np.zeros(len(units), dtype=np.int64)
        for r in np.flatnonzero(self._floating):
            unit = units[int(r)]
            assert unit.floating_rate is not None
            assert prime_per_year is not None
            schedule = floating_rate_schedule(
                unit.loan_usd,
                unit.floating_rate.spread_per_year,
                unit.loan_term_months,
                unit.floating_rate.reset_months,
                prime_per_year[int(r)],
            )
            rows = [(d.interest_usd, d.principal_usd, d.balance_after_usd) for _, d in schedule]
            rows = rows[:horizon]
            self._scheduled[r] = len(rows)
            if rows:
                self._due[r, : len(rows)] = rows
        env.process(self.collect())

    def collect(self) -> Generator[simpy.Event, Any, None]:
        """Each month, collect the instalment until the loan is repaid or the business closes."""
        business = self.business
        while (business.is_open & (business.loan_balance > 0)).any():
            month = yield self.calendar.next(Phase.SETTLE)
            owing = business.is_open & (business.loan_balance > 0)
            fixed = np.flatnonzero(owing & ~self._floating)
            if fixed.size:
                balance = business.loan_balance[fixed]
                interest = balance * (self.rate_per_year[fixed] / 12.0)
                principal = np.minimum(balance, self.payment_usd[fixed] - interest)
                principal = np.where(balance - principal < LOAN_DUST_USD, balance, principal)
                business.pay_debt(fixed, interest, principal, balance - principal)
            floating = np.flatnonzero(owing & self._floating & (month <= self._scheduled))
            if floating.size:
                due = self._due[floating, month - 1]
                business.pay_debt(floating, due[:, 0], due[:, 1], due[:, 2])
