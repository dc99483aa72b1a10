"""The Monte Carlo runner: paired replications of every arm, in batches over a process pool.

Replication ``r`` draws every random number from streams keyed by ``(r, purpose)`` under the
master seed, so its result does not depend on the batch it falls in or the worker that runs it:
the same seed gives identical results whatever the number of workers.

A caller that runs many simulations (the notebook explorer) may pass its own long-lived
executor instead of paying for a new process pool each time. When a run is abandoned (the
progress callback raises, or the caller is interrupted), batches not yet started are cancelled
rather than waited for.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from franchise_sim.outcomes import outcome_table
from franchise_sim.plan import needs_planned_earnings, plan_replication
from franchise_sim.replication import (
    SHOCK_NAMES,
    monthly_columns,
    planned_earnings,
    run_replication,
)
from franchise_sim.results import SimulationResults
from franchise_sim.scenario import Scenario

Progress = Callable[[int], None]
"""Called with the number of replications just finished."""


@dataclass(frozen=True, slots=True)
class _Batch:
    monthly: NDArray[np.float64]  # (arm, replication, month, column)
    closure_reasons: list[tuple[str, ...]]
    shock_counts: NDArray[np.int64]  # (replication, shock)
    franchisor_failed_month: NDArray[np.float64]  # (replication, arm)
    brand_shocks: NDArray[np.float64]  # (replication, arm)
    pid: int


def _run_batch(
    scenario: Scenario,
    seed: int,
    replications: range,
    horizon: int,
    deterministic: bool,
    planned: dict[str, tuple[float, ...]] | None = None,
) -> _Batch:
    records = [
        run_replication(
            plan_replication(
                scenario,
                seed=seed,
                replication=r,
                horizon_months=horizon,
                deterministic=deterministic,
                planned_earnings=planned,
            )
        )
        for r in replications
    ]
    return _Batch(
        monthly=np.stack([rec.monthly for rec in records], axis=1),
        closure_reasons=[rec.closure_reasons for rec in records],
        shock_counts=np.array([rec.shock_counts for rec in records], dtype=np.int64),
        franchisor_failed_month=np.array([rec.franchisor_failed_month for rec in records], float),
        brand_shocks=np.array([rec.brand_shocks for rec in records], dtype=float),
        pid=os.getpid(),
    )


def _batches(runs: int, workers: int) -> list[range]:
    """Split replications into about eight batches per worker (at least one replication each)."""
    size = max(1, -(-runs // (workers * 8)))
    return [range(start, min(runs, start + size)) for start in range(0, runs, size)]


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
) -> SimulationResults:
    """Run paired replications of every arm of a scenario.

    Args:
        scenario: A validated scenario (see ``load_scenario``).
        runs: Replications per arm; the scenario's ``run.runs`` if not given (1 when
            ``deterministic``).
        seed: Master seed; the scenario's ``run.seed`` if not given.
        workers: Processes to use; all cores if not given, in-process when 1.
        horizon_months: Months to simulate; the scenario's ``run.horizon_months`` if not given.
        deterministic: Put every input at its mean, switch random events off and advance
            customers and visits at their expected values (the plan on paper).
        progress: Optional callback told how many replications each finished batch held. If it
            raises, the run stops: batches not yet started are cancelled and the exception
            propagates.
        executor: Optional executor to run the batches on (kept open by the caller and reused
            across runs); ``workers`` then only sets how finely the runs are split. A new
            process pool, shut down at the end, is used if not given.

    Returns:
        Frozen results with monthly arrays and per-(arm, replication) outcomes.
    """
    if runs is None:  # the plan on paper is one path, however often it is run
        runs = 1 if deterministic else scenario.run.runs
    seed = scenario.run.seed if seed is None else seed
    horizon = scenario.run.horizon_months if horizon_months is None else horizon_months
    workers = (os.cpu_count() or 1) if workers is None else workers
    if runs < 1 or horizon < 1 or workers < 1 or seed < 0:
        raise ValueError("runs, horizon_months and workers must be >= 1 and seed >= 0")
    started = time.perf_counter()
    planned = (  # what owners who review against the plan on paper expect
        planned_earnings(scenario, seed, horizon)
        if needs_planned_earnings(scenario) and not deterministic
        else None
    )
    batches = _batches(runs, workers)
    results: list[_Batch] = []
    if executor is None and (workers == 1 or len(batches) == 1):
        for batch in batches:
            results.append(_run_batch(scenario, seed, batch, horizon, deterministic, planned))
            if progress:
                progress(len(batch))
    else:
        pool = executor or ProcessPoolExecutor(max_workers=min(workers, len(batches)))
        futures: list[Future[_Batch]] = []
        try:
            for batch in batches:
                futures.append(
                    pool.submit(_run_batch, scenario, seed, batch, horizon, deterministic, planned)
                )
            for batch, future in zip(batches, futures, strict=True):
                results.append(future.result())
                if progress:
                    progress(len(batch))
        except BaseException:
            for future in futures:  # abandoned: do not wait for batches that have not started
                future.cancel()
            raise
        finally:
            if executor is None:
                pool.shutdown(wait=True, cancel_futures=True)
    monthly = np.concatenate([b.monthly for b in results], axis=1)
    reasons = np.array([r for b in results for r in b.closure_reasons], dtype=str).T
    shocks = np.concatenate([b.shock_counts for b in results], axis=0)
    arms = scenario.arm_names
    columns = monthly_columns()
    table = outcome_table(
        scenario,
        arms,
        columns,
        monthly,
        np.concatenate([b.franchisor_failed_month for b in results], axis=0).T,
        np.concatenate([b.brand_shocks for b in results], axis=0).T,
        seed=seed,
        deterministic=deterministic,
    )
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
