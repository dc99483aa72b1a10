"""The shared market and its random events, over a batch of replications.

`Market` holds each replication's potential customers, rivals, season and economy in arrays and
turns the season for all of them at each month's opening. `Shocks` gives each replication's
random events (competitor entry and exit, recessions, breakdowns, staff losses) their own times,
drawn from their own keyed streams; only the monthly re-reading of a saturation-driven entry
rate, which every replication does at each month's start, is done for all of them by one process
(a replication leaves it for an entry that falls within the month, and returns to it once an
entry leaves none other within the month: its month's end is the round's next month's start).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model.batch_plan import Columns, as_columns
from franchise_sim.model.books import SHOCK_NAMES
from franchise_sim.model.business import Business, field
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.plan import EventPlan, MarketPlan
from franchise_sim.model.schedule import later, runs_until
from franchise_sim.model.streams import SHOCK_PREFIX, ExponentialStreams, exact_pow
from franchise_sim.scenario.quantities import MAX_HOUSEHOLDS

MAX_ENTRY_RATE_PER_YEAR = 12.0
"""Fastest competitor entry, however empty the market: one a month (rate_per_year's bound)."""

COMPETITOR_ENTRY, RECESSION, EQUIPMENT_BREAKDOWN, KEY_STAFF_LOSS, COMPETITOR_EXIT = range(5)
"""Positions of the shared random events in `SHOCK_NAMES` and the counts."""
_SMALLEST_SHARE_LEFT = 1e-12


class Market:
    """The local market of every replication of a batch."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        plans: Columns | Sequence[MarketPlan],
        rivals_at_start: NDArray[np.int64],
        rival_share: NDArray[np.float64],
    ) -> None:
        plans = as_columns(plans)
        n = plans.size
        horizon = calendar.horizon_months
        self.calendar = calendar
        self._start = plans.array("potential_customers")
        self._trend = plans.array("size_trend_per_year")
        self._trending = np.flatnonzero(self._trend != 0.0)
        self._size_factor = np.ones(n)
        self._factors = np.ones((n, 4))
        """What each rival's presence (or absence) multiplies the market by, in order."""
        self._used = np.zeros(n, dtype=np.int64)
        self._slot: list[dict[int, int]] = [{} for _ in range(n)]
        self._rival_share = rival_share
        self._next_rival: list[int] = rivals_at_start.tolist()
        self.rivals = rivals_at_start.copy()
        self.potential_customers = self._start.copy()
        self.season_factor = 1.0
        self.economy_factor = np.ones(n)
        self.history = np.zeros((n, horizon))
        self.rivals_history = np.zeros((n, horizon), dtype=np.int64)
        self._seasons: tuple[float, ...] = plans.setting("season_factors")
        self._recession_drops: list[list[float]] = [[] for _ in range(n)]
        env.process(self.run())

    def run(self) -> Generator[simpy.Event, Any, None]:
        """At each month's opening, turn the season and move the market's size along its trend."""
        while True:
            month = yield self.calendar.next(Phase.OPEN)
            self.season_factor = self._seasons[(month - 1) % 12]
            t = self._trending
            if t.size:
                self._size_factor[t] = exact_pow(1.0 + self._trend[t], month / 12.0)
                self._refresh(t)
            self.history[:, month - 1] = self.potential_customers
            self.rivals_history[:, month - 1] = self.rivals

    def _refresh(self, t: NDArray[np.intp]) -> None:
        """Potential customers: the start, times the trend, times each rival's factor in turn."""
        potential = np.minimum(self._start[t] * self._size_factor[t], MAX_HOUSEHOLDS)
        for j in range(int(self._used[t].max(initial=0))):
            potential = np.minimum(potential * self._factors[:, j][t], MAX_HOUSEHOLDS)
        self.potential_customers[t] = potential

    def _refresh_one(self, r: int) -> None:
        potential = min(float(self._start[r]) * float(self._size_factor[r]), MAX_HOUSEHOLDS)
        for factor in self._factors[r, : self._used[r]].tolist():
            potential = min(potential * factor, MAX_HOUSEHOLDS)
        self.potential_customers[r] = potential

    def _add_factor(self, r: int, factor: float) -> int:
        slot = int(self._used[r])
        if slot == self._factors.shape[1]:
            grown = np.ones((self._factors.shape[0], 2 * slot))
            grown[:, :slot] = self._factors
            self._factors = grown
        self._factors[r, slot] = factor
        self._used[r] = slot + 1
        return slot

    def customers_per_firm(self, where: NDArray[np.intp] | int) -> Any:
        """The addressable market before rivals' shares (trend included) per firm in it."""
        return self._start[where] * self._size_factor[where] / (self.rivals[where] + 1)

    def customers_per_firm_in(self, r: int) -> float:
        """`customers_per_firm` of replication ``r``, on Python numbers (the same one)."""
        return self._start.item(r) * self._size_factor.item(r) / (self.rivals.item(r) + 1)

    def competitor_enters(self, r: int, market_share_taken: float) -> int:
        """A competitor opens in replication ``r``; returns its number."""
        rival = self._next_rival[r]
        self._next_rival[r] = rival + 1
        self.rivals[r] += 1
        self._slot[r][rival] = self._add_factor(r, 1.0 - market_share_taken)
        self._refresh_one(r)
        return rival

    def competitor_leaves(self, r: int, rival: int) -> None:
        """A rival closes: the share it held returns to the pool of potential customers."""
        self.rivals[r] -= 1
        slot = self._slot[r].pop(rival, None)
        if slot is not None:
            self._factors[r, slot] = 1.0  # a factor of one: as if never there
        else:  # there at opening: its share was never inside the addressable market
            share = float(self._rival_share[r])
            self._add_factor(r, 1.0 / max(1.0 - share, _SMALLEST_SHARE_LEFT))
        self._refresh_one(r)

    def recession_starts(self, r: int, demand_drop: float) -> None:
        """Demand falls by ``demand_drop`` until this recession ends (the deepest one counts)."""
        self._recession_drops[r].append(demand_drop)
        self.economy_factor[r] = 1.0 - max(self._recession_drops[r])

    def recession_ends(self, r: int, demand_drop: float) -> None:
        """A recession is over."""
        self._recession_drops[r].remove(demand_drop)
        self.economy_factor[r] = 1.0 - max(self._recession_drops[r], default=0.0)


class Shocks:
    """Competitor entry and exit, recessions, breakdowns and staff losses, shared by every arm."""

    def __init__(
        self,
        env: simpy.Environment,
        plans: Columns | Sequence[EventPlan],
        market: Market,
        businesses: Sequence[Business],
        seed: int,
        replications: NDArray[np.int64],
        horizon_months: int,
    ) -> None:
        self.env = env
        self.plans = plans = as_columns(plans)
        """The replications' event plans (`batch_plan.Columns` of `plan.EventPlan`)."""
        self.market = market
        self.businesses = businesses
        n = plans.size
        self._until = runs_until(horizon_months)
        self._tally = [[0] * len(SHOCK_NAMES) for _ in range(n)]
        """Per replication, each event's count so far (`counts`): Python ints, counted one by
        one as the events arrive, cost less than a numpy array's elements."""
        months = horizon_months + 0.5
        self._entry_rate = plans.array("competitor_rate_per_year")
        self._exit_rate = plans.array("competitor_exit_rate_per_year")
        self._threshold = plans.array("competitor_entry_threshold_customers_per_firm")
        recession_rate = plans.array("recession_rate_per_year")
        breakdown_rate = plans.array("breakdown_rate_per_year")
        staff_loss_rate = plans.array("staff_loss_rate_per_year")
        rates = {
            "competitor_entry": self._entry_rate.max(initial=0.0),
            "recession": recession_rate.max(initial=0.0),
            "equipment_breakdown": breakdown_rate.max(initial=0.0),
            "key_staff_loss": staff_loss_rate.max(initial=0.0),
            "competitor_exit": self._exit_rate.max(initial=0.0),
        }
        rivals = plans.array("competitor_rivals_at_start")
        expected = {name: rate * months / 12.0 for name, rate in rates.items()}
        expected["competitor_entry"] = max(expected["competitor_entry"], 1.0) * 3.0
        expected["competitor_exit"] += float(rivals.max(initial=0.0)) + expected["competitor_entry"]
        self._streams = {
            name: ExponentialStreams(seed, replications, SHOCK_PREFIX + name, expected[name])
            for name in SHOCK_NAMES
        }
        # The functions, not methods bound to self: a bound method kept on self is a cycle,
        # which would leave the whole batch to the cyclic collector (see `schedule.Batch`).
        self._acts: dict[int, Callable[[Shocks, int], None]] = {
            COMPETITOR_ENTRY: Shocks._competitor_opens,
            RECESSION: Shocks.recession,
            EQUIPMENT_BREAKDOWN: Shocks.equipment_breakdown,
            KEY_STAFF_LOSS: Shocks.key_staff_loss,
        }
        f = plans.array
        self._entry_rates: list[float] = self._entry_rate.tolist()
        self._thresholds: list[float] = self._threshold.tolist()
        self._share_taken = f("competitor_market_share_taken").tolist()
        self._customers_lost = f("competitor_customers_lost_share").tolist()
        self._exit_rates = self._exit_rate.tolist()
        self._recession_drop = f("recession_demand_drop").tolist()
        self._recession_months = f("recession_duration_months").tolist()
        self._repair_usd = f("breakdown_repair_cost_usd").tolist()
        self._capacity_lost = f("breakdown_capacity_lost_share").tolist()
        self._recruiting_usd = f("staff_loss_recruiting_cost_usd").tolist()
        self._quality_drop = f("staff_loss_quality_drop").tolist()
        self._months_to_replace = f("staff_loss_months_to_replace").tolist()
        saturating: list[int] = []
        starting_rivals = f("competitor_rivals_at_start").astype(np.int64).tolist()
        each_rate = zip(
            self._entry_rate.tolist(),
            self._threshold.tolist(),
            recession_rate.tolist(),
            breakdown_rate.tolist(),
            staff_loss_rate.tolist(),
            strict=True,
        )
        for r, (entry, threshold, recession, breakdown, staff_loss) in enumerate(each_rate):
            if entry > 0:
                if threshold > 0:
                    saturating.append(r)
                else:
                    self._arrive(COMPETITOR_ENTRY, r, entry)
            if recession > 0:
                self._arrive(RECESSION, r, recession)
            if breakdown > 0:
                self._arrive(EQUIPMENT_BREAKDOWN, r, breakdown)
            if staff_loss > 0:
                self._arrive(KEY_STAFF_LOSS, r, staff_loss)
            if self._exit_rates[r] > 0:
                for rival in range(starting_rivals[r]):
                    self._rival_opened(r, rival)
        self._needed = np.zeros(n)
        self._waiting = np.zeros(n, dtype=bool)
        if saturating:
            env.process(self.entries_following_saturation(np.array(saturating, dtype=np.intp)))

    def _arrive(self, event: int, r: int, rate_per_year: float) -> None:
        """The next arrival of one of replication ``r``'s Poisson events, at its own time.

        Each arrival is counted, acts and schedules the next, with a wait drawn from the
        event's own stream.
        """
        wait = self._streams[SHOCK_NAMES[event]].next(r, 12.0 / rate_per_year)

        def arrives() -> None:
            self._tally[r][event] += 1
            self._acts[event](self, r)
            self._arrive(event, r, rate_per_year)

        later(self.env, self._until, wait, arrives)

    @property
    def counts(self) -> NDArray[np.int64]:
        """Array (replication, event) of the events so far, in the order of `SHOCK_NAMES`."""
        return np.array(self._tally, dtype=np.int64).reshape(len(self._tally), len(SHOCK_NAMES))

    def entry_rate_per_month(self, where: Any) -> Any:
        """Bresnahan-Reiss entry: the rate at the threshold, scaled by customers per firm."""
        ratio = self.market.customers_per_firm(where) / self._threshold[where]
        return np.minimum(self._entry_rate[where] * ratio, MAX_ENTRY_RATE_PER_YEAR) / 12.0

    def entry_rate_in(self, r: int) -> float:
        """`entry_rate_per_month` of replication ``r``, on Python numbers (the same one)."""
        ratio = self.market.customers_per_firm_in(r) / self._thresholds[r]
        return min(self._entry_rates[r] * ratio, MAX_ENTRY_RATE_PER_YEAR) / 12.0

    def entries_following_saturation(
        self, saturating: NDArray[np.intp]
    ) -> Generator[simpy.Event, Any, None]:
        """Each month's start, re-read every waiting replication's entry rate from its market.

        A replication spends a unit exponential of its entry stream against the rate month by
        month; one whose entry falls within the month goes on in `_enters_within_month`.
        """
        stream = self._streams["competitor_entry"]
        for r in saturating.tolist():
            self._needed[r] = stream.next(r)
        self._waiting[saturating] = True
        while True:
            # The next round's timeout before this month's entries: events at one time run in
            # the order they were scheduled, and a replication's own events keep theirs.
            next_round = self.env.timeout(1.0)
            waiting = np.flatnonzero(self._waiting)
            if waiting.size:
                now = self.env.now
                to_month_end = math.floor(now) + 1.0 - now
                rate = self.entry_rate_per_month(waiting)
                enters = rate * to_month_end >= self._needed[waiting]
                for i in np.flatnonzero(enters).tolist():
                    r = int(waiting[i])
                    self._waiting[r] = False
                    self._enters_within_month(r, float(self._needed[r]), float(rate[i]))
                stays = waiting[~enters]
                self._needed[stays] -= rate[~enters] * to_month_end
            yield next_round

    def _enters_within_month(self, r: int, needed: float, rate: float) -> None:
        """A competitor enters once ``needed`` is spent at ``rate`` (`_entries_go_on` after)."""
        later(self.env, self._until, needed / rate, lambda: self._competitor_enters(r))

    def _competitor_enters(self, r: int) -> None:
        """An entry of a saturation-driven rate: counted, it acts, and the next one is drawn."""
        self._tally[r][COMPETITOR_ENTRY] += 1
        self._competitor_opens(r)
        self._entries_go_on(r, self._streams["competitor_entry"].next(r))

    def _entries_go_on(self, r: int, needed: float) -> None:
        """After an entry, the next: within the month at the rate it leaves, else from its end.

        The rest of the month spends its share of the wait at the rate re-read after the entry;
        from the month's end the monthly round takes the replication back and re-reads its rate
        at each month's start, as it does for every waiting replication (the same numbers as
        `entry_rate_in`).
        """
        rate = self.entry_rate_in(r)
        now = self.env.now
        to_month_end = math.floor(now) + 1.0 - now
        if rate * to_month_end >= needed:
            self._enters_within_month(r, needed, rate)
            return
        self._needed[r] = needed - rate * to_month_end
        self._waiting[r] = True

    def _competitor_opens(self, r: int) -> None:
        """A competitor opens: the market shrinks and some customers switch."""
        rival = self.market.competitor_enters(r, self._share_taken[r])
        for business in self.businesses:
            if business.is_open[r]:
                business.lose_customers(r, self._customers_lost[r])
        if self._exit_rates[r] > 0:
            self._rival_opened(r, rival)

    def _rival_opened(self, r: int, rival: int) -> None:
        """Draw how long a rival lasts from the exit stream, the moment it is in the market."""
        chance = min(self._exit_rates[r], 1.0 - 1e-12)
        hazard_per_month = -math.log1p(-chance) / 12.0
        lasts = self._streams["competitor_exit"].next(r, 1.0 / hazard_per_month)
        later(self.env, self._until, lasts, lambda: self.competitor_exits(r, rival))

    def competitor_exits(self, r: int, rival: int) -> None:
        """A rival closes after its time: its share of the market returns to the pool."""
        self._tally[r][COMPETITOR_EXIT] += 1
        self.market.competitor_leaves(r, rival)

    def recession(self, r: int) -> None:
        """A recession starts; it ends after its duration while the next may already loom."""
        market = self.market
        drop = self._recession_drop[r]
        market.recession_starts(r, drop)
        later(
            self.env,
            self._until,
            self._recession_months[r],
            lambda: market.recession_ends(r, drop),
        )

    def equipment_breakdown(self, r: int) -> None:
        """Equipment fails: a repair bill and lost capacity in the month it happens."""
        for business in self.businesses:
            if business.is_open[r]:
                business.charge("repairs", r, self._repair_usd[r])
                business.capacity_lost_share[r] = max(
                    float(business.capacity_lost_share[r]), self._capacity_lost[r]
                )

    def key_staff_loss(self, r: int) -> None:
        """A key employee leaves: quality suffers until a replacement is hired and trained."""
        vacant = [business for business in self.businesses if business.is_open[r]]
        for business in vacant:
            business.charge("recruiting", r, self._recruiting_usd[r])
            business.vacancy_quality_drop[r] = self._quality_drop[r]
            business.vacancies[r] += 1
        later(
            self.env,
            self._until,
            self._months_to_replace[r],
            lambda: self._filled(vacant, r),
        )

    @staticmethod
    def _filled(vacant: list[Business], r: int) -> None:
        """A replacement is hired and trained: the vacancy's quality drop ends."""
        for business in vacant:
            business.vacancies[r] -= 1


def rivals_and_shares(plans: Sequence[EventPlan]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Rivals at opening and the share each takes, per replication."""
    rivals = np.array([p.competitor_rivals_at_start for p in plans], dtype=np.int64)
    return rivals, field(plans, "competitor_market_share_taken")  # type: ignore[arg-type]
