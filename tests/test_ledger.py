"""Deterministic mode: the monthly books equal a ledger computed by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from franchise_sim import simulate
from franchise_sim.scenario.schema import Scenario

CAPACITY = 200.0
SPEND = 100.0


def small_business() -> dict[str, Any]:
    """A business whose market is so large that capacity binds from the first month."""
    return {
        "name": "Hand-computed shop",
        "bls_sector": "total_private",
        "run": {"horizon_months": 6, "runs": 1, "seed": 1, "discount_rate_per_year": 0.0},
        "market": {"households": 100000, "addressable_share": 0.1, "local_taste_gap": 0.3},
        "customers": {
            "innovation_p_per_month": 0.5,
            "imitation_q_per_month": 0.2,
            "loyal_share": 0.5,
            "loyal_retention_per_year": 0.9,
            "casual_retention_per_year": 0.4,
            "visits_per_customer_per_month": 0.5,
            "spend_per_visit_usd": {"dist": "uniform", "low": 80, "high": 120},  # mean 100
        },
        "operations": {
            "capacity_visits_per_month": CAPACITY,
            "variable_cost_rate": 0.4,
            "payroll_usd_per_month": 5000,
            "rent_usd_per_month": 2000,
            "other_fixed_usd_per_month": 1000,
            "marketing_usd_per_month": 500,
            "marketing_p_per_1000usd": 0.0,
        },
        "concept": {"quality": 0.8, "starting_mismatch": 0.2},
        "investment": {
            "buildout_usd": 50000,
            "equipment_usd": 30000,
            "initial_inventory_usd": 10000,
            "working_capital_usd": 20000,
        },
        "financing": {
            "owner_equity_usd": 30000,
            "loan_rate_per_year": 0.12,
            "loan_term_months": 60,
        },
        "owner": {
            "draw_usd_per_month": 3000,
            "cash_floor_usd": 5000,
            "cash_ceiling_usd": 1_000_000,
            "reserve_usd": 0,
            "patience_months": 12,
        },
        "events": {
            "competitor_entry": {
                "rate_per_year": 1,
                "market_share_taken": 0.5,
                "customers_lost_share": 0.5,
            },
            "recession": {"rate_per_year": 1, "duration_months": 6, "demand_drop": 0.5},
            "equipment_breakdown": {
                "rate_per_year": 1,
                "repair_cost_usd": 5000,
                "capacity_lost_share": 0.5,
            },
            "key_staff_loss": {
                "rate_per_year": 1,
                "quality_drop": 0.5,
                "months_to_replace": 2,
                "recruiting_cost_usd": 1000,
            },
        },
        "arms": {
            "independent": {"label": "Independent"},
            "franchise": {
                "label": "Franchise",
                "franchise": {
                    "initial_fee_usd": 20000,
                    "royalty_rate": 0.06,
                    "ad_fund_rate": 0.02,
                    "fixed_fees_usd_per_month": 300,
                    "term_years": 0.25,  # three months: a renewal fee in month 3 and 6
                    "renewal_fee_usd": 700,
                    "local_marketing_min_rate": 0.03,
                    "brand_awareness_p_per_month": 0.01,
                    "ad_fund_p_per_month": 0.01,
                    "purchasing_discount_rate": 0.05,
                    "customization_limit": 0.1,
                    "template": {"quality": 0.9},
                    "franchisor": {
                        "failure_rate_per_year": 0.5,
                        "brand_shock_rate_per_year": 1,
                        "brand_shock_awareness_drop": 0.5,
                        "brand_shock_satisfaction_drop": 0.5,
                        "brand_shock_months": 2,
                    },
                },
            },
        },
    }


def hand_ledger(
    *,
    loan: float,
    variable_rate: float,
    monthly_fees: float,
    marketing: float,
    renewal_months: tuple[int, ...] = (),
    renewal_fee: float = 0.0,
    royalty_and_ad_rate: float = 0.0,
) -> list[dict[str, float]]:
    """Six months of books written out by hand from the scenario's numbers."""
    r = 0.12 / 12
    payment = loan * r / (1 - (1 + r) ** -60)
    revenue = CAPACITY * SPEND  # capacity binds every month
    cash, balance = 20000.0, loan
    rows = []
    for month in range(1, 7):
        costs = (
            revenue * variable_rate
            + 5000
            + 2000
            + 1000
            + marketing
            + monthly_fees
            + revenue * royalty_and_ad_rate
            + (renewal_fee if month in renewal_months else 0.0)
        )
        interest = balance * r
        principal = payment - interest
        balance -= principal
        earned = revenue - costs - interest - principal
        draw = min(3000.0, max(0.0, cash + earned - 5000)) if earned >= 0 else 0.0
        cash = cash + earned - draw
        rows.append(
            {
                "revenue": revenue,
                "operating_costs": costs,
                "interest": interest,
                "principal": principal,
                "owner_draw": draw,
                "cash": cash,
                "loan_balance": balance,
            }
        )
    return rows


def assert_books_match(results: Any, arm: str, expected: list[dict[str, float]]) -> None:
    """Every ledger line of replication 0 of ``arm`` equals the hand-computed month."""
    i = results.arm_index(arm)
    for name in expected[0]:
        got = results.series(name)[i, 0]
        want = np.array([row[name] for row in expected])
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=name)


@pytest.fixture(scope="module")
def deterministic_books() -> Any:
    scenario = Scenario.model_validate(small_business())
    return simulate(scenario, runs=2, workers=1, deterministic=True)


def test_independent_books_match_hand_ledger(deterministic_books: Any) -> None:
    expected = hand_ledger(loan=80000.0, variable_rate=0.4, monthly_fees=0.0, marketing=500.0)
    assert_books_match(deterministic_books, "independent", expected)


def test_franchise_books_match_hand_ledger(deterministic_books: Any) -> None:
    # Loan covers the franchise fee too; marketing is raised to 3% of sales (600 > 500).
    expected = hand_ledger(
        loan=100000.0,
        variable_rate=0.4 * 0.95,
        monthly_fees=300.0,
        marketing=600.0,
        renewal_months=(3, 6),
        renewal_fee=700.0,
        royalty_and_ad_rate=0.08,
    )
    assert_books_match(deterministic_books, "franchise", expected)
    results = deterministic_books
    i = results.arm_index("franchise")
    assert results.series("royalty")[i, 0, 0] == pytest.approx(0.06 * 20000)
    assert results.series("ad_fund")[i, 0, 0] == pytest.approx(0.02 * 20000)
    assert results.series("renewal_fee")[i, 0].tolist() == [0, 0, 700, 0, 0, 700]


def test_deterministic_replications_are_identical(deterministic_books: Any) -> None:
    monthly = deterministic_books.trajectories
    np.testing.assert_array_equal(monthly[:, 0], monthly[:, 1])


def test_first_month_customers_follow_the_bass_step(deterministic_books: Any) -> None:
    # Satisfaction in month one: quality 0.8 at 70% of potential, fit 1 - 0.2 mismatch.
    import math

    satisfaction = 0.8 * 0.7 * (1 - 0.2)
    m = 100000 * 0.1
    p, q = 0.5, 0.2 * satisfaction
    decay = math.exp(-(p + q))
    first = m * (1 - decay) / (1 + (q / p) * decay)
    i = deterministic_books.arm_index("independent")
    assert deterministic_books.series("satisfaction")[i, 0, 0] == pytest.approx(satisfaction)
    assert deterministic_books.series("new_customers")[i, 0, 0] == pytest.approx(first)
