"""Where a simulation's batches run besides the local process pool: a Dask cluster.

``simulate`` runs on a process pool of its own unless given an executor; this module turns a
``dask.distributed.Client`` into one (``client.get_executor(pure=False)``: every batch is a
task of its own, never deduplicated) and starts or reaches a cluster for the command line.
Dask is an optional extra (``pip install 'franchise-sim[dask]'``), imported only here and only
when asked for, so a plain install never needs it.

The results do not depend on where the batches ran: each replication draws from streams keyed
by ``(replication, purpose)`` under the master seed, whichever worker runs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

DASK_EXTRA = "pip install 'franchise-sim[dask]'"
"""How to install what ``--executor dask`` needs."""

CONNECT_TIMEOUT_SECONDS = 5
"""How long to try to reach an existing scheduler before giving up."""


class ExecutorUnavailableError(RuntimeError):
    """Dask is not installed, or its cluster cannot be started or reached."""


def is_dask_client(executor: object) -> bool:
    """Whether ``executor`` is a ``dask.distributed.Client`` (without importing Dask)."""
    kind = type(executor)
    return kind.__module__.split(".")[0] == "distributed" and kind.__name__ == "Client"


def as_executor(executor: object) -> Executor:
    """A ``concurrent.futures.Executor`` for ``executor``: itself, or a Dask client's.

    Args:
        executor: A ``concurrent.futures.Executor`` or a ``dask.distributed.Client``.

    Raises:
        TypeError: Neither.
    """
    if isinstance(executor, Executor):
        return executor
    if is_dask_client(executor):
        client: Any = executor
        wrapped: Executor = client.get_executor(pure=False)
        return wrapped
    raise TypeError(
        "executor must be a concurrent.futures.Executor or a dask.distributed.Client, not "
        f"{type(executor).__name__}"
    )


def executor_workers(executor: object) -> int | None:
    """The tasks a Dask client's cluster runs at once (its worker threads); None otherwise."""
    if not is_dask_client(executor):
        return None
    client: Any = executor
    threads = sum(int(n) for n in client.nthreads().values())
    return max(1, threads)


@dataclass(frozen=True, slots=True)
class DaskCluster:
    """A Dask client for a run, and where it runs, in words.

    Attributes:
        client: The ``dask.distributed.Client``.
        where: ``"a local Dask cluster of 2 worker processes (dashboard http://...)"`` or
            ``"the Dask scheduler at tcp://... (4 worker threads)"``.
    """

    client: Any
    where: str


def _distributed() -> Any:
    """The ``distributed`` package, or a plain error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ExecutorUnavailableError(
            f"Dask is not installed; --executor dask and --scheduler need it ({DASK_EXTRA})"
        ) from None
    return distributed


@contextmanager
def dask_cluster(scheduler: str | None = None, *, workers: int = 1) -> Iterator[DaskCluster]:
    """A Dask client for the duration: on an embedded ``LocalCluster``, or on ``scheduler``.

    The embedded cluster has one single-threaded worker process per core (or ``workers``) and
    is closed on the way out, also when the run is interrupted. A cluster reached at
    ``scheduler`` is left running; only the client is closed.

    Args:
        scheduler: Address of a running scheduler (``tcp://host:8786``); None to start a local
            cluster.
        workers: Worker processes of a local cluster (the command line gives the cores).

    Raises:
        ExecutorUnavailableError: Dask is not installed, or the scheduler cannot be reached
            (one line saying why).
    """
    distributed = _distributed()
    if scheduler is None:
        count = workers
        try:
            cluster = distributed.LocalCluster(
                n_workers=count,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: never "port 8787 is in use"
                silence_logs=50,  # logging.CRITICAL: the run speaks for itself
            )
        except Exception as exc:
            raise ExecutorUnavailableError(f"cannot start a local Dask cluster ({exc})") from None
        try:
            client = distributed.Client(cluster)
            try:
                plural = "es" if count != 1 else ""
                yield DaskCluster(client, f"a local Dask cluster of {count} worker process{plural}")
            finally:
                client.close()
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(scheduler, timeout=f"{CONNECT_TIMEOUT_SECONDS}s")
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExecutorUnavailableError(
            f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({reason})"
        ) from None
    try:
        threads = executor_workers(client) or 0
        yield DaskCluster(
            client,
            f"the Dask scheduler at {client.scheduler.address} ({threads} worker thread"
            f"{'s' if threads != 1 else ''})",
        )
    finally:
        client.close()
