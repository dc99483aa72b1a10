"""The pool kept between runs: reused while it fits, replaced when it does not, let go.

A run of more than one process without an executor of its own runs on the pool the runner
keeps (`engine.pool.kept_pool`). These tests follow its workers by pid: the same workers for a
run that fits, new ones (and the old gone) for a relationship they were forked without, after
an abandoned run, a dead worker or a different number of processes; a run while it is busy has
a pool of its own. The results are those of a run in-process, bit for bit, every time.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import numpy as np
import pytest
import simpy

from franchise_sim.engine import pool, runner
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS, relationships_in_use
from franchise_sim.engine.pool import kept_workers, release_workers
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import simulate
from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar
from franchise_sim.model.relationships.relationship import ArmTerms, Relationship
from franchise_sim.model.streams import BatchStreams
from franchise_sim.scenario.schema import Scenario

RUN: dict[str, Any] = {"runs": 30, "seed": 3, "horizon_months": 12}


def _pooled(scenario: Scenario, **options: Any) -> SimulationResults:
    return simulate(scenario, workers=2, **{**RUN, **options})


def _same(a: SimulationResults, b: SimulationResults) -> None:
    np.testing.assert_array_equal(a.trajectories, b.trajectories)
    for name in a.outcomes:
        np.testing.assert_array_equal(a.outcomes[name], b.outcomes[name])


def _gone(pids: tuple[int, ...], timeout: float = 10.0) -> bool:
    """Whether every one of ``pids`` has exited (and been reaped) within ``timeout``."""

    def exited(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(exited(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def _others(results: SimulationResults) -> set[int]:
    return set(results.worker_pids) - {os.getpid()}


def test_a_second_run_takes_the_same_workers(auto_repair: Scenario) -> None:
    alone = simulate(auto_repair, workers=1, **RUN)
    first = _pooled(auto_repair)
    workers = kept_workers()
    second = _pooled(auto_repair, seed=4)
    assert len(workers) == 1  # a run of one round: the caller runs a batch, its worker the other
    assert _others(first) == set(workers)
    assert _others(second) == set(workers)
    assert kept_workers() == workers
    _same(alone, first)
    assert not np.array_equal(first.trajectories, second.trajectories)  # another seed


def test_release_workers_lets_them_go(auto_repair: Scenario) -> None:
    _pooled(auto_repair)
    workers = kept_workers()
    assert workers
    release_workers()
    assert kept_workers() == ()
    assert _gone(workers)
    release_workers()  # nothing kept: nothing to do


def test_an_idle_pool_is_let_go_after_its_time(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "KEPT_IDLE_SECONDS", 0.2)
    _pooled(auto_repair)
    workers = kept_workers()
    assert workers
    assert _gone(workers)
    assert kept_workers() == ()


def _late_attach(
    env: simpy.Environment,
    calendar: Calendar,
    business: Business,
    streams: BatchStreams,
    terms: ArmTerms,
) -> None:
    """Attaches nothing; defined anew by a test, after the kept pool's workers were forked."""
    return None


def test_a_relationship_defined_after_the_workers_gets_a_new_pool(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pooled(auto_repair)
    before = kept_workers()

    # A function the kept workers cannot know: this module's name for it is new in this process.
    def late(*args: Any) -> None:
        return _late_attach(*args)

    late.__qualname__ = late.__name__ = "late_attach_of_the_test"
    monkeypatch.setitem(globals(), "late_attach_of_the_test", late)
    relationships = (*relationships_in_use(auto_repair), Relationship("late", (), (), late))
    with_late = _pooled(auto_repair, relationships=relationships)
    after = kept_workers()
    assert not set(after) & set(before)
    assert _others(with_late) <= set(after)
    assert _gone(before)
    again = _pooled(auto_repair, relationships=relationships)  # now a relationship it knows
    assert kept_workers() == after
    _same(with_late, again)
    _same(with_late, simulate(auto_repair, workers=1, relationships=relationships, **RUN))


class _StopError(Exception):
    pass


def _stop(_count: int) -> None:
    raise _StopError


def test_an_abandoned_run_kills_the_kept_workers(auto_repair: Scenario) -> None:
    alone = simulate(auto_repair, workers=1, **RUN)
    _pooled(auto_repair)
    before = kept_workers()
    with pytest.raises(_StopError):
        _pooled(auto_repair, progress=_stop)
    assert kept_workers() == ()
    assert _gone(before, timeout=1.0)  # killed, not waited for
    _same(alone, _pooled(auto_repair))
    assert not set(kept_workers()) & set(before)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_dead_worker_gets_a_new_pool(auto_repair: Scenario) -> None:
    alone = simulate(auto_repair, workers=1, **RUN)
    _pooled(auto_repair)
    before = kept_workers()
    os.kill(before[0], signal.SIGKILL)
    assert _gone(before[:1])
    after = _pooled(auto_repair)
    assert not set(kept_workers()) & set(before)
    _same(alone, after)


def test_another_number_of_processes_gets_a_new_pool(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "available_cores", lambda: 3)
    alone = simulate(auto_repair, workers=1, **RUN)
    three = simulate(auto_repair, workers=3, **RUN)
    wide = kept_workers()
    two = _pooled(auto_repair)
    narrow = kept_workers()
    assert (len(wide), len(narrow)) == (2, 1)  # the caller is one of the run's processes
    assert not set(wide) & set(narrow)
    assert _gone(wide)
    _same(alone, three)
    _same(alone, two)


def test_a_run_while_the_kept_pool_is_busy_has_a_pool_of_its_own(auto_repair: Scenario) -> None:
    alone = simulate(auto_repair, workers=1, **RUN)
    _pooled(auto_repair)
    kept = kept_workers()
    holding, release = threading.Event(), threading.Event()
    done: dict[str, SimulationResults] = {}

    def hold(_count: int) -> None:  # the first batch is in: hold the pool until told
        holding.set()
        assert release.wait(60.0)

    def held_run() -> None:
        done["held"] = _pooled(auto_repair, progress=hold)

    thread = threading.Thread(target=held_run)
    thread.start()
    try:
        assert holding.wait(60.0)
        beside = _pooled(auto_repair)
    finally:
        release.set()
        thread.join(60.0)
    assert not _others(beside) & set(kept)  # not the busy pool's workers
    assert _gone(tuple(_others(beside)))  # and its own pool is shut down after it
    assert kept_workers() == kept  # the kept pool is still kept, for the next run
    assert _others(done["held"]) <= set(kept)
    _same(alone, beside)
    _same(alone, done["held"])


def test_the_shipped_relationships_are_known_to_every_kept_pool(auto_repair: Scenario) -> None:
    narrowed = relationships_in_use(auto_repair)
    assert len(narrowed) < len(DEFAULT_RELATIONSHIPS)
    _pooled(auto_repair, relationships=narrowed)
    kept = kept_workers()
    _pooled(auto_repair, relationships=DEFAULT_RELATIONSHIPS)
    assert kept_workers() == kept
