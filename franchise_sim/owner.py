"""The owner: puts savings in when cash runs short, takes a living out, and decides to go on."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from franchise_sim.business import Business
from franchise_sim.calendar import Calendar, Phase
from franchise_sim.money import owner_draw_usd, owner_injection_usd

INSOLVENT = "insolvent"
"""Closure reason: the business could not meet its obligations from cash and savings."""
GAVE_UP = "gave_up"
"""Closure reason: the owner went too long without a living from the business."""
OWNER_EXIT = "owner_exit"
"""Closure reason: the owner had to stop for personal reasons (health, family, a move)."""


class Owner:
    """The person behind one business.

    At each month's close the owner first covers any cash shortfall from personal savings; if
    savings cannot cover it, the business cannot meet its obligations and closes. Otherwise the
    owner takes a draw from cash above a floor, but none in a month the business lost money.
    After ``patience_months`` months in a row in which the business earned (operating profit
    less debt service) less than ``living_share_of_draw`` of the target draw, the owner gives
    up: it does not make a living. A personal exit may also come at a random time, the same
    moment in every arm (it is the same person).
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
        self.must_stop = False
        env.process(self.close_books())
        if plan.personal_exit_rate_per_year > 0:
            hazard = -math.log1p(-min(plan.personal_exit_rate_per_year, 1 - 1e-12)) / 12.0
            env.process(self.life_happens(-math.log1p(-personal_exit_u) / hazard))

    def close_books(self) -> Generator[simpy.Event, Any, None]:
        """Each month: cover a shortfall, take a draw, and decide whether to carry on."""
        business, plan = self.business, self.business.plan
        while business.is_open:
            yield self.calendar.next(Phase.CLOSE_BOOKS)
            earned = business.ledger().cash_flow_before_owner_usd
            cash = business.month_start_cash + earned
            injection = owner_injection_usd(cash, self.reserve_left_usd)
            if injection > 0:
                self.reserve_left_usd -= injection
                business.owner_injects(injection)
                cash += injection
            if cash < 0:
                business.close(INSOLVENT)
                continue
            target = plan.draw_usd_per_month if earned >= 0 else 0.0
            draw = owner_draw_usd(cash, target, plan.cash_floor_usd, plan.cash_ceiling_usd)
            business.owner_draws(draw)
            lean = earned < plan.living_share_of_draw * plan.draw_usd_per_month
            self.lean_months = self.lean_months + 1 if lean else 0
            if self.lean_months >= plan.patience_months:
                business.close(GAVE_UP)
            elif self.must_stop:
                business.close(OWNER_EXIT)

    def life_happens(self, after_months: float) -> Generator[simpy.Event, Any, None]:
        """A personal reason to stop arrives; the business closes at the month's end."""
        yield self.env.timeout(after_months)
        self.must_stop = True
