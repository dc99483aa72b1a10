"""The owner: the person behind one arm's business in every replication of a batch.

Covers shortfalls from savings, draws a living, reviews the business against what was expected
and closes it (insolvent, gave up, a personal exit, or sold as a going concern).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model.books import (
    GAVE_UP,
    INSOLVENT,
    OWNER_EXIT,
    OWNER_GIVES_UP,
    OWNER_INSOLVENT,
    SOLD,
)
from franchise_sim.model.business import (
    ASSET_SALE,
    CLOSURE_COSTS,
    DRAW,
    INJECTION,
    Business,
    Index,
)
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.money import (
    annual_earnings_usd,
    lease_settlement_usd,
    sale_price,
    settle,
)
from franchise_sim.model.schedule import later, runs_until
from franchise_sim.model.streams import CompiledMonth

_UNUSED = np.zeros(0)
_UNUSED_TABLE = np.zeros((0, 0))
"""What the compiled close takes for the arrays of the rule (patience or review) not in use."""


class Owner:
    """`owner.Owner` over a batch: covers shortfalls, draws a living, decides to go on."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        personal_exit_u: NDArray[np.float64],
    ) -> None:
        units = business.units
        self.env = env
        self.calendar = calendar
        self.business = business
        self.reserve_left_usd = units.array("reserve_usd")
        self._draw_target = units.array("draw_usd_per_month")
        self._floor = units.array("cash_floor_usd")
        self._ceiling = units.array("cash_ceiling_usd")
        self._living_share = units.array("living_share_of_draw")
        self._patience = units.array("patience_months")
        n = units.size
        self.lean_months = np.zeros(n)
        self.shortfall_usd = np.zeros(n)
        self.must_stop = np.zeros(n, dtype=bool)
        self._end = end = units.part("end")
        review = None if end is None else end.part("review")
        self._sale = None if end is None else end.part("sale")
        self._closure = None if end is None else end.part("closure")
        self._reviewing = review is not None
        if review is not None:
            horizon = calendar.horizon_months
            self._expected = review.array("expected_usd_per_month")[:, :horizon]
            self._slack = review.array("slack_usd_per_month")
            self._give_up = review.array("give_up_shortfall_usd")
        env.process(self.close_books())
        until = runs_until(calendar.horizon_months)
        rates = units.array("personal_exit_rate_per_year").tolist()
        for r, rate in enumerate(rates):
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
            if business.compiled_month is not None:
                self._close_books_compiled(o, month, business.compiled_month)
                continue
            earned = business.earned(o)
            cash = business.month_start_cash[o] + earned
            injection = np.minimum(self.reserve_left_usd[o], np.maximum(0.0, -cash))
            pos = np.flatnonzero(injection > 0)
            if pos.size:
                self.reserve_left_usd[o[pos]] -= injection[pos]
                business.flows[:, INJECTION][o[pos]] += injection[pos]
                cash[pos] += injection[pos]
            broke = cash < 0
            if broke.any():
                for i in np.flatnonzero(broke):
                    self.wind_up(int(o[i]), INSOLVENT, float(cash[i]), month)
                going = np.flatnonzero(~broke)
                o, earned, cash = o[going], earned[going], cash[going]
            target = np.where(earned >= 0, self._draw_target[o], 0.0)
            floor_ = self._floor[o]
            draw = np.minimum(target, np.maximum(0.0, cash - floor_))
            draw = draw + np.maximum(0.0, cash - draw - np.maximum(self._ceiling[o], floor_))
            business.flows[:, DRAW][o] += draw
            gives_up = self.gives_up(o, month, earned)
            stops = gives_up | self.must_stop[o]
            for i in np.flatnonzero(stops):
                reason = GAVE_UP if gives_up[i] else OWNER_EXIT
                self.wind_up(int(o[i]), reason, float(cash[i] - draw[i]), month)

    def _close_books_compiled(self, o: Index, month: int, compiled: CompiledMonth) -> None:
        """`close_books`' month in one compiled loop (`compiled_month`), then the closures.

        The same numbers: the loop covers, draws and reviews in this order and arithmetic, and
        the owners it finds insolvent, then those who stop, are wound up here in that order.
        """
        business = self.business
        reviewing = self._reviewing
        fate, closing = compiled.close_books_month(
            o,
            month,
            business.flows.T,  # a row per flow, as the books keep them
            business.costs.T,
            business.month_start_cash,
            self.reserve_left_usd,
            self._draw_target,
            self._floor,
            self._ceiling,
            self.must_stop,
            reviewing,
            self._living_share,
            self.lean_months,
            _UNUSED if reviewing else self._steadied_everywhere(self._patience),
            self._expected if reviewing else _UNUSED_TABLE,
            self._slack if reviewing else _UNUSED,
            self.shortfall_usd,
            self._steadied_everywhere(self._give_up) if reviewing else _UNUSED,
        )
        for i in np.flatnonzero(fate == OWNER_INSOLVENT).tolist():
            self.wind_up(int(o[i]), INSOLVENT, float(closing[i]), month)
        for i in np.flatnonzero(fate > OWNER_INSOLVENT).tolist():
            reason = GAVE_UP if fate[i] == OWNER_GIVES_UP else OWNER_EXIT
            self.wind_up(int(o[i]), reason, float(closing[i]), month)

    def gives_up(self, o: Index, month: int, earned: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Whether this month's earnings make each owner stop: the patience rule or the review."""
        if not self._reviewing:
            lean = earned < self._living_share[o] * self._draw_target[o]
            self.lean_months[o] = np.where(lean, self.lean_months[o] + 1, 0.0)
            return np.asarray(self.lean_months[o] >= self._steadied(self._patience, o))
        expected = self._expected[:, month - 1][o] - self._slack[o]
        shortfall = np.maximum(0.0, self.shortfall_usd[o] + expected - earned)
        self.shortfall_usd[o] = shortfall
        return np.asarray(shortfall > self._steadied(self._give_up, o))

    def _steadied_everywhere(self, limit: NDArray[np.float64]) -> NDArray[np.float64]:
        """`_steadied` in every replication (the same products, element by element)."""
        for factor in self.business.persistence_factors.values():
            limit = limit * factor
        return limit

    def _steadied(self, limit: NDArray[np.float64], o: Index) -> NDArray[np.float64]:
        """The owner's limit in ``o``, scaled by what steadies them (peers, partners)."""
        limit = limit[o]
        for factor in self.business.persistence_factors.values():
            limit = limit * factor[o]
        return limit

    def wind_up(self, r: int, reason: str, cash_usd: float, month: int) -> None:
        """Close replication ``r``'s business; where closures settle in the books, square them."""
        business = self.business
        end = self._end
        if end is None or not end.each("settles_in_ledger")[r]:
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
            cash_usd + proceeds - costs,
            balance,
            personal_guarantee=end.each("personal_guarantee")[r],
        )
        if done.principal_usd > 0:
            business.pay_debt(r, 0.0, done.principal_usd, balance - done.principal_usd)
        flows[r, INJECTION] += done.guarantee_call_usd
        flows[r, DRAW] += done.distribution_usd
        business.close(r, reason)

    def _sell_or_liquidate(self, r: int, reason: str, month: int) -> tuple[float, bool, float]:
        """The proceeds, whether the business was sold going, and the closing costs."""
        business = self.business
        end = self._end
        assert end is not None
        liquidation = end.each("liquidation_value_usd")[r]
        sale = self._sale
        if reason == OWNER_EXIT and sale is not None:
            sale_costs = sum(float(c[r]) for c in business.sale_costs_usd.values())
            price = sale_price(
                annual_earnings_usd(business.operating_profits(r)),
                sale.each("multiple_of_earnings")[r],
                sale.each("broker_fee_rate")[r],
                sale.each("other_costs_usd")[r] + sale_costs,
            )
            if price.price_usd > liquidation:
                return price.proceeds_usd, True, 0.0
        closure = self._closure
        if closure is None:
            return liquidation, False, 0.0
        lease = lease_settlement_usd(
            business.units.each("rent_usd_per_month")[r],
            month,
            closure.each("lease_months")[r],
            closure.each("lease_break_fee_usd")[r],
        )
        return liquidation, False, lease + closure.each("wind_down_cost_usd")[r]

    def life_happens(self, r: int) -> None:
        """A personal reason to stop arrives; the business closes at the month's end."""
        self.must_stop[r] = True
