"""The batch engine: one SimPy environment holding every arm of a batch of replications.

Each actor (the market, the shared events, each arm's business, lender and owner, and each
relationship's partner) is one SimPy process acting on numpy arrays over the batch's
replications, in its phase of the month (`calendar`); a business that has closed drops out of
its arrays' working set. Each replication's random events (competitors, recessions, breakdowns,
staff losses, a franchisor's failure and brand shocks, a personal exit) are SimPy events of
their own (`schedule.Act`), at their own times, drawn from the replication's own keyed streams,
and processed in their turn among the month's. The books are those of
the per-replication engine this one replaced, bit for bit (kept in
``tests/data/old_engine_books.npz``), and the same whatever the batch.

The set of relationships is a value handed to `run_batch` (`DEFAULT_RELATIONSHIPS` unless told),
so a worker process runs the model its caller composed, not whatever its imports registered.
The engine runs the set it is given; `relationships_in_use` narrows one to those a scenario's
arms can hold, as ``simulate`` does by default, so that a run carries no columns or counters
that are zero by construction.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from franchise_sim.engine.results import CORE_OUTCOMES
from franchise_sim.model.batch_plan import BatchPlan, plan_batch
from franchise_sim.model.books import (
    BUSINESS_COST_LINES,
    MONTH_HEAD,
    MONTH_TAIL,
    SHOCK_NAMES,
    UNIFORMS_PER_MONTH,
)
from franchise_sim.model.business import Business, OwnerTime
from franchise_sim.model.calendar import Calendar
from franchise_sim.model.draws import BatchDraws
from franchise_sim.model.lender import Lender
from franchise_sim.model.market import Market, Shocks
from franchise_sim.model.money import prime_rate_path
from franchise_sim.model.owner import Owner
from franchise_sim.model.plan import PLAN_SCALE_MONTHS, PlanOnPaper, ReplicationPlan
from franchise_sim.model.relationships.franchise import FRANCHISE
from franchise_sim.model.relationships.marketing_alliance import MARKETING_ALLIANCE
from franchise_sim.model.relationships.outsourcing import OUTSOURCING
from franchise_sim.model.relationships.partnership import PARTNERSHIP
from franchise_sim.model.relationships.project_group import PROJECT_GROUP
from franchise_sim.model.relationships.relationship import (
    ArmTerms,
    Relationship,
    Relationships,
    cost_lines,
    in_use,
    recorded_columns,
)
from franchise_sim.model.relationships.trade_association import TRADE_ASSOCIATION
from franchise_sim.model.schedule import BatchEnvironment
from franchise_sim.model.streams import (
    CUSTOMERS,
    PERSONAL_EXIT,
    PRIME_RATE,
    WINBACK,
    BatchStreams,
    CountQuantiles,
    count_quantiles,
)
from franchise_sim.scenario.schema import Arm, Scenario

DEFAULT_RELATIONSHIPS: Relationships = (
    FRANCHISE,
    PARTNERSHIP,
    PROJECT_GROUP,
    OUTSOURCING,
    TRADE_ASSOCIATION,
    MARKETING_ALLIANCE,
)
"""The relationships of the shipped model: the franchise, then the other forms an arm may
enter (each acts only in an arm holding its section, `Relationship.section`)."""

__all__ = [
    "DEFAULT_RELATIONSHIPS",
    "SHOCK_NAMES",
    "BatchRecord",
    "Relationship",
    "monthly_columns",
    "plans_on_paper",
    "relationships_in_use",
    "run_batch",
    "run_plans",
    "scenario_columns",
]


def relationships_in_use(
    scenario: Scenario, relationships: Relationships = DEFAULT_RELATIONSHIPS
) -> Relationships:
    """The relationships some arm of ``scenario`` may act in, in the order of ``relationships``.

    Those whose section no arm holds (`Relationship.section`) would charge, record and count
    nothing anywhere; a run composed without them has the same books, column for column, and
    fewer columns to hold, check and reduce. ``auto_repair.yaml`` (an independent and a
    franchise arm) keeps the franchise alone; a relationship without a section is always kept.
    """
    return in_use(relationships, scenario.resolved_arms())


def all_cost_lines(relationships: Relationships = DEFAULT_RELATIONSHIPS) -> tuple[str, ...]:
    """Every cost line a business can carry: its own running costs, then its relationships'."""
    return BUSINESS_COST_LINES + cost_lines(relationships)


def monthly_columns(relationships: Relationships = DEFAULT_RELATIONSHIPS) -> tuple[str, ...]:
    """Columns of a business's monthly record, in order, for a model of these relationships.

    `MONTH_HEAD`, the cost lines, `MONTH_TAIL`, then the columns the relationships record.
    """
    return MONTH_HEAD + all_cost_lines(relationships) + MONTH_TAIL + recorded_columns(relationships)


def scenario_columns(scenario: Scenario) -> tuple[str, ...]:
    """The monthly columns of a run of ``scenario`` composed as ``simulate`` does by default.

    Those of the shipped model's relationships some arm holds (`relationships_in_use`).
    """
    return monthly_columns(relationships_in_use(scenario))


def counter_names(relationships: Relationships = DEFAULT_RELATIONSHIPS) -> tuple[str, ...]:
    """Every counter the relationships report, in order."""
    return tuple(name for rel in relationships for name in rel.counters)


def summary_columns(relationships: Relationships = DEFAULT_RELATIONSHIPS) -> tuple[str, ...]:
    """The numeric outcomes of a model of these relationships, in table order."""
    return CORE_OUTCOMES + counter_names(relationships)


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """What a batch of replications leaves behind.

    Attributes:
        monthly: Array (arm, replication, month, column) in the order of `monthly_columns`.
        closure_reasons: Per replication, per arm, why it closed ("" if it survived).
        shock_counts: Array (replication, event) of the shared random events, as `SHOCK_NAMES`.
        counters: Each relationship counter by name, an array (replication, arm); 0 where an arm
            has no such relationship.
        market_customers: Array (replication, month) of the potential customers of the shared
            market each month traded with.
    """

    monthly: NDArray[np.float64]
    closure_reasons: list[tuple[str, ...]]
    shock_counts: NDArray[np.int64]
    counters: dict[str, NDArray[np.float64]]
    market_customers: NDArray[np.float64]


def run_batch(
    scenario: Scenario,
    seed: int,
    replications: range,
    horizon_months: int,
    deterministic: bool = False,
    on_paper: dict[str, PlanOnPaper] | None = None,
    relationships: Relationships = DEFAULT_RELATIONSHIPS,
    counts: CountQuantiles | None = None,
) -> BatchRecord:
    """Draw and run a batch of paired replications of every arm of a scenario.

    Args:
        scenario: The validated scenario.
        seed: Master seed.
        replications: The replications to run (indices from 0).
        horizon_months: Months to simulate.
        deterministic: Every input at its mean, no random events, expected customers.
        on_paper: Per arm, its plan on paper, for owners who review against it.
        relationships: The relationships the model is composed of.
        counts: The count quantiles to draw with (`run_plans`): if not given, the compiled
            ones once this process has loaded them, else numpy's. The numbers are the same.

    Returns:
        The batch's books, closures, event counts and relationship counters.
    """
    with cyclic_gc_paused():
        return _run_batch(
            scenario,
            seed,
            replications,
            horizon_months,
            deterministic,
            on_paper,
            relationships,
            counts,
        )


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a batch, and restored after it.

    A batch makes many short-lived objects (plans, SimPy events and processes): with the
    collector on, its scans of everything the process holds grow with the batch and cost a
    third of the time of 5,000 replications. Reference counting still frees what is not in a
    cycle, and a batch leaves almost nothing in cycles (`schedule.BatchEnvironment` closes its
    processes), so the collector's first round after the batch finds little to walk.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_batch(
    scenario: Scenario,
    seed: int,
    replications: range,
    horizon_months: int,
    deterministic: bool,
    on_paper: dict[str, PlanOnPaper] | None,
    relationships: Relationships,
    counts: CountQuantiles | None,
) -> BatchRecord:
    if not replications:
        raise ValueError("a batch needs at least one replication")
    draws = BatchDraws(seed, np.array(replications, dtype=np.int64))
    plan = plan_batch(
        scenario,
        seed=seed,
        replications=replications,
        horizon_months=horizon_months,
        deterministic=deterministic,
        on_paper=on_paper,
        draws=draws,
    )
    arms = tuple(scenario.resolved_arms())
    return _run_plans(
        plan, relationships, counts, arms=arms, draws=None if deterministic else draws
    )


def plans_on_paper(
    scenario: Scenario,
    seed: int,
    horizon_months: int,
    relationships: Relationships = DEFAULT_RELATIONSHIPS,
) -> dict[str, PlanOnPaper]:
    """Each arm's earnings (operating profit less debt service) and sales month by month on paper.

    The plan on paper: every input at its mean, no random events, customers at their
    expected values. An owner who reviews against the plan expects these earnings. It runs
    for at least `PLAN_SCALE_MONTHS` months, whose sales scale a review, so that the scale does
    not depend on the horizon.

    It depends only on its arguments, and a scenario is frozen, so the last few are kept (by
    the scenario's identity): a caller running the same scenario again does not pay for it.
    """
    key = _on_paper_key(scenario, seed, horizon_months, relationships)
    kept = _kept_on_paper(key, scenario, relationships)
    if kept is not None:
        return dict(kept)
    planned = _plans_on_paper(scenario, seed, horizon_months, relationships)
    keep_plan_on_paper(scenario, seed, horizon_months, relationships, planned)
    return dict(planned)


def keep_plan_on_paper(
    scenario: Scenario,
    seed: int,
    horizon_months: int,
    relationships: Relationships,
    planned: dict[str, PlanOnPaper],
) -> None:
    """Keep a plan on paper of these arguments worked out elsewhere (a worker's, the same)."""
    key = _on_paper_key(scenario, seed, horizon_months, relationships)
    with _ON_PAPER_LOCK:
        _ON_PAPER.pop(key, None)
        while len(_ON_PAPER) >= ON_PAPER_KEPT:
            del _ON_PAPER[next(iter(_ON_PAPER))]
        _ON_PAPER[key] = (scenario, relationships, dict(planned))


def plan_on_paper_kept(
    scenario: Scenario,
    seed: int,
    horizon_months: int,
    relationships: Relationships = DEFAULT_RELATIONSHIPS,
) -> bool:
    """Whether `plans_on_paper` has these arguments' plan kept (it would not work it out)."""
    key = _on_paper_key(scenario, seed, horizon_months, relationships)
    return _kept_on_paper(key, scenario, relationships) is not None


def _on_paper_key(
    scenario: Scenario, seed: int, horizon_months: int, relationships: Relationships
) -> tuple[int, int, int, tuple[int, ...]]:
    return (id(scenario), seed, horizon_months, tuple(id(rel) for rel in relationships))


def _kept_on_paper(
    key: tuple[int, int, int, tuple[int, ...]], scenario: Scenario, relationships: Relationships
) -> dict[str, PlanOnPaper] | None:
    with _ON_PAPER_LOCK:
        kept = _ON_PAPER.get(key)
    if kept is not None and kept[0] is scenario and _same(kept[1], relationships):
        return kept[2]
    return None


ON_PAPER_KEPT = 8
"""How many plans on paper `plans_on_paper` keeps (the oldest goes first)."""

_ON_PAPER: dict[
    tuple[int, int, int, tuple[int, ...]], tuple[Scenario, Relationships, dict[str, PlanOnPaper]]
] = {}
"""Plans on paper by (scenario id, seed, horizon, each relationship's id), beside what the ids
name (held, so that an id is not reused while its entry is kept). The relationships are keyed
one by one: `relationships_in_use` makes a new set of the same relationships at each call."""
_ON_PAPER_LOCK = threading.Lock()  # the explorer runs simulations from a thread of its own


def _same(kept: Relationships, asked: Relationships) -> bool:
    """Whether two sets hold the very same relationships, in the same order."""
    return len(kept) == len(asked) and all(a is b for a, b in zip(kept, asked, strict=True))


def _plans_on_paper(
    scenario: Scenario, seed: int, horizon_months: int, relationships: Relationships
) -> dict[str, PlanOnPaper]:
    months = max(horizon_months, PLAN_SCALE_MONTHS)
    record = run_batch(scenario, seed, range(1), months, True, None, relationships)
    columns = monthly_columns(relationships)
    books = record.monthly[:, 0]
    earned = books[..., columns.index("operating_profit")] - (
        books[..., columns.index("interest")] + books[..., columns.index("principal")]
    )
    revenue = books[..., columns.index("revenue")]
    return {
        arm: PlanOnPaper(
            earnings_usd=tuple(float(x) for x in earned[i]),
            revenue_usd=tuple(float(x) for x in revenue[i]),
        )
        for i, arm in enumerate(scenario.arm_names)
    }


def _prime_paths(plan: BatchPlan, streams: BatchStreams) -> list[list[float]] | None:
    """Each replication's monthly prime rate (None when no loan floats)."""
    pr = plan.prime_rate
    if pr is None:
        return None
    steps = plan.horizon_months - 1
    noise = streams.streams(PRIME_RATE).normals(steps) if plan.demand_noise else None
    paths: list[list[float]] = []
    for i in range(plan.size):
        normals = noise[i].tolist() if noise is not None else [0.0] * steps
        paths.append(
            prime_rate_path(
                pr.start_per_year,
                pr.long_run_per_year,
                pr.reversion_per_year,
                pr.volatility_per_year,
                pr.floor_per_year,
                pr.cap_per_year,
                normals,
            )
        )
    return paths


def run_plans(
    plans: BatchPlan | Sequence[ReplicationPlan],
    relationships: Relationships = DEFAULT_RELATIONSHIPS,
    counts: CountQuantiles | None = None,
) -> BatchRecord:
    """Run drawn replications (same seed, horizon and arms) in one environment.

    Args:
        plans: The batch's plan, or the replications' plans.
        relationships: The relationships the model is composed of.
        counts: The count quantiles to draw with; numpy's unless told, or the compiled ones
            once this process has loaded them (`count_quantiles`). The numbers are the same.
    """
    with cyclic_gc_paused():
        batch = plans if isinstance(plans, BatchPlan) else BatchPlan.of(plans)
        return _run_plans(batch, relationships, counts)


def _run_plans(
    plan: BatchPlan,
    relationships: Relationships = DEFAULT_RELATIONSHIPS,
    counts: CountQuantiles | None = None,
    *,
    arms: Sequence[Arm] | None = None,
    draws: BatchDraws | None = None,
) -> BatchRecord:
    """Run the plan; with ``arms`` (the scenario's, in the plan's order) and ``draws``.

    They are what the relationships read of each arm (`ArmTerms`): without them, only those
    reading the plans act.
    """
    env = BatchEnvironment()
    horizon, seed, noisy = plan.horizon_months, plan.seed, plan.demand_noise
    replications = plan.replications
    streams = BatchStreams(seed, replications, horizon)
    calendar = Calendar(env, horizon)
    events = plan.events
    market = Market(
        env,
        calendar,
        plan.market,
        events.array("competitor_rivals_at_start").astype(np.int64),
        events.array("competitor_market_share_taken"),
    )
    uniforms = streams.streams(CUSTOMERS).uniforms((horizon, UNIFORMS_PER_MONTH))
    winning_back = any(u.setting("lapsed_winback_share") is not None for u in plan.units)
    winback = streams.streams(WINBACK).uniforms((horizon,)) if winning_back else None
    lines = all_cost_lines(relationships)
    columns = recorded_columns(relationships)
    exit_u = streams.uniforms(PERSONAL_EXIT)
    prime = _prime_paths(plan, streams)
    n = plan.size
    counts = counts or count_quantiles()
    n_arms = len(plan.units)
    width = len(MONTH_HEAD) + len(lines) + len(MONTH_TAIL) + len(columns)
    monthly = np.zeros((n_arms, n, horizon, width))
    businesses: list[Business] = []
    partners: list[list[object | None]] = []
    for a in range(n_arms):
        arm = None if arms is None else arms[a]
        business = Business(
            env,
            calendar,
            market,
            plan.units[a],
            uniforms,
            winback,
            lines,
            noisy=noisy,
            books=monthly[a],
            counts=counts,
            columns=columns,
            owner_time=None if arm is None else _owner_time(arm, n),
        )
        Lender(env, calendar, business, prime)
        terms = ArmTerms(arm, n, draws)
        partners.append(
            [rel.attach(env, calendar, business, streams, terms) for rel in relationships]
        )
        Owner(env, calendar, business, exit_u)
        businesses.append(business)
    shocks = Shocks(env, events, market, businesses, seed, replications, horizon)
    env.run(until=horizon + 0.5)
    env.close()  # frees the actors by reference counting once they go (`BatchEnvironment`)

    counters: dict[str, NDArray[np.float64]] = {}
    for k, rel in enumerate(relationships):
        for name in rel.counters:
            values = np.zeros((n, n_arms))
            for a in range(n_arms):
                partner = partners[a][k]
                if partner is not None:
                    values[:, a] = partner.counter(name)  # type: ignore[attr-defined]
            counters[name] = values
    return BatchRecord(
        monthly=_closed_books(monthly, businesses),
        closure_reasons=[tuple(b.closure_reason[i] for b in businesses) for i in range(n)],
        shock_counts=shocks.counts,
        counters=counters,
        market_customers=market.history,
    )


def _owner_time(arm: Arm, size: int) -> OwnerTime:
    """The owner's spare hours and what overstretching them costs, in every replication."""
    owner = arm.owner
    return OwnerTime(
        np.full(size, owner.spare_hours_per_month), np.full(size, owner.overstretch_quality_drop)
    )


def _closed_books(
    monthly: NDArray[np.float64], businesses: Sequence[Business]
) -> NDArray[np.float64]:
    """The books of every arm, balances frozen after each closure."""
    for business in businesses:
        business.books()
    return monthly
