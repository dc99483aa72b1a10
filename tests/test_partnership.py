"""The partnership with a complementary business, an actor of the model (issue 12).

Each test builds the auto repair test base with a third arm, ``partnered``: the independent with
a ``partnership`` section. The arms share their customers' uniforms (common random numbers), so
a difference between ``partnered`` and ``independent`` in one run is the partnership's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from franchise_sim import SimulationResults, simulate
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS, monthly_columns, relationships_in_use
from franchise_sim.model.relationships.franchise import FRANCHISE
from franchise_sim.model.relationships.partnership import (
    PARTNERSHIP,
    commitment_shortfall_usd,
    expected_referrals,
    partner_purchases_usd,
    purchasing_factor,
    short_streak,
)
from franchise_sim.scenario.distributions import mean_of
from franchise_sim.scenario.schema import Scenario
from tests.books import assert_books_balance, assert_identical
from tests.conftest import Variant

RUNS, MONTHS, SEED = 120, 36, 7
WITHOUT = tuple(rel for rel in DEFAULT_RELATIONSHIPS if rel is not PARTNERSHIP)
"""The shipped model without the partnership."""

TERMS: dict[str, Any] = {
    "partner_customers_per_month": 2000,
    "referral_share": 0.01,
    "referred_loyal_share": 0.8,
    "referral_out_share": 0.05,
    "partner_closure_rate_per_year": 0.0,
    "partnership_costs_usd_per_month": 150,
}
"""A partner that never closes nor ends it: referrals both ways and an upkeep."""
PURCHASING: dict[str, Any] = {
    "purchased_share": 0.5,
    "discount_share": 0.08,
    "minimum_purchases_usd_per_month": 2500,
}


def _partnered(variant: Variant, **changes: Any) -> Scenario:
    """The test base with a ``partnered`` arm: the independent with these partnership terms."""
    terms = {**TERMS, **changes}
    return variant(
        {"arms.partnered": {"label": "Independent with a partner", "partnership": terms}}
    )


def _run(scenario: Scenario, **options: Any) -> SimulationResults:
    settings: dict[str, Any] = {"runs": RUNS, "seed": SEED, "workers": 1, "horizon_months": MONTHS}
    return simulate(scenario, **(settings | options))


def _arms(results: SimulationResults, column: str) -> tuple[Any, Any]:
    """The column for the independent and the partnered arm, (replication, month)."""
    series = results.series(column)
    return series[results.arm_index("independent")], series[results.arm_index("partnered")]


# -- the money and the rules, by hand ------------------------------------------------------------
def test_the_referrals_expected_follow_traffic_share_and_satisfaction() -> None:
    got = expected_referrals(
        np.array([2000.0, 2000.0, 2000.0, 400.0]),
        np.array([0.01, 0.01, 0.01, 0.25]),
        np.array([0.5, 1.5, -0.2, 1.0]),
    )
    np.testing.assert_array_equal(got, [10.0, 20.0, 0.0, 100.0])


def test_the_purchasing_terms_cut_the_variable_costs_of_what_is_bought() -> None:
    np.testing.assert_array_equal(
        purchasing_factor(np.array([0.5, 0.0, 1.0]), np.array([0.5, 0.3, 0.25])),
        [0.75, 1.0, 0.75],
    )
    # 10,000 at list price, half of it from the partner at half price: 7,500 booked, of
    # which 2,500 paid to the partner.
    np.testing.assert_array_equal(
        partner_purchases_usd(np.array([7500.0]), np.array([0.5]), np.array([0.5])), [2500.0]
    )
    # all bought, 25% off: 3,000 booked is all the partner's
    np.testing.assert_array_equal(
        partner_purchases_usd(np.array([3000.0]), np.array([1.0]), np.array([0.25])), [3000.0]
    )
    # nothing bought from it; and everything free
    np.testing.assert_array_equal(
        partner_purchases_usd(np.array([3000.0, 0.0]), np.array([0.0, 1.0]), np.array([0.2, 1.0])),
        [0.0, 0.0],
    )


def test_a_commitment_shortfall_is_the_purchases_missing_from_the_minimum() -> None:
    got = commitment_shortfall_usd(
        np.array([1000.0, 2500.0, 3000.0, 0.0]), np.array([2500.0, 2500.0, 2500.0, 0.0])
    )
    np.testing.assert_array_equal(got, [1500.0, 0.0, 0.0, 0.0])


def test_the_partner_counts_the_months_in_a_row_it_gets_too_few_referrals() -> None:
    got = short_streak(
        np.array([0.0, 2.0, 2.0, 5.0]), np.array([3.0, 4.0, 5.0, 9.0]), np.full(4, 5.0)
    )
    np.testing.assert_array_equal(got, [1.0, 3.0, 0.0, 0.0])


# -- the actor in the model ----------------------------------------------------------------------
def test_referrals_add_new_and_final_customers(variant: Variant) -> None:
    run = _run(_partnered(variant))
    plain, partnered = _arms(run, "new_customers")
    referred = _arms(run, "referred_customers")[1]
    # Month one: the partner has seen none of the shop's work yet; the arms are the same.
    np.testing.assert_array_equal(partnered[:, 0], plain[:, 0])
    assert not referred[:, 0].any()
    # Month two: the same adopters (the same state and uniforms), plus the referred.
    np.testing.assert_array_equal(partnered[:, 1], plain[:, 1] + referred[:, 1])
    assert referred[:, 1].sum() > 0
    assert partnered.sum() > plain.sum()
    final = run.outcomes["final_customers"]
    assert final[run.arm_index("partnered")].mean() > final[run.arm_index("independent")].mean()


def test_the_referrals_follow_the_partners_traffic_and_last_months_satisfaction(
    variant: Variant,
) -> None:
    run = _run(_partnered(variant))
    referred = _arms(run, "referred_customers")[1]
    satisfaction = _arms(run, "satisfaction")[1]
    alive = _arms(run, "alive")[1]
    # A month's mean is 2,000 customers x 1% x the satisfaction of the month before, in every
    # month the shop opened (it was open at the end of the month before).
    expected = (2000.0 * 0.01 * satisfaction[:, :-1] * alive[:, :-1]).sum()
    assert expected > 20_000
    assert abs(referred[:, 1:].sum() / expected - 1.0) < 0.03


def test_referred_customers_are_more_loyal(variant: Variant) -> None:
    scenario = _partnered(variant)
    run = _run(scenario)
    partnered = run.arm_index("partnered")
    loyal = run.outcomes["referred_loyal_customers"][partnered].sum()
    referred = run.series("referred_customers")[partnered].sum()
    assert referred > 5000
    share = loyal / referred
    assert abs(share - 0.8) < 0.02  # the referred_loyal_share
    assert share > mean_of(scenario.customers.loyal_share) + 0.2
    # no other arm has any
    assert not run.outcomes["referred_loyal_customers"][run.arm_index("independent")].any()


def test_a_partner_that_closes_stops_referrals_terms_and_costs_from_that_month(
    variant: Variant,
) -> None:
    run = _run(
        _partnered(
            variant,
            partner_closure_rate_per_year=0.6,
            purchasing=PURCHASING | {"minimum_purchases_usd_per_month": 20000},
        )
    )
    partnered = run.arm_index("partnered")
    closed = run.outcomes["partner_closed_month"][partnered].astype(int)
    assert 0.3 * RUNS < (closed > 0).sum() < 0.95 * RUNS
    assert len(set(closed[closed > 0])) > 5  # at many different months
    assert not run.outcomes["partnership_ended_month"][partnered].any()
    alive = run.series("alive")[partnered] > 0.5
    month = np.arange(1, MONTHS + 1)
    for column in (
        "referred_customers",
        "referrals_sent",
        "partnership_costs",
        "partner_commitment_shortfall",
    ):
        values = run.series(column)[partnered]
        after = (closed[:, None] > 0) & (month[None, :] >= closed[:, None])
        assert not values[after].any(), column
    upkeep = run.series("partnership_costs")[partnered]
    before = alive & ((closed[:, None] == 0) | (month[None, :] < closed[:, None]))
    assert (upkeep[before] == 150.0).all()
    referred = run.series("referred_customers")[partnered]
    late = closed > 6
    assert referred[late, 1:5].sum() > 0  # referrals ran until the closure


def test_a_partner_closing_at_once_with_a_yearly_chance_of_one(variant: Variant) -> None:
    run = _run(_partnered(variant, partner_closure_rate_per_year=1.0), horizon_months=12)
    closed = run.outcomes["partner_closed_month"][run.arm_index("partnered")]
    assert (closed > 0).all()
    assert (closed == 1).mean() > 0.8  # a hazard of 27.6 a year: 90% close in month one
    assert not run.series("referred_customers")[run.arm_index("partnered")][closed == 1].any()


def test_a_partnership_that_does_not_pay_the_partner_ends(variant: Variant) -> None:
    run = _run(
        _partnered(variant, partner_min_referrals_per_month=1e6, partner_patience_months=3),
        horizon_months=12,
    )
    partnered = run.arm_index("partnered")
    ended = run.outcomes["partnership_ended_month"][partnered]
    alive = run.series("alive")[partnered]
    open_3 = alive[:, 2] > 0.5
    assert open_3.sum() > 0.9 * RUNS
    np.testing.assert_array_equal(ended[open_3], 3.0)
    assert not run.outcomes["partner_closed_month"][partnered].any()
    for column in ("referred_customers", "referrals_sent", "partnership_costs"):
        assert not run.series(column)[partnered][:, 3:].any(), column
    assert run.series("referrals_sent")[partnered][:, :3].sum() > 0
    assert (run.series("partnership_costs")[partnered][open_3, :3] == 150.0).all()


def test_the_commitment_shortfall_is_charged_exactly(variant: Variant) -> None:
    terms = PURCHASING | {"minimum_purchases_usd_per_month": 15000}
    run = _run(_partnered(variant, purchasing=terms))
    variable = _arms(run, "variable_costs")[1]
    shortfall = _arms(run, "partner_commitment_shortfall")[1]
    alive = _arms(run, "alive")[1] > 0.5
    expected = commitment_shortfall_usd(
        partner_purchases_usd(
            variable, np.full(variable.shape, 0.5), np.full(variable.shape, 0.08)
        ),
        np.full(variable.shape, 15000.0),
    )
    traded = alive | np.concatenate((np.ones((RUNS, 1), dtype=bool), alive[:, :-1]), axis=1)
    assert (~traded).any()  # some closed, and owe nothing after
    np.testing.assert_array_equal(shortfall[traded], expected[traded])
    assert not shortfall[~traded].any()
    assert (shortfall[traded] > 0).any()
    assert (shortfall[traded] == 0).any()


def test_the_discount_cuts_the_variable_costs_of_the_same_sales(variant: Variant) -> None:
    run = _run(_partnered(variant, purchasing=PURCHASING), horizon_months=1)
    plain, partnered = _arms(run, "variable_costs")
    revenue = _arms(run, "revenue")
    np.testing.assert_array_equal(revenue[0], revenue[1])
    np.testing.assert_allclose(partnered, plain * (1.0 - 0.5 * 0.08), rtol=1e-12)
    assert (partnered < plain).all()


def test_the_owners_hours_beyond_the_spare_ones_cost_service_quality(variant: Variant) -> None:
    # 80 hours against 40 spare: 10% of the quality at twice the spare hours (owner defaults).
    run = _run(_partnered(variant, owner_hours_per_month=80.0), horizon_months=1)
    plain, partnered = _arms(run, "satisfaction")
    np.testing.assert_allclose(partnered, plain * 0.9, rtol=1e-12)


def test_a_partnership_that_does_nothing_changes_no_number(variant: Variant) -> None:
    idle = _partnered(
        variant,
        referral_share=0.0,
        referral_out_share=0.0,
        partnership_costs_usd_per_month=0.0,
    )
    run = _run(idle)
    shared = monthly_columns(relationships_in_use(idle, WITHOUT))
    for column in shared:
        plain, partnered = _arms(run, column)
        np.testing.assert_array_equal(partnered, plain, err_msg=column)


def test_switched_off_is_the_model_without_it(variant: Variant, auto_repair: Scenario) -> None:
    # No arm holds a partnership: the books are those of the model without the relationship.
    with_it = _run(auto_repair, relationships=DEFAULT_RELATIONSHIPS)  # as given: not narrowed
    without = _run(auto_repair, relationships=WITHOUT)
    for column in without.monthly_columns:
        np.testing.assert_array_equal(with_it.series(column), without.series(column), column)
    for column in PARTNERSHIP.cost_lines + PARTNERSHIP.columns:
        assert not with_it.series(column).any()
    for name, values in without.outcomes.items():
        np.testing.assert_array_equal(with_it.outcomes[name], values, err_msg=name)
    # An arm holding one, in a model without the relationship, is the arm without it.
    partnered = _partnered(variant, purchasing=PURCHASING, owner_hours_per_month=60.0)
    off = _run(partnered, relationships=WITHOUT)
    for column in off.monthly_columns:
        plain, arm = _arms(off, column)
        np.testing.assert_array_equal(arm, plain, err_msg=column)
    on = _run(partnered, relationships=DEFAULT_RELATIONSHIPS)
    for arm in ("independent", "franchise"):
        a, b = on.arm_index(arm), off.arm_index(arm)
        for column in off.monthly_columns:
            np.testing.assert_array_equal(on.series(column)[a], off.series(column)[b], column)


def test_the_books_balance_and_carry_its_lines_columns_and_counters(variant: Variant) -> None:
    run = _run(
        _partnered(
            variant,
            partner_closure_rate_per_year=0.3,
            partner_min_referrals_per_month=12,
            owner_hours_per_month=20.0,
            purchasing=PURCHASING,
        )
    )
    assert_books_balance(run)
    for name in (*PARTNERSHIP.cost_lines, *PARTNERSHIP.columns):
        assert name in run.monthly_columns
    summary = run.summary
    for name in PARTNERSHIP.counters:
        assert name in summary.columns
    assert str(summary["partner_closed_month"].dtype) == "Int64"
    assert str(summary["partnership_ended_month"].dtype) == "Int64"
    partnered = summary[summary["arm"] == "partnered"]
    assert partnered["partner_closed_month"].notna().any()
    assert partnered["partnership_ended_month"].notna().any()
    assert summary[summary["arm"] != "partnered"]["partner_closed_month"].isna().all()


def test_the_plan_on_paper_takes_the_expected_referrals(variant: Variant) -> None:
    run = _run(_partnered(variant, purchasing=PURCHASING), deterministic=True)
    referred = _arms(run, "referred_customers")[1][0]
    assert referred[0] == 0.0
    assert (referred[1:] > 0).all()
    assert referred[1] != round(referred[1])  # an expected value, not a count
    assert not run.outcomes["partner_closed_month"].any()
    assert_books_balance(run)


def test_one_and_two_workers_give_the_same_results(variant: Variant) -> None:
    scenario = _partnered(variant, partner_closure_rate_per_year=0.3, purchasing=PURCHASING)
    one = _run(scenario, runs=60, horizon_months=24)
    two = _run(scenario, runs=60, horizon_months=24, workers=2)
    assert_identical(one, two)


def test_the_shipped_model_holds_the_partnership() -> None:
    assert DEFAULT_RELATIONSHIPS[0] == FRANCHISE
    assert PARTNERSHIP in DEFAULT_RELATIONSHIPS


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"referral_shares": 0.1}, "referral_shares"),
        ({"referral_share": 1.5}, "referral_share"),
        ({"referred_loyal_share": {"dist": "uniform", "low": 0.5, "high": 1.2}}, "referred"),
        ({"partner_closure_rate_per_year": -0.1}, "partner_closure_rate_per_year"),
        ({"purchasing": {"purchased_share": 0.5}}, "discount_share"),
    ],
)
def test_a_partnership_out_of_bounds_is_refused(
    variant: Variant, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        _partnered(variant, **change)


def test_an_uncertain_partner_is_drawn_per_replication_the_same_in_every_arm(
    variant: Variant,
) -> None:
    traffic = {"dist": "uniform", "low": 1000, "high": 3000}
    terms = {**TERMS, "partner_customers_per_month": traffic}
    twins = variant(
        {
            "arms.partnered": {"label": "Partnered", "partnership": terms},
            "arms.twin": {"label": "Partnered too", "partnership": terms},
        }
    )
    uncertain = _run(twins, horizon_months=12)
    fixed = _run(_partnered(variant, partner_customers_per_month=2000), horizon_months=12)
    # Both arms draw the same partner (common random numbers): the same books.
    a, b = uncertain.arm_index("partnered"), uncertain.arm_index("twin")
    np.testing.assert_array_equal(uncertain.trajectories[a], uncertain.trajectories[b])
    # Against a partner of the mean's traffic, each replication's referrals scale with its draw.
    alive = _arms(fixed, "alive")[1][:, -1] > 0.5
    ratio = (
        _arms(uncertain, "referred_customers")[1].sum(axis=1)[alive]
        / _arms(fixed, "referred_customers")[1].sum(axis=1)[alive]
    )
    assert ratio.std() > 0.15
    assert ratio.min() < 0.7
    assert ratio.max() > 1.3


def test_a_closure_after_the_last_month_is_not_a_month_of_the_run(variant: Variant) -> None:
    # A closure drawn in the half month after the horizon (before the run stops) is not felt.
    results = _run(_partnered(variant, partner_closure_rate_per_year=0.5), horizon_months=6)
    closed = results.outcomes["partner_closed_month"]
    assert (closed > 0).any()
    assert closed.max() <= 6
