"""One replication's realised inputs: every uncertain scenario value drawn to a number.

Each distribution-valued field is drawn by inverse transform from a uniform keyed by
(replication, field path). Arm sections are keyed by their path inside the arm (for example
``customers.spend_per_visit_usd``), so every arm sharing a field shares its draw, and arms with
different distributions for it draw from the same uniform: common random numbers for inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from franchise_sim.distributions import Uncertain
from franchise_sim.randomness import keyed_uniform
from franchise_sim.scenario import Arm, Scenario


class Draw:
    """Turns uncertain values into numbers for one replication."""

    def __init__(self, seed: int, replication: int, *, at_mean: bool = False) -> None:
        self._seed = seed
        self._replication = replication
        self._at_mean = at_mean
        self._drawn: dict[tuple[str, Uncertain], float] = {}

    def __call__(self, value: Uncertain, key: str) -> float:
        """The value itself if fixed; else a draw (or its mean in expected-value mode)."""
        if isinstance(value, int | float):
            return float(value)
        if self._at_mean:
            return value.mean()
        drawn = self._drawn.get((key, value))
        if drawn is None:  # arms sharing a field and its distribution share one draw
            u = keyed_uniform(self._seed, self._replication, "input:" + key)
            drawn = self._drawn[key, value] = float(value.ppf(np.array([u]))[0])
        return drawn


@dataclass(frozen=True, slots=True)
class MarketPlan:
    """The local market of one replication."""

    potential_customers: float
    local_taste_gap: float
    season_factors: tuple[float, ...]
    size_trend_per_year: float = 0.0


@dataclass(frozen=True, slots=True)
class EventPlan:
    """Random-event settings of one replication (rates of zero switch an event off)."""

    competitor_rate_per_year: float
    competitor_market_share_taken: float
    competitor_customers_lost_share: float
    recession_rate_per_year: float
    recession_duration_months: float
    recession_demand_drop: float
    breakdown_rate_per_year: float
    breakdown_repair_cost_usd: float
    breakdown_capacity_lost_share: float
    staff_loss_rate_per_year: float
    staff_loss_quality_drop: float
    staff_loss_months_to_replace: float
    staff_loss_recruiting_cost_usd: float
    # competitors that leave, and entry that follows saturation (0: off)
    competitor_exit_rate_per_year: float = 0.0
    competitor_rivals_at_start: int = 0
    competitor_entry_threshold_customers_per_firm: float = 0.0
    """Bresnahan-Reiss entry threshold in potential customers per firm (households per firm
    times the addressable share); 0 keeps entry at its constant rate."""


@dataclass(frozen=True, slots=True)
class FranchisePlan:
    """Franchise terms and franchisor risk of one arm in one replication."""

    royalty_rate: float
    ad_fund_rate: float
    fixed_fees_usd_per_month: float
    term_months: int
    renewal_fee_usd: float
    local_marketing_min_rate: float
    brand_awareness_p_per_month: float
    ad_fund_p_per_month: float
    failure_rate_per_year: float
    rebranding_cost_usd: float
    brand_shock_rate_per_year: float
    brand_shock_awareness_drop: float
    brand_shock_satisfaction_drop: float
    brand_shock_months: float


@dataclass(frozen=True, slots=True)
class UnitPlan:
    """Everything one business (one arm) needs for one replication, as plain numbers."""

    arm: str
    # customers
    innovation_p_per_month: float
    imitation_q_per_month: float
    loyal_share: float
    loyal_retention_per_year: float
    casual_retention_per_year: float
    visits_per_customer_per_month: float
    spend_per_visit_usd: float
    churn_sensitivity: float
    overload_penalty: float
    # operations
    capacity_visits_per_month: float
    variable_cost_rate: float
    payroll_usd_per_month: float
    rent_usd_per_month: float
    other_fixed_usd_per_month: float
    marketing_usd_per_month: float
    marketing_p_per_1000usd: float
    advertising_half_life_months: float
    # concept or template
    quality_potential: float
    starting_quality_share: float
    learning_months: float
    starting_mismatch: float
    mismatch_floor: float
    adaptation_months: float
    # money
    loan_usd: float
    loan_rate_per_year: float
    loan_term_months: int
    working_capital_usd: float  # cash on opening day: with any equity beyond the investment
    # owner
    draw_usd_per_month: float
    cash_floor_usd: float
    cash_ceiling_usd: float
    reserve_usd: float
    patience_months: int
    living_share_of_draw: float
    personal_exit_rate_per_year: float
    franchise: FranchisePlan | None
    # customers and learning (None: off, today's behaviour)
    lapsed_winback_share: float | None = None
    learning_visits: float | None = None


@dataclass(frozen=True, slots=True)
class ReplicationPlan:
    """All realised inputs of one replication: the market, the events and one plan per arm."""

    replication: int
    seed: int
    horizon_months: int
    discount_rate_per_year: float
    market: MarketPlan
    events: EventPlan
    units: tuple[UnitPlan, ...]
    demand_noise: bool


def plan_replication(
    scenario: Scenario,
    *,
    seed: int,
    replication: int,
    horizon_months: int,
    deterministic: bool = False,
) -> ReplicationPlan:
    """Draw one replication's inputs.

    Args:
        scenario: The validated scenario.
        seed: Master seed.
        replication: Replication index (0-based).
        horizon_months: Months to simulate.
        deterministic: Replace every distribution by its mean, switch random events off and
            advance customers and visits at their expected values.

    Returns:
        The realised plan.
    """
    draw = Draw(seed, replication, at_mean=deterministic)
    market = scenario.market
    addressable_share = draw(market.addressable_share, "market.addressable_share")
    market_plan = MarketPlan(
        potential_customers=draw(market.households, "market.households") * addressable_share,
        local_taste_gap=draw(market.local_taste_gap, "market.local_taste_gap"),
        season_factors=market.season_factors(),
        size_trend_per_year=draw(market.size_trend_per_year, "market.size_trend_per_year"),
    )
    return ReplicationPlan(
        replication=replication,
        seed=seed,
        horizon_months=horizon_months,
        discount_rate_per_year=scenario.run.discount_rate_per_year,
        market=market_plan,
        events=_plan_events(
            scenario,
            draw,
            enabled=scenario.events.enabled and not deterministic,
            addressable_share=addressable_share,
        ),
        units=tuple(
            _plan_unit(arm, market_plan, draw, chance=not deterministic)
            for arm in scenario.resolved_arms()
        ),
        demand_noise=not deterministic,
    )


def _plan_events(
    scenario: Scenario, draw: Draw, *, enabled: bool, addressable_share: float
) -> EventPlan:
    ev = scenario.events
    on = 1.0 if enabled else 0.0
    entry = ev.competitor_entry
    threshold = entry.households_per_firm_threshold
    return EventPlan(
        competitor_rate_per_year=on * ev.competitor_entry.rate_per_year,
        competitor_market_share_taken=draw(
            ev.competitor_entry.market_share_taken, "events.competitor_entry.market_share_taken"
        ),
        competitor_customers_lost_share=draw(
            ev.competitor_entry.customers_lost_share,
            "events.competitor_entry.customers_lost_share",
        ),
        recession_rate_per_year=on * ev.recession.rate_per_year,
        recession_duration_months=draw(
            ev.recession.duration_months, "events.recession.duration_months"
        ),
        recession_demand_drop=draw(ev.recession.demand_drop, "events.recession.demand_drop"),
        breakdown_rate_per_year=on * ev.equipment_breakdown.rate_per_year,
        breakdown_repair_cost_usd=draw(
            ev.equipment_breakdown.repair_cost_usd, "events.equipment_breakdown.repair_cost_usd"
        ),
        breakdown_capacity_lost_share=draw(
            ev.equipment_breakdown.capacity_lost_share,
            "events.equipment_breakdown.capacity_lost_share",
        ),
        staff_loss_rate_per_year=on * ev.key_staff_loss.rate_per_year,
        staff_loss_quality_drop=draw(
            ev.key_staff_loss.quality_drop, "events.key_staff_loss.quality_drop"
        ),
        staff_loss_months_to_replace=draw(
            ev.key_staff_loss.months_to_replace, "events.key_staff_loss.months_to_replace"
        ),
        staff_loss_recruiting_cost_usd=draw(
            ev.key_staff_loss.recruiting_cost_usd, "events.key_staff_loss.recruiting_cost_usd"
        ),
        competitor_exit_rate_per_year=on * entry.exit_rate_per_year,
        competitor_rivals_at_start=entry.rivals_at_start,
        competitor_entry_threshold_customers_per_firm=(
            0.0 if threshold is None else threshold * addressable_share
        ),
    )


def _plan_unit(arm: Arm, market: MarketPlan, draw: Draw, *, chance: bool) -> UnitPlan:
    """One arm's realised unit; without ``chance`` no event at a random time can befall it.

    The plan on paper (``chance`` False) has no personal exit, franchisor failure or brand
    shock, as it has no shared random events: every run of it is the same single path.
    """
    on = 1.0 if chance else 0.0
    c, o, fin, own = arm.customers, arm.operations, arm.financing, arm.owner
    terms = arm.franchise
    if terms is None:
        concept = arm.concept
        quality = draw(concept.quality, "concept.quality")
        starting_quality_share = concept.starting_quality_share
        learning_months = concept.learning_months
        learning_visits = concept.learning_visits
        starting_mismatch = draw(concept.starting_mismatch, "concept.starting_mismatch")
        mismatch_floor = 0.0
        franchise = None
        variable_cost_rate = draw(o.variable_cost_rate, "operations.variable_cost_rate")
    else:
        template = terms.template
        # Same key as the independent's concept quality: the same owner's operating talent
        # ranks the same in both worlds, though the template narrows its spread.
        quality = draw(template.quality, "concept.quality")
        starting_quality_share = template.starting_quality_share
        learning_months = template.learning_months
        learning_visits = template.learning_visits
        starting_mismatch = market.local_taste_gap
        limit = draw(terms.customization_limit, "franchise.customization_limit")
        mismatch_floor = max(0.0, starting_mismatch - limit)
        discount = draw(terms.purchasing_discount_rate, "franchise.purchasing_discount_rate")
        variable_cost_rate = draw(o.variable_cost_rate, "operations.variable_cost_rate") * (
            1.0 - discount
        )
        fr = terms.franchisor
        franchise = FranchisePlan(
            royalty_rate=terms.royalty_rate,
            ad_fund_rate=terms.ad_fund_rate,
            fixed_fees_usd_per_month=terms.fixed_fees_usd_per_month,
            term_months=round(terms.term_years * 12),
            renewal_fee_usd=terms.renewal_fee_usd,
            local_marketing_min_rate=terms.local_marketing_min_rate,
            brand_awareness_p_per_month=draw(
                terms.brand_awareness_p_per_month, "franchise.brand_awareness_p_per_month"
            ),
            ad_fund_p_per_month=draw(terms.ad_fund_p_per_month, "franchise.ad_fund_p_per_month"),
            failure_rate_per_year=on * fr.failure_rate_per_year,
            rebranding_cost_usd=fr.rebranding_cost_usd,
            brand_shock_rate_per_year=on * fr.brand_shock_rate_per_year,
            brand_shock_awareness_drop=draw(
                fr.brand_shock_awareness_drop, "franchise.franchisor.brand_shock_awareness_drop"
            ),
            brand_shock_satisfaction_drop=draw(
                fr.brand_shock_satisfaction_drop,
                "franchise.franchisor.brand_shock_satisfaction_drop",
            ),
            brand_shock_months=draw(
                fr.brand_shock_months, "franchise.franchisor.brand_shock_months"
            ),
        )
    return UnitPlan(
        arm=arm.name,
        innovation_p_per_month=draw(c.innovation_p_per_month, "customers.innovation_p_per_month"),
        imitation_q_per_month=draw(c.imitation_q_per_month, "customers.imitation_q_per_month"),
        loyal_share=draw(c.loyal_share, "customers.loyal_share"),
        loyal_retention_per_year=c.loyal_retention_per_year,
        casual_retention_per_year=c.casual_retention_per_year,
        visits_per_customer_per_month=draw(
            c.visits_per_customer_per_month, "customers.visits_per_customer_per_month"
        ),
        spend_per_visit_usd=draw(c.spend_per_visit_usd, "customers.spend_per_visit_usd"),
        churn_sensitivity=c.churn_sensitivity,
        overload_penalty=c.overload_penalty,
        capacity_visits_per_month=draw(
            o.capacity_visits_per_month, "operations.capacity_visits_per_month"
        ),
        variable_cost_rate=variable_cost_rate,
        payroll_usd_per_month=o.payroll_usd_per_month,
        rent_usd_per_month=o.rent_usd_per_month,
        other_fixed_usd_per_month=o.other_fixed_usd_per_month,
        marketing_usd_per_month=o.marketing_usd_per_month,
        marketing_p_per_1000usd=o.marketing_p_per_1000usd,
        advertising_half_life_months=o.advertising_half_life_months,
        quality_potential=quality,
        starting_quality_share=starting_quality_share,
        learning_months=learning_months,
        starting_mismatch=starting_mismatch,
        mismatch_floor=mismatch_floor,
        adaptation_months=arm.concept.adaptation_months,
        loan_usd=arm.loan_usd(),
        loan_rate_per_year=fin.loan_rate_per_year,
        loan_term_months=fin.loan_term_months,
        working_capital_usd=arm.opening_cash_usd(),
        draw_usd_per_month=own.draw_usd_per_month,
        cash_floor_usd=own.cash_floor_usd,
        cash_ceiling_usd=own.cash_ceiling_usd,
        reserve_usd=own.reserve_usd,
        patience_months=max(1, round(draw(own.patience_months, "owner.patience_months"))),
        living_share_of_draw=own.living_share_of_draw,
        personal_exit_rate_per_year=on * own.personal_exit_rate_per_year,
        franchise=franchise,
        lapsed_winback_share=c.lapsed_winback_share,
        learning_visits=learning_visits,
    )
