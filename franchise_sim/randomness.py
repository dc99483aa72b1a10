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

import numpy as np
from scipy import special

_TWO_TO_MINUS_53 = 2.0**-53


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
    return ((word >> 11) + 0.5) * _TWO_TO_MINUS_53


def poisson_count(u: float, mean: float) -> int:
    """The ``u``-quantile of a Poisson distribution (inverse transform, exact).

    Small means are inverted by summing the probability mass; large ones start from the
    regularised-gamma inverse and correct by one step, as SciPy's own ``poisson.ppf`` does.
    """
    if mean <= 0.0:
        return 0
    if mean < 12.0:
        k = 0
        mass = math.exp(-mean)
        cdf = mass
        while cdf < u:
            k += 1
            mass *= mean / k
            cdf += mass
            if mass < 1e-300:  # u numerically at 1: the tail is exhausted
                break
        return k
    k = max(0, math.ceil(float(special.pdtrik(u, mean))))
    if k > 0 and float(special.pdtr(k - 1, mean)) >= u:
        return k - 1
    return k


def binomial_count(u: float, n: int, p: float) -> int:
    """The ``u``-quantile of a Binomial(n, p) distribution (inverse transform, exact)."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if n * p < 12.0:
        k = 0
        q = 1.0 - p
        mass = q**n
        cdf = mass
        ratio = p / q
        while cdf < u and k < n:
            mass *= (n - k) / (k + 1) * ratio
            k += 1
            cdf += mass
        return k
    k = min(n, max(0, math.ceil(float(special.bdtrik(u, n, p)))))
    if k > 0 and float(special.bdtr(k - 1, n, p)) >= u:
        return k - 1
    return k


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
