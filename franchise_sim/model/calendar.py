"""The month and the order of what happens within it.

Time is measured in months since opening. Random events fire at any moment; the books are
kept monthly. At the end of month ``m`` (simulation time ``m``) the calendar runs five phases,
in this order, and every actor waits for the phase it acts in:

1. ``OPEN``: the market turns the season.
2. ``TRADE``: each business wins and loses customers, serves visits up to capacity, books its
   sales and pays its running costs.
3. ``SETTLE``: franchisors collect their fees on the month's sales; lenders collect the loan
   instalment. Charges in this phase commute, so their order does not matter.
4. ``CLOSE_BOOKS``: each owner covers a shortfall from savings, takes a draw, decides to go on.
5. ``REPORT``: each business records the month.

An event that fires during month ``m`` (between times ``m - 1`` and ``m``) is therefore felt in
month ``m``'s books: a recession, a competitor, a brand shock or a franchisor failure changes
the state the month's trade reads; a repair bill lands on the month's ledger.
"""

from __future__ import annotations

from collections.abc import Generator
from enum import IntEnum
from typing import Any

import simpy


class Phase(IntEnum):
    """Steps of a month, in the order they run."""

    OPEN = 0
    TRADE = 1
    SETTLE = 2
    CLOSE_BOOKS = 3
    REPORT = 4


class Calendar:
    """Drives the months: one SimPy event per phase per month, triggered in order.

    All five events of a month are triggered together at the month's end; SimPy processes
    them in the order triggered, and an actor resumed by one phase registers for the next
    before that one is processed.
    """

    def __init__(self, env: simpy.Environment, horizon_months: int) -> None:
        self.env = env
        self.horizon_months = horizon_months
        self.month = 0
        self._current = [env.event() for _ in Phase]
        self._upcoming = self._current
        env.process(self._run())

    def next(self, phase: Phase) -> simpy.Event:
        """The next event of ``phase`` not yet past; its value is the month number."""
        event = self._current[phase]
        return self._upcoming[phase] if event.processed else event

    def _run(self) -> Generator[simpy.Event, Any, None]:
        for month in range(1, self.horizon_months + 1):
            yield self.env.timeout(1)
            self.month = month
            self._current = self._upcoming
            self._upcoming = [self.env.event() for _ in Phase]
            for event in self._current:
                event.succeed(month)
