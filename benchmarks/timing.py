"""Timing shared by the benchmark scripts: the best wall time of a few repeats."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(step: Callable[[], object], repeat: int) -> float:
    """Shortest wall time, in seconds, of ``repeat`` calls of ``step``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return min(times)
