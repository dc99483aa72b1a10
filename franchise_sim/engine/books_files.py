"""How the workers of a local process pool hand a batch's books to the parent: through files.

A pipe carries 30 MB of books (1,000 paired runs x 60 months) in 64 kB reads, each copied twice
more before the parent has its array; a file is read straight into the run's array. Writing a
new file costs more than it seems, though: the system must find fresh pages for it, and a batch
of 500 paired runs took 33-50 ms to write its 15 MB that way here (on a virtual machine whose
host takes back the pages a guest frees), against 1.5-3 ms to write over a file of that size
already in memory. So a process keeps its files between runs (`Shelf`), as it keeps its pool
(`engine.pool`), and each run writes over them.

Kept files never carry one run's books into another: each run's hand-over has a token of its
own, which the worker writes after the books, and the parent reads the books only after the
batch has finished and checks the token. The parent makes every file before it submits a
batch, and a worker only opens one (never creates it). An abandoned run's files go back to the
shelf as soon as nothing can write them any more: at once for a batch that never started, when
its batch ends for one still running. Files live in
the system's temporary folder (``TMPDIR``), in a folder named after the process; at most
`KEPT_BYTES` of them are kept, and they go when the process exits or `release` is called. A
process killed before it could remove them leaves them behind, until the next process to make a
folder sees that its owner has gone and removes it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

KEPT_BYTES = 64 * 2**20
"""Most bytes of books files a process keeps for its next runs; a larger file goes at once."""

_TOKEN_BYTES = 16


class Shelf:
    """The books files a process keeps between runs, lent to one run at a time, under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: str | None = None
        self._pid = os.getpid()
        self._free: list[str] = []
        self._made = 0

    def take(self) -> str:
        """A file for one batch of a run: a kept one, else a new, empty one."""
        with self._lock:
            self._own()
            if self._free:
                return self._free.pop()
            if self._folder is None or not os.path.isdir(self._folder):
                _sweep_stale_folders()
                self._folder = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-")
            path = os.path.join(self._folder, f"{self._made}.books")
            self._made += 1
        with open(path, "wb"):
            pass
        return path

    def give_back(self, paths: list[str]) -> None:
        """Keep a finished run's files for the next, up to `KEPT_BYTES`; remove the rest."""
        with self._lock:
            self._own()
            kept = sum(_size(path) for path in self._free)
            for path in paths:
                size = _size(path)
                if size >= 0 and kept + size <= KEPT_BYTES:
                    self._free.append(path)
                    kept += size
                else:
                    _remove(path)

    def release(self) -> None:
        """Remove every kept file and the folder (files lent to a run go when it ends)."""
        with self._lock:
            if self._pid != os.getpid():
                return
            for path in self._free:
                _remove(path)
            self._free.clear()
            folder = self._folder
            with contextlib.suppress(OSError):  # gone already, or not ours to read
                if folder is not None and not os.listdir(folder):
                    shutil.rmtree(folder, ignore_errors=True)
                    self._folder = None

    def kept(self) -> tuple[str, ...]:
        """The files kept for the next runs."""
        with self._lock:
            self._own()
            return tuple(self._free)

    def _own(self) -> None:
        """Forget files inherited through a fork: they are the parent's (under the lock)."""
        if self._pid != os.getpid():
            self._pid, self._folder, self._free, self._made = os.getpid(), None, [], 0


_PREFIX = "franchise-sim-books-"
"""Start of a shelf's folder's name, followed by the pid of the process that made it."""


def _sweep_stale_folders() -> None:
    """Remove the books folders of processes that have gone (killed before they could)."""
    folder = tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            pid = entry.name[len(_PREFIX) :].split("-", 1)[0]
            if entry.name.startswith(_PREFIX) and pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process of this pid is running, or may be (one of another user's; Windows).

    Signal 0 only asks on POSIX; on Windows ``os.kill`` would end the process, so there every
    folder is taken for a living process's and left alone.
    """
    if pid == os.getpid() or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # there, but not ours to signal
        return True
    return True


def _size(path: str) -> int:
    """A file's size, or -1 if it is gone."""
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def _remove(path: str) -> None:
    """Remove a file if it is there and can go (Windows keeps one a worker still has open)."""
    with contextlib.suppress(OSError):
        os.unlink(path)


SHELF = Shelf()
"""This process's kept books files."""
atexit.register(SHELF.release)


def release() -> None:
    """Remove the books files this process keeps for its next runs (`Shelf.release`)."""
    SHELF.release()


class BooksFiles:
    """One run's books files, one per batch sent to the pool, lent by a `Shelf`.

    Args:
        batches: The batches the pool runs.
        shelf: Where the files come from and go back to (this process's `SHELF` if None).
    """

    def __init__(self, batches: list[range], shelf: Shelf | None = None) -> None:
        shelf = SHELF if shelf is None else shelf
        self.token = os.urandom(_TOKEN_BYTES)
        self._paths = {batch.start: shelf.take() for batch in batches}
        self._shelf: Shelf | None = shelf

    def __getstate__(self) -> dict[str, object]:
        """What a worker needs: the token and the paths (not the parent's shelf)."""
        return {"token": self.token, "_paths": self._paths, "_shelf": None}

    def path(self, batch: range) -> str:
        """The file of the batch starting at ``batch.start``."""
        return self._paths[batch.start]

    def write(self, batch: range, monthly: NDArray[np.float64]) -> None:
        """A worker's side: write a batch's books (C order), then the run's token, over its file.

        The file is opened, never created (its run may have been abandoned and the file gone),
        and never cut short first: writing over pages already in memory is what keeps it cheap.
        """
        handle = os.open(self.path(batch), os.O_WRONLY | getattr(os, "O_BINARY", 0))
        with open(handle, "wb", closefd=True) as file:
            file.write(np.ascontiguousarray(monthly).data.cast("B"))
            file.write(self.token)

    def read(self, batch: range, into: NDArray[np.float64]) -> None:
        """The parent's side: read a batch's books into ``into`` (its arms' rows), once finished.

        ``into`` is the run's array at the batch's replications, (arm, replication, month,
        column): each arm's rows are one contiguous block, read in place.

        Raises:
            OSError: The file is cut short or does not end in this run's token.
        """
        with open(self.path(batch), "rb") as file:
            for block in into:
                view = block.data.cast("B")
                if file.readinto(view) != view.nbytes:
                    raise OSError(f"the books of replications {batch.start:,} on are cut short")
            if file.read(_TOKEN_BYTES) != self.token:
                raise OSError(f"the books of replications {batch.start:,} on are not this run's")

    def finish(self) -> None:
        """The run is over and nothing writes its files any more: they go back to the shelf."""
        shelf, self._shelf = self._shelf, None
        if shelf is not None:
            shelf.give_back(list(self._paths.values()))

    def abandoned(self, unfinished: Mapping[Future[Any], range]) -> None:
        """The run is abandoned: each file goes back to the shelf once nothing can write it.

        A batch taken, cancelled before it started or never sent, at once; a batch still
        running (or killed with its pool), when its future is done. So the next run, an
        explorer's after a slider moved on, writes over kept files too.

        Args:
            unfinished: The futures of the batches sent and not yet taken, and their batches.
        """
        shelf, self._shelf = self._shelf, None
        if shelf is None:
            return
        later = {}
        for future, batch in unfinished.items():
            if not future.cancel():  # running, or done but not taken: wait for it to end
                later[batch.start] = future
        shelf.give_back([path for start, path in self._paths.items() if start not in later])
        for start, future in later.items():
            future.add_done_callback(partial(_give_back_once_done, shelf, self._paths[start]))


def _give_back_once_done(shelf: Shelf, path: str, _: Future[Any]) -> None:
    """A done callback: the batch that was writing ``path`` has ended, so it can go back."""
    shelf.give_back([path])
