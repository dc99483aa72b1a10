"""The marketing alliance: split costs, mail responders, awareness, free riders, leaving, vetting.

Each direction of effect compares an arm with and without its ``marketing_alliance`` section
over the same seed, so common random numbers make the difference the alliance's. The money
arithmetic is checked with hand-computed values that binary floating point holds exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from franchise_sim import SimulationResults, simulate
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS, monthly_columns
from franchise_sim.model.relationships.marketing_alliance import (
    COLUMN,
    COST_LINE,
    DISSOLVED_MONTH,
    FREE_RIDERS,
    MARKETING_ALLIANCE,
    bad_partner_chance,
    campaign_awareness_p,
    campaign_cost_usd,
    campaign_scale,
    expected_responses,
    member_share,
    response_share,
)
from franchise_sim.scenario.distributions import Uniform
from franchise_sim.scenario.relationships.marketing_alliance import MarketingAlliance
from franchise_sim.scenario.schema import Scenario
from tests.books import assert_books_balance, assert_identical
from tests.conftest import Variant

RUNS, MONTHS, SEED = 60, 24, 7
OWN_MARKETING_USD = 1500.0
"""The test base's planned marketing (operations.marketing_usd_per_month)."""

WITHOUT = tuple(rel for rel in DEFAULT_RELATIONSHIPS if rel is not MARKETING_ALLIANCE)
"""The shipped model without the marketing alliance."""
QUIET: dict[str, Any] = {
    "partner_exit_rate_per_year": 0.0,
    "bad_partner_share": 0.0,
    "coordination_hours_per_month": 0.0,
}
"""Terms that switch off everything random about the partners and the owner's hours."""


def _with_alliance(variant: Variant, **terms: Any) -> Scenario:
    """The test base with these alliance terms on the independent arm."""
    return variant({"arms.independent.marketing_alliance": terms})


def _run(scenario: Scenario, **kwargs: Any) -> SimulationResults:
    settings: dict[str, Any] = {"runs": RUNS, "seed": SEED, "workers": 1, "horizon_months": MONTHS}
    return simulate(scenario, **(settings | kwargs))


def _traded(results: SimulationResults, arm: int) -> Any:
    """Per replication and month, whether the arm's business traded (a closing month did)."""
    alive = results.series("alive")[arm] > 0.5
    return np.concatenate((np.ones((alive.shape[0], 1), dtype=bool), alive[:, :-1]), axis=1)


def _open_both(a: SimulationResults, b: SimulationResults, arm: int) -> Any:
    return _traded(a, arm) & _traded(b, arm)


# -- the money arithmetic ---------------------------------------------------------------------


def test_the_campaign_costs_its_pieces_and_its_events() -> None:
    assert campaign_cost_usd(2000.0, 0.25, 150.0) == 650.0
    assert campaign_cost_usd(0.0, 0.18, 150.0) == 150.0


def test_leaving_partners_shrink_the_campaign_to_what_remains() -> None:
    assert campaign_scale(0.5, 1.0, 1) == 1.0
    assert campaign_scale(0.5, 0.0, 1) == 0.5
    assert campaign_scale(0.5, 1.0, 2) == 0.75
    assert campaign_scale(0.25, 2.0, 4) == 0.625


def test_the_member_covers_what_free_riders_withhold() -> None:
    assert member_share(0.5, 0.5, 0.0, 1) == 0.5
    assert member_share(0.5, 0.5, 1.0, 1) == 0.75
    assert member_share(0.25, 0.5, 1.0, 2) == 0.4375
    assert member_share(0.25, 1.0, 2.0, 2) == 1.0  # every partner withholds all: it pays all


def test_responses_come_from_the_pieces_reaching_non_customers() -> None:
    assert response_share(0.5, 0.0625, 0.03125) == 0.046875
    assert expected_responses(1000.0, 0.75, 0.5, 0.0625, 0.03125) == 35.15625
    assert expected_responses(1000.0, 0.0, 0.5, 0.0625, 0.03125) == 0.0
    # arrays element by element
    np.testing.assert_array_equal(
        expected_responses(np.array([1000.0, 2000.0]), np.array([1.0, 0.5]), 1.0, 0.0625, 0.0),
        [62.5, 62.5],
    )


def test_the_campaign_adds_awareness_at_the_members_own_rate() -> None:
    assert campaign_awareness_p(500.0, 0.75, 0.0078125) == 0.0029296875
    assert campaign_awareness_p(1000.0, 1.0, 0.006) == 0.006


def test_vetting_cuts_the_chance_of_a_bad_partner_by_its_share() -> None:
    assert bad_partner_chance(0.25, 0.0) == 0.25
    assert bad_partner_chance(0.25, 0.25) == 0.1875
    assert bad_partner_chance(0.5, 1.0) == 0.0


# -- the section ----------------------------------------------------------------------------


def test_the_section_rejects_unknown_keys_and_takes_distributions(variant: Variant) -> None:
    with pytest.raises(ValidationError):
        MarketingAlliance.model_validate({"cost_shares": 0.5})
    with pytest.raises(ValidationError):
        MarketingAlliance.model_validate({"cost_share": 1.5})
    terms = MarketingAlliance.model_validate(
        {"cost_share": {"dist": "uniform", "low": 0.4, "high": 0.6}, "vetting": {}}
    )
    assert isinstance(terms.cost_share, Uniform)
    assert terms.vetting is not None
    assert terms.vetting.bad_partner_reduction_share == 0.26
    scenario = _with_alliance(variant, cost_share={"dist": "uniform", "low": 0.4, "high": 0.6})
    assert scenario.arm("independent").marketing_alliance is not None
    assert scenario.arm("franchise").marketing_alliance is None


# -- directions of effect -------------------------------------------------------------------


def test_an_alliance_gives_the_same_awareness_for_less_marketing_money(
    auto_repair: Scenario, variant: Variant
) -> None:
    """Cut own marketing by what the alliance's awareness replaces: spend less, win no fewer.

    The member drops 30% of its 1,500 USD (450 USD of advertising); the joint events cost 640
    USD, of which a 75% exposure is 480 USD of advertising at the member's own effect, and half
    of which it pays: 320 USD. No mail, so every new customer comes from the Bass adoption.
    """
    cut, events = 0.3, 640.0
    alliance = _with_alliance(
        variant,
        mail_pieces_per_month=0.0,
        events_usd_per_month=events,
        exposure_share=0.75,
        own_marketing_cut_share=cut,
        **QUIET,
    )
    without, with_ = _run(auto_repair), _run(alliance)
    i = with_.arm_index("independent")
    both = _open_both(without, with_, i)
    spent_without = without.series("marketing")[i]
    spent_with = with_.series("marketing")[i] + with_.series(COST_LINE)[i]
    assert (spent_with[both] < spent_without[both]).all()
    np.testing.assert_array_equal(spent_with[both], OWN_MARKETING_USD * (1 - cut) + events * 0.5)
    new_without = without.series("new_customers")[i]
    new_with = with_.series("new_customers")[i]
    assert (new_with[:, 0] >= new_without[:, 0]).all()
    assert new_with.sum() >= new_without.sum()
    assert with_.series("customers")[i].mean() >= without.series("customers")[i].mean()
    assert (with_.series(COLUMN)[i] == 0).all()


def test_campaign_responses_add_customers(auto_repair: Scenario, variant: Variant) -> None:
    """Responders join on top of the month's adoption: month one's customers grow by them."""
    alliance = _with_alliance(variant, mail_pieces_per_month=2000.0, exposure_share=0.0, **QUIET)
    without, with_ = _run(auto_repair), _run(alliance)
    i = with_.arm_index("independent")
    answered = with_.series(COLUMN)[i]
    assert (answered >= 0).all()
    assert (answered == np.floor(answered)).all()
    assert answered[:, 0].mean() > 10  # about 2,000 pieces x 3.4% answering
    np.testing.assert_array_equal(
        with_.series("customers")[i, :, 0], without.series("customers")[i, :, 0] + answered[:, 0]
    )
    np.testing.assert_array_equal(
        with_.series("new_customers")[i, :, 0],
        without.series("new_customers")[i, :, 0] + answered[:, 0],
    )
    assert with_.series("customers")[i].sum() > without.series("customers")[i].sum()


def test_a_free_riding_partner_leaves_the_member_a_larger_share(variant: Variant) -> None:
    """2,000 pieces at 0.25 USD and 150 USD of events: 650 USD; half, or three quarters."""
    campaign = {"mail_pieces_per_month": 2000.0, "cost_per_piece_usd": 0.25}
    terms = campaign | {"events_usd_per_month": 150.0} | QUIET
    fair = _run(_with_alliance(variant, **terms))
    riding = _run(_with_alliance(variant, **(terms | {"bad_partner_share": 1.0})))
    i = fair.arm_index("independent")
    for results, paid in ((fair, 325.0), (riding, 487.5)):
        open_ = _traded(results, i)
        charged = results.series(COST_LINE)[i]
        assert (charged[open_] == paid).all()
        assert (charged[~open_] == 0).all()
    assert (riding.outcomes[FREE_RIDERS][i] == 1).all()
    assert (fair.outcomes[FREE_RIDERS][i] == 0).all()


def test_vetting_lowers_the_rate_of_bad_partners(variant: Variant) -> None:
    """Both arms' partners draw the same uniforms: vetting turns some bad ones good, none bad."""
    terms = {"partners": 3, "bad_partner_share": 0.4, "partner_exit_rate_per_year": 0.0}
    scenario = variant(
        {
            "arms.independent.marketing_alliance": terms,
            "arms.franchise.marketing_alliance": terms | {"vetting": {"owner_hours": 10.0}},
        }
    )
    results = simulate(scenario, runs=200, seed=SEED, workers=1, horizon_months=1)
    riders = results.outcomes[FREE_RIDERS]
    unvetted = riders[results.arm_index("independent")]
    vetted = riders[results.arm_index("franchise")]
    assert (vetted <= unvetted).all()
    assert vetted.sum() < unvetted.sum()
    # about 3 x 0.4 = 1.2 bad partners unvetted, 3 x 0.4 x 0.74 = 0.89 vetted
    assert 1.0 < unvetted.mean() < 1.4
    assert 0.7 < vetted.mean() < 1.1


def test_vetting_takes_the_owners_hours_in_its_months(
    auto_repair: Scenario, variant: Variant
) -> None:
    """Hours far beyond the owner's spare ones dent service in the vetting month only."""
    vetted = _with_alliance(
        variant,
        mail_pieces_per_month=0.0,
        exposure_share=0.0,
        vetting={"owner_hours": 400.0, "months": 1},
        **QUIET,
    )
    without, with_ = _run(auto_repair), _run(vetted)
    i = with_.arm_index("independent")
    assert (with_.series("satisfaction")[i, :, 0] < without.series("satisfaction")[i, :, 0]).all()


def test_a_dissolved_alliance_stops_its_charges_and_restores_own_marketing(
    variant: Variant,
) -> None:
    cut = 0.25
    terms = {
        "partner_exit_rate_per_year": 0.9,
        "own_marketing_cut_share": cut,
        "events_usd_per_month": 100.0,
    }
    results = _run(_with_alliance(variant, **terms))
    i = results.arm_index("independent")
    dissolved = results.outcomes[DISSOLVED_MONTH][i]
    alive = _traded(results, i)
    charged = results.series(COST_LINE)[i]
    marketing = results.series("marketing")[i]
    months = np.arange(1, MONTHS + 1)
    ended = np.flatnonzero(dissolved > 0)
    assert ended.size > RUNS / 2  # most alliances end within two years at a 90% yearly hazard
    assert (dissolved >= 0).all()
    assert (dissolved <= MONTHS).all()
    for r in range(RUNS):
        before = alive[r] & ((dissolved[r] == 0) | (months < dissolved[r]))
        after = alive[r] & (dissolved[r] > 0) & (months >= dissolved[r])
        assert (charged[r][before] > 0).all()
        assert (charged[r][after] == 0).all()
        assert (marketing[r][before] == OWN_MARKETING_USD * (1 - cut)).all()
        assert (marketing[r][after] == OWN_MARKETING_USD).all()


# -- switched off, the books, workers -------------------------------------------------------


def test_switched_off_gives_exactly_the_model_without_it(
    auto_repair: Scenario, variant: Variant
) -> None:
    """No section: the books of the model without the alliance, bit for bit, and its own zero.

    With the section on the independent arm only, the franchise arm is untouched too.
    """
    bare = _run(auto_repair, relationships=WITHOUT)
    off = _run(auto_repair, relationships=DEFAULT_RELATIONSHIPS)  # as given: not narrowed
    assert off.monthly_columns == monthly_columns(DEFAULT_RELATIONSHIPS)
    for column in bare.monthly_columns:
        np.testing.assert_array_equal(off.series(column), bare.series(column), err_msg=column)
    assert (off.series(COST_LINE) == 0).all()
    assert (off.series(COLUMN) == 0).all()
    assert (off.outcomes[DISSOLVED_MONTH] == 0).all()
    assert (off.outcomes[FREE_RIDERS] == 0).all()
    assert np.array_equal(off.closure_reasons, bare.closure_reasons)

    held = _with_alliance(variant, events_usd_per_month=200.0, own_marketing_cut_share=0.2)
    on = _run(held, relationships=DEFAULT_RELATIONSHIPS)
    f, i = on.arm_index("franchise"), on.arm_index("independent")
    for column in bare.monthly_columns:
        np.testing.assert_array_equal(on.series(column)[f], bare.series(column)[f], err_msg=column)
    assert not np.array_equal(on.series("cash")[i], bare.series("cash")[i])


def test_the_books_balance_and_carry_the_alliance(variant: Variant) -> None:
    terms = {"events_usd_per_month": 150.0, "own_marketing_cut_share": 0.2, "vetting": {}}
    results = _run(_with_alliance(variant, **terms))
    assert_books_balance(results)
    assert COST_LINE in results.monthly_columns
    assert COLUMN in results.monthly_columns
    summary = results.summary
    assert {DISSOLVED_MONTH, FREE_RIDERS} <= set(summary.columns)
    i = results.arm_index("independent")
    assert results.series(COST_LINE)[i].sum() > 0
    assert results.series(COLUMN)[i].sum() > 0


def test_the_same_results_on_one_worker_and_two(variant: Variant) -> None:
    terms = {"partners": 2, "partner_exit_rate_per_year": 0.3, "vetting": {}}
    scenario = _with_alliance(variant, **terms)
    assert_identical(_run(scenario), _run(scenario, workers=2))


def test_a_deterministic_run_takes_expected_values(variant: Variant) -> None:
    terms = {"partners": 2, "bad_partner_share": 0.25, "partner_exit_rate_per_year": 0.5}
    results = simulate(
        _with_alliance(variant, **terms), deterministic=True, horizon_months=MONTHS, workers=1
    )
    i = results.arm_index("independent")
    assert results.outcomes[FREE_RIDERS][i].tolist() == [0.5]  # 2 partners x 0.25
    assert results.outcomes[DISSOLVED_MONTH][i].tolist() == [0.0]  # no random departures
    assert results.series(COLUMN)[i, 0, 0] > 0
    assert_books_balance(results)


def test_the_relationship_value_names_what_it_adds() -> None:
    assert MARKETING_ALLIANCE.name == "marketing_alliance"
    assert MARKETING_ALLIANCE.cost_lines == (COST_LINE,)
    assert MARKETING_ALLIANCE.columns == (COLUMN,)
    assert MARKETING_ALLIANCE in DEFAULT_RELATIONSHIPS
    assert (
        "alliance_fee" not in MARKETING_ALLIANCE.cost_lines
    )  # the toy's, tests/test_relationships
