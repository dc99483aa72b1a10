"""The local market: how many people could become customers, the season and the economy.

The market's size may follow a trend (growth or decline, compounding yearly), and rival firms
come and go: each rival present holds the same share of the addressable market, an entrant
takes it and a rival that closes gives it back to the pool of potential customers. The market
is one world shared by every arm of a replication, so its state never depends on an arm.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.plan import MarketPlan
from franchise_sim.scenario.schema import MAX_HOUSEHOLDS

_SMALLEST_SHARE_LEFT = 1e-12
"""A rival at opening said to hold the whole market gives back as if it held all but this."""


def market_size_factor(trend_per_year: float, months: float) -> float:
    """The market's size after ``months`` relative to its start: ``(1 + trend)^(months / 12)``."""
    return float((1.0 + trend_per_year) ** (months / 12.0))


class Market:
    """The local market every arm of a replication trades in.

    Attributes:
        potential_customers: Households that could become customers of one such business: the
            addressable market at its start, grown by the trend, less the share of every
            entrant present (rivals at opening are already out of it; one leaving adds its
            share back), never more than `MAX_HOUSEHOLDS`.
        season_factor: This month's relative demand (seasonality averages 1).
        economy_factor: 1 in normal times, lower during a recession.
        taste_gap: How far local tastes sit from a standard national offering.
        rivals: Rival firms present now, those there at opening included.
        history: Per month, the potential customers the month traded with.
        rivals_history: Per month, the rivals present at the month's opening.
    """

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        plan: MarketPlan,
        *,
        rivals_at_start: int = 0,
        rival_share: float = 0.0,
    ) -> None:
        self.calendar = calendar
        self._start = plan.potential_customers
        self._trend = plan.size_trend_per_year
        self._size_factor = 1.0
        # What each rival's presence (or, for one there at opening, its absence) multiplies the
        # addressable market by, in the order it happened; rivals at opening are already out of
        # the addressable share, so only their leaving shows here, as 1 / (1 - share).
        self._factors: dict[int, float] = {}
        self._rival_share = rival_share
        self._next_rival = rivals_at_start
        self.rivals = rivals_at_start
        self.potential_customers = self._start
        self.taste_gap = plan.local_taste_gap
        self.season_factor = 1.0
        self.economy_factor = 1.0
        self.history: list[float] = []
        self.rivals_history: list[int] = []
        self._seasons = plan.season_factors
        self._recession_drops: list[float] = []
        env.process(self.run())

    def run(self) -> Generator[simpy.Event, Any, None]:
        """At each month's opening, turn the season and move the market's size along its trend."""
        while True:
            month = yield self.calendar.next(Phase.OPEN)
            self.season_factor = self._seasons[(month - 1) % 12]
            if self._trend != 0.0:
                self._size_factor = market_size_factor(self._trend, month)
                self._refresh()
            self.history.append(self.potential_customers)
            self.rivals_history.append(self.rivals)

    @property
    def size_factor(self) -> float:
        """The market's size against its start, by its trend alone (competitors aside)."""
        return self._size_factor

    def _refresh(self) -> None:
        """Potential customers: the start, times the trend, times each rival's factor in turn."""
        potential = min(self._start * self._size_factor, MAX_HOUSEHOLDS)
        for factor in self._factors.values():
            potential = min(potential * factor, MAX_HOUSEHOLDS)
        self.potential_customers = potential

    def customers_per_firm(self) -> float:
        """The addressable market before rivals' shares (trend included) per firm in it.

        Firms are the rivals present plus this business, counted whether or not a given arm's
        unit is still open, so the figure is the same for every arm.
        """
        return self._start * self._size_factor / (self.rivals + 1)

    def competitor_enters(self, market_share_taken: float) -> int:
        """A competitor opens and takes its share of the addressable market.

        Returns:
            The rival's number, to name it when it leaves (rivals at opening are numbered
            from 0, entrants after them).
        """
        rival = self._next_rival
        self._next_rival += 1
        self.rivals += 1
        self._factors[rival] = 1.0 - market_share_taken
        self._refresh()
        return rival

    def competitor_leaves(self, rival: int) -> None:
        """A rival closes: the share it held returns to the pool of potential customers."""
        self.rivals -= 1
        if rival in self._factors:
            del self._factors[rival]
        else:  # there at opening: its share was never inside the addressable market
            self._factors[rival] = 1.0 / max(1.0 - self._rival_share, _SMALLEST_SHARE_LEFT)
        self._refresh()

    def recession_starts(self, demand_drop: float) -> None:
        """Demand falls by ``demand_drop`` until this recession ends (the deepest one counts)."""
        self._recession_drops.append(demand_drop)
        self.economy_factor = 1.0 - max(self._recession_drops)

    def recession_ends(self, demand_drop: float) -> None:
        """A recession is over."""
        self._recession_drops.remove(demand_drop)
        self.economy_factor = 1.0 - max(self._recession_drops, default=0.0)
