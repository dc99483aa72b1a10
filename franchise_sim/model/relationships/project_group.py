"""A project group with other firms over a batch: a time-boxed project that may pay off.

Each replication's project runs from its start month for its duration (longer if it stalls),
taking the owner's hours and the business's share of its costs every month it runs. It succeeds
or fails at the end of its last month, by a chance that rises with structure (a leader, assigned
roles); a success brings new ideas and methods from the next month on (customers' satisfaction
up), and may bring project revenue for a while and publicity (awareness). Whether it stalls and
whether it succeeds are drawn from the replication's own keyed uniforms, the same in every arm
that runs the same project (common random numbers).

Order within a month: in ``OPEN`` the group sets the month's hours, charges the month's costs
and, from the month after the end, the effects; the business then trades on them. The plan on
paper (every value at its mean) has no stall, and a success's effects scaled by its chance.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.relationships.relationship import ArmTerms, AttachBySection, Relationship
from franchise_sim.model.streams import BatchStreams
from franchise_sim.scenario.relationships.project_group import ProjectGroup

NAME = "project_group"
COSTS = "project_costs"
"""Cost line: the business's share of the project's costs while it runs."""
SALES = "project_sales_usd"
"""Column: the project revenue a month after a success."""
SUCCEEDED_MONTH = "project_succeeded_month"
FAILED_MONTH = "project_failed_month"
STALLED = "project_stalled"
STALL = "project_group.stall"
"""Stream purpose: whether the project stalls."""
OUTCOME = "project_group.outcome"
"""Stream purpose: whether it succeeds."""


def success_chance(
    unstructured: NDArray[np.float64], structured: NDArray[np.float64], lift: float
) -> NDArray[np.float64]:
    """The chance of success: from the unstructured chance toward the structured one by ``lift``.

    ``lift`` is 0 with neither a leader nor roles, 0.5 with one of them, 1 with both.
    """
    return np.asarray(unstructured + lift * (structured - unstructured), dtype=float)


def last_month(
    start: int, duration: int, stall_months: int, stalled: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """The project's last month in each replication: a stall runs it ``stall_months`` longer."""
    return np.asarray(start + duration - 1 + np.where(stalled, stall_months, 0), dtype=np.int64)


class ProjectGroupMember:
    """The business's part in one project group, in every replication of a batch."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        streams: BatchStreams,
        arm: ArmTerms,
        terms: ProjectGroup,
    ) -> None:
        self.calendar = calendar
        self.business = business
        n = business.size
        self.start = terms.start_month
        self.hours = terms.owner_hours_per_month
        self.cost_usd = arm.draw(terms.cost_usd_per_month, f"{NAME}.cost_usd_per_month")
        unstructured, structured, lift = terms.success_share()
        chance = success_chance(
            arm.draw(unstructured, f"{NAME}.unstructured_success_share"),
            arm.draw(structured, f"{NAME}.structured_success_share"),
            lift,
        )
        stall = arm.draw(terms.stall_share, f"{NAME}.stall_share")
        gain = arm.draw(terms.quality_gain_share, f"{NAME}.quality_gain_share")
        sales = arm.draw(terms.sales_usd_per_month, f"{NAME}.sales_usd_per_month")
        awareness = arm.draw(terms.awareness_p_per_month, f"{NAME}.awareness_p_per_month")
        if arm.at_mean:  # the plan on paper: no stall, a success's effects at their expectation
            self.stalled = np.zeros(n, dtype=bool)
            self.succeeds = np.ones(n, dtype=bool)
            gain, sales, awareness = gain * chance, sales * chance, awareness * chance
        else:
            self.stalled = streams.uniforms(STALL) < stall
            self.succeeds = streams.uniforms(OUTCOME) < chance
        self.end = last_month(
            terms.start_month, terms.duration_months, terms.stall_months, self.stalled
        )
        self.sales_until = self.end + terms.sales_months
        self.gain, self.sales_usd, self.awareness = gain, sales, awareness
        self.succeeded_month = np.zeros(n)
        self.failed_month = np.zeros(n)
        business.owner_hours[NAME] = np.zeros(n)
        business.satisfaction_factors[NAME] = np.ones(n)
        business.innovation_boosts[NAME] = np.zeros(n)
        business.other_sales_usd[NAME] = np.zeros(n)
        env.process(self.take_part())

    def take_part(self) -> Generator[simpy.Event, Any, None]:
        """Each month before the trade: work on the project, then live with what it brought."""
        business = self.business
        while business.is_open.any():
            month = yield self.calendar.next(Phase.OPEN)
            o = np.flatnonzero(business.is_open)
            self.work(o, month)
            self.finish(o[self.end[o] == month - 1], month - 1)
            self.sell(o, month)

    def work(self, o: NDArray[np.intp], month: int) -> None:
        """The owner's hours and the month's costs while the project runs."""
        running = (self.start <= month) & (month <= self.end[o])
        hours = self.business.owner_hours[NAME]
        hours[o] = np.where(running, self.hours, 0.0)
        self.business.charge(COSTS, o[running], self.cost_usd[o[running]])

    def finish(self, done: NDArray[np.intp], month: int) -> None:
        """The project ended last month: a success brings its ideas and publicity from now on."""
        won = done[self.succeeds[done]]
        self.succeeded_month[won] = month
        self.failed_month[done[~self.succeeds[done]]] = month
        self.business.satisfaction_factors[NAME][won] = 1.0 + self.gain[won]
        self.business.innovation_boosts[NAME][won] = self.awareness[won]

    def sell(self, o: NDArray[np.intp], month: int) -> None:
        """Project revenue in the months after a success, while it lasts."""
        selling = self.succeeds[o] & (self.end[o] < month) & (month <= self.sales_until[o])
        sales = np.where(selling, self.sales_usd[o], 0.0)
        self.business.other_sales_usd[NAME][o] = sales
        self.business.record(SALES, o, sales)

    def counter(self, name: str) -> NDArray[np.float64]:
        """A counter per replication: the month it succeeded or failed (0: not by then).

        `STALLED` is 1 where the project stalled, 0 where it did not.
        """
        if name == STALLED:
            return self.stalled.astype(float)
        return self.succeeded_month if name == SUCCEEDED_MONTH else self.failed_month


PROJECT_GROUP = Relationship(
    name=NAME,
    section=NAME,
    cost_lines=(COSTS,),
    counters=(SUCCEEDED_MONTH, FAILED_MONTH, STALLED),
    attach=AttachBySection(NAME, ProjectGroupMember),
    columns=(SALES,),
)
"""The project group: its cost line, its revenue column, its outcomes and its actor."""
