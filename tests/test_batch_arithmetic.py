"""The batch engine's shortcuts give the numbers of the plain loops they stand for, to the bit.

The books must not change by one bit (tests/test_batch_engine.py holds them to the engine's
oracle); these check the shortcuts themselves on inputs where the order of a sum shows.
"""

from __future__ import annotations

import numpy as np
import pytest

from franchise_sim.model.business import sum_rows


def _loop_sum(rows: np.ndarray) -> np.ndarray:
    """``0 + rows[0] + rows[1] + ...`` as the books once added the cost lines."""
    total = np.zeros(rows.shape[1])
    for row in rows:
        total = total + row
    return total


def _where_order_shows(lines: int, size: int, seed: int) -> np.ndarray:
    """Cost lines whose sum depends on the order they are added in (big and small mixed)."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-3, 17, size=(lines, size))
    return rng.standard_normal((lines, size)) * scale


@pytest.mark.parametrize("lines", [0, 1, 2, 7, 8, 9, 16, 21, 33])
def test_rows_are_summed_in_order(lines: int) -> None:
    shown = 0
    for size in (1, 2, 3, 8, 17, 500):
        rows = _where_order_shows(lines, size, seed=lines * 1000 + size)
        expected = _loop_sum(rows)
        assert sum_rows(rows).tobytes() == expected.tobytes()
        assert sum_rows(np.asfortranarray(rows)).tobytes() == expected.tobytes()
        picked = np.flatnonzero(np.arange(size) % 3 != 1)
        assert sum_rows(rows[:, picked]).tobytes() == expected[picked].tobytes()
        if lines > 8:
            pairwise = np.sum(np.ascontiguousarray(rows.T), axis=1)  # along the contiguous axis
            shown += int(pairwise.tobytes() != expected.tobytes())
    assert lines <= 8 or shown  # a sum in another order differs: the cases can tell
