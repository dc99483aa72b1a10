"""Changing a scenario by dotted path: new validated scenarios, clear errors, nothing mutated."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from franchise_sim import ScenarioError
from franchise_sim.distributions import Triangular
from franchise_sim.scenario import Market, Scenario
from tests.conftest import AUTO_REPAIR, Variant


def test_changes_give_a_new_scenario_equal_to_the_edited_file(
    auto_repair: Scenario, variant: Variant
) -> None:
    changed = auto_repair.with_changes(
        {"arms.franchise.royalty_rate": 0.08, "market.households": 30000}
    )
    expected = variant({"arms.franchise.franchise.royalty_rate": 0.08, "market.households": 30000})
    assert changed == expected
    assert changed.value_at("arms.franchise.royalty_rate") == 0.08
    assert changed.market.households == 30000


def test_the_original_is_never_touched(auto_repair: Scenario) -> None:
    before = auto_repair.model_dump()
    auto_repair.with_changes(
        {
            "arms.franchise.royalty_rate": 0.1,
            "arms.independent.financing.owner_equity_usd": 1.0,
            "customers.spend_per_visit_usd": {"dist": "uniform", "low": 100, "high": 200},
        }
    )
    with pytest.raises(ScenarioError):
        auto_repair.with_changes({"arms.franchise.royalty_rate": 2.0})
    assert auto_repair.model_dump() == before
    assert auto_repair.value_at("arms.franchise.royalty_rate") == 0.06


def test_an_arm_field_it_did_not_override_gets_an_override(auto_repair: Scenario) -> None:
    shared = auto_repair.financing.owner_equity_usd
    changed = auto_repair.with_changes({"arms.independent.financing.owner_equity_usd": 12345.0})
    assert changed.arm("independent").financing.owner_equity_usd == 12345.0
    assert changed.financing.owner_equity_usd == shared  # the shared section stays
    # The other arm keeps its own override.
    assert changed.arm("franchise").financing == auto_repair.arm("franchise").financing


def test_a_shared_field_reaches_only_arms_that_do_not_override_it(auto_repair: Scenario) -> None:
    changed = auto_repair.with_changes({"operations.rent_usd_per_month": 1234.0})
    assert changed.arm("independent").operations.rent_usd_per_month == 1234.0
    franchise_rent = auto_repair.arm("franchise").operations.rent_usd_per_month
    assert changed.arm("franchise").operations.rent_usd_per_month == franchise_rent


def test_a_path_may_step_into_a_distribution_or_set_one(auto_repair: Scenario) -> None:
    path = "arms.franchise.customers.spend_per_visit_usd"
    moved = auto_repair.with_changes({path + ".mode": 450.0})
    spend = moved.value_at(path)
    assert isinstance(spend, Triangular)
    assert (spend.low, spend.mode, spend.high) == (320.0, 450.0, 480.0)
    as_model = auto_repair.with_changes(
        {path: Triangular(dist="triangular", low=1, mode=2, high=3)}
    )
    as_mapping = auto_repair.with_changes(
        {path: {"dist": "triangular", "low": 1, "mode": 2, "high": 3}}
    )
    assert as_model == as_mapping
    assert as_model.value_at(path).mean() == pytest.approx(2.0)


def test_full_and_short_franchise_paths_agree(auto_repair: Scenario) -> None:
    short = auto_repair.with_changes({"arms.franchise.template.learning_months": 3.0})
    full = auto_repair.with_changes({"arms.franchise.franchise.template.learning_months": 3.0})
    assert short == full
    assert short.value_at("arms.franchise.template.learning_months") == 3.0


def test_numpy_values_are_accepted(auto_repair: Scenario) -> None:
    changed = auto_repair.with_changes(
        {"arms.franchise.royalty_rate": np.float64(0.07), "run.runs": np.int64(50)}
    )
    assert changed.run.runs == 50
    assert changed.value_at("arms.franchise.royalty_rate") == 0.07


def test_value_at_resolves_arm_overrides(auto_repair: Scenario) -> None:
    assert auto_repair.value_at("arms.franchise.financing.owner_equity_usd") == 80000.0
    shared = auto_repair.financing.owner_equity_usd
    assert auto_repair.value_at("arms.independent.financing.owner_equity_usd") == shared
    assert auto_repair.value_at("market.households") == auto_repair.market.households


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
        auto_repair.with_changes(changes)
    assert str(caught.value).startswith(message)
    assert "Traceback" not in str(caught.value)


def test_every_bad_change_is_reported_at_once(auto_repair: Scenario) -> None:
    with pytest.raises(ScenarioError) as caught:
        auto_repair.with_changes({"market.nope": 1, "arms.franchise.nope": 2})
    assert len(caught.value.problems) == 2


def test_a_scenario_can_be_built_in_python_without_a_file(auto_repair: Scenario) -> None:
    data = yaml.safe_load(AUTO_REPAIR.read_text(encoding="utf-8"))
    market = Market(**data.pop("market"))
    built = Scenario(market=market, **data)
    assert built == auto_repair
    assert built.with_changes({"market.households": 5000}).market.households == 5000
