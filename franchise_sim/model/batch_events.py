"""Events at one replication's own times in a batch's SimPy environment.

A replication's random events (a rival closing, a recession ending, a vacancy filled, a
personal exit, a franchisor's failure) are SimPy timeouts at their own times, as in the
per-replication engine. Where the scalar actors start a process only to wait once and act, the
batch actors hang the act on the timeout itself (one event, not three), and an event that
would fall at or after the end of the run (``until``, the horizon and a half month: a run's
`simpy.Environment.run` stops before it) is not scheduled at all: it could change nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy


def runs_until(horizon_months: int) -> float:
    """When a run of this horizon stops: half a month after the last month's books."""
    return horizon_months + 0.5


def later(env: simpy.Environment, until: float, months: float, act: Callable[[], None]) -> None:
    """After ``months``, ``act``; nothing if that falls at or after ``until``."""
    if env.now + months >= until:
        return
    env.timeout(months).callbacks.append(lambda _event: act())


def in_time(env: simpy.Environment, until: float, months: float) -> bool:
    """Whether a wait of ``months`` from now ends before the run stops."""
    return env.now + months < until
