"""The business, its lender and its owner, each acting on arrays over a batch's replications.

These are `business.Business`, `lender.Lender` and `owner.Owner` in vector form: one actor per
arm holds the state of that arm's business in every replication of a batch, and one SimPy
process per actor acts in its phase of the month on the replications still open. Every
formula keeps the scalar actor's floating-point order, and ``math``'s functions are used where
the scalar actor uses them (`exact_exp`, `exact_pow`), so the books are the same bit for bit.
What happens to one replication alone (a closure, a franchisor's failure) is done for that
replication with the scalar code's own functions.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from functools import partial
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model import customers as cx
from franchise_sim.model.batch_events import later, runs_until
from franchise_sim.model.batch_randomness import CountQuantiles, exact_exp, exact_pow
from franchise_sim.model.books import (
    GAVE_UP,
    INSOLVENT,
    MONTH_HEAD,
    MONTH_TAIL,
    OWNER_EXIT,
    SOLD,
    U_LOSS_CASUAL,
    U_LOSS_LOYAL,
    U_NEW,
    U_SPLIT,
    U_VISITS,
)
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.money import (
    annual_earnings_usd,
    floating_rate_schedule,
    lease_settlement_usd,
    loan_payment,
    sale_price,
    settle,
)
from franchise_sim.model.plan import UnitPlan

Index = NDArray[np.intp]
"""Positions of replications within a batch."""

REVENUE, INTEREST, PRINCIPAL, INJECTION, DRAW, ASSET_SALE, CLOSURE_COSTS = range(7)
"""Columns of a business's month flows."""
_LOAN_DUST_USD = 0.005


def field(units: Sequence[UnitPlan], name: str) -> NDArray[np.float64]:
    """One numeric field of every replication's plan of an arm, as an array."""
    return np.array([getattr(unit, name) for unit in units], dtype=float)


def same_in_all(values: Sequence[Any], what: str) -> Any:
    """The value every replication shares (a setting of the scenario, not a draw)."""
    first = values[0]
    if any(v != first for v in values[1:]):
        raise ValueError(f"{what} differs between replications of one batch")
    return first


def whole(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``int(x)`` element by element (as floats), refusing a NaN or an infinity as int does."""
    _refuse_non_finite(x)
    return np.trunc(x)


def floor(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``math.floor(x)`` element by element (as floats), refusing a NaN or an infinity."""
    _refuse_non_finite(x)
    return np.floor(x)


def _refuse_non_finite(x: NDArray[np.float64]) -> None:
    if not np.isfinite(x).all():
        if np.isnan(x).any():
            raise ValueError("cannot convert float NaN to integer")
        raise OverflowError("cannot convert float infinity to integer")


def bass_step_share(
    share: NDArray[np.float64], p: NDArray[np.float64], q: NDArray[np.float64]
) -> NDArray[np.float64]:
    """`customers.bass_step_share` element by element."""
    out = np.ones(share.shape)
    out[(p <= 0.0) & (share <= 0.0) & ~(share >= 1.0)] = 0.0
    step = np.flatnonzero(~(share >= 1.0) & ~((p <= 0.0) & (share <= 0.0)) & ~(p + q > 700.0))
    if step.size:
        s, pp, qq = share[step], p[step], q[step]
        ratio = (pp + qq * s) / (1.0 - s) * exact_exp(pp + qq)
        out[step] = (ratio - pp) / (qq + ratio)
    return out


def bass_steps(
    potential: NDArray[np.float64],
    customers: NDArray[np.float64],
    p: NDArray[np.float64],
    q: NDArray[np.float64],
) -> tuple[Index, NDArray[np.float64], NDArray[np.float64]]:
    """Where the market has room for adopters, the customers' share there and a month later.

    As `customers.expected_new_customers` and `customers.adoption_share` take the Bass step.
    """
    room = np.flatnonzero(~((potential <= 0.0) | (customers >= potential)))
    share = customers[room] / potential[room]
    return room, share, bass_step_share(share, p[room], q[room])


class VectorBusiness:
    """One arm's business in every replication of a batch, and its books.

    The surface partners act on is `Business`'s, per replication: arrays by name in
    ``innovation_boosts``, ``satisfaction_factors`` and ``variable_cost_factors`` (a partner
    absent from a replication holds 0, 1 and 1 there: the same numbers as no entry), costs in
    ``sale_costs_usd``, `charge`, `pay_debt`, `set_offer` and `free_to_adapt`.
    """

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        market: Any,
        units: Sequence[UnitPlan],
        uniforms: NDArray[np.float64],
        winback_uniforms: NDArray[np.float64] | None,
        cost_lines: tuple[str, ...],
        *,
        noisy: bool,
        books: NDArray[np.float64] | None = None,
        counts: CountQuantiles | None = None,
    ) -> None:
        self.env = env
        self._counts_of = counts or CountQuantiles()
        self.calendar = calendar
        self.market = market
        self.units = units
        self.arm = units[0].arm
        self.cost_lines = cost_lines
        self._line = {line: i for i, line in enumerate(cost_lines)}
        self._uniforms = uniforms
        self._winback_uniforms = winback_uniforms
        self._noisy = noisy
        n = self.size = len(units)
        horizon = calendar.horizon_months
        f = partial(field, units)
        self.spend = f("spend_per_visit_usd")
        self.visit_rate = f("visits_per_customer_per_month")
        self.loyal_share = f("loyal_share")
        self._innovation = f("innovation_p_per_month")
        self._imitation = f("imitation_q_per_month")
        self._sensitivity = f("churn_sensitivity")
        self._overload_penalty = f("overload_penalty")
        self._capacity = f("capacity_visits_per_month")
        self._variable_rate = f("variable_cost_rate")
        self._payroll = f("payroll_usd_per_month")
        self._rent = f("rent_usd_per_month")
        self._other_fixed = f("other_fixed_usd_per_month")
        self._marketing = f("marketing_usd_per_month")
        self._marketing_p = f("marketing_p_per_1000usd")
        self._quality = f("quality_potential")
        self._start_quality = f("starting_quality_share")
        self._mismatch = f("starting_mismatch")
        self._mismatch_floor = f("mismatch_floor")
        self._adaptation = f("adaptation_months")
        self._loyal_hazard = np.array(
            [cx.retention_hazard_per_month(u.loyal_retention_per_year) for u in units]
        )
        self._casual_hazard = np.array(
            [cx.retention_hazard_per_month(u.casual_retention_per_year) for u in units]
        )
        self._decay = np.array([cx.adstock_decay(u.advertising_half_life_months) for u in units])
        self.winback = same_in_all([u.lapsed_winback_share for u in units], "lapsed_winback_share")
        self.learning_visits = same_in_all([u.learning_visits for u in units], "learning_visits")
        months = np.arange(horizon, dtype=float)
        self._learned_quality = self._quality[:, None] * (
            1.0 - (1.0 - self._start_quality[:, None]) * _exp_table(months, f("learning_months"))
        )
        self.taste_fit = 1.0 - _mismatch_table(
            self._mismatch, self._mismatch_floor, months, self._adaptation
        )

        self.is_open = np.ones(n, dtype=bool)
        self.closure_reason = [""] * n
        self.loyal = np.zeros(n)
        self.casual = np.zeros(n)
        self.lapsed = np.zeros(n)
        self.visits_served_to_date = np.zeros(n)
        self.innovation_boosts: dict[str, NDArray[np.float64]] = {}
        self.satisfaction_factors: dict[str, NDArray[np.float64]] = {}
        self.variable_cost_factors: dict[str, NDArray[np.float64]] = {}
        self.sale_costs_usd: dict[str, NDArray[np.float64]] = {}
        self.vacancies = np.zeros(n, dtype=np.int64)
        """Key staff posts vacant, each costing `vacancy_quality_drop` of quality."""
        self.vacancy_quality_drop = np.zeros(n)
        self.capacity_lost_share = np.zeros(n)
        self.satisfaction = np.zeros(n)
        self._retained = np.zeros(n)
        self._overload_share = np.zeros(n)
        self._advertising_p = np.zeros(n)
        self._last_marketing_usd = self._marketing.copy()
        self.local_marketing_min_rate = np.zeros(n)

        self.cash = f("working_capital_usd")
        self.loan_balance = f("loan_usd")
        self.month_start_cash = self.cash.copy()
        self.flows = np.zeros((n, 7))
        self.costs = np.zeros((n, len(cost_lines)))
        self._counts = np.zeros((n, 5))
        width = len(MONTH_HEAD) + len(cost_lines) + len(MONTH_TAIL)
        self.records = np.zeros((n, horizon, width)) if books is None else books
        """The books: array (replication, month, column)."""
        self.months_reported = np.zeros(n, dtype=np.int64)
        self._profit_column = len(MONTH_HEAD) + len(cost_lines) + 1
        env.process(self.run())

    def run(self) -> Generator[simpy.Event, Any, None]:
        """Each month: trade, pay the running costs, and record the books once they are closed."""
        while self.is_open.any():
            month = yield self.calendar.next(Phase.TRADE)
            trading = np.flatnonzero(self.is_open)
            self.trade(trading, month)
            self.pay_running_costs(trading)
            yield self.calendar.next(Phase.REPORT)
            self.report(trading, month)

    # -- trading -----------------------------------------------------------------------------
    def trade(self, o: Index, month: int) -> None:
        """Win and lose customers, serve visits up to capacity and book the sales."""
        u = self._uniforms[o, month - 1]
        satisfaction = self._customer_satisfaction(o, month - 1)
        self.satisfaction[o] = satisfaction
        new, lost = self._win_and_lose_customers(o, u, satisfaction, month)
        self._serve_visits(o, u, new, lost)

    def _customer_satisfaction(self, o: Index, elapsed: int) -> NDArray[np.float64]:
        """Quality (learning curve, staff gaps) x fit to local tastes x service x partners."""
        if self.learning_visits is None:
            quality = self._learned_quality[o, elapsed]
        else:
            quality = self._quality[o] * (
                1.0
                - (1.0 - self._start_quality[o])
                * exact_exp(-self.visits_served_to_date[o] / self.learning_visits)
            )
        vacant = self.vacancies[o]
        for j in range(int(vacant.max(initial=0))):
            gap = vacant > j
            quality[gap] *= 1.0 - self.vacancy_quality_drop[o][gap]
        served_share = 1.0 - self._overload_penalty[o] * self._overload_share[o]
        satisfaction = quality * self.taste_fit[o, elapsed] * served_share
        for factor in self.satisfaction_factors.values():
            satisfaction *= factor[o]
        return np.asarray(satisfaction, dtype=float)

    def _win_and_lose_customers(
        self, o: Index, u: NDArray[np.float64], satisfaction: NDArray[np.float64], month: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Bass adoption among non-customers; departures from each loyalty segment."""
        decay = self._decay[o]
        advertising = decay * self._advertising_p[o] + (1.0 - decay) * self._marketing_p[o] * (
            self._last_marketing_usd[o] / 1000.0
        )
        self._advertising_p[o] = advertising
        boosts = np.zeros(o.size)
        for boost in self.innovation_boosts.values():
            boosts = boosts + boost[o]
        p = self._innovation[o] + advertising + boosts
        q = self._imitation[o] * np.maximum(0.0, satisfaction)
        potential = self.market.potential_customers[o]
        if self.winback is None:
            new = self._win_new(o, u, potential, p, q)
        else:
            new = self._win_new_and_lapsed(o, u, potential, p, q, self.winback, month)
        dissatisfaction = 1.0 - np.minimum(1.0, np.maximum(0.0, satisfaction))
        stress = 1.0 + self._sensitivity[o] * dissatisfaction
        churn_loyal = 1.0 - exact_exp(-self._loyal_hazard[o] * stress)
        churn_casual = 1.0 - exact_exp(-self._casual_hazard[o] * stress)
        loyal, casual = self.loyal[o], self.casual[o]
        if self._noisy:
            new_loyal = floor(new * self.loyal_share[o] + u[:, U_SPLIT])
            # both segments' departures in one call: the same counts, element by element
            lost = self._counts_of.binomial(
                np.concatenate((u[:, U_LOSS_LOYAL], u[:, U_LOSS_CASUAL])),
                np.concatenate((whole(loyal), whole(casual))),
                np.concatenate((churn_loyal, churn_casual)),
            )
            lost_loyal, lost_casual = lost[: o.size], lost[o.size :]
        else:
            new_loyal = new * self.loyal_share[o]
            lost_loyal = loyal * churn_loyal
            lost_casual = casual * churn_casual
        loyal = loyal - lost_loyal
        casual = casual - lost_casual
        self._retained[o] = loyal + casual
        self.loyal[o] = loyal + new_loyal
        self.casual[o] = casual + (new - new_loyal)
        if self.winback is not None:
            self.lapsed[o] += lost_loyal + lost_casual
        return new, lost_loyal + lost_casual

    def _win_new(
        self,
        o: Index,
        u: NDArray[np.float64],
        potential: NDArray[np.float64],
        p: NDArray[np.float64],
        q: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Bass adopters among everyone in the market who is not a customer."""
        start = self.loyal[o] + self.casual[o]
        mean_new = np.zeros(o.size)
        room, share, stepped = bass_steps(potential, start, p, q)
        mean_new[room] = potential[room] * (stepped - share)
        if self._noisy:
            return np.minimum(
                self._counts_of.poisson(u[:, U_NEW], mean_new), np.maximum(0.0, potential - start)
            )
        return mean_new

    def _win_new_and_lapsed(
        self,
        o: Index,
        u: NDArray[np.float64],
        potential: NDArray[np.float64],
        p: NDArray[np.float64],
        q: NDArray[np.float64],
        winback: float,
        month: int,
    ) -> NDArray[np.float64]:
        """Adopters among those never customers, and lapsed customers won back more slowly."""
        start = self.loyal[o] + self.casual[o]
        outside = np.maximum(0.0, potential - start)
        lapsed = np.minimum(self.lapsed[o], outside)
        if self._noisy:
            lapsed = floor(lapsed)
        never = outside - lapsed
        adoption = np.zeros(o.size)
        room, share, stepped = bass_steps(potential, start, p, q)
        adoption[room] = (stepped - share) / (1.0 - share)
        certain = adoption >= 1.0
        back_share = np.where(certain, 1.0 if winback > 0.0 else 0.0, 0.0)
        unsure = np.flatnonzero(~certain)
        if unsure.size:
            back_share[unsure] = 1.0 - exact_pow(1.0 - adoption[unsure], winback)
        if self._noisy:
            assert self._winback_uniforms is not None
            fresh = np.minimum(self._counts_of.poisson(u[:, U_NEW], never * adoption), floor(never))
            back = self._counts_of.binomial(
                self._winback_uniforms[o, month - 1], whole(lapsed), back_share
            )
        else:
            fresh = never * adoption
            back = lapsed * back_share
        self.lapsed[o] = lapsed - back
        return np.asarray(fresh + back, dtype=float)

    def _serve_visits(
        self, o: Index, u: NDArray[np.float64], new: NDArray[np.float64], lost: NDArray[np.float64]
    ) -> None:
        """New customers come in once; the rest return at their rate; capacity caps service."""
        market = self.market
        mean_returning = (
            self._retained[o] * self.visit_rate[o] * market.season_factor * market.economy_factor[o]
        )
        returning = (
            self._counts_of.poisson(u[:, U_VISITS], mean_returning)
            if self._noisy
            else mean_returning
        )
        visits = new + returning
        capacity = self._capacity[o] * (1.0 - self.capacity_lost_share[o])
        served = np.minimum(visits, capacity)
        self.visits_served_to_date[o] += served
        overload = np.zeros(o.size)
        busy = visits > 0
        overload[busy] = (visits[busy] - served[busy]) / visits[busy]
        self._overload_share[o] = overload
        self.capacity_lost_share[o] = 0.0
        self.flows[o, REVENUE] = served * self.spend[o]
        counts = self._counts
        counts[o, 0] = self.loyal[o] + self.casual[o]
        counts[o, 1] = new
        counts[o, 2] = lost
        counts[o, 3] = visits
        counts[o, 4] = served

    def set_offer(
        self, r: int, spend_per_visit_usd: float, visits_per_month: float, loyal_share: float
    ) -> None:
        """From now on replication ``r``'s customers meet this offer."""
        self.spend[r] = spend_per_visit_usd
        self.visit_rate[r] = visits_per_month
        self.loyal_share[r] = loyal_share

    def free_to_adapt(self, r: int, elapsed: int) -> None:
        """The limit on local customization lifts in replication ``r`` (see `Business`)."""
        fit = self.taste_fit[r]
        if elapsed >= len(fit):
            return
        start = float(self._mismatch[r])
        tau = float(self._adaptation[r])
        if elapsed > 0:
            start = cx.mismatch_after(start, float(self._mismatch_floor[r]), elapsed, tau)
        for t in range(elapsed, len(fit)):
            fit[t] = 1.0 - cx.mismatch_after(start, 0.0, t - elapsed, tau)

    def lose_customers(self, r: int, share: float) -> None:
        """A share of replication ``r``'s customers switches away (to a new competitor)."""
        loyal, casual = float(self.loyal[r]), float(self.casual[r])
        lost_loyal = round(loyal * share) if self._noisy else loyal * share
        lost_casual = round(casual * share) if self._noisy else casual * share
        self.loyal[r] = loyal - lost_loyal
        self.casual[r] = casual - lost_casual
        if self.winback is not None:
            self.lapsed[r] = float(self.lapsed[r]) + (lost_loyal + lost_casual)

    # -- the books ---------------------------------------------------------------------------
    def charge(self, line: str, where: Index | int, usd: NDArray[np.float64] | float) -> None:
        """Book a running cost or fee on one cost line, in some replications."""
        self.costs[where, self._line[line]] += usd

    def pay_running_costs(self, o: Index) -> None:
        """Charge this month's variable and fixed running costs and local advertising."""
        revenue = self.flows[o, REVENUE]
        marketing = np.maximum(self._marketing[o], revenue * self.local_marketing_min_rate[o])
        self._last_marketing_usd[o] = marketing
        rate = self._variable_rate[o]
        for factor in self.variable_cost_factors.values():
            rate = rate * factor[o]
        costs, line = self.costs, self._line
        costs[o, line["variable_costs"]] += revenue * rate
        costs[o, line["payroll"]] += self._payroll[o]
        costs[o, line["rent"]] += self._rent[o]
        costs[o, line["other_fixed"]] += self._other_fixed[o]
        costs[o, line["marketing"]] += marketing

    def pay_debt(
        self,
        where: Index | int,
        interest_usd: NDArray[np.float64] | float,
        principal_usd: NDArray[np.float64] | float,
        balance_after_usd: NDArray[np.float64] | float,
    ) -> None:
        """Record the month's loan instalment."""
        self.flows[where, INTEREST] += interest_usd
        self.flows[where, PRINCIPAL] += principal_usd
        self.loan_balance[where] = balance_after_usd

    def operating_costs(self, o: Index | int) -> NDArray[np.float64]:
        """The month's operating costs so far: every cost line added in order."""
        total: NDArray[np.float64] = np.zeros(np.shape(o))
        for j in range(len(self.cost_lines)):
            total = total + self.costs[o, j]
        return total

    def earned(self, o: Index) -> NDArray[np.float64]:
        """The month's operating profit less debt service (`MonthLedger`'s order)."""
        flows = self.flows[o]
        profit = flows[:, REVENUE] - self.operating_costs(o)
        return np.asarray(profit - flows[:, INTEREST] - flows[:, PRINCIPAL], dtype=float)

    def operating_profits(self, r: int) -> list[float]:
        """Replication ``r``'s operating profit of every month traded so far, this one's too."""
        past = self.records[r, : self.months_reported[r], self._profit_column].tolist()
        now = float(self.flows[r, REVENUE]) - float(self.operating_costs(r))
        return [*past, now]

    def close(self, r: int, reason: str) -> None:
        """Close replication ``r``'s business at the end of this month."""
        self.is_open[r] = False
        self.closure_reason[r] = reason

    def report(self, o: Index, month: int) -> None:
        """Settle the month's cash and record the month."""
        flows = self.flows[o]
        operating = self.operating_costs(o)
        profit = flows[:, REVENUE] - operating
        before_owner = profit - flows[:, INTEREST] - flows[:, PRINCIPAL]
        cash_flow = (
            before_owner
            + flows[:, INJECTION]
            - flows[:, DRAW]
            + flows[:, ASSET_SALE]
            - flows[:, CLOSURE_COSTS]
        )
        cash = self.month_start_cash[o] + cash_flow
        self.cash[o] = cash
        row = np.column_stack(
            (
                self._counts[o],
                flows[:, REVENUE],
                self.costs[o],
                operating,
                profit,
                flows[:, INTEREST],
                flows[:, PRINCIPAL],
                flows[:, INJECTION],
                flows[:, DRAW],
                flows[:, ASSET_SALE],
                flows[:, CLOSURE_COSTS],
                cash_flow,
                cash,
                self.loan_balance[o],
                self.satisfaction[o],
                self.is_open[o].astype(float),
            )
        )
        if o.size == self.size:
            self.records[:, month - 1] = row
        else:
            self.records[o, month - 1] = row
        self.months_reported[o] = month
        self.month_start_cash[o] = cash
        self.flows[o] = 0.0
        self.costs[o] = 0.0

    def books(self) -> NDArray[np.float64]:
        """Array (replication, month, column); after a closure, balances frozen, no flows."""
        books = self.records
        width = books.shape[2]
        cash_col = width - len(MONTH_TAIL) + MONTH_TAIL.index("cash")
        loan_col = width - len(MONTH_TAIL) + MONTH_TAIL.index("loan_balance")
        horizon = books.shape[1]
        for r in np.flatnonzero(self.months_reported < horizon):
            last = int(self.months_reported[r])
            books[r, last:, cash_col] = books[r, last - 1, cash_col]
            books[r, last:, loan_col] = books[r, last - 1, loan_col]
        return books


def _exp_table(months: NDArray[np.float64], tau: NDArray[np.float64]) -> NDArray[np.float64]:
    """``math.exp(-t / tau)`` for every replication's ``tau`` and month ``t`` (row, month)."""
    out = np.empty((tau.size, months.size))
    for value in np.unique(tau):
        row = [math.exp(-t / float(value)) for t in range(months.size)]
        out[tau == value] = row
    return out


def _mismatch_table(
    start: NDArray[np.float64],
    floor_: NDArray[np.float64],
    months: NDArray[np.float64],
    tau: NDArray[np.float64],
) -> NDArray[np.float64]:
    """`customers.mismatch_after` for every replication and month (row, month)."""
    decayed = floor_[:, None] + (start - floor_)[:, None] * _exp_table(months, tau)
    return np.where((start <= floor_)[:, None], start[:, None], decayed)


class VectorLender:
    """`lender.Lender` over a batch: an amortising loan, fixed or floating, per replication."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: VectorBusiness,
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
                principal = np.where(balance - principal < _LOAN_DUST_USD, balance, principal)
                business.pay_debt(fixed, interest, principal, balance - principal)
            floating = np.flatnonzero(owing & self._floating & (month <= self._scheduled))
            if floating.size:
                due = self._due[floating, month - 1]
                business.pay_debt(floating, due[:, 0], due[:, 1], due[:, 2])


class VectorOwner:
    """`owner.Owner` over a batch: covers shortfalls, draws a living, decides to go on."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: VectorBusiness,
        personal_exit_u: NDArray[np.float64],
    ) -> None:
        units = business.units
        self.env = env
        self.calendar = calendar
        self.business = business
        self.reserve_left_usd = field(units, "reserve_usd")
        self._draw_target = field(units, "draw_usd_per_month")
        self._floor = field(units, "cash_floor_usd")
        self._ceiling = field(units, "cash_ceiling_usd")
        self._living_share = field(units, "living_share_of_draw")
        self._patience = field(units, "patience_months")
        n = len(units)
        self.lean_months = np.zeros(n)
        self.shortfall_usd = np.zeros(n)
        self.must_stop = np.zeros(n, dtype=bool)
        reviews = [u.end.review if u.end is not None else None for u in units]
        self._reviewing = same_in_all([r is not None for r in reviews], "owner.review")
        if self._reviewing:
            horizon = calendar.horizon_months
            self._expected = np.array(
                [r.expected_usd_per_month[:horizon] for r in reviews if r is not None]
            )
            self._slack = np.array([r.slack_usd_per_month for r in reviews if r is not None])
            self._give_up = np.array([r.give_up_shortfall_usd for r in reviews if r is not None])
        env.process(self.close_books())
        until = runs_until(calendar.horizon_months)
        for r, unit in enumerate(units):
            rate = unit.personal_exit_rate_per_year
            if rate > 0:
                hazard = -math.log1p(-min(rate, 1 - 1e-12)) / 12.0
                after = -math.log1p(-float(personal_exit_u[r])) / hazard
                later(env, until, after, lambda r=r: self.life_happens(r))  # type: ignore[misc]

    def close_books(self) -> Generator[simpy.Event, Any, None]:
        """Each month: cover a shortfall, take a draw, and decide whether to carry on."""
        business = self.business
        while business.is_open.any():
            month = yield self.calendar.next(Phase.CLOSE_BOOKS)
            o = np.flatnonzero(business.is_open)
            earned = business.earned(o)
            cash = business.month_start_cash[o] + earned
            injection = np.minimum(self.reserve_left_usd[o], np.maximum(0.0, -cash))
            pos = np.flatnonzero(injection > 0)
            if pos.size:
                self.reserve_left_usd[o[pos]] -= injection[pos]
                business.flows[o[pos], INJECTION] += injection[pos]
                cash[pos] += injection[pos]
            broke = cash < 0
            for i in np.flatnonzero(broke):
                self.wind_up(int(o[i]), INSOLVENT, float(cash[i]), month)
            going = np.flatnonzero(~broke)
            o, earned, cash = o[going], earned[going], cash[going]
            target = np.where(earned >= 0, self._draw_target[o], 0.0)
            floor_ = self._floor[o]
            draw = np.minimum(target, np.maximum(0.0, cash - floor_))
            draw = draw + np.maximum(0.0, cash - draw - np.maximum(self._ceiling[o], floor_))
            business.flows[o, DRAW] += draw
            gives_up = self.gives_up(o, month, earned)
            stops = gives_up | self.must_stop[o]
            for i in np.flatnonzero(stops):
                reason = GAVE_UP if gives_up[i] else OWNER_EXIT
                self.wind_up(int(o[i]), reason, float(cash[i] - draw[i]), month)

    def gives_up(self, o: Index, month: int, earned: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Whether this month's earnings make each owner stop: the patience rule or the review."""
        if not self._reviewing:
            lean = earned < self._living_share[o] * self._draw_target[o]
            self.lean_months[o] = np.where(lean, self.lean_months[o] + 1, 0.0)
            return np.asarray(self.lean_months[o] >= self._patience[o])
        expected = self._expected[o, month - 1] - self._slack[o]
        shortfall = np.maximum(0.0, self.shortfall_usd[o] + expected - earned)
        self.shortfall_usd[o] = shortfall
        return np.asarray(shortfall > self._give_up[o])

    def wind_up(self, r: int, reason: str, cash_usd: float, month: int) -> None:
        """Close replication ``r``'s business; where closures settle in the books, square them."""
        business = self.business
        end = business.units[r].end
        if end is None or not end.settles_in_ledger:
            business.close(r, reason)
            return
        proceeds, sold, costs = self._sell_or_liquidate(r, reason, month)
        if sold:
            reason = SOLD
        flows = business.flows
        flows[r, ASSET_SALE] += proceeds
        flows[r, CLOSURE_COSTS] += costs
        balance = float(business.loan_balance[r])
        done = settle(
            cash_usd + proceeds - costs, balance, personal_guarantee=end.personal_guarantee
        )
        if done.principal_usd > 0:
            business.pay_debt(r, 0.0, done.principal_usd, balance - done.principal_usd)
        flows[r, INJECTION] += done.guarantee_call_usd
        flows[r, DRAW] += done.distribution_usd
        business.close(r, reason)

    def _sell_or_liquidate(self, r: int, reason: str, month: int) -> tuple[float, bool, float]:
        """The proceeds, whether the business was sold going, and the closing costs."""
        business = self.business
        unit = business.units[r]
        end = unit.end
        assert end is not None
        if reason == OWNER_EXIT and end.sale is not None:
            sale = end.sale
            sale_costs = sum(float(c[r]) for c in business.sale_costs_usd.values())
            price = sale_price(
                annual_earnings_usd(business.operating_profits(r)),
                sale.multiple_of_earnings,
                sale.broker_fee_rate,
                sale.other_costs_usd + sale_costs,
            )
            if price.price_usd > end.liquidation_value_usd:
                return price.proceeds_usd, True, 0.0
        closure = end.closure
        if closure is None:
            return end.liquidation_value_usd, False, 0.0
        lease = lease_settlement_usd(
            unit.rent_usd_per_month, month, closure.lease_months, closure.lease_break_fee_usd
        )
        return end.liquidation_value_usd, False, lease + closure.wind_down_cost_usd

    def life_happens(self, r: int) -> None:
        """A personal reason to stop arrives; the business closes at the month's end."""
        self.must_stop[r] = True
