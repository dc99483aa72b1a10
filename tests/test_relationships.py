"""The set of actors is open: a new relationship plugs in without edits to the core."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import pytest
import simpy

from franchise_sim import simulate
from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.randomness import ReplicationStreams
from franchise_sim.model.relationships import RELATIONSHIPS, Relationship
from franchise_sim.scenario.schema import Scenario

FEE_USD = 250.0
LIFT_P = 0.01


class MarketingAlliance:
    """A co-op marketing alliance with a complementary business: more awareness, a fee."""

    def __init__(self, env: simpy.Environment, calendar: Calendar, business: Business) -> None:
        self.calendar = calendar
        self.business = business
        business.innovation_boosts["alliance"] = LIFT_P
        env.process(self.pay_share())

    def pay_share(self) -> Generator[simpy.Event, Any, None]:
        """Each month the unit pays its share of the joint campaign."""
        while self.business.is_open:
            yield self.calendar.next(Phase.SETTLE)
            self.business.charge("alliance_fee", FEE_USD)


def attach(
    env: simpy.Environment, calendar: Calendar, business: Business, streams: ReplicationStreams
) -> MarketingAlliance | None:
    return (
        MarketingAlliance(env, calendar, business) if business.plan.arm == "independent" else None
    )


def test_a_new_relationship_adds_its_cost_line_and_its_effect(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = simulate(auto_repair, runs=60, seed=2, workers=1, horizon_months=24)
    monkeypatch.setitem(
        RELATIONSHIPS, "alliance", Relationship("alliance", ("alliance_fee",), attach)
    )
    after = simulate(auto_repair, runs=60, seed=2, workers=1, horizon_months=24)

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
