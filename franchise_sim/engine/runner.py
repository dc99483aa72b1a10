"""The Monte Carlo runner: paired replications of every arm, in batches over a process pool.

Each batch runs in the batch engine (`engine.batch`): one SimPy environment for all its
replications and arms. Replication ``r`` draws every random number from streams keyed by
``(r, purpose)`` under the master seed, so its result does not depend on the batch it falls in
or the worker that runs it: the same seed gives identical results whatever the number of
workers. The model's relationships (`simulate`'s ``relationships``) travel to the workers with
each batch.

A caller that runs many simulations (the notebook explorer) may pass its own long-lived
executor instead of paying for a new process pool each time. When a run is abandoned (the
progress callback raises, or the caller is interrupted), batches not yet started are cancelled
rather than waited for.

A pool this module makes for itself is its own to clean up: its workers ignore Ctrl-C (the
caller is interrupted, not them), die with the process that started them, and are killed when a
run is abandoned. The arguments of ``simulate`` obey the bounds of a scenario's ``run`` section,
and a run whose books hold a non-finite number stops with ``NonFiniteResultError``.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import operator
import os
import reprlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from franchise_sim.engine.batch import (
    DEFAULT_RELATIONSHIPS,
    SHOCK_NAMES,
    BatchRecord,
    monthly_columns,
    plans_on_paper,
    run_batch,
)
from franchise_sim.engine.outcomes import outcome_table
from franchise_sim.engine.results import SimulationResults
from franchise_sim.model.plan import PlanOnPaper, needs_plan_on_paper
from franchise_sim.model.relationships.franchise import BRAND_SHOCKS, FAILED_MONTH
from franchise_sim.model.relationships.relationship import Relationships
from franchise_sim.scenario.schema import RunSettings, Scenario

Progress = Callable[[int], None]
"""Called with the number of replications just finished."""


@dataclass(frozen=True, slots=True)
class _Batch:
    monthly: NDArray[np.float64]  # (arm, replication, month, column)
    closure_reasons: list[tuple[str, ...]]
    shock_counts: NDArray[np.int64]  # (replication, shock)
    counters: dict[str, NDArray[np.float64]]  # each (replication, arm)
    pid: int


def _run_batch(
    scenario: Scenario,
    seed: int,
    replications: range,
    horizon: int,
    deterministic: bool,
    planned: dict[str, PlanOnPaper] | None = None,
    relationships: Relationships = DEFAULT_RELATIONSHIPS,
) -> _Batch | _Breakdown:
    try:
        record = run_batch(
            scenario, seed, replications, horizon, deterministic, planned, relationships
        )
    except (OverflowError, ValueError) as exc:
        if not _breaks_down(exc):
            raise
        return _first_breakdown(
            scenario, seed, replications, horizon, deterministic, planned, relationships, exc
        )
    return _batch(record)


def _batch(record: BatchRecord) -> _Batch:
    return _Batch(
        monthly=record.monthly,
        closure_reasons=record.closure_reasons,
        shock_counts=record.shock_counts,
        counters=record.counters,
        pid=os.getpid(),
    )


def _first_breakdown(
    scenario: Scenario,
    seed: int,
    replications: range,
    horizon: int,
    deterministic: bool,
    planned: dict[str, PlanOnPaper] | None,
    relationships: Relationships,
    exc: Exception,
) -> _Breakdown:
    """The first replication of a batch whose arithmetic breaks down, run one at a time."""
    for r in replications:
        try:
            run_batch(
                scenario, seed, range(r, r + 1), horizon, deterministic, planned, relationships
            )
        except (OverflowError, ValueError) as alone:
            if _breaks_down(alone):
                return _Breakdown(r, f"{type(alone).__name__}: {alone}")
            raise
    raise exc  # pragma: no cover - a batch breaks down only where one of its replications does


BATCH_RUNS = (1_000, 5_000)
"""Smallest and largest batch the runner aims for: numpy pays about 40-85 ms per batch."""


def _batches(runs: int, workers: int) -> list[range]:
    """Split replications into batches of at most 5,000 with at least one batch per worker.

    A run of up to 1,000 replications per worker is one batch per worker; a longer one is cut
    into batches of 1,000 to 5,000, as many for each worker.
    """
    per_worker = -(-runs // workers)
    rounds = max(1, -(-per_worker // BATCH_RUNS[1]))
    size = max(1, -(-runs // (workers * rounds)))
    return [range(start, min(runs, start + size)) for start in range(0, runs, size)]


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


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - systems without CPU affinity


def pool_workers(runs: int, workers: int | None = None) -> int:
    """How many worker processes ``simulate`` starts for ``runs`` replications (1: in-process).

    No more than ``workers`` (all cores if not given), the cores of this machine and the
    batches the run is split into.

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


_PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a process gets when the thread that made it ends."""


def _start_worker(parent: int | None, die_with_thread: bool = True) -> None:
    """Set up a pool worker: deaf to Ctrl-C, and gone as soon as the process that made it is.

    The parent blocks SIGINT while it starts workers, so a worker is deaf to Ctrl-C from its
    first instruction: ignoring the signal before unblocking it discards one pressed meanwhile.
    A terminal's Ctrl-C reaches every process of the group, and only the parent should act on
    it (by abandoning the run and killing the workers).

    Args:
        parent: The pid of the process that made the pool when it is this worker's parent (the
            fork and spawn start methods); None when a fork server stands between them, whose
            own exit then ends the worker.
        die_with_thread: Also have Linux kill it the moment the *thread* that started it
            ends (``PR_SET_PDEATHSIG``); without it, the watch of the parent's pid ends it
            within a second of the parent's death.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if die_with_thread and sys.platform.startswith("linux"):
        # Killed by the kernel the moment the parent dies, even in the middle of a pipe write.
        with suppress(OSError, AttributeError):  # a libc without prctl: the watch below
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    started_under = os.getppid()
    if parent is not None and started_under != parent:
        os._exit(1)  # the parent died before the guard was in place
    watch = threading.Thread(
        target=_exit_when_orphaned, args=(started_under,), name="parent-watch", daemon=True
    )
    watch.start()


def _exit_when_orphaned(parent: int) -> None:
    """Poll the parent pid every second and end this process once it has changed.

    The portable guard beside Linux's death signal: an orphan is adopted by another process.
    ``os._exit`` ends the worker even while its main thread is blocked writing to a pipe.
    """
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _own_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers ignore Ctrl-C and end with this process."""
    return worker_pool(workers)


def worker_pool(workers: int, *, die_with_thread: bool = True) -> ProcessPoolExecutor:
    """A process pool whose workers ignore Ctrl-C and end with the process that made them.

    Each worker ignores SIGINT (the caller is interrupted, not it) and exits once its parent
    has gone: at once on Linux, or within a second by watching the parent's pid.

    Args:
        workers: How many worker processes.
        die_with_thread: Let Linux kill a worker the moment the *thread* that started it ends
            (``PR_SET_PDEATHSIG`` acts on the thread, not the process). A pool starts its
            workers from the thread that first submits to it; a pool kept beyond that thread
            (the explorer's, fed from a background thread and shared between explorers) must
            say False, and its workers then rely on the watch of the parent's pid.
    """
    context = multiprocessing.get_context()
    parent = None if context.get_start_method() == "forkserver" else os.getpid()
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(parent, die_with_thread),
    )


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread for the duration, so processes started meanwhile inherit it.

    A Ctrl-C pressed meanwhile is not lost: it is delivered when the block ends (or, handled
    by another thread's signal mask, at once).
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _abandon(pool: Executor) -> None:
    """Stop a pool of this module's own at once: kill its workers and cancel what is queued.

    A worker may be in the middle of a batch or blocked writing one to the pipe; waiting for it
    could take minutes, so it is killed, not asked.
    """
    processes: list[Any] = list((getattr(pool, "_processes", None) or {}).values())
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
    for process in processes:
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5.0)
    if manager is not None:  # it notices the dead workers and closes the pool's pipes
        manager.join(timeout=5.0)  # before the interpreter's exit hook would write to them


def _check_finite(
    batch: _Batch, first: int, arms: tuple[str, ...], columns: tuple[str, ...]
) -> None:
    """Raise ``NonFiniteResultError`` at the first NaN or infinity of a batch's books."""
    books = batch.monthly
    if np.isfinite(books).all():
        return
    # In replication order, then month, arm and column: where it first appears.
    replication, month, arm, column = np.argwhere(~np.isfinite(books.transpose(1, 2, 0, 3)))[0]
    value = float(books[arm, replication, month, column])
    raise NonFiniteResultError(
        first + int(replication),
        arm=arms[arm],
        month=int(month) + 1,
        column=columns[column],
        value=value,
    )


def _check_finite_outcomes(table: dict[str, NDArray[np.float64]], arms: tuple[str, ...]) -> None:
    """Raise ``NonFiniteResultError`` at an outcome that overflowed (months may be NaN: never)."""
    for name, values in table.items():
        bad = np.isinf(values) if name.endswith("_month") else ~np.isfinite(values)
        if bad.any():
            replication, arm = np.argwhere(bad.T)[0]
            value = float(values[arm, replication])
            raise NonFiniteResultError(int(replication), arm=arms[arm], column=name, value=value)


def _counter(results: list[_Batch], name: str, arms: int) -> NDArray[np.float64]:
    """A relationship counter over every batch, (arm, replication); zeros if none reports it."""
    parts = [b.counters.get(name, np.zeros((len(b.closure_reasons), arms))) for b in results]
    return np.concatenate(parts, axis=0).T


def simulate(
    scenario: Scenario,
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    horizon_months: int | None = None,
    deterministic: bool = False,
    progress: Progress | None = None,
    executor: Executor | None = None,
    relationships: Relationships = DEFAULT_RELATIONSHIPS,
) -> SimulationResults:
    """Run paired replications of every arm of a scenario.

    Args:
        scenario: A validated scenario (see ``load_scenario``).
        runs: Replications per arm, 1 to 1,000,000 (the bounds of ``run.runs``); the scenario's
            ``run.runs`` if not given (1 when ``deterministic``).
        seed: Master seed, a whole number >= 0; the scenario's ``run.seed`` if not given.
        workers: Processes to use; all cores if not given, in-process when 1. A pool of its
            own never has more processes than the cores of the machine or the batches.
        horizon_months: Months to simulate, 1 to 360 (the bounds of ``run.horizon_months``);
            the scenario's ``run.horizon_months`` if not given.
        deterministic: Put every input at its mean, switch random events off and advance
            customers and visits at their expected values (the plan on paper).
        progress: Optional callback told how many replications each finished batch held. If it
            raises, the run stops: batches not yet started are cancelled and the exception
            propagates.
        executor: Optional executor to run the batches on (kept open by the caller and reused
            across runs); ``workers`` then only sets how finely the runs are split. A new
            process pool is used if not given: shut down at the end, and its workers killed
            at once when the run is abandoned (an exception, Ctrl-C).
        relationships: The relationships the model is composed of (the franchise unless
            told); carried to every worker with the batches.

    Returns:
        Frozen results with monthly arrays and per-(arm, replication) outcomes.

    Raises:
        TypeError: An argument of the wrong type (``runs=True``, ``deterministic="no"``).
        ValueError: An argument out of its bounds.
        NonFiniteResultError: The books hold a NaN or an infinity; the run stops there.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"scenario must be a Scenario (see load_scenario), not {type(scenario).__name__}"
        )
    if not isinstance(deterministic, bool | np.bool_):
        raise TypeError(
            f"deterministic must be True or False, not {type(deterministic).__name__} "
            f"{reprlib.repr(deterministic)}"
        )
    deterministic = bool(deterministic)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a function or None, not {type(progress).__name__}")
    if runs is None:  # the plan on paper is one path, however often it is run
        runs = 1 if deterministic else scenario.run.runs
    runs = _run_setting("runs", runs)
    seed = _run_setting("seed", scenario.run.seed if seed is None else seed)
    horizon = _run_setting(
        "horizon_months", scenario.run.horizon_months if horizon_months is None else horizon_months
    )
    workers = (
        available_cores() if workers is None else _whole_number("workers", workers, 1, None, "")
    )
    started = time.perf_counter()
    arms = scenario.arm_names
    columns = monthly_columns(relationships)
    planned = (  # what owners who review against the plan on paper expect
        plans_on_paper(scenario, seed, horizon, relationships)
        if needs_plan_on_paper(scenario) and not deterministic
        else None
    )
    results: list[_Batch] = []

    def take(batch: range, done: _Batch | _Breakdown) -> None:
        if isinstance(done, _Breakdown):
            raise NonFiniteResultError(done.replication, cause=done.cause)
        _check_finite(done, batch.start, arms, columns)
        results.append(done)
        if progress:
            progress(len(batch))

    # A caller's executor is split for the workers asked for; a pool of its own for the cores.
    batches = _batches(runs, workers if executor else min(workers, available_cores()))
    if executor is None and (workers == 1 or len(batches) == 1):
        for batch in batches:
            take(
                batch,
                _run_batch(scenario, seed, batch, horizon, deterministic, planned, relationships),
            )
    else:
        pool = executor or _own_pool(pool_workers(runs, workers))
        futures: list[Future[_Batch | _Breakdown]] = []
        try:
            with _sigint_blocked() if executor is None else nullcontext():
                for batch in batches:
                    futures.append(
                        pool.submit(
                            _run_batch,
                            scenario,
                            seed,
                            batch,
                            horizon,
                            deterministic,
                            planned,
                            relationships,
                        )
                    )
            for batch, future in zip(batches, futures, strict=True):
                take(batch, future.result())
        except BaseException:
            for future in futures:  # abandoned: do not wait for batches that have not started
                future.cancel()
            if executor is None:
                _abandon(pool)
            raise
        if executor is None:
            pool.shutdown(wait=True)
    monthly = np.concatenate([b.monthly for b in results], axis=1)
    reasons = np.array([r for b in results for r in b.closure_reasons], dtype=str).T
    shocks = np.concatenate([b.shock_counts for b in results], axis=0)
    table = outcome_table(
        scenario,
        arms,
        columns,
        monthly,
        _counter(results, FAILED_MONTH, len(arms)),
        _counter(results, BRAND_SHOCKS, len(arms)),
        seed=seed,
        deterministic=deterministic,
    )
    _check_finite_outcomes(table, arms)
    return SimulationResults(
        scenario=scenario,
        seed=seed,
        runs=runs,
        horizon_months=horizon,
        deterministic=deterministic,
        arms=arms,
        monthly_columns=columns,
        trajectories=monthly,
        outcomes=table,
        closure_reasons=reasons,
        shock_counts={name: shocks[:, i] for i, name in enumerate(SHOCK_NAMES)},
        run_seconds=time.perf_counter() - started,
        worker_pids=tuple(sorted({b.pid for b in results})),
    )
