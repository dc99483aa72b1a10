"""The local process pool: workers deaf to Ctrl-C that die with their parent, kept between runs.

``simulate`` runs a run of more than one process on a pool of this module's unless it is given
an executor. A new pool costs a short run a good part of its time: under spawn (the default on
macOS and Windows) a Python start and the package's imports in each worker, about a second;
under fork, the fork and the worker's start (its batch begins 20-28 ms into the call rather
than 6-14 ms), then a cold worker's first batches faulting in fresh memory pages (about 5,700
page faults a batch of 500 paired runs, against a few dozen once warm). So a run's pool is kept
for the next run (`kept_pool`), as joblib keeps its workers: for `KEPT_IDLE_SECONDS` of
idleness, or until `release_workers`. A kept pool serves a run only if it can run it as a new
one would: the same number of workers (a run of one round has one fewer, the caller running a
batch itself, so the same worker serves each such run and stays warm), alive and not broken,
and only relationships it knows (its workers were forked when it was made, so they hold only
the code that existed then: a relationship defined later gets a new pool, which knows it). A
pool busy with another thread's run is not shared: that run gets a pool of its own, shut down
after it. (The explorer keeps a pool of its own, `interfaces.explorer.pool`, passed to each run
as its executor: it abandons a run whenever a slider moves on, and a kept pool's workers would
be killed each time.)

Every worker ignores SIGINT (the caller is interrupted, not it) and exits once its parent has
gone. A run that is abandoned (an exception, Ctrl-C) kills its pool's workers at once
(`abandon`) rather than waiting for their batches.

The results do not depend on the pool: each replication draws from streams keyed by
``(replication, purpose)`` under the master seed, and the run's scenario, seed and
relationships travel with each batch.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from franchise_sim.engine import books_files, books_memory
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS
from franchise_sim.model.relationships.relationship import Relationships

KEPT_IDLE_SECONDS = 300.0
"""How long a kept pool waits idle for another run before its workers exit (as joblib's)."""

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


def worker_pool(workers: int, *, die_with_thread: bool = True) -> ProcessPoolExecutor:
    """A process pool whose workers ignore Ctrl-C and end with the process that made them.

    Each worker ignores SIGINT (the caller is interrupted, not it) and exits once its parent
    has gone: at once on Linux, or within a second by watching the parent's pid.

    Args:
        workers: How many worker processes.
        die_with_thread: Let Linux kill a worker the moment the *thread* that started it ends
            (``PR_SET_PDEATHSIG`` acts on the thread, not the process). A pool starts its
            workers from the thread that first submits to it; a pool kept beyond that thread
            (a kept pool made off the main thread, the explorer's) must say False, and its
            workers then rely on the watch of the parent's pid.
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
def sigint_blocked() -> Iterator[None]:
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


def start_workers(pool: ProcessPoolExecutor, workers: int) -> None:
    """Have a new pool start its worker processes now, with SIGINT blocked as they need."""
    with sigint_blocked():
        for _ in range(workers):
            pool.submit(os.getpid)


def abandon(pool: Executor) -> None:
    """Stop a pool of this module's at once: kill its workers and cancel what is queued.

    A worker may be in the middle of a batch or blocked writing one to the pipe; waiting for it
    could take minutes, so it is killed, not asked.
    """
    processes = list(_workers(pool).values())
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
    for process in processes:
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5.0)
    if manager is not None:  # it notices the dead workers and closes the pool's pipes
        manager.join(timeout=5.0)  # before the interpreter's exit hook would write to them


def _workers(pool: Executor) -> dict[int, Any]:
    """A process pool's worker processes by pid (none for another executor, or before any)."""
    processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
    return processes


@dataclass(eq=False)
class _Kept:
    """A pool kept between runs, and what it can run.

    Attributes:
        pool: The pool.
        processes: Its worker processes.
        pid: The process that made it (a child forked from that one cannot use it).
        known: The relationships its workers hold the code of: the shipped ones and those of
            the run that made it (held, so that their ids stay theirs).
        busy: A run is using it.
        idle: The timer that lets it go after `KEPT_IDLE_SECONDS` without a run.
    """

    pool: ProcessPoolExecutor
    processes: int
    pid: int
    known: list[object]
    busy: bool = True
    idle: threading.Timer | None = field(default=None, repr=False)

    def fits(self, processes: int, relationships: Relationships) -> bool:
        """Whether it can run a run of ``processes`` processes and these relationships."""
        workers = list(_workers(self.pool).values())
        return (
            processes == self.processes
            and not getattr(self.pool, "_broken", False)
            and len(workers) == self.processes
            and all(worker.is_alive() for worker in workers)
            and all(any(rel is k for k in self.known) for rel in relationships)
        )


class _Slot:
    """Where this process keeps its pool between runs (one at a time), under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kept: _Kept | None = None


_SLOT = _Slot()


@contextmanager
def kept_pool(processes: int, relationships: Relationships) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``processes`` workers for one run: the kept one if it fits, else a new one.

    Once the run is over the pool is kept for the next (a pool made because the kept one was
    busy is shut down instead). If the run is abandoned, the pool's workers are killed at once
    and it is not kept.

    Args:
        processes: The pool's worker processes.
        relationships: The relationships the run's batches carry.
    """
    kept = _lease(processes, relationships)
    pool = worker_pool(processes) if kept is None else kept.pool
    if kept is None:
        start_workers(pool, processes)
    try:
        yield pool
    except BaseException:
        abandon(pool)
        if kept is not None:
            _forget(kept)
        raise
    if kept is None:
        pool.shutdown(wait=True)
    else:
        _keep(kept)


def _lease(processes: int, relationships: Relationships) -> _Kept | None:
    """The kept pool, now busy (made if there is none or it does not fit); None if it is busy."""
    retired: _Kept | None = None
    with _SLOT.lock:
        kept = _SLOT.kept
        if kept is not None and kept.pid != os.getpid():  # inherited by a fork: not ours
            kept = _SLOT.kept = None
        if kept is not None and kept.busy:
            return None
        if kept is not None and kept.fits(processes, relationships):
            kept.busy = True
            if kept.idle is not None:
                kept.idle.cancel()
            return kept
        retired = kept
        # Workers started off the main thread would die with that thread (PR_SET_PDEATHSIG).
        on_main = threading.current_thread() is threading.main_thread()
        kept = _Kept(
            worker_pool(processes, die_with_thread=on_main),
            processes,
            os.getpid(),
            [*DEFAULT_RELATIONSHIPS, *relationships],
        )
        _SLOT.kept = kept
    if retired is not None:
        _shut(retired, wait=False)
    start_workers(kept.pool, processes)
    return kept


def _keep(kept: _Kept) -> None:
    """A run is done with the kept pool: free for the next, let go after a while idle."""
    with _SLOT.lock:
        kept.busy = False
        if _SLOT.kept is not kept:  # pragma: no cover - the slot is not changed while busy
            return
        kept.idle = threading.Timer(KEPT_IDLE_SECONDS, _release, args=(kept,))
        kept.idle.daemon = True
        kept.idle.start()


def _forget(kept: _Kept) -> None:
    """The kept pool is abandoned (`abandon` has shut it down): no longer kept."""
    with _SLOT.lock:
        if _SLOT.kept is kept:
            _SLOT.kept = None
    if kept.idle is not None:
        kept.idle.cancel()


def release_workers() -> None:
    """Let the kept pool's workers exit now (they would after `KEPT_IDLE_SECONDS` idle).

    For a caller who wants its memory back, or who changed the package's code in this process
    (a worker holds the code it was forked with). A pool busy with a run is left to it. The
    books files kept for the next run's hand-over go too (`books_files.release`), and the memory
    kept for the next run's books (`books_memory.release`).
    """
    _release(None, wait=True)
    books_files.release()
    books_memory.release()


def _release(only: _Kept | None, *, wait: bool = False) -> None:
    """Shut the kept pool down and keep it no more, unless a run is using it.

    Args:
        only: Only if it is this one (the one a timer was set for); any if None.
        wait: Wait for its workers to exit.
    """
    with _SLOT.lock:
        kept = _SLOT.kept
        if kept is None or kept.busy or kept.pid != os.getpid():
            return
        if only is not None and kept is not only:
            return
        _SLOT.kept = None
    _shut(kept, wait=wait)


def _shut(kept: _Kept, *, wait: bool) -> None:
    """Cancel a kept pool's idle timer and shut the pool down."""
    if kept.idle is not None:
        kept.idle.cancel()
    kept.pool.shutdown(wait=wait, cancel_futures=True)


def kept_workers() -> tuple[int, ...]:
    """The pids of the kept pool's workers (none when no pool is kept)."""
    with _SLOT.lock:
        kept = _SLOT.kept
        if kept is None or kept.pid != os.getpid():
            return ()
        return tuple(sorted(_workers(kept.pool)))
