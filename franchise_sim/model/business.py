"""The business itself: one unit trading in the local market and keeping its books.

A ``Business`` wins and loses customers, serves visits up to its capacity, pays its running
costs and records each month. Other actors act on it through a small surface: they add to its
awareness (``innovation_boosts``), scale its customers' satisfaction (``satisfaction_factors``)
and its variable-cost rate (``variable_cost_factors``), add to the costs of selling it
(``sale_costs_usd``), charge cost lines (``charge``), collect debt service (``pay_debt``), set
the offer customers meet (``set_offer``) and lift the limit on adapting it to local tastes
(``free_to_adapt``); the owner injects cash, draws it and closes the business. A new kind of
partner plugs in through the same surface.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Generator, Sequence
from typing import Any, ClassVar

import simpy

from franchise_sim.model import customers as cx
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.market import Market
from franchise_sim.model.money import MonthLedger, local_marketing_usd
from franchise_sim.model.plan import UnitPlan
from franchise_sim.model.randomness import binomial_count, poisson_count

# Columns of the monthly uniforms shared by every arm of a replication.
U_NEW, U_SPLIT, U_LOSS_LOYAL, U_LOSS_CASUAL, U_VISITS = range(5)
UNIFORMS_PER_MONTH = 5

MONTH_HEAD = (
    "customers",
    "new_customers",
    "lost_customers",
    "visits_demanded",
    "visits_served",
    "revenue",
)
"""First columns of a business's monthly record; the cost lines follow."""
MONTH_TAIL = (
    "operating_costs",
    "operating_profit",
    "interest",
    "principal",
    "owner_injection",
    "owner_draw",
    "asset_sale",
    "closure_costs",
    "cash_flow",
    "cash",
    "loan_balance",
    "satisfaction",
    "alive",
)
"""Last columns of a business's monthly record, after the cost lines."""
_FLOWS = (
    "revenue",
    "interest",
    "principal",
    "owner_injection",
    "owner_draw",
    "asset_sale",
    "closure_costs",
)


class Business:
    """One business (one arm of one replication) and its books."""

    COST_LINES: ClassVar[tuple[str, ...]] = (
        "variable_costs",
        "payroll",
        "rent",
        "other_fixed",
        "marketing",
        "repairs",
        "recruiting",
    )
    """Running-cost lines the business charges itself."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        market: Market,
        plan: UnitPlan,
        uniforms: Sequence[Sequence[float]],
        cost_lines: tuple[str, ...],
        *,
        noisy: bool,
        winback_uniforms: Sequence[float] = (),
    ) -> None:
        self.env = env
        self.calendar = calendar
        self.market = market
        self.plan = plan
        self.cost_lines = cost_lines
        self._uniforms = uniforms
        self._winback_uniforms = winback_uniforms
        self._noisy = noisy
        self._loyal_hazard = cx.retention_hazard_per_month(plan.loyal_retention_per_year)
        self._casual_hazard = cx.retention_hazard_per_month(plan.casual_retention_per_year)
        self._adstock_decay = cx.adstock_decay(plan.advertising_half_life_months)
        months = range(calendar.horizon_months)
        self._learned_quality = [
            cx.learning_curve(
                plan.quality_potential, plan.starting_quality_share, t, plan.learning_months
            )
            for t in months
        ]
        self._taste_fit = [
            1.0
            - cx.mismatch_after(
                plan.starting_mismatch, plan.mismatch_floor, t, plan.adaptation_months
            )
            for t in months
        ]

        self.is_open = True
        self.closure_reason = ""
        self.loyal = 0.0
        self.casual = 0.0
        self.lapsed = 0.0
        self.visits_served_to_date = 0.0
        self.innovation_boosts: dict[str, float] = {}
        self.satisfaction_factors: dict[str, float] = {}
        self.variable_cost_factors: dict[str, float] = {}
        self.sale_costs_usd: dict[str, float] = {}
        """Costs partners add to a sale of the business, by name (a franchisor's transfer fee)."""
        self.staff_vacancies: list[float] = []
        self.capacity_lost_share = 0.0
        self.satisfaction = 0.0
        self._retained = 0.0
        self._overload_share = 0.0
        self._advertising_p = 0.0
        self._last_marketing_usd = plan.marketing_usd_per_month
        self.local_marketing_min_rate = 0.0

        self.cash = plan.working_capital_usd
        self.loan_balance = plan.loan_usd
        self._month_start_cash = self.cash
        self._flows: dict[str, float] = {}
        self._costs: dict[str, float] = {}
        self._start_month()
        self._counts = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.records: list[tuple[float, ...]] = []
        env.process(self.run())

    @property
    def customers(self) -> float:
        """Current customers, both segments."""
        return self.loyal + self.casual

    def run(self) -> Generator[simpy.Event, Any, None]:
        """Each month: trade, pay the running costs, and record the books once they are closed."""
        while self.is_open:
            month = yield self.calendar.next(Phase.TRADE)
            self.trade(month)
            self.pay_running_costs()
            yield self.calendar.next(Phase.REPORT)
            self.report()

    # -- trading -----------------------------------------------------------------------------
    def trade(self, month: int) -> None:
        """Win and lose customers, serve visits up to capacity and book the sales."""
        u = self._uniforms[month - 1]
        self.satisfaction = self._customer_satisfaction(month - 1)
        new, lost = self._win_and_lose_customers(u)
        self._serve_visits(u, new, lost)

    def _customer_satisfaction(self, elapsed: int) -> float:
        """Quality (learning curve, staff gaps) x fit to local tastes x service x partners."""
        visits_to_learn = self.plan.learning_visits
        if visits_to_learn is None:
            quality = self._learned_quality[elapsed]
        else:
            quality = self.learned_by_doing(visits_to_learn)
        for drop in self.staff_vacancies:
            quality *= 1.0 - drop
        served_share = 1.0 - self.plan.overload_penalty * self._overload_share
        satisfaction = quality * self._taste_fit[elapsed] * served_share
        for factor in self.satisfaction_factors.values():
            satisfaction *= factor
        return satisfaction

    def learned_by_doing(self, visits_to_learn: float) -> float:
        """Quality learnt from the visits served so far: work done, not months open."""
        plan = self.plan
        return cx.learning_curve(
            plan.quality_potential,
            plan.starting_quality_share,
            self.visits_served_to_date,
            visits_to_learn,
        )

    def _win_and_lose_customers(self, u: Sequence[float]) -> tuple[float, float]:
        """Bass adoption among non-customers; departures from each loyalty segment."""
        plan = self.plan
        decay = self._adstock_decay
        self._advertising_p = decay * self._advertising_p + (
            1.0 - decay
        ) * plan.marketing_p_per_1000usd * (self._last_marketing_usd / 1000.0)
        p = plan.innovation_p_per_month + self._advertising_p + sum(self.innovation_boosts.values())
        q = plan.imitation_q_per_month * max(0.0, self.satisfaction)
        potential = self.market.potential_customers
        winback = plan.lapsed_winback_share
        if winback is None:
            new = self._win_new(u, potential, p, q)
        else:
            new = self._win_new_and_lapsed(u, potential, p, q, winback)
        churn_loyal = cx.churn_probability(
            self._loyal_hazard, self.satisfaction, plan.churn_sensitivity
        )
        churn_casual = cx.churn_probability(
            self._casual_hazard, self.satisfaction, plan.churn_sensitivity
        )
        if self._noisy:
            new_loyal = float(math.floor(new * plan.loyal_share + u[U_SPLIT]))
            lost_loyal = float(binomial_count(u[U_LOSS_LOYAL], int(self.loyal), churn_loyal))
            lost_casual = float(binomial_count(u[U_LOSS_CASUAL], int(self.casual), churn_casual))
        else:
            new_loyal = new * plan.loyal_share
            lost_loyal = self.loyal * churn_loyal
            lost_casual = self.casual * churn_casual
        self.loyal -= lost_loyal
        self.casual -= lost_casual
        self._retained = self.customers
        self.loyal += new_loyal
        self.casual += new - new_loyal
        if winback is not None:
            self.lapsed += lost_loyal + lost_casual
        return new, lost_loyal + lost_casual

    def _win_new(self, u: Sequence[float], potential: float, p: float, q: float) -> float:
        """Bass adopters among everyone in the market who is not a customer."""
        start = self.customers
        mean_new = cx.expected_new_customers(potential, start, p, q)
        if self._noisy:
            return float(min(poisson_count(u[U_NEW], mean_new), max(0.0, potential - start)))
        return mean_new

    def _win_new_and_lapsed(
        self, u: Sequence[float], potential: float, p: float, q: float, winback: float
    ) -> float:
        """Adopters among those never customers, and lapsed customers won back more slowly.

        Everyone outside the business who is not lapsed adopts at the Bass step's share; the
        lapsed come back at ``lapsed_winback_share`` of that hazard. The lapsed pool never holds
        more than the market leaves outside the business (a shrinking market takes them too).
        """
        start = self.customers
        outside = max(0.0, potential - start)
        lapsed = min(self.lapsed, outside)
        if self._noisy:
            lapsed = float(math.floor(lapsed))
        never = outside - lapsed
        adoption = cx.adoption_share(potential, start, p, q)
        back_share = cx.win_back_share(adoption, winback)
        if self._noisy:
            fresh = float(min(poisson_count(u[U_NEW], never * adoption), math.floor(never)))
            month = self.calendar.month
            back = float(binomial_count(self._winback_uniforms[month - 1], int(lapsed), back_share))
        else:
            fresh = never * adoption
            back = lapsed * back_share
        self.lapsed = lapsed - back
        return fresh + back

    def _serve_visits(self, u: Sequence[float], new: float, lost: float) -> None:
        """New customers come in once; the rest return at their rate; capacity caps service."""
        plan, market = self.plan, self.market
        mean_returning = (
            self._retained
            * plan.visits_per_customer_per_month
            * market.season_factor
            * market.economy_factor
        )
        returning = poisson_count(u[U_VISITS], mean_returning) if self._noisy else mean_returning
        visits = new + returning
        capacity = plan.capacity_visits_per_month * (1.0 - self.capacity_lost_share)
        served = min(visits, capacity)
        self.visits_served_to_date += served
        self._overload_share = (visits - served) / visits if visits > 0 else 0.0
        self.capacity_lost_share = 0.0
        self._flows["revenue"] = served * plan.spend_per_visit_usd
        self._counts = (self.customers, new, lost, visits, served)

    def set_offer(
        self, spend_per_visit_usd: float, visits_per_customer_per_month: float, loyal_share: float
    ) -> None:
        """From now on customers meet this offer: its ticket, visit rate and loyal share."""
        self.plan = dataclasses.replace(
            self.plan,
            spend_per_visit_usd=spend_per_visit_usd,
            visits_per_customer_per_month=visits_per_customer_per_month,
            loyal_share=loyal_share,
        )

    def free_to_adapt(self, elapsed: int) -> None:
        """The limit on local customization lifts: the offer adapts freely from now on.

        From ``elapsed`` months after opening, the mismatch with local tastes falls from
        where it stands towards zero, with no floor, over ``adaptation_months``.
        """
        plan, fit = self.plan, self._taste_fit
        if elapsed >= len(fit):
            return
        start = plan.starting_mismatch  # at opening, exactly: as if there never was a limit
        if elapsed > 0:
            start = cx.mismatch_after(start, plan.mismatch_floor, elapsed, plan.adaptation_months)
        for t in range(elapsed, len(fit)):
            fit[t] = 1.0 - cx.mismatch_after(start, 0.0, t - elapsed, plan.adaptation_months)

    def lose_customers(self, share: float) -> None:
        """A share of current customers switches away (to a new competitor)."""
        lost_loyal = round(self.loyal * share) if self._noisy else self.loyal * share
        lost_casual = round(self.casual * share) if self._noisy else self.casual * share
        self.loyal -= lost_loyal
        self.casual -= lost_casual
        if self.plan.lapsed_winback_share is not None:
            self.lapsed += lost_loyal + lost_casual

    # -- the books ---------------------------------------------------------------------------
    def _start_month(self) -> None:
        """Open a fresh page of the books; events until the next report are charged to it."""
        self._month_start_cash = self.cash
        self._flows = dict.fromkeys(_FLOWS, 0.0)
        self._costs = dict.fromkeys(self.cost_lines, 0.0)

    @property
    def revenue_usd(self) -> float:
        """This month's sales."""
        return self._flows["revenue"]

    def charge(self, line: str, usd: float) -> None:
        """Book a running cost or fee on one of the business's cost lines."""
        self._costs[line] += usd

    def pay_running_costs(self) -> None:
        """Charge this month's variable and fixed running costs and local advertising."""
        plan = self.plan
        revenue = self._flows["revenue"]
        marketing = local_marketing_usd(
            plan.marketing_usd_per_month, revenue, self.local_marketing_min_rate
        )
        self._last_marketing_usd = marketing
        rate = plan.variable_cost_rate
        for factor in self.variable_cost_factors.values():
            rate *= factor
        self.charge("variable_costs", revenue * rate)
        self.charge("payroll", plan.payroll_usd_per_month)
        self.charge("rent", plan.rent_usd_per_month)
        self.charge("other_fixed", plan.other_fixed_usd_per_month)
        self.charge("marketing", marketing)

    def pay_debt(self, interest_usd: float, principal_usd: float, balance_after_usd: float) -> None:
        """Record the month's loan instalment."""
        self._flows["interest"] += interest_usd
        self._flows["principal"] += principal_usd
        self.loan_balance = balance_after_usd

    def ledger(self) -> MonthLedger:
        """The month's books so far."""
        f = self._flows
        return MonthLedger(
            revenue_usd=f["revenue"],
            operating_costs_usd=sum(self._costs.values()),
            interest_usd=f["interest"],
            principal_usd=f["principal"],
            owner_injection_usd=f["owner_injection"],
            owner_draw_usd=f["owner_draw"],
            asset_sale_usd=f["asset_sale"],
            closure_costs_usd=f["closure_costs"],
        )

    @property
    def month_start_cash(self) -> float:
        """Cash at the start of the month being booked."""
        return self._month_start_cash

    def owner_injects(self, usd: float) -> None:
        """The owner puts personal money into the business."""
        self._flows["owner_injection"] += usd

    def owner_draws(self, usd: float) -> None:
        """The owner takes money home."""
        self._flows["owner_draw"] += usd

    def sells(self, usd: float) -> None:
        """Book what selling the business, or its equipment and stock, brings in."""
        self._flows["asset_sale"] += usd

    def pays_closure_costs(self, usd: float) -> None:
        """Book what closing costs: the lease settled, the wind-down."""
        self._flows["closure_costs"] += usd

    def operating_profits(self) -> list[float]:
        """Operating profit of every month traded so far, this month's included."""
        column = len(MONTH_HEAD) + len(self.cost_lines) + MONTH_TAIL.index("operating_profit")
        past = [row[column] for row in self.records]
        return [*past, self.ledger().operating_profit_usd]

    def close(self, reason: str) -> None:
        """Close the business at the end of this month; it has no flows afterwards."""
        self.is_open = False
        self.closure_reason = reason

    def report(self) -> None:
        """Settle the month's cash and record the month."""
        ledger = self.ledger()
        self.cash = self._month_start_cash + ledger.cash_flow_usd
        f = self._flows
        self.records.append(
            (
                *self._counts,
                f["revenue"],
                *self._costs.values(),
                ledger.operating_costs_usd,
                ledger.operating_profit_usd,
                f["interest"],
                f["principal"],
                f["owner_injection"],
                f["owner_draw"],
                f["asset_sale"],
                f["closure_costs"],
                ledger.cash_flow_usd,
                self.cash,
                self.loan_balance,
                self.satisfaction,
                1.0 if self.is_open else 0.0,
            )
        )
        self._start_month()
