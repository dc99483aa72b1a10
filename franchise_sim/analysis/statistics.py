"""Statistics of simulation results: pure functions of arrays, nothing printed or drawn.

Paired differences use the replication pairing that common random numbers create: replication
``r`` of the franchise arm is compared with replication ``r`` of the independent arm.

The quantiles come from ``scipy.special`` (``stdtrit``, ``ndtri``, ``bdtr``), which
``scipy.stats``'s t and normal distributions call for the same numbers: importing
``scipy.stats`` would cost about half a second of every command and first ``simulate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    level: float = 0.95


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and the 10th and 90th percentiles of a sample."""

    median: float
    p10: float
    p90: float


def spread(values: Array) -> Spread:
    """Median, P10 and P90, ignoring NaN; all NaN when nothing is left."""
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return Spread(math.nan, math.nan, math.nan)
    p10, median, p90 = np.percentile(finite, [10, 50, 90])
    return Spread(float(median), float(p10), float(p90))


def mean_interval(values: Array, level: float = 0.95) -> Interval:
    """Mean with a Student-t confidence interval (NaN values dropped)."""
    finite = values[~np.isnan(values)]
    n = finite.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, level)
    mean = float(finite.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, level)
    half = float(special.stdtrit(n - 1, 0.5 + level / 2)) * float(finite.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, level)


def paired_difference(treated: Array, baseline: Array, level: float = 0.95) -> Interval:
    """Mean of ``treated - baseline`` over paired replications, with its confidence interval."""
    return mean_interval(np.asarray(treated - baseline, dtype=float), level)


def unpaired_difference(treated: Array, baseline: Array, level: float = 0.95) -> Interval:
    """Difference of means treating the samples as independent (Welch interval)."""
    a, b = treated[~np.isnan(treated)], baseline[~np.isnan(baseline)]
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(diff, diff, diff, level)
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(special.stdtrit(dof, 0.5 + level / 2)) * se
    return Interval(diff, diff - half, diff + half, level)


def survival_curve(alive: Array) -> Array:
    """Share of businesses open at the end of each month: (arm, month) from (arm, run, month)."""
    return np.asarray(alive.mean(axis=-2), dtype=float)


def survival_at(alive: Array, month: int) -> Array:
    """Share of businesses open at the end of ``month`` (1-based), per arm."""
    return np.asarray(alive[..., month - 1].mean(axis=-1), dtype=float)


def probability_better(treated: Array, baseline: Array) -> float:
    """Share of paired replications in which ``treated`` exceeds ``baseline``."""
    return float(np.mean(treated > baseline))


def median_interval(values: Array, level: float = 0.95) -> Interval:
    """Median with a distribution-free confidence interval from order statistics (NaN dropped).

    The interval runs from the ``k``-th smallest to the ``k``-th largest value, with ``k`` the
    largest rank whose binomial(n, 1/2) tail leaves at least ``level`` coverage; its coverage
    is at least ``level`` whatever the distribution. Too small a sample for that (five or
    fewer values at 95%) gives NaN bounds.
    """
    finite = np.sort(values[~np.isnan(values)])
    n = finite.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, level)
    median = float(np.median(finite))
    below = lower_rank(n, (1.0 - level) / 2)  # values allowed below the lower bound
    if below < 0:
        return Interval(median, math.nan, math.nan, level)
    return Interval(median, float(finite[below]), float(finite[n - 1 - below]), level)


def lower_rank(n: int, tail: float) -> int:
    """The largest ``k`` with ``P(Binomial(n, 1/2) <= k) <= tail``; -1 if there is none.

    Found from the continuous inverse (``bdtrik``) and checked against the distribution
    function itself, a step at a time either way.
    """
    guess = float(special.bdtrik(tail, n, 0.5))
    k = min(n, max(-1, math.floor(guess))) if math.isfinite(guess) else -1
    while k >= 0 and special.bdtr(k, n, 0.5) > tail:
        k -= 1
    while k < n and special.bdtr(k + 1, n, 0.5) <= tail:
        k += 1
    return k


def proportion_interval(successes: Array, level: float = 0.95) -> Interval:
    """Share of true (non-zero) values with a Wilson score confidence interval (NaN dropped).

    The Wilson interval keeps its coverage near ``level`` even for shares close to 0 or 1,
    where the plain normal interval would reach outside [0, 1].
    """
    finite = successes[~np.isnan(successes)]
    n = finite.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, level)
    share = float(np.mean(finite > 0.5))
    z = float(special.ndtri(0.5 + level / 2))
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return Interval(share, max(0.0, centre - half), min(1.0, centre + half), level)


def runs_to_resolve(differences: Array, level: float = 0.95) -> float:
    """About how many paired runs would make the interval of the mean difference exclude 0.

    ``n = (z sd / |mean|)^2`` rounded up, with ``z`` the normal quantile of ``level`` (1.96 at
    95%) and ``sd`` the standard deviation of the paired differences: the run count at which
    the interval's half-width shrinks to the size of the mean observed (at least 2). Infinite
    when the mean is exactly 0; NaN with fewer than two values.
    """
    finite = differences[~np.isnan(differences)]
    if finite.size < 2:
        return math.nan
    mean = float(finite.mean())
    if mean == 0.0:
        return math.inf
    z = float(special.ndtri(0.5 + level / 2))
    sd = float(finite.std(ddof=1))
    return float(max(2, math.ceil((z * sd / abs(mean)) ** 2)))
