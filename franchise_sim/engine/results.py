"""Frozen simulation results: arrays per (arm, replication, month) and tidy tables on demand.

Plain data: the notebook conveniences (the headline shown in Jupyter, ``results.plot``,
``results.save``) wrap it one floor up, in ``interfaces.notebook``.

Results of a summary-only run (``summary_only``) hold no trajectories: their outcomes are
complete, survival by month comes from the closure months, and the monthly bands from
``monthly_aggregates``; asking for the monthly books themselves says plainly they are not kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from franchise_sim.engine.monthly_aggregates import MonthlyAggregates
from franchise_sim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd


def tool_version() -> str:
    """The franchise-sim release making these results ("0.0.0" from a source tree not installed)."""
    try:
        return version("franchise-sim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0.0.0"


CORE_OUTCOMES = (
    "survived",
    "closed_month",
    "first_profitable_month",
    "break_even_month",
    "payback_month",
    "final_customers",
    "final_cash",
    "cumulative_owner_cash_flow",
    "owner_money_in",
    "terminal_value",
    "npv",
)
"""Numeric per-(arm, replication) outcomes of every model, in table order; each relationship's
counters follow them (`batch.summary_columns`)."""


def is_month_counter(name: str) -> bool:
    """Whether a relationship counter is the month something happened (0: it did not)."""
    return name.endswith("_month")


class NoTrajectoriesError(LookupError):
    """The monthly books of a summary-only run were asked for: it did not keep them."""


@dataclass(frozen=True, eq=False)
class SimulationResults:
    """Everything one call of ``simulate`` produced.

    Attributes:
        scenario: The scenario simulated.
        seed: Master seed; with ``runs`` and ``horizon_months`` it replays the run exactly.
        runs: Paired replications per arm.
        horizon_months: Months simulated.
        deterministic: Whether inputs were at their means, events off and flows at expectation.
        arms: Arm names, ``independent`` first.
        monthly_columns: Names of the last axis of ``trajectories``.
        kept_books: Array (arm, replication, month, column) of the monthly books; None for a
            summary-only run (read them as ``trajectories``).
        outcomes: Per-(arm, replication) arrays: `CORE_OUTCOMES`, then each relationship's
            counters (a month counter holds 0 where the event did not happen).
        closure_reasons: Array (arm, replication) of why each business closed ("" if open).
        shock_counts: Per replication, how many of each shared random event happened.
        run_seconds: Wall time of the simulation.
        worker_pids: Process ids that ran batches (the caller's own among them when it ran one).
        monthly_aggregates: What a summary-only run kept of the monthly books (survival
            counts and histograms for the bands); None for a full run.
    """

    scenario: Scenario
    seed: int
    runs: int
    horizon_months: int
    deterministic: bool
    arms: tuple[str, ...]
    monthly_columns: tuple[str, ...]
    kept_books: NDArray[np.float64] | None
    outcomes: dict[str, NDArray[np.float64]]
    closure_reasons: NDArray[np.str_]
    shock_counts: dict[str, NDArray[np.int64]]
    run_seconds: float = 0.0
    worker_pids: tuple[int, ...] = field(default=())
    monthly_aggregates: MonthlyAggregates | None = None

    def __post_init__(self) -> None:
        if (self.kept_books is None) == (self.monthly_aggregates is None):
            raise ValueError("results hold either trajectories or monthly aggregates, not both")

    @property
    def summary_only(self) -> bool:
        """Whether these are results of a summary-only run: outcomes and aggregates, no books."""
        return self.kept_books is None

    @property
    def trajectories(self) -> NDArray[np.float64]:
        """The monthly books, (arm, replication, month, column).

        Raises:
            NoTrajectoriesError: A summary-only run, which kept none.
        """
        if self.kept_books is None:
            raise NoTrajectoriesError(
                f"these results of {self.runs:,} runs are summary-only: they keep outcomes and "
                "monthly aggregates, not the monthly books (run without summary_only for them)"
            )
        return self.kept_books

    def series(self, column: str) -> NDArray[np.float64]:
        """One monthly variable as an array (arm, replication, month).

        Raises:
            NoTrajectoriesError: A summary-only run, which kept no monthly books.
            ValueError: No such column in these books: a relationship's columns are kept only
                when some arm of the scenario holds it (or the run was composed with it).
        """
        books = self.trajectories
        if column not in self.monthly_columns:
            raise ValueError(
                f"no monthly column {column!r} in these results; a relationship's lines and "
                "columns are kept only when some arm holds it (simulate(..., relationships=...) "
                f"runs a set as given); the columns are: {', '.join(self.monthly_columns)}"
            )
        return books[..., self.monthly_columns.index(column)]

    def alive_at(self, month: int) -> NDArray[np.float64]:
        """1.0 where the business is open at the end of ``month`` (from 1), (arm, replication).

        Read from the books, or, without them, from the closure months (a business that
        closed stays closed): the same numbers.
        """
        if self.kept_books is not None:
            return self.series("alive")[..., month - 1]
        closed = self.outcomes["closed_month"]
        return np.where(np.isnan(closed) | (closed > month), 1.0, 0.0)

    def survival_curve(self) -> NDArray[np.float64]:
        """Share of businesses open at the end of each month, (arm, month)."""
        if self.monthly_aggregates is not None:
            return self.monthly_aggregates.survival_curve()
        return np.asarray(self.series("alive").mean(axis=-2), dtype=float)

    def arm_index(self, arm: str) -> int:
        """Position of an arm in the arrays."""
        return self.arms.index(arm)

    @property
    def labels(self) -> dict[str, str]:
        """Display label of each arm."""
        return {arm: self.scenario.arm(arm).label for arm in self.arms}

    @property
    def counter_names(self) -> tuple[str, ...]:
        """The relationships' counters among the outcomes, in order."""
        return tuple(name for name in self.outcomes if name not in CORE_OUTCOMES)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per (arm, replication): survival, closure, break-even, cash, NPV, events."""
        import pandas as pd

        n_arms, runs = len(self.arms), self.runs
        frame: dict[str, Any] = {
            "arm": np.repeat(np.array(self.arms, dtype=object), runs),
            "replication": np.tile(np.arange(runs), n_arms),
        }
        for name, values in self.outcomes.items():
            frame[name] = values.reshape(-1)
        frame["survived"] = frame["survived"].astype(bool)
        frame["closure_reason"] = self.closure_reasons.reshape(-1)
        for name, counts in self.shock_counts.items():
            frame[name] = np.tile(counts, n_arms)
        table = pd.DataFrame(frame)
        for name in ("closed_month", "first_profitable_month", "break_even_month", "payback_month"):
            table[name] = table[name].astype("Int64")
        for name in self.counter_names:
            counted = table[name]
            table[name] = (
                counted.where(counted > 0).astype("Int64")
                if is_month_counter(name)
                else counted.astype(int)
            )
        table["arm"] = table["arm"].astype(str)
        return table

    @cached_property
    def monthly(self) -> pd.DataFrame:
        """One row per (arm, replication, month) with every monthly variable."""
        import pandas as pd

        books = self.trajectories
        n_arms, runs, horizon, width = books.shape
        frame: dict[str, Any] = {
            "arm": np.repeat(np.array(self.arms, dtype=object), runs * horizon),
            "replication": np.tile(np.repeat(np.arange(runs), horizon), n_arms),
            "month": np.tile(np.arange(1, horizon + 1), n_arms * runs),
        }
        flat = books.reshape(-1, width)
        for i, name in enumerate(self.monthly_columns):
            frame[name] = flat[:, i]
        table = pd.DataFrame(frame)
        table["alive"] = table["alive"].astype(bool)
        table["arm"] = table["arm"].astype(str)
        return table

    def __repr__(self) -> str:
        kind = "deterministic plan" if self.deterministic else f"{self.runs:,} paired runs"
        only = ", summary-only" if self.summary_only else ""
        return (
            f"<{type(self).__name__} {self.scenario.name!r}: {', '.join(self.arms)}; {kind} x "
            f"{self.horizon_months} months, seed {self.seed}{only}>"
        )
