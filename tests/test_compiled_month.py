"""The compiled month of customer flows gives the numpy code's numbers, or leaves it to numpy."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import simpy

from franchise_sim import load_scenario
from franchise_sim.engine.batch import all_cost_lines, plans_on_paper, run_batch
from franchise_sim.model.books import GAVE_UP, INSOLVENT, OWNER_EXIT, UNIFORMS_PER_MONTH
from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar
from franchise_sim.model.market import Market
from franchise_sim.model.plan import plan_replication
from franchise_sim.model.streams import CountQuantiles
from tests.conftest import ROOT

pytest.importorskip("numba")

HORIZON = 12
STATE = ("loyal", "casual", "lapsed", "_retained", "_advertising_p")
"""The arrays the month changes."""


def _business(
    name: str, n: int, counts: CountQuantiles, seed: int, winback: bool = True
) -> Business:
    """An independent's unit in ``n`` replications of a shipped scenario, in a random state.

    The same ``seed`` gives the same plans, uniforms and state: two of them differ only in
    ``counts``. Without ``winback``, lapsed customers never come back (no winback share). The
    state spans what a month meets: no customers, a full market, an empty one,
    satisfaction below zero and above one, a signed zero, a share of lapsed customers.
    """
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    units = [
        plan_replication(scenario, seed=1, replication=r, horizon_months=HORIZON).units[0]
        for r in range(n)
    ]
    env = simpy.Environment()
    calendar = Calendar(env, HORIZON)
    plans = [plan_replication(scenario, seed=1, replication=0, horizon_months=HORIZON).market] * n
    market = Market(env, calendar, plans, np.zeros(n, dtype=np.int64), np.zeros(n))
    rng = np.random.default_rng(seed)
    uniforms = rng.random((n, HORIZON, UNIFORMS_PER_MONTH))
    assert units[0].lapsed_winback_share is not None
    winback_u = rng.random((n, HORIZON)) if winback else None
    business = Business(
        env,
        calendar,
        market,
        units,
        uniforms,
        winback_u,
        all_cost_lines(),
        noisy=True,
        counts=counts,
    )
    potential = market.potential_customers
    potential[:] = rng.choice([0.0, 50.0, 800.0, 5000.0, 2e5], n) * rng.random(n)
    business.loyal[:] = np.floor(potential * rng.random(n) * rng.choice([0.0, 0.5, 1.2], n))
    business.casual[:] = np.floor(potential * rng.random(n) * 0.5)
    business.lapsed[:] = np.floor(potential * rng.random(n) * rng.choice([0.0, 0.3], n))
    business._advertising_p[:] = rng.random(n) * 0.01
    business._last_marketing_usd[:] = rng.choice([0.0, 500.0, 3000.0], n)
    market.economy_factor[:] = rng.choice([1.0, 0.9], n)
    market.season_factor = 1.1
    business.innovation_boosts["partner"] = rng.choice([0.0, 0.002], n)
    if not winback:
        business.winback = None
    return business


def _counts(way: str) -> CountQuantiles:
    """The compiled count kernels, with the month compiled too ("compiled") or in numpy."""
    counts = CountQuantiles(compiled=True)
    if way == "numpy":
        counts.month = None  # the same count kernels, the month in numpy
    return counts


def _satisfaction(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    satisfaction = rng.uniform(-0.2, 1.3, n)
    satisfaction[::7] = -0.0
    satisfaction[1::11] = 0.0
    satisfaction[2::13] = 1.0
    return satisfaction


def _month(business: Business, o: np.ndarray, satisfaction: np.ndarray, month: int) -> Any:
    u = business._uniforms[o, month - 1]
    return business._win_and_lose_customers(o, u, satisfaction[o], month)


@pytest.mark.parametrize("name", ["auto_repair", "home_cleaning"])
@pytest.mark.parametrize("winback", [True, False])
@pytest.mark.parametrize("seed", [3, 4])
def test_the_compiled_month_gives_the_numpy_months_numbers_to_the_bit(
    name: str, winback: bool, seed: int
) -> None:
    n = 600
    compiled = CountQuantiles(compiled=True)
    assert compiled.month is not None
    kernel = compiled.month.win_and_lose
    taken: list[bool] = []

    def counted(*args: Any) -> Any:
        done = kernel(*args)
        taken.append(done is not None)
        return done

    compiled.month = SimpleNamespace(win_and_lose=counted)
    numpy_month = _counts("numpy")
    fast = _business(name, n, compiled, seed, winback)
    plain = _business(name, n, numpy_month, seed, winback)
    satisfaction = _satisfaction(n, seed)
    o = np.flatnonzero(np.random.default_rng(seed).random(n) < 0.8)
    for month in range(1, 4):  # the state a month leaves is the next one's
        got = _month(fast, o, satisfaction, month)
        want = _month(plain, o, satisfaction, month)
        for a, b in zip(got, want, strict=True):
            assert a.tobytes() == b.tobytes()
        for name_ in STATE:
            assert getattr(fast, name_).tobytes() == getattr(plain, name_).tobytes(), name_
    assert taken == [True, True, True]  # the kernels took every month, none left to numpy


def test_a_month_the_kernels_cannot_take_is_left_to_numpy_unchanged() -> None:
    n = 50
    compiled = CountQuantiles(compiled=True)
    assert compiled.month is not None
    kernel = compiled.month.win_and_lose
    business = _business("auto_repair", n, compiled, 9)
    o = np.arange(n)
    satisfaction = _satisfaction(n, 9)
    before = {name: getattr(business, name).copy() for name in STATE}
    u = business._uniforms[o, 0]
    assert business._winback_uniforms is not None
    winback_u = business._winback_uniforms[o, 0]

    def month() -> Any:
        arrays = business._customer_arrays()
        return kernel(o, u, winback_u, satisfaction, np.zeros(n), arrays, business.market, 0.5)

    def unchanged() -> bool:
        return all(getattr(business, k).tobytes() == v.tobytes() for k, v in before.items())

    satisfaction[5] = np.nan
    assert month() is None
    assert unchanged()
    satisfaction[5] = 0.5
    business._loyal_hazard[3] = 1e6  # an exponential beyond the compiled range
    assert month() is None
    assert unchanged()
    business._loyal_hazard[3] = 0.01
    assert month() is not None
    assert not unchanged()


def test_a_count_the_numpy_code_refuses_is_refused_through_the_compiled_month() -> None:
    n = 10
    business = _business("auto_repair", n, CountQuantiles(compiled=True), 2)
    business.market.potential_customers[:] = 1e15
    business.casual[:] = 1e15  # casual departures with a mean beyond what can be drawn
    with pytest.raises(ValueError, match="beyond what the simulation can draw"):
        _month(business, np.arange(n), np.full(n, 0.5), 1)


@pytest.mark.parametrize("closed", [0, 7])
def test_the_compiled_books_of_a_month_are_the_numpy_ones(closed: int) -> None:
    n = 40
    books: dict[str, list[np.ndarray]] = {}
    for way in ("compiled", "numpy"):
        business = _business("auto_repair", n, _counts(way), 5)
        rng = np.random.default_rng(11)
        for month in (1, 2):  # the second month starts from the first's cash
            business._flows[:] = rng.normal(0.0, 5000.0, business._flows.shape)
            business._costs[:] = rng.exponential(800.0, business._costs.shape)
            business._counts[:] = np.floor(rng.exponential(300.0, business._counts.shape))
            business.loan_balance[:] = rng.exponential(1e5, n)
            business.satisfaction[:] = rng.random(n)
            business.is_open[rng.random(n) < 0.1] = False
            o = np.arange(closed, n)  # the first ``closed`` closed before this month
            business.report(o, month)
        assert not business._flows.any()
        assert not business._costs.any()
        books[way] = [business.records, business.cash, business.month_start_cash]
        books[way].append(business.months_reported.astype(float))
    for got, want in zip(books["compiled"], books["numpy"], strict=True):
        assert got.tobytes() == want.tobytes()
    assert not books["compiled"][0][:closed].any()  # no books after a business's last month
    assert books["compiled"][0][closed:, :2].any()


@pytest.mark.parametrize(
    "path",
    [
        ROOT / "scenarios" / "fitness_studio.yaml",
        ROOT / "tests" / "data" / "auto_repair_before_v2.yaml",
    ],
    ids=["owner reviews", "patience rule"],
)
def test_a_batch_closes_its_books_the_same_compiled_or_not(path: Any) -> None:
    scenario = load_scenario(path)
    paper = plans_on_paper(scenario, 3, 60)
    batches = [
        run_batch(scenario, 3, range(300), 60, False, paper, counts=_counts(way))
        for way in ("compiled", "numpy")
    ]
    assert batches[0].monthly.tobytes() == batches[1].monthly.tobytes()
    assert batches[0].closure_reasons == batches[1].closure_reasons
    reasons = {reason for arms in batches[0].closure_reasons for reason in arms}
    assert {INSOLVENT, GAVE_UP, OWNER_EXIT} <= reasons  # every way the close can end a business


@pytest.mark.parametrize("partners", [False, True])
@pytest.mark.parametrize("learning", ["visits", "months", "visits, far along"])
def test_a_compiled_trade_is_the_numpy_one(partners: bool, learning: str) -> None:
    n = 300
    businesses = []
    for way in ("compiled", "numpy"):
        business = _business("auto_repair", n, _counts(way), 8)
        rng = np.random.default_rng(21)
        business.vacancies[:] = rng.choice([0, 0, 1, 2], n)
        business.vacancy_quality_drop[:] = rng.random(n) * 0.2
        business.capacity_lost_share[:] = rng.choice([0.0, 0.3], n)
        business._overload_share[:] = rng.choice([0.0, 0.1], n)
        business._capacity[:] = rng.choice([50.0, 400.0, 1e5], n)  # some months over capacity
        business.visits_served_to_date[:] = rng.exponential(2000.0, n)
        if learning == "months":
            business.learning_visits = None
        elif learning == "visits, far along":  # an exponential beyond the compiled range
            business.visits_served_to_date[::50] = 1e9
        if partners:
            for name in ("a", "b"):
                business.satisfaction_factors[name] = 1.0 + 0.1 * rng.random(n)
                business.capacity_factors[name] = 1.0 + 0.2 * rng.random(n)
                business.other_sales_usd[name] = 100.0 * rng.random(n)
        businesses.append(business)
    o = np.flatnonzero(np.random.default_rng(2).random(n) < 0.9)
    for month in (1, 2, 3):
        for business in businesses:
            business.trade(o, month)
        fast, plain = businesses
        for name in (*STATE, "satisfaction", "_flows", "_counts", "_overload_share"):
            assert getattr(fast, name).tobytes() == getattr(plain, name).tobytes(), name
        for name in ("visits_served_to_date", "capacity_lost_share"):
            assert getattr(fast, name).tobytes() == getattr(plain, name).tobytes(), name
    assert (fast._counts[3] > fast._counts[4]).any()  # some visits turned away
