"""Memory for a run's books, kept between runs: fresh memory costs more than it seems.

A full run of more than one batch puts every batch's books into one array of the run's
(`runner._FullReduction`): 29 MB for 1,000 paired runs x 60 months. Filling memory the system
hands the process anew costs fresh pages: 70-80 ms for 29 MB here at worst (on a virtual machine
whose host takes back the pages a guest frees; less where the host has not yet), against about
4 ms for memory the process used before. A process would pay that on its second run (the first
run's books went back to the system) and whenever memory given back by an earlier run's results
had gone back to the system by the next (a notebook cell run again, the explorer's next update).
So a process keeps the memory of up to `KEPT_BYTES` of run books, as it keeps its books files
(`books_files`), and lends it again to a run of the same size once no array uses it any more.

When is it free? `run_books` lends each buffer through an array made for that run alone
(``np.frombuffer``, whose base is a memoryview, not an array). numpy points every view, slice,
reshape or transpose of an array at the first array of its chain whose base is not an array of
the same type, which is that one; so the lending array lives while any array that sees the
memory does, and the buffer comes back to the shelf when it dies (``weakref.finalize``). A copy
(``np.array``, fancy indexing, pickling) owns memory of its own. Nothing here is a global of
numpy's or Python's: the kept memory goes with `release` or the process.
"""

from __future__ import annotations

import math
import os
import threading
import weakref

import numpy as np
from numpy.typing import NDArray

KEPT_BYTES = 64 * 2**20
"""Most bytes of run books a process keeps for its next runs; a larger run's are not kept."""


class Shelf:
    """The buffers a process keeps for run books: lent to one run at a time, or free."""

    def __init__(self) -> None:
        # Re-entrant: a buffer can come back (its lending array collected) while this process
        # holds the lock to take one, when the collector runs inside `take`.
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._free: list[NDArray[np.uint8]] = []
        self._lent: dict[int, NDArray[np.uint8]] = {}  # by id, while an array sees it

    def take(self, shape: tuple[int, ...]) -> NDArray[np.float64]:
        """An uninitialised C-ordered float array of this shape, in kept memory where it can be.

        A free buffer of exactly its size serves it; else new memory, kept once the run's
        results let go of it if it fits in `KEPT_BYTES` beside what is kept (free buffers of
        other sizes give way to it).
        """
        nbytes = math.prod(shape) * np.dtype(np.float64).itemsize
        with self._lock:
            self._own()
            for i, buffer in enumerate(self._free):
                if buffer.nbytes == nbytes:
                    return self._lend(self._free.pop(i), shape)
            if nbytes == 0 or self._lent_bytes() + nbytes > KEPT_BYTES:
                return np.empty(shape)  # no room even were every free buffer to go
            while self._kept_bytes() + nbytes > KEPT_BYTES:
                self._free.pop(0)  # the oldest first
            return self._lend(np.empty(nbytes, dtype=np.uint8), shape)

    def _lend(self, buffer: NDArray[np.uint8], shape: tuple[int, ...]) -> NDArray[np.float64]:
        """The buffer as books through an array of its own, whose death gives it back."""
        # Through a memoryview: from an array, numpy would make the buffer itself the base,
        # and views would point past the lending array at it.
        lending = np.frombuffer(buffer.data, dtype=np.float64)
        self._lent[id(buffer)] = buffer
        weakref.finalize(lending, self._give_back, buffer, self._pid).atexit = False
        return lending.reshape(shape)

    def _give_back(self, buffer: NDArray[np.uint8], pid: int) -> None:
        """No array sees the buffer any more: free for the next run (if still kept)."""
        with self._lock:
            if pid != self._pid or self._lent.pop(id(buffer), None) is None:
                return  # lent before a fork or a `release`: not this shelf's any more
            if self._kept_bytes() + buffer.nbytes <= KEPT_BYTES:
                self._free.append(buffer)

    def _kept_bytes(self) -> int:
        """Bytes kept, lent and free (under the lock)."""
        return self._free_bytes() + self._lent_bytes()

    def _free_bytes(self) -> int:
        """Bytes free for the next run (under the lock)."""
        return sum(b.nbytes for b in self._free)

    def _lent_bytes(self) -> int:
        """Bytes lent to results that still hold them (under the lock)."""
        return sum(b.nbytes for b in self._lent.values())

    def release(self) -> None:
        """Let the free buffers go, and the lent ones once their runs' results do."""
        with self._lock:
            self._free.clear()
            self._lent.clear()

    def kept(self) -> tuple[int, int]:
        """Bytes kept: free for the next run, and lent to results that still hold them."""
        with self._lock:
            self._own()
            return self._free_bytes(), self._lent_bytes()

    def _own(self) -> None:
        """Forget buffers inherited through a fork: the parent's results use them (locked)."""
        if self._pid != os.getpid():
            self._pid, self._free, self._lent = os.getpid(), [], {}


SHELF = Shelf()
"""This process's kept memory for run books."""


def run_books(shape: tuple[int, ...]) -> NDArray[np.float64]:
    """An uninitialised float array for a run's books, in kept memory where it can be."""
    return SHELF.take(shape)


def kept() -> tuple[int, int]:
    """Bytes of run books memory this process keeps: free, and lent to live results."""
    return SHELF.kept()


def release() -> None:
    """Let go of the run books memory kept for the next runs (lent memory once it is free)."""
    SHELF.release()
