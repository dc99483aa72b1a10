"""Timing shared by the benchmark scripts: medians beside a reference measured in the same run.

This machine is shared and noisy, so a lone wall time says little. Every figure is the median of
``repeat`` calls, each call interleaved with one call of a fixed reference workload (a bare
SimPy skeleton shaped like one replication: 20 processes stepping through 400 months of
events). The ratio of the two medians is what moves when the code changes, and holds whatever
else the machine is doing; the conditions (cores, load average) are printed beside it. The
targets' floor (`event_floor`) is a bare SimPy run with the engine's calendar and as many
events as a batch fired (`count_events`), and no model.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from franchise_sim.model.calendar import Calendar, Phase

REFERENCE_PROCESSES = 20
REFERENCE_STEPS = 400


def _ticking(env: simpy.Environment, steps: int) -> Generator[simpy.Event, Any, None]:
    for _ in range(steps):
        yield env.timeout(1.0)


def reference_step() -> None:
    """The reference workload: a bare SimPy environment, 8,000 timeouts, no model at all."""
    env = simpy.Environment()
    for _ in range(REFERENCE_PROCESSES):
        env.process(_ticking(env, REFERENCE_STEPS))
    env.run()


@dataclass(frozen=True)
class Timing:
    """Wall times of a step and of the reference, call by call, in seconds."""

    seconds: tuple[float, ...]
    reference: tuple[float, ...]

    @property
    def median(self) -> float:
        """Median wall time of the step."""
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        """Shortest wall time of the step."""
        return min(self.seconds)

    @property
    def reference_median(self) -> float:
        """Median wall time of the reference."""
        return statistics.median(self.reference)

    @property
    def ratio(self) -> float:
        """Median of the step over the median of the reference."""
        return self.median / self.reference_median

    def text(self, digits: int = 2) -> str:
        """The median, the best and the ratio to the reference, in words."""
        return (
            f"{self.median:.{digits}f} s median of {len(self.seconds)} "
            f"(best {self.best:.{digits}f} s; {self.ratio:,.0f}x the reference)"
        )


def timed(step: Callable[[], object], repeat: int) -> Timing:
    """Call ``step`` ``repeat`` times, each call after one call of the reference workload."""
    seconds, reference = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        reference_step()
        reference.append(time.perf_counter() - started)
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return Timing(tuple(seconds), tuple(reference))


def conditions() -> str:
    """The machine as the figures were taken: cores, load average, Python, the reference."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    floor = timed(lambda: None, 5).reference_median
    return (
        f"{os.cpu_count()} cores, load average {load} (1, 5, 15 min), "
        f"Python {platform.python_version()}, simpy {simpy.__version__}; "
        f"reference (bare SimPy, {REFERENCE_PROCESSES * REFERENCE_STEPS:,} events): "
        f"{floor * 1000:.1f} ms"
    )


def against_target(measured: float, target: float, *, at_most: bool, unit: str = "") -> str:
    """A measured figure beside its target, and whether it meets it.

    Args:
        measured: The figure (a median).
        target: The target it is held to.
        at_most: True for a ceiling (a time), False for a floor (a rate).
        unit: Written after both numbers.
    """
    met = measured <= target if at_most else measured >= target
    sign = "<=" if at_most else ">="
    digits = 2  # more where two would print a figure just past its target as the target
    while digits < 6 and measured != target and round(measured, digits) == round(target, digits):
        digits += 1
    return (
        f"{measured:,.{digits}f}{unit} against a target of {sign} {target:,.2f}{unit}: "
        f"{'met' if met else 'NOT met'}"
    )


# --- the bare-SimPy event floor of a batch --------------------------------------------------


def _ticking_by(env: simpy.Environment, gaps: list[float]) -> Generator[simpy.Event, Any, None]:
    for gap in gaps:
        yield env.timeout(gap)


def _phases(calendar: Calendar) -> Generator[simpy.Event, Any, None]:
    while True:
        for phase in Phase:
            yield calendar.next(phase)


def event_floor(horizon: int, events: int, processes: int) -> Callable[[], None]:
    """A bare SimPy run with the engine's calendar and ``events`` timeouts over ``processes``."""
    rng = np.random.default_rng(0)
    per_process = max(1, events // processes)
    gaps = [
        (rng.exponential(horizon / per_process, per_process)).tolist() for _ in range(processes)
    ]

    def run() -> None:
        env = simpy.Environment()
        calendar = Calendar(env, horizon)
        env.process(_phases(calendar))
        for g in gaps:
            env.process(_ticking_by(env, g))
        env.run(until=horizon + 0.5)

    return run


def count_events(step: Callable[[], object]) -> int:
    """How many events SimPy schedules during ``step``."""
    counted = [0]
    schedule = simpy.Environment.schedule

    def counting(self: simpy.Environment, *args: Any, **kwargs: Any) -> None:
        counted[0] += 1
        schedule(self, *args, **kwargs)

    simpy.Environment.schedule = counting  # type: ignore[method-assign]
    try:
        step()
    finally:
        simpy.Environment.schedule = schedule  # type: ignore[method-assign]
    return counted[0]


def in_fresh_process(code: str, *args: object) -> tuple[float, ...]:
    """The numbers ``code`` prints last, run in a new Python process (``sys.argv[1:]``: args)."""
    done = subprocess.run(
        [sys.executable, "-c", code, *(str(a) for a in args)],
        check=True,
        capture_output=True,
        text=True,
    )
    return tuple(float(x) for x in done.stdout.strip().splitlines()[-1].split())
