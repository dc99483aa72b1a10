"""The memory a process keeps for its runs' books between runs (`engine.books_memory`).

Memory is lent again only once no array sees it (the results' books, or any view of them), so a
run never writes over books a caller still holds; it is kept up to a budget and let go on
request.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import franchise_sim
from franchise_sim.engine import books_memory
from franchise_sim.scenario.schema import Scenario

SHAPE = (2, 30, 12, 5)
NBYTES = 2 * 30 * 12 * 5 * 8


def _address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def test_books_memory_comes_back_only_once_no_view_of_it_is_left() -> None:
    shelf = books_memory.Shelf()
    books = shelf.take(SHAPE)
    assert books.shape == SHAPE
    assert books.dtype == np.float64
    assert books.flags.c_contiguous
    assert books.flags.writeable
    first = _address(books)
    books[...] = 1.0
    views = [books[:, 3:].T, books.reshape(-1)[5:], books[..., 0], books.view(np.int64)]
    del books
    assert shelf.kept() == (0, NBYTES)  # the views still see it: lent
    other = shelf.take(SHAPE)
    assert not any(np.shares_memory(other, view) for view in views)
    other[...] = 2.0
    assert all((view.view(np.float64) == 1.0).all() for view in views)  # untouched
    del views
    assert shelf.kept() == (NBYTES, NBYTES)  # the first free; the second lent
    again = shelf.take(SHAPE)
    assert _address(again) == first


def test_a_copy_of_the_books_does_not_hold_their_memory() -> None:
    shelf = books_memory.Shelf()
    books = shelf.take(SHAPE)
    copies = [np.array(books), books[[0, 1]], books.copy()]
    del books
    assert shelf.kept() == (NBYTES, 0)
    assert not any(np.shares_memory(copy, shelf.take(SHAPE)) for copy in copies)


def test_books_memory_is_kept_up_to_its_budget_free_buffers_of_other_sizes_giving_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(books_memory, "KEPT_BYTES", 2 * NBYTES)
    shelf = books_memory.Shelf()
    held = [shelf.take(SHAPE), shelf.take(SHAPE)]
    assert shelf.kept() == (0, 2 * NBYTES)
    beyond = shelf.take(SHAPE)  # no room beside the two lent: plain memory, never kept
    del beyond
    assert shelf.kept() == (0, 2 * NBYTES)
    del held
    assert shelf.kept() == (2 * NBYTES, 0)
    larger = shelf.take((2, 30, 12, 10))  # the free ones of another size make way
    assert shelf.kept() == (0, 2 * NBYTES)
    del larger
    too_large = shelf.take((2, 30, 12, 11))
    del too_large
    assert shelf.kept() == (2 * NBYTES, 0)  # more than the budget: not kept, nothing made way
    assert shelf.take((0, 3)).shape == (0, 3)


def test_released_memory_is_not_kept_even_when_its_results_let_go_later() -> None:
    shelf = books_memory.Shelf()
    held, free = shelf.take(SHAPE), shelf.take((4, 5))
    del free
    shelf.release()
    assert shelf.kept() == (0, 0)
    del held
    assert shelf.kept() == (0, 0)


def test_a_forked_process_forgets_the_memory_its_parent_lent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shelf = books_memory.Shelf()
    held, free = shelf.take(SHAPE), shelf.take((4, 5))
    del free
    parent = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent + 1)  # as a fork's child sees it
    assert shelf.kept() == (0, 0)
    del held  # the parent's results let go: nothing of the child's comes back
    assert shelf.kept() == (0, 0)


def test_a_run_never_writes_over_the_books_of_results_still_held(
    shipped_auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    shelf = books_memory.Shelf()
    monkeypatch.setattr(books_memory, "SHELF", shelf)

    def books(seed: int) -> franchise_sim.SimulationResults:
        return franchise_sim.simulate(
            shipped_auto_repair, runs=40, workers=2, seed=seed, horizon_months=12
        )

    first = books(1)
    assert first.kept_books is not None
    kept = first.kept_books.copy()
    second = books(2)  # the first still held: other memory
    assert second.kept_books is not None
    assert not np.shares_memory(first.kept_books, second.kept_books)
    assert np.array_equal(first.kept_books, kept)
    address = _address(first.kept_books)
    del first
    third = books(1)  # the first's memory, free again, and its own books in it
    assert third.kept_books is not None
    assert _address(third.kept_books) == address
    assert np.array_equal(third.kept_books, kept)
