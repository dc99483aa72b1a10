"""The marketing alliance over a batch of replications, and the relationship as a value.

A member of a marketing alliance runs joint campaigns with other local firms (direct mail,
shared events, cross-promotion) and pays its share of their cost (`member_share`). Customers
who answer the mail join the business as whole customers (`expected_responses`, column
``campaign_customers``); the campaigns add to its awareness like its own advertising, decaying
as adstock does (`campaign_awareness_p`); and the member drops a share of its own planned
marketing while the alliance lasts (``Business.marketing_factors``). Each replication's
partners have a record the member does not know: a bad one free-rides, withholding part of its
share, which the member covers; vetting the partners beforehand takes the owner's hours and
lowers that chance (`bad_partner_chance`). Partners leave at a constant yearly hazard, and the
campaign shrinks by their part (`campaign_scale`); when the last has left the alliance is
dissolved: the campaigns and their charges stop and the member's own marketing is restored.

Order within a month ``m`` (`calendar`): a partner leaving at a random time during month ``m``
is gone from month ``m``'s campaign. In ``OPEN`` the alliance sets what the month's trade reads:
the member's marketing factor, the owner's hours (vetting in the first months, then
coordination), the campaign's awareness and the mail's responders (``Business.refer``), from
the customers at the start of the month. In ``SETTLE`` it charges the member's share of the
month's campaign (cost line ``alliance_marketing``) where the business traded.

A deterministic run (the plan on paper, no draws) takes expected values: the mean response,
partners who never leave, and each partner free-riding in the expected proportion.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model import customers as cx
from franchise_sim.model.business import Business, Index, each, floor
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.relationships.relationship import ArmTerms, AttachBySection, Relationship
from franchise_sim.model.schedule import later, runs_until
from franchise_sim.model.streams import BatchStreams, binomial_counts
from franchise_sim.scenario.relationships.marketing_alliance import MarketingAlliance

NAME = "marketing_alliance"
"""The relationship's name: its section of an arm, and its key in the business's hooks."""
COST_LINE = "alliance_marketing"
"""Cost line of the member's share of the joint campaigns."""
COLUMN = "campaign_customers"
"""Monthly column: customers who answered the campaigns' mail."""
DISSOLVED_MONTH = "alliance_dissolved_month"
"""Counter: the month the last partner left (0 if the alliance lasted)."""
FREE_RIDERS = "free_riding_partners"
"""Counter: partners who free-ride (their expected number in a deterministic run)."""

PARTNER_RECORD = "marketing_alliance.partner_record"
"""Purpose of each partner's uniform: whether it free-rides."""
PARTNER_EXIT = "marketing_alliance.partner_exit"
"""Purpose of each partner's uniform that times its leaving."""
RESPONSES = "marketing_alliance.responses"
"""Purpose of the monthly uniforms of the mail's responders and their loyal share."""


def campaign_cost_usd(
    pieces: NDArray[np.float64] | float,
    cost_per_piece_usd: NDArray[np.float64] | float,
    events_usd: NDArray[np.float64] | float,
) -> NDArray[np.float64]:
    """The whole alliance's campaign of a month: ``pieces * cost_per_piece + events``."""
    return np.asarray(np.multiply(pieces, cost_per_piece_usd) + events_usd, dtype=float)


def campaign_scale(
    cost_share: NDArray[np.float64] | float,
    active_partners: NDArray[np.float64] | float,
    partners: int,
) -> NDArray[np.float64]:
    """Share of the full campaign still run: the member's part and the remaining partners'.

    ``s + (1 - s) * active / partners``: 1 with every partner, ``s`` when all have left.
    """
    s = np.asarray(cost_share, dtype=float)
    return np.asarray(s + (1.0 - s) * np.divide(active_partners, partners), dtype=float)


def member_share(
    cost_share: NDArray[np.float64] | float,
    withheld_share: NDArray[np.float64] | float,
    free_riders: NDArray[np.float64] | float,
    partners: int,
) -> NDArray[np.float64]:
    """Share of the full campaign's cost the member pays.

    Its own share ``s``, plus what each free-riding partner withholds of its ``(1 - s) /
    partners``, which the member covers: ``s + (1 - s) * w * free_riders / partners``.
    """
    s = np.asarray(cost_share, dtype=float)
    shortfall = np.multiply(withheld_share, np.divide(free_riders, partners))
    return np.asarray(s + (1.0 - s) * shortfall, dtype=float)


def response_share(
    house_list_share: NDArray[np.float64] | float,
    house_rate: NDArray[np.float64] | float,
    prospect_rate: NDArray[np.float64] | float,
) -> NDArray[np.float64]:
    """Share of the pieces that answer: ``h * house_rate + (1 - h) * prospect_rate``."""
    h = np.asarray(house_list_share, dtype=float)
    return np.asarray(h * house_rate + (1.0 - h) * prospect_rate, dtype=float)


def expected_responses(
    pieces: NDArray[np.float64] | float,
    non_customer_share: NDArray[np.float64] | float,
    house_list_share: NDArray[np.float64] | float,
    house_rate: NDArray[np.float64] | float,
    prospect_rate: NDArray[np.float64] | float,
) -> NDArray[np.float64]:
    """New customers the mail brings on average: the pieces reaching non-customers, answering.

    ``pieces * non_customer_share * response_share(...)``: a piece reaching a customer
    already brings no one new.
    """
    reached = np.multiply(pieces, non_customer_share)
    return np.asarray(reached * response_share(house_list_share, house_rate, prospect_rate))


def campaign_awareness_p(
    campaign_usd: NDArray[np.float64] | float,
    exposure_share: NDArray[np.float64] | float,
    p_per_1000usd: NDArray[np.float64] | float,
) -> NDArray[np.float64]:
    """Bass p the campaign adds in steady state: ``exposure * p_per_1000usd * usd / 1000``.

    The member's own advertising effect per 1,000 USD, on the share of the whole campaign
    that falls to it.
    """
    return np.asarray(np.multiply(exposure_share, p_per_1000usd) * np.divide(campaign_usd, 1000.0))


def bad_partner_chance(
    bad_partner_share: NDArray[np.float64] | float,
    vetting_reduction_share: NDArray[np.float64] | float,
) -> NDArray[np.float64]:
    """Chance a partner free-rides: ``bad * (1 - reduction)`` (reduction 0 without vetting)."""
    return np.asarray(np.multiply(bad_partner_share, 1.0 - np.asarray(vetting_reduction_share)))


class Alliance:
    """One arm's membership of a marketing alliance in every replication of a batch."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        streams: BatchStreams,
        terms: ArmTerms,
        section: MarketingAlliance,
    ) -> None:
        self.env = env
        self.calendar = calendar
        self.business = business
        n, k = business.size, section.partners
        self.partners = k
        self.expected = terms.draws is None
        """Expected values throughout (a deterministic run, the plan on paper)."""
        draw = terms.draw
        self._share = draw(section.cost_share, "marketing_alliance.cost_share")
        self._pieces = draw(
            section.mail_pieces_per_month, "marketing_alliance.mail_pieces_per_month"
        )
        self._campaign_usd = campaign_cost_usd(
            self._pieces,
            draw(section.cost_per_piece_usd, "marketing_alliance.cost_per_piece_usd"),
            draw(section.events_usd_per_month, "marketing_alliance.events_usd_per_month"),
        )
        self._answering = response_share(
            draw(section.house_list_share, "marketing_alliance.house_list_share"),
            draw(section.house_list_response_share, "marketing_alliance.house_list_response_share"),
            draw(
                section.prospect_list_response_share,
                "marketing_alliance.prospect_list_response_share",
            ),
        )
        self._exposure = draw(section.exposure_share, "marketing_alliance.exposure_share")
        self._kept = 1.0 - draw(
            section.own_marketing_cut_share, "marketing_alliance.own_marketing_cut_share"
        )
        self._coordination_hours = draw(
            section.coordination_hours_per_month, "marketing_alliance.coordination_hours_per_month"
        )
        self._withheld = draw(
            section.bad_partner_withheld_share, "marketing_alliance.bad_partner_withheld_share"
        )
        units = business.units
        self._p_per_1000 = units.array("marketing_p_per_1000usd")
        self._decay = each(cx.adstock_decay, units.array("advertising_half_life_months"))
        vetting = section.vetting
        reduction = np.zeros(n)
        self._vetting_hours = np.zeros(n)
        self._vetting_months = 0
        if vetting is not None:
            reduction = draw(
                vetting.bad_partner_reduction_share,
                "marketing_alliance.vetting.bad_partner_reduction_share",
            )
            self._vetting_months = vetting.months
            hours = draw(vetting.owner_hours, "marketing_alliance.vetting.owner_hours")
            self._vetting_hours = hours / vetting.months
        chance = bad_partner_chance(
            draw(section.bad_partner_share, "marketing_alliance.bad_partner_share"), reduction
        )
        if self.expected:
            self.free_riding = np.repeat(chance[:, None], k, axis=1)
        else:
            record = streams.streams(PARTNER_RECORD).uniforms((k,))
            self.free_riding = (record < chance[:, None]).astype(float)
        """Per replication and partner: 1 if it free-rides, else 0 (its chance if expected)."""
        self.active = np.ones((n, k), dtype=bool)
        self.dissolved = np.zeros(n, dtype=bool)
        self.dissolved_month = np.zeros(n, dtype=np.int64)
        self.awareness_p = np.zeros(n)
        """The campaigns' adstocked Bass p, still decaying after a dissolution."""
        self._month_usd = np.zeros(n)
        self._until = runs_until(calendar.horizon_months)
        horizon = calendar.horizon_months
        self._responses_u = (
            None if self.expected else streams.streams(RESPONSES).uniforms((horizon, 2))
        )
        business.innovation_boosts[NAME] = np.zeros(n)
        business.marketing_factors[NAME] = np.ones(n)
        business.owner_hours[NAME] = np.zeros(n)
        env.process(self.run_campaigns())
        exit_rate = draw(
            section.partner_exit_rate_per_year, "marketing_alliance.partner_exit_rate_per_year"
        )
        if not self.expected:
            self._partners_leave(streams.streams(PARTNER_EXIT).uniforms((k,)), exit_rate)

    def _partners_leave(self, u: NDArray[np.float64], rate_per_year: NDArray[np.float64]) -> None:
        """Time each partner's leaving at a constant hazard (Park & Russo's peak averaged)."""
        for r in np.flatnonzero(rate_per_year > 0):
            rate = min(float(rate_per_year[r]), 1 - 1e-12)
            hazard = -math.log1p(-rate) / 12.0
            for j in range(self.partners):
                after = -math.log1p(-float(u[r, j])) / hazard
                later(self.env, self._until, after, lambda r=r, j=j: self.partner_leaves(r, j))  # type: ignore[misc]

    def run_campaigns(self) -> Generator[simpy.Event, Any, None]:
        """Each month: set the month's campaign before the trade, pay its share at settlement."""
        business = self.business
        while business.is_open.any():
            month = yield self.calendar.next(Phase.OPEN)
            o = np.flatnonzero(business.is_open)
            running = o[~self.dissolved[o]]
            self.plan_month(o, running, month)
            yield self.calendar.next(Phase.SETTLE)
            self.pay_share(running[business.is_open[running]])

    def plan_month(self, o: Index, running: Index, month: int) -> None:
        """Set the member's marketing, the owner's hours, awareness and the mail's responders."""
        business = self.business
        scale = campaign_scale(self._share[running], self._active_count(running), self.partners)
        campaign_usd = np.zeros(business.size)
        campaign_usd[running] = self._campaign_usd[running] * scale
        self._month_usd[running] = campaign_usd[running]
        added = campaign_awareness_p(campaign_usd[o], self._exposure[o], self._p_per_1000[o])
        decay = self._decay[o]
        self.awareness_p[o] = decay * self.awareness_p[o] + (1.0 - decay) * added
        business.innovation_boosts[NAME][o] = self.awareness_p[o]
        business.marketing_factors[NAME][o] = np.where(self.dissolved[o], 1.0, self._kept[o])
        hours = np.where(self.dissolved[o], 0.0, self._coordination_hours[o])
        if month <= self._vetting_months:
            hours = hours + self._vetting_hours[o]
        business.owner_hours[NAME][o] = hours
        if running.size:
            self.mail_responders(running, self._pieces[running] * scale, month)

    def mail_responders(self, running: Index, pieces: NDArray[np.float64], month: int) -> None:
        """Customers who answer the month's mail join the trade (`Business.refer`)."""
        business = self.business
        potential = business.market.potential_customers[running]
        customers = business.loyal[running] + business.casual[running]
        outside = np.zeros(running.size)
        room = potential > 0
        outside[room] = np.clip(1.0 - customers[room] / potential[room], 0.0, 1.0)
        loyal_share = business.loyal_share[running]
        if self._responses_u is None:
            answered = pieces * outside * self._answering[running]
            loyal = answered * loyal_share
        else:
            u = self._responses_u[running, month - 1]
            answered = binomial_counts(u[:, 0], floor(pieces * outside), self._answering[running])
            loyal = floor(answered * loyal_share + u[:, 1])
        business.refer(COLUMN, running, loyal, answered - loyal)

    def pay_share(self, where: Index) -> None:
        """Charge the member's share of the month's campaign, free riders' shortfall included."""
        free_riders = (self.free_riding[where] * self.active[where]).sum(axis=1)
        share = member_share(self._share[where], self._withheld[where], free_riders, self.partners)
        self.business.charge(COST_LINE, where, self._month_usd[where] * share)

    def _active_count(self, where: Index) -> NDArray[np.float64]:
        return np.asarray(self.active[where].sum(axis=1), dtype=float)

    def partner_leaves(self, r: int, j: int) -> None:
        """Replication ``r``'s partner ``j`` leaves; with the last one the alliance dissolves."""
        if not self.business.is_open[r] or self.env.now > self.calendar.horizon_months:
            return
        self.active[r, j] = False
        if not self.active[r].any():
            self.dissolved[r] = True
            self.dissolved_month[r] = math.ceil(self.env.now)

    def counter(self, name: str) -> NDArray[np.float64]:
        """A counter of this relationship, per replication (see `MARKETING_ALLIANCE`)."""
        if name == DISSOLVED_MONTH:
            return self.dissolved_month.astype(float)
        if name == FREE_RIDERS:
            return np.asarray(self.free_riding.sum(axis=1), dtype=float)
        raise KeyError(name)


MARKETING_ALLIANCE = Relationship(
    name=NAME,
    section=NAME,
    cost_lines=(COST_LINE,),
    counters=(DISSOLVED_MONTH, FREE_RIDERS),
    attach=AttachBySection(NAME, Alliance),
    columns=(COLUMN,),
)
"""The marketing alliance: its cost line, its responders' column, its counters and its actor."""
