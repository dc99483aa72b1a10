"""Events at one replication's own times in a batch's SimPy environment.

A replication's random events (a rival closing, a recession ending, a vacancy filled, a
personal exit, a franchisor's failure) are SimPy events at their own times. Where an actor only
waits once and acts, the act is one event (`Act`: a timeout that performs it, not a process),
and an event that would fall at or after the end of the run (``until``, the horizon and a half
month: a run's `simpy.Environment.run` stops before it) is not scheduled at all: it could change
nothing.

A batch's environment is a `BatchEnvironment`, which closes its processes when the run is over.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy
from simpy.core import BoundClass
from simpy.events import NORMAL


class BatchEnvironment(simpy.Environment):
    """A SimPy environment that lets go of a batch's actors once its run is over (`close`).

    A suspended process is a cycle: its generator's frame holds the actor, the actor holds the
    calendar or the environment, and they hold the event the process waits for, whose callback
    is the process. Left alone, those cycles keep everything the actors hold (the plans, the
    streams: some 23,000 objects for 1,000 replications) for Python's cyclic collector, whose
    next round then walks them all (about 20 ms a batch). Closing the processes' generators
    breaks the cycles, so reference counting frees the batch as soon as its actors go.
    """

    def __init__(self) -> None:
        super().__init__()
        # SimPy binds its event types to the instance only for its own class (``bind_early``
        # reads the class's own namespace): bind them here too, for the same cost per event.
        for name, value in vars(simpy.Environment).items():
            if type(value) is BoundClass and name != "process":
                setattr(self, name, getattr(self, name))
        self._generators: list[Generator[simpy.Event, Any, Any]] = []

    def process(self, generator: Generator[simpy.Event, Any, Any]) -> simpy.Process:
        """Start a process (`simpy.Environment.process`), kept to be closed by `close`."""
        self._generators.append(generator)
        return simpy.Process(self, generator)

    def close(self) -> None:
        """Close every process's generator: the run is over and nothing will resume them."""
        for generator in self._generators:
            generator.close()
        self._generators.clear()


def runs_until(horizon_months: int) -> float:
    """When a run of this horizon stops: half a month after the last month's books."""
    return horizon_months + 0.5


class Act(simpy.Event):
    """An act at its own time: an event on the queue ``months`` from now that performs it.

    What a `simpy.Timeout` with the act appended to its callbacks does, built and scheduled in
    one step: like a timeout it is triggered from the start (its value None) and processed in
    its turn among the events at its time (`simpy.core.NORMAL`, in the order scheduled).

    Args:
        env: The environment.
        months: How long from now (not negative).
        act: What happens then.
    """

    def __init__(self, env: simpy.Environment, months: float, act: Callable[[], None]) -> None:
        if months < 0:
            raise ValueError(f"an act cannot happen {-months} months ago")
        # Event.__init__'s fields, set as Timeout does, with the act as the one callback.
        self.env = env
        self.callbacks = [_perform]
        self.act = act
        self._value = None
        self._ok = True
        env.schedule(self, NORMAL, months)


def _perform(event: simpy.Event) -> None:
    """An `Act`'s callback: a plain function, so the event holds no cycle through itself."""
    event.act()  # type: ignore[attr-defined]


def later(env: simpy.Environment, until: float, months: float, act: Callable[[], None]) -> None:
    """After ``months``, ``act`` (an `Act`); nothing if that falls at or after ``until``."""
    if env.now + months >= until:
        return
    Act(env, months, act)
