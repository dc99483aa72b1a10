"""Unit tests for scenario.distributions: means, supports, inverse CDFs and validation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from scipy import special, stats

from franchise_sim.scenario.distributions import (
    SMALLEST_UNIFORM,
    Beta,
    Distribution,
    Fixed,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    mean_of,
    support_of,
    with_mean,
)

N_GRID = 200_000
GRID = (np.arange(N_GRID) + 0.5) / N_GRID
"""Midpoints of N equal cells of (0, 1): the midpoint rule for E[X] = integral of ppf(u) du."""

ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)


def dist(**fields: Any) -> Any:
    """Validate a mapping as a scenario file would (``dist`` picks the class)."""
    return ADAPTER.validate_python(fields)


def _grid_mean(d: Any) -> float:
    return float(np.mean(d.ppf(GRID)))


# (distribution, tolerance of the midpoint-rule mean in units of its natural scale)
GRID_CASES: list[tuple[dict[str, Any], float]] = [
    ({"dist": "fixed", "value": 3.5}, 0.0),
    ({"dist": "uniform", "low": -3.0, "high": 7.0}, 1e-12),
    ({"dist": "uniform", "low": 0.02, "high": 0.08}, 1e-12),
    ({"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 6.0}, 1e-7),
    ({"dist": "triangular", "low": 1.0, "mode": 1.0, "high": 6.0}, 1e-7),
    ({"dist": "triangular", "low": 1.0, "mode": 6.0, "high": 6.0}, 1e-7),
    ({"dist": "triangular", "low": -50.0, "mode": 10.0, "high": 20.0}, 1e-7),
    ({"dist": "normal", "mean": 5.0, "sd": 2.0}, 1e-6),
    ({"dist": "normal", "mean": 5.0, "sd": 2.0, "low": 4.0}, 1e-6),
    ({"dist": "normal", "mean": 5.0, "sd": 2.0, "high": 1.0}, 1e-5),
    ({"dist": "normal", "mean": 5.0, "sd": 2.0, "low": 4.0, "high": 6.0}, 1e-9),
    ({"dist": "normal", "mean": 0.1, "sd": 0.05, "low": 0.0, "high": 0.12}, 1e-9),
    ({"dist": "lognormal", "mean": 100.0, "sd": 50.0}, 1e-5),
    ({"dist": "lognormal", "mean": 100.0, "sd": 150.0}, 1e-4),
    ({"dist": "lognormal", "mean": 0.3, "sd": 0.01}, 1e-6),
    ({"dist": "beta", "a": 2.0, "b": 5.0}, 1e-6),
    ({"dist": "beta", "a": 0.5, "b": 0.5, "low": 10.0, "high": 20.0}, 1e-6),
    ({"dist": "beta", "a": 3.0, "b": 0.7, "low": -1.0, "high": 1.0}, 1e-6),
]


def _scale(d: Any) -> float:
    """Natural scale of a distribution: its width, or its sd when unbounded."""
    if isinstance(d, Fixed):
        return 1.0
    if isinstance(d, Normal | LogNormal):
        return d.sd
    lo, hi = d.support()
    return float(hi - lo)


@pytest.mark.parametrize(("fields", "tol"), GRID_CASES)
def test_mean_is_midpoint_rule_mean_of_ppf(fields: dict[str, Any], tol: float) -> None:
    d = dist(**fields)
    assert abs(_grid_mean(d) - d.mean()) <= tol * _scale(d)


@pytest.mark.parametrize(("fields", "tol"), GRID_CASES)
def test_ppf_is_inside_support_and_non_decreasing(fields: dict[str, Any], tol: float) -> None:
    d = dist(**fields)
    lo, hi = d.support()
    values = d.ppf(GRID)
    assert values.shape == GRID.shape
    assert np.all(np.isfinite(values))
    assert np.all((values >= lo) & (values <= hi))
    assert np.all(np.diff(values) >= 0.0)


# --- each family against hand values and scipy -------------------------------------------------


def test_fixed() -> None:
    d = Fixed(value=3.0)
    assert d.dist == "fixed"
    assert d.mean() == 3.0
    assert d.support() == (3.0, 3.0)
    np.testing.assert_array_equal(d.ppf(np.array([0.01, 0.5, 0.99])), [3.0, 3.0, 3.0])
    assert d.ppf(np.array([[0.2, 0.4], [0.6, 0.8]])).shape == (2, 2)
    assert dist(dist="fixed", value=2) == Fixed(value=2.0)


def test_uniform_hand_cases() -> None:
    d = dist(dist="uniform", low=2.0, high=6.0)
    assert isinstance(d, Uniform)
    assert d.mean() == 4.0
    assert d.support() == (2.0, 6.0)
    np.testing.assert_array_equal(d.ppf(np.array([0.0, 0.25, 0.5, 1.0])), [2.0, 3.0, 4.0, 6.0])


def test_triangular_hand_cases() -> None:
    d = dist(dist="triangular", low=0.0, mode=1.0, high=2.0)
    assert isinstance(d, Triangular)
    assert d.mean() == 1.0
    # Symmetric: the median is the mode; F(0.5) = 0.125, so ppf(0.125) = 0.5.
    np.testing.assert_allclose(d.ppf(np.array([0.125, 0.5, 0.875])), [0.5, 1.0, 1.5], rtol=1e-15)
    # Mode at the low end: F(x) = 1 - (1 - x)^2, ppf(u) = 1 - sqrt(1 - u).
    right = dist(dist="triangular", low=0.0, mode=0.0, high=1.0)
    u = np.array([0.0, 0.19, 0.75, 0.99])
    np.testing.assert_allclose(right.ppf(u), 1 - np.sqrt(1 - u), rtol=1e-14, atol=1e-15)
    assert right.mean() == pytest.approx(1 / 3, rel=1e-15)


def test_normal_hand_cases() -> None:
    d = dist(dist="normal", mean=10.0, sd=2.0)
    assert isinstance(d, Normal)
    assert d.mean() == 10.0
    assert d.support() == (-math.inf, math.inf)
    # z(0.975) = 1.959963984540054.
    np.testing.assert_allclose(
        d.ppf(np.array([0.5, 0.975])), [10.0, 10.0 + 2.0 * 1.959963984540054], rtol=1e-14
    )
    # Half-normal: E[Z | Z > 0] = sqrt(2 / pi).
    half = dist(dist="normal", mean=0.0, sd=1.0, low=0.0)
    assert half.mean() == pytest.approx(math.sqrt(2 / math.pi), rel=1e-14)
    assert half.support() == (0.0, math.inf)
    # Symmetric truncation keeps the mean.
    assert dist(dist="normal", mean=3.0, sd=1.0, low=2.0, high=4.0).mean() == pytest.approx(3.0)
    # The field is called `mean` in files; the attribute is `mean_value`.
    assert Normal.model_validate({"dist": "normal", "mean": 1.0, "sd": 1.0}).mean_value == 1.0


def test_lognormal_hand_cases() -> None:
    d = dist(dist="lognormal", mean=100.0, sd=50.0)
    assert isinstance(d, LogNormal)
    assert d.mean() == 100.0
    assert d.support() == (0.0, math.inf)
    # Median = exp(mu) = mean / sqrt(1 + cv^2) = 100 / sqrt(1.25) = 89.4427191...
    assert float(d.ppf(np.array(0.5))) == pytest.approx(89.44271909999159, rel=1e-14)


def test_beta_hand_cases() -> None:
    d = dist(dist="beta", a=2.0, b=2.0, low=10.0, high=20.0)
    assert isinstance(d, Beta)
    assert d.mean() == 15.0
    assert d.support() == (10.0, 20.0)
    assert float(d.ppf(np.array(0.5))) == pytest.approx(15.0, rel=1e-14)
    # Beta(1, 1) is uniform; Beta(2, 1) has F(x) = x^2, so ppf(u) = sqrt(u).
    flat = dist(dist="beta", a=1.0, b=1.0)
    u = np.array([0.1, 0.3, 0.9])
    np.testing.assert_allclose(flat.ppf(u), u, rtol=1e-14)
    np.testing.assert_allclose(dist(dist="beta", a=2.0, b=1.0).ppf(u), np.sqrt(u), rtol=1e-13)
    assert dist(dist="beta", a=2.0, b=6.0).mean() == 0.25


def test_a_beta_quantile_scipy_gives_up_on_is_found_by_bisection() -> None:
    # scipy's betaincinv returns NaN here (found by test_ppf_stays_within_support); Beta(a, 1/4)
    # has F(x) ~ x^a / (a B(a, 1/4)) near 0, so the quantile is near (u a B)^(1/a).
    a, b, u = 1.03125, 0.25, SMALLEST_UNIFORM
    assert math.isnan(special.betaincinv(a, b, u))
    x = float(dist(dist="beta", a=a, b=b).ppf(np.array([u]))[0])
    assert x == pytest.approx((u * a * special.beta(a, b)) ** (1.0 / a), rel=1e-9)
    assert special.betainc(a, b, x) == pytest.approx(u, rel=1e-12)
    assert special.betainc(a, b, np.nextafter(x, 0.0)) < u  # the smallest x reaching u


U_PROBE = np.array([1e-9, 0.001, 0.025, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.999, 1 - 1e-9])

finite = st.floats(min_value=-1e4, max_value=1e4)
positive = st.floats(min_value=1e-3, max_value=1e3)
shape_params = st.floats(min_value=0.05, max_value=50.0)
shares = st.floats(min_value=0.0, max_value=1.0)


@settings(max_examples=100, deadline=None)
@given(low=finite, width=positive)
def test_uniform_matches_scipy(low: float, width: float) -> None:
    high = low + width
    assume(low < high)
    d = dist(dist="uniform", low=low, high=high)
    ref = stats.uniform(loc=low, scale=high - low)
    assert d.mean() == pytest.approx(ref.mean(), rel=1e-12, abs=1e-9)
    np.testing.assert_allclose(d.ppf(U_PROBE), ref.ppf(U_PROBE), rtol=1e-12, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(low=finite, width=positive, c=shares)
def test_triangular_matches_scipy(low: float, width: float, c: float) -> None:
    high = low + width
    mode = min(high, low + c * width)
    assume(low < high)
    d = dist(dist="triangular", low=low, mode=mode, high=high)
    ref = stats.triang(c=(mode - low) / (high - low), loc=low, scale=high - low)
    assert d.mean() == pytest.approx(ref.mean(), rel=1e-12, abs=1e-9 * width)
    np.testing.assert_allclose(d.ppf(U_PROBE), ref.ppf(U_PROBE), rtol=1e-10, atol=1e-9 * width)


@settings(max_examples=100, deadline=None)
@given(
    mu=finite,
    sd=positive,
    z_low=st.one_of(st.none(), st.floats(min_value=-6.0, max_value=3.0)),
    z_width=st.floats(min_value=0.05, max_value=8.0),
    upper=st.booleans(),
)
def test_normal_matches_scipy(
    mu: float, sd: float, z_low: float | None, z_width: float, upper: bool
) -> None:
    low = None if z_low is None else mu + z_low * sd
    high = mu + (z_low if z_low is not None else -4.0) * sd + z_width * sd if upper else None
    assume(low is None or high is None or low < high)
    d = dist(dist="normal", mean=mu, sd=sd, low=low, high=high)
    za = -math.inf if low is None else (low - mu) / sd
    zb = math.inf if high is None else (high - mu) / sd
    ref = stats.truncnorm(a=za, b=zb, loc=mu, scale=sd)
    assert d.mean() == pytest.approx(ref.mean(), rel=1e-9, abs=1e-9 * sd)
    core = U_PROBE[1:-1]
    np.testing.assert_allclose(d.ppf(core), ref.ppf(core), rtol=1e-9, atol=1e-7 * sd)
    # At u = 1e-9 or 1 - 1e-9 of a range truncated deep in a tail, ndtri(pa + u (pb - pa))
    # has only the resolution of doubles near 1 (scipy works in log space): looser there.
    extremes = U_PROBE[[0, -1]]
    np.testing.assert_allclose(d.ppf(extremes), ref.ppf(extremes), rtol=1e-9, atol=1e-5 * sd)


@settings(max_examples=100, deadline=None)
@given(mean=positive, cv=st.floats(min_value=0.01, max_value=3.0))
def test_lognormal_matches_scipy(mean: float, cv: float) -> None:
    sd = mean * cv
    d = dist(dist="lognormal", mean=mean, sd=sd)
    sigma = math.sqrt(math.log1p(cv**2))
    ref = stats.lognorm(s=sigma, scale=mean / math.sqrt(1 + cv**2))
    # The file's mean and sd are the distribution's own moments, not the log's.
    assert ref.mean() == pytest.approx(mean, rel=1e-12)
    assert ref.std() == pytest.approx(sd, rel=1e-10)
    assert d.mean() == mean
    np.testing.assert_allclose(d.ppf(U_PROBE), ref.ppf(U_PROBE), rtol=1e-10)


@settings(max_examples=100, deadline=None)
@given(a=shape_params, b=shape_params, low=finite, width=positive)
def test_beta_matches_scipy(a: float, b: float, low: float, width: float) -> None:
    high = low + width
    assume(low < high)
    d = dist(dist="beta", a=a, b=b, low=low, high=high)
    ref = stats.beta(a, b, loc=low, scale=high - low)
    assert d.mean() == pytest.approx(ref.mean(), rel=1e-12, abs=1e-9 * width)
    np.testing.assert_allclose(d.ppf(U_PROBE), ref.ppf(U_PROBE), rtol=1e-9, atol=1e-9 * width)


@pytest.mark.parametrize(
    ("low", "mode", "high"),
    [
        (1.3e-79, 1.3e-79, 1.0),
        (0.1, 0.1, 0.7),
        (-3.3, -3.3, 9.1),
        (0.1, 0.7, 0.7),
        (-7.7, 2.2, 2.2),
    ],
)
def test_triangular_with_mode_at_an_end_stays_inside_at_extreme_uniforms(
    low: float, mode: float, high: float
) -> None:
    d = dist(dist="triangular", low=low, mode=mode, high=high)
    values = d.ppf(np.array([2.0**-54, 2.0**-53, 1e-17, 1.0 - 2.0**-53, 1.0 - 2.0**-52]))
    assert np.all((values >= low) & (values <= high)), values


# --- ppf stays within the support, for any parameters ------------------------------------------

open_uniforms = st.lists(
    st.floats(min_value=2.0**-54, max_value=1.0 - 2.0**-53), min_size=1, max_size=20
)

any_distribution = st.one_of(
    st.builds(lambda v: {"dist": "fixed", "value": v}, finite),
    st.builds(lambda lo, w: {"dist": "uniform", "low": lo, "high": lo + w}, finite, positive),
    st.builds(
        lambda lo, w, c: {"dist": "triangular", "low": lo, "mode": lo + c * w, "high": lo + w},
        finite,
        positive,
        shares,
    ),
    st.builds(lambda m, s: {"dist": "normal", "mean": m, "sd": s}, finite, positive),
    st.builds(
        lambda m, s, za, w: {
            "dist": "normal",
            "mean": m,
            "sd": s,
            "low": m + za * s,
            "high": m + (za + w) * s,
        },
        finite,
        positive,
        st.floats(min_value=-6.0, max_value=3.0),
        st.floats(min_value=0.05, max_value=8.0),
    ),
    st.builds(
        lambda m, s, za: {"dist": "normal", "mean": m, "sd": s, "low": m + za * s},
        finite,
        positive,
        st.floats(min_value=-6.0, max_value=3.0),
    ),
    st.builds(lambda m, s: {"dist": "lognormal", "mean": m, "sd": s}, positive, positive),
    st.builds(
        lambda a, b, lo, w: {"dist": "beta", "a": a, "b": b, "low": lo, "high": lo + w},
        shape_params,
        shape_params,
        finite,
        positive,
    ),
)


@settings(max_examples=300, deadline=None)
@given(fields=any_distribution, us=open_uniforms)
def test_ppf_stays_within_support(fields: dict[str, Any], us: list[float]) -> None:
    try:
        d = dist(**fields)
    except ValidationError:
        assume(False)  # rounding made e.g. mode > high: covered by the validator tests
        raise
    lo, hi = d.support()
    values = d.ppf(np.array(us))
    assert values.shape == (len(us),)
    assert not np.any(np.isnan(values))
    assert np.all(values >= lo), (values, lo)
    assert np.all(values <= hi), (values, hi)
    assert lo <= d.mean() <= hi
    # A non-decreasing map from uniforms to draws.
    order = np.argsort(us)
    # Up to rounding: scipy's beta quantile deep in a tail (u ~ 1e-17) can step back by an ulp.
    assert np.all(np.diff(values[order]) >= -4 * np.spacing(np.abs(values).max()))


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"dist": "uniform", "low": 5.0, "high": 5.0},
        {"dist": "uniform", "low": 6.0, "high": 5.0},
        {"dist": "triangular", "low": 1.0, "mode": 0.5, "high": 2.0},  # mode below low
        {"dist": "triangular", "low": 1.0, "mode": 2.5, "high": 2.0},  # mode above high
        {"dist": "triangular", "low": 2.0, "mode": 2.0, "high": 2.0},  # no width
        {"dist": "triangular", "low": 3.0, "mode": 2.5, "high": 2.0},
        {"dist": "normal", "mean": 0.0, "sd": 0.0},
        {"dist": "normal", "mean": 0.0, "sd": -1.0},
        {"dist": "normal", "mean": 0.0, "sd": 1.0, "low": 1.0, "high": 1.0},
        {"dist": "normal", "mean": 0.0, "sd": 1.0, "low": 2.0, "high": 1.0},
        {"dist": "lognormal", "mean": 0.0, "sd": 1.0},
        {"dist": "lognormal", "mean": -5.0, "sd": 1.0},
        {"dist": "lognormal", "mean": 5.0, "sd": 0.0},
        {"dist": "beta", "a": 0.0, "b": 1.0},
        {"dist": "beta", "a": 1.0, "b": -2.0},
        {"dist": "beta", "a": 2.0, "b": 2.0, "low": 1.0, "high": 1.0},
        {"dist": "beta", "a": 2.0, "b": 2.0, "low": 1.0, "high": 0.0},
        # Not numbers, not finite, unknown keys or families, missing fields.
        {"dist": "uniform", "low": "1", "high": 2.0},
        {"dist": "uniform", "low": math.nan, "high": 2.0},
        {"dist": "uniform", "low": 0.0, "high": math.inf},
        {"dist": "normal", "mean": 0.0, "sd": math.inf},
        {"dist": "uniform", "low": 0.0, "high": 1.0, "mode": 0.5},
        {"dist": "normal", "mean": 0.0, "sd": 1.0, "median": 0.0},
        {"dist": "gamma", "shape": 2.0},
        {"dist": "beta", "a": 2.0},
        {"low": 0.0, "high": 1.0},
    ],
)
def test_invalid_parameters_are_rejected(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        dist(**fields)


def test_validation_accepts_integers_and_picks_family() -> None:
    d = dist(dist="uniform", low=1, high=3)
    assert isinstance(d, Uniform)
    assert (d.low, d.high) == (1.0, 3.0)
    assert isinstance(dist(dist="triangular", low=0, mode=0, high=1), Triangular)
    assert isinstance(dist(dist="normal", mean=0, sd=1, low=0), Normal)
    assert isinstance(dist(dist="lognormal", mean=1, sd=1), LogNormal)
    assert isinstance(dist(dist="beta", a=1, b=1), Beta)


def test_distributions_are_frozen() -> None:
    d = dist(dist="uniform", low=0.0, high=1.0)
    with pytest.raises(ValidationError):
        d.low = 0.5


# --- plain numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, 2.5, -1.0, 0])
def test_mean_and_support_of_plain_numbers(value: float) -> None:
    mean = mean_of(value)
    assert mean == value
    assert isinstance(mean, float)
    support = support_of(value)
    assert support == (value, value)
    assert all(isinstance(x, float) for x in support)


def test_mean_and_support_of_distributions() -> None:
    d = dist(dist="beta", a=1.0, b=3.0, low=0.0, high=0.2)
    assert mean_of(d) == pytest.approx(0.05, rel=1e-15)
    assert support_of(d) == (0.0, 0.2)
    n = dist(dist="normal", mean=1.0, sd=1.0)
    assert mean_of(n) == 1.0
    assert support_of(n) == (-math.inf, math.inf)


def test_normal_truncated_far_in_a_tail() -> None:
    with pytest.raises(ValidationError, match="none of its mass"):
        Normal.model_validate({"dist": "normal", "mean": 0.0, "sd": 1.0, "low": 50.0})
    # Nine sd out the mass is 1e-19: still exact, with the inverse Mills ratio as its mean.
    far = Normal.model_validate({"dist": "normal", "mean": 0.0, "sd": 1.0, "low": 9.0})
    assert far.mean() == pytest.approx(stats.truncnorm(9.0, np.inf).mean(), rel=1e-9)
    draws = far.ppf(np.array([1e-6, 0.5, 1 - 1e-6]))
    expected = stats.truncnorm(9.0, np.inf).ppf([1e-6, 0.5, 1 - 1e-6])
    np.testing.assert_allclose(draws, expected, rtol=1e-6)
    low_tail = Normal.model_validate({"dist": "normal", "mean": 0.0, "sd": 1.0, "high": -9.0})
    assert low_tail.mean() == pytest.approx(-far.mean(), rel=1e-12)


# --- with_mean: the same uncertainty around another mean ---------------------------------------

MOVES: list[tuple[dict[str, Any], float]] = [
    ({"dist": "fixed", "value": 3.5}, -2.0),
    ({"dist": "uniform", "low": 0.02, "high": 0.08}, 0.2),
    ({"dist": "uniform", "low": -3.0, "high": 7.0}, -10.0),
    ({"dist": "triangular", "low": 18000.0, "mode": 25000.0, "high": 34000.0}, 50000.0),
    ({"dist": "triangular", "low": 18000.0, "mode": 25000.0, "high": 34000.0}, 6000.0),
    ({"dist": "triangular", "low": 0.0, "mode": 0.0, "high": 1.0}, 0.01),
    ({"dist": "triangular", "low": -50.0, "mode": 10.0, "high": 20.0}, 5.0),
    ({"dist": "normal", "mean": 5.0, "sd": 2.0}, -1.0),
    ({"dist": "normal", "mean": 380.0, "sd": 40.0, "low": 200.0}, 100.0),
    ({"dist": "normal", "mean": 0.1, "sd": 0.05, "low": 0.0, "high": 0.12}, 0.3),
    ({"dist": "normal", "mean": 5.0, "sd": 2.0, "high": 1.0}, 4.0),
    ({"dist": "lognormal", "mean": 6000.0, "sd": 4000.0}, 1500.0),
    ({"dist": "beta", "a": 12.0, "b": 148.0}, 0.2),
    ({"dist": "beta", "a": 0.5, "b": 0.5, "low": 10.0, "high": 20.0}, 11.0),
]


@pytest.mark.parametrize(("fields", "mean"), MOVES)
def test_with_mean_keeps_the_family_and_moves_the_mean(fields: dict[str, Any], mean: float) -> None:
    before = dist(**fields)
    after = with_mean(before, mean)
    assert type(after) is type(before)
    assert after.mean() == pytest.approx(mean, rel=1e-12, abs=1e-12)
    # The mean the model reports is the mean of what it draws.
    tol = 1e-5 * _scale(after) if not isinstance(after, LogNormal) else 1e-4 * after.sd
    assert abs(_grid_mean(after) - mean) <= tol
    if before.support()[0] >= 0.0 and not isinstance(before, Fixed):  # a fixed value goes anywhere
        assert after.support()[0] >= 0.0
    assert with_mean(before, before.mean()).mean() == pytest.approx(before.mean(), rel=1e-12)


def test_with_mean_scales_what_cannot_go_below_zero_and_shifts_what_can() -> None:
    households = dist(dist="triangular", low=18000.0, mode=25000.0, high=34000.0)
    doubled = with_mean(households, 2 * households.mean())
    assert (doubled.low, doubled.mode, doubled.high) == pytest.approx((36000.0, 50000.0, 68000.0))
    spend = dist(dist="lognormal", mean=6000.0, sd=4000.0)
    assert with_mean(spend, 3000.0) == dist(dist="lognormal", mean=3000.0, sd=2000.0)
    signed = dist(dist="uniform", low=-3.0, high=7.0)
    assert with_mean(signed, 12.0) == dist(dist="uniform", low=7.0, high=17.0)
    share = dist(dist="beta", a=12.0, b=148.0)
    moved = with_mean(share, 0.25)
    assert (moved.a + moved.b, moved.low, moved.high) == pytest.approx((160.0, 0.0, 1.0))


def test_with_mean_of_plain_numbers_and_fixed_values() -> None:
    assert with_mean(3, 4.5) == 4.5
    assert isinstance(with_mean(3, 4), float)
    assert with_mean(Fixed(value=1.0), 0.0) == Fixed(value=0.0)


@pytest.mark.parametrize(
    ("fields", "mean", "message"),
    [
        ({"dist": "triangular", "low": 0.0, "mode": 0.01, "high": 0.02}, 0.0, "non-negative"),
        ({"dist": "uniform", "low": 1.0, "high": 2.0}, -1.0, "non-negative"),
        ({"dist": "lognormal", "mean": 5.0, "sd": 1.0}, 0.0, "non-negative"),
        ({"dist": "normal", "mean": 1.0, "sd": 1.0, "low": 0.0}, -0.5, "non-negative"),
        ({"dist": "beta", "a": 2.0, "b": 2.0}, 1.0, "strictly between"),
        ({"dist": "beta", "a": 2.0, "b": 2.0, "low": 10.0, "high": 20.0}, 5.0, "strictly between"),
        ({"dist": "uniform", "low": 1.0, "high": 2.0}, math.nan, "finite"),
    ],
)
def test_with_mean_refuses_a_mean_the_family_cannot_have(
    fields: dict[str, Any], mean: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        with_mean(dist(**fields), mean)


@settings(max_examples=200, deadline=None)
@given(
    fields=any_distribution,
    # Means of ordinary size: a mean of 5e-324 would scale a spread below the smallest double.
    target=st.one_of(
        st.just(0.0),
        st.floats(min_value=1e-6, max_value=1e4),
        st.floats(min_value=-1e4, max_value=-1e-6),
    ),
)
def test_with_mean_hits_any_mean_it_accepts(fields: dict[str, Any], target: float) -> None:
    try:
        before = dist(**fields)
    except ValidationError:
        assume(False)
        raise
    lo, hi = before.support()
    try:
        after = with_mean(before, target)
    except ValueError:
        # Only where the family cannot have that mean.
        assert (isinstance(before, Beta) and not lo < target < hi) or (lo >= 0.0 and target <= 0.0)
        return
    assert type(after) is type(before)
    assert after.mean() == pytest.approx(target, rel=1e-9, abs=1e-9 * max(1.0, _scale(after)))
    if lo >= 0.0 and not isinstance(before, Fixed):
        assert after.support()[0] >= 0.0
