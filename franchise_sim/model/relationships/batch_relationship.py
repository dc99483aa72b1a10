"""What a relationship a business can enter declares to the batch engine, as a plain value.

A franchise is one such relationship; a partnership, outsourcing or a marketing alliance joins
the model the same way, as a further `Relationship` in the set handed to the engine (and carried
to every worker with it), without edits to the core. A relationship declares its name (its
section in an arm's plan), the cost lines it may charge, the counters it reports per arm and
replication, and how it attaches its actor to one arm's business over a batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model.calendar import Calendar

if TYPE_CHECKING:
    from franchise_sim.model.batch_business import VectorBusiness
    from franchise_sim.model.batch_randomness import BatchStreams


class Partner(Protocol):
    """The actor a relationship attaches to one arm's business over a batch."""

    def counter(self, name: str) -> NDArray[np.float64]:
        """One of the relationship's counters, per replication of the batch."""
        ...


Attach = Callable[[simpy.Environment, Calendar, "VectorBusiness", "BatchStreams"], Partner | None]
"""Builds the relationship's actor for one arm over a batch, or returns None if it has none.

Attach must be a module-level function (it travels to worker processes by reference).
"""


@dataclass(frozen=True, slots=True)
class Relationship:
    """A kind of relationship the model knows.

    Attributes:
        name: Its name (the section of an arm's plan it reads).
        cost_lines: Cost lines it may charge, in order.
        counters: Numbers it reports per arm and replication (0 where an arm has none).
        attach: Builds its actor for one arm's business.
    """

    name: str
    cost_lines: tuple[str, ...]
    counters: tuple[str, ...]
    attach: Attach


Relationships = tuple[Relationship, ...]
"""The set of relationships a model is composed of, in order."""


def cost_lines(relationships: Relationships) -> tuple[str, ...]:
    """Every cost line the relationships may charge, in order."""
    return tuple(line for rel in relationships for line in rel.cost_lines)
