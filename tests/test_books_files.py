"""The books files a pool's workers hand batches back in, kept between runs (`engine.books_files`).

How a run's files come from the shelf and go back, never carry one run's books into another, and
are tidied after a process that could not tidy them itself. (A run handing its books over
through them, abandoned or not, is in ``tests/test_explorer.py``.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from franchise_sim.engine import books_files


def test_an_abandoned_runs_files_go_back_only_once_no_batch_can_write_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shelf = books_files.Shelf()
    batches = [range(0, 5), range(5, 10), range(10, 15), range(15, 20)]
    files = books_files.BooksFiles(batches, shelf)
    running: Future[None] = Future()
    running.set_running_or_notify_cancel()  # started: cannot be cancelled
    waiting: Future[None] = Future()  # not started: cancelled, never written
    files.abandoned({running: batches[1], waiting: batches[2]})
    assert waiting.cancelled()
    kept = {files.path(batches[i]) for i in (0, 2, 3)}  # taken, cancelled, never sent
    assert set(shelf.kept()) == kept
    running.set_result(None)  # the batch still running ends: its file goes back too
    assert set(shelf.kept()) == kept | {files.path(batches[1])}
    files.finish()  # nothing more to give back
    assert len(shelf.kept()) == 4
    shelf.release()
    assert list(tmp_path.iterdir()) == []


def test_a_shelf_removes_the_books_folders_of_processes_that_have_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = tmp_path / f"franchise-sim-books-{int(gone.stdout)}-abc"
    living = tmp_path / f"franchise-sim-books-{os.getppid()}-def"
    other = tmp_path / "franchise-sim-books-notes"
    for folder in (dead, living, other):
        folder.mkdir()
        (folder / "0.books").write_bytes(b"x" * 10)
    shelf = books_files.Shelf()
    path = Path(shelf.take())
    assert path.parent.name.startswith(f"franchise-sim-books-{os.getpid()}-")
    assert not dead.exists()  # its process has gone: nobody will remove it but us
    assert living.exists()  # a running process's
    assert other.exists()  # not named as a shelf names its folders
    shelf.give_back([str(path)])
    shelf.release()
    assert not path.parent.exists()


def test_kept_books_files_never_hand_one_runs_books_to_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shelf = books_files.Shelf()
    books = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    batch = range(0, 3)
    first = books_files.BooksFiles([batch], shelf)
    first.write(batch, books)
    into = np.empty_like(books)
    first.read(batch, into)
    np.testing.assert_array_equal(into, books)
    first.finish()
    second = books_files.BooksFiles([batch], shelf)
    assert second.path(batch) == first.path(batch)  # the kept file, with the first run's books
    with pytest.raises(OSError, match="not this run's"):
        second.read(batch, np.empty_like(books))  # the batch has not written it: refused
    second.write(batch, books[:, :2])  # a smaller batch writes over the start of it
    with pytest.raises(OSError, match="not this run's"):
        second.read(batch, np.empty_like(books))
    second.finish()
    monkeypatch.setattr(books_files, "KEPT_BYTES", books.nbytes)  # no room for it and a token
    third = books_files.BooksFiles([batch], shelf)
    third.finish()
    assert shelf.kept() == ()  # too large to keep: removed
    assert not os.path.exists(first.path(batch))
    fourth = books_files.BooksFiles([batch], shelf)
    with pytest.raises(OSError, match="cut short"):
        fourth.read(batch, np.empty_like(books))  # a new file, empty
    fourth.finish()
    shelf.release()
    assert list(tmp_path.iterdir()) == []


def test_on_windows_a_shelf_never_signals_a_process_to_see_whether_it_lives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``os.kill`` ends a process on Windows: there every folder's owner counts as alive."""
    signalled: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signalled.append(pid))
    monkeypatch.setattr(os, "name", "nt")
    assert books_files._alive(os.getpid() + 1)
    assert signalled == []
