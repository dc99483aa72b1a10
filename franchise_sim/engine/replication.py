"""One replication: a SimPy environment holding the market, the shocks and every arm's business.

All arms of a replication live in the same environment. They trade in copies of the same
market, meet the same random events at the same moments, and draw their customers from the same
monthly uniforms: common random numbers by construction, not by bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy
from numpy.typing import NDArray

import franchise_sim.model.relationships.franchise  # noqa: F401  (registers the franchise relationship)
from franchise_sim.model.business import MONTH_HEAD, MONTH_TAIL, UNIFORMS_PER_MONTH, Business
from franchise_sim.model.calendar import Calendar
from franchise_sim.model.lender import Lender
from franchise_sim.model.market import Market
from franchise_sim.model.money import prime_rate_path
from franchise_sim.model.owner import Owner
from franchise_sim.model.plan import (
    PLAN_SCALE_MONTHS,
    PlanOnPaper,
    ReplicationPlan,
    plan_replication,
)
from franchise_sim.model.randomness import ReplicationStreams
from franchise_sim.model.relationships import RELATIONSHIPS, relationship_cost_lines
from franchise_sim.model.relationships.franchise import Franchisor
from franchise_sim.model.shocks import SHOCK_NAMES as SHOCK_NAMES  # re-exported: drivers, folders
from franchise_sim.model.shocks import Shocks
from franchise_sim.scenario.schema import Scenario


def cost_lines() -> tuple[str, ...]:
    """Every cost line a business can carry: its own running costs, then relationships'."""
    return Business.COST_LINES + relationship_cost_lines()


def monthly_columns() -> tuple[str, ...]:
    """Columns of a business's monthly record, in order."""
    return MONTH_HEAD + cost_lines() + MONTH_TAIL


@dataclass(frozen=True, slots=True)
class ReplicationRecord:
    """What one replication leaves behind.

    Attributes:
        monthly: Array (arm, month, column) in the order of ``monthly_columns()``.
        closure_reasons: Per arm, why it closed ("" if it survived the horizon).
        shock_counts: How many of each shared random event happened.
        franchisor_failed_month: Per arm, the month its franchisor failed (0 if none).
        brand_shocks: Per arm, brand shocks suffered.
        market_customers: Per month, the potential customers of the shared market the month
            traded with (its trend and the rivals present at the month's opening).
    """

    monthly: NDArray[np.float64]
    closure_reasons: tuple[str, ...]
    shock_counts: tuple[int, ...]
    franchisor_failed_month: tuple[int, ...]
    brand_shocks: tuple[int, ...]
    market_customers: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class MarketRecord:
    """The shared market of one replication, month by month.

    Attributes:
        potential_customers: Per month, the potential customers the month traded with.
        rivals: Per month, the rival firms present at the month's opening.
        shock_counts: How many of each shared random event happened, as in `SHOCK_NAMES`.
    """

    potential_customers: tuple[float, ...]
    rivals: tuple[int, ...]
    shock_counts: tuple[int, ...]


def _open_market(env: simpy.Environment, calendar: Calendar, plan: ReplicationPlan) -> Market:
    """The replication's one market, with the rivals already in it at opening."""
    return Market(
        env,
        calendar,
        plan.market,
        rivals_at_start=plan.events.competitor_rivals_at_start,
        rival_share=plan.events.competitor_market_share_taken,
    )


def _shock_streams(streams: ReplicationStreams) -> dict[str, np.random.Generator]:
    """One stream per shared random event."""
    return {name: streams.generator("shock:" + name) for name in SHOCK_NAMES}


def simulate_market(plan: ReplicationPlan) -> MarketRecord:
    """Run one replication's market and shared events alone, without any business.

    Nothing a business does changes the market, its competitors or the events, so this is
    the market every arm of ``run_replication`` meets, month for month, only faster.
    """
    env = simpy.Environment()
    calendar = Calendar(env, plan.horizon_months)
    market = _open_market(env, calendar, plan)
    streams = ReplicationStreams(plan.seed, plan.replication)
    shocks = Shocks(env, plan.events, market, [], _shock_streams(streams))
    env.run(until=plan.horizon_months + 0.5)
    return MarketRecord(
        potential_customers=tuple(market.history),
        rivals=tuple(market.rivals_history),
        shock_counts=tuple(shocks.counts[name] for name in SHOCK_NAMES),
    )


def plans_on_paper(scenario: Scenario, seed: int, horizon_months: int) -> dict[str, PlanOnPaper]:
    """Each arm's earnings (operating profit less debt service) and sales month by month on paper.

    The plan on paper: every input at its mean, no random events, customers at their
    expected values. An owner who reviews against the plan expects these earnings. It runs
    for at least `PLAN_SCALE_MONTHS` months, whose sales scale a review, so that the scale does
    not depend on the horizon.
    """
    months = max(horizon_months, PLAN_SCALE_MONTHS)
    plan = plan_replication(
        scenario, seed=seed, replication=0, horizon_months=months, deterministic=True
    )
    record = run_replication(plan)
    columns = monthly_columns()
    books = record.monthly
    earned = books[..., columns.index("operating_profit")] - (
        books[..., columns.index("interest")] + books[..., columns.index("principal")]
    )
    revenue = books[..., columns.index("revenue")]
    return {
        unit.arm: PlanOnPaper(
            earnings_usd=tuple(float(x) for x in earned[i]),
            revenue_usd=tuple(float(x) for x in revenue[i]),
        )
        for i, unit in enumerate(plan.units)
    }


def prime_path(plan: ReplicationPlan, streams: ReplicationStreams) -> list[float]:
    """The prime rate in each month, shared by every arm (empty when no loan floats).

    Its steps come from the replication's own ``prime_rate`` stream; the plan on paper takes
    the expected path (no steps' noise).
    """
    pr = plan.prime_rate
    if pr is None:
        return []
    steps = plan.horizon_months - 1
    normals = (
        streams.generator("prime_rate").standard_normal(steps).tolist()
        if plan.demand_noise
        else [0.0] * steps
    )
    return prime_rate_path(
        pr.start_per_year,
        pr.long_run_per_year,
        pr.reversion_per_year,
        pr.volatility_per_year,
        pr.floor_per_year,
        pr.cap_per_year,
        normals,
    )


def run_replication(plan: ReplicationPlan) -> ReplicationRecord:
    """Build one replication's world, run it to the horizon and collect the books."""
    env = simpy.Environment()
    horizon = plan.horizon_months
    streams = ReplicationStreams(plan.seed, plan.replication)
    calendar = Calendar(env, horizon)
    market = _open_market(env, calendar, plan)
    uniforms = streams.generator("customers").random((horizon, UNIFORMS_PER_MONTH)).tolist()
    # Lapsed customers won back: a stream of its own, so the customers' uniforms stay as they are
    winning_back = any(unit.lapsed_winback_share is not None for unit in plan.units)
    winback = (
        streams.generator("customers.winback").random(horizon).tolist() if winning_back else []
    )
    lines = cost_lines()
    exit_u = streams.uniform("owner.personal_exit")
    prime = prime_path(plan, streams)
    businesses: list[Business] = []
    partners: list[list[object]] = []
    for unit in plan.units:
        business = Business(
            env,
            calendar,
            market,
            unit,
            uniforms,
            lines,
            noisy=plan.demand_noise,
            winback_uniforms=winback,
        )
        Lender(env, calendar, business, prime)
        attached = [rel.attach(env, calendar, business, streams) for rel in RELATIONSHIPS.values()]
        Owner(env, calendar, business, exit_u)
        businesses.append(business)
        partners.append([actor for actor in attached if actor is not None])
    shocks = Shocks(env, plan.events, market, businesses, _shock_streams(streams))
    env.run(until=horizon + 0.5)

    width = len(MONTH_HEAD) + len(lines) + len(MONTH_TAIL)
    monthly = np.zeros((len(businesses), horizon, width))
    cash_col = width - len(MONTH_TAIL) + MONTH_TAIL.index("cash")
    loan_col = width - len(MONTH_TAIL) + MONTH_TAIL.index("loan_balance")
    for i, business in enumerate(businesses):
        rows = np.asarray(business.records, dtype=float)
        monthly[i, : len(rows)] = rows
        if len(rows) < horizon:  # closed: no flows, balances frozen at their closing values
            monthly[i, len(rows) :, cash_col] = rows[-1, cash_col]
            monthly[i, len(rows) :, loan_col] = rows[-1, loan_col]
    franchisors = [next((a for a in p if isinstance(a, Franchisor)), None) for p in partners]
    return ReplicationRecord(
        monthly=monthly,
        closure_reasons=tuple(b.closure_reason for b in businesses),
        shock_counts=tuple(shocks.counts[name] for name in SHOCK_NAMES),
        franchisor_failed_month=tuple(
            (f.failed_month or 0) if f is not None else 0 for f in franchisors
        ),
        brand_shocks=tuple(f.brand_shocks if f is not None else 0 for f in franchisors),
        market_customers=tuple(market.history),
    )
