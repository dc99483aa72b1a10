"""What the franchise system brings, each mechanism switchable, and what its failure takes away."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
import simpy
from scipy import stats

from franchise_sim import SimulationResults, load_scenario, simulate
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS, all_cost_lines, monthly_columns
from franchise_sim.model.books import UNIFORMS_PER_MONTH
from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar
from franchise_sim.model.market import Market
from franchise_sim.model.plan import plan_replication
from franchise_sim.model.relationships.franchise import Franchisor, brand_fade_factor
from franchise_sim.model.relationships.relationship import recorded_columns
from franchise_sim.model.schedule import later, runs_until
from franchise_sim.model.streams import BatchStreams
from franchise_sim.scenario.changes import with_changes
from franchise_sim.scenario.errors import ScenarioError
from franchise_sim.scenario.schema import FORMAT_FIELDS, Mechanisms, Scenario
from tests.books import assert_books_balance
from tests.conftest import SCENARIOS, Variant

EVERY_MECHANISM = tuple(Mechanisms.model_fields)
"""The switch names, as the paths ``arms.franchise.mechanisms.<name>`` use them."""


def _off(*names: str, arm: str = "franchise") -> dict[str, Any]:
    return {f"arms.{arm}.mechanisms.{name}": False for name in names}


def _same_books(run: SimulationResults, a: int, b: int) -> None:
    np.testing.assert_array_equal(run.trajectories[a], run.trajectories[b])
    np.testing.assert_array_equal(run.closure_reasons[a], run.closure_reasons[b])
    for name, values in run.outcomes.items():
        np.testing.assert_array_equal(values[a], values[b], err_msg=name)


# --- The switches -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_mechanism_off_gives_the_independents_books(path: Any) -> None:
    # The base of the attribution: a franchise arm with nothing of the system is the
    # independent, draw for draw, in the same run.
    scenario = with_changes(load_scenario(path), _off(*EVERY_MECHANISM))
    run = simulate(scenario, runs=16, seed=5, workers=1, horizon_months=48)
    _same_books(run, run.arm_index("independent"), run.arm_index("franchise"))


def test_each_mechanism_alone_makes_the_arm_differ(auto_repair: Scenario) -> None:
    # No switch is dead: the arm with only one mechanism on differs from the independent.
    for name in EVERY_MECHANISM:
        rest = [m for m in EVERY_MECHANISM if m != name]
        scenario = with_changes(
            auto_repair, _off(*rest) | {"arms.franchise.franchisor.failure_rate_per_year": 0.3}
        )
        run = simulate(scenario, runs=8, seed=5, workers=1, horizon_months=36)
        assert not np.array_equal(run.trajectories[0], run.trajectories[1]), name


def test_switched_off_mechanisms_take_the_independents_inputs(auto_repair: Scenario) -> None:
    on = plan_replication(auto_repair, seed=3, replication=1, horizon_months=12)
    off = plan_replication(
        with_changes(auto_repair, _off("template", "customization_limit", "brand", "fees")),
        seed=3,
        replication=1,
        horizon_months=12,
    )
    independent, franchise = on.units
    bare = off.units[1]
    assert franchise.quality_potential != independent.quality_potential
    assert bare.quality_potential == independent.quality_potential
    assert bare.starting_mismatch == independent.starting_mismatch
    assert bare.learning_months == independent.learning_months
    assert bare.mismatch_floor == 0.0 < franchise.mismatch_floor
    assert bare.franchise is not None
    assert bare.franchise.royalty_rate == bare.franchise.brand_awareness_p_per_month == 0.0
    fees_off = with_changes(auto_repair, _off("fees")).arm("franchise")
    full = auto_repair.arm("franchise")
    assert fees_off.total_investment_usd() == full.total_investment_usd() - 35000.0


def test_format_and_financing_switches_drop_the_arms_own_values(auto_repair: Scenario) -> None:
    shared = auto_repair.arm("independent")
    arm = with_changes(auto_repair, _off("format")).arm("franchise")
    assert arm.operations.capacity_visits_per_month == shared.operations.capacity_visits_per_month
    assert arm.customers.spend_per_visit_usd == shared.customers.spend_per_visit_usd
    assert arm.investment.buildout_usd == shared.investment.buildout_usd
    assert arm.investment.working_capital_usd == 65000.0  # financing, not format
    arm = with_changes(auto_repair, _off("financing")).arm("franchise")
    assert arm.investment.working_capital_usd == shared.investment.working_capital_usd
    assert arm.financing == shared.financing
    assert arm.operations.capacity_visits_per_month == 230.0


# --- The format as franchise terms --------------------------------------------------------------
def _format_moved(data: dict[str, Any]) -> dict[str, Any]:
    """The franchise arm's overrides of format fields moved into ``franchise.format``."""
    arm = data["arms"]["franchise"]
    moved: dict[str, Any] = {}
    for section, fields in FORMAT_FIELDS.items():
        own = arm.get(section, {})
        for field in fields:
            if field in own:
                moved[field] = own.pop(field)
    arm["franchise"]["format"] = moved
    return data


def test_the_format_as_terms_gives_the_same_books_as_the_arms_overrides(
    auto_repair: Scenario, auto_repair_data: dict[str, Any]
) -> None:
    data = _format_moved(copy.deepcopy(auto_repair_data))
    assert set(data["arms"]["franchise"]["franchise"]["format"]) >= {"capacity_visits_per_month"}
    moved = Scenario.model_validate(data)
    assert moved.arm("franchise").operations == auto_repair.arm("franchise").operations
    a = simulate(auto_repair, runs=10, seed=2, workers=1, horizon_months=36)
    b = simulate(moved, runs=10, seed=2, workers=1, horizon_months=36)
    np.testing.assert_array_equal(a.trajectories, b.trajectories)
    off = simulate(
        with_changes(moved, _off("format")), runs=10, seed=2, workers=1, horizon_months=36
    )
    served = off.series("visits_served")[off.arm_index("franchise")]
    assert served.max() <= 170.0


def test_a_format_field_given_twice_is_refused(auto_repair: Scenario) -> None:
    with pytest.raises(
        ScenarioError, match=r"operations\.capacity_visits_per_month.*franchise\.format"
    ):
        with_changes(auto_repair, {"arms.franchise.format.capacity_visits_per_month": 300.0})


# --- The brand as a head start ------------------------------------------------------------------
def test_brand_fade_factor_by_hand() -> None:
    assert brand_fade_factor(0.0, 0.0, 12.0, math.inf) == 1.0
    assert brand_fade_factor(12.0, 0.3, 12.0, math.inf) == 0.5
    assert brand_fade_factor(24.0, 0.0, 12.0, math.inf) == 0.25
    assert brand_fade_factor(0.0, 0.1, math.inf, 0.05) == 0.25
    assert brand_fade_factor(6.0, 0.025, 12.0, 0.05) == pytest.approx(0.5)
    assert brand_fade_factor(1e6, 1.0, math.inf, math.inf) == 1.0


@pytest.mark.parametrize(
    "fade",
    [
        {"arms.franchise.brand_fade_half_life_months": 12.0},
        {"arms.franchise.brand_fade_half_customer_share": 0.02},
    ],
    ids=["with time", "with its own customers"],
)
def test_a_fading_brand_leaves_early_customers_and_lowers_late_ones(
    variant: Variant, fade: dict[str, Any]
) -> None:
    base = variant(
        {"events.enabled": False, "arms.franchise.franchise.franchisor.failure_rate_per_year": 0.0}
    )
    runs = dict(runs=200, seed=11, workers=1, horizon_months=36)
    keep = simulate(base, **runs)  # type: ignore[arg-type]
    fading = simulate(with_changes(base, fade), **runs)  # type: ignore[arg-type]
    i = keep.arm_index("franchise")
    before, after = keep.series("customers")[i], fading.series("customers")[i]
    np.testing.assert_array_equal(before[:, 0], after[:, 0])
    assert after[:, 35].mean() < before[:, 35].mean()
    _same_books_of(keep, fading, keep.arm_index("independent"))
    assert_books_balance(fading)


def _same_books_of(a: SimulationResults, b: SimulationResults, arm: int) -> None:
    np.testing.assert_array_equal(a.trajectories[arm], b.trajectories[arm])


# --- What a failure takes away ------------------------------------------------------------------
def test_a_failure_before_trading_leaves_the_unit_without_the_system(
    auto_repair: Scenario,
) -> None:
    # The franchisor fails before the first month's trade (at 100%/yr it fails within the
    # first month in most runs): the unit is then exactly the arm that never had the system's
    # fees, brand, purchasing, demand-side format or customization limit, nor its risk.
    fails = {
        "arms.franchise.franchisor.failure_rate_per_year": 1.0,
        "arms.franchise.franchisor.rebranding_cost_usd": 0.0,
    }
    never = {f"arms.franchise.{fee}": 0.0 for fee in ("royalty_rate", "ad_fund_rate")} | {
        "arms.franchise.fixed_fees_usd_per_month": 0.0,
        "arms.franchise.local_marketing_min_rate": 0.0,
        "arms.franchise.customers.spend_per_visit_usd": auto_repair.customers.spend_per_visit_usd,
        **_off("brand", "purchasing", "customization_limit", "franchisor_risk"),
    }
    scenario = with_changes(auto_repair, fails)
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    data["arms"]["bare"] = (
        Scenario.model_validate(
            with_changes(auto_repair, never).model_dump(by_alias=True, exclude_none=True)
        )
        .arms["franchise"]
        .model_dump(by_alias=True, exclude_none=True)
    )
    run = simulate(Scenario.model_validate(data), runs=40, seed=4, workers=1, horizon_months=48)
    i, bare = run.arm_index("franchise"), run.arm_index("bare")
    first = run.outcomes["franchisor_failed_month"][i] == 1
    assert first.sum() >= 25
    np.testing.assert_array_equal(run.trajectories[i][first], run.trajectories[bare][first])
    assert_books_balance(run)


def test_a_failure_removes_the_purchasing_discount_and_the_premium_ticket(
    variant: Variant,
) -> None:
    scenario = variant(
        {
            "arms.franchise.franchise.franchisor.failure_rate_per_year": 0.5,
            "customers.spend_per_visit_usd": 380.0,
            "arms.franchise.customers.spend_per_visit_usd": 400.0,
        }
    )
    run = simulate(scenario, runs=60, seed=8, workers=1, horizon_months=48)
    i = run.arm_index("franchise")
    failed = run.outcomes["franchisor_failed_month"][i]
    revenue, served = run.series("revenue")[i], run.series("visits_served")[i]
    variable, royalty = run.series("variable_costs")[i], run.series("royalty")[i]
    checked = 0
    for r in np.flatnonzero(failed > 0):
        month = int(failed[r])
        trading = revenue[r] > 0
        before, after = trading.copy(), trading.copy()
        before[month - 1 :] = False
        after[: month - 1] = False
        np.testing.assert_allclose(revenue[r][before] / served[r][before], 400.0)
        np.testing.assert_allclose(revenue[r][after] / served[r][after], 380.0)
        np.testing.assert_allclose(variable[r][before] / revenue[r][before], 0.52 * 0.94)
        np.testing.assert_allclose(variable[r][after] / revenue[r][after], 0.52)
        assert (royalty[r][month - 1 :] == 0).all()
        checked += int(after.any() and before.any())
    assert checked >= 5
    assert_books_balance(run)


def test_the_old_failure_rule_keeps_what_the_system_brought(auto_repair: Scenario) -> None:
    # The pre-v2 rule is kept only for comparison: a failure then costs the unit less.
    fails = {"arms.franchise.franchisor.failure_rate_per_year": 0.5}
    old = fails | {"arms.franchise.franchisor.failure_withdraws_system": False}
    runs = dict(runs=150, seed=6, workers=1, horizon_months=60)
    new_run = simulate(with_changes(auto_repair, fails), **runs)  # type: ignore[arg-type]
    old_run = simulate(with_changes(auto_repair, old), **runs)  # type: ignore[arg-type]
    i = new_run.arm_index("franchise")
    assert new_run.outcomes["npv"][i].mean() < old_run.outcomes["npv"][i].mean()
    _same_books_of(new_run, old_run, new_run.arm_index("independent"))


def test_franchisor_failure_lowers_npv_and_survival_when_the_system_earns_its_fees(
    variant: Variant,
) -> None:
    # At a 3% royalty the system is worth more than its fees (at the shipped 6% it is not,
    # so a failure there frees the unit of fees worth more than what it loses).
    runs = dict(runs=300, seed=12, workers=2, horizon_months=60)
    outcome = {}
    for rate in (0.0, 1.0):
        scenario = variant(
            {
                "arms.franchise.franchise.royalty_rate": 0.03,
                "arms.franchise.franchise.franchisor.failure_rate_per_year": rate,
            }
        )
        run = simulate(scenario, **runs)  # type: ignore[arg-type]
        i = run.arm_index("franchise")
        outcome[rate] = (run.outcomes["npv"][i].mean(), run.series("alive")[i][:, 59].mean())
    assert outcome[1.0][0] < outcome[0.0][0]
    assert outcome[1.0][1] < outcome[0.0][1]


def _world(
    scenario: Scenario, horizon: int = 24
) -> tuple[simpy.Environment, Business, Franchisor, np.ndarray]:
    """One franchise unit and its franchisor in a SimPy world, as the batch engine builds it.

    A batch of one replication, every customer uniform at 0.5.
    """
    plan = plan_replication(scenario, seed=1, replication=0, horizon_months=horizon)
    env = simpy.Environment()
    replications = np.array([0], dtype=np.int64)
    streams = BatchStreams(1, replications, horizon)
    calendar = Calendar(env, horizon)
    market = Market(env, calendar, [plan.market], np.zeros(1, dtype=np.int64), np.zeros(1))
    uniforms = np.full((1, horizon, UNIFORMS_PER_MONTH), 0.5)
    unit = plan.units[1]
    lines = all_cost_lines()
    books = np.zeros((1, horizon, len(monthly_columns())))
    columns = recorded_columns(DEFAULT_RELATIONSHIPS)
    business = Business(
        env,
        calendar,
        market,
        [unit],
        uniforms,
        None,
        lines,
        noisy=False,
        books=books,
        columns=columns,
    )
    assert unit.franchise is not None
    franchisor = Franchisor(env, calendar, business, [unit.franchise], streams)
    return env, business, franchisor, books[0]


def test_renewal_royalty_and_transfer_fee(auto_repair: Scenario) -> None:
    scenario = with_changes(
        auto_repair,
        {
            "arms.franchise.term_years": 1.0,
            "arms.franchise.renewal_royalty_rate": 0.09,
            "arms.franchise.transfer_fee_usd": 12000.0,
            "arms.franchise.franchisor.failure_rate_per_year": 0.0,
        },
    )
    env, business, _, rows = _world(scenario)
    assert business.sale_costs_usd == {"transfer_fee": np.array([12000.0])}
    env.run(until=24.5)
    royalty = all_cost_lines().index("royalty")
    head = 6  # MONTH_HEAD: the cost lines start after revenue
    revenue = rows[:, head - 1]
    np.testing.assert_allclose(rows[:12, head + royalty], 0.06 * revenue[:12])
    np.testing.assert_allclose(rows[12:, head + royalty], 0.09 * revenue[12:])


def test_a_failure_ends_the_transfer_fee_and_the_customization_limit(
    auto_repair: Scenario,
) -> None:
    scenario = with_changes(
        auto_repair,
        {
            "arms.franchise.transfer_fee_usd": 12000.0,
            "arms.franchise.franchisor.failure_rate_per_year": 0.0,
            "arms.franchise.template.support_quality_share": 0.1,
            "market.local_taste_gap": 0.3,
        },
    )
    env, business, franchisor, _ = _world(scenario, horizon=60)
    later(env, runs_until(60), 11.5, lambda: franchisor.fail(0))
    env.run(until=60.5)
    assert franchisor.failed_month[0] == 12
    assert business.sale_costs_usd["transfer_fee"][0] == 0.0
    assert business.satisfaction_factors["brand"][0] == 1.0
    assert business.satisfaction_factors["support"][0] == pytest.approx(0.9)
    plan = business.units[0]
    assert plan.mismatch_floor > 0
    fit = 1.0 - business.taste_fit[0, :60]
    assert fit[11] == pytest.approx(
        plan.mismatch_floor
        + (plan.starting_mismatch - plan.mismatch_floor) * math.exp(-11 / plan.adaptation_months)
    )
    assert fit[59] < plan.mismatch_floor  # adapts below the old floor, towards none
    assert fit[59] == pytest.approx(fit[11] * math.exp(-48 / plan.adaptation_months))


# --- The independent's mismatch and the local taste gap -----------------------------------------
def test_the_independents_mismatch_can_follow_the_taste_gap(variant: Variant) -> None:
    def draws(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
        plans = [
            plan_replication(scenario, seed=2, replication=r, horizon_months=1) for r in range(200)
        ]
        gaps = np.array([p.market.local_taste_gap for p in plans])
        return gaps, np.array([p.units[0].starting_mismatch for p in plans])

    gap, plain = draws(variant({}))
    assert abs(stats.spearmanr(gap, plain).statistic) < 0.2
    _, zero = draws(variant({"concept.mismatch_taste_gap_correlation": 0.0}))
    np.testing.assert_array_equal(plain, zero)
    _, coupled = draws(variant({"concept.mismatch_taste_gap_correlation": 0.9}))
    assert stats.spearmanr(gap, coupled).statistic > 0.8
    # each keeps its own distribution: Beta(2, 6), mean 0.25
    assert abs(coupled.mean() - 0.25) < 0.03


def test_mechanisms_on_give_identical_results_for_one_and_two_workers(variant: Variant) -> None:
    scenario = variant(
        {
            "concept.mismatch_taste_gap_correlation": 0.5,
            "arms.franchise.franchise.brand_fade_half_customer_share": 0.03,
            "arms.franchise.franchise.renewal_royalty_rate": 0.08,
            "arms.franchise.franchise.term_years": 2,
            "arms.franchise.franchise.template.support_quality_share": 0.1,
            "arms.franchise.franchise.franchisor.failure_rate_per_year": 0.2,
        }
    )
    one = simulate(scenario, runs=24, seed=3, workers=1, horizon_months=48)
    two = simulate(scenario, runs=24, seed=3, workers=2, horizon_months=48)
    np.testing.assert_array_equal(one.trajectories, two.trajectories)
    for name in one.outcomes:
        np.testing.assert_array_equal(one.outcomes[name], two.outcomes[name])
    assert_books_balance(one)


def test_the_report_shows_what_an_arm_runs_on_with_mechanisms_off(auto_repair: Scenario) -> None:
    from franchise_sim.outputs.report import ASSUMPTIONS

    plain = with_changes(
        auto_repair,
        {
            "arms.franchise.mechanisms.fees": False,
            "arms.franchise.mechanisms.template": False,
            "arms.franchise.mechanisms.purchasing": False,
        },
    )
    rows = {row.name: row.read for row in ASSUMPTIONS}
    franchise, before = plain.arm("franchise"), auto_repair.arm("franchise")
    assert rows["Royalty (of sales)"](before) == before.franchise.royalty_rate  # type: ignore[union-attr]
    assert rows["Royalty (of sales)"](franchise) is None
    assert rows["Initial franchise fee"](franchise) is None
    assert rows["Operating quality (0-1)"](franchise) == plain.arm("independent").concept.quality
    assert rows["System purchasing discount (of variable costs)"](franchise) is None
    assert rows["System purchasing discount (of variable costs)"](before) is not None


def test_a_failure_after_the_last_months_books_is_beyond_the_horizon(
    auto_repair: Scenario, tmp_path: Any
) -> None:
    # The run ends half a month after the horizon; a failure in that half month touches no
    # recorded month, so it is no failure within the horizon (it read as month 61 of 60).
    fragile = with_changes(auto_repair, {"arms.franchise.franchisor.failure_rate_per_year": 0.999})
    run = simulate(fragile, runs=100, seed=3, workers=1, horizon_months=2)
    failed = run.outcomes["franchisor_failed_month"]
    assert failed.max() <= 2
    assert (failed > 0).any()
    from franchise_sim import load_results

    again = load_results(run.save(tmp_path / "saved", figures=False))
    np.testing.assert_array_equal(again.outcomes["franchisor_failed_month"], failed)


def test_a_brand_shock_in_one_replication_lends_the_brand_as_the_batch_does(
    auto_repair: Scenario,
) -> None:
    """The one-replication path of a brand shock sets the same bits as the array path."""
    _, business, franchisor, _ = _world(auto_repair)
    franchisor._awareness_drop[0] = 0.37
    franchisor._satisfaction_drop[0] = 0.11
    franchisor._brand_fade[0] = 0.8137
    targets = (
        business.innovation_boosts["brand"],
        business.innovation_boosts["ad_fund"],
        business.satisfaction_factors["brand"],
    )
    for shocks in range(4):
        franchisor._shocks_on[0] = shocks
        franchisor._lend_brand(np.array([0], dtype=np.intp))
        by_array = [t.copy() for t in targets]
        for t in targets:
            t[:] = np.nan
        franchisor._lend_brand_in(0)
        for kept, now in zip(by_array, targets, strict=True):
            assert now.tobytes() == kept.tobytes(), shocks
