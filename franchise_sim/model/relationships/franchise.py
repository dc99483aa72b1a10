"""The franchisor over a batch of replications, and the franchise relationship as a value.

The `Franchisor` lends its brand and system to one arm's unit in every
replication of a batch, collects the fees at each month's settlement for the units still open
and standing, and fades the brand at each opening. Each replication's franchisor fails and
suffers brand shocks at its own random times, in SimPy processes of its own.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model.batch_plan import Columns, as_columns
from franchise_sim.model.business import REVENUE, Business
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.plan import FranchisePlan
from franchise_sim.model.relationships.relationship import ArmTerms, Relationship
from franchise_sim.model.schedule import later, runs_until
from franchise_sim.model.streams import (
    BRAND_SHOCK,
    FRANCHISOR_FAILURE,
    BatchStreams,
    exact_pow,
)

COST_LINES = ("royalty", "ad_fund", "franchise_fixed_fees", "renewal_fee", "rebranding")
"""Cost lines the franchise relationship charges; all but rebranding (the de-identification
cost after a failure) are franchise fees."""

FAILED_MONTH = "franchisor_failed_month"
"""Counter: the month the arm's franchisor failed (0 if it did not)."""
BRAND_SHOCKS = "brand_shocks"
"""Counter: brand shocks the arm's franchisor suffered."""


class Franchisor:
    """The franchisor of one arm's unit in every replication of a batch."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        terms: Columns | Sequence[FranchisePlan],
        streams: BatchStreams,
    ) -> None:
        self.env = env
        self.calendar = calendar
        self.business = business
        self.terms = terms = as_columns(terms)
        """The arm's franchise terms (`batch_plan.Columns` of `plan.FranchisePlan`)."""
        n = terms.size
        t = terms.array
        self._royalty = t("royalty_rate")
        self._renewal_royalty = t("renewal_royalty_rate")
        self._ad_fund_rate = t("ad_fund_rate")
        self._fixed_fees = t("fixed_fees_usd_per_month")
        self._term = t("term_months").astype(np.int64)
        self._renewal_fee = t("renewal_fee_usd")
        self._brand_p = t("brand_awareness_p_per_month")
        self._ad_fund_p = t("ad_fund_p_per_month")
        self._half_life = t("brand_fade_half_life_months")
        self._half_share = t("brand_fade_half_customer_share")
        self._awareness_drop = t("brand_shock_awareness_drop")
        self._satisfaction_drop = t("brand_shock_satisfaction_drop")
        self.failed = np.zeros(n, dtype=bool)
        self.failed_month = np.zeros(n, dtype=np.int64)
        self.brand_shocks = np.zeros(n, dtype=np.int64)
        self._shocks_on = np.zeros(n, dtype=np.int64)
        self._brand_fade = np.ones(n)
        business.local_marketing_min_rate[:] = t("local_marketing_min_rate")
        business.variable_cost_factors["purchasing"] = 1.0 - t("purchasing_discount_rate")
        fee = t("transfer_fee_usd")
        business.sale_costs_usd["transfer_fee"] = np.where(fee > 0, fee, 0.0)
        business.innovation_boosts["brand"] = np.zeros(n)
        business.innovation_boosts["ad_fund"] = np.zeros(n)
        business.satisfaction_factors["brand"] = np.ones(n)
        business.satisfaction_factors["support"] = np.ones(n)
        env.process(self.support_unit())
        self._until = runs_until(calendar.horizon_months)
        self._fading = np.flatnonzero(np.isfinite(self._half_life) | np.isfinite(self._half_share))
        if self._fading.size:
            env.process(self.fade_brand())
        failure_u = streams.uniforms(FRANCHISOR_FAILURE)
        shock_rates = t("brand_shock_rate_per_year")
        self._shock_stream = streams.exponentials(
            BRAND_SHOCK, float(shock_rates.max(initial=0.0)) * (calendar.horizon_months + 0.5) / 12
        )
        self._shock_rates = shock_rates.tolist()
        self._shock_months = t("brand_shock_months").tolist()
        failure_rates = t("failure_rate_per_year").tolist()
        for r in range(n):
            if failure_rates[r] > 0:
                hazard = -math.log1p(-min(failure_rates[r], 1 - 1e-12)) / 12.0
                after = -math.log1p(-float(failure_u[r])) / hazard
                later(env, self._until, after, lambda r=r: self.fail(r))  # type: ignore[misc]
            if self._shock_rates[r] > 0:
                self.brand_shock_arrivals(r)

    def support_unit(self) -> Generator[simpy.Event, Any, None]:
        """Lend the brand from opening day; each month, collect the fees on the month's sales."""
        business = self.business
        self._lend_brand(np.arange(self.terms.size))
        while (business.is_open & ~self.failed).any():
            month = yield self.calendar.next(Phase.SETTLE)
            self.collect_fees(np.flatnonzero(business.is_open & ~self.failed), month)

    def _lend_brand(self, where: NDArray[np.intp]) -> None:
        """Set the brand's pull and satisfaction effect, as dented by any current shocks."""
        awareness = np.ones(where.size)
        satisfaction = np.ones(where.size)
        shocks = self._shocks_on[where]
        for j in range(int(shocks.max(initial=0))):
            on = shocks > j
            awareness[on] *= 1.0 - self._awareness_drop[where][on]
            satisfaction[on] *= 1.0 - self._satisfaction_drop[where][on]
        business, fade = self.business, self._brand_fade[where]
        business.innovation_boosts["brand"][where] = self._brand_p[where] * awareness * fade
        business.innovation_boosts["ad_fund"][where] = self._ad_fund_p[where] * awareness * fade
        business.satisfaction_factors["brand"][where] = satisfaction

    def _lend_brand_in(self, r: int) -> None:
        """`_lend_brand` in replication ``r`` alone: the same products, on Python floats.

        A brand shock starts and ends in one replication; the array version costs some 30 us
        on one element, this one a few.
        """
        awareness = 1.0
        satisfaction = 1.0
        if self._shocks_on[r] > 0:
            awareness_kept = 1.0 - float(self._awareness_drop[r])
            satisfaction_kept = 1.0 - float(self._satisfaction_drop[r])
            for _ in range(int(self._shocks_on[r])):
                awareness *= awareness_kept
                satisfaction *= satisfaction_kept
        business, fade = self.business, float(self._brand_fade[r])
        business.innovation_boosts["brand"][r] = float(self._brand_p[r]) * awareness * fade
        business.innovation_boosts["ad_fund"][r] = float(self._ad_fund_p[r]) * awareness * fade
        business.satisfaction_factors["brand"][r] = satisfaction

    def fade_brand(self) -> Generator[simpy.Event, Any, None]:
        """Before each month's trade, weaken the brand's pull as the unit becomes known itself."""
        business = self.business
        fading = np.zeros(self.terms.size, dtype=bool)
        fading[self._fading] = True
        while (business.is_open & ~self.failed & fading).any():
            month = yield self.calendar.next(Phase.OPEN)
            o = np.flatnonzero(business.is_open & ~self.failed & fading)
            potential = business.market.potential_customers[o]
            share = np.zeros(o.size)
            room = potential > 0
            share[room] = (business.loyal[o] + business.casual[o])[room] / potential[room]
            self._brand_fade[o] = brand_fade_factor(
                month - 1, share, self._half_life[o], self._half_share[o]
            )
            self._lend_brand(o)

    def collect_fees(self, o: NDArray[np.intp], month: int) -> None:
        """Charge royalty, ad fund, fixed fees and, at a term's end, the renewal fee."""
        business = self.business
        revenue = business.flows[:, REVENUE][o]
        term = self._term[o]
        renewed = (term > 0) & (month > term)
        royalty = np.where(renewed, self._renewal_royalty[o], self._royalty[o])
        business.charge("royalty", o, revenue * royalty)
        business.charge("ad_fund", o, revenue * self._ad_fund_rate[o])
        business.charge("franchise_fixed_fees", o, self._fixed_fees[o])
        renewing = np.flatnonzero((term > 0) & (month % np.maximum(term, 1) == 0))
        if renewing.size:
            business.charge("renewal_fee", o[renewing], self._renewal_fee[o[renewing]])

    def fail(self, r: int) -> None:
        """Replication ``r``'s franchisor fails: the unit loses all the system brought."""
        business, terms = self.business, self.terms
        if not business.is_open[r] or self.env.now > self.calendar.horizon_months:
            return
        self.failed[r] = True
        failed_month = math.ceil(self.env.now)
        self.failed_month[r] = failed_month
        business.innovation_boosts["brand"][r] = 0.0
        business.innovation_boosts["ad_fund"][r] = 0.0
        business.satisfaction_factors["brand"][r] = 1.0
        business.local_marketing_min_rate[r] = 0.0
        business.sale_costs_usd["transfer_fee"][r] = 0.0
        business.charge("rebranding", r, terms.at(r, "rebranding_cost_usd"))
        if terms.at(r, "failure_withdraws_system"):
            business.variable_cost_factors["purchasing"][r] = 1.0
            support = terms.at(r, "support_quality_share")
            if support > 0:
                business.satisfaction_factors["support"][r] = 1.0 - support
            business.set_offer(
                r,
                terms.at(r, "own_spend_per_visit_usd"),
                terms.at(r, "own_visits_per_customer_per_month"),
                terms.at(r, "own_loyal_share"),
            )
            business.free_to_adapt(r, failed_month - 1)

    def brand_shock_arrivals(self, r: int) -> None:
        """Brand scandals or recalls arrive at random; each fades after its duration.

        Each arrival schedules the next, with a wait drawn from the brand-shock stream.
        """
        wait = self._shock_stream.next(r, 12.0 / self._shock_rates[r])
        later(self.env, self._until, wait, lambda: self._brand_shock(r))

    def _brand_shock(self, r: int) -> None:
        if not self.failed[r]:
            self.brand_shocks[r] += 1
            self._shocks_on[r] += 1
            self._lend_brand_in(r)
            later(
                self.env,
                self._until,
                self._shock_months[r],
                lambda: self._brand_shock_fades(r),
            )
        self.brand_shock_arrivals(r)

    def _brand_shock_fades(self, r: int) -> None:
        self._shocks_on[r] -= 1
        if not self.failed[r]:
            self._lend_brand_in(r)

    def counter(self, name: str) -> NDArray[np.float64]:
        """A counter of this relationship, per replication (see `FRANCHISE.counters`)."""
        values = {FAILED_MONTH: self.failed_month, BRAND_SHOCKS: self.brand_shocks}[name]
        return values.astype(float)


def brand_fade_factor(
    elapsed_months: float | NDArray[np.float64],
    customer_share: float | NDArray[np.float64],
    half_life_months: float | NDArray[np.float64],
    half_customer_share: float | NDArray[np.float64],
) -> NDArray[np.float64]:
    """Share of the brand's pull still working as the unit becomes known in its own right.

    It halves every ``half_life_months`` since opening and every ``half_customer_share`` of
    the market the unit's own customers make up (``inf``: never):
    ``0.5 ** (t / T + c / C)``, so 1 on opening day with no customers of its own (element-wise,
    with ``math.pow``'s numbers).
    """
    exponent = np.asarray(
        np.asarray(elapsed_months, dtype=float) / half_life_months
        + np.asarray(customer_share, dtype=float) / half_customer_share,
        dtype=float,
    )
    return exact_pow(0.5, np.atleast_1d(exponent))


def attach(
    env: simpy.Environment,
    calendar: Calendar,
    business: Business,
    streams: BatchStreams,
    terms: ArmTerms,
) -> Franchisor | None:
    """The franchisor of an arm whose plan has a ``franchise`` section, else None.

    The franchise's terms are drawn with the arm's plan (`plan.FranchisePlan`), not from
    ``terms``: they shape the unit's plan itself (its investment, format and template).
    """
    planned = business.units.part("franchise")
    if planned is None:
        return None
    return Franchisor(env, calendar, business, planned, streams)


FRANCHISE = Relationship(
    name="franchise",
    section="franchise",
    cost_lines=COST_LINES,
    counters=(FAILED_MONTH, BRAND_SHOCKS),
    attach=attach,
)
"""The franchise relationship: its fees' cost lines, its counters and its franchisor."""
