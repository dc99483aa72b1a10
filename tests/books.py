"""Checks made the same way by every test that needs them.

The cash identity of the monthly books, and two runs' results being the same bit for bit.
"""

from __future__ import annotations

import numpy as np

from franchise_sim import SimulationResults
from franchise_sim.model.books import MONTH_HEAD, MONTH_TAIL


def assert_books_balance(results: SimulationResults, *, opening: bool = True) -> None:
    """Every month's cash flow is the sum of its lines, and cash moves by exactly that flow.

    ``cash_flow = revenue - operating_costs - interest - principal + owner_injection
    - owner_draw + asset_sale - closure_costs``, with ``operating_costs`` the sum of the cost
    lines and ``operating_profit`` revenue less them; ``cash[m] = cash[m-1] + cash_flow[m]``
    to the cent's last bit, from the opening cash in month 1.

    Args:
        results: Any simulation's results.
        opening: Also check month 1 against each arm's opening cash (at its mean: leave this
            off when the opening cash is uncertain).
    """
    s = results.series
    cash, flow = s("cash"), s("cash_flow")
    if opening:
        start = np.array([results.scenario.arm(a).opening_cash_usd() for a in results.arms])
        np.testing.assert_array_equal(cash[..., 0], start[:, None] + flow[..., 0])
    np.testing.assert_array_equal(cash[..., 1:], cash[..., :-1] + flow[..., 1:])
    columns = results.monthly_columns  # the cost lines lie between the head and the tail
    lines = sum(s(line) for line in columns[len(MONTH_HEAD) : columns.index(MONTH_TAIL[0])])
    np.testing.assert_allclose(s("operating_costs"), lines, atol=1e-6)
    np.testing.assert_allclose(s("operating_profit"), s("revenue") - s("operating_costs"))
    expected = (
        s("operating_profit")
        - s("interest")
        - s("principal")
        + s("owner_injection")
        - s("owner_draw")
        + s("asset_sale")
        - s("closure_costs")
    )
    np.testing.assert_allclose(flow, expected, atol=1e-6)


def assert_identical(a: SimulationResults, b: SimulationResults) -> None:
    """Two runs' results the same bit for bit.

    The outcomes, closure reasons and event counts; the books if both kept them; the monthly
    aggregates if both are summary-only.

    Args:
        a: Results of one run.
        b: Results of another (summary-only or not) that should be the same.
    """
    if not (a.summary_only or b.summary_only):
        assert np.array_equal(a.trajectories, b.trajectories)
    if a.monthly_aggregates is not None and b.monthly_aggregates is not None:
        assert a.monthly_aggregates.runs == b.monthly_aggregates.runs
        assert np.array_equal(a.monthly_aggregates.open_runs, b.monthly_aggregates.open_runs)
        assert np.array_equal(a.monthly_aggregates.histograms, b.monthly_aggregates.histograms)
    assert a.outcomes.keys() == b.outcomes.keys()
    for name in a.outcomes:
        assert np.array_equal(a.outcomes[name], b.outcomes[name], equal_nan=True), name
    assert np.array_equal(a.closure_reasons, b.closure_reasons)
    for name in a.shock_counts:
        assert np.array_equal(a.shock_counts[name], b.shock_counts[name]), name
