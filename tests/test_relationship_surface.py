"""The surface relationships act through: each hook does what it says, and a neutral one nothing.

Each test composes the shipped model with a small relationship defined here that uses one hook
of `Business` (referred customers, other sales, capacity, the owner's persistence and time, its
own columns) on the independent arm, and compares the books with the model without it over the
same seed: common random numbers make every difference the hook's.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pytest
import simpy
from numpy.typing import NDArray

from franchise_sim import SimulationResults, simulate
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS, monthly_columns
from franchise_sim.model.books import MONTH_TAIL
from franchise_sim.model.business import Business, Index, overstretch_factor
from franchise_sim.model.calendar import Calendar, Phase
from franchise_sim.model.relationships.relationship import (
    ArmTerms,
    Relationship,
    recorded_columns,
)
from franchise_sim.model.streams import BatchStreams
from franchise_sim.scenario.distributions import mean_of
from franchise_sim.scenario.schema import Scenario
from tests.books import assert_books_balance
from tests.conftest import Variant

RUNS, MONTHS, SEED = 40, 18, 11


class Hook:
    """Sets one hook of the independent's business before each month's trade."""

    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        act: Callable[[Business, Index], None],
    ) -> None:
        self.calendar = calendar
        self.business = business
        self.act = act
        env.process(self.each_month())

    def each_month(self) -> Generator[simpy.Event, Any, None]:
        """In every month's opening phase, act on the replications still open."""
        while self.business.is_open.any():
            yield self.calendar.next(Phase.OPEN)
            self.act(self.business, np.flatnonzero(self.business.is_open))

    def counter(self, name: str) -> NDArray[np.float64]:
        """No counters."""
        raise KeyError(name)


REFERRED = 3.0
SALES_USD = 1_000.0


def _refer(business: Business, o: Index) -> None:
    business.refer("toy_referred", o, np.full(o.size, REFERRED), np.full(o.size, 1.0))


def _sell(business: Business, o: Index) -> None:
    business.other_sales_usd.setdefault("toy", np.zeros(business.size))[o] = SALES_USD
    business.record("toy_sales", o, SALES_USD)


def _halve_capacity(business: Business, o: Index) -> None:
    business.capacity_factors.setdefault("toy", np.ones(business.size))[o] = 0.5


def _neutral(business: Business, o: Index) -> None:
    business.capacity_factors.setdefault("toy", np.ones(business.size))
    business.persistence_factors.setdefault("toy", np.ones(business.size))
    business.other_sales_usd.setdefault("toy", np.zeros(business.size))
    business.innovation_boosts.setdefault("toy", np.zeros(business.size))
    business.satisfaction_factors.setdefault("toy", np.ones(business.size))
    business.variable_cost_factors.setdefault("toy", np.ones(business.size))


def _steady(business: Business, o: Index) -> None:
    business.persistence_factors.setdefault("toy", np.ones(business.size))[o] = 3.0


def _ask_hours(hours: float) -> Callable[[Business, Index], None]:
    def ask(business: Business, o: Index) -> None:
        business.owner_hours.setdefault("toy", np.zeros(business.size))[o] = hours

    return ask


ACTS: dict[str, Callable[[Business, Index], None]] = {
    "refer": _refer,
    "sell": _sell,
    "halve_capacity": _halve_capacity,
    "neutral": _neutral,
    "steady": _steady,
    "ask_10_hours": _ask_hours(10.0),
    "ask_80_hours": _ask_hours(80.0),
}


def _on_independent(
    env: simpy.Environment, calendar: Calendar, business: Business, kind: str
) -> Hook | None:
    if business.arm != "independent":
        return None
    return Hook(env, calendar, business, ACTS[kind])


def _make_attach(kind: str) -> Callable[..., Hook | None]:
    def attach(
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        streams: BatchStreams,
        terms: ArmTerms,
    ) -> Hook | None:
        return _on_independent(env, calendar, business, kind)

    return attach


def _with(kind: str, columns: tuple[str, ...] = ()) -> tuple[Relationship, ...]:
    toy = Relationship(f"toy_{kind}", (), (), _make_attach(kind), columns)
    return (*DEFAULT_RELATIONSHIPS, toy)


def _run(scenario: Scenario, kind: str | None, columns: tuple[str, ...] = ()) -> SimulationResults:
    relationships = DEFAULT_RELATIONSHIPS if kind is None else _with(kind, columns)
    return simulate(
        scenario,
        runs=RUNS,
        seed=SEED,
        workers=1,
        horizon_months=MONTHS,
        relationships=relationships,
    )


def _shared(
    before: SimulationResults, after: SimulationResults, column: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return before.series(column), after.series(column)


def test_overstretch_costs_nothing_within_the_spare_hours_and_falls_linearly_beyond() -> None:
    spare = np.array([40.0, 40.0, 40.0, 40.0, 0.0, 0.0])
    hours = np.array([0.0, 40.0, 60.0, 80.0, 0.0, 5.0])
    drop = np.full(6, 0.1)
    # 60 h is half the spare hours over: 0.1 * 0.5; 80 h twice them: 0.1; none spare: all lost.
    np.testing.assert_array_equal(
        overstretch_factor(hours, spare, drop), [1.0, 1.0, 1.0 - 0.05, 0.9, 1.0, 0.0]
    )
    assert overstretch_factor(np.array([400.0]), np.array([40.0]), np.array([0.5]))[0] == 0.0


def test_a_recorded_column_follows_the_tail_of_the_books(auto_repair: Scenario) -> None:
    relationships = _with("sell", ("toy_sales",))
    columns, recorded = monthly_columns(relationships), recorded_columns(relationships)
    assert columns[-1] == "toy_sales"
    assert columns[-len(recorded) :] == recorded
    assert columns[-len(recorded) - len(MONTH_TAIL) : -len(recorded)] == MONTH_TAIL


def test_neutral_hooks_change_no_number(auto_repair: Scenario) -> None:
    before, after = _run(auto_repair, None), _run(auto_repair, "neutral")
    np.testing.assert_array_equal(before.trajectories, after.trajectories)
    np.testing.assert_array_equal(before.outcomes["npv"], after.outcomes["npv"])


def test_referred_customers_join_and_are_recorded(auto_repair: Scenario) -> None:
    before = _run(auto_repair, None)
    after = _run(auto_repair, "refer", ("toy_referred",))
    i = after.arm_index("independent")
    referred = after.series("toy_referred")[i]
    # In month one the market has room for all of them: each month's 3 loyal and 1 casual.
    np.testing.assert_array_equal(referred[:, 0], REFERRED + 1.0)
    new_before, new_after = _shared(before, after, "new_customers")
    np.testing.assert_array_equal(new_after[i, :, 0], new_before[i, :, 0] + REFERRED + 1.0)
    customers_before, customers_after = _shared(before, after, "customers")
    both_open = (before.series("alive")[i, :, -1] > 0) & (after.series("alive")[i, :, -1] > 0)
    assert both_open.sum() > RUNS / 2
    assert (customers_after[i, both_open, -1] > customers_before[i, both_open, -1]).all()
    franchise = after.arm_index("franchise")
    np.testing.assert_array_equal(after.series("toy_referred")[franchise], 0.0)
    np.testing.assert_array_equal(before.series("cash")[franchise], after.series("cash")[franchise])
    assert_books_balance(after, opening=False)


def test_referred_customers_stop_at_the_market_s_room(variant: Variant) -> None:
    small = variant({"market.households": 300, "market.addressable_share": 0.1})
    results = _run(small, "refer", ("toy_referred",))
    i = results.arm_index("independent")
    market = results.scenario.market
    potential = mean_of(market.households) * mean_of(market.addressable_share)
    assert (results.series("customers")[i] <= potential + 1e-9).all()
    assert results.series("toy_referred")[i].sum(axis=1).max() <= potential


def test_other_sales_add_to_revenue_and_pay_variable_costs(auto_repair: Scenario) -> None:
    before = _run(auto_repair, None)
    after = _run(auto_repair, "sell", ("toy_sales",))
    i = after.arm_index("independent")
    np.testing.assert_array_equal(
        after.series("toy_sales")[i][after.series("alive")[i] > 0], SALES_USD
    )
    revenue_before, revenue_after = _shared(before, after, "revenue")
    np.testing.assert_allclose(revenue_after[i, :, 0], revenue_before[i, :, 0] + SALES_USD)
    rate = mean_of(auto_repair.arm("independent").operations.variable_cost_rate)
    variable_before, variable_after = _shared(before, after, "variable_costs")
    np.testing.assert_allclose(variable_after[i, :, 0], variable_before[i, :, 0] + SALES_USD * rate)
    assert_books_balance(after, opening=False)


def test_less_capacity_serves_fewer_visits(auto_repair: Scenario) -> None:
    before, after = _run(auto_repair, None), _run(auto_repair, "halve_capacity")
    i = after.arm_index("independent")
    capacity = mean_of(auto_repair.arm("independent").operations.capacity_visits_per_month)
    assert (after.series("visits_served")[i] <= capacity / 2 + 1e-9).all()
    served_before, served_after = _shared(before, after, "visits_served")
    assert served_after[i].sum() < served_before[i].sum()


def test_a_steadier_owner_gives_up_less_often(variant: Variant) -> None:
    hard = variant({"owner.patience_months": 2, "owner.living_share_of_draw": 1.0})
    before, after = _run(hard, None), _run(hard, "steady")
    i = after.arm_index("independent")
    gave_up_before = (before.closure_reasons[i] == "gave_up").sum()
    gave_up_after = (after.closure_reasons[i] == "gave_up").sum()
    assert gave_up_before > 0
    assert gave_up_after < gave_up_before


@pytest.mark.parametrize(("kind", "changed"), [("ask_10_hours", False), ("ask_80_hours", True)])
def test_the_owner_s_time_costs_quality_only_beyond_the_spare_hours(
    auto_repair: Scenario, kind: str, changed: bool
) -> None:
    before, after = _run(auto_repair, None), _run(auto_repair, kind)
    i = after.arm_index("independent")
    satisfaction_before, satisfaction_after = _shared(before, after, "satisfaction")
    if not changed:
        np.testing.assert_array_equal(before.trajectories, after.trajectories)
        return
    owner = auto_repair.arm("independent").owner
    factor = 1.0 - owner.overstretch_quality_drop * (80.0 - owner.spare_hours_per_month) / (
        owner.spare_hours_per_month
    )
    np.testing.assert_allclose(satisfaction_after[i, :, 0], satisfaction_before[i, :, 0] * factor)
    assert satisfaction_after[i].mean() < satisfaction_before[i].mean()
