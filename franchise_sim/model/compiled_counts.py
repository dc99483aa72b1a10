"""The count quantiles compiled with numba: `randomness.poisson_count` and `binomial_count`, looped.

Importing this module imports numba (about half a second) and loads or compiles the kernels
(a few seconds the first time, then from numba's cache), so the batch engine imports it only
when asked (`streams.CountQuantiles` with ``compiled=True``), and only when numba is installed
(the ``fast`` extra). The kernels follow the scalar functions line by line, with
``math``'s functions as they use them (numba calls the same C library). Where the scalar code
searches from the mean, its start and the exact distribution function there are computed first
with numpy and scipy (``ndtri``, ``pdtr``, ``bdtr``, as in `streams`), so the kernels
hold no pointers and numba can cache them.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray
from scipy import special

_SEARCH_FROM_MEAN = 12.0


@numba.njit(cache=True)
def _poisson_one(u: float, mean: float, k: int, cdf: float) -> float:  # pragma: no cover
    if mean <= 0.0 or u <= 0.0:
        return 0.0
    if mean < _SEARCH_FROM_MEAN:
        k = 0
        mass = math.exp(-mean)
        cdf = mass
        while cdf < u:
            k += 1
            mass *= mean / k
            if cdf + mass == cdf:
                break
            cdf += mass
        return float(k)
    mass = math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1))
    if cdf < u:
        while cdf < u:
            k += 1
            mass *= mean / k
            cdf += mass
            if mass < 1e-300:
                break
        return float(k)
    while k > 0 and cdf - mass >= u:
        cdf -= mass
        mass *= k / mean
        k -= 1
    return float(k)


@numba.njit(cache=True)
def _binomial_one(
    u: float, trials: float, p: float, k: int, cdf: float
) -> float:  # pragma: no cover
    n = int(trials)
    if n <= 0 or p <= 0.0 or u <= 0.0:
        return 0.0
    if p >= 1.0:
        return float(n)
    q = 1.0 - p
    ratio = p / q
    mean = n * p
    if mean < _SEARCH_FROM_MEAN:
        k = 0
        mass = math.exp(float(n) * math.log1p(-p))
        cdf = mass
        while cdf < u and k < n:
            mass *= (n - k) / (k + 1) * ratio
            k += 1
            if cdf + mass == cdf:
                break
            cdf += mass
        return float(k)
    log_mass = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    mass = math.exp(log_mass + k * math.log(p) + (n - k) * math.log1p(-p))
    if cdf < u:
        while cdf < u and k < n:
            mass *= (n - k) / (k + 1) * ratio
            k += 1
            cdf += mass
        return float(k)
    while k > 0 and cdf - mass >= u:
        cdf -= mass
        mass *= k / ((n - k + 1) * ratio)
        k -= 1
    return float(k)


@numba.njit(cache=True)
def _poisson_all(
    u: NDArray[np.float64],
    mean: NDArray[np.float64],
    start: NDArray[np.float64],
    cdf: NDArray[np.float64],
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    out = np.empty(u.size)
    for i in range(u.size):
        out[i] = _poisson_one(u[i], mean[i], int(start[i]), cdf[i])
    return out


@numba.njit(cache=True)
def _binomial_all(
    u: NDArray[np.float64],
    trials: NDArray[np.float64],
    p: NDArray[np.float64],
    start: NDArray[np.float64],
    cdf: NDArray[np.float64],
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    out = np.empty(u.size)
    for i in range(u.size):
        out[i] = _binomial_one(u[i], trials[i], p[i], int(start[i]), cdf[i])
    return out


def poisson_counts(u: NDArray[np.float64], mean: NDArray[np.float64]) -> NDArray[np.float64]:
    """`randomness.poisson_count` element by element, compiled (means already checked)."""
    u = np.ascontiguousarray(u, dtype=float)
    mean = np.ascontiguousarray(mean, dtype=float)
    start = np.zeros(u.size)
    cdf = np.zeros(u.size)
    search = np.flatnonzero((mean >= _SEARCH_FROM_MEAN) & (u > 0.0))
    if search.size:
        m = mean[search]
        z = special.ndtri(u[search])
        k = np.maximum(0.0, np.floor(m + np.sqrt(m) * z + (z * z - 1.0) / 6.0 + 0.5))
        start[search] = k
        cdf[search] = special.pdtr(k, m)
    return np.asarray(_poisson_all(u, mean, start, cdf))


def binomial_counts(
    u: NDArray[np.float64], trials: NDArray[np.float64], p: NDArray[np.float64]
) -> NDArray[np.float64]:
    """`randomness.binomial_count` element by element, compiled (means already checked)."""
    u = np.ascontiguousarray(u, dtype=float)
    trials = np.ascontiguousarray(trials, dtype=float)
    p = np.ascontiguousarray(p, dtype=float)
    start = np.zeros(u.size)
    cdf = np.zeros(u.size)
    search = np.flatnonzero(
        (trials > 0) & (p > 0.0) & (p < 1.0) & (u > 0.0) & (trials * p >= _SEARCH_FROM_MEAN)
    )
    if search.size:
        n, pp = trials[search], p[search]
        q = 1.0 - pp
        mean = n * pp
        z = special.ndtri(u[search])
        guess = mean + np.sqrt(mean * q) * z + (q - pp) * (z * z - 1.0) / 6.0 + 0.5
        k = np.minimum(n, np.maximum(0.0, np.floor(guess)))
        start[search] = k
        cdf[search] = special.bdtr(k, n.astype(np.int64), pp)
    return np.asarray(_binomial_all(u, trials, p, start, cdf))
