"""The Monte Carlo runner: paired replications of every arm, in batches over a process pool.

Each batch runs in the batch engine (`engine.batch`): one SimPy environment for all its
replications and arms. Replication ``r`` draws every random number from streams keyed by
``(r, purpose)`` under the master seed, so its result does not depend on the batch it falls in
or the worker that runs it: the same seed gives identical results whatever the number of
workers. The model's relationships (`simulate`'s ``relationships``) travel to the workers with
each batch.

Without an executor of the caller's, a run of more than one process runs on the pool kept
between runs (`engine.pool.kept_pool`): the next run does not pay for starting one. A caller
may pass its own long-lived executor instead (a Dask client). When a run is abandoned (the
progress callback raises, or the caller is interrupted), batches not yet started are cancelled
rather than waited for.

The workers of the runner's pool ignore Ctrl-C (the caller is interrupted, not them), die with
the process that started them, and are killed when a run is abandoned. The arguments of
``simulate`` obey the bounds of a scenario's ``run`` section, and a run whose books hold a
non-finite number stops with ``NonFiniteResultError``.
"""

from __future__ import annotations

import operator
import os
import reprlib
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from franchise_sim.engine import books_memory
from franchise_sim.engine.batch import (
    SHOCK_NAMES,
    BatchRecord,
    keep_plan_on_paper,
    monthly_columns,
    plan_on_paper_kept,
    plans_on_paper,
    relationships_in_use,
    run_batch,
)
from franchise_sim.engine.books_files import BooksFiles
from franchise_sim.engine.executors import as_executor, executor_workers
from franchise_sim.engine.monthly_aggregates import (
    BatchAggregates,
    MonthlyAggregates,
    batch_aggregates,
)
from franchise_sim.engine.outcomes import outcome_table
from franchise_sim.engine.pool import kept_pool, sigint_blocked
from franchise_sim.engine.results import SimulationResults
from franchise_sim.model.plan import PlanOnPaper, needs_plan_on_paper
from franchise_sim.model.relationships.relationship import Relationships
from franchise_sim.model.streams import (
    CountQuantiles,
    compiled_repays,
    count_arm_months,
    load_compiled_counts,
)
from franchise_sim.scenario.schema import RunSettings, Scenario

if TYPE_CHECKING:
    from distributed import Client

Progress = Callable[[int], None]
"""Called with the number of replications just finished."""


@dataclass(frozen=True, slots=True)
class _Batch:
    """One batch of a full run, reduced where it ran to its outcomes, with its books.

    The books travel with it, or (``monthly`` None) wait in the file the parent named
    (`books_files.BooksFiles`): the parent reads them straight into the run's array.
    """

    monthly: NDArray[np.float64] | None  # (arm, replication, month, column)
    outcomes: dict[str, NDArray[np.float64]]  # (arm, replication of the batch)
    closure_reasons: list[tuple[str, ...]]
    shock_counts: NDArray[np.int64]  # (replication, shock)
    pid: int
    planned: dict[str, PlanOnPaper] | None = None  # worked out where it ran (`_Run.plan_here`)


@dataclass(frozen=True, slots=True)
class _Run:
    """What every batch of one run shares, sent with each batch to the process that runs it.

    Attributes:
        scenario: The validated scenario.
        seed: Master seed.
        horizon: Months to simulate.
        deterministic: The plan on paper (inputs at their means, no random events).
        planned: Per arm, its plan on paper, for owners who review against it; None where
            there is none, or where each batch works it out where it runs (``plan_here``).
        relationships: The relationships the model is composed of.
        compiled: Draw the counts with the compiled kernels where numba is installed
            (`streams.compiled_repays`: the same numbers, faster once loaded).
        plan_here: Each batch works out the plan on paper where it runs (`planned_where_run`).
    """

    scenario: Scenario
    seed: int
    horizon: int
    deterministic: bool
    planned: dict[str, PlanOnPaper] | None
    relationships: Relationships
    compiled: bool = False
    plan_here: bool = False

    def batch(self, replications: range) -> BatchRecord:
        """Run these replications (`engine.batch.run_batch`)."""
        return run_batch(
            self.scenario,
            self.seed,
            replications,
            self.horizon,
            self.deterministic,
            self.plan_here_worked_out() if self.plan_here else self.planned,
            self.relationships,
            CountQuantiles(compiled=self.compiled),
        )

    def plan_here_worked_out(self) -> dict[str, PlanOnPaper] | None:
        """The plan on paper where it is worked out where a batch runs (kept there), else None.

        A batch returns it, so that the caller keeps it for a next run of the same scenario.
        """
        if not self.plan_here:
            return None
        return plans_on_paper(self.scenario, self.seed, self.horizon, self.relationships)


def _run_batch(run: _Run, replications: range) -> BatchRecord | _Breakdown:
    """Run one batch; a replication whose arithmetic breaks down is found and named."""
    try:
        return run.batch(replications)
    except (OverflowError, ValueError) as exc:
        if not _breaks_down(exc):
            raise
        return _first_breakdown(run, replications, exc)


def _keep_batch(
    run: _Run, replications: range, books: BooksFiles | None = None
) -> _Batch | _Breakdown | _NonFinite:
    """Run one batch of a full run: its outcomes computed here, its books checked and kept.

    With ``books``, the books are written to the batch's file there rather than returned.
    """
    checked = _checked_batch(run, replications)
    if isinstance(checked, _Breakdown | _NonFinite):
        return checked
    done, _, table = checked
    if books is not None:
        books.write(replications, done.monthly)
    return _Batch(
        monthly=None if books is not None else done.monthly,
        outcomes=table,
        closure_reasons=done.closure_reasons,
        shock_counts=done.shock_counts,
        pid=os.getpid(),
        planned=run.plan_here_worked_out(),
    )


def _first_breakdown(run: _Run, replications: range, exc: Exception) -> _Breakdown:
    """The first replication of a batch whose arithmetic breaks down, run one at a time."""
    for r in replications:
        try:
            run.batch(range(r, r + 1))
        except (OverflowError, ValueError) as alone:
            if _breaks_down(alone):
                return _Breakdown(r, f"{type(alone).__name__}: {alone}")
            raise
    raise exc  # pragma: no cover - a batch breaks down only where one of its replications does


BATCH_RUNS = (1_000, 5_000)
"""Smallest and largest batch the runner aims for: numpy pays about 40-85 ms per batch."""


def _batches(runs: int, workers: int, largest: int | None = None) -> list[range]:
    """Split replications into batches of at most 5,000 with at least one batch per worker.

    A run of up to 1,000 replications per worker is one batch per worker; a longer one is cut
    into batches of 1,000 to 5,000, as many for each worker. ``largest``, when given, caps a
    batch's replications (a summary-only run holds one batch's books per worker, no more).
    """
    per_worker = -(-runs // workers)
    rounds = max(1, -(-per_worker // BATCH_RUNS[1]))
    size = max(1, -(-runs // (workers * rounds)))
    if largest is not None:
        size = max(1, min(size, largest))
    return [range(start, min(runs, start + size)) for start in range(0, runs, size)]


TRAJECTORY_BYTES_LIMIT = 2 * 10**9
"""The most memory a run's monthly books may take before ``run`` keeps only a summary (2 GB)."""


def trajectory_bytes(n_arms: int, runs: int, horizon: int, columns: int | None = None) -> int:
    """The memory a run's monthly books take: arms x runs x months x columns x 8 bytes.

    ``columns`` is the width of the books: a scenario's (``len(scenario_columns(scenario))``),
    or, if not given, that of the shipped model with every relationship (the widest).
    """
    width = len(monthly_columns()) if columns is None else columns
    return n_arms * runs * horizon * width * 8


def memory_for_trajectories() -> int:
    """How much memory a run may spend on its books: a quarter of the machine's, at most 2 GB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - no sysconf (Windows)
        return TRAJECTORY_BYTES_LIMIT
    return min(TRAJECTORY_BYTES_LIMIT, total // 4) if total > 0 else TRAJECTORY_BYTES_LIMIT


SUMMARY_BATCH_BYTES = 64 * 2**20
"""The most memory one batch's monthly books may take in a summary-only run (64 MiB)."""


def summary_batch_size(n_arms: int, horizon: int, columns: int | None = None) -> int:
    """The most replications a summary-only batch holds: its books within SUMMARY_BATCH_BYTES.

    ``columns`` is the width of the books (the shipped model's with every relationship, the
    widest, if not given).
    """
    width = len(monthly_columns()) if columns is None else columns
    return max(1, SUMMARY_BATCH_BYTES // (n_arms * horizon * width * 8))


class NonFiniteResultError(ValueError):
    """A run met a NaN or an infinity: its inputs are beyond what the arithmetic carries.

    Either the books hold one (``arm``, ``month`` and ``column`` say where it first appears)
    or a replication's arithmetic broke down on one (``cause`` says how).

    Attributes:
        replication: The replication, counted from 0.
        arm: The arm in whose books the number first appears.
        month: The month, counted from 1; None for an outcome of the whole run (such as NPV).
        column: The column of the monthly books, or the outcome, that holds it.
        cause: The error the arithmetic raised, when it broke down.
    """

    def __init__(
        self,
        replication: int,
        *,
        arm: str | None = None,
        month: int | None = None,
        column: str | None = None,
        value: float | None = None,
        cause: str | None = None,
    ) -> None:
        self.replication = replication
        self.arm = arm
        self.month = month
        self.column = column
        self.cause = cause
        if cause is not None:
            what = f"the simulation's arithmetic broke down in replication {replication} ({cause})"
        else:
            place = [f"arm {arm!r}", f"replication {replication}"]
            place += [f"month {month}"] if month is not None else []
            what = f"the simulation produced a non-finite number ({value}) in {', '.join(place)}"
            what += f", {column}"
        super().__init__(
            f"{what}: the scenario's inputs are too extreme for the arithmetic to carry (a value "
            "overflowed); bring its largest figures down to plausible ones"
        )


@dataclass(frozen=True, slots=True)
class _Breakdown:
    """A replication whose arithmetic failed on a NaN or an infinity (reported by the parent)."""

    replication: int
    cause: str


def _breaks_down(exc: Exception) -> bool:
    """Whether an error is the arithmetic failing on an overflow, a NaN or an infinity."""
    text = str(exc)
    return isinstance(exc, OverflowError) or (
        isinstance(exc, ValueError) and ("NaN" in text or "infinity" in text)
    )


def run_setting_bounds(name: str) -> tuple[int, int | None]:
    """The bounds a scenario file's ``run.<name>`` must keep: the lowest and the highest allowed.

    ``simulate``, ``sweep`` and the command line take their limits from here, so a number a
    scenario file may hold is accepted everywhere, and no other.

    Args:
        name: ``runs``, ``horizon_months`` or ``seed``.

    Returns:
        The lowest value and the highest (None where there is no upper bound).
    """
    low: int | None = None
    high: int | None = None
    for rule in RunSettings.model_fields[name].metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    if not isinstance(low, int):
        raise LookupError(f"run.{name} has no integer lower bound")
    return low, high


def _whole_number(name: str, value: object, low: int, high: int | None, source: str) -> int:
    """``value`` as an int if it is a whole number within bounds (a bool is not one)."""
    span = f"from {low:,} to {high:,}" if high is not None else f"of at least {low:,}"
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{name} must be a whole number {span}{source}, not {type(value).__name__} "
            f"{reprlib.repr(value)}"
        )
    number = operator.index(value)
    if number < low or (high is not None and number > high):
        raise ValueError(f"{name} must be a whole number {span}{source}, not {number:,}")
    return number


def _run_setting(name: str, value: object) -> int:
    """A ``simulate`` argument checked against the bounds of the scenario's ``run.<name>``."""
    low, high = run_setting_bounds(name)
    return _whole_number(name, value, low, high, f" (as run.{name} in a scenario file)")


def batches_here(batches: int, processes: int) -> int:
    """How many of a run's batches the calling process runs itself, beside its own pool.

    A run of one round (a batch for each of its ``processes``, two or more) runs its first
    batch here while a pool of one worker fewer runs the rest: the caller would otherwise only
    wait, and this saves a worker and sending one batch's books back. A longer run keeps this
    process for taking in the batches as they come (0).
    """
    return 1 if processes >= 2 and batches <= processes else 0


def planned_where_run(batches: int, processes: int, kept: bool) -> bool:
    """Whether each batch should work out the plan on paper where it runs, not this process.

    In a run of one round (no more batches than processes) whose plan this process has not
    kept from an earlier run, every process working it out at once (about 50 ms, a batch's
    fixed cost) saves the wait before the batches can start: the explorer's runs, each of a
    new scenario. The batches bring it back, and this process keeps it for the next run. A
    longer run, or one whose plan is kept here, sends it with each batch.
    """
    return batches <= processes and not kept


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - systems without CPU affinity


def pool_workers(runs: int, workers: int | None = None) -> int:
    """How many processes ``simulate`` runs ``runs`` replications on (1: in-process).

    No more than ``workers`` (all cores if not given), the cores of this machine and the
    batches the run is split into. A run of one round counts the calling process among them
    (`batches_here`): its pool has one worker fewer.

    Args:
        runs: Replications per arm.
        workers: The workers asked for.
    """
    cores = available_cores()
    wanted = cores if workers is None else workers
    if wanted == 1:
        return 1
    capped = min(wanted, cores)
    return min(capped, len(_batches(runs, capped)))


def _nonfinite_place(
    books: NDArray[np.float64], first: int, arms: tuple[str, ...], columns: tuple[str, ...]
) -> dict[str, Any] | None:
    """Where a batch's books first hold a NaN or an infinity; None if they hold none.

    Returns ``NonFiniteResultError``'s arguments: a worker sends them, not the exception.
    """
    if np.isfinite(books).all():
        return None
    # In replication order, then month, arm and column: where it first appears.
    replication, month, arm, column = np.argwhere(~np.isfinite(books.transpose(1, 2, 0, 3)))[0]
    return {
        "replication": first + int(replication),
        "arm": arms[arm],
        "month": int(month) + 1,
        "column": columns[column],
        "value": float(books[arm, replication, month, column]),
    }


@dataclass(frozen=True, slots=True)
class _BatchSummary:
    """One batch of a summary-only run, reduced where it ran: outcomes and monthly aggregates."""

    outcomes: dict[str, NDArray[np.float64]]  # (arm, replication of the batch)
    closure_reasons: NDArray[np.str_]  # (arm, replication of the batch)
    shock_counts: NDArray[np.int64]  # (replication, shock)
    aggregates: BatchAggregates
    pid: int
    planned: dict[str, PlanOnPaper] | None = None  # worked out where it ran (`_Run.plan_here`)


@dataclass(frozen=True, slots=True)
class _NonFinite:
    """A batch whose books hold a NaN or an infinity: where (``NonFiniteResultError``'s args)."""

    place: dict[str, Any]


def _checked_batch(
    run: _Run, replications: range
) -> tuple[BatchRecord, tuple[str, ...], dict[str, NDArray[np.float64]]] | _Breakdown | _NonFinite:
    """Run one batch on a worker: its books, their columns and its outcomes.

    Or, instead, where its arithmetic broke down or first turned to NaN or infinity.
    """
    done = _run_batch(run, replications)
    if isinstance(done, _Breakdown):
        return done
    scenario = run.scenario
    columns = monthly_columns(run.relationships)
    place = _nonfinite_place(done.monthly, replications.start, scenario.arm_names, columns)
    if place is not None:
        return _NonFinite(place)
    table = _outcomes(scenario, columns, done, run.seed, run.deterministic, replications)
    return done, columns, table


def _summarise_batch(run: _Run, replications: range) -> _BatchSummary | _Breakdown | _NonFinite:
    """Run one batch and reduce its books to outcomes and aggregates (they are not returned)."""
    checked = _checked_batch(run, replications)
    if isinstance(checked, _Breakdown | _NonFinite):
        return checked
    done, columns, table = checked
    scenario = run.scenario
    arms = scenario.arm_names
    return _BatchSummary(
        outcomes=table,
        closure_reasons=np.array(done.closure_reasons, dtype=str).T,
        shock_counts=done.shock_counts,
        aggregates=batch_aggregates(scenario, arms, columns, done.monthly),
        pid=os.getpid(),
        planned=run.plan_here_worked_out(),
    )


def _check_finite_outcomes(table: dict[str, NDArray[np.float64]], arms: tuple[str, ...]) -> None:
    """Raise ``NonFiniteResultError`` at an outcome that overflowed (months may be NaN: never)."""
    for name, values in table.items():
        bad = np.isinf(values) if name.endswith("_month") else ~np.isfinite(values)
        if bad.any():
            replication, arm = np.argwhere(bad.T)[0]
            value = float(values[arm, replication])
            raise NonFiniteResultError(int(replication), arm=arms[arm], column=name, value=value)


def _outcomes(
    scenario: Scenario,
    columns: tuple[str, ...],
    record: BatchRecord,
    seed: int,
    deterministic: bool,
    replications: range,
) -> dict[str, NDArray[np.float64]]:
    """The outcome table of one batch, ``replications``, from its record (where it ran)."""
    arms = scenario.arm_names
    return outcome_table(
        scenario,
        arms,
        columns,
        record.monthly,
        {name: values.T for name, values in record.counters.items()},  # (arm, replication)
        seed=seed,
        deterministic=deterministic,
        replications=replications,
    )


def simulate(
    scenario: Scenario,
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    horizon_months: int | None = None,
    deterministic: bool = False,
    progress: Progress | None = None,
    executor: Executor | Client | None = None,
    relationships: Relationships | None = None,
    summary_only: bool = False,
) -> SimulationResults:
    """Run paired replications of every arm of a scenario.

    Args:
        scenario: A validated scenario (see ``load_scenario``).
        runs: Replications per arm, 1 to 1,000,000 (the bounds of ``run.runs``); the scenario's
            ``run.runs`` if not given (1 when ``deterministic``).
        seed: Master seed, a whole number >= 0; the scenario's ``run.seed`` if not given.
        workers: Processes to use; all cores if not given (a Dask client's worker threads),
            in-process when 1. A pool of its own never has more processes than the cores of
            the machine or the batches.
        horizon_months: Months to simulate, 1 to 360 (the bounds of ``run.horizon_months``);
            the scenario's ``run.horizon_months`` if not given.
        deterministic: Put every input at its mean, switch random events off and advance
            customers and visits at their expected values (the plan on paper).
        progress: Optional callback told how many replications each finished batch held. If it
            raises, the run stops: batches not yet started are cancelled and the exception
            propagates.
        executor: Optional executor to run the batches on (kept open by the caller and reused
            across runs): a ``concurrent.futures.Executor`` or a ``dask.distributed.Client``;
            ``workers`` then only sets how finely the runs are split. If not given, the
            process pool kept from an earlier run that fits this one, or a new one kept for
            the next (``engine.pool.kept_pool``: its workers exit after 5 minutes idle, or at
            ``release_workers()``); its workers are killed at once when the run is abandoned
            (an exception, Ctrl-C). The results are the same on any.
        relationships: The relationships the model is composed of, carried to every worker
            with the batches, and run as given. If not given, those of the shipped model
            (``DEFAULT_RELATIONSHIPS``) that some arm of the scenario holds
            (``relationships_in_use``): the books and outcomes then have the columns and
            counters of those only, the same numbers as a run with them all.
        summary_only: Keep no monthly books: each batch is reduced where it ran to its
            outcomes and to monthly aggregates (``monthly_aggregates``), which the parent adds
            up as batches complete, so memory does not grow with the months times the runs.
            The outcomes and survival are those of a full run, bit for bit; the monthly
            percentile bands are within 0.5% (see ``franchise_sim.engine.monthly_aggregates``).

    Returns:
        Frozen results with monthly arrays (none when ``summary_only``) and per-(arm,
        replication) outcomes.

    Raises:
        TypeError: An argument of the wrong type (``runs=True``, ``deterministic="no"``).
        ValueError: An argument out of its bounds, or ``summary_only`` with ``deterministic``.
        NonFiniteResultError: The books hold a NaN or an infinity; the run stops there.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"scenario must be a Scenario (see load_scenario), not {type(scenario).__name__}"
        )
    for name, flag in (("deterministic", deterministic), ("summary_only", summary_only)):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(
                f"{name} must be True or False, not {type(flag).__name__} {reprlib.repr(flag)}"
            )
    deterministic, summary_only = bool(deterministic), bool(summary_only)
    if deterministic and summary_only:
        raise ValueError("summary_only is for many runs; the plan on paper is one path")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a function or None, not {type(progress).__name__}")
    if runs is None:  # the plan on paper is one path, however often it is run
        runs = 1 if deterministic else scenario.run.runs
    runs = _run_setting("runs", runs)
    seed = _run_setting("seed", scenario.run.seed if seed is None else seed)
    horizon = _run_setting(
        "horizon_months", scenario.run.horizon_months if horizon_months is None else horizon_months
    )
    pool_given = None if executor is None else as_executor(executor)
    if workers is None:
        workers = executor_workers(executor) or available_cores()
    else:
        workers = _whole_number("workers", workers, 1, None, "")
    started = time.perf_counter()
    arms = scenario.arm_names
    if relationships is None:  # no columns or counters that no arm could fill
        relationships = relationships_in_use(scenario)
    columns = monthly_columns(relationships)
    # A caller's executor is split for the workers asked for; a pool of its own for the cores.
    largest = summary_batch_size(len(arms), horizon, len(columns)) if summary_only else None
    batches = _batches(runs, workers if pool_given else min(workers, available_cores()), largest)
    in_process = pool_given is None and (workers == 1 or len(batches) == 1)
    processes = 1 if in_process or pool_given else pool_workers(runs, workers)
    here = batches_here(len(batches), processes) if pool_given is None else 0
    sharing = workers if pool_given else processes  # the processes the work is spread over
    share = runs * len(arms) * horizon / sharing
    compiled = compiled_repays(share)
    if compiled and pool_given is None:  # loaded before a new pool forks its workers from here
        load_compiled_counts()
    own_pool: AbstractContextManager[ProcessPoolExecutor | None] = (
        nullcontext(None)
        if in_process or pool_given
        else kept_pool(processes - here, relationships)
    )
    with own_pool as own:  # a new pool's workers start while the plan on paper is worked out
        pool = pool_given or own
        files = (
            BooksFiles(batches[here:])
            if isinstance(pool, ProcessPoolExecutor) and not summary_only
            else None
        )
        try:
            needs_plan = needs_plan_on_paper(scenario) and not deterministic
            plan_here = needs_plan and planned_where_run(
                len(batches), sharing, plan_on_paper_kept(scenario, seed, horizon, relationships)
            )
            planned = (  # what owners who review against the plan on paper expect
                plans_on_paper(scenario, seed, horizon, relationships)
                if needs_plan and not plan_here
                else None
            )
            run = _Run(
                scenario, seed, horizon, deterministic, planned, relationships, compiled, plan_here
            )
            if summary_only:
                reduced = _SummaryReduction(batches, len(arms), horizon, len(SHOCK_NAMES), progress)
                _run_batches(
                    _summarise_batch,
                    run,
                    batches,
                    _keeping_plans(run, reduced.take),
                    pool=pool,
                    own=own,
                    in_order=False,
                    here=here,
                )
                table, reasons, shocks = reduced.outcomes, reduced.reasons(), reduced.shock_counts
                monthly, aggregates, pids = None, reduced.aggregates, reduced.pids
            else:
                kept = _FullReduction(batches, (len(arms), horizon, len(columns)), files, progress)
                _run_batches(
                    _keep_batch,
                    run,
                    batches,
                    _keeping_plans(run, kept.take),
                    pool=pool,
                    own=own,
                    in_order=True,
                    extra=(files,),
                    here=here,
                    abandoned=None if files is None else files.abandoned,
                )
                table, reasons, shocks = kept.outcomes, kept.reasons(), kept.shock_counts
                monthly, aggregates, pids = kept.books, None, kept.pids
        finally:
            if files is not None:  # given back, unless a batch still writes one (`abandoned`)
                files.finish()
    if not compiled:
        count_arm_months(share)
    _check_finite_outcomes(table, arms)
    return SimulationResults(
        scenario=scenario,
        seed=seed,
        runs=runs,
        horizon_months=horizon,
        deterministic=deterministic,
        arms=arms,
        monthly_columns=columns,
        kept_books=monthly,
        outcomes=table,
        closure_reasons=reasons,
        shock_counts={name: shocks[:, i] for i, name in enumerate(SHOCK_NAMES)},
        run_seconds=time.perf_counter() - started,
        worker_pids=tuple(sorted(pids)),
        monthly_aggregates=aggregates,
    )


def _keeping_plans(run: _Run, take: Callable[[range, Any], None]) -> Callable[[range, Any], None]:
    """``take``, keeping here the plan on paper a batch worked out where it ran, if it did."""

    def take_and_keep(batch: range, done: Any) -> None:
        planned = getattr(done, "planned", None)
        if planned is not None:
            keep_plan_on_paper(run.scenario, run.seed, run.horizon, run.relationships, planned)
        take(batch, done)

    return take_and_keep


def _run_batches(
    work: Callable[..., Any],
    run: _Run,
    batches: list[range],
    take: Callable[[range, Any], None],
    *,
    pool: Executor | None,
    own: Executor | None,
    in_order: bool,
    extra: tuple[Any, ...] = (),
    here: int = 0,
    abandoned: Callable[[dict[Future[Any], range]], None] | None = None,
) -> None:
    """Run ``work(run, batch)`` for each batch.

    In-process without a ``pool``; else on it (``own``: a pool of this module's own, whose
    workers are started with SIGINT blocked), but for the first ``here`` batches, which this
    process runs itself once the others are submitted. A batch sent to the pool gets ``extra``
    arguments too. ``take`` gets each batch's result: in batch order, or as they complete
    (``in_order=False``: nothing waits in memory for a slower batch before it). Abandoned, it
    cancels the batches not yet started (the caller stops its pool) and tells ``abandoned``
    which were sent and not taken.
    """
    futures: dict[Future[Any], range] = {}
    try:
        if pool is not None:
            with sigint_blocked() if own is not None else nullcontext():
                for batch in batches[here:]:
                    futures[pool.submit(work, run, batch, *extra)] = batch
        for batch in batches if pool is None else batches[:here]:
            take(batch, work(run, batch))
        order = list(futures) if in_order else as_completed(futures)
        for future in order:
            batch = futures.pop(future)  # the result goes with the future once taken
            take(batch, future.result())
            del future
    except BaseException:
        for future in futures:  # abandoned: do not wait for batches that have not started
            future.cancel()
        if abandoned is not None:
            abandoned(futures)
        raise


class _FullReduction:
    """The parent's side of a full run: each batch's books and outcomes put in place, in order.

    A run of one batch that returns its books keeps them as they are; otherwise each batch's
    books go into the run's array as they arrive (read from their file, or copied from the
    batch), so no batch waits in memory for the others to be concatenated. That array is in
    memory kept from an earlier run whose results have gone, where there is some
    (`books_memory`): fresh memory costs the system fresh pages.
    """

    def __init__(
        self,
        batches: list[range],
        shape: tuple[int, int, int],
        files: BooksFiles | None,
        progress: Progress | None,
    ) -> None:
        n_arms, horizon, n_columns = shape
        self._runs = batches[-1].stop
        self._n_arms = n_arms
        self._files = files
        self._progress = progress
        self._run_books = (
            None
            if len(batches) == 1 and files is None
            else books_memory.run_books((n_arms, self._runs, horizon, n_columns))
        )
        self._single: NDArray[np.float64] | None = None
        self.outcomes: dict[str, NDArray[np.float64]] = {}
        self.shock_counts = np.empty((self._runs, len(SHOCK_NAMES)), dtype=np.int64)
        self.pids: set[int] = set()
        self._reasons: list[tuple[str, ...]] = []

    def take(self, batch: range, done: _Batch | _Breakdown | _NonFinite) -> None:
        """Put one batch in place, or stop the run at the NaN or infinity it met."""
        if isinstance(done, _Breakdown):
            raise NonFiniteResultError(done.replication, cause=done.cause)
        if isinstance(done, _NonFinite):
            raise NonFiniteResultError(**done.place)
        where = slice(batch.start, batch.stop)
        if self._run_books is None:
            self._single = done.monthly
        elif done.monthly is None:
            self._read(batch, self._run_books[:, where])
        else:
            self._run_books[:, where] = done.monthly
        for name, values in done.outcomes.items():
            if name not in self.outcomes:
                self.outcomes[name] = np.empty((self._n_arms, self._runs), dtype=values.dtype)
            self.outcomes[name][:, where] = values
        self.shock_counts[where] = done.shock_counts
        self._reasons.extend(done.closure_reasons)
        self.pids.add(done.pid)
        if self._progress:
            self._progress(len(batch))

    def _read(self, batch: range, into: NDArray[np.float64]) -> None:
        """Read a batch's books from the file its worker wrote them to."""
        if self._files is None:  # pragma: no cover - a batch without books has a file
            raise AssertionError("a batch's books are in a file, but there are no files")
        self._files.read(batch, into)

    @property
    def books(self) -> NDArray[np.float64]:
        """The run's books, (arm, replication, month, column)."""
        books = self._single if self._run_books is None else self._run_books
        if books is None:  # pragma: no cover - every batch is taken before
            raise AssertionError("no books taken")
        return books

    def reasons(self) -> NDArray[np.str_]:
        """Closure reasons (arm, replication), in replication order."""
        return np.array(self._reasons, dtype=str).T


class _SummaryReduction:
    """The parent's side of a summary-only run: batch summaries added up as they complete."""

    def __init__(
        self,
        batches: list[range],
        n_arms: int,
        horizon: int,
        n_shocks: int,
        progress: Progress | None,
    ) -> None:
        runs = self._runs = batches[-1].stop
        self._waiting = {batch.start for batch in batches}  # batches not yet taken
        self._failure: tuple[int, NonFiniteResultError] | None = None  # the earliest met
        self.outcomes: dict[str, NDArray[np.float64]] = {}  # named as the first batch names them
        self._shape = (n_arms, runs)
        self.shock_counts = np.empty((runs, n_shocks), dtype=np.int64)
        self.aggregates = MonthlyAggregates.empty(n_arms, horizon)
        self.pids: set[int] = set()
        self._reasons: dict[int, NDArray[np.str_]] = {}
        self._progress = progress

    def take(self, batch: range, done: _BatchSummary | _Breakdown | _NonFinite) -> None:
        """Count one batch in, or note the NaN or infinity it met.

        Batches arrive as they complete; the run stops at the first NaN or infinity in
        replication order, as a full run does, once every batch before it has arrived.
        """
        self._waiting.discard(batch.start)
        if isinstance(done, _BatchSummary):
            self._count(batch, done)
        elif self._failure is None or batch.start < self._failure[0]:
            error = (
                NonFiniteResultError(done.replication, cause=done.cause)
                if isinstance(done, _Breakdown)
                else NonFiniteResultError(**done.place)
            )
            self._failure = (batch.start, error)
        if self._failure is not None and min(self._waiting, default=self._runs) > self._failure[0]:
            raise self._failure[1]

    def _count(self, batch: range, done: _BatchSummary) -> None:
        """Add one batch's outcomes and aggregates."""
        where = slice(batch.start, batch.stop)
        for name, values in done.outcomes.items():
            if name not in self.outcomes:
                self.outcomes[name] = np.empty(self._shape)
            self.outcomes[name][:, where] = values
        self.shock_counts[where] = done.shock_counts
        self._reasons[batch.start] = done.closure_reasons
        self.aggregates.add(done.aggregates, len(batch))
        self.pids.add(done.pid)
        if self._progress:
            self._progress(len(batch))

    def reasons(self) -> NDArray[np.str_]:
        """Closure reasons (arm, replication), in replication order."""
        return np.concatenate([self._reasons[start] for start in sorted(self._reasons)], axis=1)
