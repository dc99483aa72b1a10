"""Drawing a batch of replications' inputs at once: the keyed uniforms and quantiles as arrays.

`plan.plan_replication` draws each uncertain input from a uniform keyed by (replication, field
path), one ``SeedSequence`` and one quantile call at a time. `BatchDraws` draws a key's uniforms
for every replication of a batch at once (`streams.keyed_uniforms`) and maps them
through the distribution's quantile function in one call: as arrays for the batch's column plan
(`batch_plan.plan_batch`), or one replication's numbers at a time through `BatchDraw` to
`plan.plan_replication`. The numbers are the same as `plan.Draw`'s.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from franchise_sim.model.plan import INPUT_PREFIX, Draw
from franchise_sim.model.streams import keyed_uniforms
from franchise_sim.scenario.distributions import Uncertain

_STANDARD_NORMAL = NormalDist()


class BatchDraws:
    """Every replication's draws of a batch, by field path and distribution, made on demand.

    Args:
        seed: The master seed.
        replications: The batch's replications.
    """

    def __init__(self, seed: int, replications: NDArray[np.int64]) -> None:
        self.seed = seed
        self.replications = replications
        self._uniforms: dict[str, NDArray[np.float64]] = {}
        self._arrays: dict[tuple[str, int], tuple[Uncertain, NDArray[np.float64]]] = {}
        self.made: dict[tuple[str, int], tuple[Uncertain, list[float]]] = {}
        """The draws made so far, by field path and distribution (its id; the value kept)."""

    def uniforms(self, key: str) -> NDArray[np.float64]:
        """The uniforms of the input ``key`` in every replication."""
        found = self._uniforms.get(key)
        if found is None:
            found = keyed_uniforms(self.seed, self.replications, INPUT_PREFIX + key)
            self._uniforms[key] = found
        return found

    def drawn_array(self, value: Uncertain, key: str) -> NDArray[np.float64]:
        """The draws of ``value`` under ``key`` in every replication, as an array.

        The array is the one kept for later calls: do not write to it.
        """
        found = self._arrays.get((key, id(value)))
        if found is None:
            assert not isinstance(value, int | float)
            found = (value, np.asarray(value.ppf(self.uniforms(key)), dtype=float))
            self._arrays[key, id(value)] = found  # the value kept: its id stays its own
        return found[1]

    def drawn(self, value: Uncertain, key: str) -> list[float]:
        """The draws of ``value`` under ``key`` in every replication."""
        found = self.made.get((key, id(value)))
        if found is None:
            assert not isinstance(value, int | float)
            found = (value, self.drawn_array(value, key).tolist())
            self.made[key, id(value)] = found  # the value kept: its id stays its own
        return found[1]


class BatchDraw(Draw):
    """One replication's draws, taken from the batch's (see `plan.Draw`)."""

    def __init__(self, draws: BatchDraws, index: int, *, at_mean: bool = False) -> None:
        super().__init__(draws.seed, int(draws.replications[index]), at_mean=at_mean)
        self._draws = draws
        self._made = draws.made
        self._index = index
        self._mean = at_mean

    def __call__(self, value: Uncertain, key: str) -> float:
        """The value itself if fixed; else this replication's draw (or its mean)."""
        found = self._made.get((key, id(value)))
        if found is not None:
            return found[1][self._index]
        if isinstance(value, int | float):
            return float(value)
        if self._mean:
            return value.mean()
        return self._draws.drawn(value, key)[self._index]

    def coupled(
        self, value: Uncertain, key: str, partner: Uncertain, partner_key: str, correlation: float
    ) -> float:
        """A draw of ``value`` rank-correlated with the draw of ``partner`` (`Draw.coupled`)."""
        if correlation == 0.0 or isinstance(value, int | float) or isinstance(partner, int | float):
            return self(value, key)
        if self._mean:
            return value.mean()
        i = self._index
        own = _STANDARD_NORMAL.inv_cdf(float(self._draws.uniforms(key)[i]))
        with_partner = _STANDARD_NORMAL.inv_cdf(float(self._draws.uniforms(partner_key)[i]))
        z = correlation * with_partner + math.sqrt(1.0 - correlation * correlation) * own
        u = min(max(_STANDARD_NORMAL.cdf(z), 1e-16), 1.0 - 1e-16)
        return float(value.ppf(np.array([u]))[0])
