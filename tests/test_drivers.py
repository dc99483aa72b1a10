"""What drove the outcomes: realised inputs recovered from the seed, and the worst runs."""

from __future__ import annotations

import numpy as np
import pytest

from franchise_sim import SimulationResults, simulate
from franchise_sim.analysis.drivers import event_columns, realised_inputs, worst_runs
from franchise_sim.model.plan import plan_replication
from franchise_sim.scenario.distributions import mean_of
from franchise_sim.scenario.schema import Scenario
from tests.conftest import Variant


@pytest.fixture(scope="module")
def results(auto_repair: Scenario) -> SimulationResults:
    return simulate(auto_repair, runs=400, workers=1, seed=5)


def test_inputs_are_the_plan_each_run_met(results: SimulationResults) -> None:
    inputs = realised_inputs(results)
    assert len(inputs) == len(results.arms) * results.runs
    assert list(inputs.columns[:2]) == ["arm", "replication"]
    plan = plan_replication(results.scenario, seed=5, replication=7, horizon_months=60)
    for i, arm in enumerate(results.arms):
        row = inputs[(inputs["arm"] == arm) & (inputs["replication"] == 7)].iloc[0]
        assert row["spend_per_visit_usd"] == plan.units[i].spend_per_visit_usd
        assert row["market.potential_customers"] == plan.market.potential_customers


def test_shared_inputs_are_the_same_for_every_arm(results: SimulationResults) -> None:
    inputs = realised_inputs(results)
    by_arm = {arm: rows.reset_index(drop=True) for arm, rows in inputs.groupby("arm")}
    for column in [c for c in inputs.columns if c.startswith(("market.", "events."))]:
        np.testing.assert_array_equal(by_arm["independent"][column], by_arm["franchise"][column])


def test_market_size_averages_to_its_closed_form(results: SimulationResults) -> None:
    market = results.scenario.market
    expected = mean_of(market.households) * mean_of(market.addressable_share)
    drawn = realised_inputs(results)["market.potential_customers"]
    assert drawn.mean() == pytest.approx(expected, rel=3 * drawn.std() / np.sqrt(400) / expected)


def test_fixed_inputs_are_left_out(variant: Variant) -> None:
    fixed = variant({"market.households": 25000.0, "market.addressable_share": 0.06})
    inputs = realised_inputs(simulate(fixed, runs=30, workers=1))
    assert "market.potential_customers" not in inputs.columns
    assert all(inputs.groupby("arm")[c].nunique().max() > 1 for c in inputs.columns[2:])


def test_the_worst_runs_met_small_markets(results: SimulationResults) -> None:
    table = worst_runs(results, metric="npv", share=0.1)
    assert set(table["arm"]) == set(results.arms)
    assert table["worst_percentile"].between(0, 1).all()
    for arm in results.arms:
        rows = table[table["arm"] == arm].reset_index(drop=True)
        apart = (rows["worst_percentile"] - 0.5).abs()
        assert list(apart) == sorted(apart, reverse=True)
        market = rows[rows["driver"] == "market.potential_customers"].iloc[0]
        assert market["worst_percentile"] < 0.25  # a small market is what sinks a business
        assert market["worst_mean"] < market["others_mean"]
    assert "brand_shocks" in event_columns(results)
    assert set(event_columns(results)) & set(table["driver"])


def test_worst_runs_means_split_the_runs_as_stated(results: SimulationResults) -> None:
    table = worst_runs(results, metric="final_cash", share=0.25)
    summary = results.summary[results.summary["arm"] == "independent"]
    worst = summary["final_cash"] <= np.quantile(summary["final_cash"], 0.25)
    row = table[(table["arm"] == "independent") & (table["driver"] == "recession")].iloc[0]
    assert row["worst_mean"] == pytest.approx(summary.loc[worst, "recession"].mean())
    assert row["others_mean"] == pytest.approx(summary.loc[~worst, "recession"].mean())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"share": 0.0}, "share must be strictly between 0 and 1"),
        ({"metric": "closure_reason"}, "is not a numeric column"),
        ({"metric": "profit"}, "is not a numeric column"),
    ],
)
def test_worst_runs_rejects_bad_arguments(
    results: SimulationResults, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        worst_runs(results, **kwargs)  # type: ignore[arg-type]
