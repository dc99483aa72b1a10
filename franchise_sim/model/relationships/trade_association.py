"""A trade association the owner joins, over a batch of replications, and its relationship value.

The `Association` is the chamber of commerce, trade association or business network of one
arm's owner in every replication of a batch (section ``trade_association``, terms in
`scenario.relationships.trade_association.TradeAssociation`). From opening day the member gets
group purchasing (``variable_cost_factors``), any shared equipment or staff
(``capacity_factors``), a member's reputation (``innovation_boosts``) and peer support through a
bad patch (``persistence_factors``), and gives the owner's hours (``owner_hours``). What the owner
learns from peers raises satisfaction (``satisfaction_factors``) with the months of membership
toward a ceiling, scaled by how active the owner is.

Order within a month (`calendar.Phase`):

1. ``OPEN``: if the membership lapses this month, it ends before the trade: the shared benefits,
   the hours and the costs stop, and the learning reached is kept from then on; otherwise the
   learning of the months of membership so far is set for the month's trade.
2. ``SETTLE``: the member pays the month's dues (a year's at each renewal, or a twelfth) and
   event costs, on the cost lines ``association_dues`` and ``association_events``.

The month the owner lets the membership lapse is drawn at opening from one uniform per
replication (purpose `LAPSE`): a constant yearly hazard, effective at once with monthly dues and
at the next renewal with yearly ones. Without draws (the plan on paper, deterministic runs) it
never lapses, as random events do not happen there.
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
from franchise_sim.model.relationships.relationship import ArmTerms, Relationship
from franchise_sim.model.streams import BatchStreams, exact_exp, exact_log1p
from franchise_sim.scenario.relationships.trade_association import TradeAssociation

NAME = "trade_association"
"""The relationship's name: the arm's section it reads and its key in the business's dicts."""
DUES = "association_dues"
"""Cost line: membership dues."""
EVENTS = "association_events"
"""Cost line: conference and event costs."""
COST_LINES = (DUES, EVENTS)
"""Cost lines the trade association charges."""
LAPSED_MONTH = "membership_lapsed_month"
"""Counter: the first month without membership after the owner let it lapse (0: it did not)."""
LAPSE = "trade_association.lapse"
"""Purpose of the uniform that times the owner's letting the membership lapse."""
MONTHS_A_YEAR = 12


class Association:
    """The trade association of one arm's owner in every replication of a batch.

    Args:
        env: The batch's environment.
        calendar: The months.
        business: The arm's business in every replication.
        terms: The arm's ``trade_association`` section.
        draws: The batch's draws of the arm's terms (`ArmTerms`).
        lapse_u: Per replication, the uniform timing the lapse; None: it never lapses.
    """

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        terms: TradeAssociation,
        draws: ArmTerms,
        lapse_u: NDArray[np.float64] | None,
    ) -> None:
        self.calendar = calendar
        self.business = business
        n = business.size
        self._dues = draws.draw(terms.dues_usd_per_year, "trade_association.dues_usd_per_year")
        self._yearly = terms.dues_billing == "yearly"
        self._participation = draws.draw(
            terms.participation_share, "trade_association.participation_share"
        )
        events = draws.draw(
            terms.active_events_usd_per_year, "trade_association.active_events_usd_per_year"
        )
        self._events = events * self._participation
        hours = draws.draw(
            terms.active_owner_hours_per_month, "trade_association.active_owner_hours_per_month"
        )
        self._ceiling = (
            draws.draw(terms.quality_gain_share, "trade_association.quality_gain_share")
            * self._participation
        )
        self._learning_months = terms.learning_months
        self.member = np.ones(n, dtype=bool)
        self.lapsed_month = np.zeros(n, dtype=np.int64)
        self._lapse_month = (
            np.full(n, math.inf)
            if lapse_u is None
            else lapse_month(lapse_u, terms.lapse_rate_per_year, yearly=self._yearly)
        )
        discount = draws.draw(
            terms.group_purchasing_discount_share,
            "trade_association.group_purchasing_discount_share",
        )
        shared = draws.draw(terms.shared_capacity_share, "trade_association.shared_capacity_share")
        awareness = draws.draw(
            terms.awareness_p_per_month, "trade_association.awareness_p_per_month"
        )
        support = draws.draw(
            terms.persistence_gain_share, "trade_association.persistence_gain_share"
        )
        business.satisfaction_factors[NAME] = np.ones(n)
        business.variable_cost_factors[NAME] = 1.0 - discount
        business.capacity_factors[NAME] = 1.0 + shared
        business.innovation_boosts[NAME] = awareness
        business.persistence_factors[NAME] = 1.0 + support * self._participation
        business.owner_hours[NAME] = hours * self._participation
        env.process(self.belong())

    def belong(self) -> Generator[simpy.Event, Any, None]:
        """Each month: learn from peers before the trade (or let it lapse); pay after it."""
        business = self.business
        while (business.is_open & self.member).any():
            month = yield self.calendar.next(Phase.OPEN)
            o = np.flatnonzero(business.is_open & self.member)
            lapsing = self._lapse_month[o] <= month
            if lapsing.any():
                self.lapse(o[lapsing], month)
                o = o[~lapsing]
            self.learn(o, month - 1)
            yield self.calendar.next(Phase.SETTLE)
            self.pay(o[business.is_open[o]], month)

    def learn(self, o: NDArray[np.intp], months: int) -> None:
        """Set the satisfaction the members in ``o`` have learnt in ``months`` of membership."""
        self.business.satisfaction_factors[NAME][o] = 1.0 + learning_gain(
            np.full(o.size, float(months)), self._ceiling[o], self._learning_months
        )

    def pay(self, o: NDArray[np.intp], month: int) -> None:
        """Charge the members in ``o`` this month's dues and event costs."""
        dues, events = membership_costs_usd(month, self._dues[o], self._events[o], self._yearly)
        self.business.charge(DUES, o, dues)
        self.business.charge(EVENTS, o, events)

    def lapse(self, where: NDArray[np.intp], month: int) -> None:
        """The memberships in ``where`` end in ``month``: what was learnt stays, the rest stops."""
        business = self.business
        self.member[where] = False
        self.lapsed_month[where] = month
        self.learn(where, month - 1)
        business.variable_cost_factors[NAME][where] = 1.0
        business.capacity_factors[NAME][where] = 1.0
        business.innovation_boosts[NAME][where] = 0.0
        business.persistence_factors[NAME][where] = 1.0
        business.owner_hours[NAME][where] = 0.0

    def counter(self, name: str) -> NDArray[np.float64]:
        """A counter of this relationship, per replication (see `TRADE_ASSOCIATION.counters`)."""
        if name != LAPSED_MONTH:
            raise KeyError(name)
        return self.lapsed_month.astype(float)


def membership_costs_usd(
    month: int,
    dues_usd_per_year: NDArray[np.float64],
    events_usd_per_year: NDArray[np.float64],
    yearly: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A member's dues and event costs in ``month`` (1 = the first month of membership).

    Yearly dues fall in full in months 1, 13, 25, ... and nothing in between; monthly dues and
    the events are a twelfth of the year's every month.
    """
    if yearly:
        renewal = month % MONTHS_A_YEAR == 1
        dues = np.where(renewal, dues_usd_per_year, 0.0)
    else:
        dues = dues_usd_per_year / MONTHS_A_YEAR
    events = events_usd_per_year / MONTHS_A_YEAR
    return np.asarray(dues, dtype=float), np.asarray(events, dtype=float)


def learning_gain(
    months: NDArray[np.float64], ceiling: NDArray[np.float64], learning_months: float
) -> NDArray[np.float64]:
    """What a member has learnt after ``months``: ``ceiling * (1 - exp(-months / tau))``."""
    return np.asarray(ceiling * (1.0 - exact_exp(-months / learning_months)), dtype=float)


def lapse_month(
    u: NDArray[np.float64], rate_per_year: float, *, yearly: bool
) -> NDArray[np.float64]:
    """The first month without membership, from each replication's uniform (``inf``: never).

    The owner decides at a constant hazard of ``rate_per_year`` a year, during month
    ``ceil(t)`` with ``t = -log(1 - u) / h``, ``h = -log(1 - rate) / 12`` a month; with yearly
    dues the membership runs to the end of the year paid for, so it ends at the next renewal
    (months 1, 13, 25, ...).
    """
    if rate_per_year <= 0:
        return np.full(np.shape(u), math.inf)
    hazard = -math.log1p(-min(rate_per_year, 1 - 1e-12)) / MONTHS_A_YEAR
    month = np.ceil(-exact_log1p(-np.asarray(u, dtype=float)) / hazard)
    if yearly:
        month = MONTHS_A_YEAR * np.ceil((month - 1) / MONTHS_A_YEAR) + 1
    return np.asarray(month, dtype=float)


def attach(
    env: simpy.Environment,
    calendar: Calendar,
    business: Business,
    streams: BatchStreams,
    terms: ArmTerms,
) -> Association | None:
    """The trade association of an arm with a ``trade_association`` section, else None."""
    section = terms.section(NAME)
    if section is None:
        return None
    lapse_u = None if terms.at_mean else streams.uniforms(LAPSE)
    return Association(env, calendar, business, section, terms, lapse_u)


TRADE_ASSOCIATION = Relationship(
    name=NAME,
    section=NAME,
    cost_lines=COST_LINES,
    counters=(LAPSED_MONTH,),
    attach=attach,
)
"""The trade association relationship: its cost lines, its counter and its actor."""
