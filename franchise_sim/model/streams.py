"""The keyed random streams and the count quantiles of `randomness`, over a batch of replications.

A replication's streams are keyed by ``(replication, purpose)`` under the master seed through
``numpy.random.SeedSequence``. Building a ``SeedSequence`` and a ``Generator`` per replication and
purpose costs 10-50 us; here the seed sequence's hashing runs in numpy over every replication of
a batch at once (the master seed's part of the hash is the same for all and done once), as does
PCG64's seeding from those words (`pcg64_words`), and one PCG64 bit generator is set to each
replication's state in turn, written into its memory where numpy's layout allows
(`_StateInPlace`). The numbers are numpy's own, bit for bit (the tests compare them for many
keys).

The count quantiles (`poisson_counts`, `binomial_counts`) are the inverse transforms of
`randomness.poisson_count` and `randomness.binomial_count` over arrays: the same method, the same
steps and the same integers. Summing from zero (small means) they use ``math``'s ``exp`` and
``log1p`` for the first mass, as the scalar versions do, and take the steps in blocks of running
products and sums (the loop's own operations in its order: the same sums to the bit); the numpy
exp and log there would change the sums' last digit near ``u = 1``. Searching from the mean they
use ``numpy.exp``/``log``/``log1p`` (the mass at the start) and
``scipy.special.ndtri``/``gammaln`` where the scalar versions use ``math`` and ``statistics``;
those differ in the last digit for a few percent of arguments, which is harmless because there
they only place the start of the search and the mass of its steps, against the exact distribution
function (``scipy.special.pdtr``/``bdtr``, the scalar versions' own): the quantile found is the
same unless the uniform falls within a rounding error (about 1e-16) of a step of the distribution
function. This is the one place the batch engine relies on that.

The exact function is most of a search's cost, so a search first takes `saddlepoint`'s
estimate of it at the start, which comes with an error bound, and steps from there. Where the
levels either side of the quantile it finds stand clear of the uniform by more than the bound
(`_clear_of_steps`: about 97% of searches), the exact start would have found the same integer;
the rest are searched again from the exact function. ``tests/test_saddlepoint.py`` sets
uniforms on the levels themselves and checks both ways find the same integers.
"""

from __future__ import annotations

import ctypes
import importlib.util
import math
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

import numpy as np
from numpy.typing import NDArray
from scipy import special

from franchise_sim.model import saddlepoint
from franchise_sim.model.randomness import LARGEST_COUNT_MEAN, purpose_key
from franchise_sim.scenario.distributions import LARGEST_UNIFORM

CUSTOMERS = "customers"
"""Purpose of the monthly uniforms every arm's customers are drawn from."""
WINBACK = "customers.winback"
"""Purpose of the monthly uniforms lapsed customers are won back with."""
PRIME_RATE = "prime_rate"
"""Purpose of the prime rate's monthly steps."""
PERSONAL_EXIT = "owner.personal_exit"
"""Purpose of the uniform that times the owner's personal exit (the same person in every arm)."""
SHOCK_PREFIX = "shock:"
"""Prefix of the purposes of the shared random events' arrival streams."""
FRANCHISOR_FAILURE = "franchisor.failure"
"""Purpose of the uniform that times the franchisor's failure."""
BRAND_SHOCK = "franchisor.brand_shock"
"""Purpose of the stream of the franchisor's brand shocks."""

Rows = slice | NDArray[np.intp]
"""Which elements of a search's arrays: all (``slice(None)``) or those at some indices."""
Steps = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
"""Where steps to a quantile end: the count, the distribution function there and its mass."""

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_INIT_A = 0x43B0D7E5
_MULT_A = 0x931E8875
_INIT_B = 0x8B51F9DD
_MULT_B = 0x58F38DED
_MIX_MULT_L = 0xCA01F9DD
_MIX_MULT_R = 0x4973F715
_XSHIFT = 16
_POOL_SIZE = 4
_PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341
_TWO_TO_MINUS_53 = 2.0**-53
_SEARCH_FROM_MEAN = 12.0

Index = NDArray[np.intp]
"""Positions of elements within an array."""


def _int_words(value: int) -> list[int]:
    """A non-negative int as little-endian 32-bit words, as numpy's seed sequence takes it."""
    if value == 0:
        return [0]
    words = []
    while value:
        words.append(value & _MASK32)
        value >>= 32
    return words


def _hashmix_scalar(value: int, hash_const: list[int]) -> int:
    value = (value ^ hash_const[0]) & _MASK32
    hash_const[0] = (hash_const[0] * _MULT_A) & _MASK32
    value = (value * hash_const[0]) & _MASK32
    return value ^ (value >> _XSHIFT)


def _mix_scalar(x: int, y: int) -> int:
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK32
    return result ^ (result >> _XSHIFT)


def seed_words(
    seed: int, replications: NDArray[np.int64], purpose: str, n_words: int
) -> NDArray[np.uint32]:
    """``SeedSequence(seed, spawn_key=(r, purpose_key(purpose))).generate_state(n_words)``.

    The hash takes the master seed's words, the replication, then the purpose's word: the pool
    before the purpose is the same for every purpose of a batch (`_pool_before_purpose`, kept),
    and the purpose's word, the same in every replication, is hashed once.

    Args:
        seed: The master seed (a non-negative int).
        replications: The replications (each below 2**32).
        purpose: The stream's purpose.
        n_words: How many 32-bit words to generate.

    Returns:
        Array (replication, word) of uint32, numpy's own words for each key.
    """
    reps = np.asarray(replications, dtype=np.int64)
    kept, after = _pool_before_purpose(seed, reps)
    pool = list(kept)
    hash_const = [after]
    mask = np.uint64(_MASK32)
    key = purpose_key(purpose)
    for i_dst in range(_POOL_SIZE):
        hashed = _hashmix_scalar(key, hash_const)
        mixed = np.subtract(
            np.multiply(pool[i_dst], np.uint64(_MIX_MULT_L), dtype=np.uint64),
            np.uint64((hashed * _MIX_MULT_R) & _MASK64),
            dtype=np.uint64,
        )
        result = mixed & mask
        pool[i_dst] = result ^ (result >> np.uint64(_XSHIFT))
    out = np.empty((reps.size, n_words), dtype=np.uint32)
    const = _INIT_B
    for i_dst in range(n_words):
        data = pool[i_dst % _POOL_SIZE] ^ np.uint64(const)
        const = (const * _MULT_B) & _MASK32
        data = (data * np.uint64(const)) & mask
        out[:, i_dst] = (data ^ (data >> np.uint64(_XSHIFT))).astype(np.uint32)
    return out


def _pool_before_purpose(
    seed: int, reps: NDArray[np.int64]
) -> tuple[tuple[NDArray[np.uint64], ...], int]:
    """The seed sequence's pool, per replication, once it has taken all but the purpose.

    With the hash constant reached there. A batch asks for it once per purpose with the same
    seed and replications: the last few are kept (read-only arrays).
    """
    cache_key = (seed, reps.tobytes())
    kept = _POOLS.get(cache_key)
    if kept is not None:
        return kept
    if reps.size and (reps.min() < 0 or reps.max() > _MASK32):
        raise ValueError("replications must be in [0, 2**32)")
    run = _int_words(seed)
    if len(run) < _POOL_SIZE:
        run = run + [0] * (_POOL_SIZE - len(run))
    hash_const = [_INIT_A]
    mixer = [_hashmix_scalar(run[i], hash_const) for i in range(_POOL_SIZE)]
    for i_src in range(_POOL_SIZE):
        for i_dst in range(_POOL_SIZE):
            if i_src != i_dst:
                mixer[i_dst] = _mix_scalar(mixer[i_dst], _hashmix_scalar(mixer[i_src], hash_const))
    # From here the words depend on the replication: uint64 arrays holding 32-bit values.
    pool: list[NDArray[np.uint64]] = [np.full(reps.shape, m, dtype=np.uint64) for m in mixer]
    mask = np.uint64(_MASK32)
    for source in [*run[_POOL_SIZE:], None]:  # None: the replication
        word = (
            reps.astype(np.uint64)
            if source is None
            else np.full(reps.shape, source, dtype=np.uint64)
        )
        for i_dst in range(_POOL_SIZE):
            value = word ^ np.uint64(hash_const[0])
            hash_const[0] = (hash_const[0] * _MULT_A) & _MASK32
            value = (value * np.uint64(hash_const[0])) & mask
            hashed = value ^ (value >> np.uint64(_XSHIFT))
            mixed = np.subtract(
                np.multiply(pool[i_dst], np.uint64(_MIX_MULT_L), dtype=np.uint64),
                np.multiply(hashed, np.uint64(_MIX_MULT_R), dtype=np.uint64),
                dtype=np.uint64,
            )
            result = mixed & mask
            pool[i_dst] = result ^ (result >> np.uint64(_XSHIFT))
    for words in pool:
        words.flags.writeable = False
    made = (tuple(pool), hash_const[0])
    with _POOLS_LOCK:  # the explorer draws from a thread of its own
        while len(_POOLS) >= _POOLS_KEPT:
            del _POOLS[next(iter(_POOLS))]
        _POOLS[cache_key] = made
    return made


_POOLS_KEPT = 4
_POOLS_LOCK = threading.Lock()
_POOLS: dict[tuple[int, bytes], tuple[tuple[NDArray[np.uint64], ...], int]] = {}
"""`_pool_before_purpose` by (seed, replications' bytes), the oldest dropped first."""


def _uint64_words(words: NDArray[np.uint32]) -> NDArray[np.uint64]:
    """Pairs of 32-bit words as numpy assembles them into 64-bit ones (little-endian)."""
    w = words.astype(np.uint64)
    return np.asarray(w[:, 0::2] | (w[:, 1::2] << np.uint64(32)), dtype=np.uint64)


def keyed_uniforms(seed: int, replications: NDArray[np.int64], purpose: str) -> NDArray[np.float64]:
    """`randomness.keyed_uniform` for every replication at once, bit for bit."""
    word = _uint64_words(seed_words(seed, replications, purpose, 2))[:, 0]
    u = ((word >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO_TO_MINUS_53
    return np.asarray(np.minimum(u, LARGEST_UNIFORM), dtype=np.float64)


def pcg64_words(seed: int, replications: NDArray[np.int64], purpose: str) -> NDArray[np.uint64]:
    """The state of ``PCG64(SeedSequence(seed, spawn_key=(r, key)))`` for every replication.

    PCG64 seeds itself from the sequence's four 64-bit words ``s_hi, s_lo, i_hi, i_lo``: its
    increment is ``(i << 1) | 1`` and its state ``(inc + s) * multiplier + inc``, modulo 2**128.
    That arithmetic runs here on 64-bit halves over every replication at once, the product
    through 32-bit pieces, whose partial products fit in 64 bits.

    Returns:
        Array (replication, 4) of uint64: the state's low and high halves, then the increment's.
    """
    words = _uint64_words(seed_words(seed, replications, purpose, 8))
    s_hi, s_lo, i_hi, i_lo = words[:, 0], words[:, 1], words[:, 2], words[:, 3]
    one, shift63, shift32 = np.uint64(1), np.uint64(63), np.uint64(32)
    inc_lo = (i_lo << one) | one
    inc_hi = (i_hi << one) | (i_lo >> shift63)
    lo, hi = _add128(inc_lo, inc_hi, s_lo, s_hi)
    # (hi, lo) * multiplier, modulo 2**128: lo times the multiplier's low half in full, and the
    # cross terms' low halves into the high half
    m_lo, m_hi = np.uint64(_PCG_MULT & _MASK64), np.uint64(_PCG_MULT >> 64)
    mask = np.uint64(_MASK32)
    a0, a1 = lo & mask, lo >> shift32
    b0, b1 = m_lo & mask, m_lo >> shift32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    middle = (p00 >> shift32) + (p01 & mask) + (p10 & mask)
    product_lo = (p00 & mask) | (middle << shift32)
    product_hi = p11 + (p01 >> shift32) + (p10 >> shift32) + (middle >> shift32)
    product_hi = product_hi + hi * m_lo + lo * m_hi
    state_lo, state_hi = _add128(product_lo, product_hi, inc_lo, inc_hi)
    return np.stack((state_lo, state_hi, inc_lo, inc_hi), axis=1)


def _add128(
    a_lo: NDArray[np.uint64],
    a_hi: NDArray[np.uint64],
    b_lo: NDArray[np.uint64],
    b_hi: NDArray[np.uint64],
) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """``a + b`` modulo 2**128 on 64-bit halves (low, high)."""
    lo = a_lo + b_lo
    carry = (lo < a_lo).astype(np.uint64)
    return lo, a_hi + b_hi + carry


def _state_dict(row: Sequence[int]) -> Any:  # numpy types it as its own TypedDict
    """A PCG64 state dict from `pcg64_words`' row (state low, high, increment low, high)."""
    state_lo, state_hi, inc_lo, inc_hi = row
    return {
        "bit_generator": "PCG64",
        "state": {"state": (state_hi << 64) | state_lo, "inc": (inc_hi << 64) | inc_lo},
        "has_uint32": 0,
        "uinteger": 0,
    }


class _StateInPlace:
    """A PCG64's state words in its own memory, set by writing them there (0.3 us, not 1.7 us).

    numpy documents the address of a bit generator's state (``ctypes.state_address``); PCG64's
    is a pointer to its 128-bit state and increment, then the buffered 32-bit half's flag and
    value. How those are laid out is numpy's and the compiler's affair, so `probe` checks it
    here, against the ``state`` property, before anything relies on it; where it differs, the
    streams set the state through the property as before (`KeyedStreams`). The same numbers
    either way.

    Args:
        bits: The bit generator, kept alive by its owner as long as this is.
    """

    def __init__(self, bits: np.random.PCG64) -> None:
        address = bits.ctypes.state_address
        pointer = ctypes.c_void_p.from_address(address).value
        if not pointer:
            raise ValueError("this PCG64 holds no pointer to its state")
        self.words: NDArray[np.uint64] = np.ctypeslib.as_array(
            (ctypes.c_uint64 * 4).from_address(pointer)
        )
        """State low, high, increment low, high: `pcg64_words`' order."""
        flag = address + ctypes.sizeof(ctypes.c_void_p)
        self.buffered = ctypes.c_int.from_address(flag)
        """Whether a 32-bit half of the last 64-bit draw waits (it must not, for a new stream)."""
        self.half = ctypes.c_uint32.from_address(flag + ctypes.sizeof(ctypes.c_int))
        """That half."""

    def set(self, row: NDArray[np.uint64]) -> None:
        """Make the generator's state the one in ``row`` (a `pcg64_words` row), nothing buffered."""
        self.words[:] = row
        self.buffered.value = 0
        self.half.value = 0

    @staticmethod
    def probe() -> bool:
        """Whether the layout is as `_StateInPlace` takes it, checked on this numpy."""
        words = pcg64_words(7, np.arange(3, dtype=np.int64), "probe")
        by_property = np.random.PCG64(0)
        bits = np.random.PCG64(0)
        try:
            in_place = _StateInPlace(bits)
        except (ValueError, TypeError, AttributeError):
            return False
        # Read before writing anything: the words and the flag must be where the property says.
        np.random.Generator(bits).integers(0, 2**32, dtype=np.uint32)  # a half buffered
        state = bits.state
        held = [int(word) for word in in_place.words]
        if _state_dict(held)["state"] != state["state"] or in_place.buffered.value != 1:
            return False
        if in_place.half.value != state["uinteger"]:
            return False
        draws = []
        for row in words:
            by_property.state = _state_dict(row.tolist())
            expected = np.random.Generator(by_property).random(4).tobytes()
            np.random.Generator(bits).integers(0, 2**32, dtype=np.uint32)  # a half buffered
            in_place.set(row)
            if bits.state != _state_dict(row.tolist()):
                return False
            draws.append((expected, np.random.Generator(bits).random(4).tobytes()))
        return all(a == b for a, b in draws) and draws[0][0] != draws[1][0]


class KeyedStreams:
    """One purpose's stream in every replication of a batch, re-seeding one bit generator.

    Args:
        seed: The master seed.
        replications: The batch's replications.
        purpose: The stream's purpose.
    """

    def __init__(self, seed: int, replications: NDArray[np.int64], purpose: str) -> None:
        self._words = pcg64_words(seed, replications, purpose)
        self._size = len(self._words)
        self._bits = np.random.PCG64(0)
        self._generator = np.random.Generator(self._bits)
        self._in_place = _StateInPlace(self._bits) if _STATE_IN_PLACE else None
        self._states: list[Any] | None = None

    def generator(self, index: int) -> np.random.Generator:
        """The stream of the ``index``-th replication of the batch, from its start.

        The generator is shared: draw from it before asking for another replication's.
        """
        if self._in_place is not None:
            self._in_place.set(self._words[index])
        else:
            if self._states is None:
                self._states = [_state_dict(row) for row in self._words.tolist()]
            self._bits.state = self._states[index]
        return self._generator

    def uniforms(self, shape: tuple[int, ...]) -> NDArray[np.float64]:
        """Array (replication, *shape) of each replication's first uniforms (``random``)."""
        out = np.empty((self._size, *shape))
        for i in range(self._size):
            out[i] = self.generator(i).random(shape)
        return out

    def normals(self, count: int) -> NDArray[np.float64]:
        """Array (replication, count) of each replication's first standard normals."""
        out = np.empty((self._size, count))
        for i in range(self._size):
            out[i] = self.generator(i).standard_normal(count)
        return out


_STATE_IN_PLACE = _StateInPlace.probe()
"""Whether `KeyedStreams` sets its states in place (`_StateInPlace`)."""


class ExponentialStreams:
    """Each replication's stream of standard exponentials, drawn in blocks as it is used.

    ``Generator.exponential(scale)`` is ``scale`` times the next standard exponential, so a
    block drawn ahead gives the same numbers as one draw at a time.

    Args:
        seed: The master seed.
        replications: The batch's replications.
        purpose: The stream's purpose.
        expected_draws: How many draws a replication is expected to need (the first block
            holds comfortably more).
    """

    def __init__(
        self,
        seed: int,
        replications: NDArray[np.int64],
        purpose: str,
        expected_draws: float,
    ) -> None:
        self._streams = KeyedStreams(seed, replications, purpose)
        self._block = int(expected_draws + 6.0 * np.sqrt(expected_draws) + 8)
        self._drawn: list[list[float] | None] = [None] * len(replications)
        self._used = [0] * len(replications)

    def next(self, index: int, scale: float = 1.0) -> float:
        """The next exponential of mean ``scale`` in the ``index``-th replication's stream."""
        drawn = self._drawn[index]
        used = self._used[index]
        if drawn is None or used == len(drawn):
            size = self._block if drawn is None else 2 * len(drawn)
            drawn = self._streams.generator(index).standard_exponential(size).tolist()
            self._drawn[index] = drawn
        self._used[index] = used + 1
        return scale * drawn[used]


def _check_means(means: NDArray[np.float64]) -> None:
    """Refuse count means the exact inversion cannot handle (as `randomness` does)."""
    bad = ~(means <= LARGEST_COUNT_MEAN)
    if bad.any():
        mean = float(means[np.flatnonzero(bad)[0]])
        raise ValueError(
            f"a count with mean {mean:.3g} is beyond what the simulation can draw "
            f"(at most {LARGEST_COUNT_MEAN:.0e}); check the scenario's households, shares "
            "and visits"
        )


def poisson_counts(u: NDArray[np.float64], mean: NDArray[np.float64]) -> NDArray[np.float64]:
    """`randomness.poisson_count` element by element: the ``u``-quantiles, as floats.

    Raises:
        ValueError: A mean is not finite or above `LARGEST_COUNT_MEAN`.
    """
    u = np.asarray(u, dtype=float)
    mean = np.asarray(mean, dtype=float)
    _check_means(mean)
    out = np.zeros(mean.shape)
    live = (mean > 0.0) & (u > 0.0)
    small = np.flatnonzero(live & (mean < _SEARCH_FROM_MEAN))
    if small.size:
        out[small] = _poisson_from_zero(u[small], mean[small])
    large = np.flatnonzero(live & (mean >= _SEARCH_FROM_MEAN))
    if large.size:
        out[large] = _poisson_search(u[large], mean[large])
    return out


_BLOCKS = (8, 16)
"""Steps of a sum from zero taken at once, in turn, as running products and sums over a block.

Most counts from zero stop within the first block; the second takes the rest of those it leaves
from where they stand (every one at the same count), and a step-by-step loop any left after it.
"""


def _sum_from_zero(
    u: NDArray[np.float64],
    mass: NDArray[np.float64],
    factors: Callable[[Index, NDArray[np.float64]], NDArray[np.float64]],
    last: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], Index, NDArray[np.float64], NDArray[np.float64]]:
    """Sum the mass from zero in blocks, as the scalar loop takes its steps.

    The loop multiplies the mass by each step's factor (``factors(rows, counts)``: array (step,
    row) of the factors that take those rows to each of ``counts``, a column), stops if adding
    it leaves the distribution function unchanged (``u`` numerically at 1), adds it, and stops
    once that reaches ``u`` or the count reaches ``last``. Running products and sums, a step at
    a time over every row of the block, take the same steps in the same order, so the sums are
    the loop's to the bit. Returns the counts, the rows still going after the blocks, and their
    mass and distribution function there (all of them at the count of the blocks' end).
    """
    k = np.zeros(u.size)
    cdf = mass.copy()
    go = np.flatnonzero(cdf < u)
    done = 0
    for width in _BLOCKS:
        if not go.size:
            break
        steps = np.arange(done + 1, done + width + 1, dtype=float)[:, None]
        masses = factors(go, steps)
        sums = np.empty_like(masses)
        start = cdf[go]
        np.multiply(masses[0], mass[go], out=masses[0])
        np.add(masses[0], start, out=sums[0])
        for j in range(1, width):  # numpy's accumulate walks a block element by element
            np.multiply(masses[j - 1], masses[j], out=masses[j])
            np.add(sums[j - 1], masses[j], out=sums[j])
        hit = sums >= u[go]
        hit[0] |= sums[0] == start
        hit[1:] |= sums[1:] == sums[:-1]
        if last is not None:
            n = last[go]
            if n.min() <= done + width:
                hit = (hit & (steps <= n)) | (steps == n)
        going = ~hit.any(axis=0)  # a row with no hit takes the whole block and goes on
        k[go] = np.where(going, done + width, done + 1 + np.argmax(hit, axis=0))
        go = go[going]
        mass[go] = masses[-1, going]
        cdf[go] = sums[-1, going]
        done += width
    return k, go, mass, cdf


def _poisson_from_zero(u: NDArray[np.float64], mean: NDArray[np.float64]) -> NDArray[np.float64]:
    mass = exact_exp(-mean)  # math's: near u = 1 the sum's last steps depend on its rounding
    k, go, mass, cdf = _sum_from_zero(u, mass, lambda rows, steps: mean[rows] / steps)
    while go.size:
        k[go] += 1.0
        mass[go] *= mean[go] / k[go]
        stalled = cdf[go] + mass[go] == cdf[go]
        cdf[go] += mass[go]
        go = go[~stalled]
        go = go[cdf[go] < u[go]]
    return k


def _poisson_search(u: NDArray[np.float64], mean: NDArray[np.float64]) -> NDArray[np.float64]:
    z = special.ndtri(u)
    start = np.maximum(0.0, np.floor(mean + np.sqrt(mean) * z + (z * z - 1.0) / 6.0 + 0.5))
    return _search_from(
        u,
        start,
        saddlepoint.poisson_cdf(start, mean),
        lambda rows: special.pdtr(start[rows], mean[rows]),
        lambda rows, k, cdf: _poisson_steps(u[rows], mean[rows], k, cdf),
    )


def _search_from(
    u: NDArray[np.float64],
    start: NDArray[np.float64],
    estimate: tuple[NDArray[np.float64], NDArray[np.float64]],
    exact_at: Callable[[Rows], NDArray[np.float64]],
    steps: Callable[[Rows, NDArray[np.float64], NDArray[np.float64]], Steps],
) -> NDArray[np.float64]:
    """The quantiles, stepping from ``start`` on the estimate where it is clear, else exact.

    Args:
        u: The uniforms.
        start: Where the searches start.
        estimate: The estimated distribution function at ``start``, and its error bounds
            (infinite where it is not to be used).
        exact_at: The exact distribution function at the starts of the given rows.
        steps: The steps from the given rows' starts (``k``, ``cdf`` there) to their quantiles.
    """
    cdf, bound = estimate
    unusable = np.flatnonzero(bound == np.inf)
    if unusable.size:
        cdf[unusable] = exact_at(unusable)
    k, cdf, mass = steps(slice(None), start.copy(), cdf)
    doubt = np.flatnonzero((bound < np.inf) & ~_clear_of_steps(u, k, cdf, mass, bound))
    if doubt.size:
        k[doubt] = steps(doubt, start[doubt], exact_at(doubt))[0]
    return k


def _poisson_steps(
    u: NDArray[np.float64],
    mean: NDArray[np.float64],
    k: NDArray[np.float64],
    cdf: NDArray[np.float64],
) -> Steps:
    """Step from the start ``k`` (``cdf`` there) to the quantile; its cdf and mass after."""
    mass = np.exp(-mean + k * np.log(mean) - log_factorials(k))
    starts_below = cdf < u
    up = np.flatnonzero(starts_below)
    while up.size:
        k[up] += 1.0
        mass[up] *= mean[up] / k[up]
        cdf[up] += mass[up]
        up = up[(cdf[up] < u[up]) & ~(mass[up] < 1e-300)]
    down = np.flatnonzero(~starts_below & (k > 0) & (cdf - mass >= u))
    while down.size:
        cdf[down] -= mass[down]
        mass[down] *= k[down] / mean[down]
        k[down] -= 1.0
        down = down[(k[down] > 0) & (cdf[down] - mass[down] >= u[down])]
    return k, cdf, mass


def _clear_of_steps(
    u: NDArray[np.float64],
    k: NDArray[np.float64],
    cdf: NDArray[np.float64],
    mass: NDArray[np.float64],
    bound: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Where a search's last steps stand farther than ``bound`` from ``u``.

    A search that ends at ``k`` found ``cdf - mass < u <= cdf`` (its distribution function at
    ``k - 1`` and ``k``). Started from the estimate instead of the exact function, every level
    it stepped through is off by the same error (the masses are the same numbers), so where
    both stand clear of ``u`` by more than the estimate's error bound the exact start finds
    the same ``k``: the levels are monotone, and the masses, which alone decide a stall, are
    alike.
    """
    clear: NDArray[np.bool_] = (cdf - u >= bound) & ((k == 0.0) | (u - (cdf - mass) > bound))
    return clear


def binomial_counts(
    u: NDArray[np.float64], n: NDArray[np.float64], p: NDArray[np.float64]
) -> NDArray[np.float64]:
    """`randomness.binomial_count` element by element (``n`` whole numbers), as floats.

    Raises:
        ValueError: An ``n p`` is not finite or above `LARGEST_COUNT_MEAN`.
    """
    u = np.asarray(u, dtype=float)
    n = np.asarray(n, dtype=float)
    p = np.asarray(p, dtype=float)
    out = np.zeros(n.shape)
    live = (n > 0) & ~(p <= 0.0) & (u > 0.0)
    _check_means(np.where(live, n * p, 0.0))
    certain = live & (p >= 1.0)
    out[certain] = n[certain]
    live &= ~certain
    mean = n * p
    small = np.flatnonzero(live & (mean < _SEARCH_FROM_MEAN))
    if small.size:
        out[small] = _binomial_from_zero(u[small], n[small], p[small])
    large = np.flatnonzero(live & (mean >= _SEARCH_FROM_MEAN))
    if large.size:
        out[large] = _binomial_search(u[large], n[large], p[large])
    return out


def _binomial_from_zero(
    u: NDArray[np.float64], n: NDArray[np.float64], p: NDArray[np.float64]
) -> NDArray[np.float64]:
    q = 1.0 - p
    ratio = p / q
    mass = exact_exp(n * exact_log1p(-p))  # (1 - p)^n as the scalar count takes it

    def factors(rows: Index, steps: NDArray[np.float64]) -> NDArray[np.float64]:
        # (n - k) / (k + 1) * ratio from the count k before each step (steps - 1)
        return (n[rows] - (steps - 1.0)) / steps * ratio[rows]

    k, go, mass, cdf = _sum_from_zero(u, mass, factors, last=n)
    go = go[k[go] < n[go]]
    while go.size:
        mass[go] *= (n[go] - k[go]) / (k[go] + 1.0) * ratio[go]
        k[go] += 1.0
        stalled = cdf[go] + mass[go] == cdf[go]
        cdf[go] += mass[go]
        go = go[~stalled]
        go = go[(cdf[go] < u[go]) & (k[go] < n[go])]
    return k


def _binomial_search(
    u: NDArray[np.float64], n: NDArray[np.float64], p: NDArray[np.float64]
) -> NDArray[np.float64]:
    q = 1.0 - p
    mean = n * p
    z = special.ndtri(u)
    guess = mean + np.sqrt(mean * q) * z + (q - p) * (z * z - 1.0) / 6.0 + 0.5
    start = np.minimum(n, np.maximum(0.0, np.floor(guess)))
    return _search_from(
        u,
        start,
        saddlepoint.binomial_cdf(start, n, p),
        lambda rows: np.asarray(
            special.bdtr(start[rows], n[rows].astype(np.int64), p[rows]), dtype=float
        ),
        lambda rows, k, cdf: _binomial_steps(u[rows], n[rows], p[rows], k, cdf),
    )


def _binomial_steps(
    u: NDArray[np.float64],
    n: NDArray[np.float64],
    p: NDArray[np.float64],
    k: NDArray[np.float64],
    cdf: NDArray[np.float64],
) -> Steps:
    """Step from the start ``k`` (``cdf`` there) to the quantile; its cdf and mass after."""
    ratio = p / (1.0 - p)
    log_mass = log_factorials(n) - log_factorials(k) - log_factorials(n - k)
    mass = np.exp(log_mass + k * np.log(p) + (n - k) * np.log1p(-p))
    starts_below = cdf < u
    up = np.flatnonzero(starts_below & (k < n))
    while up.size:
        mass[up] *= (n[up] - k[up]) / (k[up] + 1.0) * ratio[up]
        k[up] += 1.0
        cdf[up] += mass[up]
        up = up[(cdf[up] < u[up]) & (k[up] < n[up])]
    down = np.flatnonzero(~starts_below & (k > 0) & (cdf - mass >= u))
    while down.size:
        cdf[down] -= mass[down]
        mass[down] *= k[down] / ((n[down] - k[down] + 1.0) * ratio[down])
        k[down] -= 1.0
        down = down[(k[down] > 0) & (cdf[down] - mass[down] >= u[down])]
    return k, cdf, mass


def log_factorials(k: NDArray[np.float64]) -> NDArray[np.float64]:
    """``scipy.special.gammaln(k + 1.0)`` of whole numbers ``k >= 0``, the same numbers.

    Read from a table of them (`_LOG_FACTORIAL_TABLE`), grown to the largest count asked for
    up to `_LOG_FACTORIALS_KEPT` entries; larger counts are computed.
    """
    table = _LOG_FACTORIAL_TABLE[0]
    largest = k.max(initial=0.0)
    if not largest < table.size:  # a NaN too
        if not largest < _LOG_FACTORIALS_KEPT:
            return np.asarray(special.gammaln(k + 1.0), dtype=float)
        size = min(max(2 * table.size, 1 << int(largest).bit_length()), _LOG_FACTORIALS_KEPT)
        table = special.gammaln(np.arange(size, dtype=float) + 1.0)
        table.flags.writeable = False
        _LOG_FACTORIAL_TABLE[0] = table  # one reference swapped: safe beside another thread
    return table[k.astype(np.intp)]


_LOG_FACTORIALS_KEPT = 1 << 20
"""Most entries of `log_factorials`'s table (8 MB)."""
_LOG_FACTORIAL_TABLE: list[NDArray[np.float64]] = [np.zeros(0)]
"""``gammaln(k + 1)`` for ``k`` from 0, as far as counts so far have needed."""


def exact_log1p(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``math.log1p`` element by element (``numpy.log1p`` may differ in the last digit)."""
    return _each(math.log1p, np.asarray(x, dtype=float))


def exact_exp(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``math.exp`` element by element: the model's own numbers, where ``numpy.exp`` may differ.

    numpy's complex exponential is the C library's ``cexp``, whose real part at an imaginary
    part of zero is the C library's ``exp`` itself, the one ``math.exp`` calls, times one: the
    same numbers without a Python call per element (`_complex_exp_is_maths`). Arguments
    beyond `_CEXP_EXACT_WITHIN` (where ``cexp`` scales, or ``math.exp`` overflows and raises)
    and not numbers go through ``math.exp`` itself. Where this process has loaded the compiled
    kernels, they loop over the C library's ``exp`` instead (`compiled_maths`).
    """
    flat = np.asarray(x, dtype=float)
    kernels = compiled_maths()
    if kernels is not None and (compiled := kernels.exps(flat)) is not None:
        return compiled
    if not _CEXP_IS_MATHS:
        return _each(math.exp, flat)
    near = np.abs(flat) <= _CEXP_EXACT_WITHIN
    if near.all():
        return np.array(np.exp(flat.astype(np.complex128)).real)
    out: NDArray[np.float64] = np.exp(np.where(near, flat, 0.0).astype(np.complex128)).real.copy()
    far = ~near
    out[far] = _each(math.exp, flat[far])
    return out


_CEXP_EXACT_WITHIN = 708.0
"""Largest argument, either side of zero, `exact_exp` takes the complex exponential of."""


def _each(function: Callable[[float], float], flat: NDArray[np.float64]) -> NDArray[np.float64]:
    """``function`` of every element, one Python call each (``math``'s own numbers)."""
    values = map(function, flat.ravel().tolist())
    return np.fromiter(values, float, flat.size).reshape(flat.shape)


def _complex_exp_is_maths(
    complex_exp: Callable[[NDArray[np.complex128]], NDArray[np.complex128]] = np.exp,
) -> bool:
    """Whether numpy's complex exponential gives ``math.exp``'s numbers here, bit for bit.

    Checked once, on arguments across `exact_exp`'s range where numpy's own real ``exp``
    differs from ``math.exp`` in the last digit for a few percent of them; a numpy or C library
    that computes it otherwise leaves `exact_exp` on ``math.exp`` element by element.
    """
    probe = np.concatenate(
        (
            np.linspace(-_CEXP_EXACT_WITHIN, _CEXP_EXACT_WITHIN, 4001),
            np.linspace(-2.0, 2.0, 4001),
            np.geomspace(1e-12, 1.0, 1001),
            -np.geomspace(1e-12, 1.0, 1001),
            [0.0, -0.0],
        )
    )
    with np.errstate(all="ignore"):
        exps = complex_exp(probe.astype(np.complex128)).real
    return bool(exps.tobytes() == _each(math.exp, probe).tobytes())


_CEXP_IS_MATHS = _complex_exp_is_maths()


def exact_pow(
    base: NDArray[np.float64] | float, exponent: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """Python's ``base ** exponent`` element by element (``numpy.power`` may differ).

    Where every element is the same pair, bit for bit (a market trend fixed in the scenario),
    the power is taken once. Where one side is a single number and this process has loaded the
    compiled kernels, they loop over the C library's ``pow``, the one Python's calls
    (`compiled_maths`).
    """
    base_, exponent_ = np.asarray(base, dtype=float), np.asarray(exponent, dtype=float)
    shape = _broadcast_shape(base_, exponent_)
    # One side a single number (of any shape): its bound method over the other side, whose
    # broadcast view costs nothing (``x.__pow__(y)`` and ``y.__rpow__(x)`` are both ``x ** y``).
    kernels = compiled_maths()
    if exponent_.size == 1:
        power, b = float(exponent_.flat[0]), _broadcast(base_, shape)
        if kernels is not None and (compiled := kernels.powers_to(b, power)) is not None:
            return compiled  # as fast as one power for all where all are alike
        if b.size > 1 and _all_alike(b):
            return np.full(shape, float(b.flat[0]) ** power)
        if power == 0.5 and _SQUARE_ROOTS_ARE_POWERS:  # a winback share: bases all differ
            return square_roots(b)
        values = map(power.__rpow__, b.ravel().tolist())
    elif base_.size == 1:
        number, e = float(base_.flat[0]), _broadcast(exponent_, shape)
        if kernels is not None and (compiled := kernels.powers_of_number(number, e)) is not None:
            return compiled
        if e.size > 1 and _all_alike(e):
            return np.full(shape, number ** float(e.flat[0]))
        values = map(number.__pow__, e.ravel().tolist())
    else:
        b, e = np.broadcast_arrays(base_, exponent_)
        if b.size > 1 and _all_alike(b) and _all_alike(e):
            return np.full(shape, float(b.flat[0]) ** float(e.flat[0]))
        values = map(float.__pow__, b.ravel().tolist(), e.ravel().tolist())
    return np.fromiter(values, float, math.prod(shape)).reshape(shape)


def _broadcast_shape(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[int, ...]:
    """The shape ``a`` and ``b`` broadcast to; a single number's partner's own, found at once."""
    if b.ndim == 0 or a.shape == b.shape:
        return a.shape
    if a.ndim == 0:
        return b.shape
    return np.broadcast_shapes(a.shape, b.shape)


def _broadcast(x: NDArray[np.float64], shape: tuple[int, ...]) -> NDArray[np.float64]:
    """``x`` broadcast to ``shape`` (itself where it has that shape already)."""
    return x if x.shape == shape else np.broadcast_to(x, shape)


def square_roots(base: NDArray[np.float64]) -> NDArray[np.float64]:
    """Python's ``base ** 0.5`` element by element (the C library's ``pow(x, 0.5)``).

    ``numpy.sqrt`` is correctly rounded, and ``pow`` is within 0.52 of a unit in the last place
    of the exact root (the C library's bound): where the exact root lies within 0.45 of a unit
    of ``sqrt``'s, every other number is more than 0.55 away, so ``pow`` gives ``sqrt``'s too.
    The distance is measured on the exact remainder ``x - s * s`` (Dekker's product). A root
    farther off (a tenth of them), at a power of two (its interval is lopsided), or of a number
    outside `_ROOTS_WITHIN` goes through ``**`` itself.
    """
    x = np.asarray(base, dtype=float).ravel()
    if x.size <= _FEW_ROOTS:  # ``**`` itself: cheaper than the remainder's dozen numpy calls
        return np.fromiter(map((0.5).__rpow__, x.tolist()), float, x.size).reshape(np.shape(base))
    inside = (x >= _ROOTS_WITHIN[0]) & (x <= _ROOTS_WITHIN[1])  # not a NaN either
    held = np.where(inside, x, 1.0)
    root = np.sqrt(held)
    split = _DEKKER_SPLIT * root
    high = split - (split - root)
    low = root - high
    square = root * root
    square_error = ((high * high - square) + 2.0 * high * low) + low * low  # exact
    remainder = (held - square) - square_error  # held - square is exact (Sterbenz)
    off_centre = remainder / (2.0 * root * np.spacing(root))  # (exact root - root) in units
    settled = inside & (np.abs(off_centre) < 0.45) & (np.frexp(root)[0] != 0.5)
    rest = np.flatnonzero(~settled)
    if rest.size:
        values = map((0.5).__rpow__, x[rest].tolist())
        root[rest] = np.fromiter(values, float, rest.size)
    return root.reshape(np.shape(base))


_FEW_ROOTS = 16
"""Up to this many roots, `square_roots` takes them all through ``**`` (a plan on paper's one)."""
_DEKKER_SPLIT = 2.0**27 + 1.0
"""Splits a double into two halves whose products are exact (Veltkamp)."""
_ROOTS_WITHIN = (2.0**-960, 2.0**960)
"""Numbers whose `square_roots` the remainder measures without underflow or overflow."""


def _square_roots_are_powers(power: Callable[[float], float] = (0.5).__rpow__) -> bool:
    """Whether `square_roots` gives ``** 0.5``'s numbers here: checked once on 16,000 numbers.

    Where ``sqrt`` and this C library's ``pow`` round apart, the exact root lies more than 0.49
    of a unit off ``sqrt``'s; a ``pow`` that strayed further than `square_roots` relies on would
    differ in some of the numbers it takes from ``sqrt`` (one in ten lie between 0.4 and 0.45
    of a unit off). Then `exact_pow` takes every square root through ``**``.
    """
    probe = np.concatenate(
        (
            np.linspace(0.0, 1.0, 8001)[1:],
            np.geomspace(1e-12, 1e12, 8000),
        )
    )
    powers = np.fromiter(map(power, probe.tolist()), float, probe.size)
    return bool(square_roots(probe).tobytes() == powers.tobytes())


_SQUARE_ROOTS_ARE_POWERS = _square_roots_are_powers()


def _all_alike(x: NDArray[np.float64]) -> bool:
    """Whether every element has the same bits as the first (so -0.0 is not 0.0)."""
    bits = np.ascontiguousarray(x).view(np.int64)
    return bool((bits == bits.flat[0]).all())


def as_columns(rows: Sequence[Sequence[float]]) -> NDArray[np.float64]:
    """Rows of equal length as a float array (row, column)."""
    return np.asarray(rows, dtype=float)


class BatchStreams:
    """The random streams of a batch of replications, handed to the actors that need them.

    Args:
        seed: The master seed.
        replications: The batch's replications.
        horizon_months: Months the batch runs for.
    """

    def __init__(self, seed: int, replications: NDArray[np.int64], horizon_months: int) -> None:
        self.seed = seed
        self.replications = replications
        self.horizon_months = horizon_months

    def uniforms(self, purpose: str) -> NDArray[np.float64]:
        """One uniform for ``purpose`` per replication (`randomness.keyed_uniform`)."""
        return keyed_uniforms(self.seed, self.replications, purpose)

    def streams(self, purpose: str) -> KeyedStreams:
        """The ``purpose`` stream of every replication."""
        return KeyedStreams(self.seed, self.replications, purpose)

    def exponentials(self, purpose: str, expected_draws: float) -> ExponentialStreams:
        """Each replication's ``purpose`` stream of exponentials (see `ExponentialStreams`)."""
        return ExponentialStreams(self.seed, self.replications, purpose, expected_draws)


class CompiledMonth(Protocol):
    """What `compiled_month` gives a business and its owner: parts of their month, compiled."""

    win_and_lose: Callable[
        ..., tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None
    ]
    """The customer flows of a noisy month, or None to leave them to numpy."""
    record_month: Callable[..., None]
    """The month's cash settled and its books written."""
    close_books_month: Callable[..., tuple[NDArray[np.int8], NDArray[np.float64]]]
    """An owner's close of the month but for the closures."""
    customer_satisfaction: Callable[..., tuple[NDArray[np.float64], bool]]
    """The customers' satisfaction but for the owner's focus."""
    serve_visits: Callable[..., None]
    """The visits served, the sales and the month's counts."""


class CountQuantiles:
    """The count quantiles a batch draws with: numpy's, or compiled ones giving the same numbers.

    Args:
        compiled: Use the numba kernels (`compiled_counts`) if numba is installed.
    """

    def __init__(self, *, compiled: bool = False) -> None:
        self.compiled = False
        self.month: CompiledMonth | None = None
        """The parts of a business's month compiled (`compiled_month`), or None: numpy's."""
        if compiled:
            try:
                from franchise_sim.model import compiled_counts as kernels
                from franchise_sim.model import compiled_month
            except ImportError:  # numba is an optional extra: numpy's give the same numbers
                return
            self._poisson = kernels.poisson_counts
            self._binomial = kernels.binomial_counts
            self.compiled = True
            if kernels.MATHS_AGREE:  # its exp and powers are those `exact_exp` then takes
                self.month = cast(CompiledMonth, compiled_month)

    def poisson(self, u: NDArray[np.float64], mean: NDArray[np.float64]) -> NDArray[np.float64]:
        """`poisson_counts`."""
        if not self.compiled:
            return poisson_counts(u, mean)
        _check_means(mean)
        return self._poisson(u, mean)

    def binomial(
        self, u: NDArray[np.float64], n: NDArray[np.float64], p: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """`binomial_counts`."""
        if not self.compiled:
            return binomial_counts(u, n, p)
        live = (n > 0) & ~(p <= 0.0) & (u > 0.0)
        _check_means(np.where(live, n * p, 0.0))
        return self._binomial(u, n, p)


_KERNELS = "franchise_sim.model.compiled_counts"
KERNELS_REPAID_ARM_MONTHS = 400_000
"""Arm-months a process must simulate for the compiled kernels to repay loading them.

Loading them costs a process about 0.55-0.65 s (numba's import, 0.21-0.28 s, the kernels'
modules, 0.25-0.29 s, and the first calls' reading of numba's cache, about 0.1 s); with the
compiled month (`compiled_month`) they save 1.0-1.5 us an arm-month on
``scenarios/auto_repair.yaml`` (a batch of 500 paired runs x 60 months: 0.139 s against 0.229 s
of CPU, medians of 8 interleaved; a run of 1,000 on one core: 0.334 s against 0.453 s, medians
of 7), so they repay their loading after some 400,000-650,000 arm-months. A stated
measurement of this machine, not a property of the model: it only decides speed, never a
number.
"""


class CompiledMaths(Protocol):
    """What `compiled_maths` gives: `compiled_counts`' element-wise ``exp`` and powers."""

    def exps(self, x: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """``math.exp`` of every element, or None to leave them to Python."""

    def powers_of_number(
        self, number: float, exponents: NDArray[np.float64]
    ) -> NDArray[np.float64] | None:
        """``number ** e`` for every element, or None to leave them to Python."""

    def powers_to(self, bases: NDArray[np.float64], power: float) -> NDArray[np.float64] | None:
        """``b ** power`` for every element, or None to leave them to Python."""


def compiled_maths() -> CompiledMaths | None:
    """The compiled kernels' element-wise ``exp`` and powers, if this process may use them.

    Where it has loaded the kernels (`load_compiled_counts`) and they gave Python's own numbers
    when checked on loading (`compiled_counts.MATHS_AGREE`); else None, and `exact_exp` and
    `exact_pow` go their own way, to the same numbers.
    """
    kernels = sys.modules.get(_KERNELS)
    if not getattr(kernels, "MATHS_AGREE", False):  # None, or still being imported elsewhere
        return None
    return cast(CompiledMaths, kernels)


def kernels_loaded() -> bool:
    """Whether this process has loaded the compiled kernels (`compiled_counts`)."""
    return _KERNELS in sys.modules


def numba_installed() -> bool:
    """Whether numba can be imported here (the ``fast`` extra), without importing it."""
    return importlib.util.find_spec("numba") is not None


def compiled_repays(arm_months_per_process: float) -> bool:
    """Whether a run should draw with the compiled kernels, given each process's share of it.

    Yes once this process has them (a long session: the explorer, an earlier large run), or
    where numba is installed and each process's share of this run, with its shares of the runs
    this process asked for before (`count_arm_months`), reaches `KERNELS_REPAID_ARM_MONTHS`.
    The rule of renting until the rent paid reaches the price: a session that has run that much
    without them has forgone about what loading them costs, and is likely to run more (a
    notebook changing one assumption at a time); a one-off short run or ``validate`` never pays.
    """
    if kernels_loaded():
        return True
    so_far = _ARM_MONTHS_SO_FAR[0] + arm_months_per_process
    return so_far >= KERNELS_REPAID_ARM_MONTHS and numba_installed()


def count_arm_months(arm_months_per_process: float) -> None:
    """Count a finished run's share of each process towards `compiled_repays`' rule."""
    _ARM_MONTHS_SO_FAR[0] += arm_months_per_process


def forget_arm_months() -> None:
    """Count towards `compiled_repays`' rule from nothing again, as a new process does.

    For a benchmark that times numpy's counts over many runs in one process.
    """
    _ARM_MONTHS_SO_FAR[0] = 0.0


_ARM_MONTHS_SO_FAR = [0.0]
"""Each process's shares of the runs this process has asked for so far (`count_arm_months`)."""


def load_compiled_counts() -> bool:
    """Load the compiled kernels into this process if numba is installed; whether it has them.

    A long-lived caller (the explorer) loads them before it starts its workers, which then
    hold them too (forked), so every later run draws with them (`compiled_repays`).
    """
    return CountQuantiles(compiled=True).compiled


def count_quantiles() -> CountQuantiles:
    """The count quantiles a batch draws with unless told: compiled once loaded, else numpy's.

    Both give the same numbers; which a run uses is `compiled_repays`'s choice, made by the
    runner for all its batches.
    """
    return CountQuantiles(compiled=kernels_loaded())
