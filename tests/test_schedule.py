"""The one-shot acts of `schedule`: each at its own time, in turn with SimPy's own events."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy

from franchise_sim.model.schedule import Act, BatchEnvironment, later, runs_until


def test_an_act_happens_at_its_own_time() -> None:
    env = BatchEnvironment()
    seen: list[tuple[str, float]] = []
    later(env, runs_until(12), 3.25, lambda: seen.append(("repair", env.now)))
    later(env, runs_until(12), 0.0, lambda: seen.append(("now", env.now)))
    env.run(until=runs_until(12))
    assert seen == [("now", 0.0), ("repair", 3.25)]


def test_acts_take_their_turn_with_timeouts_at_the_same_time() -> None:
    """At one time, acts and timeouts are processed in the order they were scheduled."""
    env = BatchEnvironment()
    seen: list[str] = []

    def waits(name: str, months: float) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(months)
        seen.append(name)

    def hangs(name: str) -> None:
        env.timeout(2.0).callbacks.append(lambda _event: seen.append(name))

    hangs("timeout 1")
    later(env, 10.0, 2.0, lambda: seen.append("act 1"))
    env.process(waits("process", 2.0))  # its timeout is scheduled when it starts: after both
    hangs("timeout 2")
    later(env, 10.0, 2.0, lambda: seen.append("act 2"))
    env.run(until=10.0)
    assert seen == ["timeout 1", "act 1", "timeout 2", "act 2", "process"]


def test_an_act_that_a_process_waits_for_resumes_it_after_acting() -> None:
    env = BatchEnvironment()
    seen: list[object] = []

    def waits_for(event: simpy.Event) -> Generator[simpy.Event, Any, None]:
        value = yield event
        seen.append(("resumed", env.now, value))

    act = Act(env, 1.5, lambda: seen.append(("acted", env.now)))
    env.process(waits_for(act))
    env.run(until=5.0)
    assert seen == [("acted", 1.5), ("resumed", 1.5, None)]
    assert act.processed
    assert act.ok


def test_no_act_at_or_after_the_end_of_the_run() -> None:
    env = BatchEnvironment()
    until = runs_until(6)
    seen: list[float] = []
    later(env, until, 6.4999, lambda: seen.append(env.now))
    later(env, until, 6.5, lambda: seen.append(env.now))
    later(env, until, 9.0, lambda: seen.append(env.now))
    assert len(env._queue) == 1  # the acts the run would never reach are not even scheduled
    env.run(until=until)
    assert seen == [6.4999]


def test_an_act_cannot_happen_in_the_past() -> None:
    with pytest.raises(ValueError, match="ago"):
        Act(BatchEnvironment(), -0.5, lambda: None)
