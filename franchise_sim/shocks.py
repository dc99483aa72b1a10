"""Random events in the market and in the business, each its own SimPy process.

Events arrive as Poisson processes at continuous times. All arms of a replication meet the same
events at the same times (common random numbers); each event draws its times from its own
stream, so changing one event's rate leaves the others' timing untouched.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from franchise_sim.business import Business
from franchise_sim.market import Market
from franchise_sim.plan import EventPlan


class Shocks:
    """Competitor entry, recessions, equipment breakdowns and the loss of key staff."""

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

    def _next_arrival(self, name: str, rate_per_year: float) -> Generator[simpy.Event, Any, None]:
        """Wait for the next arrival of a Poisson process and count it."""
        yield self.env.timeout(self._streams[name].exponential(12.0 / rate_per_year))
        self.counts[name] += 1

    def _open(self) -> list[Business]:
        return [b for b in self.businesses if b.is_open]

    def competitor_entries(self) -> Generator[simpy.Event, Any, None]:
        """A competitor opens: the market shrinks and some customers switch."""
        plan = self.plan
        while True:
            yield from self._next_arrival("competitor_entry", plan.competitor_rate_per_year)
            self.market.competitor_enters(plan.competitor_market_share_taken)
            for business in self._open():
                business.lose_customers(plan.competitor_customers_lost_share)

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
