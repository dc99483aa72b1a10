"""The batch engine's shortcuts give the numbers of the plain loops they stand for, to the bit.

The books must not change by one bit (tests/test_batch_engine.py holds them to the engine's
oracle); these check the shortcuts themselves on inputs where the order of a sum shows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from franchise_sim.model import streams
from franchise_sim.model.business import sum_rows
from franchise_sim.model.streams import exact_exp, exact_pow


@pytest.fixture(autouse=True, params=["numpy", "compiled"])
def maths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test both ways: numpy's shortcuts, and the compiled kernels' loops where loaded."""
    if request.param == "compiled":
        kernels = pytest.importorskip("franchise_sim.model.compiled_counts")
        assert kernels.MATHS_AGREE  # this machine's C library: the numbers Python's are
        monkeypatch.setattr(streams, "compiled_maths", lambda: kernels)
    else:
        monkeypatch.setattr(streams, "compiled_maths", lambda: None)
    return str(request.param)


def _loop_sum(rows: np.ndarray) -> np.ndarray:
    """``0 + rows[0] + rows[1] + ...`` as the books once added the cost lines."""
    total = np.zeros(rows.shape[1])
    for row in rows:
        total = total + row
    return total


def _where_order_shows(lines: int, size: int, seed: int) -> np.ndarray:
    """Cost lines whose sum depends on the order they are added in (big and small mixed)."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-3, 17, size=(lines, size))
    return rng.standard_normal((lines, size)) * scale


@pytest.mark.parametrize("lines", [0, 1, 2, 7, 8, 9, 16, 21, 33])
def test_rows_are_summed_in_order(lines: int) -> None:
    shown = 0
    for size in (1, 2, 3, 8, 17, 500):
        rows = _where_order_shows(lines, size, seed=lines * 1000 + size)
        expected = _loop_sum(rows)
        assert sum_rows(rows).tobytes() == expected.tobytes()
        assert sum_rows(np.asfortranarray(rows)).tobytes() == expected.tobytes()
        picked = np.flatnonzero(np.arange(size) % 3 != 1)
        assert sum_rows(rows[:, picked]).tobytes() == expected[picked].tobytes()
        if lines > 8:
            pairwise = np.sum(np.ascontiguousarray(rows.T), axis=1)  # along the contiguous axis
            shown += int(pairwise.tobytes() != expected.tobytes())
    assert lines <= 8 or shown  # a sum in another order differs: the cases can tell


POWERS = [
    (np.full(40, 1.01), np.array(5 / 12)),  # a fixed trend: one power for all
    (np.array([0.0, -0.0, 0.0]), np.array(3.0)),  # alike in value, not in bits
    (np.array([-0.0, -0.0]), np.array(3.0)),  # -0.0 twice, taken once
    (np.linspace(0.01, 0.99, 37).reshape(37, 1), np.array(0.5)),  # a winback share
    (np.array(0.5), np.linspace(0.0, 3.0, 29)),  # a brand's fade
    (np.array(0.5), np.full((2, 3), 1.75)),  # one base, one exponent throughout
    (np.array(2.0), np.array(0.5)),
    (np.zeros(0), np.array(2.0)),
    (np.array([[1.1], [0.9]]), np.array([0.5, 2.0, 3.0])),  # both sides many
    (np.array([[1.25]]), np.linspace(0.0, 2.0, 5)),  # one base of shape (1, 1): (1, 5)
    (np.linspace(0.2, 0.8, 4), np.array([[0.5]])),  # a square root of shape (1, 1): (1, 4)
    (np.zeros(0), np.zeros(0)),  # nothing on either side
]


@pytest.mark.parametrize(("base", "exponent"), POWERS)
def test_exact_powers_are_pythons_element_by_element(
    base: np.ndarray, exponent: np.ndarray
) -> None:
    """Each shortcut of `exact_pow` (a single number on one side, one pair throughout)."""
    b, e = np.broadcast_arrays(base, exponent)
    each = np.array([float(x) ** float(y) for x, y in zip(b.ravel(), e.ravel(), strict=True)])
    powers = exact_pow(base, exponent)
    assert powers.shape == b.shape
    assert powers.ravel().tobytes() == each.tobytes()


EXPONENTS = [
    np.linspace(-50.0, 0.0, 20001),  # churn, first masses of counts
    np.linspace(-1.0, 1.0, 20001),
    np.linspace(-708.0, 708.0, 20001),
    np.array([0.0, -0.0, 708.0, -708.0, 708.5, -708.5, -745.2, -800.0, np.inf, -np.inf, np.nan]),
    np.geomspace(1e-300, 1e-3, 999).reshape(27, 37),
    np.array(0.25),
    np.zeros((3, 0)),
]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("x", EXPONENTS)
def test_exact_exponentials_are_maths_element_by_element(
    x: np.ndarray, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`exact_exp` is ``math.exp`` to the bit, by the complex exponential or one by one."""
    monkeypatch.setattr(streams, "_CEXP_IS_MATHS", fast and streams._CEXP_IS_MATHS)
    each = np.array([math.exp(v) for v in x.ravel().tolist()]).reshape(x.shape)
    exps = exact_exp(x)
    assert isinstance(exps, np.ndarray)
    assert exps.shape == x.shape
    assert exps.tobytes() == each.tobytes()


def test_exact_exponentials_overflow_as_maths_does() -> None:
    with pytest.raises(OverflowError):
        exact_exp(np.array([1.0, 710.0]))


def test_the_complex_exponentials_check_tells_another_exponential_apart() -> None:
    """The check refuses an exponential one digit off ``math.exp``'s at a single argument."""
    assert streams._complex_exp_is_maths() == streams._CEXP_IS_MATHS

    def one_off(z: np.ndarray) -> np.ndarray:
        exps: np.ndarray = np.exp(z)
        exps[exps.size // 3] = np.nextafter(exps[exps.size // 3].real, np.inf)
        return exps

    assert not streams._complex_exp_is_maths(one_off)


def test_log_factorials_are_scipys(monkeypatch: pytest.MonkeyPatch) -> None:
    """From the table as it grows, and computed beyond its largest size, the same numbers."""
    monkeypatch.setattr(streams, "_LOG_FACTORIAL_TABLE", [np.zeros(0)])
    monkeypatch.setattr(streams, "_LOG_FACTORIALS_KEPT", 5000)
    rng = np.random.default_rng(8)
    for largest in (0.0, 3.0, 700.0, 4999.0, 5000.0, 1e7):
        k = np.floor(rng.uniform(0.0, largest, 300))
        k[0] = largest
        expected = special.gammaln(k + 1.0)
        assert streams.log_factorials(k).tobytes() == expected.tobytes()
        assert streams._LOG_FACTORIAL_TABLE[0].size <= 5000
    assert streams._LOG_FACTORIAL_TABLE[0].size > 700
    assert streams.log_factorials(np.zeros(0)).size == 0
    assert np.isnan(streams.log_factorials(np.array([2.0, np.nan]))[1])


ROOTED = [
    np.random.default_rng(11).random(50_000),  # winback shares' complements
    np.random.default_rng(12).uniform(0.999, 1.0, 20_000),
    np.geomspace(1e-300, 1e300, 20_001),
    np.array([0.0, -0.0, 1.0, 4.0, 0.25, 2.0**-960, 2.0**960, 1e-310, np.inf, np.nan]),  # few
    np.tile([0.0, -0.0, 1.0, 4.0, 0.25, 2.0**-960, 2.0**960, 1e-310, np.inf, np.nan], 3),
    np.linspace(0.01, 0.99, 37).reshape(37, 1),
    np.zeros(0),
]


@pytest.mark.parametrize("base", ROOTED)
def test_square_roots_are_pythons_powers(base: np.ndarray) -> None:
    """`square_roots` and `exact_pow` at 0.5 are ``x ** 0.5`` element by element, to the bit."""
    each = np.array([v**0.5 for v in base.ravel().tolist()]).reshape(base.shape)
    assert streams.square_roots(base).tobytes() == each.tobytes()
    assert exact_pow(base, 0.5).tobytes() == each.tobytes()
    assert exact_pow(base, np.array(0.5)).shape == base.shape


def test_square_roots_of_negative_numbers_fail_as_powers_do() -> None:
    with pytest.raises(TypeError):
        exact_pow(np.array([4.0, -1.0]), 0.5)  # ``-1.0 ** 0.5`` is complex


def test_the_square_roots_check_tells_a_looser_power_apart() -> None:
    """A ``pow`` one digit off at a root ``sqrt`` rounds well inside its interval is refused."""
    assert streams._square_roots_are_powers() == streams._SQUARE_ROOTS_ARE_POWERS
    assert streams._square_roots_are_powers(lambda x: x**0.5)

    def looser(x: float) -> float:
        root: float = x**0.5
        return math.nextafter(root, math.inf) if x == 0.5 else root

    assert not streams._square_roots_are_powers(looser)


def test_the_compiled_maths_leave_to_python_what_python_would_refuse_or_round_apart() -> None:
    kernels = pytest.importorskip("franchise_sim.model.compiled_counts")
    assert kernels.exps(np.array([1.0, 708.0, -708.0])) is not None
    for beyond in (708.5, -709.0, np.inf, np.nan):
        assert kernels.exps(np.array([0.0, beyond])) is None
    assert kernels.powers_of_number(0.5, np.array([0.0, 3.5])) is not None
    assert kernels.powers_of_number(2.0, np.array([1.0, 2000.0])) is None  # overflows
    assert kernels.powers_of_number(0.0, np.array([2.0])) is None  # zero to a power: Python's
    assert kernels.powers_to(np.array([0.0, 0.3]), 0.5) is not None
    assert kernels.powers_to(np.array([0.3, -0.3]), 0.5) is None  # complex in Python
    assert kernels.powers_to(np.array([0.0]), -1.0) is None  # division by zero in Python
    assert kernels.exps(np.zeros((3, 0))).shape == (3, 0)


def test_the_compiled_maths_check_tells_an_exponential_one_digit_off_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kernels = pytest.importorskip("franchise_sim.model.compiled_counts")
    assert kernels._maths_agree()
    real = kernels.exps

    def one_off(x: np.ndarray) -> np.ndarray | None:
        out: np.ndarray | None = real(x)
        if out is not None and out.size > 100:
            out[100] = np.nextafter(out[100], np.inf)
        return out

    monkeypatch.setattr(kernels, "exps", one_off)
    assert not kernels._maths_agree()
