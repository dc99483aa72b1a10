"""The saddlepoint estimates of the count distribution functions, and the searches that trust them.

The estimates' error bound is checked, not derived: these scans are the check, over the domains
`saddlepoint` says it holds on. The searches must find the integers the exact distribution
function finds, uniforms set on its very levels included.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import special

from franchise_sim.model import randomness, saddlepoint
from franchise_sim.model import streams as br

_SIDES = np.linspace(-40.0, 40.0, 321)
"""Where the scans look: standard deviations either side of the mean."""


def _within_sides(mean: NDArray[np.float64], sd: NDArray[np.float64]) -> NDArray[np.float64]:
    """Counts at `_SIDES` standard deviations from each mean, one row per side."""
    return np.floor(mean[None, :] + sd[None, :] * _SIDES[:, None])


def test_the_poisson_estimate_is_within_a_fifth_of_its_bound() -> None:
    mean = np.concatenate([np.linspace(12.0, 64.0, 521), np.geomspace(64.0, 1e7, 300)])
    k = np.maximum(0.0, _within_sides(mean, np.sqrt(mean)))
    means = np.broadcast_to(mean, k.shape).ravel()
    estimate, bound = saddlepoint.poisson_cdf(k.ravel(), means)
    usable = np.isfinite(bound)
    assert usable.mean() > 0.99  # only the counts at the mean itself are left out
    error = np.abs(estimate - special.pdtr(k.ravel(), means))[usable]
    assert (error <= bound[usable] / 5.0).all()


def _binomials() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Trials from 24 to a million, at variances from the smallest usable, and chance 1/2."""
    trials, chances = [], []
    for n in np.unique(np.floor(np.geomspace(24.0, 1e6, 80))):
        for variance in (8.0, 8.5, 10.0, 14.0, 25.0, 60.0, 200.0, 1e3, 5e3, 1e5):
            if variance <= n / 4.0:
                p = (1.0 - np.sqrt(1.0 - 4.0 * variance / n)) / 2.0  # n p (1 - p) = variance
                trials += [n, n]
                chances += [p, 1.0 - p]
        trials.append(n)
        chances.append(0.5)
    return np.array(trials), np.array(chances)


def test_the_binomial_estimate_is_within_a_fifth_of_its_bound() -> None:
    n, p = _binomials()
    k = np.clip(_within_sides(n * p, np.sqrt(n * p * (1.0 - p))), 0.0, n)
    trials = np.broadcast_to(n, k.shape).ravel()
    chances = np.broadcast_to(p, k.shape).ravel()
    estimate, bound = saddlepoint.binomial_cdf(k.ravel(), trials, chances)
    usable = np.isfinite(bound)
    assert usable.mean() > 0.75  # the last counts of the clipped rows are left out
    exact = special.bdtr(k.ravel(), trials.astype(np.int64), chances)
    error = np.abs(estimate - exact)[usable]
    assert (error <= bound[usable] / 5.0).all()


def test_the_estimates_are_not_used_beyond_where_they_were_checked() -> None:
    _, bound = saddlepoint.poisson_cdf(np.array([2e7, 30.0]), np.array([2e7, 30.5]))
    assert bound[0] == np.inf  # a mean above the largest checked
    assert bound[1] == np.inf  # s = k + 1/2 is the mean: the formula's terms cancel
    k = np.array([10.0, 2e6, 100.0, 100.0])
    n = np.array([100.0, 4e6, 100.0, 200.0])
    p = np.array([0.07, 0.5, 0.5, 0.5])
    _, bound = saddlepoint.binomial_cdf(k, n, p)
    assert bound[0] == np.inf  # variance 6.5, below the smallest usable
    assert bound[1] == np.inf  # more trials than checked
    assert bound[2] == np.inf  # the last count
    assert bound[3] == pytest.approx(0.05 / 50.0**1.5 + 1e-5)  # n p q = 50


def _on_the_levels(levels: NDArray[np.float64], bound: NDArray[np.float64]) -> NDArray[np.float64]:
    """Uniforms on each level, one unit in the last place either side, and bound-fractions off."""
    shifts = np.array([-1.5, -0.5, -0.1, 0.1, 0.5, 1.5])
    near = (levels[:, None] + shifts[None, :] * bound[:, None]).ravel()
    return np.concatenate([near, np.nextafter(levels, 0.0), levels, np.nextafter(levels, 1.0)])


def _poisson_cases() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    mean = np.concatenate([np.linspace(12.0, 40.0, 60), np.geomspace(40.0, 1e6, 40)])
    mean = np.repeat(mean, 9)
    sides = np.tile(np.linspace(-3, 3, 9), mean.size // 9)
    k = np.maximum(0.0, np.floor(mean + np.sqrt(mean) * sides))
    u = _on_the_levels(special.pdtr(k, mean), saddlepoint.error_bound(mean))
    means = np.concatenate([np.repeat(mean, 6), mean, mean, mean])
    keep = (u > 0.0) & (u < 1.0)
    return u[keep], means[keep]


def _binomial_cases() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    n, p = _binomials()
    n, p = n[n * p >= 12.0], p[n * p >= 12.0]  # the searches' domain
    n, p = np.repeat(n, 7), np.repeat(p, 7)
    sd = np.sqrt(n * p * (1.0 - p))
    k = np.clip(np.floor(n * p + sd * np.tile(np.linspace(-3, 3, 7), n.size // 7)), 0.0, n)
    levels = np.asarray(special.bdtr(k, n.astype(np.int64), p), dtype=float)
    u = _on_the_levels(levels, saddlepoint.error_bound(sd * sd))
    trials = np.concatenate([np.repeat(n, 6), n, n, n])
    chances = np.concatenate([np.repeat(p, 6), p, p, p])
    keep = (u > 0.0) & (u < 1.0)
    return u[keep], trials[keep], chances[keep]


def _exact_only(estimate: Callable[..., Any]) -> Callable[..., Any]:
    """The estimate with every bound infinite: the searches then start on the exact function."""

    def exact_only(*args: NDArray[np.float64]) -> tuple[Any, Any]:
        cdf, bound = estimate(*args)
        return cdf, np.full_like(bound, np.inf)

    return exact_only


def test_the_poisson_search_finds_what_the_exact_start_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    u, mean = _poisson_cases()
    found = br.poisson_counts(u, mean)
    with monkeypatch.context() as patch:
        patch.setattr(saddlepoint, "poisson_cdf", _exact_only(saddlepoint.poisson_cdf))
        exact = br.poisson_counts(u, mean)
    np.testing.assert_array_equal(found, exact)
    # The scalar search agrees too, but for uniforms within a rounding error of a level
    # (its math.exp and numpy's differ in the last digit: the streams module says so).
    scalar = np.array([randomness.poisson_count(a, b) for a, b in zip(u, mean, strict=True)])
    clear = _clear_of_levels(u, lambda k: special.pdtr(k, mean), scalar)
    np.testing.assert_array_equal(found[clear], scalar[clear])
    # Trusting every estimate, doubtful ones included, finds other integers.
    monkeypatch.setattr(br, "_clear_of_steps", lambda u, *_: np.ones(u.shape, dtype=bool))
    assert (br.poisson_counts(u, mean) != exact).sum() > 100


def test_the_binomial_search_finds_what_the_exact_start_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    u, n, p = _binomial_cases()
    found = br.binomial_counts(u, n, p)
    with monkeypatch.context() as patch:
        patch.setattr(saddlepoint, "binomial_cdf", _exact_only(saddlepoint.binomial_cdf))
        exact = br.binomial_counts(u, n, p)
    np.testing.assert_array_equal(found, exact)
    scalar = np.array(
        [randomness.binomial_count(a, int(b), c) for a, b, c in zip(u, n, p, strict=True)]
    )
    clear = _clear_of_levels(u, lambda k: special.bdtr(k, n.astype(np.int64), p), scalar)
    np.testing.assert_array_equal(found[clear], scalar[clear])
    monkeypatch.setattr(br, "_clear_of_steps", lambda u, *_: np.ones(u.shape, dtype=bool))
    assert (br.binomial_counts(u, n, p) != exact).sum() > 100


def test_the_compiled_searches_find_what_the_exact_start_finds() -> None:
    pytest.importorskip("numba")
    from franchise_sim.model import compiled_counts as kernels

    u, mean = _poisson_cases()
    trusted = kernels._poisson_estimated_all(u, mean, special.ndtri(u))
    asked = trusted == kernels._ASK_EXACT
    assert 0.01 < asked.mean() < 0.9  # uniforms on the levels: many doubtful, not all
    exact = kernels._poisson_from_exact(u, mean)
    np.testing.assert_array_equal(trusted[~asked], exact[~asked])
    np.testing.assert_array_equal(kernels.poisson_counts(u, mean), exact)
    # numpy's searches too, but for uniforms within a rounding error of a level (its exp and
    # gammaln and the kernels' math.exp and lgamma differ in the last digit)
    clear = _clear_of_levels(u, lambda k: special.pdtr(k, mean), exact)
    np.testing.assert_array_equal(exact[clear], br.poisson_counts(u, mean)[clear])

    u, n, p = _binomial_cases()
    trusted = kernels._binomial_estimated_all(u, n, p, special.ndtri(u))
    asked = trusted == kernels._ASK_EXACT
    assert 0.01 < asked.mean() < 0.9
    exact = kernels._binomial_from_exact(u, n, p)
    np.testing.assert_array_equal(trusted[~asked], exact[~asked])
    np.testing.assert_array_equal(kernels.binomial_counts(u, n, p), exact)
    clear = _clear_of_levels(u, lambda k: special.bdtr(k, n.astype(np.int64), p), exact)
    np.testing.assert_array_equal(exact[clear], br.binomial_counts(u, n, p)[clear])


def _clear_of_levels(
    u: NDArray[np.float64],
    cdf: Callable[[NDArray[np.float64]], NDArray[Any]],
    k: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Where ``u`` stands more than 1e-12 from the levels at ``k`` and ``k - 1``."""
    step = np.fmin(np.abs(u - cdf(k)), np.abs(u - cdf(k - 1)))
    clear: NDArray[np.bool_] = step > 1e-12
    assert clear.mean() > 0.5
    return clear


def test_the_compiled_searches_leave_the_estimates_domain_to_the_exact_function() -> None:
    pytest.importorskip("numba")
    from franchise_sim.model import compiled_counts as kernels

    u = np.array([0.3, 0.6, 0.5])
    mean = np.array([2e7, 30.0, 11.9])  # above the largest mean checked; below the searches'
    trusted = kernels._poisson_estimated_all(u, mean, special.ndtri(u))
    assert trusted[0] == kernels._ASK_EXACT
    assert trusted[2] == randomness.poisson_count(0.5, 11.9)  # summed from zero, no estimate
    n = np.array([186.0, 4e6, 14.0])
    p = np.array([0.07, 0.5, 0.9])  # variance 12.1; more trials than checked; variance 1.3
    trusted = kernels._binomial_estimated_all(u, n, p, special.ndtri(u))
    assert trusted[0] != kernels._ASK_EXACT
    assert (trusted[1:] == kernels._ASK_EXACT).all()
    np.testing.assert_array_equal(kernels.binomial_counts(u, n, p), br.binomial_counts(u, n, p))


def test_the_compiled_exact_searches_are_the_scalar_counts_inside_and_outside_their_domain() -> (
    None
):
    """Started on the compiled Cornish-Fisher guess: the scalar exact counts, searched or not."""
    pytest.importorskip("numba")
    from franchise_sim.model import compiled_counts as kernels

    rng = np.random.default_rng(21)
    u = np.concatenate([rng.random(400), [0.0, 0.0, 0.5, 0.5, 0.5, 0.5]])
    mean = np.concatenate([rng.choice([0.0, 3.0, 11.9, 12.0, 80.0, 4e4], 400), [0.0, 50.0] * 3])
    scalar = [
        randomness.poisson_count(a, b) for a, b in zip(u.tolist(), mean.tolist(), strict=True)
    ]
    np.testing.assert_array_equal(kernels._poisson_from_exact(u, mean), scalar)
    trials = np.concatenate([rng.choice([0.0, 5.0, 40.0, 400.0, 9000.0], 400), [0.0, 60.0] * 3])
    p = np.concatenate([rng.choice([0.0, 0.01, 0.2, 0.5, 0.97, 1.0], 400), [0.3, 1.0] * 3])
    scalar = [
        randomness.binomial_count(a, int(n), c)
        for a, n, c in zip(u.tolist(), trials.tolist(), p.tolist(), strict=True)
    ]
    np.testing.assert_array_equal(kernels._binomial_from_exact(u, trials, p), scalar)
    searched = (trials * p >= 12.0) & (p < 1.0) & (u > 0.0)
    assert 0.2 < searched.mean() < 0.8  # both kinds
    # the starts: the guess numpy's searches take where they search (u > 0), and 0 elsewhere
    inside = u > 0.0
    z = special.ndtri(u[inside])
    m = mean[inside]
    guess = np.maximum(0.0, np.floor(m + np.sqrt(m) * z + (z * z - 1.0) / 6.0 + 0.5))
    np.testing.assert_array_equal(kernels._poisson_starts(m, z), np.where(m >= 12.0, guess, 0.0))
    n, c = trials[inside], p[inside]
    q, nc = 1.0 - c, n * c
    guess = np.minimum(
        n, np.maximum(0.0, np.floor(nc + np.sqrt(nc * q) * z + (q - c) * (z * z - 1.0) / 6.0 + 0.5))
    )
    searches = (n > 0) & (c > 0.0) & (c < 1.0) & (nc >= 12.0)
    np.testing.assert_array_equal(kernels._binomial_starts(n, c, z), np.where(searches, guess, 0.0))


def test_the_compiled_log_factorials_are_pythons_own_and_the_counts_the_scalar_ones() -> None:
    """Below the table's end Python's ``math.lgamma`` exactly; across it, the same counts."""
    pytest.importorskip("numba")
    from franchise_sim.model import compiled_counts as kernels

    size = kernels._LOG_FACTORIALS.size
    for k in (0, 1, 2, 170, size - 1):
        assert kernels._log_factorial(k) == math.lgamma(k + 1.0)
    for k in (size, size + 1, 20_000):  # the call beyond it, the same function to rounding
        assert kernels._log_factorial(k) == pytest.approx(math.lgamma(k + 1.0), rel=1e-14)
    rng = np.random.default_rng(5)
    u = rng.random(600)
    trials = rng.choice([size - 2.0, size - 1.0, size, size + 1.0, 9_000.0, 300.0], 600)
    p = rng.choice([0.004, 0.05, 0.5, 0.93], 600)
    scalar = [
        randomness.binomial_count(a, int(n), c)
        for a, n, c in zip(u.tolist(), trials.tolist(), p.tolist(), strict=True)
    ]
    np.testing.assert_array_equal(kernels.binomial_counts(u, trials, p), scalar)
    mean = rng.choice([size - 1.0, size + 0.5, 50.0, 12.0, 9_000.0], 600)
    scalar = [
        randomness.poisson_count(a, m) for a, m in zip(u.tolist(), mean.tolist(), strict=True)
    ]
    np.testing.assert_array_equal(kernels.poisson_counts(u, mean), scalar)
