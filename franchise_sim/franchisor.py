"""The franchisor: lends its brand and template, collects fees, and can falter or fail.

While the franchisor stands, its brand adds to the unit's awareness (the head start of a known
name) and the system's ad fund adds more; the unit pays royalty and ad-fund shares of its sales,
fixed monthly fees, and a renewal fee at the end of each term. A brand shock dents awareness and
customers' satisfaction for a while. If the franchisor fails, the support and the fees stop, the
brand's pull is gone, and the unit pays to go on alone under its own name.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from franchise_sim.business import Business
from franchise_sim.calendar import Calendar, Phase
from franchise_sim.money import share_of_sales
from franchise_sim.plan import FranchisePlan
from franchise_sim.randomness import ReplicationStreams
from franchise_sim.relationships import register_relationship

COST_LINES = ("royalty", "ad_fund", "franchise_fixed_fees", "renewal_fee", "rebranding")
"""Cost lines the franchise relationship charges; all but rebranding are franchise fees."""
FEE_LINES = COST_LINES[:4]
"""The franchise fees proper."""


class Franchisor:
    """The franchisor of one franchise unit."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        terms: FranchisePlan,
        streams: ReplicationStreams,
    ) -> None:
        self.env = env
        self.calendar = calendar
        self.business = business
        self.terms = terms
        self.failed = False
        self.failed_month: int | None = None
        self.brand_shocks = 0
        self._shock_drops: list[tuple[float, float]] = []
        self._brand_shock_stream = streams.generator("franchisor.brand_shock")
        business.local_marketing_min_rate = terms.local_marketing_min_rate
        env.process(self.support_unit())
        if terms.failure_rate_per_year > 0:
            hazard = -math.log1p(-min(terms.failure_rate_per_year, 1 - 1e-12)) / 12.0
            u = streams.uniform("franchisor.failure")
            env.process(self.fail_after(-math.log1p(-u) / hazard))
        if terms.brand_shock_rate_per_year > 0:
            env.process(self.brand_shock_arrivals())

    def support_unit(self) -> Generator[simpy.Event, Any, None]:
        """Lend the brand from opening day; each month, collect the fees on the month's sales."""
        business = self.business
        self._lend_brand()
        while business.is_open and not self.failed:
            month = yield self.calendar.next(Phase.SETTLE)
            if not self.failed:
                self.collect_fees(month)

    def _lend_brand(self) -> None:
        """Set the brand's pull and satisfaction effect, as dented by any current shocks."""
        terms = self.terms
        awareness, satisfaction = 1.0, 1.0
        for awareness_drop, satisfaction_drop in self._shock_drops:
            awareness *= 1.0 - awareness_drop
            satisfaction *= 1.0 - satisfaction_drop
        boosts = self.business.innovation_boosts
        boosts["brand"] = terms.brand_awareness_p_per_month * awareness
        boosts["ad_fund"] = terms.ad_fund_p_per_month * awareness
        self.business.satisfaction_factors["brand"] = satisfaction

    def collect_fees(self, month: int) -> None:
        """Charge royalty, ad fund, fixed fees and, at a term's end, the renewal fee."""
        terms, business = self.terms, self.business
        revenue = business.revenue_usd
        business.charge("royalty", share_of_sales(revenue, terms.royalty_rate))
        business.charge("ad_fund", share_of_sales(revenue, terms.ad_fund_rate))
        business.charge("franchise_fixed_fees", terms.fixed_fees_usd_per_month)
        if terms.term_months > 0 and month % terms.term_months == 0:
            business.charge("renewal_fee", terms.renewal_fee_usd)

    def fail_after(self, months: float) -> Generator[simpy.Event, Any, None]:
        """The franchisor fails: the unit loses brand and support and pays to rebrand."""
        yield self.env.timeout(months)
        business = self.business
        if not business.is_open:
            return
        self.failed = True
        self.failed_month = math.ceil(self.env.now)
        business.innovation_boosts.pop("brand", None)
        business.innovation_boosts.pop("ad_fund", None)
        business.satisfaction_factors.pop("brand", None)
        business.local_marketing_min_rate = 0.0
        business.charge("rebranding", self.terms.rebranding_cost_usd)

    def brand_shock_arrivals(self) -> Generator[simpy.Event, Any, None]:
        """Brand scandals or recalls arrive at random; each fades after its duration."""
        terms = self.terms
        while True:
            yield self.env.timeout(
                self._brand_shock_stream.exponential(12.0 / terms.brand_shock_rate_per_year)
            )
            if not self.failed:
                self.brand_shocks += 1
                self.env.process(self._brand_shock())

    def _brand_shock(self) -> Generator[simpy.Event, Any, None]:
        drops = (self.terms.brand_shock_awareness_drop, self.terms.brand_shock_satisfaction_drop)
        self._shock_drops.append(drops)
        self._lend_brand()
        yield self.env.timeout(self.terms.brand_shock_months)
        self._shock_drops.remove(drops)
        if not self.failed:
            self._lend_brand()


def _attach(
    env: simpy.Environment, calendar: Calendar, business: Business, streams: ReplicationStreams
) -> Franchisor | None:
    terms = business.plan.franchise
    return None if terms is None else Franchisor(env, calendar, business, terms, streams)


register_relationship("franchise", COST_LINES, _attach)
