"""The owner: puts savings in when cash runs short, takes a living out, and decides to go on."""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.money import (
    annual_earnings_usd,
    lease_settlement_usd,
    owner_draw_usd,
    owner_injection_usd,
    sale_price,
    settle,
)
from franchise_sim.model.plan import EndPlan

INSOLVENT = "insolvent"
"""Closure reason: the business could not meet its obligations from cash and savings."""
GAVE_UP = "gave_up"
"""Closure reason: the owner went too long without a living from the business, or (with
``owner.review``) its earnings fell too far short of what the owner expected."""
OWNER_EXIT = "owner_exit"
"""Closure reason: the owner had to stop for personal reasons (health, family, a move)."""
SOLD = "sold"
"""Exit reason: the owner had to stop and sold the going business (``owner.sale``). Not a
failure, but an exit in survival, as BLS counts an establishment that changes hands."""
CLOSURE_REASONS = (INSOLVENT, GAVE_UP, OWNER_EXIT, SOLD)
"""Every reason a business can stop, in the order reports list them."""


class Owner:
    """The person behind one business.

    At each month's close the owner first covers any cash shortfall from personal savings; if
    savings cannot cover it, the business cannot meet its obligations and closes. Otherwise the
    owner takes a draw from cash above a floor, but none in a month the business lost money.
    Then the owner judges whether to go on: by default, after ``patience_months`` months in a
    row in which the business earned (operating profit less debt service) less than
    ``living_share_of_draw`` of the target draw, the owner gives up: it does not make a living.
    With an earnings review (``owner.review``) the owner instead gives up when the running
    shortfall of earnings against what they expected (or an outside wage) mounts too far. A
    personal exit may also come at a random time, the same moment in every arm (it is the same
    person); with ``owner.sale`` the going business is then sold.

    When the scenario settles closures in the books (``operations.closure`` or ``owner.sale``),
    the owner winds the business up in its closing month: sells it or its assets, settles the
    lease and the wind-down, repays the loan (paying in what the business cannot, under a
    personal guarantee) and takes home whatever cash is left.
    """

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        personal_exit_u: float,
    ) -> None:
        plan = business.plan
        self.env = env
        self.calendar = calendar
        self.business = business
        self.reserve_left_usd = plan.reserve_usd
        self.lean_months = 0
        self.shortfall_usd = 0.0
        self.must_stop = False
        env.process(self.close_books())
        if plan.personal_exit_rate_per_year > 0:
            hazard = -math.log1p(-min(plan.personal_exit_rate_per_year, 1 - 1e-12)) / 12.0
            env.process(self.life_happens(-math.log1p(-personal_exit_u) / hazard))

    def close_books(self) -> Generator[simpy.Event, Any, None]:
        """Each month: cover a shortfall, take a draw, and decide whether to carry on."""
        business, plan = self.business, self.business.plan
        while business.is_open:
            month = yield self.calendar.next(Phase.CLOSE_BOOKS)
            earned = business.ledger().cash_flow_before_owner_usd
            cash = business.month_start_cash + earned
            injection = owner_injection_usd(cash, self.reserve_left_usd)
            if injection > 0:
                self.reserve_left_usd -= injection
                business.owner_injects(injection)
                cash += injection
            if cash < 0:
                self.wind_up(INSOLVENT, cash, month)
                continue
            target = plan.draw_usd_per_month if earned >= 0 else 0.0
            draw = owner_draw_usd(cash, target, plan.cash_floor_usd, plan.cash_ceiling_usd)
            business.owner_draws(draw)
            if self.gives_up(month, earned):
                self.wind_up(GAVE_UP, cash - draw, month)
            elif self.must_stop:
                self.wind_up(OWNER_EXIT, cash - draw, month)

    def gives_up(self, month: int, earned_usd: float) -> bool:
        """Whether this month's earnings make the owner stop: the patience rule or the review."""
        plan = self.business.plan
        review = plan.end.review if plan.end is not None else None
        if review is None:
            lean = earned_usd < plan.living_share_of_draw * plan.draw_usd_per_month
            self.lean_months = self.lean_months + 1 if lean else 0
            return self.lean_months >= plan.patience_months
        expected = review.expected_usd_per_month[month - 1] - review.slack_usd_per_month
        self.shortfall_usd = max(0.0, self.shortfall_usd + expected - earned_usd)
        return self.shortfall_usd > review.give_up_shortfall_usd

    def wind_up(self, reason: str, cash_usd: float, month: int) -> None:
        """Close the business; where closures settle in the books, square them this month."""
        business = self.business
        end = business.plan.end
        if end is None or not end.settles_in_ledger:
            business.close(reason)
            return
        proceeds, costs = self._sell_or_liquidate(end, reason, month)
        if proceeds.sold:
            reason = SOLD
        business.sells(proceeds.usd)
        business.pays_closure_costs(costs)
        balance = business.loan_balance
        done = settle(
            cash_usd + proceeds.usd - costs, balance, personal_guarantee=end.personal_guarantee
        )
        if done.principal_usd > 0:
            business.pay_debt(0.0, done.principal_usd, balance - done.principal_usd)
        business.owner_injects(done.guarantee_call_usd)
        business.owner_draws(done.distribution_usd)
        business.close(reason)

    def _sell_or_liquidate(self, end: EndPlan, reason: str, month: int) -> tuple[_Proceeds, float]:
        """The proceeds and the closing costs of ending the business.

        A personal exit sells a going business; otherwise its assets are sold and the lease
        and the wind-down paid.
        """
        business = self.business
        if reason == OWNER_EXIT and end.sale is not None:
            sale = end.sale
            price = sale_price(
                annual_earnings_usd(business.operating_profits()),
                sale.multiple_of_earnings,
                sale.broker_fee_rate,
                sale.other_costs_usd + sum(business.sale_costs_usd.values()),
            )
            if price.price_usd > end.liquidation_value_usd:  # a buyer takes over the lease
                return _Proceeds(price.proceeds_usd, True), 0.0
        closure = end.closure
        if closure is None:
            return _Proceeds(end.liquidation_value_usd, False), 0.0
        lease = lease_settlement_usd(
            business.plan.rent_usd_per_month,
            month,
            closure.lease_months,
            closure.lease_break_fee_usd,
        )
        return _Proceeds(end.liquidation_value_usd, False), lease + closure.wind_down_cost_usd

    def life_happens(self, after_months: float) -> Generator[simpy.Event, Any, None]:
        """A personal reason to stop arrives; the business closes at the month's end."""
        yield self.env.timeout(after_months)
        self.must_stop = True


@dataclass(frozen=True, slots=True)
class _Proceeds:
    """What selling the business or its assets brings in, and whether it was sold going."""

    usd: float
    sold: bool
