"""The local market: how many people could become customers, the season and the economy."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from franchise_sim.calendar import Calendar, Phase
from franchise_sim.plan import MarketPlan


class Market:
    """The local market every arm of a replication trades in.

    Attributes:
        potential_customers: Households that could become customers of one such business;
            competitors entering take their share of it.
        season_factor: This month's relative demand (seasonality averages 1).
        economy_factor: 1 in normal times, lower during a recession.
        taste_gap: How far local tastes sit from a standard national offering.
    """

    def __init__(self, env: simpy.Environment, calendar: Calendar, plan: MarketPlan) -> None:
        self.calendar = calendar
        self.potential_customers = plan.potential_customers
        self.taste_gap = plan.local_taste_gap
        self.season_factor = 1.0
        self.economy_factor = 1.0
        self._seasons = plan.season_factors
        self._recession_drops: list[float] = []
        env.process(self.run())

    def run(self) -> Generator[simpy.Event, Any, None]:
        """At each month's opening, turn the season."""
        while True:
            month = yield self.calendar.next(Phase.OPEN)
            self.season_factor = self._seasons[(month - 1) % 12]

    def competitor_enters(self, market_share_taken: float) -> None:
        """A competitor opens and takes its share of the addressable market."""
        self.potential_customers *= 1.0 - market_share_taken

    def recession_starts(self, demand_drop: float) -> None:
        """Demand falls by ``demand_drop`` until this recession ends (the deepest one counts)."""
        self._recession_drops.append(demand_drop)
        self.economy_factor = 1.0 - max(self._recession_drops)

    def recession_ends(self, demand_drop: float) -> None:
        """A recession is over."""
        self._recession_drops.remove(demand_drop)
        self.economy_factor = 1.0 - max(self._recession_drops, default=0.0)
