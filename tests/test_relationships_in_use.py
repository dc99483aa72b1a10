"""A run carries only the relationships its scenario's arms hold, with the same numbers.

``simulate`` narrows the shipped model's set to those some arm holds (`relationships_in_use`):
``auto_repair.yaml`` keeps the franchise's lines and counters and none of a partnership's,
outsourcing's and the rest. The books it keeps are those of a run composed with every
relationship, column for column and bit for bit, on every shipped scenario; a set given
explicitly is run as given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from franchise_sim import simulate
from franchise_sim.engine.batch import (
    DEFAULT_RELATIONSHIPS,
    counter_names,
    monthly_columns,
    plans_on_paper,
    relationships_in_use,
    scenario_columns,
)
from franchise_sim.engine.runner import summary_batch_size, trajectory_bytes
from franchise_sim.model.relationships.franchise import FRANCHISE
from franchise_sim.model.relationships.marketing_alliance import MARKETING_ALLIANCE
from franchise_sim.model.relationships.outsourcing import OUTSOURCING
from franchise_sim.model.relationships.partnership import PARTNERSHIP
from franchise_sim.model.relationships.relationship import (
    AttachBySection,
    Relationship,
    in_use,
)
from franchise_sim.model.relationships.trade_association import TRADE_ASSOCIATION
from franchise_sim.scenario.schema import Arm, Scenario
from tests.books import assert_identical
from tests.conftest import AUTO_REPAIR, SCENARIOS

SMALL: dict[str, Any] = {"runs": 24, "seed": 4, "workers": 1, "horizon_months": 30}


def _load(path: Path) -> Scenario:
    return Scenario.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _nobody(*_: object) -> None:
    """An attach that builds no actor anywhere."""


def _names(relationship: Relationship) -> tuple[str, ...]:
    """Every column and counter a relationship adds to a run."""
    return relationship.cost_lines + relationship.columns + relationship.counters


def test_auto_repair_carries_the_franchise_and_no_other_relationship() -> None:
    scenario = _load(AUTO_REPAIR)
    assert relationships_in_use(scenario) == (FRANCHISE,)
    results = simulate(scenario, **SMALL)
    assert results.monthly_columns == monthly_columns((FRANCHISE,)) == scenario_columns(scenario)
    assert len(results.monthly_columns) < len(monthly_columns(DEFAULT_RELATIONSHIPS))
    kept = set(results.monthly_columns) | set(results.outcomes) | set(results.summary.columns)
    for relationship in DEFAULT_RELATIONSHIPS[1:]:
        for name in _names(relationship):
            assert name not in kept, name
    assert set(FRANCHISE.cost_lines) <= kept
    assert results.counter_names == FRANCHISE.counters


def test_a_scenario_whose_arms_hold_other_sections_carries_them_in_the_model_order() -> None:
    strategies = _load(AUTO_REPAIR.with_name("auto_repair_strategies.yaml"))
    held = (FRANCHISE, PARTNERSHIP, TRADE_ASSOCIATION, MARKETING_ALLIANCE)
    assert relationships_in_use(strategies) == held
    results = simulate(strategies, **SMALL)
    assert results.monthly_columns == monthly_columns(held)
    assert results.counter_names == counter_names(held)
    for name in _names(OUTSOURCING):
        assert name not in results.monthly_columns
        assert name not in results.outcomes
    services = _load(AUTO_REPAIR.with_name("home_services.yaml"))
    assert relationships_in_use(services) == (FRANCHISE, OUTSOURCING)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_kept_columns_are_those_of_a_run_with_every_relationship(path: Path) -> None:
    scenario = _load(path)
    used = simulate(scenario, **SMALL)
    every = simulate(scenario, relationships=DEFAULT_RELATIONSHIPS, **SMALL)
    assert every.monthly_columns == monthly_columns(DEFAULT_RELATIONSHIPS)  # run as given
    columns = list(every.monthly_columns)
    kept = [columns.index(name) for name in used.monthly_columns]
    assert kept == sorted(kept)  # the order of the whole model, fewer of them
    np.testing.assert_array_equal(used.trajectories, every.trajectories[..., kept])
    dropped = [i for i in range(len(columns)) if i not in kept]
    assert not every.trajectories[..., dropped].any()  # nothing lost: they were zero
    for name, values in every.outcomes.items():
        if name in used.outcomes:
            np.testing.assert_array_equal(used.outcomes[name], values, err_msg=name)
        else:
            assert not values.any(), name  # a counter of a relationship no arm holds
    np.testing.assert_array_equal(used.closure_reasons, every.closure_reasons)
    for name, counts in every.shock_counts.items():
        np.testing.assert_array_equal(used.shock_counts[name], counts, err_msg=name)
    plan = simulate(scenario, deterministic=True, horizon_months=SMALL["horizon_months"])
    plan_every = simulate(
        scenario,
        deterministic=True,
        horizon_months=SMALL["horizon_months"],
        relationships=DEFAULT_RELATIONSHIPS,
    )
    np.testing.assert_array_equal(plan.trajectories, plan_every.trajectories[..., kept])


def test_a_summary_only_run_is_narrowed_the_same_way() -> None:
    strategies = _load(AUTO_REPAIR.with_name("auto_repair_strategies.yaml"))
    summary = simulate(strategies, summary_only=True, **SMALL)
    full = simulate(strategies, **SMALL)
    assert summary.monthly_columns == full.monthly_columns == scenario_columns(strategies)
    assert_identical(summary, full)


def test_the_memory_of_the_books_follows_the_scenario_columns() -> None:
    scenario = _load(AUTO_REPAIR)
    width, every = len(scenario_columns(scenario)), len(monthly_columns(DEFAULT_RELATIONSHIPS))
    assert trajectory_bytes(2, 1000, 60, width) == 2 * 1000 * 60 * width * 8
    assert trajectory_bytes(2, 1000, 60) == 2 * 1000 * 60 * every * 8  # the widest model
    assert summary_batch_size(2, 60, width) > summary_batch_size(2, 60)


def test_a_relationship_without_a_section_is_always_kept(
    auto_repair: Scenario,
) -> None:
    arms = tuple(auto_repair.resolved_arms())
    anywhere = Relationship("anywhere", (), (), _nobody)
    elsewhere = Relationship("elsewhere", (), (), _nobody, section="partnership")
    assert anywhere.section is None
    assert all(anywhere.acts_in(arm) for arm in arms)
    assert not any(elsewhere.acts_in(arm) for arm in arms)
    assert in_use((elsewhere, anywhere, FRANCHISE), arms) == (anywhere, FRANCHISE)
    assert in_use((FRANCHISE,), ()) == ()


def test_each_shipped_relationship_acts_from_a_section_an_arm_can_hold() -> None:
    for relationship in DEFAULT_RELATIONSHIPS:
        assert relationship.section == relationship.name
        assert relationship.section in Arm.model_fields
        if isinstance(relationship.attach, AttachBySection):
            assert relationship.attach.name == relationship.section


def test_the_plan_on_paper_of_a_narrowed_set_is_kept_across_calls() -> None:
    # Each call of relationships_in_use makes a new set of the same relationships: the plan on
    # paper is kept for it all the same (the explorer reruns a scenario many times). A kept
    # plan comes back as the very objects first worked out; one worked out again is new.
    scenario = _load(AUTO_REPAIR)
    first = plans_on_paper(scenario, 3, 12, relationships_in_use(scenario))
    again = plans_on_paper(scenario, 3, 12, relationships_in_use(scenario))
    assert all(again[arm] is first[arm] for arm in scenario.arm_names)
    other = Relationship("anywhere", (), (), _nobody)
    another = plans_on_paper(scenario, 3, 12, (*relationships_in_use(scenario), other))
    assert another == first  # the same numbers: the extra one attaches nothing
    assert not any(another[arm] is first[arm] for arm in scenario.arm_names)  # another model
