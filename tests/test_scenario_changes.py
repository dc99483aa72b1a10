"""Changing a scenario by dotted path: new validated scenarios, clear errors, nothing mutated."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import yaml

from franchise_sim import ScenarioError
from franchise_sim.scenario.changes import reached_arms, target_paths, value_at, with_changes
from franchise_sim.scenario.distributions import Triangular
from franchise_sim.scenario.schema import Market, Scenario
from tests.conftest import AUTO_REPAIR, Variant

AUTO_REPAIR_DATA: dict[str, Any] = yaml.safe_load(AUTO_REPAIR.read_text(encoding="utf-8"))


def test_changes_give_a_new_scenario_equal_to_the_edited_file(
    auto_repair: Scenario, variant: Variant
) -> None:
    changed = with_changes(
        auto_repair, {"arms.franchise.royalty_rate": 0.08, "market.households": 30000}
    )
    expected = variant({"arms.franchise.franchise.royalty_rate": 0.08, "market.households": 30000})
    assert changed == expected
    assert value_at(changed, "arms.franchise.royalty_rate") == 0.08
    assert changed.market.households == 30000


def test_the_original_is_never_touched(auto_repair: Scenario) -> None:
    before = auto_repair.model_dump()
    with_changes(
        auto_repair,
        {
            "arms.franchise.royalty_rate": 0.1,
            "arms.independent.financing.owner_equity_usd": 1.0,
            "arms.*.customers.spend_per_visit_usd": {"dist": "uniform", "low": 100, "high": 200},
        },
    )
    with pytest.raises(ScenarioError):
        with_changes(auto_repair, {"arms.franchise.royalty_rate": 2.0})
    assert auto_repair.model_dump() == before
    assert value_at(auto_repair, "arms.franchise.royalty_rate") == 0.06


def test_an_arm_field_it_did_not_override_gets_an_override(auto_repair: Scenario) -> None:
    shared = auto_repair.financing.owner_equity_usd
    changed = with_changes(auto_repair, {"arms.independent.financing.owner_equity_usd": 12345.0})
    assert changed.arm("independent").financing.owner_equity_usd == 12345.0
    assert changed.financing.owner_equity_usd == shared  # the shared section stays
    # The other arm keeps its own override.
    assert changed.arm("franchise").financing == auto_repair.arm("franchise").financing


@pytest.mark.parametrize(
    ("path", "own"),
    [
        ("financing.owner_equity_usd", "financing.owner_equity_usd"),
        ("operations.rent_usd_per_month", "operations.rent_usd_per_month"),
        ("operations.capacity_visits_per_month", "operations.capacity_visits_per_month"),
        ("customers.spend_per_visit_usd", "customers.spend_per_visit_usd"),
        ("customers.spend_per_visit_usd.mode", "customers.spend_per_visit_usd"),
        ("financing", "financing.owner_equity_usd"),
    ],
)
def test_a_shared_field_an_arm_sets_itself_is_refused_with_the_paths_to_use(
    auto_repair: Scenario, path: str, own: str
) -> None:
    value = value_at(auto_repair, path)  # the shared value: valid, and not the franchise's own
    with pytest.raises(ScenarioError) as caught:
        with_changes(auto_repair, {path: value})
    assert str(caught.value) == (
        f"with_changes: {path}: arm `franchise` sets its own value (arms.franchise.{own}), so "
        f"this change would not reach it; use arms.*.{path} to set it in every arm, or "
        f"arms.independent.{path} for one arm"
    )
    assert reached_arms(auto_repair, path) == ("independent",)


def test_every_arm_path_sets_the_shared_value_and_each_arms_own(auto_repair: Scenario) -> None:
    path = "arms.*.financing.owner_equity_usd"
    shared = auto_repair.financing.owner_equity_usd
    assert value_at(auto_repair, path) == {"independent": shared, "franchise": 80_000.0}
    changed = with_changes(auto_repair, {path: 45_000})
    assert value_at(changed, path) == {"independent": 45_000.0, "franchise": 45_000.0}
    for arm in ("independent", "franchise"):
        assert value_at(changed, f"arms.{arm}.financing.owner_equity_usd") == 45_000.0
        assert changed.arm(arm).financing.owner_equity_usd == 45_000.0
    # The saved scenario reads plainly: the shared section holds the value its arms take, and
    # the arm that had its own value keeps an own value, now the new one.
    assert changed.financing.owner_equity_usd == 45_000.0
    assert changed.arms["independent"].financing is None
    franchise = changed.arms["franchise"].financing
    assert franchise is not None
    assert franchise.model_dump(exclude_none=True) == {"owner_equity_usd": 45_000.0}
    assert reached_arms(auto_repair, path) == ("independent", "franchise")
    assert target_paths(auto_repair, path) == (
        ("financing", "owner_equity_usd"),
        ("arms", "franchise", "financing", "owner_equity_usd"),
    )


def test_every_arm_path_may_step_into_each_arms_distribution(auto_repair: Scenario) -> None:
    changed = with_changes(auto_repair, {"arms.*.customers.spend_per_visit_usd.high": 500.0})
    spends = value_at(changed, "arms.*.customers.spend_per_visit_usd")
    assert {arm: spend.high for arm, spend in spends.items()} == {
        "independent": 500.0,
        "franchise": 500.0,
    }
    before = value_at(auto_repair, "arms.franchise.customers.spend_per_visit_usd")
    assert spends["franchise"].low == before.low  # the rest of the arm's own value stays


def test_a_value_set_in_every_arm_is_copied_not_shared(auto_repair: Scenario) -> None:
    spend = {"dist": "triangular", "low": 100, "mode": 150, "high": 200}
    changed = with_changes(
        auto_repair,
        {
            "arms.*.customers.spend_per_visit_usd": spend,
            "arms.franchise.customers.spend_per_visit_usd.mode": 180,
        },
    )
    assert spend["mode"] == 150  # the caller's mapping is left as it was
    assert value_at(changed, "arms.independent.customers.spend_per_visit_usd").mode == 150
    assert value_at(changed, "arms.franchise.customers.spend_per_visit_usd").mode == 180


def test_a_shared_field_no_arm_sets_reaches_every_arm(auto_repair: Scenario) -> None:
    changed = with_changes(auto_repair, {"owner.reserve_usd": 12_345.0})
    assert value_at(changed, "arms.*.owner.reserve_usd") == {
        "independent": 12_345.0,
        "franchise": 12_345.0,
    }
    assert changed.arms["franchise"].owner is None  # no override was made
    assert reached_arms(auto_repair, "owner.reserve_usd") == ("independent", "franchise")


@pytest.mark.parametrize(
    ("path", "arms"),
    [
        ("market.households", ("independent", "franchise")),
        ("events.recession.rate_per_year", ("independent", "franchise")),
        ("arms.franchise.royalty_rate", ("franchise",)),
        ("arms.independent.financing.owner_equity_usd", ("independent",)),
        ("arms.*.royalty_rate", ("franchise",)),
        ("arms.*.label", ("independent", "franchise")),
        # A franchise arm takes its concept from the template, all but the adaptation time.
        ("concept.quality", ("independent",)),
        ("arms.*.concept.quality", ("independent",)),
        ("concept.adaptation_months", ("independent", "franchise")),
        # Only a franchise arm starts at the market's taste gap.
        ("market.local_taste_gap", ("franchise",)),
    ],
)
def test_reached_arms_says_which_arms_a_change_sets(
    auto_repair: Scenario, path: str, arms: tuple[str, ...]
) -> None:
    assert reached_arms(auto_repair, path) == arms


def test_every_arm_franchise_terms_reach_each_franchise_arm(variant: Variant) -> None:
    kiosk = {
        "label": "Kiosk franchise",
        "franchise": {**AUTO_REPAIR_DATA["arms"]["franchise"]["franchise"], "royalty_rate": 0.05},
        "financing": {"owner_equity_usd": 70_000},
    }
    three = variant({"arms.kiosk": kiosk})
    changed = with_changes(three, {"arms.*.royalty_rate": 0.09})
    assert value_at(changed, "arms.*.royalty_rate") == {"franchise": 0.09, "kiosk": 0.09}
    assert changed.arm("independent").franchise is None
    with pytest.raises(ScenarioError) as caught:
        with_changes(three, {"financing.owner_equity_usd": 1.0})
    assert str(caught.value).startswith(
        "with_changes: financing.owner_equity_usd: arms `franchise` and `kiosk` set their own "
        "values (arms.franchise.financing.owner_equity_usd, arms.kiosk.financing."
        "owner_equity_usd), so this change would not reach them; use arms.*.financing."
    )


def test_a_path_may_step_into_a_distribution_or_set_one(auto_repair: Scenario) -> None:
    path = "arms.franchise.customers.spend_per_visit_usd"
    moved = with_changes(auto_repair, {path + ".mode": 450.0})
    spend = value_at(moved, path)
    assert isinstance(spend, Triangular)
    assert (spend.low, spend.mode, spend.high) == (320.0, 450.0, 480.0)
    as_model = with_changes(
        auto_repair, {path: Triangular(dist="triangular", low=1, mode=2, high=3)}
    )
    as_mapping = with_changes(
        auto_repair, {path: {"dist": "triangular", "low": 1, "mode": 2, "high": 3}}
    )
    assert as_model == as_mapping
    assert value_at(as_model, path).mean() == pytest.approx(2.0)


def test_full_and_short_franchise_paths_agree(auto_repair: Scenario) -> None:
    short = with_changes(auto_repair, {"arms.franchise.template.learning_months": 3.0})
    full = with_changes(auto_repair, {"arms.franchise.franchise.template.learning_months": 3.0})
    assert short == full
    assert value_at(short, "arms.franchise.template.learning_months") == 3.0


def test_numpy_values_are_accepted(auto_repair: Scenario) -> None:
    changed = with_changes(
        auto_repair, {"arms.franchise.royalty_rate": np.float64(0.07), "run.runs": np.int64(50)}
    )
    assert changed.run.runs == 50
    assert value_at(changed, "arms.franchise.royalty_rate") == 0.07


def test_value_at_resolves_arm_overrides(auto_repair: Scenario) -> None:
    assert value_at(auto_repair, "arms.franchise.financing.owner_equity_usd") == 80000.0
    shared = auto_repair.financing.owner_equity_usd
    assert value_at(auto_repair, "arms.independent.financing.owner_equity_usd") == shared
    assert value_at(auto_repair, "market.households") == auto_repair.market.households


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"arms.franchise.royalty": 0.1},
            "with_changes: arms.franchise.royalty: unknown field; did you mean `royalty_rate`?",
        ),
        (
            {"market.housholds": 1},
            "with_changes: market.housholds: unknown field; did you mean `households`?",
        ),
        (
            {"arms.franchize.royalty_rate": 0.1},
            "with_changes: arms.franchize: no such arm; the arms are `independent`, `franchise`",
        ),
        (
            {"arms.independent.royalty_rate": 0.1},
            "with_changes: arms.independent.royalty_rate: the `independent` arm has no "
            "franchise terms",
        ),
        (
            {"arms.franchise.royalty_rate.low": 1},
            "with_changes: arms.franchise.franchise.royalty_rate is a single value; "
            "it has no `low`",
        ),
        ({"market..households": 1}, "with_changes: `market..households` is not a dotted"),
        ({"arms.*": {}}, "with_changes: arms.*: name a field after `arms.*`"),
        (
            {"arms.*.royalty": 0.1},
            "with_changes: arms.*.royalty: unknown field; did you mean `royalty_rate`?",
        ),
        (
            {"arms.*.market.households": 1},
            "with_changes: arms.*.market.households: no arm sets its own `market`, every arm "
            "takes the shared one; use market.households",
        ),
        (
            {"arms.everyone.royalty_rate": 0.1},
            "with_changes: arms.everyone: no such arm; the arms are `independent`, `franchise` "
            "(or `*` for every arm)",
        ),
        (
            {"market.households.modde": 1},
            "with_changes: market.households.modde: unknown field; did you mean `mode`?",
        ),
        (
            {"arms.franchise.royalty_rate": 1.5},
            "with_changes: arms.franchise.franchise.royalty_rate: 1.5 is no royalty a "
            "franchisor charges",
        ),
        ({"run.runs": 2.5}, "with_changes: run.runs: 2.5 should be a whole number"),
        ({"market.households": "lots"}, 'with_changes: market.households: "lots" should be'),
    ],
)
def test_bad_changes_get_one_clear_message(
    auto_repair: Scenario, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        with_changes(auto_repair, changes)
    assert str(caught.value).startswith(message)
    assert "Traceback" not in str(caught.value)


def test_every_bad_change_is_reported_at_once(auto_repair: Scenario) -> None:
    with pytest.raises(ScenarioError) as caught:
        with_changes(auto_repair, {"market.nope": 1, "arms.franchise.nope": 2})
    assert len(caught.value.problems) == 2


def test_a_scenario_can_be_built_in_python_without_a_file(shipped_auto_repair: Scenario) -> None:
    data = yaml.safe_load(AUTO_REPAIR.read_text(encoding="utf-8"))
    market = Market(**data.pop("market"))
    built = Scenario(market=market, **data)
    assert built == shipped_auto_repair
    assert with_changes(built, {"market.households": 5000}).market.households == 5000


def test_reach_follows_the_franchise_mechanism_switches(auto_repair: Scenario) -> None:
    # With its template off a franchise arm runs on the shared concept, so a change to the
    # concept reaches it; with financing off it takes the shared equity, so that change is no
    # longer refused.
    plain = with_changes(
        auto_repair,
        {"arms.franchise.mechanisms.template": False, "arms.franchise.mechanisms.financing": False},
    )
    assert reached_arms(auto_repair, "concept.quality") == ("independent",)
    assert reached_arms(plain, "concept.quality") == ("independent", "franchise")
    with pytest.raises(ScenarioError, match="arm `franchise` sets its own value"):
        with_changes(auto_repair, {"financing.owner_equity_usd": 70000})
    changed = with_changes(plain, {"financing.owner_equity_usd": 70000})
    assert reached_arms(plain, "financing.owner_equity_usd") == ("independent", "franchise")
    assert value_at(changed, "arms.franchise.financing.owner_equity_usd") == 70000


def test_a_field_in_the_franchise_format_is_the_arms_own_value(
    auto_repair_data: dict[str, Any],
) -> None:
    data = copy.deepcopy(auto_repair_data)
    rent = data["arms"]["franchise"]["operations"].pop("rent_usd_per_month")
    data["arms"]["franchise"]["franchise"]["format"] = {"rent_usd_per_month": rent}
    scenario = Scenario.model_validate(data)
    assert reached_arms(scenario, "operations.rent_usd_per_month") == ("independent",)
    with pytest.raises(ScenarioError, match=r"arms\.franchise\.franchise\.format\.rent_usd"):
        with_changes(scenario, {"operations.rent_usd_per_month": 6000})


def test_a_correlated_mismatch_makes_the_taste_gap_reach_the_independent(
    auto_repair: Scenario,
) -> None:
    assert reached_arms(auto_repair, "market.local_taste_gap") == ("franchise",)
    coupled = with_changes(auto_repair, {"concept.mismatch_taste_gap_correlation": 0.4})
    assert reached_arms(coupled, "market.local_taste_gap") == ("independent", "franchise")
