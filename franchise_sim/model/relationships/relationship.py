"""What a relationship a business can enter declares to the batch engine, as a plain value.

A franchise is one such relationship; a partnership, outsourcing or a marketing alliance joins
the model the same way, as a further `Relationship` in the set handed to the engine (and carried
to every worker with it), without edits to the core. A relationship declares its name (its
section in an arm's plan), the cost lines it may charge, the monthly columns it records (the
customers it brought, the owner's hours it took), the counters it reports per arm and
replication, how it attaches its actor to one arm's business over a batch, and the arm section
it acts from (`Relationship.section`): a run carries only the relationships some arm of its
scenario can hold (`in_use`), so its books have no columns that are zero by construction.

A relationship reads its own section of the arm (`ArmTerms.section`) and draws its uncertain
terms with `ArmTerms.draw`, keyed by the field's dotted path within the arm (for example
``partnership.referrals_per_100_partner_customers``): every arm holding the same relationship
draws the same uniforms (common random numbers), and nothing in the core changes for a new form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import simpy
from numpy.typing import NDArray

from franchise_sim.model.calendar import Calendar
from franchise_sim.model.draws import BatchDraws
from franchise_sim.scenario.distributions import Uncertain, mean_of
from franchise_sim.scenario.schema import Arm

if TYPE_CHECKING:
    from franchise_sim.model.business import Business
    from franchise_sim.model.streams import BatchStreams


class Partner(Protocol):
    """The actor a relationship attaches to one arm's business over a batch."""

    def counter(self, name: str) -> NDArray[np.float64]:
        """One of the relationship's counters, per replication of the batch."""
        ...


@dataclass(frozen=True, slots=True)
class ArmTerms:
    """What a relationship reads of the arm it may attach to, over a batch of replications.

    Attributes:
        arm: The arm as the scenario resolves it; None where the engine runs bare plans.
        size: Replications in the batch.
        draws: The batch's keyed draws (`draws.BatchDraws`); None draws every value at its mean.
    """

    arm: Arm | None
    size: int
    draws: BatchDraws | None = None

    @property
    def at_mean(self) -> bool:
        """Whether the batch runs at expected values (the plan on paper): no chance events."""
        return self.draws is None

    def section(self, name: str) -> Any:
        """The arm's section ``name`` (a relationship's terms), or None if it has none."""
        return None if self.arm is None else getattr(self.arm, name, None)

    def draw(self, value: Uncertain, key: str) -> NDArray[np.float64]:
        """Each replication's draw of ``value`` under the draw key ``key`` (its dotted path).

        A fixed number is itself everywhere; without draws (the plan on paper, a deterministic
        run) an uncertain value is its mean.
        """
        if isinstance(value, int | float):
            return np.full(self.size, float(value))
        if self.draws is None:
            return np.full(self.size, mean_of(value))
        return self.draws.drawn_array(value, key).copy()  # the kept array stays as drawn


Attach = Callable[
    [simpy.Environment, Calendar, "Business", "BatchStreams", ArmTerms], Partner | None
]
"""Builds the relationship's actor for one arm over a batch, or returns None if it has none.

Attach must travel to worker processes: a module-level function (pickled by reference) or a
value of one, such as `AttachBySection`.
"""


@dataclass(frozen=True, slots=True)
class AttachBySection:
    """The attach of a form whose actor is built from the arm's section of the form's name.

    Calls ``actor(env, calendar, business, streams, terms, section)`` for an arm holding the
    section, and returns None for one without it.

    Attributes:
        name: The section the form reads (its `Relationship.section`, which is its name).
        actor: The actor's class (module-level, so the value pickles by reference).
    """

    name: str
    actor: Callable[..., Partner]

    def __call__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        business: Business,
        streams: BatchStreams,
        terms: ArmTerms,
    ) -> Partner | None:
        """The actor for an arm holding the section, else None."""
        section = terms.section(self.name)
        if section is None:
            return None
        return self.actor(env, calendar, business, streams, terms, section)


@dataclass(frozen=True, slots=True)
class Relationship:
    """A kind of relationship the model knows.

    Attributes:
        name: Its name (a shipped form's is also the section of an arm it reads).
        cost_lines: Cost lines it may charge, in order.
        counters: Numbers it reports per arm and replication (0 where an arm has none). A
            name ending in ``_month`` is the month something happened (0: it did not).
        attach: Builds its actor for one arm's business.
        columns: Monthly columns it records (`Business.record`), in order.
        section: The arm section it acts from: an arm without that section gets no actor, so
            a scenario none of whose arms holds it has no use for its lines, columns and
            counters (`in_use`). None: it may act in any arm (its attach decides), and is
            always kept.
    """

    name: str
    cost_lines: tuple[str, ...]
    counters: tuple[str, ...]
    attach: Attach
    columns: tuple[str, ...] = ()
    section: str | None = None

    def acts_in(self, arm: Arm) -> bool:
        """Whether the relationship may act in ``arm``: it holds its section, or it has none."""
        return self.section is None or getattr(arm, self.section, None) is not None


Relationships = tuple[Relationship, ...]
"""The set of relationships a model is composed of, in order."""


def in_use(relationships: Relationships, arms: Iterable[Arm]) -> Relationships:
    """The relationships that may act in some arm of ``arms`` (`Relationship.acts_in`), in order.

    The others would attach no actor anywhere: their cost lines, columns and counters would be
    zero in every arm, replication and month, so a run composed without them keeps the same
    books in every column it has.
    """
    held = tuple(arms)
    return tuple(rel for rel in relationships if any(rel.acts_in(arm) for arm in held))


def cost_lines(relationships: Relationships) -> tuple[str, ...]:
    """Every cost line the relationships may charge, in order."""
    return tuple(line for rel in relationships for line in rel.cost_lines)


def recorded_columns(relationships: Relationships) -> tuple[str, ...]:
    """Every monthly column the relationships record, in order."""
    return tuple(column for rel in relationships for column in rel.columns)
