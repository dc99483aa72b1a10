"""Random streams keyed by replication and purpose, and counts drawn by inverse transform.

Every random number comes from one master seed through ``numpy.random.SeedSequence`` with the
spawn key ``(replication, purpose)``, so a replication's draws do not depend on which worker runs
it or on how many others run. Counts (new customers, visits, departures) are drawn by inverse
transform from uniforms shared by all arms of a replication: this is what makes the arms' common
random numbers line up month by month even when their customer bases differ.
"""

from __future__ import annotations

import math
import zlib
from statistics import NormalDist

import numpy as np
from scipy import special

from franchise_sim.scenario.distributions import LARGEST_UNIFORM

_TWO_TO_MINUS_53 = 2.0**-53


LARGEST_COUNT_MEAN = 1e13
"""Largest mean `poisson_count` and `binomial_count` accept.

Above it the exact search loses its footing (the log-mass carries less precision than one
count) and would step for hours; validated scenarios keep every mean below about 1.2e11.
"""


def purpose_key(purpose: str) -> int:
    """A stable integer for a purpose name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(purpose.encode("utf-8"))


def seed_sequence(seed: int, replication: int, purpose: str) -> np.random.SeedSequence:
    """The seed sequence of one (replication, purpose) stream under a master seed."""
    return np.random.SeedSequence(seed, spawn_key=(replication, purpose_key(purpose)))


def stream(seed: int, replication: int, purpose: str) -> np.random.Generator:
    """A generator for one purpose in one replication."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, replication, purpose)))


def keyed_uniform(seed: int, replication: int, purpose: str) -> float:
    """One uniform in (0, 1) for a (replication, purpose) pair, without building a generator."""
    word = int(seed_sequence(seed, replication, purpose).generate_state(1, np.uint64)[0])
    # The top 53-bit word would round up to exactly 1.0: keep it just below.
    return min(((word >> 11) + 0.5) * _TWO_TO_MINUS_53, LARGEST_UNIFORM)


_STANDARD_NORMAL = NormalDist()
_SEARCH_FROM_MEAN = 12.0
"""Below this mean, counts are inverted by summing the mass from zero; above, by a search."""


def poisson_count(u: float, mean: float) -> int:
    """The ``u``-quantile of a Poisson distribution (inverse transform, exact).

    Small means sum the probability mass from zero. Larger ones start from the Cornish-Fisher
    approximation, take the exact distribution function there and step to the quantile.

    Raises:
        ValueError: The mean is not finite or above `LARGEST_COUNT_MEAN`.
    """
    _check_count_mean(mean)
    if mean <= 0.0 or u <= 0.0:
        return 0
    if mean < _SEARCH_FROM_MEAN:
        k = 0
        mass = math.exp(-mean)
        cdf = mass
        while cdf < u:
            k += 1
            mass *= mean / k
            if cdf + mass == cdf:  # u numerically at 1: the rest of the tail adds nothing
                break
            cdf += mass
        return k
    z = _STANDARD_NORMAL.inv_cdf(u)
    k = max(0, math.floor(mean + math.sqrt(mean) * z + (z * z - 1.0) / 6.0 + 0.5))
    cdf = float(special.pdtr(k, mean))
    mass = math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1))
    if cdf < u:
        while cdf < u:
            k += 1
            mass *= mean / k
            cdf += mass
            if mass < 1e-300:  # u numerically at 1: the tail is exhausted
                break
        return k
    while k > 0 and cdf - mass >= u:
        cdf -= mass
        mass *= k / mean
        k -= 1
    return k


def binomial_count(u: float, n: int, p: float) -> int:
    """The ``u``-quantile of a Binomial(n, p) distribution (inverse transform, exact).

    Same method as ``poisson_count``: summing from zero for small ``n p``, else a search from
    the Cornish-Fisher approximation anchored on the exact distribution function.

    Raises:
        ValueError: ``n p`` is not finite or above `LARGEST_COUNT_MEAN`.
    """
    if n <= 0 or p <= 0.0 or u <= 0.0:
        return 0
    _check_count_mean(n * p)
    if p >= 1.0:
        return n
    q = 1.0 - p
    ratio = p / q
    mean = n * p
    if mean < _SEARCH_FROM_MEAN:
        k = 0
        # (1 - p)^n through log1p: q = 1 - p carries p's rounding, which q**n raises n-fold
        # (a relative error of 4e-12 at n = 35,000 and p = 1e-6, enough to miss a quantile).
        mass = math.exp(n * math.log1p(-p))
        cdf = mass
        while cdf < u and k < n:
            mass *= (n - k) / (k + 1) * ratio
            k += 1
            if cdf + mass == cdf:  # u numerically at 1: the rest of the tail adds nothing
                break
            cdf += mass
        return k
    z = _STANDARD_NORMAL.inv_cdf(u)
    guess = mean + math.sqrt(mean * q) * z + (q - p) * (z * z - 1.0) / 6.0 + 0.5
    k = min(n, max(0, math.floor(guess)))
    cdf = float(special.bdtr(k, n, p))
    log_mass = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    mass = math.exp(log_mass + k * math.log(p) + (n - k) * math.log1p(-p))
    if cdf < u:
        while cdf < u and k < n:
            mass *= (n - k) / (k + 1) * ratio
            k += 1
            cdf += mass
        return k
    while k > 0 and cdf - mass >= u:
        cdf -= mass
        mass *= k / ((n - k + 1) * ratio)
        k -= 1
    return k


def _check_count_mean(mean: float) -> None:
    """Refuse a count mean the exact inversion cannot handle, instead of searching forever."""
    if not mean <= LARGEST_COUNT_MEAN:  # also catches NaN
        raise ValueError(
            f"a count with mean {mean:.3g} is beyond what the simulation can draw "
            f"(at most {LARGEST_COUNT_MEAN:.0e}); check the scenario's households, shares "
            "and visits"
        )


class ReplicationStreams:
    """The random streams of one replication, handed to the actors that need them."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication

    def generator(self, purpose: str) -> np.random.Generator:
        """A generator for ``purpose`` in this replication."""
        return stream(self.seed, self.replication, purpose)

    def uniform(self, purpose: str) -> float:
        """One uniform for ``purpose`` in this replication."""
        return keyed_uniform(self.seed, self.replication, purpose)
