"""Random events in the market and in the business, each its own SimPy process.

Events arrive as Poisson processes at continuous times. All arms of a replication meet the same
events at the same times (common random numbers); each event draws its times from its own
stream, so changing one event's rate leaves the others' timing untouched.

Competitors come and go. An entrant takes its share of the market; with an exit rate each rival
present (an entrant, or one already there at opening) lives for a random time drawn from its
own stream when it appears, then closes and gives its share back. With an entry threshold, entry
follows the market's saturation (Bresnahan & Reiss 1991): its rate scales with the households per
firm against the threshold. Both read only the shared market, never an arm's own business, so
every arm meets the same competitors.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from franchise_sim.model.business import Business
from franchise_sim.model.market import Market
from franchise_sim.model.plan import EventPlan

SHOCK_NAMES = (
    "competitor_entry",
    "recession",
    "equipment_breakdown",
    "key_staff_loss",
    "competitor_exit",
)
"""Random events shared by all arms, in the order their counts are reported."""

MAX_ENTRY_RATE_PER_YEAR = 12.0
"""Fastest competitor entry, however empty the market: one a month (rate_per_year's bound)."""


class Shocks:
    """Competitor entry and exit, recessions, equipment breakdowns and the loss of key staff."""

    def __init__(
        self,
        env: simpy.Environment,
        plan: EventPlan,
        market: Market,
        businesses: Sequence[Business],
        streams: dict[str, np.random.Generator],
    ) -> None:
        self.env = env
        self.plan = plan
        self.market = market
        self.businesses = businesses
        self.counts = dict.fromkeys(streams, 0)
        self._streams = streams
        for rate, process in (
            (plan.competitor_rate_per_year, self.competitor_entries),
            (plan.recession_rate_per_year, self.recessions),
            (plan.breakdown_rate_per_year, self.equipment_breakdowns),
            (plan.staff_loss_rate_per_year, self.key_staff_losses),
        ):
            if rate > 0:
                env.process(process())
        if plan.competitor_exit_rate_per_year > 0:
            for rival in range(plan.competitor_rivals_at_start):
                self._rival_opened(rival)

    def _next_arrival(self, name: str, rate_per_year: float) -> Generator[simpy.Event, Any, None]:
        """Wait for the next arrival of a Poisson process and count it."""
        yield self.env.timeout(self._streams[name].exponential(12.0 / rate_per_year))
        self.counts[name] += 1

    def _open(self) -> list[Business]:
        return [b for b in self.businesses if b.is_open]

    def competitor_entries(self) -> Generator[simpy.Event, Any, None]:
        """Competitors open, at a constant rate or one that follows the market's saturation."""
        plan = self.plan
        if plan.competitor_entry_threshold_customers_per_firm > 0:
            yield from self._entries_following_saturation()
            return
        while True:
            yield from self._next_arrival("competitor_entry", plan.competitor_rate_per_year)
            self._competitor_opens()

    def entry_rate_per_month(self) -> float:
        """Bresnahan-Reiss entry: the rate at the threshold, scaled by customers per firm.

        Capped at `MAX_ENTRY_RATE_PER_YEAR`.
        """
        plan = self.plan
        per_firm = self.market.customers_per_firm()
        ratio = per_firm / plan.competitor_entry_threshold_customers_per_firm
        return min(plan.competitor_rate_per_year * ratio, MAX_ENTRY_RATE_PER_YEAR) / 12.0

    def _entries_following_saturation(self) -> Generator[simpy.Event, Any, None]:
        """Entries whose rate is re-read from the market at each month's start and each entry.

        Between those moments the rate is constant, so the wait to the next entry is exact:
        a unit exponential of the entry stream is spent against the rate month by month.
        """
        stream = self._streams["competitor_entry"]
        needed = stream.exponential()
        while True:
            rate = self.entry_rate_per_month()
            to_month_end = math.floor(self.env.now) + 1.0 - self.env.now
            if rate * to_month_end >= needed:
                yield self.env.timeout(needed / rate)
                self.counts["competitor_entry"] += 1
                self._competitor_opens()
                needed = stream.exponential()
            else:
                needed -= rate * to_month_end
                yield self.env.timeout(to_month_end)

    def _competitor_opens(self) -> None:
        """A competitor opens: the market shrinks and some customers switch."""
        plan = self.plan
        rival = self.market.competitor_enters(plan.competitor_market_share_taken)
        for business in self._open():
            business.lose_customers(plan.competitor_customers_lost_share)
        if plan.competitor_exit_rate_per_year > 0:
            self._rival_opened(rival)

    def _rival_opened(self, rival: int) -> None:
        """Draw how long a rival lasts from the exit stream, the moment it is in the market."""
        chance = min(self.plan.competitor_exit_rate_per_year, 1.0 - 1e-12)
        hazard_per_month = -math.log1p(-chance) / 12.0
        lasts = self._streams["competitor_exit"].exponential(1.0 / hazard_per_month)
        self.env.process(self.competitor_exits(rival, lasts))

    def competitor_exits(
        self, rival: int, after_months: float
    ) -> Generator[simpy.Event, Any, None]:
        """A rival closes after its time: its share of the market returns to the pool."""
        yield self.env.timeout(after_months)
        self.counts["competitor_exit"] += 1
        self.market.competitor_leaves(rival)

    def recessions(self) -> Generator[simpy.Event, Any, None]:
        """A recession starts; it ends after its duration while the next may already loom."""
        plan = self.plan
        while True:
            yield from self._next_arrival("recession", plan.recession_rate_per_year)
            self.env.process(self._recession(plan.recession_demand_drop))

    def _recession(self, drop: float) -> Generator[simpy.Event, Any, None]:
        self.market.recession_starts(drop)
        yield self.env.timeout(self.plan.recession_duration_months)
        self.market.recession_ends(drop)

    def equipment_breakdowns(self) -> Generator[simpy.Event, Any, None]:
        """Equipment fails: a repair bill and lost capacity in the month it happens."""
        plan = self.plan
        while True:
            yield from self._next_arrival("equipment_breakdown", plan.breakdown_rate_per_year)
            for business in self._open():
                business.charge("repairs", plan.breakdown_repair_cost_usd)
                business.capacity_lost_share = max(
                    business.capacity_lost_share, plan.breakdown_capacity_lost_share
                )

    def key_staff_losses(self) -> Generator[simpy.Event, Any, None]:
        """A key employee leaves: quality suffers until a replacement is hired and trained."""
        plan = self.plan
        while True:
            yield from self._next_arrival("key_staff_loss", plan.staff_loss_rate_per_year)
            for business in self._open():
                business.charge("recruiting", plan.staff_loss_recruiting_cost_usd)
                self.env.process(self._vacancy(business))

    def _vacancy(self, business: Business) -> Generator[simpy.Event, Any, None]:
        drop = self.plan.staff_loss_quality_drop
        business.staff_vacancies.append(drop)
        yield self.env.timeout(self.plan.staff_loss_months_to_replace)
        business.staff_vacancies.remove(drop)
