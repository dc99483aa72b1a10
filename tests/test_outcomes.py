"""Per-business outcomes from the monthly books: hand cases and brute-force definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from franchise_sim.engine import outcomes
from franchise_sim.model.money import npv


def _month(value: float) -> int | None:
    return None if math.isnan(value) else int(value)


@pytest.mark.parametrize(
    ("profits", "expected"),
    [
        ([-1.0, -2.0, 3.0, 4.0], 3),
        ([1.0, -1.0, 2.0], 3),
        ([1.0, 2.0], 1),
        ([0.0], 1),
        ([-1.0, 0.0, 0.0], 2),
        ([1.0, -1.0], None),
        ([-3.0], None),
    ],
)
def test_break_even_month_hand_cases(profits: list[float], expected: int | None) -> None:
    alive = np.ones((1, len(profits)))
    got = outcomes.break_even_month(np.array([profits]), alive)[0]
    assert _month(got) == expected


def test_break_even_ignores_the_months_after_closure() -> None:
    alive = np.array([[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]])  # closed at the end of month 4
    profitable_end = np.array([[-1.0, 2.0, 3.0, 1.0, 0.0, 0.0]])
    losing_end = np.array([[-1.0, 2.0, 3.0, -5.0, 0.0, 0.0]])
    assert outcomes.break_even_month(profitable_end, alive)[0] == 2
    assert math.isnan(outcomes.break_even_month(losing_end, alive)[0])
    assert outcomes.closed_month(alive)[0] == 4
    assert outcomes.last_operating_month(alive)[0] == 4


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-10.0, max_value=10.0), min_size=1, max_size=40))
def test_break_even_month_is_the_first_month_staying_non_negative(profits: list[float]) -> None:
    brute = next(
        (m for m in range(1, len(profits) + 1) if all(v >= 0 for v in profits[m - 1 :])),
        None,
    )
    got = outcomes.break_even_month(np.array([profits]), np.ones((1, len(profits))))[0]
    assert _month(got) == brute


@settings(max_examples=200, deadline=None)
@given(
    flows=st.lists(st.integers(min_value=-10, max_value=10), min_size=1, max_size=40),
    equity=st.integers(min_value=0, max_value=50),
)
def test_payback_month_is_the_first_month_the_owner_is_even(flows: list[int], equity: int) -> None:
    # Whole dollars keep every running total exact, so the brute force has no rounding ties.
    draws = np.array([[max(f, 0) for f in flows]], dtype=float)
    injections = np.array([[max(-f, 0) for f in flows]], dtype=float)
    cumulative = outcomes.owner_cash_flow(draws, injections, np.array([float(equity)]))
    running, brute = -equity, None
    for month, flow in enumerate(flows, start=1):
        running += flow
        if running >= 0:
            brute = month
            break
    assert _month(outcomes.payback_month(cumulative)[0]) == brute


def test_payback_hand_case() -> None:
    draws = np.array([[0.0, 3000.0, 3000.0, 3000.0, 3000.0]])
    injections = np.array([[2000.0, 0.0, 0.0, 0.0, 0.0]])
    cumulative = outcomes.owner_cash_flow(draws, injections, np.array([10000.0]))
    np.testing.assert_allclose(cumulative[0], [-12000, -9000, -6000, -3000, 0])
    assert outcomes.payback_month(cumulative)[0] == 5


def test_owner_npv_equals_discounting_the_owner_flows_by_hand() -> None:
    draws = np.array([[0.0, 1000.0, 1000.0, 1000.0]])
    injections = np.array([[500.0, 0.0, 0.0, 0.0]])
    equity = np.array([5000.0])
    terminal = np.array([8000.0])
    end = np.array([4.0])
    got = outcomes.owner_npv(draws, injections, equity, terminal, end, 0.12)[0]
    flows = [-5000.0, -500.0, 1000.0, 1000.0, 1000.0 + 8000.0]
    assert got == pytest.approx(npv(flows, 0.12), rel=1e-12)
    d = 1.12 ** (-1 / 12)
    by_hand = -5000 - 500 * d + 1000 * (d**2 + d**3) + 9000 * d**4
    assert got == pytest.approx(by_hand, rel=1e-12)


def test_trailing_year_profit_sums_the_last_twelve_operating_months() -> None:
    profit = np.arange(1.0, 25.0)[None, :]  # months 1..24 earn 1..24
    assert outcomes.trailing_year_profit(profit, np.array([24.0]))[0] == sum(range(13, 25))
    assert outcomes.trailing_year_profit(profit, np.array([5.0]))[0] == sum(range(1, 6))


def test_first_profitable_break_even_and_payback_of_a_hand_built_series() -> None:
    # Operating profit by month: losses, two profitable months, one loss (month 5), then profit.
    profit = np.array([[-5.0, -2.0, 3.0, 4.0, -1.0, 6.0, 7.0]])
    alive = np.ones_like(profit)
    # The owner puts in 5 of equity and draws 2 a month from month 3.
    draws = np.array([[0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 2.0]])
    cumulative = outcomes.owner_cash_flow(draws, np.zeros_like(draws), np.array([5.0]))
    assert cumulative.tolist() == [[-5.0, -5.0, -3.0, -1.0, 1.0, 3.0, 5.0]]
    assert outcomes.first_profitable_month(profit, alive)[0] == 3
    assert outcomes.break_even_month(profit, alive)[0] == 6  # after the loss of month 5
    assert outcomes.payback_month(cumulative)[0] == 5  # before break-even


@pytest.mark.parametrize(
    ("profits", "alive", "expected"),
    [
        ([-1.0, 0.0, 2.0], [1, 1, 1], 3),  # zero is not a profit
        ([1.0, -4.0], [1, 1], 1),
        ([-1.0, -1.0, -1.0], [1, 1, 1], None),
        ([-1.0, -1.0, 0.0, 3.0], [1, 1, 0, 0], None),  # month 4 is after the closure month 3
    ],
)
def test_first_profitable_month_hand_cases(
    profits: list[float], alive: list[int], expected: int | None
) -> None:
    got = outcomes.first_profitable_month(np.array([profits]), np.array([alive], dtype=float))
    assert _month(got[0]) == expected
