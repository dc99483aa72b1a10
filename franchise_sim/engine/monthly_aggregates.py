"""Per-month aggregates of a run's books, streamed from batches instead of held as trajectories.

A run of a million replications cannot hold its monthly books (arm x replication x month x
column floats: about 60 GB). In summary-only mode each batch is reduced where it ran to what
the figures, the report and the workbook read from the books, and the parent adds those up as
batches complete:

* ``open_runs``: per (arm, month), how many businesses are open at the end of the month. The
  survival curve is these counts over the runs: exact, bit for bit the mean of the books.
* ``histograms``: per (figure, arm, month), a count of the values in each of a fixed set of
  logarithmic bins (``STREAMED_FIGURES``: the customer base, revenue, operating profit and
  cash of open businesses, the cash flow after loan payments, and the owner's running cash
  flow over every run). Counts are integers, so the sum is the same in any order of arrival.

Percentiles come from the histograms with the rank of every order statistic exact and its
value that of its bin: within ``RELATIVE_ACCURACY`` (0.5%) of the true value, or within
``SMALLEST`` (one dollar, one customer) of it near zero; beyond ``LARGEST`` (a trillion) a value
is counted in the last bin. A percentile between two order statistics is interpolated between
their bin values as ``numpy.percentile`` does between the values, so it is within 0.5% of the
larger of the two neighbours (plus one unit) of ``numpy.percentile`` on the full books.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from franchise_sim.engine.outcomes import owner_cash_flow
from franchise_sim.scenario.schema import Scenario

Array = NDArray[np.float64]

STREAMED_FIGURES: dict[str, bool] = {
    "customers": True,
    "revenue": True,
    "operating_profit": True,
    "cash": True,
    "cash_flow_after_loan_payments": True,
    "owner_cumulative_cash_flow": False,
}
"""The monthly figures kept as histograms, and whether only open businesses count in them."""

RELATIVE_ACCURACY = 0.005
"""Largest relative error of a bin's value against any value counted in it."""
SMALLEST = 1.0
"""Values smaller than this in magnitude are counted as zero."""
LARGEST = 1e12
"""Values larger than this in magnitude are counted in the outermost bin."""

_GAMMA = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
BINS_PER_SIGN = math.ceil(math.log(LARGEST / SMALLEST) / _LOG_GAMMA) + 1
"""Bins for positive values (and as many for negative ones); bin ``k`` holds (g^(k-1), g^k]."""
N_BINS = 2 * BINS_PER_SIGN + 1
"""Every bin, in ascending order of value: negative ones, zero, positive ones."""
_ZERO = BINS_PER_SIGN

_MAGNITUDES = SMALLEST * 2.0 * _GAMMA ** np.arange(BINS_PER_SIGN, dtype=float) / (_GAMMA + 1.0)
BIN_VALUES: Array = np.concatenate([-_MAGNITUDES[::-1], [0.0], _MAGNITUDES])
"""The value each bin stands for (within ``RELATIVE_ACCURACY`` of all it holds)."""


def bin_index(values: Array) -> NDArray[np.int64]:
    """The bin of each value (NaN must be masked out before)."""
    magnitude = np.abs(values)
    k = np.ceil(np.log(np.maximum(magnitude, SMALLEST) / SMALLEST) / _LOG_GAMMA)
    k = np.clip(k, 0, BINS_PER_SIGN - 1).astype(np.int64)
    signed = np.where(values > 0, _ZERO + 1 + k, _ZERO - 1 - k)
    return np.where(magnitude < SMALLEST, _ZERO, signed).astype(np.int64)


def cash_flow_after_loan_payments(
    operating_profit: Array, interest: Array, principal: Array
) -> Array:
    """Cash the business makes for its owner each month: operating profit less debt service."""
    return np.asarray(operating_profit - interest - principal, dtype=float)


def owner_equity(scenario: Scenario, arms: Sequence[str], runs: int) -> Array:
    """Each arm's equity on paper, (arm, replication): what the owner's running total starts at."""
    equity = np.array([scenario.arm(a).equity_usd() for a in arms])
    return np.repeat(equity[:, None], runs, axis=1)


def streamed_figure(
    name: str, scenario: Scenario, arms: Sequence[str], columns: Sequence[str], books: Array
) -> Array:
    """One of ``STREAMED_FIGURES`` from monthly books (arm, replication, month, column)."""

    def col(column: str) -> Array:
        return np.asarray(books[..., columns.index(column)], dtype=float)

    if name == "cash_flow_after_loan_payments":
        return cash_flow_after_loan_payments(
            col("operating_profit"), col("interest"), col("principal")
        )
    if name == "owner_cumulative_cash_flow":
        equity = owner_equity(scenario, arms, books.shape[1])
        return owner_cash_flow(col("owner_draw"), col("owner_injection"), equity)
    return col(name)


@dataclass(frozen=True, slots=True)
class BatchAggregates:
    """One batch's contribution: open counts and the non-empty bins of its histograms.

    Attributes:
        open_runs: Array (arm, month) of businesses open at the end of each month.
        bins: Flat indices into the histograms (figure, arm, month, bin) of non-empty bins.
        counts: How many values each of ``bins`` holds.
    """

    open_runs: NDArray[np.int64]
    bins: NDArray[np.int64]
    counts: NDArray[np.int64]


def batch_aggregates(
    scenario: Scenario, arms: Sequence[str], columns: Sequence[str], books: Array
) -> BatchAggregates:
    """Reduce one batch's books (arm, replication, month, column) to its aggregates.

    Counted one (figure, arm) at a time into that pair's months' bins (``horizon * N_BINS``
    counts, 2.7 MB at 60 months), or sorted where they are few: the whole histogram of a batch
    (figure, arm, month, bin) would take 32 MB for two arms and 272 MB for the 17 arms of an
    attribution.
    """
    n_arms, _, horizon, _ = books.shape
    alive = books[..., columns.index("alive")] > 0.5
    cells = horizon * N_BINS
    month_start = np.arange(horizon, dtype=np.int64) * N_BINS
    bins: list[NDArray[np.int64]] = []
    counts: list[NDArray[np.int64]] = []
    for f, (name, open_only) in enumerate(STREAMED_FIGURES.items()):
        index = month_start + bin_index(streamed_figure(name, scenario, arms, columns, books))
        for a in range(n_arms):
            counted = index[a][alive[a]] if open_only else index[a].reshape(-1)
            if counted.size * 8 < cells:  # few values: sort them rather than count every bin
                found, many = np.unique(counted, return_counts=True)
            else:
                dense = np.bincount(counted, minlength=cells)
                found = np.flatnonzero(dense)
                many = dense[found]
            bins.append((f * n_arms + a) * cells + found)
            counts.append(many)
    open_runs = alive.sum(axis=1).astype(np.int64)
    return BatchAggregates(
        open_runs,
        np.concatenate(bins).astype(np.int64),
        np.concatenate(counts).astype(np.int64),
    )


@dataclass(eq=False)
class MonthlyAggregates:
    """What a summary-only run keeps of its monthly books (see the module's docstring).

    The runner adds each batch in place as it completes (``add``); the results it returns
    hold aggregates no longer added to.

    Attributes:
        runs: Replications per arm counted.
        open_runs: Array (arm, month) of businesses open at the end of each month.
        histograms: Array (figure, arm, month, bin) of counts, figures in ``STREAMED_FIGURES``
            order, bins as ``BIN_VALUES``.
    """

    runs: int
    open_runs: NDArray[np.int64]
    histograms: NDArray[np.int64]

    @classmethod
    def empty(cls, n_arms: int, horizon: int) -> MonthlyAggregates:
        """Aggregates of no runs, to ``add`` batches to."""
        return cls(
            0,
            np.zeros((n_arms, horizon), dtype=np.int64),
            np.zeros((len(STREAMED_FIGURES), n_arms, horizon, N_BINS), dtype=np.int64),
        )

    @classmethod
    def of_books(
        cls, scenario: Scenario, arms: Sequence[str], columns: Sequence[str], books: Array
    ) -> MonthlyAggregates:
        """The aggregates of whole monthly books (arm, replication, month, column)."""
        total = cls.empty(books.shape[0], books.shape[2])
        total.add(batch_aggregates(scenario, arms, columns, books), books.shape[1])
        return total

    def add(self, batch: BatchAggregates, runs: int) -> None:
        """Count one more batch of ``runs`` replications in (integers: any order, same sums)."""
        self.histograms.reshape(-1)[batch.bins] += batch.counts
        self.open_runs += batch.open_runs
        self.runs += runs

    def survival_curve(self) -> Array:
        """Share of businesses open at the end of each month, (arm, month)."""
        return np.asarray(self.open_runs / float(self.runs), dtype=float)

    def counted(self, figure: str) -> NDArray[np.int64]:
        """How many values each (arm, month) of ``figure`` holds."""
        index = list(STREAMED_FIGURES).index(figure)
        return np.asarray(self.histograms[index].sum(axis=-1), dtype=np.int64)

    def percentiles(self, figure: str, percentiles: Sequence[float]) -> Array:
        """Percentiles of ``figure`` across runs, (percentile, arm, month); NaN where none.

        Each order statistic is the value of its bin (see the module's docstring for how
        close that is); between two of them it is interpolated as ``numpy.percentile`` does.
        """
        counts = self.histograms[list(STREAMED_FIGURES).index(figure)]
        cumulative = np.cumsum(counts, axis=-1)
        n = cumulative[..., -1]

        def order_statistic(rank: NDArray[np.int64]) -> Array:
            first = np.argmax(cumulative > rank[..., None], axis=-1)
            return np.asarray(BIN_VALUES[first], dtype=float)

        out = np.full((len(percentiles), *n.shape), np.nan)
        for j, p in enumerate(percentiles):
            position = np.maximum(n - 1, 0) * (float(p) / 100.0)
            low = np.floor(position).astype(np.int64)
            high = np.minimum(low + 1, np.maximum(n - 1, 0))
            below, above = order_statistic(low), order_statistic(high)
            value = below + (position - low) * (above - below)
            out[j] = np.where(n > 0, value, np.nan)
        return out
