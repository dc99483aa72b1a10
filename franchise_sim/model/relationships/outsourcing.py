"""The 24-hour answering line over a batch of replications, and the outsourcing relationship.

An `AnsweringLine` answers the calls one arm's business would miss, in every replication of a
batch. Each month the business gets calls from its customers and from prospects (potential
customers not yet its own); without the line a share goes unanswered. The line answers those at
its quality, and the answered leads become customers at the rate of a lead answered at once, less
the few the business would still have won by calling back late (already in the model without the
line). The captured customers join the month's trade through `Business.refer`.

Outsourced, a provider answers for a price plan (`answering_fee_usd`) and can fail, at a yearly
hazard that vetting it beforehand lowers; a failed provider answers nothing and bills nothing,
and a new one, of its own quality, may be contracted some months later. In-house, the business's
own staff answer at a monthly cost, and nothing fails.

Order within a month (`calendar.Phase`):

1. ``OPEN``: contract a provider where one is due (vetting's hours go on this month's owner
   time), take the month's calls, hand the captured customers to `Business.refer` (they join in
   ``TRADE``) and record ``captured_calls``.
2. ``SETTLE``: charge the plan's fee on the month's answered minutes (or the staff cost), and
   any vetting.

A provider fails at a random time within a month (an event of its own): that month, and until a
new provider answers, the line captures nothing and costs nothing. Its failure clock runs from the
start of its first month; the plan on paper (a run without draws) has no failures.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.relationships.relationship import ArmTerms, AttachBySection, Relationship
from franchise_sim.model.schedule import later, runs_until
from franchise_sim.model.streams import BatchStreams, binomial_counts, poisson_counts
from franchise_sim.scenario.distributions import Uncertain
from franchise_sim.scenario.relationships.outsourcing import Outsourcing

NAME = "outsourcing"
"""The relationship's name: its section of an arm."""

FEE = "answering_service"
"""Cost line: the outside provider's monthly fee and overage."""
STAFF = "answering_staff"
"""Cost line: the in-house answering staff."""
VETTING = "provider_vetting"
"""Cost line: vetting a provider before contracting it."""
COST_LINES = (FEE, STAFF, VETTING)

CAPTURED = "captured_calls"
"""Column: calls the line answered that would have been missed."""
CALL_CUSTOMERS = "call_customers"
"""Column: captured callers who became customers (as far as the market had room)."""

FAILED_MONTH = "provider_failed_month"
"""Counter: the month the arm's first provider failed (0 if none did)."""
FAILURES = "provider_failures"
"""Counter: providers that failed."""

CALLS = "outsourcing.calls"
"""Stream purpose: each month's uniforms for the captured calls, the customers won and their
loyalty."""
PROVIDER_FAILURE = "outsourcing.provider_failure"
"""Stream purpose: each provider's time to failure, in standard exponentials."""
PROVIDER_QUALITY = "outsourcing.provider_quality"
"""Stream purpose: the quality of each provider contracted after a failure."""

UNIFORMS_PER_MONTH = 4
"""Customer calls captured, prospect calls captured, customers won, loyal among them."""


def answering_fee_usd(
    minutes: NDArray[np.float64] | float,
    monthly_fee_usd: float,
    included_minutes: float,
    overage_usd_per_minute: float,
) -> NDArray[np.float64]:
    """The plan's bill for a month's answered minutes: the fee, and overage beyond the included."""
    over = np.maximum(0.0, np.asarray(minutes, dtype=float) - included_minutes)
    return np.asarray(monthly_fee_usd + over * overage_usd_per_minute, dtype=float)


def failure_hazard_per_month(
    rate_per_year: NDArray[np.float64], reduction_share: NDArray[np.float64] | float = 0.0
) -> NDArray[np.float64]:
    """The monthly hazard of a yearly failure chance, lowered by ``reduction_share`` (vetting).

    ``-log(1 - rate (1 - reduction)) / 12``: a chance of one or more is capped just below 1.
    """
    rate = np.minimum(np.asarray(rate_per_year, dtype=float) * (1.0 - reduction_share), 1 - 1e-12)
    return np.asarray(-np.log1p(-rate) / 12.0, dtype=float)


def _uncertain_values(value: Uncertain, uniforms: NDArray[np.float64]) -> NDArray[np.float64]:
    """Draws of ``value`` at these uniforms (itself if fixed)."""
    if isinstance(value, int | float):
        return np.full(uniforms.shape, float(value))
    return np.asarray(value.ppf(uniforms), dtype=float)


class AnsweringLine:
    """The answering line of one arm's business in every replication of a batch."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        streams: BatchStreams,
        terms: ArmTerms,
        section: Outsourcing,
    ) -> None:
        self.env = env
        self.calendar = calendar
        self.business = business
        n = business.size
        self._noisy = terms.draws is not None
        self._until = runs_until(calendar.horizon_months)
        self._per_customer = terms.draw(
            section.calls_per_customer_per_month, "outsourcing.calls_per_customer_per_month"
        )
        self._per_1000 = terms.draw(
            section.calls_per_1000_prospects_per_month,
            "outsourcing.calls_per_1000_prospects_per_month",
        )
        self._missed = terms.draw(section.missed_call_share, "outsourcing.missed_call_share")
        answered_live = terms.draw(
            section.lead_conversion_share, "outsourcing.lead_conversion_share"
        )
        called_back = terms.draw(
            section.late_callback_conversion_share, "outsourcing.late_callback_conversion_share"
        )
        self._won_share = np.maximum(0.0, answered_live - called_back)
        self._minutes_per_call = terms.draw(
            section.minutes_per_call, "outsourcing.minutes_per_call"
        )
        self.in_house = section.mode == "in_house"
        self.answering = np.zeros(n, dtype=bool)
        """Where a provider (or the staff) answers this month."""
        self.due_month = np.ones(n, dtype=np.int64)
        """The month a provider is next contracted (0: none is)."""
        self.failed_month = np.zeros(n, dtype=np.int64)
        self.failures = np.zeros(n, dtype=np.int64)
        self._captured = np.zeros(n)
        self._providers = np.zeros(n, dtype=np.int64)
        self._vetting_due = np.zeros(n)
        if section.in_house is not None:  # the schema gives the mode's own part, only it
            self.due_month[:] = 0
            self.answering[:] = True
            self._quality = terms.draw(
                section.in_house.answered_share, "outsourcing.in_house.answered_share"
            )
            self._staff_usd = terms.draw(
                section.in_house.staff_usd_per_month, "outsourcing.in_house.staff_usd_per_month"
            )
        else:
            assert section.provider is not None
            self.provider = section.provider
            self._quality = terms.draw(
                self.provider.answered_share, "outsourcing.provider.answered_share"
            ).copy()
            self._setup_provider_risk(streams, terms)
        self._uniforms = (
            streams.streams(CALLS).uniforms((calendar.horizon_months, UNIFORMS_PER_MONTH))
            if self._noisy
            else None
        )
        env.process(self.answer_calls())
        env.process(self.pay_for_the_line())

    def _setup_provider_risk(self, streams: BatchStreams, terms: ArmTerms) -> None:
        """Failure hazards (vetted or not), their clocks, and later providers' quality draws."""
        provider, n = self.provider, self.business.size
        rate = terms.draw(
            provider.failure_rate_per_year, "outsourcing.provider.failure_rate_per_year"
        )
        vetting = provider.vetting
        reduction = np.zeros(n)
        if vetting is not None:
            reduction = terms.draw(
                vetting.failure_reduction_share,
                "outsourcing.provider.vetting.failure_reduction_share",
            )
            self._vetting_cost = terms.draw(
                vetting.cost_usd, "outsourcing.provider.vetting.cost_usd"
            )
            if vetting.owner_hours > 0:
                self.business.owner_hours[NAME] = np.zeros(n)
        # the plan on paper (no draws) meets no event at a random time: its provider never fails
        self._hazard = failure_hazard_per_month(rate if self._noisy else 0.0 * rate, reduction)
        horizon = self.calendar.horizon_months
        expected = float(np.max(self._hazard, initial=0.0)) * (horizon + 0.5)
        self._clocks = streams.exponentials(PROVIDER_FAILURE, expected)
        later_ones = horizon if self._noisy and provider.recontract_months is not None else 0
        self._later_quality = _uncertain_values(
            provider.answered_share,
            streams.streams(PROVIDER_QUALITY).uniforms((later_ones,)),
        )

    # -- each month ---------------------------------------------------------------------------
    def answer_calls(self) -> Generator[simpy.Event, Any, None]:
        """Before each month's trade: contract any provider due, then answer the missed calls."""
        business = self.business
        while business.is_open.any():
            month = yield self.calendar.next(Phase.OPEN)
            if not self.in_house:
                self.contract_providers(month)
            self.take_calls(np.flatnonzero(business.is_open & self.answering), month)

    def contract_providers(self, month: int) -> None:
        """Sign a provider where one is due this month (vetting it first, if the terms say so)."""
        business = self.business
        hours = business.owner_hours.get(NAME)
        if hours is not None:
            hours[:] = 0.0
        for r in np.flatnonzero((self.due_month == month) & business.is_open):
            self.due_month[r] = 0
            k = int(self._providers[r])
            self._providers[r] = k + 1
            if 0 < k <= self._later_quality.shape[1]:  # a new provider, of its own quality
                self._quality[r] = self._later_quality[r, k - 1]
            vetting = self.provider.vetting
            if vetting is not None:
                self._vetting_due[r] += self._vetting_cost[r]
                if hours is not None:
                    hours[r] = vetting.owner_hours
            self.answering[r] = True
            self._start_failure_clock(int(r), month - 1)

    def _start_failure_clock(self, r: int, since: float) -> None:
        """Replication ``r``'s new provider fails after an exponential time from ``since``."""
        hazard = float(self._hazard[r])
        if hazard <= 0.0:
            return
        fails_at = since + self._clocks.next(r) / hazard
        if fails_at <= self.env.now:  # within the month just ended: it never answered
            self.fail(r, fails_at)
        else:
            later(self.env, self._until, fails_at - self.env.now, lambda: self.fail(r, fails_at))

    def take_calls(self, o: NDArray[np.intp], month: int) -> None:
        """The month's calls that would be missed, answered; the leads won sent to the trade."""
        if not o.size:
            return
        business = self.business
        customers = business.loyal[o] + business.casual[o]
        prospects = np.maximum(0.0, business.market.potential_customers[o] - customers)
        reached = self._missed[o] * self._quality[o]
        from_customers = self._per_customer[o] * customers * reached
        from_prospects = self._per_1000[o] * prospects / 1000.0 * reached
        won_share, loyal_share = self._won_share[o], business.loyal_share[o]
        if self._uniforms is None:
            won = from_prospects * won_share
            loyal = won * loyal_share
        else:
            u = self._uniforms[o, month - 1]
            # both sources' calls in one call: the same counts, element by element
            calls = poisson_counts(
                np.concatenate((u[:, 0], u[:, 1])), np.concatenate((from_customers, from_prospects))
            )
            from_customers, from_prospects = calls[: o.size], calls[o.size :]
            won = binomial_counts(u[:, 2], from_prospects, won_share)
            loyal = binomial_counts(u[:, 3], won, loyal_share)
        captured = from_customers + from_prospects
        self._captured[o] = captured
        business.record(CAPTURED, o, captured)
        business.refer(CALL_CUSTOMERS, o, loyal, won - loyal)

    def pay_for_the_line(self) -> Generator[simpy.Event, Any, None]:
        """At each month's settlement: the plan's bill (or the staff), and any vetting."""
        business = self.business
        while business.is_open.any():
            yield self.calendar.next(Phase.SETTLE)
            o = np.flatnonzero(business.is_open & self.answering)
            if self.in_house:
                business.charge(STAFF, o, self._staff_usd[o])
                continue
            provider = self.provider
            minutes = self._captured[o] * self._minutes_per_call[o]
            business.charge(
                FEE,
                o,
                answering_fee_usd(
                    minutes,
                    provider.monthly_fee_usd,
                    provider.included_minutes,
                    provider.overage_usd_per_minute,
                ),
            )
            vetted = np.flatnonzero(business.is_open & (self._vetting_due > 0))
            if vetted.size:
                business.charge(VETTING, vetted, self._vetting_due[vetted])
                self._vetting_due[vetted] = 0.0

    # -- a provider fails ----------------------------------------------------------------------
    def fail(self, r: int, at: float) -> None:
        """Replication ``r``'s provider fails at time ``at``: no answers, no bill till replaced."""
        if not self.business.is_open[r] or at > self.calendar.horizon_months:
            return
        month = max(1, math.ceil(at))
        self.answering[r] = False
        self.failures[r] += 1
        if self.failed_month[r] == 0:
            self.failed_month[r] = month
        wait = self.provider.recontract_months
        if wait is not None:
            self.due_month[r] = month + wait

    def counter(self, name: str) -> NDArray[np.float64]:
        """A counter of this relationship, per replication (see `OUTSOURCING.counters`)."""
        values = {FAILED_MONTH: self.failed_month, FAILURES: self.failures}[name]
        return values.astype(float)


OUTSOURCING = Relationship(
    name=NAME,
    section=NAME,
    cost_lines=COST_LINES,
    counters=(FAILED_MONTH, FAILURES),
    attach=AttachBySection(NAME, AnsweringLine),
    columns=(CAPTURED, CALL_CUSTOMERS),
)
"""The outsourcing relationship: the answering line's cost lines, columns and counters."""
