"""The project group, each of its mechanisms against the same arm without it.

Structure raises the chance of success, a success pays off from the next month, a failure
leaves only its costs, and an arm without a project is the arm it was.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from franchise_sim import SimulationResults, simulate
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS, relationships_in_use
from franchise_sim.model.relationships.project_group import (
    COSTS,
    FAILED_MONTH,
    PROJECT_GROUP,
    SALES,
    SUCCEEDED_MONTH,
    last_month,
    success_chance,
)
from franchise_sim.outputs.report import html_report
from franchise_sim.scenario.schema import Scenario
from tests.books import assert_books_balance
from tests.conftest import Variant

RUNS, MONTHS, SEED = 120, 24, 7
PROJECT: dict[str, Any] = {
    "start_month": 3,
    "duration_months": 4,
    "owner_hours_per_month": 10.0,
    "cost_usd_per_month": 500.0,
    "stall_share": 0.0,
    "quality_gain_share": 0.05,
    "sales_usd_per_month": 2_000.0,
    "sales_months": 6,
}


def _run(scenario: Scenario, **kwargs: Any) -> SimulationResults:
    return simulate(scenario, runs=RUNS, seed=SEED, workers=1, horizon_months=MONTHS, **kwargs)


def _with_project(variant: Variant, **terms: Any) -> Scenario:
    return variant({"arms.independent.project_group": {**PROJECT, **terms}})


def test_structure_moves_the_chance_from_the_unstructured_toward_the_structured() -> None:
    low, high = np.array([0.5]), np.array([0.63])
    assert success_chance(low, high, 0.0)[0] == 0.5
    assert success_chance(low, high, 1.0)[0] == 0.63
    assert success_chance(low, high, 0.5)[0] == 0.5 + 0.5 * (0.63 - 0.5)


def test_a_stall_runs_the_project_longer() -> None:
    ends = last_month(3, 4, 2, np.array([False, True]))
    np.testing.assert_array_equal(ends, [6, 8])


def test_a_project_costs_its_months_and_pays_off_after_a_success(variant: Variant) -> None:
    results = _run(_with_project(variant))
    i = results.arm_index("independent")
    alive = results.series("alive")[i] > 0.5
    costs, sales = results.series(COSTS)[i], results.series(SALES)[i]
    months = np.arange(1, MONTHS + 1)
    running = (months >= 3) & (months <= 6)
    np.testing.assert_array_equal(costs[:, running & alive.all(axis=0)], 500.0)
    np.testing.assert_array_equal(costs[:, ~running], 0.0)
    summary = results.summary.set_index(["arm", "replication"]).loc["independent"]
    won = summary[SUCCEEDED_MONTH].notna().to_numpy()
    lost = summary[FAILED_MONTH].notna().to_numpy()
    open_at_end = alive[:, 5]
    assert (won | lost)[open_at_end].all()  # every project still running at its end is decided
    assert not (won & lost).any()
    assert (summary[SUCCEEDED_MONTH].dropna() == 6).all()
    selling = (months >= 7) & (months <= 12)
    paid = won & alive[:, 11]
    np.testing.assert_array_equal(sales[np.ix_(paid, selling)], 2_000.0)
    np.testing.assert_array_equal(sales[:, ~selling], 0.0)
    np.testing.assert_array_equal(sales[lost], 0.0)
    # With the defaults (a leader, roles: 63%), about that share of the decided projects win.
    decided = (won | lost)[open_at_end]
    assert 0.5 < won[open_at_end].sum() / decided.sum() < 0.76
    assert_books_balance(results, opening=False)


def test_a_success_lifts_satisfaction_and_a_failure_gives_only_the_costs(variant: Variant) -> None:
    plain = _run(variant({}))
    project = _run(_with_project(variant, sales_usd_per_month=0.0))
    i = project.arm_index("independent")
    summary = project.summary.set_index(["arm", "replication"]).loc["independent"]
    won = summary[SUCCEEDED_MONTH].notna().to_numpy()
    lost = summary[FAILED_MONTH].notna().to_numpy()
    before, after = plain.series("satisfaction")[i], project.series("satisfaction")[i]
    both = (plain.series("alive")[i, :, 6] > 0.5) & (project.series("alive")[i, :, 6] > 0.5)
    # Month 7 is the first after the end: a success's customers are more satisfied.
    assert (after[won & both, 6] > before[won & both, 6]).all()
    # Up to the end of the project nothing but its costs differs (its owner hours fit the spare).
    np.testing.assert_array_equal(after[:, :6], before[:, :6])
    profit = plain.series("operating_profit")[i], project.series("operating_profit")[i]
    gap = profit[0][both, :6] - profit[1][both, :6]
    np.testing.assert_allclose(
        gap, np.tile([0.0, 0.0, 500.0, 500.0, 500.0, 500.0], (both.sum(), 1))
    )
    # A failed project's months after its end are the plain arm's again, bar the cash it cost.
    assert lost.any()
    np.testing.assert_array_equal(after[lost & both, 6], before[lost & both, 6])


def test_structure_raises_the_success_rate(variant: Variant) -> None:
    rates = []
    for leader, roles in ((False, False), (True, True)):
        results = _run(_with_project(variant, has_leader=leader, roles_assigned=roles))
        summary = results.summary[results.summary["arm"] == "independent"]
        rates.append(summary[SUCCEEDED_MONTH].notna().mean())
    assert rates[1] > rates[0]  # the same uniforms: every unstructured success also wins


def test_an_arm_without_a_project_is_the_arm_it_was(variant: Variant) -> None:
    scenario = _with_project(variant)
    without = tuple(rel for rel in DEFAULT_RELATIONSHIPS if rel is not PROJECT_GROUP)
    full = _run(scenario)
    bare = _run(scenario, relationships=relationships_in_use(scenario, without))
    f = full.arm_index("franchise")
    shared = [full.monthly_columns.index(name) for name in bare.monthly_columns]
    np.testing.assert_array_equal(full.trajectories[f][..., shared], bare.trajectories[f])
    assert COSTS in full.monthly_columns
    assert COSTS not in bare.monthly_columns
    franchise_rows = full.summary[full.summary["arm"] == "franchise"]
    assert franchise_rows[SUCCEEDED_MONTH].isna().all()


@pytest.mark.parametrize("workers", [2])
def test_the_same_results_on_more_workers(variant: Variant, workers: int) -> None:
    scenario = _with_project(variant, stall_share=0.3)
    one = simulate(scenario, runs=60, seed=3, workers=1, horizon_months=18)
    more = simulate(scenario, runs=60, seed=3, workers=workers, horizon_months=18)
    np.testing.assert_array_equal(one.trajectories, more.trajectories)
    np.testing.assert_array_equal(one.outcomes["project_stalled"], more.outcomes["project_stalled"])


def test_the_report_lists_the_project_s_terms_and_their_sources(variant: Variant) -> None:
    scenario = _with_project(
        variant, cost_usd_per_month={"dist": "uniform", "low": 200, "high": 400}
    )
    results = simulate(scenario, runs=20, seed=1, workers=1, horizon_months=12)
    page = html_report(results, {}, {"break_even": b"png"})
    assert "Relationships with other firms" in page
    assert "Independent shop: project group" in page
    assert "<code>structured_success_share</code><td>63%</td>" in page.replace("</td><td>", "<td>")
    assert "Kale, Dyer &amp; Singh 2002" in page
    assert "$300 <span" in page  # an uncertain cost: its mean, then where 90% of runs draw it
    assert "stated assumption" in page
    plain = html_report(
        simulate(variant({}), runs=20, seed=1, workers=1, horizon_months=12), {}, {}
    )
    assert "Relationships with other firms" not in plain
