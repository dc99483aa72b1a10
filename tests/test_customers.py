"""Unit tests for model.customers: Bass diffusion, retention and slow-moving quality."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from franchise_sim.model.customers import (
    adoption_share,
    adstock_decay,
    bass_share,
    bass_step_share,
    churn_probability,
    expected_new_customers,
    learning_curve,
    mismatch_after,
    retention_hazard_per_month,
    win_back_share,
)

ps = st.floats(min_value=1e-4, max_value=0.5)
qs = st.floats(min_value=0.0, max_value=2.0)

# (p, q) pairs: Bass's textbook averages, strong word of mouth, pure awareness, fast diffusion.
BASS_PAIRS = [(0.03, 0.38), (0.01, 0.3), (0.1, 0.5), (0.001, 0.9), (0.5, 0.0), (0.2, 2.0)]


def _closed_form(t: float, p: float, q: float) -> float:
    e = math.exp(-(p + q) * t)
    return (1 - e) / (1 + q / p * e)


# --- Bass diffusion ---------------------------------------------------------------------------


def test_bass_share_hand_computed() -> None:
    # p + q = 0.41: e^{-4.92} = 0.0072991..., (1 - e) / (1 + 12.667 e) = 0.908687...
    assert bass_share(12.0, 0.03, 0.38) == pytest.approx(0.9086875631386935, rel=1e-12)
    # Without word of mouth Bass is exponential adoption: F = 1 - e^{-pt}.
    assert bass_share(10.0, 0.05, 0.0) == pytest.approx(1 - math.exp(-0.5), rel=1e-14)


@pytest.mark.parametrize(("p", "q"), BASS_PAIRS)
def test_bass_share_starts_at_zero(p: float, q: float) -> None:
    assert bass_share(0.0, p, q) == 0.0


@settings(max_examples=200, deadline=None)
@given(t=st.floats(min_value=0.0, max_value=600.0), p=ps, q=qs)
def test_bass_share_matches_closed_form(t: float, p: float, q: float) -> None:
    assert bass_share(t, p, q) == pytest.approx(_closed_form(t, p, q), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize(("p", "q"), BASS_PAIRS)
def test_bass_share_increases_to_one(p: float, q: float) -> None:
    shares = [bass_share(float(t), p, q) for t in range(0, 241)]
    assert all(0.0 <= f <= 1.0 for f in shares)
    for a, b in itertools.pairwise(shares):
        assert b >= a
        if a < 1.0 - 1e-9:  # strictly increasing until rounding reaches 1
            assert b > a
    assert bass_share(5_000.0, p, q) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("p", "q"), BASS_PAIRS)
@pytest.mark.parametrize("t", [0.5, 3.0, 12.0, 30.0])
def test_bass_share_solves_bass_equation(p: float, q: float, t: float) -> None:
    # F'(t) = (p + q F)(1 - F), checked with a central difference.
    h = 1e-5
    slope = (bass_share(t + h, p, q) - bass_share(t - h, p, q)) / (2 * h)
    f = bass_share(t, p, q)
    assert slope == pytest.approx((p + q * f) * (1 - f), rel=1e-6, abs=1e-10)


def test_bass_share_without_awareness_stays_zero() -> None:
    assert bass_share(24.0, 0.0, 0.5) == 0.0
    assert bass_share(24.0, -0.1, 0.5) == 0.0


@pytest.mark.parametrize(("p", "q"), BASS_PAIRS)
def test_bass_steps_reproduce_closed_form(p: float, q: float) -> None:
    share = 0.0
    for month in range(1, 241):
        share = bass_step_share(share, p, q)
        assert share == pytest.approx(bass_share(float(month), p, q), rel=0, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(p=ps, q=qs)
def test_bass_steps_reproduce_closed_form_any_parameters(p: float, q: float) -> None:
    share = 0.0
    for month in range(1, 121):
        share = bass_step_share(share, p, q)
        assert share == pytest.approx(bass_share(float(month), p, q), rel=0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(t0=st.floats(min_value=0.0, max_value=60.0), p=ps, q=qs)
def test_bass_step_is_time_invariant(t0: float, p: float, q: float) -> None:
    # One step from F(t0), whatever t0 (not just whole months), lands on F(t0 + 1).
    step = bass_step_share(bass_share(t0, p, q), p, q)
    assert step == pytest.approx(bass_share(t0 + 1.0, p, q), rel=0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(share=st.floats(min_value=0.0, max_value=0.999), p=ps, q=qs)
def test_bass_step_moves_share_up_but_not_past_one(share: float, p: float, q: float) -> None:
    nxt = bass_step_share(share, p, q)
    assert share < nxt <= 1.0


@pytest.mark.parametrize("share", [0.01, 0.2, 0.7])
def test_bass_step_pure_imitation_is_logistic(share: float) -> None:
    # p = 0: F' = q F (1 - F), whose solution is F e^q / (1 - F + F e^q).
    q = 0.4
    expected = share * math.exp(q) / (1 - share + share * math.exp(q))
    assert bass_step_share(share, 0.0, q) == pytest.approx(expected, rel=1e-13)


def test_bass_step_edge_cases() -> None:
    assert bass_step_share(1.0, 0.03, 0.38) == 1.0
    assert bass_step_share(1.5, 0.03, 0.38) == 1.0
    assert bass_step_share(0.0, 0.0, 0.38) == 0.0
    # Without word of mouth one month converts a share 1 - e^{-p} of the rest.
    assert bass_step_share(0.4, 0.05, 0.0) == pytest.approx(1 - 0.6 * math.exp(-0.05), rel=1e-14)


def test_expected_new_customers_hand_case() -> None:
    # 10,000 potential, none yet: m F(1).
    assert expected_new_customers(10_000.0, 0.0, 0.03, 0.38) == pytest.approx(
        10_000.0 * bass_share(1.0, 0.03, 0.38), rel=1e-12
    )
    assert expected_new_customers(10_000.0, 0.0, 0.03, 0.38) == pytest.approx(
        10_000.0 * _closed_form(1.0, 0.03, 0.38), rel=1e-12
    )


@pytest.mark.parametrize(("p", "q"), BASS_PAIRS)
def test_expected_new_customers_accumulate_to_bass_curve(p: float, q: float) -> None:
    potential = 25_000.0
    customers = 0.0
    for month in range(1, 121):
        new = expected_new_customers(potential, customers, p, q)
        assert 0.0 <= new <= potential - customers
        customers += new
        assert customers == pytest.approx(potential * bass_share(float(month), p, q), abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(
    potential=st.floats(min_value=1.0, max_value=1e6),
    fraction=st.floats(min_value=0.0, max_value=0.999),
    scale=st.floats(min_value=0.1, max_value=10.0),
    p=ps,
    q=qs,
)
def test_expected_new_customers_consistency(
    potential: float, fraction: float, scale: float, p: float, q: float
) -> None:
    customers = fraction * potential
    new = expected_new_customers(potential, customers, p, q)
    share = customers / potential
    assert new == pytest.approx(potential * (bass_step_share(share, p, q) - share), rel=1e-12)
    assert 0.0 < new <= potential - customers + 1e-9 * potential
    # Only the share matters: scaling the market scales the flow.
    scaled = expected_new_customers(scale * potential, scale * customers, p, q)
    assert scaled == pytest.approx(scale * new, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    ("potential", "customers"), [(0.0, 0.0), (-10.0, 0.0), (100.0, 100.0), (100.0, 150.0)]
)
def test_expected_new_customers_none_when_no_one_is_left(
    potential: float, customers: float
) -> None:
    assert expected_new_customers(potential, customers, 0.03, 0.38) == 0.0


# --- retention ---------------------------------------------------------------------------------


@pytest.mark.parametrize("retention", [0.63, 0.85, 0.5, 0.99, 1.0])
def test_retention_hazard_keeps_the_yearly_share(retention: float) -> None:
    h = retention_hazard_per_month(retention)
    assert h >= 0.0
    assert math.exp(-12 * h) == pytest.approx(retention, rel=1e-14)
    # Twelve months at the matching monthly churn (satisfaction 1) keep the yearly share.
    monthly_churn = churn_probability(h, 1.0, 2.0)
    assert (1 - monthly_churn) ** 12 == pytest.approx(retention, rel=1e-12)


def test_retention_hazard_hand_case() -> None:
    # Half the customers kept over a year: h = ln 2 / 12 = 0.0577622...
    assert retention_hazard_per_month(0.5) == pytest.approx(math.log(2) / 12, rel=1e-15)
    assert retention_hazard_per_month(1.0) == 0.0


@settings(max_examples=100, deadline=None)
@given(
    a=st.floats(min_value=0.01, max_value=0.99),
    b=st.floats(min_value=0.01, max_value=0.99),
)
def test_retention_hazard_is_decreasing(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert retention_hazard_per_month(low) >= retention_hazard_per_month(high)
    if high - low > 1e-9:
        assert retention_hazard_per_month(low) > retention_hazard_per_month(high)


@settings(max_examples=200, deadline=None)
@given(
    h=st.floats(min_value=1e-4, max_value=0.5),
    sensitivity=st.floats(min_value=0.0, max_value=5.0),
)
def test_churn_at_full_satisfaction_is_base_churn(h: float, sensitivity: float) -> None:
    assert churn_probability(h, 1.0, sensitivity) == pytest.approx(1 - math.exp(-h), rel=1e-14)


def test_churn_hand_cases() -> None:
    h = 0.05
    # Fully dissatisfied with sensitivity 2 triples the hazard.
    assert churn_probability(h, 0.0, 2.0) == pytest.approx(1 - math.exp(-0.15), rel=1e-14)
    # Half satisfied with sensitivity 2 doubles it.
    assert churn_probability(h, 0.5, 2.0) == pytest.approx(1 - math.exp(-0.10), rel=1e-14)
    # Satisfaction is clipped to [0, 1].
    assert churn_probability(h, 1.7, 2.0) == churn_probability(h, 1.0, 2.0)
    assert churn_probability(h, -0.5, 2.0) == churn_probability(h, 0.0, 2.0)
    # No hazard, no churn.
    assert churn_probability(0.0, 0.3, 2.0) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    h=st.floats(min_value=1e-4, max_value=0.5),
    sensitivity=st.floats(min_value=0.01, max_value=5.0),
    s1=st.floats(min_value=0.0, max_value=1.0),
    s2=st.floats(min_value=0.0, max_value=1.0),
)
def test_churn_rises_as_satisfaction_falls(
    h: float, sensitivity: float, s1: float, s2: float
) -> None:
    low, high = sorted((s1, s2))
    c_low = churn_probability(h, low, sensitivity)
    c_high = churn_probability(h, high, sensitivity)
    assert 0.0 < c_high <= c_low < 1.0
    if high - low > 1e-6:
        assert c_low > c_high
    # Zero sensitivity: satisfaction does not matter.
    assert churn_probability(h, low, 0.0) == churn_probability(h, high, 0.0)


# --- learning, adaptation, advertising ---------------------------------------------------------


def test_learning_curve_hand_cases() -> None:
    assert learning_curve(0.9, 0.6, 0.0, 6.0) == pytest.approx(0.54, rel=1e-15)
    # After one time constant the gap has shrunk by e: 0.9 (1 - 0.4 / e).
    assert learning_curve(0.9, 0.6, 6.0, 6.0) == pytest.approx(0.9 * (1 - 0.4 / math.e), rel=1e-14)
    assert learning_curve(0.9, 0.6, 1e4, 6.0) == pytest.approx(0.9, rel=1e-15)
    assert learning_curve(0.9, 1.0, 3.0, 6.0) == 0.9  # a franchise's trained start


@settings(max_examples=100, deadline=None)
@given(
    s0=st.floats(min_value=0.0, max_value=0.99),
    tau=st.floats(min_value=0.5, max_value=36.0),
    t=st.floats(min_value=0.0, max_value=120.0),
)
def test_learning_curve_rises_toward_potential(s0: float, tau: float, t: float) -> None:
    now = learning_curve(1.0, s0, t, tau)
    later = learning_curve(1.0, s0, t + 1.0, tau)
    assert s0 - 1e-15 <= now <= later <= 1.0
    if now < 1.0 - 1e-9:
        assert now < later


def test_mismatch_hand_cases() -> None:
    assert mismatch_after(0.3, 0.05, 0.0, 12.0) == pytest.approx(0.3, rel=1e-15)
    # Half the excess is gone after tau ln 2 months.
    assert mismatch_after(0.3, 0.05, 12.0 * math.log(2), 12.0) == pytest.approx(0.175, rel=1e-14)
    assert mismatch_after(0.3, 0.05, 1e4, 12.0) == pytest.approx(0.05, rel=1e-15)
    # Already at or below the floor: nothing changes.
    assert mismatch_after(0.02, 0.05, 24.0, 12.0) == 0.02
    assert mismatch_after(0.05, 0.05, 24.0, 12.0) == 0.05


@settings(max_examples=100, deadline=None)
@given(
    start=st.floats(min_value=0.0, max_value=1.0),
    floor=st.floats(min_value=0.0, max_value=1.0),
    tau=st.floats(min_value=0.5, max_value=36.0),
    t=st.floats(min_value=0.0, max_value=120.0),
)
def test_mismatch_shrinks_but_never_below_floor(
    start: float, floor: float, tau: float, t: float
) -> None:
    now = mismatch_after(start, floor, t, tau)
    later = mismatch_after(start, floor, t + 1.0, tau)
    assert min(start, floor) <= later <= now <= start


@pytest.mark.parametrize("half_life", [0.5, 1.0, 2.0, 3.0, 6.5, 24.0])
def test_adstock_half_life(half_life: float) -> None:
    decay = adstock_decay(half_life)
    assert 0.0 < decay < 1.0
    assert decay**half_life == pytest.approx(0.5, rel=1e-14)


def test_adstock_hand_cases() -> None:
    assert adstock_decay(1.0) == 0.5
    assert adstock_decay(2.0) == pytest.approx(math.sqrt(0.5), rel=1e-15)
    assert adstock_decay(1.0) < adstock_decay(2.0) < adstock_decay(6.0)


# --- lapsed customers -------------------------------------------------------------------------


def test_adoption_share_is_the_bass_step_among_non_customers() -> None:
    # Without word of mouth a non-customer adopts with 1 - e^{-p} a month.
    assert adoption_share(1000.0, 0.0, 0.1, 0.0) == pytest.approx(1 - math.exp(-0.1), rel=1e-14)
    # 400 of 1,000 are customers: the expected adopters are the Bass step's, over the 600 left.
    new = expected_new_customers(1000.0, 400.0, 0.02, 0.3)
    assert adoption_share(1000.0, 400.0, 0.02, 0.3) * 600.0 == pytest.approx(new, rel=1e-12)
    assert adoption_share(1000.0, 1000.0, 0.02, 0.3) == 0.0
    assert adoption_share(0.0, 0.0, 0.02, 0.3) == 0.0


def test_win_back_share_is_a_fraction_of_the_adoption_hazard() -> None:
    # Adoption 0.19 a month is a hazard of -ln(0.81); half of it wins back 1 - 0.9 = 0.1.
    assert win_back_share(0.19, 0.5) == pytest.approx(0.1, rel=1e-12)
    assert win_back_share(0.19, 1.0) == pytest.approx(0.19, rel=1e-14)
    assert win_back_share(0.19, 0.0) == 0.0
    assert win_back_share(1.0, 0.3) == 1.0
    assert win_back_share(1.0, 0.0) == 0.0


@settings(max_examples=100, deadline=None)
@given(a=st.floats(min_value=0.0, max_value=1.0), w=st.floats(min_value=0.0, max_value=1.0))
def test_win_back_never_beats_adoption(a: float, w: float) -> None:
    assert 0.0 <= win_back_share(a, w) <= a + 1e-15


# --- learning by doing ------------------------------------------------------------------------


def test_learning_by_visits_uses_the_same_curve() -> None:
    # After as many visits as it takes to learn, 1 - e^{-1} of the gap is closed.
    assert learning_curve(0.8, 0.7, 2000.0, 2000.0) == pytest.approx(
        0.8 * (1 - 0.3 * math.exp(-1.0)), rel=1e-14
    )
    assert learning_curve(0.8, 0.7, 0.0, 2000.0) == pytest.approx(0.56, rel=1e-14)
