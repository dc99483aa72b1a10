"""The open set of inter-organizational relationships a business can enter.

A franchise is one such relationship; partnerships, outsourcing, trade associations or
marketing alliances can join the model later the same way, as further actors, without edits to
the core. A relationship registers under the name of its section in an arm's plan, declares the
cost lines it may charge, and attaches its actor to a business when that arm has its section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import simpy

from franchise_sim.model.business import Business
from franchise_sim.model.calendar import Calendar
from franchise_sim.model.randomness import ReplicationStreams

Attach = Callable[[simpy.Environment, Calendar, Business, ReplicationStreams], object | None]
"""Builds the relationship's actor for one business, or returns None if the arm has none."""


@dataclass(frozen=True, slots=True)
class Relationship:
    """A kind of relationship the model knows."""

    name: str
    cost_lines: tuple[str, ...]
    attach: Attach


RELATIONSHIPS: dict[str, Relationship] = {}
"""Registered relationships, by name."""


def register_relationship(name: str, cost_lines: tuple[str, ...], attach: Attach) -> None:
    """Make a relationship available to every arm whose plan has it."""
    RELATIONSHIPS[name] = Relationship(name, cost_lines, attach)


def relationship_cost_lines() -> tuple[str, ...]:
    """Every cost line a registered relationship may charge, in registration order."""
    return tuple(line for rel in RELATIONSHIPS.values() for line in rel.cost_lines)
