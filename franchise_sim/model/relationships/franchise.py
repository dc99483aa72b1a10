"""The franchisor: lends its brand and system, collects fees, and can falter or fail.

While the franchisor stands, its brand adds to the unit's awareness (the head start of a known
name) and the system's ad fund adds more; where a fade is set, that pull halves with time or
with the unit's own customer base as its own reputation takes over. The system's purchasing cuts
the unit's variable costs. The unit pays royalty and ad-fund shares of its sales, fixed monthly
fees, and a renewal fee at the end of each term (after which a renewal royalty may apply); a
sale of the unit owes a transfer fee. A brand shock dents awareness and customers' satisfaction
for a while.

If the franchisor fails, everything the system brought goes: the fees stop, the brand's pull,
the purchasing discount and the support (``template.support_quality_share``) are gone, the
demand side of the format (ticket, visit rate, loyal share) reverts to the unit's own, and the
limit on local customization lifts, so the offer adapts to local tastes from then on like an
independent's. The physical side of the format (capacity, rent, payroll) stays. The unit pays
the de-identification cost (``rebranding``) to go on alone under its own name.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.money import share_of_sales
from franchise_sim.model.plan import FranchisePlan
from franchise_sim.model.randomness import ReplicationStreams
from franchise_sim.model.relationships import register_relationship

COST_LINES = ("royalty", "ad_fund", "franchise_fixed_fees", "renewal_fee", "rebranding")
"""Cost lines the franchise relationship charges; all but rebranding (the de-identification
cost after a failure) are franchise fees."""
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
        self._brand_fade = 1.0
        business.local_marketing_min_rate = terms.local_marketing_min_rate
        business.variable_cost_factors["purchasing"] = 1.0 - terms.purchasing_discount_rate
        if terms.transfer_fee_usd > 0:
            business.sale_costs_usd["transfer_fee"] = terms.transfer_fee_usd
        env.process(self.support_unit())
        if math.isfinite(terms.brand_fade_half_life_months) or math.isfinite(
            terms.brand_fade_half_customer_share
        ):
            env.process(self.fade_brand())
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
        boosts["brand"] = terms.brand_awareness_p_per_month * awareness * self._brand_fade
        boosts["ad_fund"] = terms.ad_fund_p_per_month * awareness * self._brand_fade
        self.business.satisfaction_factors["brand"] = satisfaction

    def fade_brand(self) -> Generator[simpy.Event, Any, None]:
        """Before each month's trade, weaken the brand's pull as the unit becomes known itself."""
        business, terms = self.business, self.terms
        while business.is_open and not self.failed:
            month = yield self.calendar.next(Phase.OPEN)
            if self.failed:
                break
            self._brand_fade = brand_fade_factor(
                month - 1,
                business.customers / business.market.potential_customers
                if business.market.potential_customers > 0
                else 0.0,
                terms.brand_fade_half_life_months,
                terms.brand_fade_half_customer_share,
            )
            self._lend_brand()

    def collect_fees(self, month: int) -> None:
        """Charge royalty, ad fund, fixed fees and, at a term's end, the renewal fee."""
        terms, business = self.terms, self.business
        revenue = business.revenue_usd
        renewed = terms.term_months > 0 and month > terms.term_months
        royalty = terms.renewal_royalty_rate if renewed else terms.royalty_rate
        business.charge("royalty", share_of_sales(revenue, royalty))
        business.charge("ad_fund", share_of_sales(revenue, terms.ad_fund_rate))
        business.charge("franchise_fixed_fees", terms.fixed_fees_usd_per_month)
        if terms.term_months > 0 and month % terms.term_months == 0:
            business.charge("renewal_fee", terms.renewal_fee_usd)

    def fail_after(self, months: float) -> Generator[simpy.Event, Any, None]:
        """The franchisor fails: the unit loses all the system brought and de-identifies."""
        yield self.env.timeout(months)
        business, terms = self.business, self.terms
        if not business.is_open or self.env.now > self.calendar.horizon_months:
            return  # closed already, or after the last month's books: beyond the horizon
        self.failed = True
        self.failed_month = math.ceil(self.env.now)
        business.innovation_boosts.pop("brand", None)
        business.innovation_boosts.pop("ad_fund", None)
        business.satisfaction_factors.pop("brand", None)
        business.local_marketing_min_rate = 0.0
        business.sale_costs_usd.pop("transfer_fee", None)
        business.charge("rebranding", terms.rebranding_cost_usd)
        if terms.failure_withdraws_system:
            self._withdraw_system(self.failed_month - 1)

    def _withdraw_system(self, elapsed: int) -> None:
        """What else the system brought goes, from the failure's month (``elapsed`` months on).

        The purchasing discount, support, the demand side of the format and the limit on
        local customization.
        """
        business, terms = self.business, self.terms
        business.variable_cost_factors.pop("purchasing", None)
        if terms.support_quality_share > 0:
            business.satisfaction_factors["support"] = 1.0 - terms.support_quality_share
        business.set_offer(
            terms.own_spend_per_visit_usd,
            terms.own_visits_per_customer_per_month,
            terms.own_loyal_share,
        )
        business.free_to_adapt(elapsed)

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


def brand_fade_factor(
    elapsed_months: float,
    customer_share: float,
    half_life_months: float,
    half_customer_share: float,
) -> float:
    """Share of the brand's pull still working as the unit becomes known in its own right.

    It halves every ``half_life_months`` since opening and every ``half_customer_share`` of
    the market the unit's own customers make up (``inf``: never):
    ``0.5 ** (t / T + c / C)``, so 1 on opening day with no customers of its own.
    """
    exponent = elapsed_months / half_life_months + customer_share / half_customer_share
    return float(0.5**exponent)


def _attach(
    env: simpy.Environment, calendar: Calendar, business: Business, streams: ReplicationStreams
) -> Franchisor | None:
    terms = business.plan.franchise
    return None if terms is None else Franchisor(env, calendar, business, terms, streams)


register_relationship("franchise", COST_LINES, _attach)
