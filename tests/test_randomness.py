"""Unit tests for franchise_sim.model.randomness: keyed streams and inverse-transform counts."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import stats

from franchise_sim.model import randomness
from franchise_sim.model.randomness import (
    ReplicationStreams,
    binomial_count,
    keyed_uniform,
    poisson_count,
    purpose_key,
    seed_sequence,
    stream,
)

ULP_BELOW_ONE = 2.0**-53
"""Spacing of doubles just below 1: the largest uniform below 1 is ``1 - 2^-53``."""

# The uniforms the model feeds in: 53-bit doubles from ``Generator.random`` or ``keyed_uniform``.
# Below 1 - 1e-12 the Poisson/binomial quantile is numerically well determined.
uniforms = st.floats(min_value=2.0**-54, max_value=1.0 - 1e-12)
near_zero = st.floats(min_value=2.0**-54, max_value=1e-6)
near_one = st.floats(min_value=1.0 - 1e-6, max_value=1.0 - 1e-12)
any_uniform = st.one_of(uniforms, near_zero, near_one)
poisson_means = st.one_of(
    st.floats(min_value=1e-6, max_value=12.0),  # summed from zero
    st.floats(min_value=11.0, max_value=13.0),  # around the switch of method
    st.floats(min_value=12.0, max_value=1e5),  # the large-mean method
)


# --- purpose keys and keyed streams ------------------------------------------------------------


def test_purpose_key_is_crc32_of_utf8() -> None:
    # CRC-32 check values (hard-coded), then zlib itself on the model's purpose names.
    assert purpose_key("123456789") == 0xCBF43926
    assert purpose_key("The quick brown fox jumps over the lazy dog") == 0x414FA339
    assert purpose_key("customers") == 0x62534E21 == zlib.crc32(b"customers")
    assert purpose_key("input:rent") == 0x10C70EC6 == zlib.crc32(b"input:rent")
    # UTF-8, not Latin-1.
    assert purpose_key("café") == 0x98AD42B5 == zlib.crc32("café".encode())
    assert purpose_key("café") != zlib.crc32("café".encode("latin-1"))
    assert purpose_key("") == 0


def test_seed_sequence_is_keyed_by_replication_and_purpose() -> None:
    seq = seed_sequence(20240601, 17, "customers")
    assert seq.entropy == 20240601
    assert seq.spawn_key == (17, 0x62534E21)


def test_same_key_gives_same_stream() -> None:
    a = stream(42, 3, "customers").random(50)
    b = stream(42, 3, "customers").random(50)
    np.testing.assert_array_equal(a, b)
    assert keyed_uniform(42, 3, "input:rent") == keyed_uniform(42, 3, "input:rent")


def test_stream_does_not_depend_on_what_else_was_drawn() -> None:
    alone = stream(42, 3, "customers").random(10)
    for replication in range(10):
        stream(42, replication, "shocks").random(100)
    np.testing.assert_array_equal(stream(42, 3, "customers").random(10), alone)


@pytest.mark.parametrize(
    ("other_seed", "other_replication", "other_purpose"),
    [(42, 3, "shocks"), (42, 4, "customers"), (43, 3, "customers"), (42, 0, "customers")],
)
def test_different_key_gives_different_stream(
    other_seed: int, other_replication: int, other_purpose: str
) -> None:
    base = stream(42, 3, "customers").random(20)
    other = stream(other_seed, other_replication, other_purpose).random(20)
    assert not np.any(base == other)
    assert keyed_uniform(42, 3, "customers") != keyed_uniform(
        other_seed, other_replication, other_purpose
    )


def test_replication_streams_delegate_to_keyed_functions() -> None:
    streams = ReplicationStreams(seed=7, replication=11)
    np.testing.assert_array_equal(
        streams.generator("customers").random(5), stream(7, 11, "customers").random(5)
    )
    assert streams.uniform("owner.personal_exit") == keyed_uniform(7, 11, "owner.personal_exit")


def test_keyed_uniforms_are_distinct_across_keys() -> None:
    values = {keyed_uniform(1, r, p) for r in range(200) for p in ("a", "b", "c")}
    assert len(values) == 600


def test_keyed_uniform_over_replications_is_uniform() -> None:
    values = np.array([keyed_uniform(20240601, r, "input:rent") for r in range(2_000)])
    assert np.all((values > 0.0) & (values < 1.0))
    assert stats.kstest(values, "uniform").pvalue > 1e-3
    assert abs(values.mean() - 0.5) < 4 * np.sqrt(1 / 12 / values.size)


def test_keyed_uniform_over_purposes_is_uniform_and_uncorrelated() -> None:
    a = np.array([keyed_uniform(5, 0, f"input:field{i}") for i in range(2_000)])
    b = np.array([keyed_uniform(5, 1, f"input:field{i}") for i in range(2_000)])
    assert stats.kstest(a, "uniform").pvalue > 1e-3
    assert stats.kstest(b, "uniform").pvalue > 1e-3
    # Same purposes, neighbouring replications: no correlation (|r| < 4.5 standard errors).
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.1


class _FixedWordSequence:
    """Stands in for a SeedSequence whose first state word is known."""

    def __init__(self, word: int) -> None:
        self.word = word

    def generate_state(self, n_words: int, dtype: type[np.uint64]) -> NDArray[np.uint64]:
        return np.full(n_words, self.word, dtype=dtype)


@pytest.mark.parametrize(
    ("word", "low", "high"),
    [
        (0, 2.0**-54, 2.0**-54),  # the smallest word maps to half a step above 0
        (2**63, 0.5, 0.5 + 2.0**-53),
        (2**64 - 2**12, 1.0 - 2.0**-52, 1.0 - ULP_BELOW_ONE),
        (2**64 - 1, 1.0 - 2.0**-52, 1.0 - ULP_BELOW_ONE),  # the largest word stays below 1
    ],
)
def test_keyed_uniform_extreme_words_stay_inside_unit_interval(
    monkeypatch: pytest.MonkeyPatch, word: int, low: float, high: float
) -> None:
    def fake(seed: int, replication: int, purpose: str) -> _FixedWordSequence:
        return _FixedWordSequence(word)

    monkeypatch.setattr(randomness, "seed_sequence", fake)
    u = keyed_uniform(1, 2, "anything")
    assert 0.0 < u < 1.0
    assert low <= u <= high


def _assert_scipy_quantile(count: int, ref: Any, u: float) -> None:
    """``count`` is scipy's ``ppf(u)``, except on a tie.

    When ``u`` equals a step of the distribution function (e.g. u = 1/2 for Binomial(27, 1/2)),
    which side of the step rounding lands on is arbitrary, for scipy as for the model.
    """
    expected = int(ref.ppf(u))
    if count != expected:
        assert abs(count - expected) == 1
        assert float(ref.cdf(min(count, expected))) == pytest.approx(u, rel=1e-13)


# --- Poisson counts ----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(u=any_uniform, mean=poisson_means)
@example(u=0.5, mean=12.0)
@example(u=0.5, mean=11.999999)
@example(u=2.0**-54, mean=40.0)
@example(u=1.0 - 1e-12, mean=2.0)
@example(u=1.0 - 1e-12, mean=5_000.0)
def test_poisson_count_is_scipy_ppf(u: float, mean: float) -> None:
    _assert_scipy_quantile(poisson_count(u, mean), stats.poisson(mean), u)


@pytest.mark.parametrize("mean", [0.05, 1.0, 3.7, 11.99, 12.0, 12.01, 30.0, 250.0, 4_000.0])
def test_poisson_count_on_a_grid_of_uniforms(mean: float) -> None:
    us = np.concatenate([(np.arange(500) + 0.5) / 500, [1e-15, 1e-9, 1 - 1e-9]])
    counts = np.array([poisson_count(float(u), mean) for u in us])
    np.testing.assert_array_equal(counts, stats.poisson.ppf(us, mean))
    # Inverse transform of evenly spread uniforms reproduces the mean.
    assert counts[:500].mean() == pytest.approx(mean, rel=0.02, abs=0.02)


def test_poisson_count_hand_cases() -> None:
    # Poisson(1): P(0) = e^-1 = 0.3679, P(<=1) = 0.7358, P(<=2) = 0.9197.
    assert poisson_count(0.36, 1.0) == 0
    assert poisson_count(0.37, 1.0) == 1
    assert poisson_count(0.73, 1.0) == 1
    assert poisson_count(0.74, 1.0) == 2
    assert poisson_count(0.92, 1.0) == 3


@pytest.mark.parametrize("mean", [0.0, -3.0])
def test_poisson_count_without_mean_is_zero(mean: float) -> None:
    assert poisson_count(0.999, mean) == 0


@pytest.mark.parametrize("mean", [0.5, 12.0, 50.0, 5_000.0])
def test_poisson_count_at_u_zero_is_zero(mean: float) -> None:
    # Generator.random() can return exactly 0.0: the 0-quantile is the bottom of the support.
    assert poisson_count(0.0, mean) == 0


@settings(max_examples=200, deadline=None)
@given(u1=any_uniform, u2=any_uniform, mean=poisson_means)
def test_poisson_count_is_monotone_in_u(u1: float, u2: float, mean: float) -> None:
    low, high = sorted((u1, u2))
    assert poisson_count(low, mean) <= poisson_count(high, mean)


@settings(max_examples=200, deadline=None)
@given(u=any_uniform, m1=poisson_means, m2=poisson_means)
def test_poisson_count_is_monotone_in_mean(u: float, m1: float, m2: float) -> None:
    low, high = sorted((m1, m2))
    assert poisson_count(u, low) <= poisson_count(u, high)


def _upper_tail_quantile(sf: Callable[[int], float], tail: float, start: int) -> int:
    """Smallest k >= start with P(X > k) <= tail, from an accurate survival function."""
    k = start
    while sf(k) > tail:
        k += 1
    return k


def _assert_near_quantile(count: int, sf: Callable[[int], float], tail: float, start: int) -> None:
    """``count`` is a quantile for an upper tail near ``tail``, allowing for rounding.

    A distribution function summed in doubles carries a few ulps (~1e-16) of rounding, as large
    as the tail itself this close to 1: the count may overshoot the exact quantile by one, but
    must not run away into the far tail (nor stop short of a much fatter tail).
    """
    assert _upper_tail_quantile(sf, 100 * tail, start) <= count
    assert count <= _upper_tail_quantile(sf, tail / 1_000, start) + 1


TOP_UNIFORMS = [1.0 - ULP_BELOW_ONE, 1.0 - 2 * ULP_BELOW_ONE, 1.0 - 3 * ULP_BELOW_ONE, 1 - 1e-15]


@pytest.mark.parametrize("u", TOP_UNIFORMS)
@pytest.mark.parametrize("mean", [0.3, 2.0, 3.6, 8.0, 11.9, 12.5, 40.0, 5_000.0])
def test_poisson_count_at_the_top_of_the_unit_interval(u: float, mean: float) -> None:
    # Within a few ulps of 1 the quantile is only defined up to rounding of the distribution
    # function; it must still be a quantile of a nearby level, not run away into the far tail.
    count = poisson_count(u, mean)
    start = int(stats.poisson.ppf(1 - 1e-9, mean))

    def sf(k: int) -> float:
        return float(stats.poisson.sf(k, mean))

    _assert_near_quantile(count, sf, 1.0 - u, start)


# --- binomial counts ---------------------------------------------------------------------------

binomial_ns = st.one_of(st.integers(min_value=1, max_value=60), st.integers(1, 100_000))
binomial_ps = st.one_of(
    st.floats(min_value=1e-6, max_value=0.999_999),
    st.floats(min_value=0.0001, max_value=0.2),  # monthly churn probabilities
)


@settings(max_examples=400, deadline=None)
@given(u=any_uniform, n=binomial_ns, p=binomial_ps)
@example(u=0.5, n=24, p=0.5)  # n p = 12 exactly
@example(u=0.5, n=27, p=0.5)  # a tie: cdf(13) = 1/2 exactly
@example(u=0.5, n=1_200, p=0.0099999)  # just below the switch
@example(u=2.0**-54, n=100_000, p=0.3)
@example(u=1.0 - 1e-12, n=100, p=0.01)
@example(u=1.0 - 1e-12, n=20, p=0.95)
def test_binomial_count_is_scipy_ppf(u: float, n: int, p: float) -> None:
    _assert_scipy_quantile(binomial_count(u, n, p), stats.binom(n, p), u)


@pytest.mark.parametrize(
    ("n", "p"), [(1, 0.3), (10, 0.5), (40, 0.02), (24, 0.5), (30, 0.9), (500, 0.1), (9_000, 0.4)]
)
def test_binomial_count_on_a_grid_of_uniforms(n: int, p: float) -> None:
    us = np.concatenate([(np.arange(500) + 0.5) / 500, [1e-15, 1e-9, 1 - 1e-9]])
    counts = np.array([binomial_count(float(u), n, p) for u in us])
    np.testing.assert_array_equal(counts, stats.binom.ppf(us, n, p))
    assert counts[:500].mean() == pytest.approx(n * p, rel=0.02, abs=0.02)


def test_binomial_count_hand_cases() -> None:
    # Binomial(2, 1/2): P(0) = 1/4, P(<=1) = 3/4.
    assert binomial_count(0.24, 2, 0.5) == 0
    assert binomial_count(0.25, 2, 0.5) == 0
    assert binomial_count(0.26, 2, 0.5) == 1
    assert binomial_count(0.75, 2, 0.5) == 1
    assert binomial_count(0.76, 2, 0.5) == 2
    # Binomial(3, 1/2): P(<=1) = 1/2 exactly, and u = 1/2 is its own quantile.
    assert binomial_count(0.5, 3, 0.5) == 1
    # Binomial(1, p) is a Bernoulli trial: a departure when u > 1 - p.
    assert binomial_count(0.69, 1, 0.3) == 0
    assert binomial_count(0.71, 1, 0.3) == 1


@pytest.mark.parametrize(
    ("u", "n", "p", "expected"),
    [
        (0.5, 0, 0.5, 0),
        (0.5, -4, 0.5, 0),
        (0.999, 10, 0.0, 0),
        (0.999, 10, -0.1, 0),
        (1e-9, 10, 1.0, 10),
        (0.0, 100, 0.01, 0),
        (0.0, 100, 0.5, 0),  # Generator.random() can return exactly 0.0
        (0.0, 100_000, 0.3, 0),
    ],
)
def test_binomial_count_edge_cases(u: float, n: int, p: float, expected: int) -> None:
    assert binomial_count(u, n, p) == expected


@settings(max_examples=200, deadline=None)
@given(u1=any_uniform, u2=any_uniform, n=binomial_ns, p=binomial_ps)
def test_binomial_count_is_monotone_in_u_and_within_range(
    u1: float, u2: float, n: int, p: float
) -> None:
    low, high = sorted((u1, u2))
    k_low = binomial_count(low, n, p)
    k_high = binomial_count(high, n, p)
    assert 0 <= k_low <= k_high <= n


@settings(max_examples=200, deadline=None)
@given(u=any_uniform, n=binomial_ns, p1=binomial_ps, p2=binomial_ps)
def test_binomial_count_is_monotone_in_p(u: float, n: int, p1: float, p2: float) -> None:
    low, high = sorted((p1, p2))
    assert binomial_count(u, n, low) <= binomial_count(u, n, high)


@pytest.mark.parametrize("u", TOP_UNIFORMS)
@pytest.mark.parametrize(
    ("n", "p"), [(10, 1e-6), (50, 0.01), (100, 0.01), (100, 0.1), (20, 0.55), (5_000, 0.3)]
)
def test_binomial_count_at_the_top_of_the_unit_interval(u: float, n: int, p: float) -> None:
    count = binomial_count(u, n, p)
    start = int(stats.binom.ppf(1 - 1e-9, n, p))

    def sf(k: int) -> float:
        return float(stats.binom.sf(k, n, p))

    _assert_near_quantile(count, sf, 1.0 - u, start)
