"""A batch's plans drawn as columns are the scalar plans, field by field and bit for bit.

`plan.plan_replication` is the definition of a replication's inputs; `batch_plan.plan_batch`
draws a whole batch's at once, on arrays. Every field of every replication's plan must be the
scalar plan's to the last bit (and of the same type) on every shipped scenario, drawn and at the
means, with and without plans on paper, and on variants that reach the rest of the plan: more
arms with a floating-rate loan, the SBA guarantee fee, a review against a stated level or the
outside wage, the copula coupling the mismatch to the taste gap and mechanisms switched off.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from franchise_sim.engine.batch import plans_on_paper, run_batch, run_plans
from franchise_sim.model import plan as scalar_plan
from franchise_sim.model.batch_plan import BatchPlan, Columns, owner_money, plan_batch
from franchise_sim.model.plan import MarketPlan, needs_plan_on_paper, plan_replication
from franchise_sim.scenario.changes import with_changes
from franchise_sim.scenario.schema import Scenario
from tests.test_batch_engine import SHIPPED, _more_arms, _scenario

RUNS = 40
SEED = 4
HORIZON = 24


def _same(column: Any, scalar: Any, where: str) -> None:
    """Equal to the bit, and of the same type, down through nested plans and tuples."""
    if dataclasses.is_dataclass(scalar):
        assert type(column) is type(scalar), where
        for f in dataclasses.fields(scalar):
            _same(getattr(column, f.name), getattr(scalar, f.name), f"{where}.{f.name}")
    elif isinstance(scalar, tuple):
        assert isinstance(column, tuple), where
        assert len(column) == len(scalar), where
        for i, (c, s) in enumerate(zip(column, scalar, strict=True)):
            _same(c, s, f"{where}[{i}]")
    elif isinstance(scalar, float):
        assert type(column) is float, where
        assert column.hex() == scalar.hex(), f"{where}: {column!r} is not {scalar!r}"
    else:
        assert type(column) is type(scalar), where
        assert column == scalar, f"{where}: {column!r} is not {scalar!r}"


def _check(scenario: Scenario, *, deterministic: bool, paper: bool, first: int = 3) -> None:
    on_paper = plans_on_paper(scenario, SEED, HORIZON) if paper else None
    replications = range(first, first + RUNS)
    batch = plan_batch(
        scenario,
        seed=SEED,
        replications=replications,
        horizon_months=HORIZON,
        deterministic=deterministic,
        on_paper=on_paper,
    )
    assert batch.size == RUNS
    for i, r in enumerate(replications):
        scalar = plan_replication(
            scenario,
            seed=SEED,
            replication=r,
            horizon_months=HORIZON,
            deterministic=deterministic,
            on_paper=on_paper,
        )
        _same(batch.replication_plan(i), scalar, f"replication {r}")


@pytest.mark.parametrize("paper", [False, True], ids=["no_plan_on_paper", "plan_on_paper"])
@pytest.mark.parametrize("deterministic", [False, True], ids=["drawn", "at_means"])
@pytest.mark.parametrize("name", SHIPPED)
def test_the_column_plan_is_the_scalar_plan_on_every_shipped_scenario(
    name: str, deterministic: bool, paper: bool
) -> None:
    scenario = _scenario(name)
    assert needs_plan_on_paper(scenario) or not paper
    _check(scenario, deterministic=deterministic, paper=paper)


VARIANTS: dict[str, dict[str, Any]] = {
    "sba_guarantee_fee_financed": {"financing.guarantee_fee": {}},
    "guarantee_fee_paid_and_drawn": {
        "financing.guarantee_fee": {
            "financed": False,
            "guaranteed_share": {"dist": "uniform", "low": 0.5, "high": 0.85},
            "rate_of_guaranteed_portion": 0.03,
        },
        "arms.*.financing.owner_equity_usd": {"dist": "uniform", "low": 20_000, "high": 400_000},
    },
    "review_against_a_ramp_to_a_drawn_level": {
        "owner.review": {
            "benchmark": "expected",
            "expected_earnings_usd_per_month": {"dist": "uniform", "low": 2000, "high": 6000},
            "opening_earnings_usd_per_month": -8000,
            "ramp_months": 7,
            "give_up_shortfall_usd": {"dist": "uniform", "low": 10_000, "high": 60_000},
        }
    },
    "review_against_a_drawn_outside_wage": {
        "owner.outside_wage_usd_per_month": {"dist": "uniform", "low": 2500, "high": 5000},
        "owner.review": {"benchmark": "outside_wage", "give_up_shortfall_usd": 20_000},
    },
    "plan_capped_at_a_drawn_outside_wage": {
        "owner.outside_wage_usd_per_month": {"dist": "uniform", "low": 2500, "high": 5000},
    },
    "mismatch_against_the_taste_gap": {"concept.mismatch_taste_gap_correlation": -0.7},
    "mechanisms_off": {
        "arms.franchise.mechanisms.template": False,
        "arms.franchise.mechanisms.fees": False,
        "arms.franchise.mechanisms.purchasing": False,
    },
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_column_plan_is_the_scalar_plan_on_the_rest_of_the_plan(variant: str) -> None:
    scenario = with_changes(_scenario("auto_repair"), VARIANTS[variant])
    _check(scenario, deterministic=False, paper=needs_plan_on_paper(scenario))


@pytest.mark.parametrize("arms", [3, 5])
def test_the_column_plan_is_the_scalar_plan_with_more_arms(arms: int) -> None:
    scenario = _scenario("fitness_studio", _more_arms(arms))
    _check(scenario, deterministic=False, paper=True, first=0)
    assert plan_batch(scenario, seed=1, replications=range(2), horizon_months=6).prime_rate


def test_columns_of_scalar_plans_give_them_back_and_run_the_same_books() -> None:
    scenario = _scenario("quick_service_restaurant")
    paper = plans_on_paper(scenario, SEED, HORIZON)
    plans = [
        plan_replication(scenario, seed=SEED, replication=r, horizon_months=HORIZON, on_paper=paper)
        for r in range(20)
    ]
    batch = BatchPlan.of(plans)
    for i, plan in enumerate(plans):
        _same(batch.replication_plan(i), plan, f"replication {i}")
    drawn = run_batch(scenario, SEED, range(20), HORIZON, False, paper)
    for record in (run_plans(plans), run_plans(batch)):
        np.testing.assert_array_equal(record.monthly, drawn.monthly)
        assert record.closure_reasons == drawn.closure_reasons


def test_columns_refuse_a_field_the_plan_lacks_and_a_setting_that_differs() -> None:
    market = Columns.of([MarketPlan(100.0 * (1 + r), 0.1, (1.0,) * 12, 0.0) for r in range(3)])
    np.testing.assert_array_equal(market.array("potential_customers"), [100.0, 200.0, 300.0])
    assert market.setting("size_trend_per_year") == 0.0
    assert market.setting("season_factors") == (1.0,) * 12
    with pytest.raises(KeyError, match="potential_customer"):
        market.array("potential_customer")
    with pytest.raises(ValueError, match="differs between replications"):
        market.setting("potential_customers")
    with pytest.raises(ValueError, match="exactly its fields"):
        Columns(MarketPlan, 3, {"potential_customers": 1.0})
    kept = market.array("potential_customers")
    kept[0] = -1.0  # an actor's own copy: the plan is unchanged
    assert market.at(0, "potential_customers") == 100.0


@pytest.mark.parametrize("deterministic", [False, True], ids=["drawn", "at_means"])
@pytest.mark.parametrize(
    "name", [*SHIPPED, "sba_guarantee_fee_financed", "guarantee_fee_paid_and_drawn"]
)
def test_the_owners_money_of_a_batch_is_the_scalar_one(name: str, deterministic: bool) -> None:
    if name in VARIANTS:
        scenario = with_changes(_scenario("auto_repair"), VARIANTS[name])
    else:
        scenario = _scenario(name)
    arms = scenario.arm_names
    batch = owner_money(scenario, arms, SEED, range(5, 45), deterministic=deterministic)
    scalar = scalar_plan.owner_money(
        scenario, arms, SEED, range(5, 45), deterministic=deterministic
    )
    assert batch.keys() == scalar.keys()
    for key, values in scalar.items():
        assert batch[key].dtype == values.dtype
        np.testing.assert_array_equal(batch[key].view(np.uint8), values.view(np.uint8))


def _every_columns(columns: Columns, where: str) -> list[tuple[str, Columns]]:
    found = [(where, columns)]
    for name in (f.name for f in dataclasses.fields(columns.kind)):
        part = columns.value(name)
        if isinstance(part, Columns):
            found += _every_columns(part, f"{where}.{name}")
    return found


@pytest.mark.parametrize("name", SHIPPED)
def test_each_field_in_every_replication_is_what_at_gives(name: str) -> None:
    """`Columns.each` lists `Columns.at` of every replication: the same values, the same types."""
    batch = plan_batch(_scenario(name), seed=SEED, replications=range(7), horizon_months=HORIZON)
    parts = [batch.market, batch.events, *batch.units]
    for where, columns in [c for i, p in enumerate(parts) for c in _every_columns(p, str(i))]:
        for field in (f.name for f in dataclasses.fields(columns.kind)):
            each = columns.each(field)
            assert columns.each(field) is each  # kept
            assert len(each) == batch.size
            for r in range(batch.size):
                _same(each[r], columns.at(r, field), f"{where}.{field}[{r}]")
