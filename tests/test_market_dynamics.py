"""A market that lives: rivals that leave, entry that follows saturation, a trend in size.

Each mechanism is off when its fields are absent; on, the expected market follows its closed
form, survival moves the way it should, and every arm still meets the same competitors.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import simpy

from franchise_sim import SimulationResults, simulate
from franchise_sim.engine.batch import BatchRecord, plans_on_paper, run_batch
from franchise_sim.model.books import SHOCK_NAMES
from franchise_sim.model.calendar import Calendar
from franchise_sim.model.market import MAX_ENTRY_RATE_PER_YEAR, Market, Shocks
from franchise_sim.model.plan import MarketPlan, needs_plan_on_paper, plan_replication
from franchise_sim.model.streams import exact_pow
from franchise_sim.scenario.errors import ScenarioError
from franchise_sim.scenario.files import parse_scenario
from franchise_sim.scenario.schema import Scenario
from tests import test_model
from tests.conftest import Variant

ENTRY = "events.competitor_entry."
RATE, SHARE = 0.35, 0.20
"""The auto repair scenario's entry rate per year and the share an entrant takes."""
EXIT_CHANCE = 0.10
HAZARD = -math.log1p(-EXIT_CHANCE)
"""Yearly exit hazard of a rival whose yearly chance of closing is `EXIT_CHANCE`."""
EXITS = {ENTRY + "exit_rate_per_year": EXIT_CHANCE}
INCUMBENTS = EXITS | {ENTRY + "rivals_at_start": 3}
SATURATION = INCUMBENTS | {ENTRY + "households_per_firm_threshold": 6400}


def _batch(scenario: Scenario, runs: int, horizon: int, seed: int = 3) -> BatchRecord:
    """One batch of the whole engine: nothing a business does changes its market or events."""
    paper = plans_on_paper(scenario, seed, horizon) if needs_plan_on_paper(scenario) else None
    return run_batch(scenario, seed, range(runs), horizon, False, paper)


def _markets(scenario: Scenario, runs: int, horizon: int = 120) -> np.ndarray:
    """Potential customers per (run, month) over the market's start."""
    start = [
        plan_replication(
            scenario, seed=3, replication=r, horizon_months=horizon
        ).market.potential_customers
        for r in range(runs)
    ]
    paths: np.ndarray = _batch(scenario, runs, horizon).market_customers / np.array(start)[:, None]
    return paths


def _entries(scenario: Scenario, runs: int, horizon: int = 120) -> float:
    counts = _batch(scenario, runs, horizon).shock_counts
    return float(counts[:, SHOCK_NAMES.index("competitor_entry")].mean())


def expected_market(years: float, *, rivals_at_start: int = 0, exits: bool = True) -> float:
    """Closed form of the expected market after ``years``, relative to its start.

    Entrants arrive as a Poisson process of rate ``RATE``; each stays an exponential time of
    hazard ``HAZARD``, so those present form a Poisson count of mean ``RATE (1 - e^{-HAZARD
    t}) / HAZARD`` (``RATE t`` without exits) and the expected factor they leave is
    ``exp(-SHARE x mean)``. Each rival there at opening has gone with chance ``1 - e^{-HAZARD
    t}``, giving back ``1 / (1 - SHARE)``.
    """
    if not exits:
        return math.exp(-SHARE * RATE * years)
    gone = 1.0 - math.exp(-HAZARD * years)
    entrants = RATE * gone / HAZARD
    return math.exp(-SHARE * entrants) * (1.0 - gone + gone / (1.0 - SHARE)) ** rivals_at_start


# --- the market's size ------------------------------------------------------------------------


def test_market_size_factor_hand_computed() -> None:
    # The market's size factor after ``month`` months: (1 + trend) ** (month / 12), exactly.
    assert exact_pow(1.05, 18 / 12.0) == pytest.approx(1.05**1.5, rel=1e-15)
    assert exact_pow(0.98, 120 / 12.0) == pytest.approx(0.98**10, rel=1e-15)
    assert exact_pow(1.0, 77 / 12.0) == 1.0


@pytest.mark.parametrize("trend", [0.03, -0.04])
def test_a_trend_grows_the_market_exactly_as_the_closed_form(
    variant: Variant, trend: float
) -> None:
    scenario = variant({"market.size_trend_per_year": trend})
    plan = plan_replication(scenario, seed=1, replication=0, horizon_months=120, deterministic=True)
    start = plan.market.potential_customers
    path = tuple(run_batch(scenario, 1, range(1), 120, True, None).market_customers[0].tolist())
    assert path == tuple(start * (1.0 + trend) ** (month / 12.0) for month in range(1, 121))
    assert path[-1] == pytest.approx(start * (1.0 + trend) ** 10, rel=1e-14)


def test_a_growing_market_wins_more_customers_and_a_shrinking_one_fewer(variant: Variant) -> None:
    final = {}
    for trend in (-0.05, 0.0, 0.05):
        results = simulate(
            variant({"market.size_trend_per_year": trend}),
            runs=1,
            workers=1,
            deterministic=True,
            horizon_months=60,
        )
        final[trend] = results.series("customers")[:, 0, -1]
    assert (final[-0.05] < final[0.0]).all()
    assert (final[0.0] < final[0.05]).all()


def test_a_trend_moves_survival_its_way(variant: Variant) -> None:
    survival = {}
    for trend in (-0.08, 0.0, 0.08):
        results = simulate(
            variant({"market.size_trend_per_year": trend}), runs=150, horizon_months=48, workers=1
        )
        survival[trend] = results.outcomes["survived"].mean(axis=1)
    assert (survival[-0.08] < survival[0.0]).all()
    assert (survival[0.0] < survival[0.08]).all()


# --- rivals that leave ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "rivals", "exits"),
    [({}, 0, False), (EXITS, 0, True), (INCUMBENTS, 3, True)],
    ids=["no exits", "entrants leave", "incumbents leave too"],
)
def test_the_expected_market_follows_its_closed_form(
    variant: Variant, changes: dict[str, Any], rivals: int, exits: bool
) -> None:
    markets = _markets(variant(changes), runs=800)
    for years in (2, 5, 10):
        values = markets[:, 12 * years - 1]
        expected = expected_market(years, rivals_at_start=rivals, exits=exits)
        se = values.std(ddof=1) / math.sqrt(len(values))
        assert abs(values.mean() - expected) < 4 * se, (years, values.mean(), expected)


def test_with_exits_the_market_after_ten_years_stays_closer_to_its_start(
    variant: Variant,
) -> None:
    # Closed forms: 0.497 of the start without exits; 0.648 when entrants leave; 1.02 when the
    # three rivals there at opening may leave too.
    without = _markets(variant({}), runs=300)[:, -1].mean()
    leaving = _markets(variant(EXITS), runs=300)[:, -1].mean()
    incumbents = _markets(variant(INCUMBENTS), runs=300)[:, -1].mean()
    assert without < leaving < 1.0
    assert abs(incumbents - 1.0) < 0.1
    assert abs(incumbents - 1.0) < abs(leaving - 1.0) < abs(without - 1.0)


def test_a_rival_leaving_gives_its_share_back() -> None:
    env = simpy.Environment()
    plan = MarketPlan(potential_customers=1000.0, local_taste_gap=0.0, season_factors=(1.0,) * 12)
    market = Market(env, Calendar(env, 12), [plan], np.array([2]), np.array([0.2]))
    first = market.competitor_enters(0, 0.2)
    second = market.competitor_enters(0, 0.2)
    assert (first, second) == (2, 3)  # rivals there at opening are 0 and 1
    assert market.potential_customers[0] == pytest.approx(640.0, rel=1e-15)
    market.competitor_leaves(0, first)
    assert market.potential_customers[0] == pytest.approx(800.0, rel=1e-15)
    market.competitor_leaves(0, 0)  # a rival there at opening: its share was never in the 1,000
    assert market.potential_customers[0] == pytest.approx(1000.0, rel=1e-15)
    assert market.rivals[0] == 2


def test_rivals_leaving_raise_survival(variant: Variant) -> None:
    off = simulate(variant({}), runs=150, horizon_months=48, workers=1)
    on = simulate(variant(INCUMBENTS), runs=150, horizon_months=48, workers=1)
    assert (on.outcomes["survived"].mean(axis=1) > off.outcomes["survived"].mean(axis=1)).all()
    exits = on.shock_counts["competitor_exit"]
    assert exits.sum() > 0
    assert (off.shock_counts["competitor_exit"] == 0).all()


# --- entry that follows saturation (Bresnahan & Reiss) -----------------------------------------


def test_the_entry_rate_scales_with_households_per_firm(variant: Variant) -> None:
    scenario = variant(
        {
            "market.households": 30000,
            "market.addressable_share": 0.05,
            ENTRY + "rivals_at_start": 4,
            ENTRY + "households_per_firm_threshold": 4000,
        }
    )
    plan = plan_replication(scenario, seed=1, replication=0, horizon_months=12)
    env = simpy.Environment()
    one = np.array([0], dtype=np.int64)
    market = Market(env, Calendar(env, 12), [plan.market], np.array([4]), np.array([0.2]))
    shocks = Shocks(env, [plan.events], market, [], 1, one, 12)
    # 30,000 households over 4 rivals and this unit: 6,000 a firm, 1.5 times the threshold.
    assert shocks.entry_rate_per_month(0) == pytest.approx(0.35 * 1.5 / 12, rel=1e-12)
    market.competitor_enters(0, 0.2)  # 5,000 a firm now, whatever the entrant took
    assert shocks.entry_rate_per_month(0) == pytest.approx(0.35 * 1.25 / 12, rel=1e-12)
    crowded = dataclasses.replace(plan.events, competitor_entry_threshold_customers_per_firm=1e-6)
    empty = Market(env, Calendar(env, 12), [plan.market], np.array([0]), np.array([0.2]))
    crowded_out = Shocks(env, [crowded], empty, [], 1, one, 12)
    assert crowded_out.entry_rate_per_month(0) == MAX_ENTRY_RATE_PER_YEAR / 12


def test_entry_slows_as_the_market_saturates_and_quickens_in_a_larger_one(
    variant: Variant,
) -> None:
    def entries(households: float, threshold: float) -> float:
        changes = SATURATION | {
            "market.households": households,
            ENTRY + "households_per_firm_threshold": threshold,
        }
        return _entries(variant(changes), runs=150)

    assert entries(25000, 12800) < entries(25000, 6400) < entries(25000, 3200)
    assert entries(15000, 6400) < entries(25000, 6400) < entries(40000, 6400)


def test_entry_near_the_threshold_keeps_the_market_near_its_start(variant: Variant) -> None:
    # 3 rivals and the unit share about 25,700 households: 6,400 a firm is the threshold, so
    # entry (0.35 a year) about balances three rivals closing at 10% a year.
    markets = _markets(variant(SATURATION), runs=300)[:, -1]
    assert abs(markets.mean() - 1.0) < 0.1


# --- the same world for every arm -------------------------------------------------------------


@pytest.fixture(scope="module")
def living_market(variant: Variant) -> SimulationResults:
    return simulate(
        variant(SATURATION | {"market.size_trend_per_year": 0.02}),
        runs=120,
        horizon_months=60,
        workers=1,
    )


def test_every_arm_meets_the_same_competitors(variant: Variant) -> None:
    base = variant(SATURATION | {"market.size_trend_per_year": 0.02})
    other_arms = variant(
        SATURATION
        | {
            "market.size_trend_per_year": 0.02,
            "concept.quality": 0.2,  # a poor independent that closes early
            "arms.franchise.franchise.royalty_rate": 0.12,
            "arms.franchise.operations.capacity_visits_per_month": 400,
        }
    )
    first, second = (_batch(s, 40, 60, seed=5) for s in (base, other_arms))
    np.testing.assert_array_equal(first.market_customers, second.market_customers)
    np.testing.assert_array_equal(first.shock_counts, second.shock_counts)
    different = [a != b for a, b in zip(first.closure_reasons, second.closure_reasons, strict=True)]
    assert any(different)  # the businesses did differ, and still met the same market


def test_the_summary_shows_the_same_exits_for_every_arm(living_market: SimulationResults) -> None:
    assert living_market.shock_counts["competitor_exit"].sum() > 0
    test_model.test_arms_meet_the_same_market_and_events(living_market)


CASH_CHECKS: list[Callable[[SimulationResults], None]] = [
    test_model.test_cash_changes_by_exactly_the_months_cash_flow,
    test_model.test_cash_flow_is_the_sum_of_its_lines,
    test_model.test_loan_is_repaid_by_principal_payments,
    test_model.test_closed_businesses_have_no_flows,
    test_model.test_customers_and_service_stay_physical,
]


@pytest.mark.parametrize("check", CASH_CHECKS, ids=lambda c: c.__name__)
def test_the_books_hold_with_a_living_market(
    living_market: SimulationResults, check: Callable[[SimulationResults], None]
) -> None:
    check(living_market)


def test_one_and_two_workers_agree_with_a_living_market(variant: Variant) -> None:
    scenario = variant(SATURATION | {"market.size_trend_per_year": -0.01})
    one = simulate(scenario, runs=24, seed=4, horizon_months=48, workers=1)
    two = simulate(scenario, runs=24, seed=4, horizon_months=48, workers=2)
    assert set(two.worker_pids) - {os.getpid()}, "the pool did not run"
    np.testing.assert_array_equal(one.trajectories, two.trajectories)
    for name in SHOCK_NAMES:
        np.testing.assert_array_equal(one.shock_counts[name], two.shock_counts[name])


# --- off when absent --------------------------------------------------------------------------


def test_the_fields_at_their_off_values_change_nothing(variant: Variant) -> None:
    absent = simulate(variant({}), runs=30, horizon_months=48, workers=1)
    off = simulate(
        variant(
            {
                "market.size_trend_per_year": 0.0,
                ENTRY + "exit_rate_per_year": 0.0,
                ENTRY + "rivals_at_start": 5,  # present, but they never leave
            }
        ),
        runs=30,
        horizon_months=48,
        workers=1,
    )
    np.testing.assert_array_equal(absent.trajectories, off.trajectories)
    np.testing.assert_array_equal(absent.closure_reasons, off.closure_reasons)


def test_a_market_trend_out_of_range_is_refused(auto_repair_data: dict[str, Any]) -> None:
    import yaml

    data = {**auto_repair_data, "market": {**auto_repair_data["market"]}}
    data["market"]["size_trend_per_year"] = 0.5
    with pytest.raises(ScenarioError, match="size_trend_per_year"):
        parse_scenario(yaml.safe_dump(data), "trend.yaml")
