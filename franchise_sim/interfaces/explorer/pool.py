"""The process pool shared by open explorers with the same worker count, kept between runs.

Its workers are set up as the runner's own (`engine.pool.worker_pool`): deaf to Ctrl-C and
gone once this process is; they outlive the explorer thread that started them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor

from franchise_sim.engine.pool import worker_pool

# --- the process pool, shared by open explorers with the same worker count --------------------

_POOL_LOCK = threading.Lock()
_POOLS: dict[int, tuple[ProcessPoolExecutor, int]] = {}
"""Worker count -> (pool, explorers using it)."""


class PoolLease:
    """One explorer's hold on the shared pool of its worker count (none when in-process)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = _lease_pool(workers) if workers > 1 else None

    def renew(self) -> None:
        """Replace a broken pool with a new one."""
        if self.pool is not None:
            _discard_pool(self.pool)
            self.pool = _lease_pool(self.workers)

    def release(self) -> None:
        """Let the pool go; the last explorer using it shuts it down."""
        pool, self.pool = self.pool, None
        if pool is not None:
            _return_pool(pool)


def _lease_pool(workers: int) -> ProcessPoolExecutor:
    """The shared pool with ``workers`` processes, made if there is none."""
    with _POOL_LOCK:
        pool, users = _POOLS.get(workers, (None, 0))
        if pool is None:
            # Workers deaf to Ctrl-C, gone with this process; started from the explorer's
            # thread and shared beyond it, so not killed when that thread ends.
            pool = worker_pool(workers, die_with_thread=False)
        _POOLS[workers] = (pool, users + 1)
        return pool


def _return_pool(pool: ProcessPoolExecutor) -> None:
    """One explorer is done with a pool; the last one shuts it down."""
    with _POOL_LOCK:
        for workers, (shared, users) in list(_POOLS.items()):
            if shared is pool and users > 1:
                _POOLS[workers] = (shared, users - 1)
                return
            if shared is pool:
                del _POOLS[workers]
    pool.shutdown(wait=False, cancel_futures=True)


def _discard_pool(pool: ProcessPoolExecutor) -> None:
    """Forget a broken pool: whoever uses it next gets a new one."""
    with _POOL_LOCK:
        for workers, (shared, _users) in list(_POOLS.items()):
            if shared is pool:
                del _POOLS[workers]
    pool.shutdown(wait=False, cancel_futures=True)
