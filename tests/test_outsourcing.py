"""The 24-hour answering line: what it captures, what it costs, how its provider fails.

Arms holding an ``outsourcing`` section are added to the test base (auto repair before model
v2) beside its independent; common random numbers make an arm's difference from the independent
(or from another line) the line's own.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from pydantic import ValidationError

from franchise_sim import SimulationResults, simulate
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS, all_cost_lines, monthly_columns
from franchise_sim.model.relationships.franchise import FRANCHISE
from franchise_sim.model.relationships.outsourcing import (
    OUTSOURCING,
    answering_fee_usd,
    failure_hazard_per_month,
)
from franchise_sim.scenario.schema import Scenario
from tests.books import assert_books_balance

RUNS, MONTHS, SEED = 120, 36, 11


def with_arms(data: dict[str, Any], arms: dict[str, dict[str, Any]]) -> Scenario:
    """The test base with these independent arms added, each with its ``outsourcing`` section."""
    data = copy.deepcopy(data)
    for name, section in arms.items():
        data["arms"][name] = {"label": name, "outsourcing": section}
    return Scenario.model_validate(data)


def traded(results: SimulationResults, arm: str) -> NDArray[np.bool_]:
    """Where an arm's business traded (it was open at the start of the month), by month."""
    alive = results.series("alive")[results.arm_index(arm)] > 0.5
    return np.concatenate((np.ones_like(alive[:, :1]), alive[:, :-1]), axis=1)


def counter(results: SimulationResults, arm: str, name: str) -> NDArray[np.float64]:
    """A counter of the results summary for one arm, by replication (an empty month: 0)."""
    table = results.summary
    values = table[table["arm"] == arm][name].astype(float).fillna(0.0)
    return np.asarray(values.to_numpy(dtype=float), dtype=float)


def run(scenario: Scenario, **kwargs: Any) -> SimulationResults:
    """A small run of the scenario (kwargs override the runs, seed, horizon and workers)."""
    settings: dict[str, Any] = {
        "runs": RUNS,
        "seed": SEED,
        "horizon_months": MONTHS,
        "workers": 1,
    }
    return simulate(scenario, **(settings | kwargs))


NO_FAILURE = {"provider": {"failure_rate_per_year": 0.0}}
LONG_CALLS = {"minutes_per_call": 12.0, "provider": {"failure_rate_per_year": 0.0}}


# -- the price plan and the hazard, by hand -------------------------------------------------------
def test_the_plan_bills_its_fee_and_the_minutes_beyond_the_included() -> None:
    fee = answering_fee_usd(np.array([0.0, 100.0, 250.0, 250.5, 300.0, 1000.0]), 600.0, 250.0, 2.0)
    np.testing.assert_array_equal(fee, [600.0, 600.0, 600.0, 601.0, 700.0, 2100.0])
    assert float(answering_fee_usd(130.0, 350.0, 125.0, 1.75)) == 358.75
    assert float(answering_fee_usd(0.0, 0.0, 0.0, 2.5)) == 0.0


def test_the_monthly_hazard_of_a_yearly_chance_and_what_vetting_takes_off() -> None:
    rates = np.array([0.0, 0.12, 0.5, 1.0])
    hazard = failure_hazard_per_month(rates)
    assert hazard[0] == 0.0
    assert hazard[1] == -math.log1p(-0.12) / 12.0
    assert hazard[2] == math.log(2.0) / 12.0
    assert hazard[3] == -math.log1p(-(1 - 1e-12)) / 12.0  # a certain failure: capped
    # twelve months at the hazard leave the yearly chance of surviving
    assert math.isclose(math.exp(-12 * hazard[1]), 0.88, rel_tol=1e-12)
    vetted = failure_hazard_per_month(rates, 0.5)
    assert vetted[2] == -math.log1p(-0.25) / 12.0
    assert (vetted <= hazard).all()


# -- what the line captures and what it costs -----------------------------------------------------
@pytest.fixture(scope="module")
def lines(auto_repair_data: dict[str, Any]) -> SimulationResults:
    """The independent beside an outsourced line that never fails, long calls and in-house."""
    scenario = with_arms(
        auto_repair_data,
        {"line": NO_FAILURE, "long_calls": LONG_CALLS, "in_house": {"mode": "in_house"}},
    )
    return run(scenario)


def test_the_line_captures_calls_and_customers_the_independent_misses(
    lines: SimulationResults,
) -> None:
    s = lines.series
    independent, line = lines.arm_index("independent"), lines.arm_index("line")
    captured, won = s("captured_calls"), s("call_customers")
    assert not captured[independent].any()
    assert not won[independent].any()
    open_ = s("alive")[line] > 0.5
    assert captured[line][open_].sum() > 0
    assert won[line].sum() > 0
    assert (won[line] <= captured[line]).all()
    # Month one starts from the same state: the line's new customers are the independent's
    # (the same uniforms) plus those its captured calls brought.
    new = s("new_customers")
    np.testing.assert_array_equal(new[line, :, 0], new[independent, :, 0] + won[line, :, 0])
    # Where both are still open (the fee closes some lines sooner), the line has more customers.
    both = (s("alive")[line, :, -1] > 0.5) & (s("alive")[independent, :, -1] > 0.5)
    customers = s("customers")[:, both, -1]
    assert customers[line].mean() > customers[independent].mean()


def test_the_fee_on_its_cost_line_is_the_price_plan_of_the_answered_minutes(
    lines: SimulationResults,
) -> None:
    s = lines.series
    for arm, minutes_per_call in (("line", 3.0), ("long_calls", 12.0)):
        a = lines.arm_index(arm)
        open_ = traded(lines, arm)
        fee = s("answering_service")[a]
        expected = answering_fee_usd(s("captured_calls")[a] * minutes_per_call, 600.0, 250.0, 2.0)
        np.testing.assert_array_equal(fee[open_], expected[open_])
        assert not fee[~open_].any()
        assert not s("answering_staff")[a].any()
        assert not s("provider_vetting")[a].any()
    long_calls = lines.arm_index("long_calls")
    assert (s("answering_service")[long_calls] > 600.0).any()  # overage is billed


def test_the_in_house_line_charges_its_staff_and_no_fee(lines: SimulationResults) -> None:
    s = lines.series
    a = lines.arm_index("in_house")
    open_ = traded(lines, "in_house")
    np.testing.assert_array_equal(s("answering_staff")[a][open_], 3000.0)
    assert not s("answering_staff")[a][~open_].any()
    assert not s("answering_service")[a].any()
    assert not s("provider_vetting")[a].any()
    assert s("captured_calls")[a].sum() > 0
    assert not counter(lines, "in_house", "provider_failures").any()
    in_house = lines.summary[lines.summary["arm"] == "in_house"]
    assert in_house["provider_failed_month"].isna().all()  # a month column: empty, never


def test_the_books_balance_with_every_kind_of_line(lines: SimulationResults) -> None:
    assert_books_balance(lines)
    assert set(OUTSOURCING.cost_lines) <= set(lines.monthly_columns)
    assert set(OUTSOURCING.columns) <= set(lines.monthly_columns)
    assert set(OUTSOURCING.counters) <= set(lines.summary.columns)


# -- a provider that fails ------------------------------------------------------------------------
def test_a_failed_provider_answers_nothing_and_bills_nothing(
    auto_repair_data: dict[str, Any],
) -> None:
    doomed = {"provider": {"failure_rate_per_year": 0.9, "recontract_months": None}}
    results = run(with_arms(auto_repair_data, {"doomed": doomed}))
    s = results.series
    a = results.arm_index("doomed")
    failed = counter(results, "doomed", "provider_failed_month").astype(int)
    assert (failed > 0).mean() > 0.9  # the chosen hazard fails nearly every provider early
    captured, fee = s("captured_calls")[a], s("answering_service")[a]
    open_ = traded(results, "doomed")
    for r in np.flatnonzero(failed):
        f = failed[r]
        assert not captured[r, f - 1 :].any()
        assert not fee[r, f - 1 :].any()
        assert (fee[r, : f - 1][open_[r, : f - 1]] >= 600.0).all()
    assert_books_balance(results)


def test_a_new_provider_answers_after_the_months_it_takes_to_recontract(
    auto_repair_data: dict[str, Any],
) -> None:
    wait = 3
    section = {"provider": {"failure_rate_per_year": 0.5, "recontract_months": wait}}
    results = run(with_arms(auto_repair_data, {"line": section}))
    s = results.series
    a = results.arm_index("line")
    failed = counter(results, "line", "provider_failed_month").astype(int)
    once = counter(results, "line", "provider_failures") == 1
    fee, alive = s("answering_service")[a], traded(results, "line")
    checked = 0
    for r in np.flatnonzero(once & (failed > 0) & (failed + wait <= MONTHS)):
        f = failed[r]
        assert not fee[r, f - 1 : f - 1 + wait].any()  # dark from the failure month on
        if alive[r, f - 1 + wait]:
            assert fee[r, f - 1 + wait] >= 600.0  # the new provider bills again
            checked += 1
    assert checked > 5


def test_vetting_lowers_the_rate_of_provider_failures(auto_repair_data: dict[str, Any]) -> None:
    vetting = {"cost_usd": 500.0, "owner_hours": 8.0, "failure_reduction_share": 0.5}
    arms: dict[str, dict[str, Any]] = {
        "unvetted": {"provider": {"failure_rate_per_year": 0.3}},
        "vetted": {"provider": {"failure_rate_per_year": 0.3, "vetting": vetting}},
    }
    results = run(with_arms(auto_repair_data, arms), runs=200)
    unvetted, vetted = (counter(results, a, "provider_failures") for a in arms)
    assert vetted.sum() < 0.75 * unvetted.sum()
    # The same uniforms: each first provider fails no sooner when vetted.
    first = [counter(results, a, "provider_failed_month").astype(int) for a in arms]
    both = (first[0] > 0) & (first[1] > 0)
    assert both.sum() > 10
    assert (first[1][both] >= first[0][both]).all()
    # Vetting is charged in each provider's first month, and only then.
    s = results.series
    v = results.arm_index("vetted")
    cost = s("provider_vetting")[v]
    assert (cost[:, 0] == 500.0).all()
    assert set(np.unique(cost)) <= {0.0, 500.0}
    assert (cost > 0).sum(axis=1).max() <= vetted.max() + 1
    assert not s("provider_vetting")[results.arm_index("unvetted")].any()


# -- switched off, workers, the plan on paper -----------------------------------------------------
def test_switched_off_the_other_arms_keep_the_books_of_the_model_without_it(
    auto_repair_data: dict[str, Any],
) -> None:
    scenario = with_arms(auto_repair_data, {"line": {}})
    with_line = run(scenario, runs=60)
    without = run(scenario, runs=60, relationships=(FRANCHISE,))
    shared = [c for c in monthly_columns((FRANCHISE,))]
    columns = list(with_line.monthly_columns)
    kept = [columns.index(c) for c in shared]
    for arm in ("independent", "franchise"):
        a = with_line.arm_index(arm)
        np.testing.assert_array_equal(with_line.trajectories[a][..., kept], without.trajectories[a])
        added = [columns.index(c) for c in columns if c not in shared]
        assert not with_line.trajectories[a][..., added].any()
    # without the relationship the line's arm is just another independent
    line = with_line.arm_index("line")
    np.testing.assert_array_equal(
        without.trajectories[line], without.trajectories[without.arm_index("independent")]
    )
    assert monthly_columns((FRANCHISE, OUTSOURCING)) == tuple(columns)  # the ones held
    assert len(columns) < len(monthly_columns(DEFAULT_RELATIONSHIPS))
    lines = all_cost_lines()
    start = lines.index(OUTSOURCING.cost_lines[0])
    assert lines[start : start + len(OUTSOURCING.cost_lines)] == OUTSOURCING.cost_lines


def test_one_and_two_workers_give_the_same_results(auto_repair_data: dict[str, Any]) -> None:
    section = {"provider": {"failure_rate_per_year": 0.3, "vetting": {}}}
    scenario = with_arms(auto_repair_data, {"line": section, "in_house": {"mode": "in_house"}})
    one = run(scenario, runs=40, horizon_months=24)
    two = run(scenario, runs=40, horizon_months=24, workers=2)
    np.testing.assert_array_equal(one.trajectories, two.trajectories)
    assert one.summary.equals(two.summary)


def test_the_plan_on_paper_answers_at_the_means_and_never_fails(
    auto_repair_data: dict[str, Any],
) -> None:
    section = {"provider": {"failure_rate_per_year": 0.9}}
    results = run(with_arms(auto_repair_data, {"line": section}), deterministic=True)
    s = results.series
    a, independent = results.arm_index("line"), results.arm_index("independent")
    assert (results.summary["provider_failures"] == 0).all()
    won = s("call_customers")[a, 0]
    assert (won > 0).all()
    assert (won != np.round(won)).any()
    new = s("new_customers")
    np.testing.assert_allclose(new[a, 0, 0], new[independent, 0, 0] + won[0], rtol=1e-12)
    assert_books_balance(results)


# -- the section ----------------------------------------------------------------------------------
def test_the_section_refuses_what_it_could_not_mean_and_fills_in_its_modes_part(
    auto_repair_data: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError, match="late_callback_conversion_share"):
        with_arms(
            auto_repair_data,
            {"line": {"lead_conversion_share": 0.2, "late_callback_conversion_share": 0.3}},
        )
    with pytest.raises(ValidationError, match="extra"):
        with_arms(auto_repair_data, {"line": {"provider": {"quality": 0.9}}})
    scenario = with_arms(
        auto_repair_data,
        {"line": {"provider": {"answered_share": {"dist": "beta", "a": 17, "b": 3}}}},
    )
    with pytest.raises(ValidationError, match="provider is given but mode is in_house"):
        with_arms(auto_repair_data, {"line": {"mode": "in_house", "provider": {}}})
    in_house = with_arms(auto_repair_data, {"line": {"mode": "in_house"}}).arm("line")
    assert in_house.outsourcing is not None
    assert in_house.outsourcing.provider is None
    assert in_house.outsourcing.in_house is not None  # its defaults
    assert in_house.outsourcing.in_house.staff_usd_per_month == 3000.0
    terms = scenario.arm("line").outsourcing
    assert terms is not None
    assert terms.mode == "outsourced"
    assert terms.in_house is None
    assert terms.provider is not None
    assert terms.provider.included_minutes == 250.0
    assert scenario.arm("independent").outsourcing is None
