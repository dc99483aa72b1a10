"""The business itself: one arm's unit in every replication of a batch, trading, keeping books.

One actor per arm holds the state of that arm's business in every replication of a batch (numpy
arrays over the replications), and one SimPy process acts in its phase of the month on the
replications still open. Other actors act on it through a small surface: they add to its
awareness (``innovation_boosts``), scale its customers' satisfaction (``satisfaction_factors``)
and its variable-cost rate (``variable_cost_factors``), add to the costs of selling it
(``sale_costs_usd``), charge cost lines (``charge``), collect debt service (``pay_debt``), set the
offer customers meet (``set_offer``) and lift the limit on adapting it to local tastes
(``free_to_adapt``); the owner injects cash, draws it and closes the business. Relationships
other than the franchise use a few more: they send customers (``refer``), bring sales of their
own (``other_sales_usd``), add to or take from its capacity (``capacity_factors``), ask for the
owner's time (``owner_hours``, which overstretches an owner beyond ``spare_hours``), steady the
owner through a bad patch (``persistence_factors``), scale its planned marketing
(``marketing_factors``) and record columns of their own (``record``). A relationship absent
from a replication holds the neutral value there (0 or 1), and a surface nobody uses changes
no number. Every formula keeps
one floating-point order and ``math``'s functions where they set the books (`exact_exp`,
`exact_pow`), so the books are the same for any batch (tests/data/old_engine_books.npz).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model import customers as cx
from franchise_sim.model.batch_plan import Columns, as_columns
from franchise_sim.model.books import (
    MONTH_HEAD,
    MONTH_TAIL,
    U_LOSS_CASUAL,
    U_LOSS_LOYAL,
    U_NEW,
    U_SPLIT,
    U_VISITS,
)
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.plan import UnitPlan
from franchise_sim.model.streams import CompiledMonth, CountQuantiles, exact_exp, exact_pow

Index = NDArray[np.intp]
"""Positions of replications within a batch."""

REVENUE, INTEREST, PRINCIPAL, INJECTION, DRAW, ASSET_SALE, CLOSURE_COSTS = range(7)
"""Columns of a business's month flows."""
LOAN_DUST_USD = 0.005


def field(units: Sequence[UnitPlan], name: str) -> NDArray[np.float64]:
    """One numeric field of every replication's plan of an arm, as an array."""
    return np.array([getattr(unit, name) for unit in units], dtype=float)


def each(function: Callable[[float], float], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``function`` of every element (a Python float each; computed once per distinct value)."""
    made: dict[float, float] = {}
    return np.array([made[v] if v in made else made.setdefault(v, function(v)) for v in x.tolist()])


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
    below = ~(share >= 1.0)
    unknown = (p <= 0.0) & (share <= 0.0)  # nobody aware, nobody to tell
    out[unknown & below] = 0.0
    step = np.flatnonzero(below & ~unknown & ~(p + q > 700.0))
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


class OwnerTime:
    """The owner's time beyond running the business, which relationships draw on.

    Up to ``spare_hours`` a month costs nothing; beyond, service quality falls linearly with
    the hours over, by ``overstretch_quality_drop`` at twice the spare hours, to nothing at
    most (a stated assumption of the scenario's ``owner`` section).

    Args:
        spare_hours: Per replication, the hours a month the owner can spare.
        overstretch_quality_drop: Per replication, the share of quality lost at twice them.
    """

    def __init__(
        self, spare_hours: NDArray[np.float64], overstretch_quality_drop: NDArray[np.float64]
    ) -> None:
        self.spare_hours = spare_hours
        self.overstretch_quality_drop = overstretch_quality_drop

    def focus(self, o: Index, hours: NDArray[np.float64]) -> NDArray[np.float64]:
        """The factor on satisfaction of asking ``hours`` a month of the owners in ``o``."""
        return overstretch_factor(hours, self.spare_hours[o], self.overstretch_quality_drop[o])


def overstretch_factor(
    hours: NDArray[np.float64], spare: NDArray[np.float64], drop: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``1 - drop * (hours - spare) / spare``, between 0 and 1: 1 within the spare hours."""
    over = np.maximum(0.0, hours - spare)
    share = np.divide(over, spare, out=np.where(over > 0, np.inf, 0.0), where=spare > 0)
    return np.asarray(np.clip(1.0 - drop * share, 0.0, 1.0), dtype=float)


class Business:
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
        units: Columns | Sequence[UnitPlan],
        uniforms: NDArray[np.float64],
        winback_uniforms: NDArray[np.float64] | None,
        cost_lines: tuple[str, ...],
        *,
        noisy: bool,
        books: NDArray[np.float64] | None = None,
        counts: CountQuantiles | None = None,
        columns: tuple[str, ...] = (),
        owner_time: OwnerTime | None = None,
    ) -> None:
        self.env = env
        self._counts_of = counts or CountQuantiles()
        self.calendar = calendar
        self.market = market
        units = self.units = as_columns(units)
        """The arm's plans (`batch_plan.Columns` of `plan.UnitPlan`)."""
        self.arm = units.setting("arm")
        self.cost_lines = cost_lines
        self._line = {line: i for i, line in enumerate(cost_lines)}
        self.columns = columns
        """Columns the relationships record, after `MONTH_TAIL` in the books."""
        self._column = {name: i for i, name in enumerate(columns)}
        self._uniforms = uniforms
        self._winback_uniforms = winback_uniforms
        self._noisy = noisy
        n = self.size = units.size
        horizon = calendar.horizon_months
        f = units.array
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
        self._loyal_hazard = each(cx.retention_hazard_per_month, f("loyal_retention_per_year"))
        self._casual_hazard = each(cx.retention_hazard_per_month, f("casual_retention_per_year"))
        self._decay = each(cx.adstock_decay, f("advertising_half_life_months"))
        self.winback = units.setting("lapsed_winback_share")
        self.learning_visits = units.setting("learning_visits")
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
        self.capacity_factors: dict[str, NDArray[np.float64]] = {}
        self.persistence_factors: dict[str, NDArray[np.float64]] = {}
        """Scale the owner's patience and give-up shortfall (`owner.Owner.gives_up`)."""
        self.other_sales_usd: dict[str, NDArray[np.float64]] = {}
        """Sales a relationship brings this month besides visits (set before the trade)."""
        self.owner_hours: dict[str, NDArray[np.float64]] = {}
        """Hours a month each relationship takes of the owner's time."""
        self.marketing_factors: dict[str, NDArray[np.float64]] = {}
        """Scale the planned marketing spend (a relationship's campaigns replacing some)."""
        self.owner_time = owner_time or OwnerTime(np.full(n, math.inf), np.zeros(n))
        self._referred: list[tuple[str, Index, NDArray[np.float64], NDArray[np.float64]]] = []
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
        # The month's running totals, one row per flow, cost line, count or recorded column and
        # one element per replication (`flows`, `costs` and `recorded` show them by replication):
        # a row is contiguous, so a month's sums and its books take a few calls on whole rows.
        self._flows = np.zeros((7, n))
        self._costs = np.zeros((len(cost_lines), n))
        self._recorded = np.zeros((len(columns), n))
        self._counts = np.zeros((5, n))
        width = len(MONTH_HEAD) + len(cost_lines) + len(MONTH_TAIL) + len(columns)
        self.records = np.zeros((n, horizon, width)) if books is None else books
        """The books: array (replication, month, column)."""
        self.months_reported = np.zeros(n, dtype=np.int64)
        self._tail = len(MONTH_HEAD) + len(cost_lines)
        self._profit_column = self._tail + 1
        env.process(self.run())

    @property
    def compiled_month(self) -> CompiledMonth | None:
        """The compiled parts of a month this batch takes (`compiled_month`), or None: numpy's."""
        return self._counts_of.month

    @property
    def flows(self) -> NDArray[np.float64]:
        """The month's flows so far, array (replication, flow) in the order of `REVENUE` etc.

        A view: writing to it books the flows.
        """
        return self._flows.T

    @property
    def costs(self) -> NDArray[np.float64]:
        """The month's costs so far, array (replication, cost line); a view, as `flows`."""
        return self._costs.T

    @property
    def recorded(self) -> NDArray[np.float64]:
        """The month's relationship columns so far, array (replication, column); a view."""
        return self._recorded.T

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
        new, lost, returning = self._win_and_lose_customers(o, u, satisfaction, month)
        if self._referred:
            new = self._take_referred(o, new)
        self._serve_visits(o, new, lost, returning)

    def _customer_satisfaction(self, o: Index, elapsed: int) -> NDArray[np.float64]:
        """Quality (learning curve, staff gaps) x fit to local tastes x service x partners."""
        compiled = self.compiled_month
        if compiled is not None:  # the same numbers, unless an exponential is out of range
            satisfaction, done = compiled.customer_satisfaction(
                o,
                elapsed,
                self._learned_quality,
                self.learning_visits is not None,
                self.learning_visits or 1.0,
                self._quality,
                self._start_quality,
                self.visits_served_to_date,
                self.taste_fit,
                self.vacancies,
                self.vacancy_quality_drop,
                self._overload_penalty,
                self._overload_share,
                _rows(self.satisfaction_factors),
            )
            if done:
                if self.owner_hours:
                    satisfaction *= self.owner_time.focus(o, self.hours_asked(o))
                return np.asarray(satisfaction, dtype=float)
        if self.learning_visits is None:
            quality = self._learned_quality[:, elapsed][o]
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
        satisfaction = quality * self.taste_fit[:, elapsed][o] * served_share
        for factor in self.satisfaction_factors.values():
            satisfaction *= factor[o]
        if self.owner_hours:
            satisfaction *= self.owner_time.focus(o, self.hours_asked(o))
        return np.asarray(satisfaction, dtype=float)

    def hours_asked(self, o: Index) -> NDArray[np.float64]:
        """Hours a month the relationships take of the owner's time, in all."""
        hours = np.zeros(o.size)
        for asked in self.owner_hours.values():
            hours = hours + asked[o]
        return hours

    def _win_and_lose_customers(
        self, o: Index, u: NDArray[np.float64], satisfaction: NDArray[np.float64], month: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Bass adoption among non-customers; departures from each loyalty segment.

        Returns the new customers, the customers lost and the visits of those retained. The
        counts are drawn by kind, each in one call: the departures (and the lapsed won back),
        then the new customers and the visits, which need the customers retained; each count
        has its own uniform, so drawing them together gives the same counts as one by one.
        Where this process has the compiled kernels, they take the month instead, to the same
        numbers (`compiled_month`), unless some number is one they leave to this code.
        """
        boosts = np.zeros(o.size)
        for boost in self.innovation_boosts.values():
            boosts = boosts + boost[o]
        compiled = self.compiled_month if self._noisy else None
        if compiled is not None:
            winback_u = None
            if self.winback is not None:
                assert self._winback_uniforms is not None
                winback_u = self._winback_uniforms[o, month - 1]
            done = compiled.win_and_lose(
                o,
                u,
                winback_u,
                satisfaction,
                boosts,
                self._customer_arrays(),
                self.market,
                self.winback,
            )
            if done is not None:
                return done
        decay = self._decay[o]
        advertising = decay * self._advertising_p[o] + (1.0 - decay) * self._marketing_p[o] * (
            self._last_marketing_usd[o] / 1000.0
        )
        self._advertising_p[o] = advertising
        p = self._innovation[o] + advertising + boosts
        q = self._imitation[o] * np.maximum(0.0, satisfaction)
        potential = self.market.potential_customers[o]
        lapsed: NDArray[np.float64] | None = None
        back_share: NDArray[np.float64] | None = None
        if self.winback is None:
            mean_new, most_new = self._new_in_market(o, potential, p, q)
        else:
            mean_new, most_new, lapsed, back_share = self._new_and_lapsed(
                o, potential, p, q, self.winback
            )
        dissatisfaction = 1.0 - np.minimum(1.0, np.maximum(0.0, satisfaction))
        stress = 1.0 + self._sensitivity[o] * dissatisfaction
        churn = 1.0 - exact_exp(  # both segments in one call
            np.concatenate((-self._loyal_hazard[o] * stress, -self._casual_hazard[o] * stress))
        )
        churn_loyal, churn_casual = churn[: o.size], churn[o.size :]
        loyal, casual = self.loyal[o], self.casual[o]
        back: NDArray[np.float64] | None = None
        if self._noisy:
            # both segments' departures and the lapsed won back in one call
            trials = [whole(loyal), whole(casual)]
            shares = [churn]
            uniforms = [u[:, U_LOSS_LOYAL], u[:, U_LOSS_CASUAL]]
            if lapsed is not None and back_share is not None:
                assert self._winback_uniforms is not None
                trials.append(whole(lapsed))
                shares.append(back_share)
                uniforms.append(self._winback_uniforms[o, month - 1])
            drawn = self._counts_of.binomial(
                np.concatenate(uniforms), np.concatenate(trials), np.concatenate(shares)
            )
            lost_loyal, lost_casual = drawn[: o.size], drawn[o.size : 2 * o.size]
            if lapsed is not None:
                back = drawn[2 * o.size :]
        else:
            lost_loyal = loyal * churn_loyal
            lost_casual = casual * churn_casual
            if lapsed is not None and back_share is not None:
                back = lapsed * back_share
        loyal = loyal - lost_loyal
        casual = casual - lost_casual
        retained = self._retained[o] = loyal + casual
        market = self.market
        mean_returning = (
            retained * self.visit_rate[o] * market.season_factor * market.economy_factor[o]
        )
        if self._noisy:
            drawn = self._counts_of.poisson(
                np.concatenate((u[:, U_NEW], u[:, U_VISITS])),
                np.concatenate((mean_new, mean_returning)),
            )
            new, returning = np.minimum(drawn[: o.size], most_new), drawn[o.size :]
        else:
            new, returning = mean_new, mean_returning
        if lapsed is not None and back is not None:
            lapsed = lapsed - back
            new = np.asarray(new + back, dtype=float)
        new_loyal = (
            floor(new * self.loyal_share[o] + u[:, U_SPLIT])
            if self._noisy
            else new * self.loyal_share[o]
        )
        self.loyal[o] = loyal + new_loyal
        self.casual[o] = casual + (new - new_loyal)
        if lapsed is not None:  # those still away, and those who left this month
            self.lapsed[o] = lapsed + (lost_loyal + lost_casual)
        return new, lost_loyal + lost_casual, returning

    def _customer_arrays(self) -> cx.CustomerArrays:
        """The arrays the compiled month reads and changes (read afresh each month)."""
        return cx.CustomerArrays(
            self.loyal,
            self.casual,
            self.lapsed,
            self._retained,
            self._advertising_p,
            self._decay,
            self._marketing_p,
            self._last_marketing_usd,
            self._innovation,
            self._imitation,
            self._sensitivity,
            self._loyal_hazard,
            self._casual_hazard,
            self.visit_rate,
            self.loyal_share,
        )

    def _new_in_market(
        self,
        o: Index,
        potential: NDArray[np.float64],
        p: NDArray[np.float64],
        q: NDArray[np.float64],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Bass adopters among everyone in the market who is not a customer: mean, at most."""
        start = self.loyal[o] + self.casual[o]
        mean_new = np.zeros(o.size)
        room, share, stepped = bass_steps(potential, start, p, q)
        mean_new[room] = potential[room] * (stepped - share)
        return mean_new, np.maximum(0.0, potential - start)

    def _new_and_lapsed(
        self,
        o: Index,
        potential: NDArray[np.float64],
        p: NDArray[np.float64],
        q: NDArray[np.float64],
        winback: float,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Adopters among those never customers, and lapsed customers won back more slowly.

        Returns the adopters' mean and most, the lapsed customers who may come back and the
        share of them who do.
        """
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
        most = floor(never) if self._noisy else never
        return never * adoption, most, lapsed, back_share

    def _serve_visits(
        self,
        o: Index,
        new: NDArray[np.float64],
        lost: NDArray[np.float64],
        returning: NDArray[np.float64],
    ) -> None:
        """New customers come in once; the rest return at their rate; capacity caps service."""
        compiled = self.compiled_month
        if compiled is not None:  # the same numbers in one loop
            compiled.serve_visits(
                o,
                new,
                lost,
                returning,
                self._capacity,
                self.capacity_lost_share,
                _rows(self.capacity_factors),
                self.spend,
                _rows(self.other_sales_usd),
                self.loyal,
                self.casual,
                self.visits_served_to_date,
                self._overload_share,
                self._flows[REVENUE],
                self._counts,
            )
            return
        visits = new + returning
        capacity = self._capacity[o] * (1.0 - self.capacity_lost_share[o])
        for factor in self.capacity_factors.values():
            capacity = capacity * factor[o]
        served = np.minimum(visits, capacity)
        self.visits_served_to_date[o] += served
        overload = np.divide(visits - served, visits, out=np.zeros(o.size), where=visits > 0)
        self._overload_share[o] = overload
        self.capacity_lost_share[o] = 0.0
        revenue = self._flows[REVENUE]
        revenue[o] = served * self.spend[o]
        for sales in self.other_sales_usd.values():
            revenue[o] += sales[o]
        counts = self._counts
        counts[0][o] = self.loyal[o] + self.casual[o]  # a row, then the replications: cheaper
        counts[1][o] = new
        counts[2][o] = lost
        counts[3][o] = visits
        counts[4][o] = served

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

    def refer(
        self,
        column: str,
        where: Index,
        loyal: NDArray[np.float64],
        casual: NDArray[np.float64],
    ) -> None:
        """Send whole customers to this month's trade, recorded under ``column``.

        They join after the month's adoption and departures, as far as the market has room
        (the loyal first), and come in once like any new customer. Call before the trade.
        """
        self._referred.append((column, where, loyal, casual))

    def _take_referred(self, o: Index, new: NDArray[np.float64]) -> NDArray[np.float64]:
        """Add the referred customers to the segments and to the month's new customers."""
        position = np.full(self.size, -1)
        position[o] = np.arange(o.size)
        new = new.copy()
        for column, where, loyal_in, casual_in in self._referred:
            at = position[where]
            keep = at >= 0  # a business closed since the referral takes no one
            r, i = where[keep], at[keep]
            room = np.maximum(
                0.0, self.market.potential_customers[r] - (self.loyal[r] + self.casual[r])
            )
            loyal = np.minimum(loyal_in[keep], room)
            casual = np.minimum(casual_in[keep], room - loyal)
            self.loyal[r] += loyal
            self.casual[r] += casual
            new[i] += loyal + casual
            self.record(column, r, loyal + casual)
        self._referred = []
        return new

    def record(self, column: str, where: Index | int, value: NDArray[np.float64] | float) -> None:
        """Add to a relationship's own column of this month's books."""
        self._recorded[self._column[column]][where] += value

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
        self._costs[self._line[line]][where] += usd

    def pay_running_costs(self, o: Index) -> None:
        """Charge this month's variable and fixed running costs and local advertising."""
        revenue = self._flows[REVENUE][o]
        planned = self._marketing[o]
        for factor in self.marketing_factors.values():
            planned = planned * factor[o]
        marketing = np.maximum(planned, revenue * self.local_marketing_min_rate[o])
        self._last_marketing_usd[o] = marketing
        rate = self._variable_rate[o]
        for factor in self.variable_cost_factors.values():
            rate = rate * factor[o]
        costs, line = self._costs, self._line
        costs[line["variable_costs"]][o] += revenue * rate
        costs[line["payroll"]][o] += self._payroll[o]
        costs[line["rent"]][o] += self._rent[o]
        costs[line["other_fixed"]][o] += self._other_fixed[o]
        costs[line["marketing"]][o] += marketing

    def pay_debt(
        self,
        where: Index | int,
        interest_usd: NDArray[np.float64] | float,
        principal_usd: NDArray[np.float64] | float,
        balance_after_usd: NDArray[np.float64] | float,
    ) -> None:
        """Record the month's loan instalment."""
        self._flows[INTEREST][where] += interest_usd
        self._flows[PRINCIPAL][where] += principal_usd
        self.loan_balance[where] = balance_after_usd

    def operating_costs(self, o: Index | int) -> NDArray[np.float64]:
        """The month's operating costs so far: every cost line added in order."""
        if isinstance(o, (int, np.integer)):
            return np.asarray(_sum_in_order(self._costs[:, o].tolist()))
        return self._operating(o)

    def _operating(self, o: Index) -> NDArray[np.float64]:
        """`operating_costs` of the replications in ``o`` (`sum_rows`, then those of ``o``)."""
        total = sum_rows(self._costs)
        return total if o.size == self.size else total[o]

    def earned(self, o: Index) -> NDArray[np.float64]:
        """The month's operating profit less debt service (`MonthLedger`'s order)."""
        flows = self._flows
        earned: NDArray[np.float64] = (
            flows[REVENUE] - sum_rows(self._costs) - flows[INTEREST] - flows[PRINCIPAL]
        )
        return earned if o.size == self.size else earned[o]

    def operating_profits(self, r: int) -> list[float]:
        """Replication ``r``'s operating profit of every month traded so far, this one's too."""
        past = self.records[r, : self.months_reported[r], self._profit_column].tolist()
        now = float(self._flows[REVENUE, r]) - float(self.operating_costs(r))
        return [*past, now]

    def close(self, r: int, reason: str) -> None:
        """Close replication ``r``'s business at the end of this month."""
        self.is_open[r] = False
        self.closure_reason[r] = reason

    def report(self, o: Index, month: int) -> None:
        """Settle the month's cash and record the month of the replications in ``o``.

        The sums run over every replication's month at once (element by element, so each is its
        own), then the rows of those that closed before this month go back to nothing: cheaper
        than copies through ``o``, and the same numbers.
        """
        compiled = self.compiled_month
        if compiled is not None:  # the same numbers, a row at a time (`compiled_month`)
            compiled.record_month(
                o,
                month,
                self._flows,
                self._costs,
                self._counts,
                self._recorded,
                self.records,
                self.month_start_cash,
                self.cash,
                self.loan_balance,
                self.satisfaction,
                self.is_open,
                self.months_reported,
            )
            return
        flows, costs = self._flows, self._costs
        operating = sum_rows(costs)
        profit = flows[REVENUE] - operating
        before_owner = profit - flows[INTEREST] - flows[PRINCIPAL]
        cash_flow = (
            before_owner + flows[INJECTION] - flows[DRAW] + flows[ASSET_SALE] - flows[CLOSURE_COSTS]
        )
        cash = self.month_start_cash + cash_flow
        row = self.records[:, month - 1]
        head, tail = len(MONTH_HEAD), self._tail
        row[:, : head - 1] = self._counts.T
        row[:, head - 1] = flows[REVENUE]
        row[:, head:tail] = costs.T
        row[:, tail] = operating
        row[:, tail + 1] = profit
        row[:, tail + 2 : tail + 8] = flows[INTEREST:].T  # interest to closure costs, in order
        row[:, tail + 8] = cash_flow
        row[:, tail + 9] = cash
        row[:, tail + 10] = self.loan_balance
        row[:, tail + 11] = self.satisfaction
        row[:, tail + 12] = self.is_open
        row[:, tail + 13 :] = self._recorded.T
        if o.size < self.size:
            closed = np.ones(self.size, dtype=bool)
            closed[o] = False
            row[closed] = 0.0  # no books after a business's last month (see `books`)
            cash = cash[o]
        # Nothing is booked to a closed business, and nothing reads its month again: every
        # replication's month starts afresh.
        flows.fill(0.0)
        costs.fill(0.0)
        self._recorded.fill(0.0)
        self.cash[o] = cash
        self.months_reported[o] = month
        self.month_start_cash[o] = cash

    def books(self) -> NDArray[np.float64]:
        """Array (replication, month, column); after a closure, balances frozen, no flows."""
        books = self.records
        tail = len(MONTH_HEAD) + len(self.cost_lines)
        cash_col = tail + MONTH_TAIL.index("cash")
        loan_col = tail + MONTH_TAIL.index("loan_balance")
        horizon = books.shape[1]
        for r in np.flatnonzero(self.months_reported < horizon):
            last = int(self.months_reported[r])
            books[r, last:, cash_col] = books[r, last - 1, cash_col]
            books[r, last:, loan_col] = books[r, last - 1, loan_col]
        return books


_NO_ROWS = np.zeros((0, 0))


def _rows(arrays: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    """The relationships' arrays as rows, in their order (none: no rows), for the compiled month."""
    return np.stack(list(arrays.values())) if arrays else _NO_ROWS


def sum_rows(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    """``rows[0] + rows[1] + ...`` element by element, added in that order.

    Reducing over the first axis of a C-contiguous array adds the rows in order (numpy's
    pairwise summation runs only along the contiguous axis), so it is the loop's sum to the bit;
    a single column, or a single row, is summed by the loop itself.
    """
    if rows.shape[1] > 1 and rows.shape[0] > 1 and rows.flags.c_contiguous:
        summed: NDArray[np.float64] = np.add.reduce(rows, axis=0)
        return summed
    if rows.shape[1] == 1 and rows.shape[0]:  # one replication (a plan on paper): as floats
        column = rows[:, 0].tolist()
        return np.array([_sum_in_order(column[1:], column[0])])
    total = rows[0].copy() if rows.shape[0] else np.zeros(rows.shape[1])
    for row in rows[1:]:
        total += row
    return total


def _sum_in_order(values: Sequence[float], start: float = 0.0) -> float:
    """The loop's sum of Python floats, in order, from ``start`` (as `sum_rows` of one column)."""
    total = start
    for value in values:
        total = total + value
    return total


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
