"""The complementary partner next door over a batch of replications, and the partnership as a value.

The partner (the parts store beside the repair shop) sends the business customers, more loyal
than others, at a rate that follows its own traffic and how satisfied the business's customers
are; the business sends the partner some of its own; purchasing terms may cut the variable
costs of what it buys from the partner against a minimum purchase a month. The partner closes
at its own random time, or ends the partnership when the referrals it receives stay too few.

The partner's order within a month (`calendar`):

- Any time: the partner may close (a constant yearly hazard, from the replication's own
  uniform), felt from that month on: no referrals, no terms, no upkeep.
- ``OPEN``: the partner sends this month's referred customers, a Poisson count with mean its
  customers a month x its referral share x the business's satisfaction last month (none in
  the first month, before it has seen any of its work), each loyal with
  ``referred_loyal_share``; they join the month's trade through `Business.refer` (column
  ``referred_customers``).
- ``TRADE``: the business trades at the partner's discount (``variable_cost_factors``).
- ``SETTLE``: the business pays the month's upkeep and any shortfall on its purchase
  commitment (read from the month's booked variable costs), and sends the partner its share of
  its customers (column ``referrals_sent``); a partner that has had fewer than its minimum for
  its patience in months in a row ends the partnership, from the next month.

Without draws (the plan on paper) every count is at its expected value and the partner does
not close.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model.business import Business, Index, whole
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.relationships.relationship import ArmTerms, AttachBySection, Relationship
from franchise_sim.model.schedule import later, runs_until
from franchise_sim.model.streams import BatchStreams, binomial_counts, poisson_counts
from franchise_sim.scenario.relationships.partnership import Partnership

NAME = "partnership"
"""The relationship's name: its section of an arm, and its entry in the business's dicts."""

UPKEEP = "partnership_costs"
"""Cost line: the joint upkeep a month (shared signage, a joint warranty)."""
SHORTFALL = "partner_commitment_shortfall"
"""Cost line: what a month's purchases from the partner fell short of the commitment."""
COST_LINES = (UPKEEP, SHORTFALL)
"""Cost lines the partnership charges."""

REFERRED = "referred_customers"
"""Column: customers the partner referred who joined this month."""
SENT = "referrals_sent"
"""Column: customers the business sent to the partner this month."""
COLUMNS = (REFERRED, SENT)
"""Monthly columns the partnership records."""

CLOSED_MONTH = "partner_closed_month"
"""Counter: the month the partner closed while partnered (0 if it did not)."""
ENDED_MONTH = "partnership_ended_month"
"""Counter: the month the partner ended the partnership as not paying for it (0: never)."""
REFERRED_LOYAL = "referred_loyal_customers"
"""Counter: the loyal customers among those the partner sent."""
COUNTERS = (CLOSED_MONTH, ENDED_MONTH, REFERRED_LOYAL)
"""Counters the partnership reports."""

REFERRALS_IN = "partnership.referrals_in"
"""Purpose of the monthly uniforms the partner's referral counts are drawn from."""
REFERRED_LOYALTY = "partnership.referred_loyalty"
"""Purpose of the monthly uniforms splitting the referred into loyal and casual."""
REFERRALS_OUT = "partnership.referrals_out"
"""Purpose of the monthly uniforms the business's referrals to the partner are drawn from."""
PARTNER_CLOSURE = "partnership.partner_closure"
"""Purpose of the uniform that times the partner's closure."""


class ComplementaryPartner:
    """The partner business of one arm's business in every replication of a batch."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        streams: BatchStreams,
        terms: ArmTerms,
        section: Partnership,
    ) -> None:
        self.env = env
        self.calendar = calendar
        self.business = business
        n = business.size
        self._traffic = terms.draw(
            section.partner_customers_per_month, "partnership.partner_customers_per_month"
        )
        self._referral_share = terms.draw(section.referral_share, "partnership.referral_share")
        self._loyal_share = terms.draw(
            section.referred_loyal_share, "partnership.referred_loyal_share"
        )
        self._out_share = terms.draw(section.referral_out_share, "partnership.referral_out_share")
        self._minimum = np.full(n, section.partner_min_referrals_per_month)
        self._patience = np.maximum(
            1.0,
            np.round(
                terms.draw(section.partner_patience_months, "partnership.partner_patience_months")
            ),
        )
        self._upkeep = terms.draw(
            section.partnership_costs_usd_per_month, "partnership.partnership_costs_usd_per_month"
        )
        self._hours = section.owner_hours_per_month
        self.active = np.ones(n, dtype=bool)
        """Replications whose partnership still runs (the partner open and willing)."""
        self.closed_month = np.zeros(n, dtype=np.int64)
        self.ended_month = np.zeros(n, dtype=np.int64)
        self.referred_loyal = np.zeros(n)
        self.short_months = np.zeros(n)
        """Months in a row the partner has had fewer referrals than its minimum."""
        buying = section.purchasing
        self._buying = buying is not None
        if buying is not None:
            self._bought = terms.draw(
                buying.purchased_share, "partnership.purchasing.purchased_share"
            )
            self._discount = terms.draw(
                buying.discount_share, "partnership.purchasing.discount_share"
            )
            self._commitment = terms.draw(
                buying.minimum_purchases_usd_per_month,
                "partnership.purchasing.minimum_purchases_usd_per_month",
            )
            business.variable_cost_factors[NAME] = purchasing_factor(self._bought, self._discount)
        if self._hours > 0:
            business.owner_hours[NAME] = np.full(n, self._hours)
        self._noisy = not terms.at_mean
        if self._noisy:
            months = (calendar.horizon_months,)
            self._u_in = streams.streams(REFERRALS_IN).uniforms(months)
            self._u_loyal = streams.streams(REFERRED_LOYALTY).uniforms(months)
            self._u_out = streams.streams(REFERRALS_OUT).uniforms(months)
            self._schedule_closures(streams, section.partner_closure_rate_per_year)
        env.process(self.each_month(Phase.OPEN, self.refer))
        env.process(self.each_month(Phase.SETTLE, self.settle))

    def _schedule_closures(self, streams: BatchStreams, rate_per_year: float) -> None:
        """Time each replication's partner closure at a constant hazard of this yearly chance."""
        if rate_per_year <= 0:
            return
        hazard = -math.log1p(-min(rate_per_year, 1 - 1e-12)) / 12.0
        until = runs_until(self.calendar.horizon_months)
        for r, u in enumerate(streams.uniforms(PARTNER_CLOSURE).tolist()):
            later(self.env, until, -math.log1p(-u) / hazard, lambda r=r: self.close(r))  # type: ignore[misc]

    def _partnered(self) -> Index:
        return np.flatnonzero(self.business.is_open & self.active)

    def each_month(
        self, phase: Phase, act: Callable[[Index, int], None]
    ) -> Generator[simpy.Event, Any, None]:
        """In each month's ``phase``, act on the replications still partnered."""
        while self._partnered().size:
            month = yield self.calendar.next(phase)
            o = self._partnered()
            if o.size:
                act(o, month)

    def refer(self, o: Index, month: int) -> None:
        """Before the month's trade, send the referred customers, loyal and casual, to it."""
        business = self.business
        mean = expected_referrals(
            self._traffic[o], self._referral_share[o], business.satisfaction[o]
        )
        if self._noisy:
            referred = poisson_counts(self._u_in[o, month - 1], mean)
            loyal = binomial_counts(self._u_loyal[o, month - 1], referred, self._loyal_share[o])
        else:
            referred = mean
            loyal = mean * self._loyal_share[o]
        business.refer(REFERRED, o, loyal, referred - loyal)
        self.referred_loyal[o] += loyal

    def settle(self, o: Index, month: int) -> None:
        """After the trade, pay the upkeep and any shortfall; send the partner its customers."""
        business = self.business
        business.charge(UPKEEP, o, self._upkeep[o])
        if self._buying:
            variable = business.costs[o, business.cost_lines.index("variable_costs")]
            purchases = partner_purchases_usd(variable, self._bought[o], self._discount[o])
            business.charge(SHORTFALL, o, commitment_shortfall_usd(purchases, self._commitment[o]))
        customers = business.loyal[o] + business.casual[o]
        if self._noisy:
            sent = binomial_counts(self._u_out[o, month - 1], whole(customers), self._out_share[o])
        else:
            sent = customers * self._out_share[o]
        business.record(SENT, o, sent)
        self.short_months[o] = short_streak(self.short_months[o], sent, self._minimum[o])
        ending = o[self.short_months[o] >= self._patience[o]]
        if ending.size:
            self.ended_month[ending] = month
            self._stop(ending)

    def close(self, r: int) -> None:
        """Replication ``r``'s partner closes: the partnership stops from this month."""
        if not (self.business.is_open[r] and self.active[r]):
            return
        if self.env.now > self.calendar.horizon_months:  # after the last month's books
            return
        self.closed_month[r] = math.ceil(self.env.now)
        self._stop(np.array([r], dtype=np.intp))

    def _stop(self, where: Index) -> None:
        """The partnership stops: no more referrals, terms, upkeep or owner's hours."""
        self.active[where] = False
        if self._buying:
            self.business.variable_cost_factors[NAME][where] = 1.0
        if self._hours > 0:
            self.business.owner_hours[NAME][where] = 0.0

    def counter(self, name: str) -> NDArray[np.float64]:
        """A counter of this relationship, per replication (see `PARTNERSHIP.counters`)."""
        values = {
            CLOSED_MONTH: self.closed_month,
            ENDED_MONTH: self.ended_month,
            REFERRED_LOYAL: self.referred_loyal,
        }[name]
        return values.astype(float)


def expected_referrals(
    partner_customers: NDArray[np.float64],
    referral_share: NDArray[np.float64],
    satisfaction: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Customers the partner refers a month on average: traffic x share x satisfaction (0-1)."""
    return np.asarray(
        partner_customers * referral_share * np.clip(satisfaction, 0.0, 1.0), dtype=float
    )


def purchasing_factor(
    purchased_share: NDArray[np.float64], discount_share: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The factor on the variable-cost rate of buying ``purchased_share`` of it at a discount."""
    return np.asarray(1.0 - purchased_share * discount_share, dtype=float)


def partner_purchases_usd(
    variable_costs_usd: NDArray[np.float64],
    purchased_share: NDArray[np.float64],
    discount_share: NDArray[np.float64],
) -> NDArray[np.float64]:
    """What the business paid the partner of the month's variable costs, discount applied.

    The booked variable costs are the list-price costs times `purchasing_factor`; of the list
    price, ``purchased_share`` is bought from the partner and paid at ``1 - discount_share``:
    ``variable x share x (1 - discount) / (1 - share x discount)``, 0 where all is free.
    """
    factor = purchasing_factor(purchased_share, discount_share)
    paid = variable_costs_usd * purchased_share * (1.0 - discount_share)
    return np.divide(paid, factor, out=np.zeros(np.shape(paid)), where=factor > 0)


def commitment_shortfall_usd(
    purchases_usd: NDArray[np.float64], minimum_usd: NDArray[np.float64]
) -> NDArray[np.float64]:
    """What the month's purchases fell short of the minimum commitment (0 if they met it)."""
    return np.asarray(np.maximum(0.0, minimum_usd - purchases_usd), dtype=float)


def short_streak(
    months: NDArray[np.float64], referrals: NDArray[np.float64], minimum: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Months in a row below the minimum, after a month with these referrals (0 once met)."""
    return np.where(referrals < minimum, months + 1.0, 0.0)


PARTNERSHIP = Relationship(
    name=NAME,
    section=NAME,
    cost_lines=COST_LINES,
    counters=COUNTERS,
    attach=AttachBySection(NAME, ComplementaryPartner),
    columns=COLUMNS,
)
"""The partnership with a complementary business: its cost lines, columns, counters, partner."""
