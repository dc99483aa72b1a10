"""Saddlepoint estimates of the Poisson and binomial distribution functions, and their error.

The count searches of `streams` start from a guess and need the distribution function there to
step to the quantile. The exact function (``scipy.special.pdtr``, ``bdtr``: incomplete gamma and
beta functions) costs 140-230 ns an element, most of a search's time. This estimate costs 30-70
ns and comes with a bound on its error (`error_bound`); a search may trust it wherever the
levels either side of the quantile it finds stand farther than that from the uniform, which is
most of them, and leave the rest to the exact function. The quantile found is the same integer
either way: only which function tells the side of a step changes, and it is asked only where
both tell the same.

The estimate is Lugannani and Rice's tail formula with Daniels' second continuity correction
for a lattice distribution (Daniels 1987, "Tail probability approximations", International
Statistical Review 55, 37-48): with ``s = k + 1/2``, ``w`` the signed root of twice the
deviance of ``s`` from the mean, and ``v = 2 sinh(t / 2) sqrt(K''(t))`` at the saddlepoint
``t`` (``K'(t) = s``),

    P(X <= k) ~ Phi(w) + phi(w) (1/w - 1/v).

For the Poisson, ``K(t) = mean (e^t - 1)``; for the binomial, ``K(t) = n log(q + p e^t)``: both
have closed forms (``e^t`` is ``s / mean`` and ``s q / ((n - s) p)``), so no root is searched.

Its error is a stated bound, checked rather than derived. Over the counts within 40 standard
deviations of Poisson means 12 (the searches' smallest) to `LARGEST_MEAN`, and of binomials of
variance ``n p q`` from `SMALLEST_VARIANCE` and of up to `LARGEST_TRIALS` trials, the largest
error against scipy's exact functions at variance ``v`` or more is ``c / v**1.5`` with ``c``
from 8.6e-3 (``v`` = 8) down to 7.4e-3 (``v`` = 1024), and a few 1e-7 of rounding at the
largest sizes; `error_bound` is ``0.05 / v**1.5 + 1e-5``, over five times either. Beyond
those sizes it is not used: scipy's ``bdtr`` itself is off by 7e-4 at ten million trials
(against ``betainc``), and the searches must find what it finds. Within `SMALLEST_W` of the
mean the formula's two terms cancel, and it is not used there either, nor at a binomial's
last count. ``tests/test_saddlepoint.py`` scans those domains against scipy.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import special

ERROR_AT_UNIT_VARIANCE = 0.05
"""The bound's error at a variance of one (`error_bound`)."""
ROUNDING_ERROR = 1e-5
"""The bound's allowance for rounding at the largest sizes (`error_bound`)."""
SMALLEST_VARIANCE = 8.0
"""A binomial's variance ``n p q`` below which the estimate is not used (it errs up to 0.01)."""
SMALLEST_W = 1e-3
"""Closer to the mean than this (``|w|``, in standard deviations) the estimate is not used."""
LARGEST_MEAN = 1e7
"""Poisson means above this are left to the exact function (the bound was checked up to it)."""
LARGEST_TRIALS = 1e6
"""Binomials of more trials are left to the exact function (the bound was checked up to it)."""
_ONE_OVER_ROOT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)


def error_bound(variance: NDArray[np.float64]) -> NDArray[np.float64]:
    """How far the estimate may be from the exact distribution function, by variance."""
    return np.asarray(ERROR_AT_UNIT_VARIANCE / (variance * np.sqrt(variance)) + ROUNDING_ERROR)


def _estimate(
    d: NDArray[np.float64],
    deviance: NDArray[np.float64],
    sd: NDArray[np.float64],
    usable: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The tail formula from ``d = s - mean``, the deviance and the standard deviation.

    ``v`` is ``d / sd`` for both families (``2 sinh(t / 2) sqrt(K''(t))`` simplifies to it),
    taken so rather than through ``e^t``, which loses digits near the mean.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.copysign(np.sqrt(2.0 * deviance), d)
        cdf = special.ndtr(w) + np.exp(-deviance) * _ONE_OVER_ROOT_TWO_PI * (1.0 / w - sd / d)
    usable &= np.abs(w) >= SMALLEST_W
    usable &= np.isfinite(cdf)
    bound = error_bound(sd * sd)
    bound[~usable] = np.inf
    return np.asarray(cdf, dtype=float), bound


def poisson_cdf(
    k: NDArray[np.float64], mean: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The estimate of ``P(X <= k)`` for Poisson means of 12 or more, and its error bound.

    Args:
        k: Whole numbers, at least 0.
        mean: The means, at least 12 (not checked).

    Returns:
        The estimates, and how far each may be from the exact function (`error_bound`):
        infinite where the estimate is not to be used (it may be anything there, NaN too).
    """
    s = k + 0.5
    d = s - mean
    deviance = s * np.log1p(d / mean) - d  # s log(s / mean) - s + mean
    return _estimate(d, deviance, np.sqrt(mean), mean <= LARGEST_MEAN)


def binomial_cdf(
    k: NDArray[np.float64], n: NDArray[np.float64], p: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The estimate of ``P(X <= k)`` for binomials, and its error bound.

    Args:
        k: Whole numbers from 0 to ``n``.
        n: Trials, whole numbers.
        p: Chances, strictly between 0 and 1.

    Returns:
        The estimates, and how far each may be from the exact function (`error_bound`):
        infinite where the estimate is not to be used (it may be anything there, NaN too).
    """
    s = k + 0.5
    mean = n * p
    failures = n - mean  # n q
    variance = mean * (1.0 - p)
    d = s - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        # s log(s / np) + (n - s) log((n - s) / nq)
        deviance = s * np.log1p(d / mean) + (n - s) * np.log1p(-d / failures)
    usable = (variance >= SMALLEST_VARIANCE) & (n <= LARGEST_TRIALS) & (k < n)
    return _estimate(d, deviance, np.sqrt(variance), usable)
