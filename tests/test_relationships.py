"""The set of actors is open: a new relationship plugs in without edits to the core.

The set of relationships is a value handed to the engine, so one defined here, in a test
module, runs in spawned worker processes too (they import this module to find it).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Generator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim import simulate
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS
from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.relationships.relationship import ArmTerms, Relationship
from franchise_sim.model.streams import BatchStreams
from franchise_sim.scenario.schema import Scenario

FEE_USD = 250.0
LIFT_P = 0.01


class MarketingAlliance:
    """A co-op marketing alliance with a complementary business: more awareness, a fee."""

    def __init__(self, env: simpy.Environment, calendar: Calendar, business: Business) -> None:
        self.calendar = calendar
        self.business = business
        self.months_paid = np.zeros(business.size)
        business.innovation_boosts["alliance"] = np.full(business.size, LIFT_P)
        env.process(self.pay_share())

    def pay_share(self) -> Generator[simpy.Event, Any, None]:
        """Each month the unit pays its share of the joint campaign."""
        while self.business.is_open.any():
            yield self.calendar.next(Phase.SETTLE)
            open_ = np.flatnonzero(self.business.is_open)
            self.business.charge("alliance_fee", open_, FEE_USD)
            self.months_paid[open_] += 1

    def counter(self, name: str) -> NDArray[np.float64]:
        """The months the alliance was paid for."""
        assert name == "alliance_months"
        return self.months_paid


def attach(
    env: simpy.Environment,
    calendar: Calendar,
    business: Business,
    streams: BatchStreams,
    terms: ArmTerms,
) -> MarketingAlliance | None:
    return MarketingAlliance(env, calendar, business) if business.arm == "independent" else None


ALLIANCE = Relationship("alliance", ("alliance_fee",), ("alliance_months",), attach)
WITH_ALLIANCE = (*DEFAULT_RELATIONSHIPS, ALLIANCE)


def test_a_new_relationship_adds_its_cost_line_and_its_effect(auto_repair: Scenario) -> None:
    before = simulate(auto_repair, runs=60, seed=2, workers=1, horizon_months=24)
    after = simulate(
        auto_repair, runs=60, seed=2, workers=1, horizon_months=24, relationships=WITH_ALLIANCE
    )

    assert "alliance_fee" in after.monthly_columns
    assert "alliance_fee" not in before.monthly_columns
    fee = after.series("alliance_fee")
    alive = after.series("alive")
    independent, franchise = after.arm_index("independent"), after.arm_index("franchise")
    open_months = alive[independent] > 0.5
    assert (fee[independent][open_months] == FEE_USD).all()
    assert (fee[franchise] == 0).all()
    # The alliance's awareness brings the independent more new customers in month one.
    new_before = before.series("new_customers")[independent, :, 0]
    new_after = after.series("new_customers")[independent, :, 0]
    assert (new_after >= new_before).all()
    assert new_after.mean() > new_before.mean()
    # The franchise arm, without the alliance, is untouched.
    np.testing.assert_array_equal(before.series("cash")[franchise], after.series("cash")[franchise])


def test_a_relationship_defined_here_runs_under_a_spawn_pool(auto_repair: Scenario) -> None:
    here = simulate(
        auto_repair, runs=40, seed=5, workers=1, horizon_months=12, relationships=WITH_ALLIANCE
    )
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        spawned = simulate(
            auto_repair,
            runs=40,
            seed=5,
            workers=2,
            horizon_months=12,
            executor=pool,
            relationships=WITH_ALLIANCE,
        )
    np.testing.assert_array_equal(here.trajectories, spawned.trajectories)
    assert here.monthly_columns == spawned.monthly_columns
    assert os.getpid() not in spawned.worker_pids
