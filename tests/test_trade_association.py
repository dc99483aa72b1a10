"""The trade association: each benefit's direction, its costs on its lines, its lapse, switched off.

Every comparison runs arms over the same seed: common random numbers make the difference
between an arm with the association and one without (or with another membership) the
association's own. A membership with one benefit only (the others at their neutral values)
shows that benefit's direction.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from pydantic import ValidationError

from franchise_sim import SimulationResults, simulate
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS
from franchise_sim.model.books import GAVE_UP
from franchise_sim.model.relationships.franchise import FRANCHISE
from franchise_sim.model.relationships.trade_association import (
    LAPSED_MONTH,
    TRADE_ASSOCIATION,
    lapse_month,
    learning_gain,
    membership_costs_usd,
)
from franchise_sim.scenario.relationships.trade_association import TradeAssociation
from franchise_sim.scenario.schema import Scenario
from tests.books import assert_books_balance, assert_identical

RUNS = 120
HORIZON = 36
VARIABLE_COST_RATE = 0.52
"""The test base's variable-cost rate (tests/data/auto_repair_before_v2.yaml)."""
CAPACITY = 170.0
"""The test base's capacity, visits a month."""

NEUTRAL: dict[str, Any] = {
    "dues_usd_per_year": 0.0,
    "active_events_usd_per_year": 0.0,
    "active_owner_hours_per_month": 0.0,
    "quality_gain_share": 0.0,
    "group_purchasing_discount_share": 0.0,
    "shared_capacity_share": 0.0,
    "persistence_gain_share": 0.0,
    "awareness_p_per_month": 0.0,
    "lapse_rate_per_year": 0.0,
}
"""A membership that costs nothing and brings nothing: every hook at its neutral value."""


def only(**terms: Any) -> dict[str, Any]:
    """A membership with these terms and every other benefit and cost neutral."""
    return NEUTRAL | terms


def with_members(
    data: dict[str, Any], changes: dict[str, Any] | None = None, **arms: dict[str, Any]
) -> Scenario:
    """The test base with more arms: copies of the independent, each with its membership.

    Args:
        data: The test base as plain data.
        changes: Changes to the independent arm's spec, made before it is copied.
        arms: Each new arm's ``trade_association`` section, by arm name.
    """
    data = copy.deepcopy(data)
    independent = data["arms"]["independent"]
    for key, value in (changes or {}).items():
        independent[key] = value
    for name, section in arms.items():
        arm = copy.deepcopy(independent)
        arm["label"] = f"Independent, {name}"
        arm["trade_association"] = section
        data["arms"][name] = arm
    return Scenario.model_validate(data)


def run(scenario: Scenario, **kwargs: Any) -> SimulationResults:
    """A small run of the default model (the franchise and the trade association)."""
    options: dict[str, Any] = {"runs": RUNS, "seed": 11, "workers": 1, "horizon_months": HORIZON}
    return simulate(scenario, **(options | kwargs))


def arm(results: SimulationResults, column: str, name: str) -> NDArray[np.float64]:
    """One arm's monthly column, (replication, month)."""
    return np.asarray(results.series(column)[results.arm_index(name)], dtype=float)


# -- the money and the timing, by hand ------------------------------------------------------------


def test_yearly_dues_fall_at_each_renewal_and_events_a_twelfth_a_month() -> None:
    dues = np.array([345.0, 460.0])
    events = np.array([300.0, 0.0])
    for month, expected in ((1, [345.0, 460.0]), (2, [0.0, 0.0]), (12, [0.0, 0.0])):
        got_dues, got_events = membership_costs_usd(month, dues, events, yearly=True)
        assert got_dues.tolist() == expected
        assert got_events.tolist() == [25.0, 0.0]
    assert membership_costs_usd(13, dues, events, yearly=True)[0].tolist() == [345.0, 460.0]
    assert membership_costs_usd(25, dues, events, yearly=True)[0].tolist() == [345.0, 460.0]
    assert membership_costs_usd(24, dues, events, yearly=True)[0].tolist() == [0.0, 0.0]


def test_monthly_dues_are_a_twelfth_of_the_year_every_month() -> None:
    dues = np.array([360.0, 240.0])
    for month in (1, 2, 12, 13):
        got, _ = membership_costs_usd(month, dues, np.zeros(2), yearly=False)
        assert got.tolist() == [30.0, 20.0]


def test_learning_grows_from_nothing_toward_its_ceiling() -> None:
    ceiling = np.array([0.04, 0.02])
    assert learning_gain(np.zeros(2), ceiling, 24.0).tolist() == [0.0, 0.0]
    assert learning_gain(np.full(2, 24.0), ceiling, 24.0).tolist() == [
        0.04 * (1.0 - math.exp(-1.0)),
        0.02 * (1.0 - math.exp(-1.0)),
    ]
    assert learning_gain(np.full(2, 1200.0), ceiling, 1.0).tolist() == [0.04, 0.02]


def _u_for(months: float, rate: float) -> float:
    """The uniform whose decision to lapse falls ``months`` after opening at ``rate`` a year."""
    return float(1.0 - (1.0 - rate) ** (months / 12.0))


def test_the_lapse_falls_in_the_month_decided_or_at_the_next_renewal() -> None:
    u = np.array([_u_for(t, 0.1) for t in (0.5, 5.5, 12.5, 25.5)])
    assert lapse_month(u, 0.1, yearly=False).tolist() == [1.0, 6.0, 13.0, 26.0]
    assert lapse_month(u, 0.1, yearly=True).tolist() == [1.0, 13.0, 13.0, 37.0]
    assert lapse_month(u, 0.0, yearly=True).tolist() == [math.inf] * 4


# -- the section ----------------------------------------------------------------------------------


def test_the_section_rejects_unknown_keys_and_out_of_range_values() -> None:
    with pytest.raises(ValidationError):
        TradeAssociation.model_validate({"dues_per_year": 300.0})
    with pytest.raises(ValidationError):
        TradeAssociation.model_validate({"participation_share": 1.5})
    with pytest.raises(ValidationError):
        TradeAssociation.model_validate({"dues_billing": "weekly"})
    uncertain = TradeAssociation.model_validate(
        {"dues_usd_per_year": {"dist": "uniform", "low": 230.0, "high": 460.0}}
    )
    assert uncertain.dues_usd_per_year.mean() == 345.0  # type: ignore[union-attr]


def test_an_arm_holds_the_section_as_written(auto_repair_data: dict[str, Any]) -> None:
    scenario = with_members(auto_repair_data, member={"participation_share": 0.8})
    held = scenario.arm("member").trade_association
    assert held is not None
    assert held.participation_share == 0.8
    assert scenario.arm("independent").trade_association is None


# -- switched off and neutral ---------------------------------------------------------------------


def assert_shared_columns_equal(a: SimulationResults, b: SimulationResults) -> None:
    """Every column of ``b``'s books the same bit for bit in ``a``'s, and the outcomes too."""
    for column in b.monthly_columns:
        np.testing.assert_array_equal(a.series(column), b.series(column), err_msg=column)
    for name in b.outcomes:
        np.testing.assert_array_equal(a.outcomes[name], b.outcomes[name], err_msg=name)
    np.testing.assert_array_equal(a.closure_reasons, b.closure_reasons)


def test_without_the_section_the_books_are_the_model_without_the_association(
    auto_repair: Scenario,
) -> None:
    default = run(auto_repair, relationships=DEFAULT_RELATIONSHIPS)  # as given: not narrowed
    without = run(auto_repair, relationships=(FRANCHISE,))
    assert_shared_columns_equal(default, without)
    for line in TRADE_ASSOCIATION.cost_lines:
        assert line in default.monthly_columns
        assert line not in without.monthly_columns
        assert not default.series(line).any()
    assert not default.outcomes[LAPSED_MONTH].any()


def test_a_membership_that_brings_and_costs_nothing_changes_no_number(
    auto_repair_data: dict[str, Any],
) -> None:
    results = run(with_members(auto_repair_data, neutral=NEUTRAL))
    for column in results.monthly_columns:
        np.testing.assert_array_equal(
            arm(results, column, "neutral"), arm(results, column, "independent"), err_msg=column
        )


# -- each benefit's direction ---------------------------------------------------------------------


def test_learning_from_peers_raises_satisfaction(auto_repair_data: dict[str, Any]) -> None:
    terms = only(quality_gain_share=0.05, participation_share=0.8, learning_months=12.0)
    results = run(with_members(auto_repair_data, member=terms))
    member, alone = (
        arm(results, "satisfaction", "member"),
        arm(results, "satisfaction", "independent"),
    )
    np.testing.assert_array_equal(member[:, 0], alone[:, 0])  # nothing learnt in month one
    gain = 0.05 * 0.8 * (1.0 - math.exp(-1.0 / 12.0))
    np.testing.assert_array_equal(member[:, 1], alone[:, 1] * (1.0 + gain))
    open_ = arm(results, "alive", "member") > 0.5
    assert member[open_].mean() > alone[arm(results, "alive", "independent") > 0.5].mean()


def test_a_more_active_member_learns_more(auto_repair_data: dict[str, Any]) -> None:
    terms = only(quality_gain_share=0.05, learning_months=12.0)
    results = run(
        with_members(
            auto_repair_data,
            passive=terms | {"participation_share": 0.1},
            active=terms | {"participation_share": 1.0},
        )
    )
    passive, active = (
        arm(results, "satisfaction", "passive"),
        arm(results, "satisfaction", "active"),
    )
    alone = arm(results, "satisfaction", "independent")
    assert (active[:, 1] > passive[:, 1]).all()
    assert (passive[:, 1] > alone[:, 1]).all()


def test_group_purchasing_lowers_variable_costs(auto_repair_data: dict[str, Any]) -> None:
    results = run(with_members(auto_repair_data, member=only(group_purchasing_discount_share=0.05)))
    revenue = arm(results, "revenue", "member")
    np.testing.assert_array_equal(revenue[:, 0], arm(results, "revenue", "independent")[:, 0])
    np.testing.assert_array_equal(
        arm(results, "variable_costs", "member")[:, 0],
        revenue[:, 0] * (VARIABLE_COST_RATE * (1.0 - 0.05)),
    )
    assert (
        arm(results, "variable_costs", "member").sum()
        < arm(results, "variable_costs", "independent").sum()
    )


def test_shared_equipment_adds_capacity(auto_repair_data: dict[str, Any]) -> None:
    busy = {"operations": {"capacity_visits_per_month": 40.0}}
    results = run(with_members(auto_repair_data, busy, member=only(shared_capacity_share=0.5)))
    served = arm(results, "visits_served", "member")[:, 0]
    served_alone = arm(results, "visits_served", "independent")[:, 0]
    assert (served_alone <= 40.0).all()
    assert (served <= 60.0).all()
    assert (served >= served_alone).all()
    assert served.sum() > served_alone.sum()


def test_a_members_reputation_brings_more_new_customers(auto_repair_data: dict[str, Any]) -> None:
    results = run(with_members(auto_repair_data, member=only(awareness_p_per_month=0.01)))
    new = arm(results, "new_customers", "member")[:, 0]
    new_alone = arm(results, "new_customers", "independent")[:, 0]
    assert (new >= new_alone).all()
    assert new.mean() > new_alone.mean()


def test_peer_support_means_fewer_owners_give_up(auto_repair_data: dict[str, Any]) -> None:
    impatient = {"owner": {"patience_months": 3.0, "living_share_of_draw": 1.0}}
    support = only(persistence_gain_share=1.0, participation_share=1.0)
    results = run(with_members(auto_repair_data, impatient, member=support))
    reasons = results.closure_reasons
    gave_up = (reasons[results.arm_index("member")] == GAVE_UP).sum()
    gave_up_alone = (reasons[results.arm_index("independent")] == GAVE_UP).sum()
    assert gave_up_alone > RUNS / 4  # owners give up often here
    assert gave_up < gave_up_alone
    alive = arm(results, "alive", "member")
    assert (alive >= arm(results, "alive", "independent")).all()


# -- costs and the lapse --------------------------------------------------------------------------


def test_the_dues_and_events_are_on_their_cost_lines_exactly(
    auto_repair_data: dict[str, Any],
) -> None:
    costs = {"lapse_rate_per_year": 0.0, "active_events_usd_per_year": 600.0}
    results = run(
        with_members(
            auto_repair_data,
            yearly=costs | {"dues_usd_per_year": 345.0, "participation_share": 0.5},
            monthly=costs | {"dues_usd_per_year": 360.0, "dues_billing": "monthly"},
        )
    )
    months = np.arange(1, HORIZON + 1)
    open_ = arm(results, "alive", "yearly") > 0.5
    renewal = np.broadcast_to(months % 12 == 1, open_.shape)
    dues = arm(results, "association_dues", "yearly")
    # a business open at a month's end traded that month; one closing this month paid too
    traded = np.concatenate([np.ones((RUNS, 1), bool), open_[:, :-1]], axis=1)
    assert (dues[traded & renewal] == 345.0).all()
    assert (dues[~(traded & renewal)] == 0.0).all()
    events = arm(results, "association_events", "yearly")
    assert (events[traded] == 300.0 / 12).all()
    assert (events[~traded] == 0.0).all()
    monthly_traded = np.concatenate(
        [np.ones((RUNS, 1), bool), arm(results, "alive", "monthly")[:, :-1] > 0.5], axis=1
    )
    monthly = arm(results, "association_dues", "monthly")
    assert (monthly[monthly_traded] == 30.0).all()
    assert (monthly[~monthly_traded] == 0.0).all()
    events_monthly = arm(results, "association_events", "monthly")
    assert (events_monthly[monthly_traded] == 600.0 * 0.5 / 12).all()  # default participation
    assert (arm(results, "association_dues", "independent") == 0.0).all()


def test_a_lapsed_membership_stops_the_dues_and_the_shared_benefits(
    auto_repair_data: dict[str, Any],
) -> None:
    terms = {
        "dues_billing": "monthly",
        "lapse_rate_per_year": 0.6,
        "group_purchasing_discount_share": 0.05,
        "shared_capacity_share": 0.5,
    }
    results = run(with_members(auto_repair_data, member=terms))
    a = results.arm_index("member")
    lapsed = results.outcomes[LAPSED_MONTH][a]
    assert 0 < (lapsed > 0).sum() < RUNS
    summary = results.summary
    counted = summary.loc[summary["arm"] == "member", LAPSED_MONTH]
    assert counted.isna().sum() == (lapsed == 0).sum()
    dues, events = (
        arm(results, "association_dues", "member"),
        arm(results, "association_events", "member"),
    )
    variable, revenue = arm(results, "variable_costs", "member"), arm(results, "revenue", "member")
    served = arm(results, "visits_served", "member")
    months = np.arange(1, HORIZON + 1)
    for r in np.flatnonzero(lapsed > 0):
        after = months >= lapsed[r]
        before = ~after & (revenue[r] > 0)
        assert (dues[r, after] == 0.0).all()
        assert (events[r, after] == 0.0).all()
        assert (dues[r, before] == 345.0 / 12).all()
        np.testing.assert_array_equal(variable[r, after], revenue[r, after] * VARIABLE_COST_RATE)
        np.testing.assert_array_equal(
            variable[r, before], revenue[r, before] * (VARIABLE_COST_RATE * (1.0 - 0.05))
        )
        assert (served[r, after] <= CAPACITY).all()


def test_a_lapsed_member_keeps_what_it_learnt(auto_repair_data: dict[str, Any]) -> None:
    # learning at once (a tiny time constant), and nothing else: a lapse changes nothing
    learning = only(quality_gain_share=0.05, participation_share=1.0, learning_months=1e-9)
    results = run(
        with_members(
            auto_repair_data,
            staying=learning,
            lapsing=learning | {"dues_billing": "monthly", "lapse_rate_per_year": 0.9},
        )
    )
    lapsed = results.outcomes[LAPSED_MONTH][results.arm_index("lapsing")]
    learnt = lapsed != 1  # a lapse in month one comes before anything is learnt
    assert (lapsed[learnt] > 1).sum() > RUNS / 4
    for column in ("satisfaction", "customers", "revenue", "cash"):
        np.testing.assert_array_equal(
            arm(results, column, "lapsing")[learnt],
            arm(results, column, "staying")[learnt],
            err_msg=column,
        )
    staying = arm(results, "satisfaction", "staying")[:, 1]
    assert (staying > arm(results, "satisfaction", "independent")[:, 1]).all()


def test_the_plan_on_paper_never_lapses(auto_repair_data: dict[str, Any]) -> None:
    scenario = with_members(auto_repair_data, member={"lapse_rate_per_year": 1.0})
    planned = simulate(scenario, deterministic=True, horizon_months=HORIZON)
    assert planned.outcomes[LAPSED_MONTH].tolist() == [[0.0], [0.0], [0.0]]
    assert planned.series("association_dues")[planned.arm_index("member"), 0, 0] == 345.0


# -- the books ------------------------------------------------------------------------------------


def test_the_books_balance_with_a_membership(auto_repair_data: dict[str, Any]) -> None:
    uncertain = {"participation_share": {"dist": "beta", "a": 2.0, "b": 3.0}}
    results = run(with_members(auto_repair_data, member={}, drawn=uncertain))
    assert_books_balance(results)
    assert arm(results, "association_dues", "member").sum() > 0


def test_two_arms_with_the_same_membership_draw_the_same(auto_repair_data: dict[str, Any]) -> None:
    uncertain = {"participation_share": {"dist": "beta", "a": 2.0, "b": 3.0}}
    results = run(with_members(auto_repair_data, one=uncertain, other=uncertain))
    for column in results.monthly_columns:
        np.testing.assert_array_equal(
            arm(results, column, "one"), arm(results, column, "other"), err_msg=column
        )
    events = arm(results, "association_events", "one")[:, 0]
    assert len(np.unique(events)) > RUNS / 2  # participation is drawn per replication


def test_one_or_two_workers_give_the_same_results(auto_repair_data: dict[str, Any]) -> None:
    scenario = with_members(auto_repair_data, member={"lapse_rate_per_year": 0.5})
    one = run(scenario, runs=60)
    two = run(scenario, runs=60, workers=2)
    assert_identical(one, two)
