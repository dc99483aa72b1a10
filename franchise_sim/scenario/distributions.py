"""Uncertain inputs: distributions drawn once per replication.

A scenario field that accepts a distribution takes either a plain number (a fixed value) or a
mapping with a ``dist`` key. Every distribution knows its mean, its support and its inverse
cumulative distribution function (``ppf``); the runner draws values by inverse transform from
uniforms keyed by replication and field, so two arms that share a field share its draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar, overload

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special

_TWO_TO_MINUS_53 = 2.0**-53

SMALLEST_UNIFORM = 0.5 * _TWO_TO_MINUS_53
"""The smallest uniform an inverse CDF is given (a keyed uniform with its top 53 bits zero)."""
LARGEST_UNIFORM = 1.0 - _TWO_TO_MINUS_53
"""The largest uniform an inverse CDF is given (a keyed uniform keeps below 1)."""


FloatArray = NDArray[np.float64]


class DistributionModel(BaseModel):
    """Shared configuration of every distribution model."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    def mean(self) -> float:
        """Return the distribution's mean."""
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        """Return the smallest and largest value the distribution can take."""
        raise NotImplementedError

    def ppf(self, u: FloatArray) -> FloatArray:
        """Map uniforms in (0, 1) to draws (inverse cumulative distribution function)."""
        raise NotImplementedError


class Fixed(DistributionModel):
    """A known value, written ``{dist: fixed, value: 3}`` or just ``3``."""

    dist: Literal["fixed"] = "fixed"
    value: float

    def mean(self) -> float:
        """Return the value itself."""
        return self.value

    def support(self) -> tuple[float, float]:
        """Return the one-point support."""
        return (self.value, self.value)

    def ppf(self, u: FloatArray) -> FloatArray:
        """Return the value for every uniform."""
        return np.full(np.shape(u), self.value)


class Uniform(DistributionModel):
    """Every value between ``low`` and ``high`` equally likely."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError("uniform needs low < high")
        return self

    def mean(self) -> float:
        """Return the midpoint."""
        return (self.low + self.high) / 2

    def support(self) -> tuple[float, float]:
        """Return ``(low, high)``."""
        return (self.low, self.high)

    def ppf(self, u: FloatArray) -> FloatArray:
        """Scale the uniforms onto ``[low, high]``."""
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)


class Triangular(DistributionModel):
    """Three-point estimate: ``low``, most likely ``mode``, ``high``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self

    def mean(self) -> float:
        """Return ``(low + mode + high) / 3``."""
        return (self.low + self.mode + self.high) / 3

    def support(self) -> tuple[float, float]:
        """Return ``(low, high)``."""
        return (self.low, self.high)

    def ppf(self, u: FloatArray) -> FloatArray:
        """Closed-form inverse of the triangular distribution function."""
        u = np.asarray(u, dtype=float)
        a, c, b = self.low, self.mode, self.high
        split = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        # Clipped: with the mode at an end, rounding can land an ulp outside [low, high].
        return np.asarray(np.clip(np.where(u < split, left, right), a, b), dtype=float)


class Normal(DistributionModel):
    """Normal distribution, optionally truncated to ``[low, high]``."""

    dist: Literal["normal"]
    mean_value: float = Field(alias="mean")
    sd: float = Field(gt=0)
    low: float | None = None
    high: float | None = None

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _ordered(self) -> Normal:
        lo, hi = self.support()
        if not lo < hi:
            raise ValueError("normal needs low < high")
        if self._mass() < 1e-300:
            raise ValueError("normal truncated to [low, high] keeps none of its mass")
        return self

    def _z_bounds(self) -> tuple[float, float]:
        lo, hi = self.support()
        return ((lo - self.mean_value) / self.sd, (hi - self.mean_value) / self.sd)

    def _mass(self) -> float:
        """Probability of ``[low, high]``, from the tail where it is small (no cancellation)."""
        za, zb = self._z_bounds()
        if za > 0:
            return float(special.ndtr(-za) - special.ndtr(-zb))
        return float(special.ndtr(zb) - special.ndtr(za))

    def mean(self) -> float:
        """Return the mean, corrected for truncation when bounds are given."""
        za, zb = self._z_bounds()
        density = _std_normal_pdf(za) - _std_normal_pdf(zb)
        return self.mean_value + self.sd * density / self._mass()

    def support(self) -> tuple[float, float]:
        """Return the truncation bounds (infinite where none is given)."""
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return (lo, hi)

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse transform restricted to the truncated range."""
        za, zb = self._z_bounds()
        mass = self._mass()
        u = np.asarray(u, dtype=float)
        below = special.ndtr(za) + u * mass  # P(Z <= z), accurate in the lower half
        above = special.ndtr(-zb) + (1.0 - u) * mass  # P(Z > z), accurate in the upper
        z = np.where(below < 0.5, special.ndtri(below), -special.ndtri(above))
        return np.asarray(np.clip(self.mean_value + self.sd * z, *self.support()), dtype=float)


LOGNORMAL_MAX_SD_RATIO = 1000.0
"""Largest ratio of a lognormal's sd to its mean.

At 1,000 its log-scale sd is 3.7 and its largest draw some 1e10 times its mean; far beyond, the
log parameters overflow (an sd of 1e300 on a mean of 25,000).
"""


class LogNormal(DistributionModel):
    """Positive, right-skewed value given by its own ``mean`` and ``sd``."""

    dist: Literal["lognormal"]
    mean_value: float = Field(alias="mean", gt=0)
    sd: float = Field(gt=0)

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _spread(self) -> LogNormal:
        if self.sd > LOGNORMAL_MAX_SD_RATIO * self.mean_value:
            raise ValueError(
                f"a lognormal's sd may be at most {LOGNORMAL_MAX_SD_RATIO:,.0f} times its mean"
            )
        return self

    def _log_params(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean_value) ** 2)
        return (math.log(self.mean_value) - sigma2 / 2, math.sqrt(sigma2))

    def mean(self) -> float:
        """Return the mean given in the file."""
        return self.mean_value

    def support(self) -> tuple[float, float]:
        """Return ``(0, inf)``."""
        return (0.0, math.inf)

    def ppf(self, u: FloatArray) -> FloatArray:
        """Exponentiate a normal quantile."""
        mu, sigma = self._log_params()
        return np.exp(mu + sigma * special.ndtri(np.asarray(u, dtype=float)))


class Beta(DistributionModel):
    """Beta(``a``, ``b``) scaled onto ``[low, high]`` (default ``[0, 1]``)."""

    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Beta:
        if not self.low < self.high:
            raise ValueError("beta needs low < high")
        return self

    def mean(self) -> float:
        """Return ``low + (high - low) * a / (a + b)``."""
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)

    def support(self) -> tuple[float, float]:
        """Return ``(low, high)``."""
        return (self.low, self.high)

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse of the regularised incomplete beta function, scaled.

        scipy's ``betaincinv`` gives up (NaN) in the far tails for some shapes (``a`` = 1.03,
        ``b`` = 0.25 at the smallest uniform, `SMALLEST_UNIFORM`); there the quantile is found
        by bisecting ``betainc`` instead (`_bisected_beta_quantile`).
        """
        u = np.asarray(u, dtype=float)
        x = np.asarray(special.betaincinv(self.a, self.b, u), dtype=float)
        lost = np.flatnonzero(np.isnan(x) & (u > 0.0) & (u < 1.0))
        if lost.size:
            x[lost] = _bisected_beta_quantile(self.a, self.b, u[lost])
        return np.asarray(self.low + (self.high - self.low) * x, dtype=float)


def _bisected_beta_quantile(a: float, b: float, u: FloatArray) -> FloatArray:
    """The ``x`` in [0, 1] with ``betainc(a, b, x) = u``, by bisection to the last digit.

    Halves on a log scale while the bracket spans more than a factor of two (tail quantiles
    may be as small as 1e-300), then on a linear one.
    """
    low = np.full(u.shape, np.finfo(float).tiny)
    high = np.ones(u.shape)
    for _ in range(200):  # about 11 halvings of the exponent's range, then 53 of the digits
        wide = high > 2.0 * low
        middle = np.where(wide, np.sqrt(low * high), 0.5 * (low + high))
        if not ((middle > low) & (middle < high)).any():
            break
        below = special.betainc(a, b, middle) < u
        low = np.where(below, middle, low)
        high = np.where(below, high, middle)
    return high


Distribution = Annotated[
    Fixed | Uniform | Triangular | Normal | LogNormal | Beta, Field(discriminator="dist")
]
"""Any distribution, chosen by its ``dist`` key."""

Uncertain = float | Distribution
"""A scenario value that is either a fixed number or a distribution."""


def mean_of(value: float | DistributionModel) -> float:
    """Return the mean of a fixed number or a distribution."""
    return float(value) if isinstance(value, int | float) else value.mean()


def support_of(value: float | DistributionModel) -> tuple[float, float]:
    """Return the support of a fixed number or a distribution."""
    return (float(value), float(value)) if isinstance(value, int | float) else value.support()


_EXTREME_UNIFORMS = np.array([SMALLEST_UNIFORM, LARGEST_UNIFORM])


def draw_range(value: float | DistributionModel) -> tuple[float, float]:
    """Return the smallest and largest value a replication can draw (or infinities).

    The support, except for a normal or lognormal without a finite bound: their draws are the
    quantiles of the uniforms the runner can hand them, so their extremes are finite (about
    8 standard deviations out) unless the arithmetic overflows, which gives an infinity.
    """
    if isinstance(value, int | float):
        return (float(value), float(value))
    if isinstance(value, Normal | LogNormal):
        with np.errstate(all="ignore"):
            low, high = (float(x) for x in value.ppf(_EXTREME_UNIFORMS))
        return (
            -math.inf if math.isnan(low) else low,
            math.inf if math.isnan(high) else high,
        )
    return value.support()


_D = TypeVar("_D", bound=DistributionModel)


@overload
def with_mean(value: float, mean: float) -> float: ...


@overload
def with_mean(value: _D, mean: float) -> _D: ...


def with_mean(value: float | DistributionModel, mean: float) -> float | DistributionModel:
    """The same kind of uncertain value moved so that its mean is ``mean``.

    A plain number or a fixed value becomes ``mean``. A distribution keeps its family: one whose
    support is non-negative (a count, an amount, a rate) is scaled, so it stays non-negative and
    keeps its spread relative to its mean (a lognormal keeps its ratio of sd to mean); one that
    reaches below zero is shifted, keeping its spread. A beta keeps its bounds and its concentration
    ``a + b`` and moves ``a / (a + b)``.

    Args:
        value: A plain number or a distribution model.
        mean: The mean wanted, finite.

    Returns:
        A number, or a new validated distribution of the same family with that mean.

    Raises:
        ValueError: The family cannot have that mean: a non-negative distribution asked for a
            mean at or below zero, a beta asked for a mean outside its open bounds, or a mean
            so near zero that the scaled spread underflows.
    """
    if not math.isfinite(mean):
        raise ValueError(f"the mean must be finite, not {mean}")
    if isinstance(value, int | float):
        return float(mean)
    if isinstance(value, Fixed):
        return _remade(value, value=float(mean))
    old = value.mean()
    if isinstance(value, Beta):
        share = (mean - value.low) / (value.high - value.low)
        if not 0.0 < share < 1.0:
            raise ValueError(
                f"a beta on [{value.low:g}, {value.high:g}] cannot have mean {mean:g}; "
                "its mean lies strictly between its bounds"
            )
        total = value.a + value.b
        return _remade(value, a=total * share, b=total * (1.0 - share))
    if value.support()[0] >= 0.0:
        if mean <= 0.0:
            family = type(value).__name__.lower()
            raise ValueError(
                f"a non-negative {family} distribution cannot have mean {mean:g}; "
                "give a fixed number instead"
            )
        factor = mean / old
        if isinstance(value, LogNormal):
            return _remade(value, mean_value=float(mean), sd=value.sd * factor)
        return _remade(value, **_moved_location(value, lambda x: x * factor, scale=factor))
    shift = mean - old
    return _remade(value, **_moved_location(value, lambda x: x + shift, scale=1.0))


def _moved_location(
    value: DistributionModel, move: Callable[[float], float], *, scale: float
) -> dict[str, Any]:
    """The location fields of a uniform, triangular or normal moved by ``move``."""
    if isinstance(value, Uniform):
        return {"low": move(value.low), "high": move(value.high)}
    if isinstance(value, Triangular):
        return {"low": move(value.low), "mode": move(value.mode), "high": move(value.high)}
    if isinstance(value, Normal):
        return {
            "mean_value": move(value.mean_value),
            "sd": value.sd * scale,
            "low": None if value.low is None else move(value.low),
            "high": None if value.high is None else move(value.high),
        }
    raise TypeError(f"cannot move a {type(value).__name__}")  # pragma: no cover - all covered


def _remade(model: _D, **changes: Any) -> _D:
    """A copy of a distribution with some fields changed, validated again."""
    return type(model).model_validate(model.model_dump() | changes)


def _std_normal_pdf(z: float) -> float:
    if math.isinf(z):
        return 0.0
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
