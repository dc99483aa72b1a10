"""The count quantiles compiled with numba: `randomness.poisson_count` and `binomial_count`, looped.

Importing this module imports numba (about 0.2 s) and loads or compiles the kernels (a few
seconds the first time, then about 0.3 s from numba's cache), so the batch engine imports it
only when a run is large enough to repay that or this process already has it
(`streams.count_quantiles`), and only when numba is installed (the ``fast`` extra).

Each element's search follows `streams`' numpy one: it starts on the guess from ``ndtri`` (taken
with scipy, one call, beforehand), on `saddlepoint`'s estimate of the distribution function
there, and steps to the quantile; where the estimate is unusable or the levels either side of
the quantile stand within its error bound of the uniform, the element is searched again from
the exact distribution function (scipy's ``pdtr``, ``bdtr``) by the scalar loop, so every count
is the integer the exact start finds. The kernels follow the scalar functions line by line, with
``math``'s functions as they use them (numba calls the same C library), but for the log
factorials that place a search's start: below 4,096 a table of Python's own ``math.lgamma``
(`_log_factorial`; numba's differs from it in the last digit for about half of them), above it
numba's. Either only places the start, whose count the steps and the bound then decide. They
hold no pointers, so numba can cache them.

The module also holds the element-wise ``math.exp`` and powers the model takes where numpy's
may differ in the last digit (`streams.exact_exp`, `streams.exact_pow`): the same C library's
``exp`` and ``pow`` that Python calls, looped without a Python call per element. Each reports
whether every element lay where Python's own function returns that number rather than raising
(an overflow, a negative base, a zero to a negative power); where one did not, `streams` takes
the call through Python's function instead. `MATHS_AGREE` records the check, made on loading,
that they give Python's numbers here.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray
from scipy import special

from franchise_sim.model.saddlepoint import (
    ERROR_AT_UNIT_VARIANCE,
    LARGEST_MEAN,
    LARGEST_TRIALS,
    ROUNDING_ERROR,
    SMALLEST_VARIANCE,
    SMALLEST_W,
)

_SEARCH_FROM_MEAN = 12.0
_ASK_EXACT = -1.0
"""What an estimated search returns where the exact distribution function must decide."""
_LOG_FACTORIALS = np.array([math.lgamma(k + 1.0) for k in range(4096)])
"""``math.lgamma(k + 1)`` for ``k`` below 4,096, Python's own numbers (`_log_factorial`)."""
_ONE_OVER_ROOT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)
_ROOT_TWO = math.sqrt(2.0)


@numba.njit(cache=True)
def _log_factorial(k: int) -> float:  # pragma: no cover - compiled
    """``math.lgamma(k + 1)``: from `_LOG_FACTORIALS` where it reaches, else the call."""
    if 0 <= k < _LOG_FACTORIALS.size:
        return float(_LOG_FACTORIALS[k])
    return math.lgamma(k + 1)


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
    return float(_poisson_steps(u, mean, k, cdf)[0])


@numba.njit(cache=True)
def _poisson_steps(
    u: float, mean: float, k: int, cdf: float
) -> tuple[int, float, float]:  # pragma: no cover - compiled
    """Step from ``k`` (``cdf`` there) to the quantile; the count, its cdf and its mass."""
    mass = math.exp(-mean + k * math.log(mean) - _log_factorial(k))
    if cdf < u:
        while cdf < u:
            k += 1
            mass *= mean / k
            cdf += mass
            if mass < 1e-300:
                break
        return k, cdf, mass
    while k > 0 and cdf - mass >= u:
        cdf -= mass
        mass *= k / mean
        k -= 1
    return k, cdf, mass


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
    return float(_binomial_steps(u, n, p, ratio, k, cdf)[0])


@numba.njit(cache=True)
def _binomial_steps(
    u: float, n: int, p: float, ratio: float, k: int, cdf: float
) -> tuple[int, float, float]:  # pragma: no cover - compiled
    """Step from ``k`` (``cdf`` there) to the quantile; the count, its cdf and its mass."""
    log_mass = _log_factorial(n) - _log_factorial(k) - _log_factorial(n - k)
    mass = math.exp(log_mass + k * math.log(p) + (n - k) * math.log1p(-p))
    if cdf < u:
        while cdf < u and k < n:
            mass *= (n - k) / (k + 1) * ratio
            k += 1
            cdf += mass
        return k, cdf, mass
    while k > 0 and cdf - mass >= u:
        cdf -= mass
        mass *= k / ((n - k + 1) * ratio)
        k -= 1
    return k, cdf, mass


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


@numba.njit(cache=True)
def _tail(d: float, deviance: float, sd: float) -> float:  # pragma: no cover - compiled
    """`saddlepoint`'s tail formula, or NaN within `SMALLEST_W` of the mean."""
    w = math.copysign(math.sqrt(2.0 * deviance), d)
    if not abs(w) >= SMALLEST_W:
        return math.nan
    normal = 0.5 * math.erfc(-w / _ROOT_TWO)  # Phi(w)
    return normal + math.exp(-deviance) * _ONE_OVER_ROOT_TWO_PI * (1.0 / w - sd / d)


@numba.njit(cache=True)
def _clear(u: float, k: int, cdf: float, mass: float, variance: float) -> bool:  # pragma: no cover
    """`streams._clear_of_steps` of one search, its bound `saddlepoint.error_bound`'s."""
    bound = ERROR_AT_UNIT_VARIANCE / (variance * math.sqrt(variance)) + ROUNDING_ERROR
    return cdf - u >= bound and (k == 0 or u - (cdf - mass) > bound)


@numba.njit(cache=True)
def _poisson_start(mean: float, z: float) -> float:  # pragma: no cover - compiled
    """Where a search from the mean starts: the Cornish-Fisher guess; ``z`` is ``ndtri(u)``."""
    return max(0.0, math.floor(mean + math.sqrt(mean) * z + (z * z - 1.0) / 6.0 + 0.5))


@numba.njit(cache=True)
def _binomial_start(trials: float, p: float, z: float) -> float:  # pragma: no cover
    """Where a search from the mean starts, at most ``trials``; ``z`` is ``ndtri(u)``."""
    q = 1.0 - p
    mean = trials * p
    guess = mean + math.sqrt(mean * q) * z + (q - p) * (z * z - 1.0) / 6.0 + 0.5
    return min(trials, max(0.0, math.floor(guess)))


@numba.njit(cache=True)
def _poisson_estimated(u: float, mean: float, z: float) -> float:  # pragma: no cover
    """`_poisson_one` started on the estimate, or `_ASK_EXACT`; ``z`` is ``ndtri(u)``."""
    if mean <= 0.0 or u <= 0.0:
        return 0.0
    if mean < _SEARCH_FROM_MEAN:
        return _poisson_one(u, mean, 0, 0.0)
    if not mean <= LARGEST_MEAN:
        return _ASK_EXACT
    start = _poisson_start(mean, z)
    s = start + 0.5
    d = s - mean
    sd = math.sqrt(mean)
    cdf = _tail(d, s * math.log1p(d / mean) - d, sd)
    if not math.isfinite(cdf):
        return _ASK_EXACT
    k, cdf, mass = _poisson_steps(u, mean, int(start), cdf)
    return float(k) if _clear(u, k, cdf, mass, sd * sd) else _ASK_EXACT


@numba.njit(cache=True)
def _binomial_estimated(
    u: float, trials: float, p: float, z: float
) -> float:  # pragma: no cover - compiled
    """`_binomial_one` started on the estimate, or `_ASK_EXACT`; ``z`` is ``ndtri(u)``."""
    n = int(trials)
    if n <= 0 or p <= 0.0 or u <= 0.0:
        return 0.0
    if p >= 1.0:
        return float(n)
    q = 1.0 - p
    mean = n * p
    if mean < _SEARCH_FROM_MEAN:
        return _binomial_one(u, trials, p, 0, 0.0)
    variance = mean * q
    if not (variance >= SMALLEST_VARIANCE and trials <= LARGEST_TRIALS):
        return _ASK_EXACT
    start = _binomial_start(trials, p, z)
    if not start < trials:
        return _ASK_EXACT
    s = start + 0.5
    d = s - mean
    deviance = s * math.log1p(d / mean) + (trials - s) * math.log1p(-d / (trials - mean))
    cdf = _tail(d, deviance, math.sqrt(variance))
    if not math.isfinite(cdf):
        return _ASK_EXACT
    k, cdf, mass = _binomial_steps(u, n, p, p / q, int(start), cdf)
    return float(k) if _clear(u, k, cdf, mass, variance) else _ASK_EXACT


@numba.njit(cache=True)
def _poisson_estimated_all(
    u: NDArray[np.float64], mean: NDArray[np.float64], z: NDArray[np.float64]
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    out = np.empty(u.size)
    for i in range(u.size):
        out[i] = _poisson_estimated(u[i], mean[i], z[i])
    return out


@numba.njit(cache=True)
def _binomial_estimated_all(
    u: NDArray[np.float64],
    trials: NDArray[np.float64],
    p: NDArray[np.float64],
    z: NDArray[np.float64],
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    out = np.empty(u.size)
    for i in range(u.size):
        out[i] = _binomial_estimated(u[i], trials[i], p[i], z[i])
    return out


@numba.njit(cache=True)
def _poisson_starts(
    mean: NDArray[np.float64], z: NDArray[np.float64]
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    """Where `_poisson_from_exact` starts each search (0 where it does not search)."""
    out = np.zeros(mean.size)
    for i in range(mean.size):
        if mean[i] >= _SEARCH_FROM_MEAN:
            out[i] = _poisson_start(mean[i], z[i])
    return out


@numba.njit(cache=True)
def _binomial_starts(
    trials: NDArray[np.float64], p: NDArray[np.float64], z: NDArray[np.float64]
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    """Where `_binomial_from_exact` starts each search (0 where it does not search)."""
    out = np.zeros(trials.size)
    for i in range(trials.size):
        n, pp = trials[i], p[i]
        if n > 0 and 0.0 < pp < 1.0 and n * pp >= _SEARCH_FROM_MEAN:
            out[i] = _binomial_start(n, pp, z[i])
    return out


def poisson_counts(u: NDArray[np.float64], mean: NDArray[np.float64]) -> NDArray[np.float64]:
    """`randomness.poisson_count` element by element, compiled (means already checked)."""
    u = np.ascontiguousarray(u, dtype=float)
    mean = np.ascontiguousarray(mean, dtype=float)
    z = special.ndtri(u)
    out: NDArray[np.float64] = _poisson_estimated_all(u, mean, z)
    ask = np.flatnonzero(out == _ASK_EXACT)
    if ask.size:
        out[ask] = _poisson_from_exact(u[ask], mean[ask], z[ask])
    return out


def binomial_counts(
    u: NDArray[np.float64], trials: NDArray[np.float64], p: NDArray[np.float64]
) -> NDArray[np.float64]:
    """`randomness.binomial_count` element by element, compiled (means already checked)."""
    u = np.ascontiguousarray(u, dtype=float)
    trials = np.ascontiguousarray(trials, dtype=float)
    p = np.ascontiguousarray(p, dtype=float)
    z = special.ndtri(u)
    out: NDArray[np.float64] = _binomial_estimated_all(u, trials, p, z)
    ask = np.flatnonzero(out == _ASK_EXACT)
    if ask.size:
        out[ask] = _binomial_from_exact(u[ask], trials[ask], p[ask], z[ask])
    return out


def _poisson_from_exact(
    u: NDArray[np.float64], mean: NDArray[np.float64], z: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """The searches started on the exact distribution function (``pdtr``).

    From the estimate's start (`_poisson_starts`); ``z`` is ``ndtri(u)`` where already taken.
    """
    u = np.ascontiguousarray(u, dtype=float)
    mean = np.ascontiguousarray(mean, dtype=float)
    z = special.ndtri(u) if z is None else np.ascontiguousarray(z, dtype=float)
    starts = _poisson_starts(mean, z)
    return np.asarray(_poisson_all(u, mean, starts, special.pdtr(starts, mean)))


def _binomial_from_exact(
    u: NDArray[np.float64],
    trials: NDArray[np.float64],
    p: NDArray[np.float64],
    z: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """The searches started on the exact distribution function (``bdtr``).

    From the estimate's start (`_binomial_starts`); ``z`` is ``ndtri(u)`` where already taken.
    """
    u = np.ascontiguousarray(u, dtype=float)
    trials = np.ascontiguousarray(trials, dtype=float)
    p = np.ascontiguousarray(p, dtype=float)
    z = special.ndtri(u) if z is None else np.ascontiguousarray(z, dtype=float)
    starts = _binomial_starts(trials, p, z)
    levels = np.asarray(special.bdtr(starts, trials.astype(np.int64), p), dtype=float)
    return np.asarray(_binomial_all(u, trials, p, starts, levels))


@numba.njit(cache=True)
def _exps(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], bool]:  # pragma: no cover
    out = np.empty(x.size)
    plain = True
    for i in range(x.size):
        plain = plain and abs(x[i]) <= _EXP_PLAIN_WITHIN  # NaN too: not plain
        out[i] = math.exp(x[i])
    return out, plain


@numba.njit(cache=True)
def _powers_of_number(
    number: float, exponents: NDArray[np.float64]
) -> tuple[NDArray[np.float64], bool]:  # pragma: no cover - compiled
    out = np.empty(exponents.size)
    plain = number > 0.0
    for i in range(exponents.size):
        out[i] = number ** exponents[i]
        plain = plain and math.isfinite(out[i])
    return out, plain


@numba.njit(cache=True)
def _powers_to(
    bases: NDArray[np.float64], power: float
) -> tuple[NDArray[np.float64], bool]:  # pragma: no cover - compiled
    out = np.empty(bases.size)
    plain = True
    for i in range(bases.size):
        out[i] = bases[i] ** power
        plain = plain and bases[i] >= 0.0 and math.isfinite(out[i])
    return out, plain


_EXP_PLAIN_WITHIN = 708.0
"""Arguments, either side of zero, whose ``math.exp`` neither overflows nor is taken apart."""


def exps(x: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """``math.exp`` of every element, or None where one is beyond `_EXP_PLAIN_WITHIN`."""
    flat = np.ascontiguousarray(x, dtype=float).ravel()
    out, plain = _exps(flat)
    return out.reshape(np.shape(x)) if plain else None


def powers_of_number(number: float, exponents: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """``number ** e`` for every element ``e``, or None where Python's might raise or differ.

    A base that is not positive, or a power that is not a finite number, leaves it to Python.
    """
    flat = np.ascontiguousarray(exponents, dtype=float).ravel()
    out, plain = _powers_of_number(float(number), flat)
    return out.reshape(np.shape(exponents)) if plain else None


def powers_to(bases: NDArray[np.float64], power: float) -> NDArray[np.float64] | None:
    """``b ** power`` for every element ``b``, or None where Python's might raise or differ.

    A negative base (a complex power in Python), or a power that is not a finite number, leaves
    it to Python.
    """
    flat = np.ascontiguousarray(bases, dtype=float).ravel()
    out, plain = _powers_to(flat, float(power))
    return out.reshape(np.shape(bases)) if plain else None


def _maths_agree() -> bool:
    """Whether the compiled ``exp`` and powers give Python's own numbers here, bit for bit.

    Checked on arguments across the model's ranges, where numpy's own functions differ from
    ``math``'s in the last digit for a few percent of them.
    """
    x = np.concatenate((np.linspace(-708.0, 708.0, 4001), np.linspace(-3.0, 3.0, 4001)))
    exponents = np.concatenate((np.linspace(0.0, 40.0, 4001), np.geomspace(1e-9, 1.0, 501)))
    bases = np.concatenate((np.linspace(0.0, 1.0, 4001), np.geomspace(1e-300, 1e3, 501)))
    checks = [
        (exps(x), [math.exp(v) for v in x.tolist()]),
        (powers_of_number(0.5, exponents), [0.5**e for e in exponents.tolist()]),
        (powers_of_number(1.03, exponents), [1.03**e for e in exponents.tolist()]),
    ]
    for power in (0.5, 0.25, 1.7, 1.0 / 12.0):
        checks.append((powers_to(bases, power), [b**power for b in bases.tolist()]))
    return all(
        got is not None and got.tobytes() == np.array(want).tobytes() for got, want in checks
    )


MATHS_AGREE = _maths_agree()
"""Whether `exps`, `powers_of_number` and `powers_to` give Python's numbers on this machine."""
