"""Properties that hold for any valid scenario: money is conserved, nothing flows after closure."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from franchise_sim import simulate
from tests.books import assert_books_balance
from tests.conftest import Variant

scenario_changes = st.fixed_dictionaries(
    {
        "arms.franchise.franchise.royalty_rate": st.floats(0.0, 0.15),
        "arms.franchise.franchise.ad_fund_rate": st.floats(0.0, 0.05),
        "financing.owner_equity_usd": st.floats(10000, 300000),
        "financing.loan_rate_per_year": st.floats(0.0, 0.2),
        "owner.reserve_usd": st.floats(0, 100000),
        "owner.draw_usd_per_month": st.floats(0, 12000),
        "operations.capacity_visits_per_month": st.floats(20, 400),
        "customers.imitation_q_per_month": st.floats(0.0, 0.6),
        "market.households": st.floats(2000, 80000),
        "run.seed": st.integers(0, 2**32),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=scenario_changes)
def test_books_balance_for_any_scenario(variant: Variant, changes: dict[str, object]) -> None:
    results = simulate(variant(changes), runs=6, workers=1, horizon_months=36)
    s = results.series
    assert_books_balance(results, opening=False)
    assert (s("owner_draw") >= 0).all()
    assert (s("owner_injection") >= 0).all()
    assert (s("customers") >= 0).all()
    assert (s("loan_balance") >= -1e-6).all()
    # The closure month still carries its books; every month after it has no flows.
    months = np.arange(1, results.horizon_months + 1)
    closed = results.outcomes["closed_month"][..., None]
    after_closure = months > np.nan_to_num(closed, nan=np.inf)
    for column in ("revenue", "cash_flow", "customers", "owner_draw", "operating_costs"):
        assert (s(column)[after_closure] == 0).all(), column
