"""The lender: collects each month's loan instalment from one arm's business, every replication."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from franchise_sim.model.business import LOAN_DUST_USD, Business
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
        self.rate_per_year = units.array("loan_rate_per_year")
        loans = units.array("loan_usd")
        term = units.setting("loan_term_months")
        self.payment_usd = np.array(
            [
                loan_payment(loan, rate, term) if loan > 0 else 0.0
                for loan, rate in zip(loans.tolist(), self.rate_per_year.tolist(), strict=True)
            ]
        )
        floating = units.part("floating_rate")
        self._floating = loans > 0 if floating is not None else np.zeros(units.size, dtype=bool)
        self._fixed = ~self._floating
        self._any_floating = bool(self._floating.any())
        horizon = calendar.horizon_months
        self._due = np.zeros((units.size, horizon, 3))
        self._scheduled = np.zeros(units.size, dtype=np.int64)
        for r in np.flatnonzero(self._floating).tolist():
            assert floating is not None
            assert prime_per_year is not None
            schedule = floating_rate_schedule(
                units.at(r, "loan_usd"),
                floating.at(r, "spread_per_year"),
                term,
                floating.setting("reset_months"),
                prime_per_year[r],
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
            fixed = np.flatnonzero(owing & self._fixed if self._any_floating else owing)
            if fixed.size:
                balance = business.loan_balance[fixed]
                interest = balance * (self.rate_per_year[fixed] / 12.0)
                principal = np.minimum(balance, self.payment_usd[fixed] - interest)
                principal = np.where(balance - principal < LOAN_DUST_USD, balance, principal)
                business.pay_debt(fixed, interest, principal, balance - principal)
            if not self._any_floating:
                continue
            floating = np.flatnonzero(owing & self._floating & (month <= self._scheduled))
            if floating.size:
                due = self._due[floating, month - 1]
                business.pay_debt(floating, due[:, 0], due[:, 1], due[:, 2])
